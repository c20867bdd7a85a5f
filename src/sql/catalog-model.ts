// A Postgres-shaped description of the SQLite schema (tables, views, indexes, columns,
// constraints) read from sqlite_master and SQLite's pragmas. The pg_catalog and
// information_schema tables and the catalog functions (format_type, pg_get_indexdef, ...)
// are all computed from this one model. OIDs are derived from object names, so every
// replica (and every connection) gives the same object the same OID.

import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { formatType, typeOidOfDeclared, typmodOfDeclared } from './catalog-types.js';

export const PUBLIC_NAMESPACE_OID = 2200;
export const CATALOG_NAMESPACE_OID = 11;
export const INFORMATION_SCHEMA_NAMESPACE_OID = 13_000;
/** The one role: whoever is connected (Postgres' bootstrap superuser OID). */
export const ROLE_OID = 10;
export const DATABASE_OID = 16_384;
export const HEAP_AM_OID = 2;
export const BTREE_AM_OID = 403;
/** Postgres assigns user objects OIDs from 16384 up; ours are hashed into [FIRST_USER_OID, 2^31). */
const FIRST_USER_OID = 16_385;
const OID_SPAN = 0x7fffffff - FIRST_USER_OID;
/** Guards the pragmas we run per object; a schema with more objects is refused. */
const MAX_OBJECTS = 100_000;

/** Prefix of the engine's own bookkeeping tables, which no catalog view shows. */
export const INTERNAL_TABLE_PREFIX = '_paxosql_';

export interface CatalogColumn {
  readonly attnum: number;
  readonly name: string;
  readonly typeOid: number;
  /** Postgres-encoded type modifier (varchar(20) → 24), -1 when none. */
  readonly typmod: number;
  readonly notNull: boolean;
  /** The default as Postgres would print it, or null. */
  readonly defaultExpr: string | null;
  /** 'd' for an auto-assigned key column (serial / identity), '' otherwise. */
  readonly identity: '' | 'd';
  /** 's' for a stored generated column. */
  readonly generated: '' | 's';
}

export type RelationKind = 'r' | 'v' | 'i';

export interface CatalogRelation {
  readonly oid: number;
  readonly name: string;
  readonly kind: RelationKind;
  readonly columns: readonly CatalogColumn[];
  /** For views: the defining SELECT. */
  readonly viewDefinition: string | null;
}

export interface CatalogIndex {
  readonly oid: number;
  readonly name: string;
  readonly tableOid: number;
  readonly tableName: string;
  readonly unique: boolean;
  readonly primary: boolean;
  /** Each key column as Postgres prints it in an index definition (`name`, `lower(name)`, `qty DESC`). */
  readonly keys: readonly string[];
  /** attnum of each key column in the table, 0 for an expression. */
  readonly keyAttnums: readonly number[];
  readonly predicate: string | null;
  readonly definition: string;
}

export interface CatalogConstraint {
  readonly oid: number;
  readonly name: string;
  readonly type: 'p' | 'u' | 'f' | 'c';
  readonly tableOid: number;
  readonly tableName: string;
  readonly attnums: readonly number[];
  readonly indexOid: number;
  readonly refTableOid: number;
  readonly refAttnums: readonly number[];
  /** Postgres' action letters: a (no action), r, c, n, d. */
  readonly onUpdate: string;
  readonly onDelete: string;
  readonly definition: string;
}

export interface CatalogAttrDefault {
  readonly oid: number;
  readonly tableOid: number;
  readonly attnum: number;
  readonly expr: string;
}

export interface CatalogModel {
  /** Changes whenever the schema does. */
  readonly fingerprint: string;
  readonly relations: readonly CatalogRelation[];
  readonly indexes: readonly CatalogIndex[];
  readonly constraints: readonly CatalogConstraint[];
  readonly defaults: readonly CatalogAttrDefault[];
  relationByOid(oid: number): CatalogRelation | undefined;
  relationByName(name: string): CatalogRelation | undefined;
  indexByOid(oid: number): CatalogIndex | undefined;
  constraintByOid(oid: number): CatalogConstraint | undefined;
}

interface MasterRow {
  readonly type: string;
  readonly name: string;
  readonly tbl_name: string;
  readonly sql: string | null;
}

/** Cheap to compute: the whole of sqlite_master, hashed. */
export function schemaFingerprint(db: Database.Database): string {
  const rows = db.prepare('SELECT type, name, tbl_name, sql FROM main.sqlite_master ORDER BY type, name').raw(true).all() as unknown[][];
  const hash = createHash('sha1');
  for (const row of rows) hash.update(row.map((v) => String(v)).join('\u0001')).update('\u0002');
  return hash.digest('hex');
}

export function isHiddenName(name: string): boolean {
  return name.startsWith(INTERNAL_TABLE_PREFIX) || name.startsWith('sqlite_');
}

/** Reads the model. Runs pragmas on `db`, so it must not be called from inside a user function. */
export function readCatalogModel(db: Database.Database, logger: Logger): CatalogModel {
  const fingerprint = schemaFingerprint(db);
  const master = (db.prepare("SELECT type, name, tbl_name, sql FROM main.sqlite_master WHERE type IN ('table', 'view', 'index') ORDER BY name").all() as MasterRow[])
    .filter((row) => !isHiddenName(row.tbl_name) && !isHiddenName(row.name));
  if (master.length > MAX_OBJECTS) throw new Error(`schema has more than ${MAX_OBJECTS} objects`);
  return new ModelBuilder(db, logger, fingerprint, master).build();
}

interface PendingIndex {
  readonly name: string;
  readonly table: string;
  readonly unique: boolean;
  readonly primary: boolean;
  readonly keys: string[];
  readonly keyAttnums: number[];
  readonly keyTypes: { typeOid: number; typmod: number }[];
  readonly predicate: string | null;
  readonly constraint: 'p' | 'u' | null;
}

interface PendingCheck {
  readonly table: string;
  readonly name: string;
  readonly column: string | null;
  readonly expression: string;
}

interface PendingForeignKey {
  readonly table: string;
  readonly refTable: string;
  readonly from: string[];
  readonly to: (string | null)[];
  readonly onUpdate: string;
  readonly onDelete: string;
}

const FK_ACTION_LETTERS: Readonly<Record<string, string>> = {
  'NO ACTION': 'a', RESTRICT: 'r', CASCADE: 'c', 'SET NULL': 'n', 'SET DEFAULT': 'd',
};
const FK_ACTION_WORDS: Readonly<Record<string, string>> = { r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' };

class ModelBuilder {
  private readonly columnsByTable = new Map<string, CatalogColumn[]>();
  private readonly rowidColumn = new Map<string, string>();
  private readonly indexes: PendingIndex[] = [];
  private readonly foreignKeys: PendingForeignKey[] = [];
  private readonly checks: PendingCheck[] = [];

  constructor(
    private readonly db: Database.Database,
    private readonly logger: Logger,
    private readonly fingerprint: string,
    private readonly master: readonly MasterRow[],
  ) {}

  build(): CatalogModel {
    const tables = this.master.filter((row) => row.type === 'table');
    const views = this.master.filter((row) => row.type === 'view');
    for (const table of tables) this.readTable(table);
    for (const view of views) this.columnsByTable.set(view.name, this.readViewColumns(view.name));
    for (const table of tables) this.readIndexes(table.name);
    this.nameIndexesUniquely();
    return this.assemble(tables, views);
  }

  private readTable(row: MasterRow): void {
    const info = this.db.prepare('SELECT cid, name, type, "notnull" AS not_null, dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid')
      .all(row.name) as { name: string; type: string; not_null: number; dflt_value: string | null; pk: number; hidden: number }[];
    const visible = info.filter((c) => c.hidden !== 1);
    const keyColumns = visible.filter((c) => c.pk > 0);
    const withoutRowid = /\)\s*WITHOUT\s+ROWID\s*$/i.test(row.sql ?? '');
    const onlyKey = keyColumns.length === 1 ? keyColumns[0] : undefined;
    // An INTEGER PRIMARY KEY column is SQLite's rowid: what serial and identity columns become.
    const rowid = onlyKey !== undefined && !withoutRowid && onlyKey.type.toUpperCase() === 'INTEGER' ? onlyKey.name : undefined;
    if (rowid !== undefined) this.rowidColumn.set(row.name, rowid);
    const columns = visible.map((c, i): CatalogColumn => {
      const typeOid = typeOidOfDeclared(c.type);
      const isRowid = c.name === rowid;
      return {
        attnum: i + 1, name: c.name, typeOid, typmod: typmodOfDeclared(typeOid, c.type),
        notNull: c.not_null === 1 || isRowid || c.pk > 0,
        defaultExpr: c.hidden === 0 && c.dflt_value !== null ? prettyDefault(c.dflt_value, typeOid) : null,
        identity: isRowid ? 'd' : '',
        generated: c.hidden === 2 || c.hidden === 3 ? 's' : '',
      };
    });
    this.columnsByTable.set(row.name, columns);
    for (const fk of this.readForeignKeys(row.name)) this.foreignKeys.push(fk);
    if (row.sql !== null) for (const check of parseChecks(row.name, row.sql)) this.checks.push(check);
  }

  private readViewColumns(view: string): CatalogColumn[] {
    try {
      const info = this.db.prepare('SELECT name, type FROM pragma_table_info(?) ORDER BY cid').all(view) as { name: string; type: string | null }[];
      return info.map((c, i) => {
        const typeOid = typeOidOfDeclared(c.type ?? '');
        return { attnum: i + 1, name: c.name, typeOid, typmod: typmodOfDeclared(typeOid, c.type ?? ''), notNull: false, defaultExpr: null, identity: '', generated: '' };
      });
    } catch (error) {
      // A view whose definition no longer compiles (a dropped column) still exists in
      // Postgres terms; it is listed without columns rather than breaking every catalog query.
      this.logger.warn({ view, err: error }, 'cannot read the columns of a view');
      return [];
    }
  }

  private readForeignKeys(table: string): PendingForeignKey[] {
    const rows = this.db.prepare('SELECT id, seq, "table" AS ref, "from" AS src, "to" AS dst, on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq')
      .all(table) as { id: number; ref: string; src: string; dst: string | null; on_update: string; on_delete: string }[];
    const byId = new Map<number, PendingForeignKey>();
    for (const row of rows) {
      let fk = byId.get(row.id);
      if (fk === undefined) {
        fk = { table, refTable: row.ref, from: [], to: [], onUpdate: FK_ACTION_LETTERS[row.on_update] ?? 'a', onDelete: FK_ACTION_LETTERS[row.on_delete] ?? 'a' };
        byId.set(row.id, fk);
      }
      fk.from.push(row.src);
      fk.to.push(row.dst);
    }
    return [...byId.values()];
  }

  private readIndexes(table: string): void {
    const columns = this.columnsByTable.get(table) ?? [];
    const rowid = this.rowidColumn.get(table);
    if (rowid !== undefined) {
      const column = columns.find((c) => c.name === rowid);
      this.indexes.push({
        name: `${table}_pkey`, table, unique: true, primary: true, keys: [quoteIdentifier(rowid)],
        keyAttnums: [column?.attnum ?? 0], keyTypes: [{ typeOid: column?.typeOid ?? 23, typmod: -1 }], predicate: null, constraint: 'p',
      });
    }
    const list = this.db.prepare('SELECT name, "unique" AS isunique, origin, partial FROM pragma_index_list(?) ORDER BY seq DESC')
      .all(table) as { name: string; isunique: number; origin: string; partial: number }[];
    const sqlOf = this.db.prepare("SELECT sql FROM main.sqlite_master WHERE type = 'index' AND name = ?").pluck();
    for (const index of list) {
      if (index.name.startsWith(INTERNAL_TABLE_PREFIX)) continue;
      const parts = this.db.prepare('SELECT cid, name, "desc" AS isdesc FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno')
        .all(index.name) as { cid: number; name: string | null; isdesc: number }[];
      const sql = sqlOf.get(index.name) as string | null | undefined;
      const parsed = typeof sql === 'string' ? parseIndexSql(sql) : null;
      const keys = parsed?.keys ?? parts.map((p) => `${quoteIdentifier(p.name ?? 'expr')}${p.isdesc === 1 ? ' DESC' : ''}`);
      const keyColumns = parts.map((p) => columns.find((c) => c.name === p.name));
      const primary = index.origin === 'pk';
      const columnNames = parts.map((p) => p.name ?? 'expr');
      this.indexes.push({
        name: index.origin === 'c' ? index.name : `${table}_${primary ? 'pkey' : `${columnNames.join('_')}_key`}`,
        table, unique: index.isunique === 1, primary, keys,
        keyAttnums: keyColumns.map((c) => c?.attnum ?? 0),
        keyTypes: keyColumns.map((c) => ({ typeOid: c?.typeOid ?? 25, typmod: c?.typmod ?? -1 })),
        predicate: parsed?.predicate ?? null,
        constraint: index.origin === 'pk' ? 'p' : index.origin === 'u' ? 'u' : null,
      });
    }
  }

  /** Generated names (table_pkey, table_col_key) must not clash with real ones; Postgres appends a digit. */
  private nameIndexesUniquely(): void {
    const taken = new Set(this.master.map((row) => row.name));
    for (const [i, index] of this.indexes.entries()) {
      if (index.constraint === null) continue;
      let name = index.name;
      for (let n = 1; taken.has(name) && n < MAX_OBJECTS; n++) name = `${index.name}${n}`;
      taken.add(name);
      this.indexes[i] = { ...index, name };
    }
  }

  private assemble(tables: readonly MasterRow[], views: readonly MasterRow[]): CatalogModel {
    const fkNames = this.foreignKeys.map((fk) => `${fk.table}_${fk.from.join('_')}_fkey`);
    const oids = assignOids([
      ...[...tables, ...views].map((row) => `rel:${row.name}`),
      ...this.indexes.map((index) => `rel:${index.name}`),
      ...this.indexes.filter((i) => i.constraint !== null).map((index) => `con:${index.table}.${index.name}`),
      ...fkNames.map((name, i) => `con:${this.foreignKeys[i]?.table ?? ''}.${name}`),
      ...this.checks.map((check) => `con:${check.table}.${check.name}`),
      ...[...this.columnsByTable.entries()].flatMap(([table, cols]) => cols.filter((c) => c.defaultExpr !== null).map((c) => `def:${table}.${c.attnum}`)),
    ]);
    const oidOf = (key: string): number => {
      const oid = oids.get(key);
      if (oid === undefined) throw new Error(`internal error: no OID for ${key}`);
      return oid;
    };
    const relations: CatalogRelation[] = [];
    for (const row of tables) relations.push({ oid: oidOf(`rel:${row.name}`), name: row.name, kind: 'r', columns: this.columnsByTable.get(row.name) ?? [], viewDefinition: null });
    for (const row of views) relations.push({ oid: oidOf(`rel:${row.name}`), name: row.name, kind: 'v', columns: this.columnsByTable.get(row.name) ?? [], viewDefinition: viewSelect(row.sql) });
    const indexes: CatalogIndex[] = this.indexes.map((index) => ({
      oid: oidOf(`rel:${index.name}`), name: index.name, tableOid: oidOf(`rel:${index.table}`), tableName: index.table,
      unique: index.unique, primary: index.primary, keys: index.keys, keyAttnums: index.keyAttnums, predicate: index.predicate,
      definition: indexDefinition(index),
    }));
    for (const [i, index] of this.indexes.entries()) {
      relations.push({
        oid: indexes[i]?.oid ?? 0, name: index.name, kind: 'i', viewDefinition: null,
        columns: index.keys.map((key, k) => ({
          attnum: k + 1, name: index.keyAttnums[k] !== 0 ? unquoteIdentifier(key.replace(/ DESC$/, '')) : 'expr',
          typeOid: index.keyTypes[k]?.typeOid ?? 25, typmod: index.keyTypes[k]?.typmod ?? -1,
          notNull: false, defaultExpr: null, identity: '', generated: '',
        })),
      });
    }
    const constraints = this.buildConstraints(indexes, fkNames, oidOf);
    const defaults: CatalogAttrDefault[] = [];
    for (const relation of relations) {
      for (const column of relation.columns) {
        if (column.defaultExpr !== null) defaults.push({ oid: oidOf(`def:${relation.name}.${column.attnum}`), tableOid: relation.oid, attnum: column.attnum, expr: column.defaultExpr });
      }
    }
    return makeModel(this.fingerprint, relations, indexes, constraints, defaults);
  }

  private buildConstraints(indexes: readonly CatalogIndex[], fkNames: readonly string[], oidOf: (key: string) => number): CatalogConstraint[] {
    const constraints: CatalogConstraint[] = [];
    for (const [i, pending] of this.indexes.entries()) {
      const index = indexes[i];
      if (pending.constraint === null || index === undefined) continue;
      const columns = index.keys.join(', ');
      constraints.push({
        oid: oidOf(`con:${pending.table}.${pending.name}`), name: pending.name, type: pending.constraint, tableOid: index.tableOid,
        tableName: pending.table, attnums: index.keyAttnums, indexOid: index.oid, refTableOid: 0, refAttnums: [], onUpdate: ' ', onDelete: ' ',
        definition: `${pending.constraint === 'p' ? 'PRIMARY KEY' : 'UNIQUE'} (${columns})`,
      });
    }
    for (const [i, fk] of this.foreignKeys.entries()) {
      const name = fkNames[i] ?? '';
      const columns = this.columnsByTable.get(fk.table) ?? [];
      const refColumns = this.columnsByTable.get(fk.refTable) ?? [];
      // `REFERENCES t` without columns means t's primary key.
      const refKey = indexes.find((index) => index.tableName === fk.refTable && index.primary);
      const to = fk.to.map((name, k) => name ?? refColumns.find((c) => c.attnum === refKey?.keyAttnums[k])?.name ?? '');
      const refIndex = indexes.find((index) => index.tableName === fk.refTable && index.unique && index.keys.join(',') === to.map(quoteIdentifier).join(','));
      let definition = `FOREIGN KEY (${fk.from.map(quoteIdentifier).join(', ')}) REFERENCES ${quoteIdentifier(fk.refTable)}(${to.map(quoteIdentifier).join(', ')})`;
      if (fk.onUpdate !== 'a') definition += ` ON UPDATE ${FK_ACTION_WORDS[fk.onUpdate] ?? ''}`;
      if (fk.onDelete !== 'a') definition += ` ON DELETE ${FK_ACTION_WORDS[fk.onDelete] ?? ''}`;
      constraints.push({
        oid: oidOf(`con:${fk.table}.${name}`), name, type: 'f', tableOid: oidOf(`rel:${fk.table}`), tableName: fk.table,
        attnums: fk.from.map((c) => columns.find((col) => col.name === c)?.attnum ?? 0),
        indexOid: refIndex?.oid ?? 0, refTableOid: this.master.some((row) => row.name === fk.refTable) ? oidOf(`rel:${fk.refTable}`) : 0,
        refAttnums: to.map((c) => refColumns.find((col) => col.name === c)?.attnum ?? 0),
        onUpdate: fk.onUpdate, onDelete: fk.onDelete, definition,
      });
    }
    for (const check of this.checks) {
      const column = this.columnsByTable.get(check.table)?.find((c) => c.name === check.column);
      constraints.push({
        oid: oidOf(`con:${check.table}.${check.name}`), name: check.name, type: 'c', tableOid: oidOf(`rel:${check.table}`),
        tableName: check.table, attnums: column === undefined ? [] : [column.attnum], indexOid: 0, refTableOid: 0, refAttnums: [],
        onUpdate: ' ', onDelete: ' ', definition: `CHECK (${check.expression})`,
      });
    }
    return constraints;
  }
}

function makeModel(
  fingerprint: string, relations: readonly CatalogRelation[], indexes: readonly CatalogIndex[],
  constraints: readonly CatalogConstraint[], defaults: readonly CatalogAttrDefault[],
): CatalogModel {
  const relationsByOid = new Map(relations.map((r) => [r.oid, r]));
  const relationsByName = new Map(relations.map((r) => [r.name, r]));
  const indexesByOid = new Map(indexes.map((i) => [i.oid, i]));
  const constraintsByOid = new Map(constraints.map((c) => [c.oid, c]));
  return {
    fingerprint, relations, indexes, constraints, defaults,
    relationByOid: (oid) => relationsByOid.get(oid),
    relationByName: (name) => relationsByName.get(name),
    indexByOid: (oid) => indexesByOid.get(oid),
    constraintByOid: (oid) => constraintsByOid.get(oid),
  };
}

/** FNV-1a; stable across runs and machines. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** OIDs from hashed keys; a collision moves the later key (in sorted order) to the next free OID. */
function assignOids(keys: readonly string[]): Map<string, number> {
  const oids = new Map<string, number>();
  const used = new Set<number>();
  for (const key of [...new Set(keys)].sort()) {
    let oid = FIRST_USER_OID + (hash32(key) % OID_SPAN);
    for (let probe = 0; used.has(oid); probe++) {
      if (probe > MAX_OBJECTS * 4) throw new Error('internal error: cannot assign catalog OIDs');
      oid = oid + 1 >= FIRST_USER_OID + OID_SPAN ? FIRST_USER_OID : oid + 1;
    }
    used.add(oid);
    oids.set(key, oid);
  }
  return oids;
}

// ---------------------------------------------------------------------------
// Text forms.

const SIMPLE_IDENTIFIER = /^[a-z_][a-z0-9_$]*$/;

/** Postgres' quote_ident for display: quotes only when needed. */
export function quoteIdentifier(name: string): string {
  return SIMPLE_IDENTIFIER.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

export function unquoteIdentifier(text: string): string {
  return /^".*"$/.test(text) ? text.slice(1, -1).replace(/""/g, '"') : text;
}

/** `"name"` → `name` where quoting is not needed, outside string literals. */
function simplifyQuotes(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|"((?:[^"]|"")*)"/g, (match: string, ident: string | undefined) =>
    ident === undefined ? match : quoteIdentifier(ident.replace(/""/g, '"')));
}

/** Splits on commas that are outside parentheses and quotes. */
export function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let current = '';
  for (const ch of text) {
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim() !== '') parts.push(current.trim());
  return parts;
}

/** Index of the parenthesis closing the one at `open`, or -1. */
export function closingParen(text: string, open: number): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = open; i < text.length; i++) {
    const ch = text[i];
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  return -1;
}

/** `text` with quoted strings and identifiers blanked out, so keywords can be searched for by position. */
export function maskQuoted(text: string): string {
  return text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, (match) => ' '.repeat(match.length));
}

const TABLE_CONSTRAINT_START = /^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)\b/i;

/**
 * CHECK constraints of a CREATE TABLE as SQLite stores it. SQLite keeps no names for them,
 * so unnamed ones get Postgres' default names (table_column_check, table_check).
 */
function parseChecks(table: string, sql: string): PendingCheck[] {
  const open = maskQuoted(sql).indexOf('(');
  const close = open < 0 ? -1 : closingParen(sql, open);
  if (close < 0) return [];
  const checks: PendingCheck[] = [];
  const taken = new Set<string>();
  for (const element of splitTopLevel(sql.slice(open + 1, close))) {
    const masked = maskQuoted(element);
    const isTableConstraint = TABLE_CONSTRAINT_START.test(masked.trim());
    const column = isTableConstraint ? null : unquoteIdentifier(/^\s*("(?:[^"]|"")*"|[^\s]+)/.exec(element)?.[1] ?? '');
    for (const match of masked.matchAll(/\bCHECK\s*\(/gi)) {
      const start = (match.index ?? 0) + match[0].length - 1;
      const end = closingParen(element, start);
      if (end < 0) continue;
      const named = /CONSTRAINT\s+("(?:[^"]|"")*"|[\w$]+)\s+$/i.exec(element.slice(0, match.index));
      let name = named?.[1] !== undefined ? unquoteIdentifier(named[1]) : `${table}_${column === null ? '' : `${column}_`}check`;
      for (let n = 1; taken.has(name) && n < MAX_OBJECTS; n++) name = `${name.replace(/\d+$/, '')}${n}`;
      taken.add(name);
      checks.push({ table, name, column, expression: simplifyQuotes(element.slice(start + 1, end).trim()) });
    }
  }
  return checks;
}

/** The key list and WHERE clause of a `CREATE INDEX … ON t (…) [WHERE …]` as written in sqlite_master. */
function parseIndexSql(sql: string): { keys: string[]; predicate: string | null } | null {
  const on = /\bON\s+(?:"(?:[^"]|"")*"|[\w$]+)\s*\(/i.exec(sql);
  if (on === null) return null;
  const open = on.index + on[0].length - 1;
  const close = closingParen(sql, open);
  if (close < 0) return null;
  const keys = splitTopLevel(sql.slice(open + 1, close)).map((key) => {
    const simplified = simplifyQuotes(key).replace(/\s+ASC$/i, '');
    // SQLite needs parentheses around expression keys; Postgres prints function calls bare.
    const bare = /^\((.*)\)(\s+DESC)?$/is.exec(simplified);
    return bare !== null && closingParen(simplified, 0) === simplified.length - 1 - (bare[2]?.length ?? 0) ? `${bare[1] ?? ''}${bare[2] ?? ''}` : simplified;
  });
  const where = /^\s*WHERE\s+(.*)$/is.exec(sql.slice(close + 1));
  return { keys, predicate: where?.[1] === undefined ? null : simplifyQuotes(where[1].trim()) };
}

function indexDefinition(index: PendingIndex): string {
  const where = index.predicate === null ? '' : ` WHERE (${index.predicate})`;
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdentifier(index.name)} ON public.${quoteIdentifier(index.table)} USING btree (${index.keys.join(', ')})${where}`;
}

/** The SELECT of a `CREATE VIEW v AS SELECT …`. */
function viewSelect(sql: string | null): string | null {
  if (sql === null) return null;
  const match = /\bAS\s+(SELECT|WITH|VALUES)\b/i.exec(sql);
  return match === null ? sql : `${simplifyQuotes(sql.slice(match.index + 3).trim())};`;
}

// The registered functions the translator substitutes, back to the Postgres spelling.
const DEFAULT_FUNCTION_NAMES: Readonly<Record<string, string>> = {
  pg_now: 'now', pg_gen_random_uuid: 'gen_random_uuid', pg_random: 'random', pg_current_date: 'CURRENT_DATE',
  pg_localtimestamp: 'LOCALTIMESTAMP', pg_current_user: 'CURRENT_USER',
};

/**
 * A column default from SQLite's schema, as Postgres prints it: `0`, `true`, `now()`,
 * `'x'::text`. The translator wraps typed constants in pg_cast(value, 'type'); that is unwrapped.
 */
export function prettyDefault(sqliteText: string, typeOid: number): string {
  let text = sqliteText.trim();
  while (text.startsWith('(') && closingParen(text, 0) === text.length - 1) text = text.slice(1, -1).trim();
  const cast = /^pg_cast\((.*),\s*'[a-z0-9]+'(?:\s*,\s*\d+)*\)$/is.exec(text);
  if (cast?.[1] !== undefined && splitTopLevel(`${cast[1]}`).length === 1) text = cast[1].trim();
  text = text.replace(/\b(pg_[a-z_]+)\(\)/g, (match: string, name: string) => {
    const pgName = DEFAULT_FUNCTION_NAMES[name];
    if (pgName === undefined) return match;
    return pgName === pgName.toUpperCase() ? pgName : `${pgName}()`;
  });
  if (typeOid === 16 && (text === '1' || text === '0')) return text === '1' ? 'true' : 'false';
  if (/^'(?:[^']|'')*'$/.test(text)) return `${text}::${formatType(typeOid, -1)}`;
  return simplifyQuotes(text);
}
