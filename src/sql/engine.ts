// SqlEngine: runs Postgres-dialect SQL on one better-sqlite3 connection, deterministically
// for a given ExecContext. Used by the apply worker (the only writer) and read workers.

import type Database from 'better-sqlite3';
import { pino, type Logger } from 'pino';
import { quoteIdent } from './ast.js';
import { Catalog } from './catalog.js';
import { registerCatalogFunctions } from './catalog-functions.js';
import { findCatalogTable, oidOfCatalogDeclaredType, pgTypeOfCatalogColumn, type SessionFacts } from './catalog-tables.js';
import { maintenanceInTransactionBlock, toSqlError } from './errors.js';
import { DEFAULT_SETTINGS, registerFunctions, type ExecContext } from './functions.js';
import { LruMap } from './lru.js';
import { initParser, parseSql, showColumnName, type ParsedStatement, type SessionCommand } from './parse.js';
import { rowidColumnTypes, type TableDependents } from './ddl.js';
import { coerceToPgType, lookupPgType, numericScale, oidOfDeclaredType, oidOfRuntimeValue, PG_TYPE_OIDS, toPgValue, UNKNOWN_TYPE_OID, type PgType } from './pgtypes.js';
import { SeededRandom } from './prng.js';
import type { TableSchema } from './rebuild.js';
import { translateStatement, type ColumnInfo, type ResultColumnHint, type SchemaLookup, type TranslatedStatement } from './translate.js';
import { SqlError, type FieldInfo, type QueryResult, type SqlValue } from './types.js';

export interface SqlEngineOptions {
  readonly logger?: Logger;
  /** Entries in the translation cache (keyed by schema version and statement text). */
  readonly translationCacheSize?: number;
  /** Prepared SQLite statements kept open. */
  readonly statementCacheSize?: number;
  /** Reported by version() and server_version. */
  readonly serverVersion?: string;
}

/** What Parse/Describe need without executing. */
export interface StatementDescription {
  readonly paramTypeOids: readonly number[];
  /** Null when the statement returns no rows. */
  readonly fields: readonly FieldInfo[] | null;
}

/** Results of a simple-protocol query string: results up to the first error, and that error. */
export interface BatchResult {
  readonly results: readonly QueryResult[];
  readonly error?: SqlError;
}

const MAX_STATEMENTS_PER_QUERY = 10_000;

type BindValue = null | bigint | number | string | Buffer;

export class SqlEngine {
  private readonly logger: Logger;
  private readonly translations: LruMap<string, TranslatedStatement>;
  private readonly statements: LruMap<string, Database.Statement>;
  private readonly schemaVersionStatement: Database.Statement;
  private readonly tableInfoStatement: Database.Statement;
  private readonly tableExistsStatement: Database.Statement;
  private readonly columnCache = new Map<string, readonly ColumnInfo[] | null>();
  private readonly rowidTypeCache = new Map<string, Map<string, PgType>>();
  /**
   * The schema every cache above describes. Any change (DDL here, DDL applied
   * by another connection, a snapshot installed under this one) empties them
   * all; a version is compared for equality only, never as a key, so a
   * snapshot whose counter happens to repeat an old value cannot revive a
   * stale entry.
   */
  private cachedSchemaVersion = -1;
  private activeContext: ExecContext | null = null;
  private randomSource: SeededRandom = new SeededRandom(0);
  private randomSeed: bigint | null = null;
  private readonly catalog: Catalog;
  readonly serverVersion: string;

  /** Loads the parser, then builds the engine. */
  static async create(db: Database.Database, options: SqlEngineOptions = {}): Promise<SqlEngine> {
    await initParser();
    return new SqlEngine(db, options);
  }

  /** Prefer `create`; the constructor requires `initParser()` to have completed. */
  constructor(readonly db: Database.Database, options: SqlEngineOptions = {}) {
    this.logger = options.logger ?? pino({ level: 'silent' });
    this.serverVersion = options.serverVersion ?? DEFAULT_SETTINGS['server_version'] ?? '16.0';
    this.translations = new LruMap(options.translationCacheSize ?? 1024);
    this.statements = new LruMap(options.statementCacheSize ?? 256);
    // Postgres semantics that SQLite only has as options.
    db.pragma('foreign_keys = ON');
    db.pragma('case_sensitive_like = ON');
    registerFunctions(db, {
      context: () => this.requireContext(),
      random: () => this.randomSource,
      serverVersion: this.serverVersion,
    });
    this.catalog = new Catalog(db, this.logger);
    registerCatalogFunctions(db, {
      model: () => this.catalog.current(),
      user: () => this.activeContext?.session?.user ?? this.catalog.currentUser(),
    });
    this.schemaVersionStatement = db.prepare('SELECT schema_version FROM pragma_schema_version').pluck();
    // table_xinfo, not table_info: generated columns (hidden 2, 3) are columns too (RETURNING *).
    this.tableInfoStatement = db.prepare('SELECT name, type FROM pragma_table_xinfo(?) WHERE hidden <> 1 ORDER BY cid');
    this.tableExistsStatement = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").pluck();
  }

  // ---------------------------------------------------------------------------
  // Public API.

  /** Parses (cached) without translating: kinds, parameter counts, SET/transaction commands. */
  parse(sql: string): readonly ParsedStatement[] {
    return parseSql(sql);
  }

  /** Translates every statement of `sql` against the current schema (cached). */
  translate(sql: string): TranslatedStatement[] {
    return parseSql(sql).map((statement) => this.translateParsed(statement));
  }

  /** Runs exactly one statement with bound parameters (the extended protocol). */
  execute(sql: string, params: readonly SqlValue[], ctx: ExecContext): QueryResult {
    const statements = parseSql(sql);
    if (statements.length > 1) throw new SqlError('42601', 'cannot insert multiple commands into a prepared statement');
    const statement = statements[0];
    if (statement === undefined) return { command: '', rowCount: 0, fields: null, rows: [] };
    return this.executeTranslated(this.translateParsed(statement), params, ctx);
  }

  /** Runs every statement of a simple-protocol query string, stopping at the first error. */
  executeBatch(sql: string, ctx: ExecContext): BatchResult {
    const results: QueryResult[] = [];
    try {
      const statements = parseSql(sql);
      if (statements.length > MAX_STATEMENTS_PER_QUERY) throw new SqlError('54000', `more than ${MAX_STATEMENTS_PER_QUERY} statements in one query`);
      // Translate each statement just before it runs: an earlier one may change the schema.
      for (const statement of statements) results.push(this.executeTranslated(this.translateParsed(statement), [], ctx));
      return { results };
    } catch (error) {
      return { results, error: toSqlError(error) };
    }
  }

  /** Runs a statement translateParsed just returned (so the caches match the schema). */
  private executeTranslated(translated: TranslatedStatement, params: readonly SqlValue[], ctx: ExecContext): QueryResult {
    if (params.length < translated.paramCount) {
      throw new SqlError('08P01', `bind message supplies ${params.length} parameters, but prepared statement requires ${translated.paramCount}`);
    }
    if (translated.session !== undefined) return this.sessionResult(translated.session, ctx);
    const skip = this.transactionNoOp(translated);
    if (skip !== null) return skip;
    this.activate(ctx);
    try {
      if (translated.readsCatalog === true) this.catalog.refresh(sessionFacts(ctx));
      return this.runSteps(translated, bindParams(params, translated, ctx.time));
    } catch (error) {
      throw toSqlError(error);
    } finally {
      this.activeContext = null;
    }
  }

  /** Parameter types and result columns of one statement, without executing it. */
  describe(sql: string): StatementDescription {
    const statements = parseSql(sql);
    if (statements.length > 1) throw new SqlError('42601', 'cannot insert multiple commands into a prepared statement');
    const statement = statements[0];
    if (statement === undefined) return { paramTypeOids: [], fields: null };
    const translated = this.translateParsed(statement);
    const paramTypeOids = translated.paramTypes.map((t, i) => translated.arrayParamOids?.get(i + 1) ?? (t === null ? UNKNOWN_TYPE_OID : PG_TYPE_OIDS[t]));
    if (!translated.returnsRows) return { paramTypeOids, fields: null };
    if (translated.session !== undefined) return { paramTypeOids, fields: showFields(translated.session) };
    const last = translated.steps[translated.steps.length - 1];
    if (last === undefined) return { paramTypeOids, fields: null };
    if (translated.readsCatalog === true) this.catalog.refresh();
    const columns = this.prepare(last.sql).columns();
    const fields = columns.map((column, i) => {
      const hint = translated.resultColumns?.[i];
      return { name: hint?.name ?? column.name, typeOid: staticTypeOid(this.declaredType(column), hint) ?? UNKNOWN_TYPE_OID };
    });
    return { paramTypeOids, fields };
  }

  // ---------------------------------------------------------------------------
  // Translation.

  private translateParsed(statement: ParsedStatement): TranslatedStatement {
    this.syncSchemaVersion();
    const cached = this.translations.get(statement.text);
    if (cached !== undefined) return cached;
    const translated = translateStatement(statement, this.schemaLookup());
    this.translations.set(statement.text, translated);
    this.logger.debug({ source: statement.text, steps: translated.steps }, 'translated statement');
    return translated;
  }

  /** SQLite's schema_version now (it changes with every DDL). */
  schemaVersion(): number {
    return Number(this.schemaVersionStatement.get());
  }

  /**
   * Empties every schema-derived cache when the schema changed since they
   * were filled. Once per statement, before its translation: the one read of
   * the schema version per statement (it is a query, and the apply path runs
   * it for every command).
   */
  private syncSchemaVersion(): void {
    const version = this.schemaVersion();
    if (version === this.cachedSchemaVersion) return;
    this.translations.clear();
    this.statements.clear();
    this.columnCache.clear();
    this.rowidTypeCache.clear();
    this.cachedSchemaVersion = version;
  }

  private schemaLookup(): SchemaLookup {
    return {
      columnsOf: (table) => {
        const catalogColumns = catalogColumnsOf(table);
        if (catalogColumns !== null) return catalogColumns;
        if (!this.columnCache.has(table)) this.columnCache.set(table, this.readColumns(table));
        return this.columnCache.get(table) ?? null;
      },
      tableSchema: (table) => this.readTableSchema(table),
      dependentsOf: (table) => this.readDependents(table),
    };
  }

  private readDependents(table: string): TableDependents {
    const rows = this.db
      .prepare(`SELECT m.name AS child, f.id AS id, f."from" AS col FROM main.sqlite_master AS m, pragma_foreign_key_list(m.name) AS f
        WHERE m.type = 'table' AND f."table" = ? COLLATE NOCASE ORDER BY m.name, f.id, f.seq`)
      .all(table) as { child: string; id: number; col: string }[];
    const keys = new Map<string, { table: string; columns: string[] }>();
    for (const row of rows) {
      const key = `${row.child}\u0000${row.id}`;
      const fk = keys.get(key) ?? { table: row.child, columns: [] };
      fk.columns.push(row.col);
      keys.set(key, fk);
    }
    // Named as the catalog names them (pg_constraint, \d).
    const foreignKeys = [...keys.values()].map((fk) => ({ table: fk.table, constraint: `${fk.table}_${fk.columns.join('_')}_fkey` }));
    return { foreignKeys, views: this.viewsReading(table) };
  }

  /**
   * Views whose query reads the table: SQLite's own plan of `SELECT * FROM view`
   * opens the b-trees it reads (the table's or one of its indexes'), so this
   * follows views of views and sees through aliases, unlike a text search.
   */
  private viewsReading(table: string): string[] {
    const rootPages = new Set(this.db
      .prepare("SELECT rootpage FROM main.sqlite_master WHERE tbl_name = ? COLLATE NOCASE AND type IN ('table', 'index') AND rootpage > 0")
      .pluck().all(table) as number[]);
    if (rootPages.size === 0) return [];
    const views = this.db.prepare("SELECT name FROM main.sqlite_master WHERE type = 'view' ORDER BY rowid").pluck().all() as string[];
    return views.filter((view) => {
      let plan: { opcode: string; p2: number; p3: number }[];
      try {
        plan = this.db.prepare(`EXPLAIN SELECT * FROM ${quoteIdent(view)}`).all() as { opcode: string; p2: number; p3: number }[];
      } catch {
        return false; // already broken (it reads a table that is gone): it cannot depend on this one
      }
      return plan.some((op) => (op.opcode === 'OpenRead' || op.opcode === 'ReopenIdx') && op.p3 === 0 && rootPages.has(op.p2));
    });
  }

  private readTableSchema(table: string): TableSchema | null {
    const createSql = this.db.prepare("SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?").pluck().get(table);
    if (typeof createSql !== 'string') return null;
    const indexesAndTriggers = this.db
      .prepare("SELECT sql FROM main.sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid")
      .pluck().all(table) as string[];
    const views = this.db.prepare("SELECT name, sql FROM main.sqlite_master WHERE type = 'view' ORDER BY rowid").all() as { name: string; sql: string }[];
    const hasPrimaryKey = this.db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE pk > 0').pluck().get(table) !== undefined;
    const referencedBy = this.db
      .prepare("SELECT DISTINCT m.name FROM main.sqlite_master AS m, pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table' AND f.\"table\" = ?")
      .pluck().all(table) as string[];
    return { createSql, indexesAndTriggers, views, hasPrimaryKey, referencedBy };
  }

  private readColumns(table: string): readonly ColumnInfo[] | null {
    const rows = this.tableInfoStatement.all(table) as { name: string; type: string }[];
    if (rows.length === 0) return null;
    const rowidTypes = this.rowidTypes(table);
    return rows.map((row) => {
      const typmods = [...row.type.matchAll(/\d+/g)].map((m) => Number(m[0]));
      return { name: row.name, pgType: rowidTypes.get(row.name) ?? lookupPgType(row.type), typmods: /\(/.test(row.type) ? typmods : [], declared: row.type };
    });
  }

  /** BIGSERIAL/SMALLSERIAL-like keys of a table (declared INTEGER for SQLite), cached until the schema changes. */
  private rowidTypes(table: string): Map<string, PgType> {
    let types = this.rowidTypeCache.get(table);
    if (types === undefined) {
      const sql = this.db.prepare("SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?").pluck().get(table);
      types = typeof sql === 'string' ? rowidColumnTypes(sql) : new Map<string, PgType>();
      this.rowidTypeCache.set(table, types);
    }
    return types;
  }

  /** A result column's declared type, with a BIGSERIAL key's real type instead of SQLite's INTEGER. */
  private declaredType(column: Database.ColumnDefinition): string | null {
    if (column.type?.toUpperCase() !== 'INTEGER' || column.table === null || column.column === null) return column.type;
    return this.rowidTypes(column.table).get(column.column) ?? column.type;
  }

  // ---------------------------------------------------------------------------
  // Execution.

  private requireContext(): ExecContext {
    if (this.activeContext === null) throw new SqlError('XX000', 'a function that needs the execution context ran outside execute()');
    return this.activeContext;
  }

  /** Installs the context; a new seed restarts the random stream, the same seed continues it. */
  private activate(ctx: ExecContext): void {
    if (!Number.isFinite(ctx.time)) throw new SqlError('XX000', 'execution context time must be a finite number');
    const seed = BigInt(ctx.seed);
    if (this.randomSeed !== seed) {
      this.randomSource = new SeededRandom(seed);
      this.randomSeed = seed;
    }
    this.activeContext = ctx;
  }

  /** A prepared step; callers have synced the schema version (translateParsed does). */
  private prepare(sql: string): Database.Statement {
    const cached = this.statements.get(sql);
    if (cached !== undefined) return cached;
    let statement: Database.Statement;
    try {
      statement = this.db.prepare(sql);
    } catch (error) {
      throw toSqlError(error);
    }
    this.statements.set(sql, statement);
    return statement;
  }

  private runSteps(translated: TranslatedStatement, bind: Record<string, BindValue>): QueryResult {
    const steps = translated.steps;
    // A statement fails or succeeds as a whole, and the apply worker relies on
    // it. One SQLite statement is atomic by itself; several steps (DROP TABLE
    // a, b) are not, nor is a write whose returned rows are converted after it
    // ran (INSERT … RETURNING: a conversion error must undo the insert).
    const atomic = steps.length > 1 || (translated.returnsRows && translated.kind !== 'read');
    if (atomic) this.db.exec('SAVEPOINT paxosql_statement');
    try {
      let result: QueryResult = { command: '', rowCount: 0, fields: null, rows: [] };
      let changes = 0;
      for (const [index, step] of steps.entries()) {
        if (step.onlyIfTableExists !== undefined && this.tableExistsStatement.get(step.onlyIfTableExists) === undefined) continue;
        const statement = this.prepare(step.sql);
        const isLast = index === steps.length - 1;
        if (isLast && statement.reader) {
          result = this.readRows(statement, translated, bind);
        } else {
          changes = statement.run(...(statement.reader || Object.keys(bind).length === 0 ? [] : [bind])).changes;
          if (isLast) result = { command: '', rowCount: changes, fields: null, rows: [] };
        }
      }
      if (atomic) this.db.exec('RELEASE paxosql_statement');
      return { ...result, command: commandTag(translated, result.rowCount) };
    } catch (error) {
      if (atomic && this.db.inTransaction) {
        this.db.exec('ROLLBACK TO paxosql_statement');
        this.db.exec('RELEASE paxosql_statement');
      }
      throw error;
    }
  }

  private readRows(statement: Database.Statement, translated: TranslatedStatement, bind: Record<string, BindValue>): QueryResult {
    statement.safeIntegers(true);
    statement.raw(true);
    const raw = (Object.keys(bind).length === 0 ? statement.all() : statement.all(bind)) as unknown[][];
    const columns = statement.columns();
    const types = columns.map((column, i) => {
      const hint = translated.resultColumns?.[i];
      const oid = staticTypeOid(this.declaredType(column), hint) ?? runtimeOid(raw, i);
      return { name: hint?.name ?? column.name, typeOid: oid, scale: numericScale(column.type) };
    });
    const rows = raw.map((row) => types.map((type, i) => toPgValue(row[i], type.typeOid, type.scale)));
    return { command: '', rowCount: rows.length, fields: types.map(({ name, typeOid }) => ({ name, typeOid })), rows };
  }

  /** COMMIT/ROLLBACK outside a transaction and BEGIN inside one only warn in Postgres. */
  private transactionNoOp(translated: TranslatedStatement): QueryResult | null {
    const action = translated.transaction?.action;
    if (action === undefined) return null;
    const tag = translated.tag.type === 'fixed' ? translated.tag.tag : action.toUpperCase();
    const inTransaction = this.db.inTransaction;
    if ((action === 'commit' || action === 'rollback') && !inTransaction) return { command: tag, rowCount: 0, fields: null, rows: [] };
    if (action === 'begin' && inTransaction) return { command: tag, rowCount: 0, fields: null, rows: [] };
    if ((action === 'savepoint' || action === 'release' || action === 'rollback_to') && !inTransaction) {
      throw new SqlError('25P01', `${tag} can only be used in transaction blocks`);
    }
    return null;
  }

  private sessionResult(command: SessionCommand, ctx: ExecContext): QueryResult {
    if (command.action === 'maintenance') {
      if (!command.inTransactionBlock && this.db.inTransaction) throw maintenanceInTransactionBlock(command.tag);
      return { command: command.tag, rowCount: 0, fields: null, rows: [] };
    }
    if (command.action !== 'show') return { command: command.action.toUpperCase(), rowCount: 0, fields: null, rows: [] };
    if (command.name === 'all') return this.showAll(ctx);
    const value = this.settingValue(command.name, ctx);
    if (value === undefined) throw new SqlError('42704', `unrecognized configuration parameter "${command.name}"`);
    return { command: 'SHOW', rowCount: 1, fields: [{ name: showColumnName(command.name), typeOid: PG_TYPE_OIDS.text }], rows: [[value]] };
  }

  private settingValue(name: string, ctx: ExecContext): string | undefined {
    return ctx.session?.settings?.[name] ?? (name === 'server_version' ? this.serverVersion : DEFAULT_SETTINGS[name]);
  }

  /** SHOW ALL: every known setting with the session's value, as Postgres' name/setting/description rows. */
  private showAll(ctx: ExecContext): QueryResult {
    const names = [...new Set([...Object.keys(DEFAULT_SETTINGS), ...Object.keys(ctx.session?.settings ?? {})])].sort();
    const rows = names.map((name) => [name, this.settingValue(name, ctx) ?? '', '']);
    return { command: 'SHOW', rowCount: rows.length, fields: showFields({ action: 'show', name: 'all' }), rows };
  }
}

const DEFAULT_SESSION_FACTS: SessionFacts = { user: 'paxosql', database: 'paxosql' };

function sessionFacts(ctx: ExecContext): SessionFacts {
  return { user: ctx.session?.user ?? DEFAULT_SESSION_FACTS.user, database: ctx.session?.database ?? DEFAULT_SESSION_FACTS.database };
}

function showFields(command: SessionCommand): FieldInfo[] {
  if (command.action !== 'show') return [{ name: '', typeOid: UNKNOWN_TYPE_OID }];
  if (command.name !== 'all') return [{ name: showColumnName(command.name), typeOid: PG_TYPE_OIDS.text }];
  return ['name', 'setting', 'description'].map((name) => ({ name, typeOid: PG_TYPE_OIDS.text }));
}

/** Column types of catalog relations, for inferring parameter and expression types. */
function catalogColumnsOf(table: string): readonly ColumnInfo[] | null {
  const [schema, name] = table.includes('.') ? table.split('.', 2) : [undefined, table];
  const def = findCatalogTable(schema, name ?? '');
  if (def === null) return null;
  return def.columns.map((column) => ({ name: column.name, pgType: pgTypeOfCatalogColumn(column.type), typmods: [], declared: column.type }));
}

/** A result column's type OID known before looking at values: declared type, then the translator's inference. */
function staticTypeOid(declared: string | null | undefined, hint: ResultColumnHint | undefined): number | null {
  return oidOfDeclaredType(declared) ?? oidOfCatalogDeclaredType(declared) ?? hint?.typeOid ??
    (hint?.pgType != null ? PG_TYPE_OIDS[hint.pgType] : null);
}

/**
 * A column whose type only its values tell (a subquery's or CTE's computed
 * column) is typed by all of them, not the first: integers and fractions
 * together are float8 (an int8 column holding '2.5' breaks clients that parse
 * it as an integer, or truncates it); anything else mixed is text.
 */
function runtimeOid(rows: readonly unknown[][], column: number): number {
  let oid = UNKNOWN_TYPE_OID;
  for (const row of rows) {
    const value = row[column];
    if (value === null || value === undefined) continue;
    const next = oidOfRuntimeValue(value);
    if (oid === UNKNOWN_TYPE_OID || oid === next) oid = next;
    else if (isNumberOid(oid) && isNumberOid(next)) oid = PG_TYPE_OIDS.float8;
    else return PG_TYPE_OIDS.text;
  }
  return oid;
}

function isNumberOid(oid: number): boolean {
  return oid === PG_TYPE_OIDS.int8 || oid === PG_TYPE_OIDS.float8;
}

/** `$n` parameters are SQLite named parameters; booleans and bytes need SQLite forms. */
function bindParams(params: readonly SqlValue[], translated: TranslatedStatement, time: number): Record<string, BindValue> {
  const bind: Record<string, BindValue> = {};
  for (let n = 1; n <= translated.paramCount; n++) {
    const value = params[n - 1];
    if (value === undefined) continue;
    bind[String(n)] = typeof value === 'boolean' ? (value ? 1n : 0n)
      : value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength)
      : typeof value === 'string' ? dateTimeParam(value, translated.paramTypes[n - 1] ?? null, time)
      : value;
  }
  return bind;
}

/**
 * A date/time parameter, parsed as a literal of its type would be. The wire
 * leaves 'now' and 'today' for this step: here the statement's time (the
 * leader's, the same on every replica) is known.
 */
function dateTimeParam(value: string, pgType: PgType | null, time: number): string {
  if (pgType !== 'date' && pgType !== 'timestamp' && pgType !== 'timestamptz') return value;
  return String(coerceToPgType(value, pgType, [], time));
}

function commandTag(translated: TranslatedStatement, rowCount: number): string {
  const tag = translated.tag;
  if (tag.type === 'fixed') return tag.tag;
  return tag.verb === 'INSERT' ? `INSERT 0 ${rowCount}` : `${tag.verb} ${rowCount}`;
}
