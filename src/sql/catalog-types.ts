// The rows of pg_type that paxosql reports: the real Postgres OIDs, names, categories and
// array types of the types the SQL layer supports, plus the catalog-only types (name, oid,
// "char", regclass, ...) that catalog queries return. Also format_type() and typmods.

import { lookupPgType } from './pgtypes.js';

export interface CatalogType {
  readonly oid: number;
  readonly typname: string;
  /** Postgres' typlen: bytes, or -1 for variable length. */
  readonly typlen: number;
  /** Postgres' typcategory letter ('N' numeric, 'S' string, 'A' array, ...). */
  readonly typcategory: string;
  /** The element type of an array type, 0 otherwise. */
  readonly typelem: number;
  /** The array type of a base type, 0 otherwise. */
  readonly typarray: number;
  /** Base name of the input/output functions (`int4` → int4in / int4out). */
  readonly io: string;
  /** What format_type() prints (without modifiers). */
  readonly displayName: string;
  /** Text-like types are collatable (typcollation 100). */
  readonly collatable: boolean;
}

interface BaseTypeSpec {
  readonly oid: number;
  readonly name: string;
  readonly len: number;
  readonly category: string;
  readonly array: number;
  readonly io: string;
  readonly display: string;
  readonly collatable?: boolean;
}

// Real Postgres OIDs (pg_type.dat), so clients' built-in type tables match.
const BASE_TYPES: readonly BaseTypeSpec[] = [
  { oid: 16, name: 'bool', len: 1, category: 'B', array: 1000, io: 'bool', display: 'boolean' },
  { oid: 17, name: 'bytea', len: -1, category: 'U', array: 1001, io: 'bytea', display: 'bytea' },
  { oid: 18, name: 'char', len: 1, category: 'Z', array: 1002, io: 'char', display: '"char"' },
  { oid: 19, name: 'name', len: 64, category: 'S', array: 1003, io: 'name', display: 'name', collatable: true },
  { oid: 20, name: 'int8', len: 8, category: 'N', array: 1016, io: 'int8', display: 'bigint' },
  { oid: 21, name: 'int2', len: 2, category: 'N', array: 1005, io: 'int2', display: 'smallint' },
  { oid: 22, name: 'int2vector', len: -1, category: 'A', array: 1006, io: 'int2vector', display: 'int2vector' },
  { oid: 23, name: 'int4', len: 4, category: 'N', array: 1007, io: 'int4', display: 'integer' },
  { oid: 24, name: 'regproc', len: 4, category: 'N', array: 1008, io: 'regproc', display: 'regproc' },
  { oid: 25, name: 'text', len: -1, category: 'S', array: 1009, io: 'text', display: 'text', collatable: true },
  { oid: 26, name: 'oid', len: 4, category: 'N', array: 1028, io: 'oid', display: 'oid' },
  { oid: 30, name: 'oidvector', len: -1, category: 'A', array: 1013, io: 'oidvector', display: 'oidvector' },
  { oid: 114, name: 'json', len: -1, category: 'U', array: 199, io: 'json_', display: 'json' },
  { oid: 194, name: 'pg_node_tree', len: -1, category: 'Z', array: 0, io: 'pg_node_tree_', display: 'pg_node_tree', collatable: true },
  { oid: 700, name: 'float4', len: 4, category: 'N', array: 1021, io: 'float4', display: 'real' },
  { oid: 701, name: 'float8', len: 8, category: 'N', array: 1022, io: 'float8', display: 'double precision' },
  { oid: 705, name: 'unknown', len: -2, category: 'X', array: 0, io: 'unknown', display: 'unknown' },
  { oid: 1033, name: 'aclitem', len: 16, category: 'U', array: 1034, io: 'aclitem', display: 'aclitem' },
  { oid: 1042, name: 'bpchar', len: -1, category: 'S', array: 1014, io: 'bpchar', display: 'character', collatable: true },
  { oid: 1043, name: 'varchar', len: -1, category: 'S', array: 1015, io: 'varchar', display: 'character varying', collatable: true },
  { oid: 1082, name: 'date', len: 4, category: 'D', array: 1182, io: 'date_', display: 'date' },
  { oid: 1114, name: 'timestamp', len: 8, category: 'D', array: 1115, io: 'timestamp_', display: 'timestamp without time zone' },
  { oid: 1184, name: 'timestamptz', len: 8, category: 'D', array: 1185, io: 'timestamptz_', display: 'timestamp with time zone' },
  { oid: 1700, name: 'numeric', len: -1, category: 'N', array: 1231, io: 'numeric_', display: 'numeric' },
  { oid: 2205, name: 'regclass', len: 4, category: 'N', array: 2210, io: 'regclass', display: 'regclass' },
  { oid: 2206, name: 'regtype', len: 4, category: 'N', array: 2211, io: 'regtype', display: 'regtype' },
  { oid: 2950, name: 'uuid', len: 16, category: 'U', array: 2951, io: 'uuid_', display: 'uuid' },
  { oid: 3802, name: 'jsonb', len: -1, category: 'U', array: 3807, io: 'jsonb_', display: 'jsonb' },
  { oid: 4089, name: 'regnamespace', len: 4, category: 'N', array: 4090, io: 'regnamespace', display: 'regnamespace' },
  { oid: 4096, name: 'regrole', len: 4, category: 'N', array: 4097, io: 'regrole', display: 'regrole' },
];

function buildTypes(): CatalogType[] {
  const types: CatalogType[] = [];
  for (const base of BASE_TYPES) {
    // int2vector and oidvector are arrays in category only; their element is their base.
    const vectorElem = base.name === 'int2vector' ? 21 : base.name === 'oidvector' ? 26 : 0;
    types.push({
      oid: base.oid, typname: base.name, typlen: base.len, typcategory: base.category, typelem: vectorElem,
      typarray: base.array, io: base.io, displayName: base.display, collatable: base.collatable ?? false,
    });
    if (base.array !== 0) {
      types.push({
        oid: base.array, typname: `_${base.name}`, typlen: -1, typcategory: 'A', typelem: base.oid, typarray: 0,
        io: 'array_', displayName: `${base.display}[]`, collatable: base.collatable ?? false,
      });
    }
  }
  return types.sort((a, b) => a.oid - b.oid);
}

/** Every pg_type row, ordered by OID. */
export const CATALOG_TYPES: readonly CatalogType[] = buildTypes();

const TYPES_BY_OID: ReadonlyMap<number, CatalogType> = new Map(CATALOG_TYPES.map((t) => [t.oid, t]));
const TYPES_BY_NAME: ReadonlyMap<string, CatalogType> = new Map(CATALOG_TYPES.map((t) => [t.typname, t]));

export function catalogTypeByOid(oid: number): CatalogType | undefined {
  return TYPES_BY_OID.get(oid);
}

export function catalogTypeByName(typname: string): CatalogType | undefined {
  return TYPES_BY_NAME.get(typname);
}

/** The input and output function names (regproc values) of a type. */
export function typeIoFunctions(type: CatalogType): { input: string; output: string } {
  return { input: `${type.io}in`, output: `${type.io}out` };
}

/**
 * Resolves a type name as `'…'::regtype` would: canonical names (int4), SQL spellings
 * (integer, character varying), `[]` suffixes, optional pg_catalog qualification.
 */
export function resolveTypeName(text: string): CatalogType | undefined {
  let name = text.trim().toLowerCase().replace(/^pg_catalog\./, '').replace(/^"(.*)"$/, '$1');
  let isArray = false;
  if (name.endsWith('[]')) {
    isArray = true;
    name = name.slice(0, -2).trim();
  }
  const bare = name.replace(/\(.*\)/, '').trim();
  const base = TYPES_BY_NAME.get(bare) ?? TYPES_BY_NAME.get(lookupPgType(bare) ?? '') ??
    CATALOG_TYPES.find((t) => t.displayName === bare && t.typcategory !== 'A');
  if (base === undefined) return undefined;
  return isArray ? TYPES_BY_OID.get(base.typarray) : base;
}

// ---------------------------------------------------------------------------
// Type modifiers, in Postgres' encoding (what pg_attribute.atttypmod holds).

/** The atttypmod of a declared SQLite column type such as `varchar(20)` or `numeric(10,2)`. */
export function typmodOfDeclared(typeOid: number, declared: string): number {
  const mods = /\(([^)]*)\)/.exec(declared)?.[1]?.split(',').map((m) => Number(m.trim())) ?? [];
  const [first, second] = mods;
  if (first === undefined || Number.isNaN(first)) return -1;
  switch (typeOid) {
    case 1043: case 1042: return first + 4;
    case 1700: return ((first << 16) | (second ?? 0)) + 4;
    case 1114: case 1184: return first;
    default: return -1;
  }
}

/** format_type(oid, typmod) as Postgres prints it: `character varying(20)`, `integer[]`, ... */
export function formatType(typeOid: number, typmod: number | null): string {
  const type = TYPES_BY_OID.get(typeOid);
  if (type === undefined) return '???';
  if (type.typcategory === 'A' && type.typelem !== 0 && type.typname.startsWith('_')) {
    return `${formatType(type.typelem, typmod)}[]`;
  }
  const mod = typmod ?? -1;
  if (mod < 0) return type.displayName;
  switch (typeOid) {
    case 1043: case 1042: return `${type.displayName}(${mod - 4})`;
    case 1700: {
      const packed = mod - 4;
      return `numeric(${(packed >> 16) & 0xffff},${packed & 0xffff})`;
    }
    case 1114: return `timestamp(${mod}) without time zone`;
    case 1184: return `timestamp(${mod}) with time zone`;
    default: return type.displayName;
  }
}

/** The type OID of a declared SQLite column type; unknown declarations read as text, as SQLite stores them. */
export function typeOidOfDeclared(declared: string): number {
  const pgType = lookupPgType(declared);
  if (pgType === null) return 25;
  return TYPES_BY_NAME.get(pgType)?.oid ?? 25;
}
