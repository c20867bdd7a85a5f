// A client session on a node: the wire layer's SessionBackend, answered from
// the replicated database. Writes go through the log (forwarded to the leader
// by the core when this node follows); reads wait for a read index unless the
// session chose weaker consistency, then run on the read pool.

import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type {
  Backend,
  CopyInSink,
  PreparedStatement,
  SessionBackend,
  SessionEvents,
  SessionInfo,
  StatementOutcome,
  TransactionStatus,
} from '../pgwire/backend.js';
import { parseCopyStatement, type CopyStatement } from '../pgwire/copy.js';
import { maintenanceInTransactionBlock, readOnlyTransaction } from '../sql/errors.js';
import type { ExecContext } from '../sql/functions.js';
import { commandName, initParser, parseSql, showColumnName, type CursorCommand, type ParsedStatement, type SessionCommand, type TransactionCommand } from '../sql/parse.js';
import { SqlError, type FieldInfo, type QueryResult, type SqlValue } from '../sql/types.js';
import type { ClusterNode } from './node.js';
import type { Snapshot } from './snapshot-readers.js';

export type ReadConsistency = 'linearizable' | 'lease' | 'local';
const CONSISTENCY_SETTING = 'paxosql.read_consistency';
/** `SHOW paxosql.status`: this node's role, ballot, commit and applied slot, as JSON. */
const STATUS_SETTING = 'paxosql.status';
/** `SHOW paxosql.checksum`: a digest of every row of this replica, and the slot it reflects. */
const CHECKSUM_SETTING = 'paxosql.checksum';

/** Settings clients are told about (ParameterStatus) when they change. */
/** TimeZone values that are UTC, which paxosql always uses. */
const UTC_ZONES = /^(utc|gmt|z|zulu|etc\/(utc|gmt|uct|zulu)|uct|universal|[+-]?0+(:00)?|gmt[+-]?0)$/i;
const REPORTED = new Set(['application_name', 'client_encoding', 'datestyle', 'timezone', 'intervalstyle', 'standard_conforming_strings']);
const REPORTED_NAMES: Record<string, string> = { datestyle: 'DateStyle', timezone: 'TimeZone', intervalstyle: 'IntervalStyle' };

/** Rows per log command while copying in: big enough to amortise, small enough for one entry. */
const COPY_ROWS_PER_COMMAND = 500;

interface Handle {
  readonly sql: string;
  readonly statement: ParsedStatement | null;
}

export class ClusterBackend implements Backend {
  constructor(
    private readonly node: ClusterNode,
    private readonly logger: Logger,
  ) {}

  async openSession(info: SessionInfo, events: SessionEvents): Promise<SessionBackend> {
    await initParser();
    return new ClusterSession(this.node, info, events, this.logger.child({ conn: info.connectionId }));
  }
}

class ClusterSession implements SessionBackend {
  private readonly session: number;
  private seq = 0;
  private readonly settings = new Map<string, string>();
  private consistency: ReadConsistency = 'linearizable';
  private running: AbortController | null = null;
  /** Explicit transaction: none, open, or failed (statements refused until ROLLBACK). */
  private tx: 'idle' | 'open' | 'failed' = 'idle';
  /** Some statement of the open transaction reached the leader (so it holds the write token). */
  private txStarted = false;
  /** The open transaction has only read so far, on this snapshot of the local replica. */
  private snapshot: Snapshot | null = null;
  /** The open transaction refuses writes (BEGIN READ ONLY, SET TRANSACTION READ ONLY, default_transaction_read_only). */
  private txReadOnly = false;
  /** A query ran in the open transaction, so it may no longer become READ WRITE (25001, as in Postgres). */
  private txQueried = false;
  /**
   * The open transaction is the implicit one of a Query message holding
   * several statements: it commits at the end of the string, and a failing
   * statement rolls it back (a BEGIN in the string makes it explicit).
   */
  private implicit = false;
  /** Settings when the open transaction began (ROLLBACK restores them), and what its SET LOCALs replaced. */
  private settingsAtBegin: { readonly settings: ReadonlyMap<string, string>; readonly consistency: ReadConsistency } | null = null;
  private localSettingsBefore: Map<string, string | undefined> | null = null;
  /** Cursors (DECLARE … CURSOR): their rows, read when declared, and how far FETCH got. */
  private readonly cursors = new Map<string, Cursor>();

  constructor(
    private readonly node: ClusterNode,
    private readonly info: SessionInfo,
    private readonly events: SessionEvents,
    private readonly logger: Logger,
  ) {
    this.session = node.newSession();
    for (const [k, v] of info.startupParameters) this.settings.set(k.toLowerCase(), v);
  }

  async *simpleQuery(sql: string): AsyncIterable<StatementOutcome> {
    let statements: readonly ParsedStatement[];
    try {
      statements = parseSql(sql);
    } catch (error) {
      yield { type: 'error', error: asSqlError(error) };
      return;
    }
    if (statements.length === 0) {
      yield { type: 'empty' };
      return;
    }
    // Postgres runs the statements of one Query as one implicit transaction
    // (a single statement is one by itself: it keeps its fast path).
    const several = statements.length > 1;
    try {
      for (const statement of statements) {
        if (several && this.tx === 'idle' && statement.kind !== 'transaction') this.beginTransaction(this.defaultReadOnly(), true);
        let outcome: StatementOutcome;
        try {
          outcome = await this.statementOutcome(statement);
        } catch (error) {
          yield { type: 'error', error: asSqlError(error) };
          return;
        }
        yield outcome;
      }
      if (this.implicit) await this.endTransaction('commit');
    } catch (error) {
      yield { type: 'error', error: asSqlError(error) };
    } finally {
      // A statement (or the client's COPY data) failed, or the client went away: nothing of the string stays.
      if (this.implicit) await this.endTransaction('rollback');
    }
  }

  private async statementOutcome(statement: ParsedStatement): Promise<StatementOutcome> {
    const copy = statement.nodeType === 'CopyStmt' ? parseCopyStatement(statement.text) : undefined;
    if (copy === undefined) return { type: 'result', result: await this.run(statement, statement.text, []) };
    if (this.tx === 'failed') throw abortedError();
    return this.copy(copy);
  }

  /** A failure here aborts an open transaction through statementFailed(), which the wire layer calls for every failed extended-protocol message. */
  async prepare(sql: string, paramTypes: readonly number[]): Promise<PreparedStatement> {
    const statements = parseSql(sql);
    if (statements.length > 1) throw new SqlError('42601', 'cannot insert multiple commands into a prepared statement');
    const statement = statements[0] ?? null;
    if (this.tx === 'failed' && statement?.kind !== 'transaction') throw abortedError();
    const handle: Handle = { sql, statement };
    if (statement?.kind === 'cursor') return this.describeCursorCommand(statement.cursor as CursorCommand, paramTypes, handle);
    if (statement === null || statement.kind === 'session' || statement.kind === 'transaction') {
      return { paramTypes: paramTypes.map((t) => (t === 0 ? 25 : t)), fields: statement?.session?.action === 'show' ? [{ name: showColumnName(statement.session.name), typeOid: 25 }] : null, handle };
    }
    const described = await this.node.describe(sql);
    const types = described.paramTypeOids.map((oid, i) => (paramTypes[i] !== undefined && paramTypes[i] !== 0 ? paramTypes[i] : oid === 0 ? 25 : oid));
    return { paramTypes: types, fields: described.fields, handle };
  }

  /** DECLARE takes its query's parameters; FETCH returns the cursor's columns. */
  private async describeCursorCommand(command: CursorCommand, paramTypes: readonly number[], handle: Handle): Promise<PreparedStatement> {
    if (command.action === 'declare') {
      const described = await this.node.describe(command.query);
      const types = described.paramTypeOids.map((oid, i) => (paramTypes[i] !== undefined && paramTypes[i] !== 0 ? paramTypes[i] : oid === 0 ? 25 : oid));
      return { paramTypes: types, fields: null, handle };
    }
    const fetched = command.action === 'fetch' && !command.move ? this.cursors.get(command.name) : undefined;
    return { paramTypes: [], fields: fetched?.fields ?? null, handle };
  }

  async execute(prepared: PreparedStatement, params: readonly SqlValue[]): Promise<QueryResult> {
    const handle = prepared.handle as Handle;
    if (handle.statement === null) return { command: '', rowCount: 0, fields: null, rows: [] };
    return this.run(handle.statement, handle.sql, params);
  }

  transactionStatus(): TransactionStatus {
    return this.tx === 'idle' ? 'I' : this.tx === 'open' ? 'T' : 'E';
  }

  statementFailed(): void {
    if (this.tx === 'open') this.tx = 'failed';
  }

  cancel(): void {
    this.running?.abort();
  }

  async close(): Promise<void> {
    this.running?.abort();
    await this.releaseSnapshot().catch(() => undefined);
    if (this.tx !== 'idle' && this.txStarted) {
      await this.node.transaction(this.session, { op: 'rollback' }).catch((error: unknown) => {
        this.logger.debug({ err: error }, 'rollback at disconnect failed; the leader times the transaction out');
      });
    }
    this.tx = 'idle';
  }

  // -------------------------------------------------------------------------

  private async run(statement: ParsedStatement, sql: string, params: readonly SqlValue[]): Promise<QueryResult> {
    try {
      return await this.runStatement(statement, sql, params);
    } catch (error) {
      // As in Postgres, any statement that fails inside a transaction aborts it (25P02 until ROLLBACK).
      if (this.tx === 'open') this.tx = 'failed';
      throw error;
    }
  }

  private async runStatement(statement: ParsedStatement, sql: string, params: readonly SqlValue[]): Promise<QueryResult> {
    if (statement.kind === 'transaction') return this.transactionControl(statement.transaction as TransactionCommand, sql, params);
    if (this.tx === 'failed') throw abortedError();
    if (statement.kind === 'write' || statement.kind === 'ddl') this.requireWritable(commandName(statement));
    // Unsupported statements fail wherever they run: no need to take them to the leader.
    if (this.tx === 'open' && statement.kind !== 'session' && statement.kind !== 'cursor') return this.inTransaction(sql, params, statement.kind === 'read' || statement.kind === 'unsupported');
    switch (statement.kind) {
      case 'read':
      case 'unsupported':
        return this.read(sql, params);
      case 'write':
      case 'ddl':
        return this.write(sql, params);
      case 'session':
        return this.sessionCommand(statement.session as SessionCommand, sql, params);
      case 'cursor':
        return this.cursorCommand(statement.cursor as CursorCommand, params);
    }
  }

  /**
   * DECLARE runs its query like every other read of the session (inside the transaction
   * when one is open) and keeps the rows; FETCH hands them out in order. A
   * read's rows are materialized anyway, so this holds nothing a plain SELECT
   * would not.
   */
  private async cursorCommand(command: CursorCommand, params: readonly SqlValue[]): Promise<QueryResult> {
    const done = (tag: string): QueryResult => ({ command: tag, rowCount: 0, fields: null, rows: [] });
    switch (command.action) {
      case 'declare': {
        if (!command.hold && this.tx === 'idle') throw new SqlError('25P01', 'DECLARE CURSOR can only be used in transaction blocks');
        if (this.cursors.has(command.name)) throw new SqlError('42P03', `cursor "${command.name}" already exists`);
        const [query] = parseSql(command.query);
        if (query === undefined) throw new SqlError('42601', 'DECLARE CURSOR needs a query');
        const result = await this.run(query, command.query, params);
        this.cursors.set(command.name, { fields: result.fields ?? [], rows: result.rows, position: 0, hold: command.hold });
        return done('DECLARE CURSOR');
      }
      case 'fetch': {
        const cursor = this.cursor(command.name);
        const rows = cursor.rows.slice(cursor.position, cursor.position + command.count);
        cursor.position += rows.length;
        if (command.move) return done(`MOVE ${rows.length}`);
        return { command: `FETCH ${rows.length}`, rowCount: rows.length, fields: cursor.fields, rows };
      }
      case 'close':
        if (command.name === null) this.cursors.clear();
        else if (!this.cursors.delete(command.name)) throw new SqlError('34000', `cursor "${command.name}" does not exist`);
        return done('CLOSE CURSOR');
    }
  }

  private cursor(name: string): Cursor {
    const cursor = this.cursors.get(name);
    if (cursor === undefined) throw new SqlError('34000', `cursor "${name}" does not exist`);
    return cursor;
  }

  /** A transaction's end closes its cursors, except those declared WITH HOLD (kept at COMMIT). */
  private closeTransactionCursors(how: 'commit' | 'rollback'): void {
    for (const [name, cursor] of this.cursors) if (!cursor.hold || how === 'rollback') this.cursors.delete(name);
  }

  // -------------------------------------------------------------------------
  // Explicit transactions: BEGIN opens one here; its first statement starts it
  // on the leader, which runs every statement until COMMIT or ROLLBACK.

  /**
   * A transaction that starts by reading runs on a snapshot of this node's
   * replica (linearizable at its first statement): read-only transactions
   * never bother the leader. Its first write moves it to the leader, which
   * accepts it only if nothing changed the database since that snapshot.
   */
  private async inTransaction(sql: string, params: readonly SqlValue[], reads: boolean): Promise<QueryResult> {
    this.txQueried = true;
    try {
      // The reads of a multi-statement Query before its first write are plain
      // reads: Postgres runs them at READ COMMITTED, and with no snapshot the
      // leader has no reason to refuse the writes that follow (40001).
      if (!this.txStarted && reads && this.implicit) return await this.read(sql, params);
      if (!this.txStarted && reads) {
        this.snapshot ??= await this.node.openSnapshot();
        const snapshot = this.snapshot;
        return await this.cancellable((signal) => snapshot.query(sql, params, this.context(), signal));
      }
      const readSince = this.snapshot?.slot;
      if (this.snapshot !== null) {
        await this.snapshot.release();
        this.snapshot = null;
      }
      const first = !this.txStarted;
      this.txStarted = true;
      const request = { op: 'exec' as const, sql, params, first, ...(readSince === undefined ? {} : { readSince }) };
      const result = await this.node.transaction(this.session, request);
      if (result === null) throw new SqlError('XX000', 'the leader returned no result');
      return result;
    } catch (error) {
      this.tx = 'failed';
      throw error;
    }
  }

  private async releaseSnapshot(): Promise<void> {
    const snapshot = this.snapshot;
    this.snapshot = null;
    await snapshot?.release();
  }

  private beginTransaction(readOnly: boolean, implicit: boolean): void {
    this.settingsAtBegin = { settings: new Map(this.settings), consistency: this.consistency };
    this.localSettingsBefore = new Map();
    this.tx = 'open';
    this.txStarted = false;
    this.txReadOnly = readOnly;
    this.txQueried = false;
    this.implicit = implicit;
  }

  private async transactionControl(t: TransactionCommand, sql: string, params: readonly SqlValue[]): Promise<QueryResult> {
    const tag = (command: string): QueryResult => ({ command, rowCount: 0, fields: null, rows: [] });
    switch (t.action) {
      case 'begin':
        if (this.tx === 'failed') throw abortedError();
        if (this.implicit) {
          // As in Postgres: BEGIN inside a multi-statement Query makes its implicit transaction explicit.
          this.implicit = false;
          if (t.readOnly !== undefined) this.setTransactionReadOnly(t.readOnly);
        } else if (this.tx !== 'idle') {
          this.events.notice({ severity: 'WARNING', code: '25001', message: 'there is already a transaction in progress' });
        } else {
          this.beginTransaction(t.readOnly ?? this.defaultReadOnly(), false);
        }
        return tag('BEGIN');
      case 'commit':
        if (this.tx === 'idle' || this.implicit) {
          // Postgres commits an implicit transaction here all the same, with the warning.
          this.events.notice({ severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' });
          if (this.implicit) await this.endTransaction('commit');
          return tag('COMMIT');
        }
        if (this.tx === 'failed') {
          await this.endTransaction('rollback');
          return tag('ROLLBACK');
        }
        await this.endTransaction('commit');
        return tag('COMMIT');
      case 'rollback':
        if (this.tx === 'idle' || this.implicit) {
          this.events.notice({ severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' });
          if (this.implicit) await this.endTransaction('rollback');
          return tag('ROLLBACK');
        }
        await this.endTransaction('rollback');
        return tag('ROLLBACK');
      case 'savepoint':
      case 'release':
      case 'rollback_to': {
        if (this.tx === 'idle' || this.implicit) throw new SqlError('25P01', `${t.action === 'rollback_to' ? 'ROLLBACK TO SAVEPOINT' : t.action.toUpperCase()} can only be used in transaction blocks`);
        if (this.tx === 'failed' && t.action !== 'rollback_to') throw abortedError();
        const result = await this.inTransaction(sql, params, this.snapshot !== null);
        if (t.action === 'rollback_to') this.tx = 'open';
        return result;
      }
    }
  }

  /** COMMIT sends the writes through the log (via the leader) and waits until this node applied them. */
  private async endTransaction(how: 'commit' | 'rollback'): Promise<void> {
    this.closeTransactionCursors(how);
    this.endTransactionSettings(how);
    await this.releaseSnapshot();
    const started = this.txStarted;
    this.tx = 'idle';
    this.txStarted = false;
    this.implicit = false;
    if (!started) return;
    if (how === 'rollback') {
      // If the leader is gone, so is its transaction (a new leader never had it; an old one aborts it).
      await this.node.transaction(this.session, { op: 'rollback' }).catch((error: unknown) => {
        this.logger.debug({ err: error }, 'rollback did not reach the leader');
      });
      return;
    }
    const seq = ++this.seq;
    const outcome = this.node.awaitOutcome(this.session, seq);
    outcome.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    let proposed: QueryResult | null;
    try {
      proposed = await this.node.transaction(this.session, { op: 'commit', seq });
    } catch (error) {
      // Unknown outcome: the entry may still be chosen; its outcome (or the deadline) decides.
      if (error instanceof SqlError && error.code === '40003') {
        await outcome;
        return;
      }
      this.node.cancelOutcome(this.session, seq);
      throw error;
    }
    if (proposed === null) {
      this.node.cancelOutcome(this.session, seq);
      return;
    }
    await outcome;
  }

  private async write(sql: string, params: readonly SqlValue[]): Promise<QueryResult> {
    const results = await this.node.write(this.session, ++this.seq, [{ sql, params }]);
    const result = results[0];
    if (result === undefined) throw new SqlError('XX000', 'the write returned no result');
    return result;
  }

  private read(sql: string, params: readonly SqlValue[]): Promise<QueryResult> {
    return this.cancellable(async (signal) => {
      // The wait for this replica to catch up counts too: a long write being applied must not hold the read past its timeout.
      if (this.consistency !== 'local') await untilAborted(this.node.readBarrier({ lease: this.consistency === 'lease' }), signal);
      return this.node.query(sql, params, this.context(), signal);
    });
  }

  /** Runs a read that CancelRequest and statement_timeout can stop (57014). */
  private async cancellable(read: (signal: AbortSignal) => Promise<QueryResult>): Promise<QueryResult> {
    const running = new AbortController();
    this.running = running;
    const timeoutMs = this.statementTimeoutMs();
    let timedOut = false;
    const timer = timeoutMs === 0 ? undefined : setTimeout(() => {
      timedOut = true;
      running.abort();
    }, timeoutMs);
    try {
      return await read(running.signal);
    } catch (error) {
      if (timedOut) throw new SqlError('57014', 'canceling statement due to statement timeout');
      throw error;
    } finally {
      clearTimeout(timer);
      if (this.running === running) this.running = null;
    }
  }

  /** statement_timeout in ms (0: none). It bounds reads; a write is bounded by the cluster's writeTimeoutMs. */
  private statementTimeoutMs(): number {
    const value = this.settings.get('statement_timeout');
    return value === undefined ? 0 : parseDurationMs('statement_timeout', value);
  }

  private context(): ExecContext {
    return {
      time: Date.now(),
      seed: randomInt(0, 2 ** 47),
      session: {
        user: this.info.user,
        database: this.info.database,
        backendPid: this.info.connectionId,
        settings: {
          ...Object.fromEntries(this.settings),
          // Outside a transaction block, each statement is a transaction of the session's default kind.
          transaction_read_only: this.readOnlyNow() ? 'on' : 'off',
          default_transaction_read_only: this.defaultReadOnly() ? 'on' : 'off',
        },
      },
    };
  }

  // -------------------------------------------------------------------------
  // READ ONLY: a read-only transaction refuses every write (25006), and stays
  // on its snapshot; default_transaction_read_only makes every transaction so,
  // single autocommit statements included.

  private defaultReadOnly(): boolean {
    return parseBoolean(this.settings.get('default_transaction_read_only') ?? 'off') === true;
  }

  private readOnlyNow(): boolean {
    return this.tx === 'idle' ? this.defaultReadOnly() : this.txReadOnly;
  }

  /** Refuses a write in a read-only transaction; like any statement error, that aborts the transaction. */
  private requireWritable(command: string): void {
    if (!this.readOnlyNow()) return;
    if (this.tx === 'open') this.tx = 'failed';
    throw readOnlyTransaction(command);
  }

  /** SET TRANSACTION READ ONLY / READ WRITE, `SET transaction_read_only`, or BEGIN's option inside a Query's implicit transaction. */
  private setTransactionReadOnly(readOnly: boolean): void {
    if (this.tx === 'idle') {
      this.events.notice({ severity: 'WARNING', code: '25P01', message: 'SET TRANSACTION can only be used in transaction blocks' });
      return;
    }
    if (!readOnly && this.txReadOnly && this.txQueried) {
      throw new SqlError('25001', 'transaction read-write mode must be set before any query');
    }
    this.txReadOnly = readOnly;
  }

  private async sessionCommand(command: SessionCommand, sql: string, params: readonly SqlValue[]): Promise<QueryResult> {
    switch (command.action) {
      case 'show':
        if (command.name === CONSISTENCY_SETTING) return showResult(command.name, this.consistency);
        if (command.name === STATUS_SETTING) return showResult(command.name, JSON.stringify(this.node.statusReport()));
        if (command.name === CHECKSUM_SETTING) return showResult(command.name, JSON.stringify(await this.node.checksum()));
        return this.node.query(sql, params, this.context());
      case 'reset':
        if (command.name === null) this.settings.clear();
        else this.set(command.name, null);
        return { command: 'RESET', rowCount: 0, fields: null, rows: [] };
      case 'set':
        if (command.local && this.tx === 'idle') {
          this.events.notice({ severity: 'WARNING', code: '25P01', message: 'SET LOCAL can only be used in transaction blocks' });
          return { command: 'SET', rowCount: 0, fields: null, rows: [] };
        }
        if (command.local) this.rememberBeforeLocal(command.name.toLowerCase());
        this.set(command.name, command.value);
        return { command: 'SET', rowCount: 0, fields: null, rows: [] };
      case 'maintenance':
        if (this.tx !== 'idle' && !command.inTransactionBlock) throw maintenanceInTransactionBlock(command.tag);
        return { command: command.tag, rowCount: 0, fields: null, rows: [] };
    }
  }

  /** The value a SET LOCAL replaces, the first time in this transaction: it comes back when the transaction ends. */
  private rememberBeforeLocal(name: string): void {
    if (this.localSettingsBefore === null || this.localSettingsBefore.has(name)) return;
    this.localSettingsBefore.set(name, name === CONSISTENCY_SETTING ? this.consistency : this.settings.get(name));
  }

  /**
   * As in Postgres, a transaction's SETs are undone by its ROLLBACK, and its
   * SET LOCALs by its end either way (a pooled connection must not keep, say,
   * default_transaction_read_only from a transaction that failed).
   */
  private endTransactionSettings(how: 'commit' | 'rollback'): void {
    const before = this.settingsAtBegin;
    const locals = this.localSettingsBefore;
    this.settingsAtBegin = null;
    this.localSettingsBefore = null;
    if (before === null || locals === null) return;
    const restore = new Map(how === 'rollback' ? before.settings : this.settings);
    if (how === 'commit') {
      for (const [name, value] of locals) {
        if (name === CONSISTENCY_SETTING) continue;
        if (value === undefined) restore.delete(name);
        else restore.set(name, value);
      }
    }
    const consistency = how === 'rollback' ? before.consistency : ((locals.get(CONSISTENCY_SETTING) as ReadConsistency | undefined) ?? this.consistency);
    this.replaceSettings(restore, consistency);
  }

  private replaceSettings(settings: ReadonlyMap<string, string>, consistency: ReadConsistency): void {
    for (const name of REPORTED) {
      const value = settings.get(name) ?? '';
      if ((this.settings.get(name) ?? '') !== value) this.events.parameterStatus(REPORTED_NAMES[name] ?? name, value);
    }
    this.settings.clear();
    for (const [name, value] of settings) this.settings.set(name, value);
    this.consistency = consistency;
  }

  private set(rawName: string, value: string | null): void {
    const name = rawName.toLowerCase();
    if (name === 'transaction_read_only') {
      this.setTransactionReadOnly(value === null ? this.defaultReadOnly() : booleanSetting(name, value));
      return;
    }
    if (name === 'default_transaction_read_only' && value !== null) {
      this.settings.set(name, booleanSetting(name, value) ? 'on' : 'off');
      return;
    }
    if (name === CONSISTENCY_SETTING) {
      const v = (value ?? 'linearizable').toLowerCase();
      if (v !== 'linearizable' && v !== 'lease' && v !== 'local') {
        throw new SqlError('22023', `invalid value for parameter "${CONSISTENCY_SETTING}": "${value ?? ''}"`, {
          hint: 'Available values: linearizable, lease, local.',
        });
      }
      this.consistency = v;
      return;
    }
    if (name === 'statement_timeout' && value !== null) parseDurationMs(name, value); // refuse a bad value at SET, as Postgres does
    if (name === 'timezone' && value !== null && !UTC_ZONES.test(value.trim())) {
      // Accepted (drivers set it, and it is reported back), but timestamps stay UTC: say so rather than mislead.
      this.events.notice({
        severity: 'WARNING', code: '01000', message: `paxosql reads and shows timestamps in UTC; TimeZone "${value}" is recorded but not applied`,
      });
    }
    if (name === 'client_encoding' && value !== null && !/^(utf-?8|unicode)$/i.test(value)) {
      throw new SqlError('0A000', `client_encoding "${value}" is not supported`, { hint: 'paxosql speaks UTF8 only.' });
    }
    if (value === null) this.settings.delete(name);
    else this.settings.set(name, value);
    if (REPORTED.has(name)) this.events.parameterStatus(REPORTED_NAMES[name] ?? name, value ?? '');
  }

  /** COPY … FROM STDIN goes through the log in batches of rows; COPY … TO STDOUT reads a linearizable snapshot. */
  private async copy(copy: CopyStatement): Promise<StatementOutcome> {
    if (copy.query !== undefined) {
      const [statement, ...more] = parseSql(copy.query);
      if (statement === undefined || more.length > 0 || statement.kind !== 'read') throw new SqlError('0A000', 'COPY (query) TO STDOUT supports one SELECT');
      const result = await this.readForCopy(copy.query);
      return { type: 'copyOut', format: copy.format, fields: result.fields ?? [], rows: result.rows };
    }
    const table = quoteName(copy.table);
    if (copy.direction === 'to-stdout') {
      const cols = copy.columns === null ? '*' : copy.columns.map(quoteName).join(', ');
      const result = await this.readForCopy(`SELECT ${cols} FROM ${table}`);
      return { type: 'copyOut', format: copy.format, fields: result.fields ?? [], rows: result.rows };
    }
    this.requireWritable('COPY FROM');
    const columns = copy.columns ?? (await this.tableColumns(copy.table));
    return { type: 'copyIn', sink: new CopyToLog(this, table, columns, copy) };
  }

  /** Inside BEGIN … COMMIT, COPY TO sees the transaction's own writes, like any query there. */
  private readForCopy(sql: string): Promise<QueryResult> {
    return this.tx === 'idle' ? this.read(sql, []) : this.inTransaction(sql, [], true);
  }

  private async tableColumns(table: string): Promise<string[]> {
    const described = await this.node.describe(`SELECT * FROM ${quoteName(table)}`);
    if (described.fields === null) throw new SqlError('42P01', `relation "${table}" does not exist`);
    return described.fields.map((f) => f.name);
  }

  /** Used by COPY: one log command inserting a batch of rows. */
  async insertRows(table: string, columns: readonly string[], rows: readonly (readonly (string | null)[])[]): Promise<number> {
    const params: SqlValue[] = [];
    const tuples = rows.map((row) => `(${row.map((v) => (params.push(v), `$${params.length}`)).join(', ')})`);
    const sql = `INSERT INTO ${table} (${columns.map(quoteName).join(', ')}) VALUES ${tuples.join(', ')}`;
    // Inside BEGIN … COMMIT the rows join the transaction (pgbench -i loads so); outside, each batch is one command.
    const result = this.tx === 'idle' ? await this.write(sql, params) : await this.inTransaction(sql, params, false);
    return result.rowCount;
  }
}

/**
 * Rows of a COPY FROM STDIN, written to the log COPY_ROWS_PER_COMMAND at a
 * time. Unlike Postgres, a COPY that fails midway keeps the batches already
 * written (each batch is atomic, the whole COPY is not).
 */
class CopyToLog implements CopyInSink {
  readonly format;
  readonly columnCount: number;
  private buffered: (readonly (string | null)[])[] = [];
  private count = 0;

  constructor(
    private readonly session: ClusterSession,
    private readonly table: string,
    private readonly columns: readonly string[],
    copy: CopyStatement,
  ) {
    this.format = copy.format;
    this.columnCount = columns.length;
  }

  async writeRows(rows: readonly (readonly (string | null)[])[]): Promise<void> {
    for (const row of rows) {
      this.buffered.push(row);
      if (this.buffered.length >= COPY_ROWS_PER_COMMAND) await this.flush();
    }
  }

  async finish(): Promise<QueryResult> {
    await this.flush();
    return { command: `COPY ${this.count}`, rowCount: this.count, fields: null, rows: [] };
  }

  async abort(): Promise<void> {
    this.buffered = [];
  }

  private async flush(): Promise<void> {
    if (this.buffered.length === 0) return;
    const rows = this.buffered;
    this.buffered = [];
    this.count += await this.session.insertRows(this.table, this.columns, rows);
  }
}

function abortedError(): SqlError {
  return new SqlError('25P02', 'current transaction is aborted, commands ignored until end of transaction block');
}

const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  on: true, true: true, yes: true, t: true, y: true, '1': true,
  off: false, false: false, no: false, f: false, n: false, '0': false,
};

function parseBoolean(value: string): boolean | undefined {
  return BOOLEAN_WORDS[value.trim().toLowerCase()];
}

function booleanSetting(name: string, value: string): boolean {
  const parsed = parseBoolean(value);
  if (parsed === undefined) throw new SqlError('22023', `parameter "${name}" requires a Boolean value`);
  return parsed;
}

function showResult(name: string, value: string): QueryResult {
  return { command: 'SHOW', rowCount: 1, fields: [{ name, typeOid: 25 }], rows: [[value]] };
}

function quoteName(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { '': 1, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** A Postgres time setting in milliseconds: a number of ms, or with a unit ('300ms', '5s', '1min', '1h', '1d'). */
function parseDurationMs(name: string, value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|h|d)?\s*$/i.exec(value);
  const unit = DURATION_UNITS_MS[(match?.[2] ?? '').toLowerCase()];
  if (match === null || unit === undefined) {
    throw new SqlError('22023', `invalid value for parameter "${name}": "${value}"`, { hint: 'Valid units for this parameter are "ms", "s", "min", "h", and "d".' });
  }
  const ms = Math.round(Number(match[1]) * unit);
  if (ms > 2_147_483_647) throw new SqlError('22023', `${value} is outside the valid range for parameter "${name}" (0 .. 2147483647 ms)`);
  return ms;
}

interface Cursor {
  readonly fields: readonly FieldInfo[];
  readonly rows: readonly (readonly SqlValue[])[];
  position: number;
  readonly hold: boolean;
}

/** `promise`, or an AbortError as soon as `signal` aborts (the promise itself runs on, its outcome ignored). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(Object.assign(new Error('the statement was cancelled'), { name: 'AbortError' }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function asSqlError(error: unknown): SqlError {
  if (error instanceof SqlError) return error;
  if (error instanceof Error && error.name === 'AbortError') return new SqlError('57014', 'canceling statement due to user request');
  return new SqlError('XX000', error instanceof Error ? error.message : String(error));
}
