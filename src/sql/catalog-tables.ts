// The pg_catalog and information_schema relations paxosql provides: their columns (with
// Postgres types) and how their rows are computed from the CatalogModel. Each one is a
// TEMP table on every connection (temp.pgcat_<name>), filled when the schema or the
// session's user or database changes. Relations clients query but paxosql has nothing
// for (triggers, policies, publications, ...) exist with the right columns and no rows.

import { DEFAULT_SETTINGS } from './functions.js';
import {
  BTREE_AM_OID, CATALOG_NAMESPACE_OID, DATABASE_OID, HEAP_AM_OID, INFORMATION_SCHEMA_NAMESPACE_OID, PUBLIC_NAMESPACE_OID, ROLE_OID,
  type CatalogColumn, type CatalogModel, type CatalogRelation,
} from './catalog-model.js';
import { CATALOG_TYPES, catalogTypeByName, catalogTypeByOid, formatType, typeIoFunctions } from './catalog-types.js';
import type { PgType } from './pgtypes.js';

/** Catalog column types. Values are stored the way SQLite stores the matching Postgres type. */
export type CatalogColumnType =
  | 'bool' | 'int2' | 'int4' | 'int8' | 'float4' | 'text' | 'timestamptz'
  | 'oid' | 'name' | 'char' | 'regproc' | 'pg_node_tree' | 'int2vector' | 'oidvector'
  | '_oid' | '_text' | '_name' | '_char' | '_int2' | '_aclitem';

export interface CatalogColumnDef {
  readonly name: string;
  readonly type: CatalogColumnType;
}

export interface SessionFacts {
  readonly user: string;
  readonly database: string;
}

type CellValue = null | number | bigint | string | boolean;
type Row = Readonly<Record<string, CellValue>>;

export interface CatalogTableDef {
  /** `pg_catalog` or `information_schema`. */
  readonly schema: string;
  readonly name: string;
  /** The TEMP table that holds the rows. */
  readonly table: string;
  readonly columns: readonly CatalogColumnDef[];
  readonly rows: (model: CatalogModel, session: SessionFacts) => readonly Row[];
}

function parseColumns(spec: string): CatalogColumnDef[] {
  return spec.split(',').map((part) => {
    const [name, type] = part.trim().split(/\s+/);
    if (name === undefined || type === undefined) throw new Error(`bad catalog column spec: ${part}`);
    return { name, type: type as CatalogColumnType };
  });
}

const noRows = (): readonly Row[] => [];

function table(schema: string, name: string, columns: string, rows: CatalogTableDef['rows'] = noRows): CatalogTableDef {
  const prefix = schema === 'pg_catalog' ? '' : `${schema}_`;
  return { schema, name, table: `pgcat_${prefix}${name}`, columns: parseColumns(columns), rows };
}

// ---------------------------------------------------------------------------
// Row builders.

function namespaceRows(): Row[] {
  return [
    { oid: CATALOG_NAMESPACE_OID, nspname: 'pg_catalog', nspowner: ROLE_OID },
    { oid: PUBLIC_NAMESPACE_OID, nspname: 'public', nspowner: ROLE_OID },
    { oid: INFORMATION_SCHEMA_NAMESPACE_OID, nspname: 'information_schema', nspowner: ROLE_OID },
  ];
}

function classRows(model: CatalogModel): Row[] {
  return model.relations.map((relation) => ({
    oid: relation.oid, relname: relation.name, relnamespace: PUBLIC_NAMESPACE_OID, reltype: 0, reloftype: 0,
    relowner: ROLE_OID, relam: relation.kind === 'r' ? HEAP_AM_OID : relation.kind === 'i' ? BTREE_AM_OID : 0,
    relfilenode: relation.kind === 'v' ? 0 : relation.oid, reltablespace: 0, relpages: 0, reltuples: -1, relallvisible: 0,
    reltoastrelid: 0, relhasindex: relation.kind === 'r' && model.indexes.some((i) => i.tableOid === relation.oid),
    relisshared: false, relpersistence: 'p', relkind: relation.kind, relnatts: relation.columns.length,
    relchecks: model.constraints.filter((c) => c.type === 'c' && c.tableOid === relation.oid).length,
    // Postgres implements foreign keys with (internal) triggers, and psql shows a table's
    // foreign keys and the keys referencing it only when relhastriggers is set.
    relhasrules: relation.kind === 'v', relhastriggers: model.constraints.some((c) => c.type === 'f' && (c.tableOid === relation.oid || c.refTableOid === relation.oid)), relhassubclass: false, relrowsecurity: false,
    relforcerowsecurity: false, relispopulated: true, relreplident: relation.kind === 'r' ? 'd' : 'n', relispartition: false,
    relrewrite: 0, relfrozenxid: 0, relminmxid: 0,
  }));
}

function attributeRows(model: CatalogModel): Row[] {
  return model.relations.flatMap((relation) => relation.columns.map((column) => attributeRow(relation, column)));
}

function attributeRow(relation: CatalogRelation, column: CatalogColumn): Row {
  const type = catalogTypeByOid(column.typeOid);
  const collatable = type?.collatable ?? false;
  return {
    attrelid: relation.oid, attname: column.name, atttypid: column.typeOid, attstattarget: -1, attlen: type?.typlen ?? -1,
    attnum: column.attnum, attndims: 0, attcacheoff: -1, atttypmod: column.typmod, attbyval: (type?.typlen ?? -1) > 0 && (type?.typlen ?? 0) <= 8,
    attalign: 'i', attstorage: (type?.typlen ?? -1) < 0 ? 'x' : 'p', attcompression: '', attnotnull: column.notNull,
    atthasdef: column.defaultExpr !== null, atthasmissing: false, attidentity: column.identity, attgenerated: column.generated,
    attisdropped: false, attislocal: true, attinhcount: 0, attcollation: collatable ? 100 : 0,
  };
}

function typeRows(): Row[] {
  return CATALOG_TYPES.map((type) => {
    const io = typeIoFunctions(type);
    return {
      oid: type.oid, typname: type.typname, typnamespace: CATALOG_NAMESPACE_OID, typowner: ROLE_OID, typlen: type.typlen,
      typbyval: type.typlen > 0 && type.typlen <= 8, typtype: type.typname === 'unknown' ? 'p' : 'b', typcategory: type.typcategory,
      typispreferred: ['text', 'float8', 'bool', 'oid', 'timestamptz'].includes(type.typname), typisdefined: true, typdelim: ',',
      typrelid: 0, typsubscript: type.typelem !== 0 ? 'array_subscript_handler' : '-', typelem: type.typelem, typarray: type.typarray,
      typinput: io.input, typoutput: io.output, typreceive: io.input.replace(/in$/, 'recv'), typsend: io.output.replace(/out$/, 'send'),
      typmodin: '-', typmodout: '-', typanalyze: '-', typalign: type.typlen === 8 ? 'd' : type.typlen === 2 ? 's' : type.typlen === 1 ? 'c' : 'i',
      typstorage: type.typlen < 0 ? 'x' : 'p', typnotnull: false, typbasetype: 0, typtypmod: -1, typndims: 0,
      typcollation: type.collatable ? 100 : 0,
    };
  });
}

function indexRows(model: CatalogModel): Row[] {
  return model.indexes.map((index) => ({
    indexrelid: index.oid, indrelid: index.tableOid, indnatts: index.keys.length, indnkeyatts: index.keys.length,
    indisunique: index.unique, indnullsnotdistinct: false, indisprimary: index.primary, indisexclusion: false, indimmediate: true,
    indisclustered: false, indisvalid: true, indcheckxmin: false, indisready: true, indislive: true, indisreplident: false,
    indkey: index.keyAttnums.join(' '), indcollation: index.keys.map(() => 0).join(' '), indclass: index.keys.map(() => 0).join(' '),
    indoption: index.keys.map((k) => (/ DESC$/.test(k) ? 3 : 0)).join(' '), indexprs: null, indpred: index.predicate,
  }));
}

function constraintRows(model: CatalogModel): Row[] {
  return model.constraints.map((c) => ({
    oid: c.oid, conname: c.name, connamespace: PUBLIC_NAMESPACE_OID, contype: c.type, condeferrable: false, condeferred: false,
    convalidated: true, conrelid: c.tableOid, contypid: 0, conindid: c.indexOid, conparentid: 0, confrelid: c.refTableOid,
    confupdtype: c.onUpdate, confdeltype: c.onDelete, confmatchtype: c.type === 'f' ? 's' : ' ', conislocal: true, coninhcount: 0,
    connoinherit: false, conkey: c.attnums.length === 0 ? null : `{${c.attnums.join(',')}}`,
    conbin: c.type === 'c' ? c.definition.replace(/^CHECK /, '') : null, confkey: c.type === 'f' ? `{${c.refAttnums.join(',')}}` : null,
  }));
}

function roleRow(session: SessionFacts): Row {
  return {
    oid: ROLE_OID, rolname: session.user, rolsuper: true, rolinherit: true, rolcreaterole: true, rolcreatedb: true,
    rolcanlogin: true, rolreplication: true, rolconnlimit: -1, rolpassword: '********', rolvaliduntil: null, rolbypassrls: true,
  };
}

function databaseRow(session: SessionFacts): Row {
  return {
    oid: DATABASE_OID, datname: session.database, datdba: ROLE_OID, encoding: 6, datlocprovider: 'c', datistemplate: false,
    datallowconn: true, datconnlimit: -1, datfrozenxid: 0, datminmxid: 1, dattablespace: 1663, datcollate: 'C', datctype: 'C',
    daticulocale: null, datcollversion: null, datacl: null,
  };
}

function settingRows(): Row[] {
  return Object.entries(DEFAULT_SETTINGS).sort(([a], [b]) => a.localeCompare(b)).map(([name, setting]) => ({
    name, setting, unit: null, category: 'Client Connection Defaults', short_desc: '', context: 'user', vartype: 'string',
    source: 'default', boot_val: setting, reset_val: setting,
  }));
}

const RELATION_TYPES: Readonly<Record<string, string>> = { r: 'BASE TABLE', v: 'VIEW' };

function informationTables(model: CatalogModel, session: SessionFacts): Row[] {
  return model.relations.filter((r) => r.kind !== 'i').map((r) => ({
    table_catalog: session.database, table_schema: 'public', table_name: r.name, table_type: RELATION_TYPES[r.kind] ?? 'BASE TABLE',
    is_insertable_into: r.kind === 'r' ? 'YES' : 'NO', is_typed: 'NO', commit_action: null,
  }));
}

/** numeric_precision / _radix / _scale per Postgres' information_schema. */
function numericFacts(column: CatalogColumn): { precision: number | null; radix: number | null; scale: number | null } {
  const bits: Readonly<Record<number, number>> = { 21: 16, 23: 32, 20: 64, 700: 24, 701: 53 };
  const width = bits[column.typeOid];
  if (width !== undefined) return { precision: width, radix: 2, scale: column.typeOid === 700 || column.typeOid === 701 ? null : 0 };
  if (column.typeOid !== 1700) return { precision: null, radix: null, scale: null };
  if (column.typmod < 0) return { precision: null, radix: 10, scale: null };
  const packed = column.typmod - 4;
  return { precision: (packed >> 16) & 0xffff, radix: 10, scale: packed & 0xffff };
}

function informationColumns(model: CatalogModel, session: SessionFacts): Row[] {
  return model.relations.filter((r) => r.kind !== 'i').flatMap((relation) => relation.columns.map((column) => {
    const type = catalogTypeByOid(column.typeOid);
    const numeric = numericFacts(column);
    const isChar = column.typeOid === 1043 || column.typeOid === 1042;
    return {
      table_catalog: session.database, table_schema: 'public', table_name: relation.name, column_name: column.name,
      ordinal_position: column.attnum, column_default: column.identity === 'd' ? null : column.defaultExpr,
      is_nullable: column.notNull ? 'NO' : 'YES', data_type: type?.typcategory === 'A' ? 'ARRAY' : formatType(column.typeOid, -1),
      character_maximum_length: isChar && column.typmod >= 0 ? column.typmod - 4 : null,
      character_octet_length: isChar || column.typeOid === 25 ? 1_073_741_824 : null,
      numeric_precision: numeric.precision, numeric_precision_radix: numeric.radix, numeric_scale: numeric.scale,
      datetime_precision: column.typeOid === 1082 ? 0 : column.typeOid === 1114 || column.typeOid === 1184 ? (column.typmod >= 0 ? column.typmod : 6) : null,
      udt_catalog: session.database, udt_schema: 'pg_catalog', udt_name: type?.typname ?? 'text',
      is_identity: column.identity === 'd' ? 'YES' : 'NO', identity_generation: column.identity === 'd' ? 'BY DEFAULT' : null,
      is_generated: column.generated === 's' ? 'ALWAYS' : 'NEVER', is_updatable: relation.kind === 'r' ? 'YES' : 'NO',
    };
  }));
}

const CONSTRAINT_TYPES: Readonly<Record<string, string>> = { p: 'PRIMARY KEY', u: 'UNIQUE', f: 'FOREIGN KEY', c: 'CHECK' };

function informationTableConstraints(model: CatalogModel, session: SessionFacts): Row[] {
  return model.constraints.map((c) => ({
    constraint_catalog: session.database, constraint_schema: 'public', constraint_name: c.name, table_catalog: session.database,
    table_schema: 'public', table_name: c.tableName, constraint_type: CONSTRAINT_TYPES[c.type] ?? c.type,
    is_deferrable: 'NO', initially_deferred: 'NO', enforced: 'YES', nulls_distinct: c.type === 'f' ? null : 'YES',
  }));
}

function informationKeyColumns(model: CatalogModel, session: SessionFacts): Row[] {
  return model.constraints.filter((c) => c.type !== 'c').flatMap((c) => {
    const relation = model.relationByOid(c.tableOid);
    return c.attnums.map((attnum, i) => ({
      constraint_catalog: session.database, constraint_schema: 'public', constraint_name: c.name, table_catalog: session.database,
      table_schema: 'public', table_name: c.tableName, column_name: relation?.columns.find((col) => col.attnum === attnum)?.name ?? null,
      ordinal_position: i + 1, position_in_unique_constraint: c.type === 'f' ? i + 1 : null,
    }));
  });
}

// ---------------------------------------------------------------------------
// The relations.

export const CATALOG_TABLES: readonly CatalogTableDef[] = [
  table('pg_catalog', 'pg_namespace', 'oid oid, nspname name, nspowner oid, nspacl _aclitem', namespaceRows),
  table('pg_catalog', 'pg_class',
    'oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, relfilenode oid, ' +
    'reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid, relhasindex bool, ' +
    'relisshared bool, relpersistence char, relkind char, relnatts int2, relchecks int2, relhasrules bool, ' +
    'relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, relispopulated bool, ' +
    'relreplident char, relispartition bool, relrewrite oid, relfrozenxid int8, relminmxid int8, relacl _aclitem, ' +
    'reloptions _text, relpartbound pg_node_tree', classRows),
  table('pg_catalog', 'pg_attribute',
    'attrelid oid, attname name, atttypid oid, attstattarget int4, attlen int2, attnum int2, attndims int4, ' +
    'attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char, attcompression char, ' +
    'attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char, attgenerated char, attisdropped bool, ' +
    'attislocal bool, attinhcount int4, attcollation oid, attacl _aclitem, attoptions _text, attfdwoptions _text', attributeRows),
  table('pg_catalog', 'pg_attrdef', 'oid oid, adrelid oid, adnum int2, adbin pg_node_tree',
    (model) => model.defaults.map((d) => ({ oid: d.oid, adrelid: d.tableOid, adnum: d.attnum, adbin: d.expr }))),
  table('pg_catalog', 'pg_index',
    'indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, indnullsnotdistinct bool, ' +
    'indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool, indisvalid bool, ' +
    'indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, indkey int2vector, ' +
    'indcollation oidvector, indclass oidvector, indoption int2vector, indexprs pg_node_tree, indpred pg_node_tree', indexRows),
  table('pg_catalog', 'pg_constraint',
    'oid oid, conname name, connamespace oid, contype char, condeferrable bool, condeferred bool, convalidated bool, ' +
    'conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, confupdtype char, confdeltype char, ' +
    'confmatchtype char, conislocal bool, coninhcount int4, connoinherit bool, conkey _int2, confkey _int2, ' +
    'conpfeqop _oid, conppeqop _oid, conffeqop _oid, conexclop _oid, conbin pg_node_tree', constraintRows),
  table('pg_catalog', 'pg_type',
    'oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, typtype char, ' +
    'typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, typsubscript regproc, ' +
    'typelem oid, typarray oid, typinput regproc, typoutput regproc, typreceive regproc, typsend regproc, ' +
    'typmodin regproc, typmodout regproc, typanalyze regproc, typalign char, typstorage char, typnotnull bool, ' +
    'typbasetype oid, typtypmod int4, typndims int4, typcollation oid, typdefaultbin pg_node_tree, typdefault text, typacl _aclitem',
    typeRows),
  table('pg_catalog', 'pg_am', 'oid oid, amname name, amhandler regproc, amtype char', () => [
    { oid: HEAP_AM_OID, amname: 'heap', amhandler: 'heap_tableam_handler', amtype: 't' },
    { oid: BTREE_AM_OID, amname: 'btree', amhandler: 'bthandler', amtype: 'i' },
  ]),
  table('pg_catalog', 'pg_roles',
    'rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, rolcanlogin bool, ' +
    'rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz, rolbypassrls bool, ' +
    'rolconfig _text, oid oid', (_model, session) => [roleRow(session)]),
  table('pg_catalog', 'pg_authid',
    'oid oid, rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, rolcanlogin bool, ' +
    'rolreplication bool, rolbypassrls bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz',
    (_model, session) => [{ ...roleRow(session), rolpassword: null }]),
  table('pg_catalog', 'pg_user',
    'usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool, passwd text, ' +
    'valuntil timestamptz, useconfig _text', (_model, session) => [{
      usename: session.user, usesysid: ROLE_OID, usecreatedb: true, usesuper: true, userepl: true, usebypassrls: true, passwd: '********',
    }]),
  table('pg_catalog', 'pg_auth_members', 'oid oid, roleid oid, member oid, grantor oid, admin_option bool'),
  table('pg_catalog', 'pg_database',
    'oid oid, datname name, datdba oid, encoding int4, datlocprovider char, datistemplate bool, datallowconn bool, ' +
    'datconnlimit int4, datfrozenxid int8, datminmxid int8, dattablespace oid, datcollate text, datctype text, ' +
    'daticulocale text, datcollversion text, datacl _aclitem', (_model, session) => [databaseRow(session)]),
  table('pg_catalog', 'pg_collation',
    'oid oid, collname name, collnamespace oid, collowner oid, collprovider char, collisdeterministic bool, ' +
    'collencoding int4, collcollate text, collctype text', (): Row[] => [
      { oid: 100, collname: 'default', collnamespace: CATALOG_NAMESPACE_OID, collowner: ROLE_OID, collprovider: 'd', collisdeterministic: true, collencoding: -1 },
      { oid: 950, collname: 'C', collnamespace: CATALOG_NAMESPACE_OID, collowner: ROLE_OID, collprovider: 'c', collisdeterministic: true, collencoding: -1, collcollate: 'C', collctype: 'C' },
      { oid: 951, collname: 'POSIX', collnamespace: CATALOG_NAMESPACE_OID, collowner: ROLE_OID, collprovider: 'c', collisdeterministic: true, collencoding: -1, collcollate: 'POSIX', collctype: 'POSIX' },
    ]),
  table('pg_catalog', 'pg_tablespace', 'oid oid, spcname name, spcowner oid, spcacl _aclitem, spcoptions _text', () => [
    { oid: 1663, spcname: 'pg_default', spcowner: ROLE_OID }, { oid: 1664, spcname: 'pg_global', spcowner: ROLE_OID },
  ]),
  table('pg_catalog', 'pg_description', 'objoid oid, classoid oid, objsubid int4, description text'),
  table('pg_catalog', 'pg_shdescription', 'objoid oid, classoid oid, description text'),
  table('pg_catalog', 'pg_inherits', 'inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool'),
  table('pg_catalog', 'pg_policy',
    'oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles _oid, polqual pg_node_tree, polwithcheck pg_node_tree'),
  table('pg_catalog', 'pg_statistic_ext',
    'oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget int4, stxkeys int2vector, stxkind _char, stxexprs pg_node_tree'),
  table('pg_catalog', 'pg_publication',
    'oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, pubupdate bool, pubdelete bool, pubtruncate bool, pubviaroot bool'),
  table('pg_catalog', 'pg_publication_rel', 'oid oid, prpubid oid, prrelid oid, prqual pg_node_tree, prattrs int2vector'),
  table('pg_catalog', 'pg_publication_namespace', 'oid oid, pnpubid oid, pnnspid oid'),
  table('pg_catalog', 'pg_trigger',
    'oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, tgenabled char, tgisinternal bool, ' +
    'tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool, tginitdeferred bool, tgnargs int2, ' +
    'tgattr int2vector, tgqual pg_node_tree, tgoldtable name, tgnewtable name'),
  table('pg_catalog', 'pg_rewrite', 'oid oid, rulename name, ev_class oid, ev_type char, ev_enabled char, is_instead bool'),
  table('pg_catalog', 'pg_proc',
    'oid oid, proname name, pronamespace oid, proowner oid, prolang oid, prokind char, prorettype oid, proargtypes oidvector, proretset bool, pronargs int2'),
  table('pg_catalog', 'pg_enum', 'oid oid, enumtypid oid, enumsortorder float4, enumlabel name'),
  table('pg_catalog', 'pg_range', 'rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid'),
  table('pg_catalog', 'pg_extension', 'oid oid, extname name, extowner oid, extnamespace oid, extrelocatable bool, extversion text'),
  table('pg_catalog', 'pg_sequence', 'seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, seqmax int8, seqmin int8, seqcache int8, seqcycle bool'),
  table('pg_catalog', 'pg_settings',
    'name text, setting text, unit text, category text, short_desc text, context text, vartype text, source text, boot_val text, reset_val text',
    settingRows),
  table('pg_catalog', 'pg_tables',
    'schemaname name, tablename name, tableowner name, tablespace name, hasindexes bool, hasrules bool, hastriggers bool, rowsecurity bool',
    (model, session) => model.relations.filter((r) => r.kind === 'r').map((r) => ({
      schemaname: 'public', tablename: r.name, tableowner: session.user, hasindexes: model.indexes.some((i) => i.tableOid === r.oid),
      hasrules: false, hastriggers: false, rowsecurity: false,
    }))),
  table('pg_catalog', 'pg_views', 'schemaname name, viewname name, viewowner name, definition text',
    (model, session) => model.relations.filter((r) => r.kind === 'v').map((r) => ({
      schemaname: 'public', viewname: r.name, viewowner: session.user, definition: r.viewDefinition,
    }))),
  table('pg_catalog', 'pg_indexes', 'schemaname name, tablename name, indexname name, tablespace name, indexdef text',
    (model) => model.indexes.map((i) => ({ schemaname: 'public', tablename: i.tableName, indexname: i.name, indexdef: i.definition }))),
  table('information_schema', 'schemata',
    'catalog_name text, schema_name text, schema_owner text, default_character_set_catalog text, ' +
    'default_character_set_schema text, default_character_set_name text, sql_path text',
    (_model, session) => ['information_schema', 'pg_catalog', 'public'].map((schema) => ({
      catalog_name: session.database, schema_name: schema, schema_owner: session.user,
    }))),
  table('information_schema', 'tables',
    'table_catalog text, table_schema text, table_name text, table_type text, self_referencing_column_name text, ' +
    'reference_generation text, user_defined_type_catalog text, user_defined_type_schema text, ' +
    'user_defined_type_name text, is_insertable_into text, is_typed text, commit_action text', informationTables),
  table('information_schema', 'columns',
    'table_catalog text, table_schema text, table_name text, column_name text, ordinal_position int4, ' +
    'column_default text, is_nullable text, data_type text, character_maximum_length int4, ' +
    'character_octet_length int4, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, ' +
    'datetime_precision int4, udt_catalog text, udt_schema text, udt_name text, is_identity text, ' +
    'identity_generation text, is_generated text, generation_expression text, is_updatable text', informationColumns),
  table('information_schema', 'views',
    'table_catalog text, table_schema text, table_name text, view_definition text, check_option text, is_updatable text, is_insertable_into text',
    (model, session) => model.relations.filter((r) => r.kind === 'v').map((r) => ({
      table_catalog: session.database, table_schema: 'public', table_name: r.name, view_definition: r.viewDefinition,
      check_option: 'NONE', is_updatable: 'NO', is_insertable_into: 'NO',
    }))),
  table('information_schema', 'table_constraints',
    'constraint_catalog text, constraint_schema text, constraint_name text, table_catalog text, table_schema text, ' +
    'table_name text, constraint_type text, is_deferrable text, initially_deferred text, enforced text, nulls_distinct text',
    informationTableConstraints),
  table('information_schema', 'key_column_usage',
    'constraint_catalog text, constraint_schema text, constraint_name text, table_catalog text, table_schema text, ' +
    'table_name text, column_name text, ordinal_position int4, position_in_unique_constraint int4', informationKeyColumns),
];

const TABLES_BY_KEY: ReadonlyMap<string, CatalogTableDef> = new Map(CATALOG_TABLES.map((t) => [`${t.schema}.${t.name}`, t]));

/**
 * The catalog relation a FROM-clause name refers to, or null for a user relation.
 * Unqualified names find pg_catalog relations (pg_catalog is implicitly first in
 * Postgres' search path), never information_schema ones.
 */
export function findCatalogTable(schema: string | undefined, name: string): CatalogTableDef | null {
  if (schema === undefined || schema === 'pg_catalog') return TABLES_BY_KEY.get(`pg_catalog.${name}`) ?? null;
  if (schema === 'information_schema') return TABLES_BY_KEY.get(`information_schema.${name}`) ?? null;
  return null;
}

/** The SQLite declared type of a catalog column: it picks the storage affinity and, read back, the type OID. */
export function declaredTypeOf(type: CatalogColumnType): string {
  switch (type) {
    case 'bool': return 'boolean';
    case 'int2': return 'smallint';
    case 'int4': return 'int';
    case 'int8': return 'bigint';
    case 'float4': return 'real';
    case 'text': return 'text';
    case 'timestamptz': return 'timestamptz';
    case 'oid': return 'catalog_int_oid';
    default: return `catalog_text_${type}`;
  }
}

/** The type OID of a declared type written by declaredTypeOf for a catalog-only type (oid, name, ...). */
export function oidOfCatalogDeclaredType(declared: string | null | undefined): number | null {
  const match = declared === null || declared === undefined ? null : /^catalog_(?:int|text)_(\w+)$/.exec(declared);
  if (match?.[1] === undefined) return null;
  return catalogTypeByName(match[1])?.oid ?? null;
}

/** The nearest supported type, for inferring parameter and expression types in catalog queries. */
export function pgTypeOfCatalogColumn(type: CatalogColumnType): PgType {
  switch (type) {
    case 'bool': case 'int2': case 'int4': case 'int8': case 'float4': case 'text': case 'timestamptz': return type;
    case 'oid': return 'int8';
    default: return 'text';
  }
}

/** CREATE TEMP TABLE statements for every catalog relation. */
export function catalogTableDdl(): string[] {
  return CATALOG_TABLES.map((t) =>
    `CREATE TEMP TABLE IF NOT EXISTS ${t.table} (${t.columns.map((c) => `"${c.name}" ${declaredTypeOf(c.type)}`).join(', ')})`);
}

/** A row in column order, as SQLite bind values. */
export function rowValues(def: CatalogTableDef, row: Row): (null | number | bigint | string)[] {
  return def.columns.map((column) => {
    const value = row[column.name];
    if (value === undefined) return defaultCell(column.type);
    if (value === null) return null;
    if (typeof value === 'boolean') return value ? 1 : 0;
    return value;
  });
}

/** Unlisted columns: false for flags, 0 for numbers and OIDs (Postgres' "none"), NULL otherwise. */
function defaultCell(type: CatalogColumnType): null | number {
  switch (type) {
    case 'bool': case 'int2': case 'int4': case 'int8': case 'oid': return 0;
    default: return null;
  }
}
