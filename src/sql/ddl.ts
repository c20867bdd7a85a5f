// DDL is emitted as SQLite text directly: the declared Postgres type names are kept in the
// SQLite schema (so result columns report the right OIDs), defaults and checks go through
// the same expression rewriting as queries (so now()/random() defaults are deterministic).

import { asArray, bodyOf, isObject, nameList, quoteIdent, str, unsupported, type JsonObject } from './ast.js';
import { declaredTypeName, lookupPgType, type PgType } from './pgtypes.js';
import type { ColumnInfo, StatementTranslator, TranslatedStep } from './translate.js';
import { describeTypeName, typeModifiers } from './translate.js';
import { rebuildSteps } from './rebuild.js';
import { SqlError } from './types.js';

export interface DdlTranslation {
  readonly steps: readonly TranslatedStep[];
  readonly tag: string;
  /** Answered `SELECT n` with the rows the last step wrote, as Postgres answers CREATE TABLE AS. */
  readonly countsRows?: true;
}

/** The objects that depend on a table. */
export interface TableDependents {
  /** Foreign keys referencing it: the table that holds each one and its constraint name. */
  readonly foreignKeys: readonly { readonly table: string; readonly constraint: string }[];
  /** Views that read it. */
  readonly views: readonly string[];
}

type Translator = Pick<StatementTranslator, 'rewrite' | 'emit' | 'relationName' | 'coerceToColumn' | 'schema' | 'selectColumns'>;

/** Emits SQLite statements for a DDL node, or null when the node is not DDL this layer knows. */
export function emitDdl(type: string, body: JsonObject, translator: Translator): DdlTranslation | null {
  switch (type) {
    case 'CreateStmt': return { steps: [{ sql: createTable(body, translator) }], tag: 'CREATE TABLE' };
    case 'IndexStmt': return { steps: [{ sql: createIndex(body, translator) }], tag: 'CREATE INDEX' };
    case 'ViewStmt': return { steps: createView(body, translator), tag: 'CREATE VIEW' };
    case 'CreateTableAsStmt': return { steps: createTableAs(body, translator), tag: 'SELECT', countsRows: true };
    case 'DropStmt': return dropObjects(body, translator);
    case 'TruncateStmt': return { steps: truncate(body, translator), tag: 'TRUNCATE TABLE' };
    case 'AlterTableStmt': return { steps: alterTable(body, translator), tag: 'ALTER TABLE' };
    case 'RenameStmt': return { steps: [{ sql: rename(body, translator) }], tag: 'ALTER TABLE' };
    default: return null;
  }
}

// ---------------------------------------------------------------------------
// CREATE TABLE

const SERIAL_TYPES: ReadonlyMap<string, PgType> = new Map<string, PgType>([
  ['smallserial', 'int2'], ['serial2', 'int2'], ['serial', 'int4'], ['serial4', 'int4'],
  ['bigserial', 'int8'], ['serial8', 'int8'],
]);

const FK_ACTIONS: Readonly<Record<string, string>> = {
  a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT',
};

function createTable(body: JsonObject, translator: Translator): string {
  for (const key of ['inhRelations', 'partbound', 'partspec', 'ofTypename', 'accessMethod', 'tablespacename']) {
    if (body[key] !== undefined && asArray(body[key]).length !== 0) throw unsupported(`CREATE TABLE with ${key}`);
  }
  checkStorageParameters(asArray(body['options']));
  const table = translator.relationName(body['relation']);
  const elements = asArray(body['tableElts']);
  if (elements.some((e) => bodyOf(e, 'TableLikeClause') !== null)) throw unsupported('CREATE TABLE … (LIKE other_table)');
  const tableConstraints = elements.map((e) => bodyOf(e, 'Constraint')).filter((c): c is JsonObject => c !== null);
  const columns = elements.map((e) => bodyOf(e, 'ColumnDef')).filter((c): c is JsonObject => c !== null);
  const singleKey = singleColumnPrimaryKey(tableConstraints);
  const keyColumns = new Set(nameList(tableConstraints.find((c) => c['contype'] === 'CONSTR_PRIMARY')?.['keys']));
  const parts = columns.map((column) => columnDefinition(column, translator, singleKey, keyColumns));
  const rowidColumn = parts.find((p) => p.isRowid)?.name;
  for (const constraint of tableConstraints) {
    const isFoldedKey = constraint['contype'] === 'CONSTR_PRIMARY' && rowidColumn !== undefined && rowidColumn === singleKey;
    if (!isFoldedKey) parts.push({ name: '', sql: tableConstraint(constraint, translator), isRowid: false });
  }
  if (parts.length === 0) throw unsupported('tables without columns');
  const ifNotExists = body['if_not_exists'] === true ? 'IF NOT EXISTS ' : '';
  return `CREATE TABLE ${ifNotExists}${quoteIdent(table)} (${parts.map((p) => p.sql).join(', ')})`;
}

/**
 * Storage parameters (`WITH (fillfactor = 100)`, pgbench's tables) tune Postgres'
 * heap and vacuum; they change no result, and SQLite has no equivalent knob, so the
 * known ones are accepted and ignored. Unknown ones are refused as Postgres does.
 */
const STORAGE_PARAMETERS = new Set([
  'fillfactor', 'toast_tuple_target', 'parallel_workers', 'autovacuum_enabled', 'vacuum_index_cleanup',
  'vacuum_truncate', 'user_catalog_table', 'log_autovacuum_min_duration',
]);
const STORAGE_PARAMETER_PREFIXES = ['autovacuum_', 'toast.'];

function checkStorageParameters(options: readonly unknown[]): void {
  for (const option of options) {
    const def = bodyOf(option, 'DefElem');
    const namespace = str(def?.['defnamespace']);
    const name = `${namespace === undefined ? '' : `${namespace}.`}${str(def?.['defname']) ?? ''}`.toLowerCase();
    if (name === 'oids') throw unsupported('WITH OIDS');
    const known = STORAGE_PARAMETERS.has(name) || STORAGE_PARAMETER_PREFIXES.some((prefix) => name.startsWith(prefix));
    if (!known) throw new SqlError('22023', `unrecognized parameter "${name}"`);
  }
}

function singleColumnPrimaryKey(constraints: readonly JsonObject[]): string | undefined {
  const primary = constraints.find((c) => c['contype'] === 'CONSTR_PRIMARY');
  const keys = nameList(primary?.['keys']);
  return keys.length === 1 ? keys[0] : undefined;
}

interface ColumnSql {
  readonly name: string;
  readonly sql: string;
  /** The column became SQLite's rowid alias (INTEGER PRIMARY KEY). */
  readonly isRowid: boolean;
}

/**
 * A column definition. Also used by ALTER TABLE ADD COLUMN. `tablePrimaryKey` is
 * the table constraint's key when it has one column, `tableKeyColumns` all of
 * its columns (each NOT NULL, as in Postgres).
 */
export function columnDefinition(
  column: JsonObject, translator: Translator, tablePrimaryKey?: string, tableKeyColumns: ReadonlySet<string> = new Set(),
): ColumnSql {
  const name = str(column['colname']) ?? '';
  if (column['collClause'] !== undefined) throw unsupported('COLLATE');
  const typeName = isObject(column['typeName']) ? column['typeName'] : {};
  const typeNames = nameList(typeName['names']);
  const baseName = (typeNames[typeNames.length - 1] ?? '').toLowerCase();
  const serialType = SERIAL_TYPES.get(baseName);
  const constraints = asArray(column['constraints']).map((c) => bodyOf(c, 'Constraint')).filter((c): c is JsonObject => c !== null);
  const isIdentity = constraints.some((c) => c['contype'] === 'CONSTR_IDENTITY');
  const isPrimary = constraints.some((c) => c['contype'] === 'CONSTR_PRIMARY') || tablePrimaryKey === name;

  if (serialType !== undefined || isIdentity) {
    // Sequences become SQLite's rowid: INTEGER PRIMARY KEY AUTOINCREMENT never reuses a
    // value, like a sequence. That only works for the single-column primary key.
    if (!isPrimary) throw unsupported(`${serialType !== undefined ? baseName : 'identity'} column "${name}" that is not the single-column primary key`);
    if (asArray(typeName['arrayBounds']).length > 0) throw unsupported('array types');
    const identityType = serialType ?? lookupPgType(baseName);
    if (identityType !== 'int2' && identityType !== 'int4' && identityType !== 'int8') throw unsupported(`identity column of type ${baseName}`);
    const rest = constraints
      .filter((c) => !['CONSTR_PRIMARY', 'CONSTR_IDENTITY', 'CONSTR_NOTNULL'].includes(str(c['contype']) ?? ''))
      .map((c) => columnConstraint(c, translator, name, null));
    // The rowid alias must be declared exactly INTEGER; a named constraint keeps the Postgres type (int2/int8).
    const marker = identityType === 'int4' ? '' : ` CONSTRAINT ${quoteIdent(rowidTypeMarker(identityType))}`;
    return { name, sql: [`${quoteIdent(name)} INTEGER${marker} PRIMARY KEY AUTOINCREMENT`, ...rest].join(' '), isRowid: true };
  }

  const pgType = lookupPgType(baseName);
  if (pgType === null || asArray(typeName['arrayBounds']).length > 0) throw unsupported(`type ${describeTypeName(typeName)}`);
  const typmods = typeModifiers(typeName);
  const info: ColumnInfo = { name, pgType, typmods, declared: declaredTypeName(pgType, typmods) };
  const pieces = [`${quoteIdent(name)} ${info.declared}`];
  // SQLite lets PRIMARY KEY columns hold NULL (a legacy quirk); Postgres does not,
  // for every column of a composite key too.
  const isKeyColumn = isPrimary || tableKeyColumns.has(name);
  if (isKeyColumn && !constraints.some((c) => c['contype'] === 'CONSTR_NOTNULL')) pieces.push('NOT NULL');
  for (const constraint of constraints) pieces.push(columnConstraint(constraint, translator, name, info));
  return { name, sql: pieces.join(' '), isRowid: false };
}

const ROWID_TYPE_MARKER_PREFIX = '_paxosql_type_';

function rowidTypeMarker(type: 'int2' | 'int8'): string {
  return `${ROWID_TYPE_MARKER_PREFIX}${type}`;
}

/**
 * The Postgres types of SERIAL/IDENTITY columns that are not int4 (BIGSERIAL, SMALLINT
 * IDENTITY, ...), read from the CREATE TABLE text SQLite keeps: column name → type.
 */
export function rowidColumnTypes(createSql: string): Map<string, PgType> {
  const types = new Map<string, PgType>();
  const pattern = /"((?:[^"]|"")+)" INTEGER CONSTRAINT "_paxosql_type_(int2|int8)" PRIMARY KEY/g;
  for (const match of createSql.matchAll(pattern)) types.set((match[1] ?? '').replace(/""/g, '"'), match[2] === 'int2' ? 'int2' : 'int8');
  return types;
}

function constraintName(constraint: JsonObject): string {
  const name = str(constraint['conname']);
  return name === undefined ? '' : `CONSTRAINT ${quoteIdent(name)} `;
}

function rejectDeferrable(constraint: JsonObject): void {
  if (constraint['deferrable'] === true || constraint['initdeferred'] === true) throw unsupported('DEFERRABLE constraints');
}

function columnConstraint(constraint: JsonObject, translator: Translator, column: string, info: ColumnInfo | null): string {
  rejectDeferrable(constraint);
  const prefix = constraintName(constraint);
  switch (str(constraint['contype'])) {
    case 'CONSTR_NOTNULL': return `${prefix}NOT NULL`;
    case 'CONSTR_NULL': return `${prefix}NULL`;
    case 'CONSTR_PRIMARY': return `${prefix}PRIMARY KEY`;
    case 'CONSTR_UNIQUE': return `${prefix}UNIQUE`;
    case 'CONSTR_DEFAULT': {
      const value = translator.coerceToColumn(translator.rewrite(constraint['raw_expr']), info);
      return `${prefix}DEFAULT (${translator.emit(value)})`;
    }
    case 'CONSTR_CHECK': return `${prefix}CHECK (${translator.emit(translator.rewrite(constraint['raw_expr']))})`;
    case 'CONSTR_FOREIGN': return `${prefix}${references(constraint, translator)}`;
    case 'CONSTR_GENERATED': {
      if (constraint['generated_kind'] !== undefined && constraint['generated_kind'] !== 's') throw unsupported('virtual generated columns');
      return `${prefix}GENERATED ALWAYS AS (${translator.emit(translator.rewrite(constraint['raw_expr']))}) STORED`;
    }
    default: throw unsupported(`column constraint ${String(constraint['contype'])} on "${column}"`);
  }
}

function tableConstraint(constraint: JsonObject, translator: Translator): string {
  rejectDeferrable(constraint);
  const prefix = constraintName(constraint);
  const keys = nameList(constraint['keys']).map(quoteIdent).join(', ');
  switch (str(constraint['contype'])) {
    case 'CONSTR_PRIMARY': return `${prefix}PRIMARY KEY (${keys})`;
    case 'CONSTR_UNIQUE': return `${prefix}UNIQUE (${keys})`;
    case 'CONSTR_CHECK': return `${prefix}CHECK (${translator.emit(translator.rewrite(constraint['raw_expr']))})`;
    case 'CONSTR_FOREIGN': {
      const columns = nameList(constraint['fk_attrs']).map(quoteIdent).join(', ');
      return `${prefix}FOREIGN KEY (${columns}) ${references(constraint, translator)}`;
    }
    default: throw unsupported(`table constraint ${String(constraint['contype'])}`);
  }
}

function references(constraint: JsonObject, translator: Translator): string {
  const table = translator.relationName(constraint['pktable']);
  const columns = nameList(constraint['pk_attrs']);
  if (constraint['fk_matchtype'] === 'f') throw unsupported('MATCH FULL');
  let sql = `REFERENCES ${quoteIdent(table)}${columns.length > 0 ? ` (${columns.map(quoteIdent).join(', ')})` : ''}`;
  const onUpdate = FK_ACTIONS[str(constraint['fk_upd_action']) ?? 'a'];
  const onDelete = FK_ACTIONS[str(constraint['fk_del_action']) ?? 'a'];
  if (onUpdate !== undefined && onUpdate !== 'NO ACTION') sql += ` ON UPDATE ${onUpdate}`;
  if (onDelete !== undefined && onDelete !== 'NO ACTION') sql += ` ON DELETE ${onDelete}`;
  return sql;
}

// ---------------------------------------------------------------------------
// Indexes, views, DROP, TRUNCATE, ALTER

function createIndex(body: JsonObject, translator: Translator): string {
  const method = str(body['accessMethod']) ?? 'btree';
  if (method !== 'btree') throw unsupported(`index method ${method}`);
  if (asArray(body['indexIncludingParams']).length > 0) throw unsupported('INCLUDE columns');
  const table = translator.relationName(body['relation']);
  const elements = asArray(body['indexParams']).map((p) => bodyOf(p, 'IndexElem') ?? {});
  const columnsSql = elements.map((element) => indexElement(element, translator));
  // Postgres names unnamed indexes after the table and columns; SQLite requires a name.
  const columnNames = elements.map((e) => str(e['name']) ?? 'expr');
  const name = str(body['idxname']) ?? `${table}_${columnNames.join('_')}_${body['unique'] === true ? 'key' : 'idx'}`;
  const where = body['whereClause'] === undefined ? '' : ` WHERE ${translator.emit(translator.rewrite(body['whereClause']))}`;
  // CONCURRENTLY only changes locking, which a single serialized writer does not need.
  return `CREATE ${body['unique'] === true ? 'UNIQUE ' : ''}INDEX ${body['if_not_exists'] === true ? 'IF NOT EXISTS ' : ''}` +
    `${quoteIdent(name)} ON ${quoteIdent(table)} (${columnsSql.join(', ')})${where}`;
}

function indexElement(element: JsonObject, translator: Translator): string {
  if (asArray(element['opclass']).length > 0) throw unsupported('operator classes');
  if (asArray(element['collation']).length > 0) throw unsupported('COLLATE');
  const name = str(element['name']);
  const target = name !== undefined ? quoteIdent(name) : `(${translator.emit(translator.rewrite(element['expr']))})`;
  const descending = element['ordering'] === 'SORTBY_DESC';
  const nulls = element['nulls_ordering'];
  // Postgres' default: NULLS LAST ascending, NULLS FIRST descending.
  const nullsSql = nulls === 'SORTBY_NULLS_FIRST' ? ' NULLS FIRST' : nulls === 'SORTBY_NULLS_LAST' ? ' NULLS LAST' : '';
  return `${target}${descending ? ' DESC' : ''}${nullsSql}`;
}

/**
 * CREATE TABLE … AS SELECT: a table with the query's column names and
 * Postgres types (each must be known: a column, a typed expression, or a
 * cast), then the query's rows inserted — one statement, atomic.
 */
function createTableAs(body: JsonObject, translator: Translator): TranslatedStep[] {
  if (body['objtype'] !== 'OBJECT_TABLE') throw unsupported('CREATE MATERIALIZED VIEW');
  const into = isObject(body['into']) ? body['into'] : {};
  if (into['onCommit'] !== undefined && into['onCommit'] !== 'ONCOMMIT_NOOP') throw unsupported('ON COMMIT');
  const rel = isObject(into['rel']) ? into['rel'] : {};
  if (rel['relpersistence'] === 't') throw unsupported('temporary tables');
  const table = translator.relationName(rel);
  if (translator.schema.columnsOf(table) !== null) {
    if (body['if_not_exists'] === true) return []; // as Postgres: a notice, nothing created
    throw new SqlError('42P07', `relation "${table}" already exists`);
  }
  const hints = translator.selectColumns(body['query']);
  if (hints === null) throw unsupported('CREATE TABLE AS with this query (name its columns)');
  const names = nameList(into['colNames']);
  if (names.length > hints.length) throw new SqlError('42601', 'too many column names were specified');
  const columns = hints.map((hint, i) => {
    const name = names[i] ?? hint.name;
    if (hint.pgType === null) {
      throw new SqlError('0A000', `CREATE TABLE AS cannot tell the type of column "${name}"`, { hint: `Cast it in the query: (expression)::type AS ${name}.` });
    }
    return `${quoteIdent(name)} ${declaredTypeName(hint.pgType, [])}`;
  });
  const create = { sql: `CREATE TABLE ${quoteIdent(table)} (${columns.join(', ')})` };
  if (into['skipData'] === true) return [create];
  const query = translator.emit(translator.rewrite(body['query']));
  return [create, { sql: `INSERT INTO ${quoteIdent(table)} ${query}` }];
}

function createView(body: JsonObject, translator: Translator): TranslatedStep[] {
  if (asArray(body['options']).length > 0) throw unsupported('view options');
  if (body['withCheckOption'] !== undefined && body['withCheckOption'] !== 'NO_CHECK_OPTION') throw unsupported('WITH CHECK OPTION');
  const view = translator.relationName(body['view']);
  const aliases = nameList(body['aliases']);
  const query = translator.emit(translator.rewrite(body['query']));
  const columns = aliases.length > 0 ? ` (${aliases.map(quoteIdent).join(', ')})` : '';
  const create = { sql: `CREATE VIEW ${quoteIdent(view)}${columns} AS ${query}` };
  return body['replace'] === true ? [{ sql: `DROP VIEW IF EXISTS ${quoteIdent(view)}` }, create] : [create];
}

const DROP_KINDS: Readonly<Record<string, { keyword: string; tag: string }>> = {
  OBJECT_TABLE: { keyword: 'TABLE', tag: 'DROP TABLE' },
  OBJECT_INDEX: { keyword: 'INDEX', tag: 'DROP INDEX' },
  OBJECT_VIEW: { keyword: 'VIEW', tag: 'DROP VIEW' },
};

function dropObjects(body: JsonObject, translator: Translator): DdlTranslation {
  const kind = DROP_KINDS[str(body['removeType']) ?? ''];
  if (kind === undefined) throw unsupported(`DROP ${String(body['removeType']).replace('OBJECT_', '')}`);
  if (body['behavior'] === 'DROP_CASCADE') throw unsupported('DROP ... CASCADE');
  if (body['concurrent'] === true && kind.keyword !== 'INDEX') throw unsupported('DROP CONCURRENTLY');
  const ifExists = body['missing_ok'] === true ? 'IF EXISTS ' : '';
  let names = asArray(body['objects']).map((object) => {
    const parts = nameList(bodyOf(object, 'List')?.['items']);
    if (parts.length > 1 && parts[0] !== 'public') throw new SqlError('3F000', `schema "${parts[0] ?? ''}" does not exist`);
    return parts[parts.length - 1] ?? '';
  });
  if (kind.keyword === 'TABLE') names = tablesInDropOrder(names, translator);
  return { steps: names.map((name) => ({ sql: `DROP ${kind.keyword} ${ifExists}${quoteIdent(name)}` })), tag: kind.tag };
}

/**
 * Refuses (2BP01, as Postgres without CASCADE) to drop a table that a foreign
 * key of a table not being dropped, or a view, depends on: SQLite would drop it
 * and leave the other object broken. Orders the tables so each is dropped after
 * the dropped tables that reference it (SQLite checks the foreign keys of rows
 * it deletes while dropping).
 */
function tablesInDropOrder(tables: readonly string[], translator: Translator): string[] {
  const dropping = new Set(tables);
  const referencedBy = new Map<string, readonly string[]>();
  for (const table of tables) {
    const dependents = translator.schema.dependentsOf?.(table) ?? { foreignKeys: [], views: [] };
    const blocking = [
      ...dependents.foreignKeys.filter((fk) => !dropping.has(fk.table))
        .map((fk) => `constraint ${fk.constraint} on table ${fk.table} depends on table ${table}`),
      ...dependents.views.map((view) => `view ${view} depends on table ${table}`),
    ];
    if (blocking.length > 0) {
      throw new SqlError('2BP01', `cannot drop table ${table} because other objects depend on it`, {
        detail: blocking.join('\n'), hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
      });
    }
    referencedBy.set(table, dependents.foreignKeys.map((fk) => fk.table).filter((child) => child !== table));
  }
  const ordered: string[] = [];
  const visit = (table: string, path: ReadonlySet<string>): void => {
    if (ordered.includes(table) || path.has(table)) return; // a cycle of references: either order
    for (const child of referencedBy.get(table) ?? []) visit(child, new Set([...path, table]));
    ordered.push(table);
  };
  for (const table of tables) visit(table, new Set());
  return ordered;
}

function truncate(body: JsonObject, translator: Translator): TranslatedStep[] {
  if (body['behavior'] === 'DROP_CASCADE') throw unsupported('TRUNCATE ... CASCADE');
  const steps: TranslatedStep[] = [];
  for (const relation of asArray(body['relations'])) {
    const table = translator.relationName(bodyOf(relation, 'RangeVar'));
    steps.push({ sql: `DELETE FROM ${quoteIdent(table)}` });
    // RESTART IDENTITY: AUTOINCREMENT counters live in sqlite_sequence.
    if (body['restart_seqs'] === true) {
      steps.push({ sql: `DELETE FROM sqlite_sequence WHERE name = '${table.replace(/'/g, "''")}'`, onlyIfTableExists: 'sqlite_sequence' });
    }
  }
  return steps;
}

/** ALTER TABLE subcommands that SQLite can only carry out by rebuilding the table. */
const REBUILD_SUBTYPES = new Set(['AT_AddConstraint', 'AT_SetNotNull']);

function alterTable(body: JsonObject, translator: Translator): TranslatedStep[] {
  if (body['objtype'] !== undefined && body['objtype'] !== 'OBJECT_TABLE') throw unsupported(`ALTER ${String(body['objtype']).replace('OBJECT_', '')}`);
  const table = translator.relationName(body['relation']);
  // IF EXISTS / IF NOT EXISTS are decided against the schema this statement is
  // translated on: the same on every replica at this point of the log.
  const existing = translator.schema.columnsOf(table);
  if (body['missing_ok'] === true && existing === null) return []; // ALTER TABLE IF EXISTS on no table: nothing to do
  const hasColumn = (name: string): boolean => existing?.some((c) => c.name.toLowerCase() === name.toLowerCase()) === true;
  const commands = asArray(body['cmds']).map((cmd) => bodyOf(cmd, 'AlterTableCmd') ?? {});
  const rebuilding = commands.filter((command) => REBUILD_SUBTYPES.has(str(command['subtype']) ?? ''));
  if (rebuilding.length > 0) {
    if (rebuilding.length !== commands.length) throw unsupported('ALTER TABLE combining ADD CONSTRAINT or SET NOT NULL with other changes');
    return rebuildForConstraints(table, rebuilding, translator);
  }
  return commands.flatMap((command) => {
    const subtype = str(command['subtype']);
    if (subtype === 'AT_AddColumn') {
      const def = bodyOf(command['def'], 'ColumnDef');
      if (def === null) throw unsupported('this ADD COLUMN form');
      if (command['missing_ok'] === true && hasColumn(str(def['colname']) ?? '')) return []; // ADD COLUMN IF NOT EXISTS
      const column = columnDefinition(def, translator);
      if (column.isRowid) throw unsupported('adding a serial or identity column');
      return { sql: `ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${column.sql}` };
    }
    if (subtype === 'AT_DropColumn') {
      if (command['behavior'] === 'DROP_CASCADE') throw unsupported('DROP COLUMN ... CASCADE');
      if (command['missing_ok'] === true && !hasColumn(str(command['name']) ?? '')) return []; // DROP COLUMN IF EXISTS
      return { sql: `ALTER TABLE ${quoteIdent(table)} DROP COLUMN ${quoteIdent(str(command['name']) ?? '')}` };
    }
    throw unsupported(`ALTER TABLE ${(subtype ?? 'command').replace('AT_', '')}`);
  });
}

/** ADD CONSTRAINT (PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY) and SET NOT NULL, by rebuilding the table. */
function rebuildForConstraints(table: string, commands: readonly JsonObject[], translator: Translator): TranslatedStep[] {
  const schema = translator.schema.tableSchema?.(table) ?? null;
  if (schema === null) throw new SqlError('42P01', `relation "${table}" does not exist`);
  const constraints: string[] = [];
  const notNull = new Set<string>();
  let addsPrimaryKey = false;
  for (const command of commands) {
    if (command['subtype'] === 'AT_SetNotNull') {
      notNull.add(str(command['name']) ?? '');
      continue;
    }
    const constraint = bodyOf(command['def'], 'Constraint');
    if (constraint === null) throw unsupported('this ADD CONSTRAINT form');
    if (constraint['skip_validation'] === true) throw unsupported('NOT VALID constraints');
    if (constraint['indexname'] !== undefined) throw unsupported('ADD CONSTRAINT … USING INDEX');
    if (constraint['contype'] === 'CONSTR_PRIMARY') {
      if (addsPrimaryKey) throw new SqlError('42P16', `multiple primary keys for table "${table}" are not allowed`);
      addsPrimaryKey = true;
      // Postgres makes primary key columns NOT NULL; SQLite's PRIMARY KEY alone would allow NULL.
      for (const key of nameList(constraint['keys'])) notNull.add(key);
    }
    constraints.push(tableConstraint(constraint, translator));
  }
  return rebuildSteps(table, schema, { constraints, notNull, addsPrimaryKey });
}

function rename(body: JsonObject, translator: Translator): string {
  const table = translator.relationName(body['relation']);
  const newName = quoteIdent(str(body['newname']) ?? '');
  switch (str(body['renameType'])) {
    case 'OBJECT_TABLE': return `ALTER TABLE ${quoteIdent(table)} RENAME TO ${newName}`;
    case 'OBJECT_COLUMN': return `ALTER TABLE ${quoteIdent(table)} RENAME COLUMN ${quoteIdent(str(body['subname']) ?? '')} TO ${newName}`;
    default: throw unsupported(`ALTER ... RENAME of ${String(body['renameType']).replace('OBJECT_', '').toLowerCase()}`);
  }
}

