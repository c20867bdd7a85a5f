// A small in-memory backend for the wire protocol tests: better-sqlite3
// `:memory:` runs the SQL nearly verbatim. It is not a SQL engine; it knows
// just enough Postgres to exercise the protocol:
//  - `$n` parameters become SQLite `?n`; `expr::type` casts are stripped, but
//    `$n::type` types parameter n and `::type AS name` types result column name;
//  - result column types come from declared table column types, then cast
//    hints, then (simple query only) the JavaScript type of the first value;
//  - BEGIN/COMMIT/ROLLBACK only track the transaction status byte;
//  - SET/SHOW, COPY FROM STDIN/TO STDOUT, pg_sleep (cancellable),
//    raise_notice('...'), boom() (throws a plain Error), and the array-type
//    query postgres.js sends at connect are special-cased.

import Database from 'better-sqlite3';
import { SqlError, type FieldInfo, type QueryResult, type SqlValue } from '../../../src/sql/types.js';
import type {
  Backend,
  CopyInSink,
  PreparedStatement,
  SessionBackend,
  SessionEvents,
  SessionInfo,
  StatementOutcome,
  TransactionStatus,
} from '../../../src/pgwire/backend.js';
import { parseCopyStatement, type CopyStatement } from '../../../src/pgwire/copy.js';
import { TypeOid } from '../../../src/pgwire/types.js';

const TYPE_NAMES: Record<string, number> = {
  bool: TypeOid.bool,
  boolean: TypeOid.bool,
  bytea: TypeOid.bytea,
  int8: TypeOid.int8,
  bigint: TypeOid.int8,
  int2: TypeOid.int2,
  smallint: TypeOid.int2,
  int4: TypeOid.int4,
  int: TypeOid.int4,
  integer: TypeOid.int4,
  text: TypeOid.text,
  oid: TypeOid.oid,
  json: TypeOid.json,
  jsonb: TypeOid.jsonb,
  float4: TypeOid.float4,
  real: TypeOid.float4,
  float8: TypeOid.float8,
  'double precision': TypeOid.float8,
  bpchar: TypeOid.bpchar,
  char: TypeOid.bpchar,
  varchar: TypeOid.varchar,
  date: TypeOid.date,
  timestamp: TypeOid.timestamp,
  timestamptz: TypeOid.timestamptz,
  numeric: TypeOid.numeric,
  decimal: TypeOid.numeric,
  uuid: TypeOid.uuid,
};

/** Parameters whose changes are reported to the client (GUC_REPORT in Postgres). */
const REPORTED_PARAMETERS = new Set(['application_name', 'DateStyle', 'TimeZone', 'client_encoding', 'IntervalStyle']);

export function typeOidFor(declared: string | null | undefined): number | undefined {
  if (declared === null || declared === undefined) return undefined;
  return TYPE_NAMES[declared.toLowerCase().replace(/\(.*\)$/, '').trim()];
}

/** The translated statement kept in PreparedStatement.handle. */
interface FakeStatement {
  readonly sql: string;
}

export class FakeBackend implements Backend {
  readonly db = new Database(':memory:');
  readonly sessions = new Set<FakeSession>();
  /** Sessions opened so far (tests await cancellation and closing through them). */
  opened = 0;
  /** The last statements received through simpleQuery or prepare, newest last. */
  readonly seen: string[] = [];

  /** Statements received in total (simpleQuery and prepare calls). */
  recorded = 0;

  record(sql: string): void {
    this.recorded++;
    this.seen.push(sql);
    if (this.seen.length > 200) this.seen.shift();
  }

  async openSession(info: SessionInfo, events: SessionEvents): Promise<SessionBackend> {
    if (info.user === 'refused') throw new SqlError('28000', 'this role may not log in');
    const session = new FakeSession(this, events);
    this.sessions.add(session);
    this.opened++;
    return session;
  }

  close(): void {
    this.db.close();
  }
}

export class FakeSession implements SessionBackend {
  private status: TransactionStatus = 'I';
  private readonly settings = new Map<string, string>();
  private cancelSleep: (() => void) | null = null;
  closed = false;

  constructor(
    private readonly backend: FakeBackend,
    private readonly events: SessionEvents,
  ) {}

  async *simpleQuery(sql: string): AsyncIterable<StatementOutcome> {
    this.backend.record(sql);
    const statements = splitStatements(sql);
    if (statements.length === 0) {
      yield { type: 'empty' };
      return;
    }
    for (const statement of statements) {
      let outcome: StatementOutcome;
      try {
        outcome = await this.runStatement(statement, [], true);
      } catch (err) {
        this.markFailed();
        if (err instanceof SqlError) {
          yield { type: 'error', error: err };
          return;
        }
        throw err;
      }
      yield outcome;
    }
  }

  async prepare(sql: string, paramTypes: readonly number[]): Promise<PreparedStatement> {
    this.backend.record(sql);
    const hints = castHints(sql);
    const count = countParams(sql);
    const inferred = insertParamTypes(this.backend.db, sql);
    const types = Array.from({ length: count }, (_, i) => {
      const declared = paramTypes[i] ?? 0;
      return declared !== 0 ? declared : (hints.params.get(i + 1) ?? inferred.get(i + 1) ?? TypeOid.text);
    });
    const special = specialFields(sql);
    if (special !== undefined) return { paramTypes: types, fields: special, handle: { sql } satisfies FakeStatement };
    const translated = translate(sql);
    try {
      const stmt = this.backend.db.prepare(translated);
      const fields = stmt.reader ? stmt.columns().map((c) => ({ name: c.name, typeOid: columnType(c.type, c.name, hints) ?? TypeOid.text })) : null;
      return { paramTypes: types, fields, handle: { sql } satisfies FakeStatement };
    } catch (err) {
      throw toSqlError(err);
    }
  }

  async execute(statement: PreparedStatement, params: readonly SqlValue[]): Promise<QueryResult> {
    const { sql } = statement.handle as FakeStatement;
    try {
      const outcome = await this.runStatement(sql, params, false);
      if (outcome.type !== 'result') throw new SqlError('0A000', 'COPY is not supported in the extended protocol');
      return outcome.result;
    } catch (err) {
      this.markFailed();
      throw err;
    }
  }

  transactionStatus(): TransactionStatus {
    return this.status;
  }

  statementFailed(): void {
    this.markFailed();
  }

  /** True while a pg_sleep runs (tests wait for it before cancelling). */
  get sleeping(): boolean {
    return this.cancelSleep !== null;
  }

  cancel(): void {
    this.cancelSleep?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.backend.sessions.delete(this);
  }

  private markFailed(): void {
    if (this.status === 'T') this.status = 'E';
  }

  private async runStatement(sql: string, params: readonly SqlValue[], inferTypes: boolean): Promise<StatementOutcome> {
    const trimmed = sql.trim().replace(/;\s*$/, '');
    const keyword = (/^\s*(\w+)/.exec(trimmed)?.[1] ?? '').toUpperCase();
    if (this.status === 'E' && keyword !== 'ROLLBACK' && keyword !== 'COMMIT') {
      throw new SqlError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
    }
    const result = (command: string, fields: FieldInfo[] | null = null, rows: SqlValue[][] = []): StatementOutcome => ({
      type: 'result',
      result: { command, rowCount: rows.length, fields, rows },
    });
    if (keyword === 'BEGIN' || /^start\s+transaction/i.test(trimmed)) {
      this.status = 'T';
      return result('BEGIN');
    }
    if (keyword === 'COMMIT' || keyword === 'ROLLBACK') {
      const failed = this.status === 'E';
      this.status = 'I';
      return result(failed ? 'ROLLBACK' : keyword);
    }
    const set = /^set\s+(?:session\s+)?([\w.]+)\s*(?:=|to)\s*'?([^']*)'?$/i.exec(trimmed);
    if (set) {
      const name = [...REPORTED_PARAMETERS].find((p) => p.toLowerCase() === set[1]!.toLowerCase()) ?? set[1]!;
      this.settings.set(name.toLowerCase(), set[2]!);
      if (REPORTED_PARAMETERS.has(name)) this.events.parameterStatus(name, set[2]!);
      return result('SET');
    }
    const show = /^show\s+([\w.]+)$/i.exec(trimmed);
    if (show) {
      const value = this.settings.get(show[1]!.toLowerCase()) ?? '';
      return result('SHOW', [{ name: show[1]!, typeOid: TypeOid.text }], [[value]]);
    }
    const copy = parseCopyStatement(trimmed);
    if (copy !== undefined) return this.copy(copy);
    const special = await this.special(trimmed);
    if (special !== undefined) return special;
    return this.sqlite(trimmed, params, inferTypes);
  }

  private async special(sql: string): Promise<StatementOutcome | undefined> {
    const fields = specialFields(sql);
    if (fields === undefined) return undefined;
    const one = (rows: SqlValue[][]): StatementOutcome => ({
      type: 'result',
      result: { command: `SELECT ${rows.length}`, rowCount: rows.length, fields, rows },
    });
    if (/pg_catalog\.pg_type/i.test(sql)) return one([[25, 1009], [23, 1007]]);
    const sleep = /pg_sleep\(([\d.]+)\)/i.exec(sql);
    if (sleep) {
      await this.sleep(Number(sleep[1]) * 1000);
      return one([['']]);
    }
    const notice = /raise_notice\('([^']*)'\)/i.exec(sql);
    if (notice) {
      this.events.notice({ severity: 'NOTICE', code: '00000', message: notice[1]! });
      return one([['']]);
    }
    throw new Error('boom: the fake backend failed on purpose');
  }

  /** Sleeps until the timeout or a cancel; a cancel fails the statement with 57014. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.cancelSleep = null;
        resolve();
      }, ms);
      this.cancelSleep = () => {
        clearTimeout(timer);
        this.cancelSleep = null;
        reject(new SqlError('57014', 'canceling statement due to user request'));
      };
    });
  }

  private sqlite(sql: string, params: readonly SqlValue[], inferTypes: boolean): StatementOutcome {
    const db = this.backend.db;
    const hints = castHints(sql);
    const keyword = (/^\s*(\w+)/.exec(sql)?.[1] ?? '').toUpperCase();
    try {
      const stmt = db.prepare(translate(sql));
      // Parameters are bound by name (@p1, @p2...) because SQLite numbers `?NNN` sparsely.
      const bound: Record<string, unknown>[] = params.length === 0 ? [] : [Object.fromEntries(params.map((v, i) => [`p${i + 1}`, toSqlite(v)]))];
      if (!stmt.reader) {
        const info = stmt.run(...bound);
        return { type: 'result', result: { command: commandTag(sql, info.changes), rowCount: info.changes, fields: null, rows: [] } };
      }
      stmt.raw(true).safeIntegers(true);
      const rows = (stmt.all(...bound) as unknown[][]).map((row) => row.map(fromSqlite));
      const fields = stmt.columns().map((c, i) => ({
        name: c.name,
        typeOid: columnType(c.type, c.name, hints) ?? (inferTypes ? inferType(rows, i) : TypeOid.text),
      }));
      const command = ['INSERT', 'UPDATE', 'DELETE'].includes(keyword) ? commandTag(sql, rows.length) : `SELECT ${rows.length}`;
      return { type: 'result', result: { command, rowCount: rows.length, fields, rows } };
    } catch (err) {
      throw toSqlError(err);
    }
  }

  private copy(copy: CopyStatement): StatementOutcome {
    const db = this.backend.db;
    const tableColumns = (db.prepare(`PRAGMA table_info(${quoteIdent(copy.table)})`).all() as { name: string; type: string }[]);
    if (tableColumns.length === 0) throw new SqlError('42P01', `relation "${copy.table}" does not exist`);
    const columns = copy.columns ?? tableColumns.map((c) => c.name);
    const types = columns.map((c) => typeOidFor(tableColumns.find((t) => t.name === c)?.type) ?? TypeOid.text);
    if (copy.direction === 'to-stdout') {
      const rows = (db.prepare(`SELECT ${columns.map(quoteIdent).join(', ')} FROM ${quoteIdent(copy.table)}`).raw(true).all() as unknown[][]).map(
        (r) => r.map(fromSqlite),
      );
      return { type: 'copyOut', format: copy.format, fields: columns.map((name, i) => ({ name, typeOid: types[i]! })), rows };
    }
    const insert = db.prepare(`INSERT INTO ${quoteIdent(copy.table)} (${columns.map(quoteIdent).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
    let count = 0;
    let aborted = false;
    const sink: CopyInSink = {
      format: copy.format,
      columnCount: columns.length,
      writeRows: async (rows) => {
        if (aborted) throw new Error('write after abort');
        db.transaction(() => {
          for (const row of rows) insert.run(...row);
        })();
        count += rows.length;
      },
      finish: async () => ({ command: `COPY ${count}`, rowCount: count, fields: null, rows: [] }),
      abort: async () => {
        aborted = true;
      },
    };
    return { type: 'copyIn', sink };
  }
}

/** Result fields of the special-cased statements, or undefined for ordinary SQL. */
function specialFields(sql: string): FieldInfo[] | undefined {
  if (/pg_catalog\.pg_type/i.test(sql)) {
    return [
      { name: 'oid', typeOid: TypeOid.oid },
      { name: 'typarray', typeOid: TypeOid.oid },
    ];
  }
  if (/\bpg_sleep\(|\braise_notice\(/i.test(sql)) return [{ name: 'result', typeOid: TypeOid.text }];
  if (/\bboom\(\)/i.test(sql)) return [{ name: 'boom', typeOid: TypeOid.text }];
  return undefined;
}

/** Splits on semicolons outside quotes; drops empty statements. */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      current += ch;
    } else if (ch === ';') {
      if (current.trim() !== '') out.push(current.trim());
      current = '';
    } else {
      current += ch;
    }
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

/** Type hints from casts: `$n::type` types a parameter, `::type AS name` a result column. */
function castHints(sql: string): { params: Map<number, number>; columns: Map<string, number> } {
  const params = new Map<number, number>();
  const columns = new Map<string, number>();
  for (const m of sql.matchAll(/\$(\d+)::(\w+)/g)) {
    const oid = typeOidFor(m[2]);
    if (oid !== undefined) params.set(Number(m[1]), oid);
  }
  for (const m of sql.matchAll(/::(\w+)\s+as\s+"?(\w+)"?/gi)) {
    const oid = typeOidFor(m[1]);
    if (oid !== undefined) columns.set(m[2]!, oid);
  }
  return { params, columns };
}

/** For `INSERT INTO t (a, b) VALUES ($1, $2)`, parameter n takes the declared type of its column. */
function insertParamTypes(db: Database.Database, sql: string): Map<number, number> {
  const types = new Map<number, number>();
  const m = /^\s*insert\s+into\s+(\w+)\s*\(([^)]*)\)\s*values\s*\(([^)]*)\)/i.exec(sql);
  if (!m) return types;
  const info = db.prepare(`PRAGMA table_info(${quoteIdent(m[1]!)})`).all() as { name: string; type: string }[];
  const columns = m[2]!.split(',').map((c) => c.trim());
  m[3]!.split(',').forEach((value, i) => {
    const param = /^\s*\$(\d+)\s*$/.exec(value);
    const oid = typeOidFor(info.find((c) => c.name === columns[i])?.type);
    if (param && oid !== undefined) types.set(Number(param[1]), oid);
  });
  return types;
}

function countParams(sql: string): number {
  let max = 0;
  for (const m of sql.matchAll(/\$(\d+)/g)) max = Math.max(max, Number(m[1]));
  return max;
}

function translate(sql: string): string {
  return sql.replace(/::\w+(\(\d+(,\s*\d+)?\))?/g, '').replace(/\$(\d+)/g, '@p$1');
}

function columnType(declared: string | null, name: string, hints: ReturnType<typeof castHints>): number | undefined {
  return typeOidFor(declared) ?? hints.columns.get(name);
}

function inferType(rows: readonly (readonly SqlValue[])[], column: number): number {
  const value = rows.find((r) => r[column] !== null)?.[column];
  if (typeof value === 'bigint') return value >= -2147483648n && value <= 2147483647n ? TypeOid.int4 : TypeOid.int8;
  if (typeof value === 'number') return TypeOid.float8;
  if (value instanceof Uint8Array) return TypeOid.bytea;
  return TypeOid.text;
}

function toSqlite(value: SqlValue): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Uint8Array) return Buffer.from(value);
  return value;
}

function fromSqlite(value: unknown): SqlValue {
  if (value === null || typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint') return value;
  if (value instanceof Uint8Array) return value;
  throw new Error(`unexpected SQLite value ${String(value)}`);
}

function commandTag(sql: string, changes: number): string {
  const words = sql.trim().split(/\s+/).map((w) => w.toUpperCase());
  switch (words[0]) {
    case 'INSERT':
      return `INSERT 0 ${changes}`;
    case 'UPDATE':
    case 'DELETE':
      return `${words[0]} ${changes}`;
    case 'CREATE':
    case 'DROP':
    case 'ALTER':
      return `${words[0]} ${words[1] === 'UNIQUE' ? 'INDEX' : words[1]}`;
    default:
      return words[0] ?? '';
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** SQLite errors become Postgres-looking ones so clients see a SQLSTATE. */
function toSqlError(err: unknown): SqlError {
  if (err instanceof SqlError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/no such table/.test(message)) return new SqlError('42P01', message);
  if (/UNIQUE constraint/.test(message)) return new SqlError('23505', message);
  if (/syntax error|incomplete input/.test(message)) return new SqlError('42601', message);
  if (/no such column/.test(message)) return new SqlError('42703', message);
  return new SqlError('XX000', message);
}
