// Explicit transactions (BEGIN … COMMIT) that write, as ARCHITECTURE.md
// describes: SQLite has one writer, and so does a paxosql cluster — the
// leader. A transaction runs on the leader's apply connection inside a real
// SQLite transaction, so its statements return real results and see its own
// writes. While it is open the leader proposes nothing else. At COMMIT the
// speculative SQLite transaction is rolled back and the transaction's writes go
// through the log as one command, first in the next slot; every replica, the
// leader included, applies them there with the same time and seeds, on the
// same state (the command names the slot it ran on and fails with 40001
// anywhere else). One transaction holds the write token at a time; the others
// wait for it, first come first served.

import type { Logger } from 'pino';
import { parseSql, type ParsedStatement } from '../sql/parse.js';
import { SqlError, type QueryResult, type SqlValue } from '../sql/types.js';
import type { ApplyReply, ApplyTask, TxExecReply, TxStatement } from './apply-protocol.js';
import { fromWire, toWire, type WireError } from './wire-error.js';
import { encodeCommand, type Command, type Statement } from './command.js';

/** What a transaction needs from the node it leads on. */
export interface TransactionHost {
  readonly self: number;
  isLeader(): boolean;
  /** Hold proposals, wait until everything chosen is applied, and confirm leadership with a quorum. */
  quiesce(deadline: number): Promise<void>;
  /** Stop holding proposals. */
  resume(): void;
  apply(task: ApplyTask): Promise<ApplyReply>;
  /** Propose a command ahead of everything queued. */
  proposeFirst(bytes: Uint8Array): void;
  /** Writes are queued behind the open transaction (proposals are held while it is open). */
  writesWaiting(): boolean;
}

export interface TxOrigin {
  readonly node: number;
  readonly session: number;
}

export type TxRequest =
  /**
   * `first`: the transaction's first statement here, which starts it; any
   * other finds it open or fails. `readSince`: the transaction already read a
   * snapshot at this slot (it began read-only on its own node): it may go on
   * writing only if nothing changed the database after that slot.
   */
  | {
      readonly op: 'exec';
      readonly sql: string;
      readonly params: readonly SqlValue[];
      readonly first: boolean;
      readonly readSince?: number;
    }
  /** `seq`: the command's sequence number in the origin session (its outcome comes back like any write's). */
  | { readonly op: 'commit'; readonly seq: number }
  | { readonly op: 'rollback' };

export type TxReply =
  | { readonly ok: true; readonly result: QueryResult | null }
  | { readonly ok: false; readonly error: WireError };

interface Savepoint {
  readonly name: string;
  readonly writes: number;
}

interface OpenTransaction {
  readonly key: string;
  readonly origin: TxOrigin;
  readonly time: number;
  readonly seedBase: number;
  readonly basedOn: number;
  statements: number;
  readonly writes: Statement[];
  readonly savepoints: Savepoint[];
  /** When the last statement started or ended; idleness counts from here. */
  lastActivity: number;
  /** A statement is running on the apply connection: the transaction is not idle, whatever the clock says. */
  running: boolean;
}

/** A statement run in the open transaction, and what the apply worker answered. */
interface Executed {
  readonly tx: OpenTransaction;
  readonly statement: TxStatement;
  readonly reply: TxExecReply;
}

interface Waiter {
  readonly key: string;
  readonly deadline: number;
  readonly resolve: () => void;
  readonly reject: (error: SqlError) => void;
}

export class LeaderTransactions {
  private open: OpenTransaction | null = null;
  /** The token is taken (a transaction is being set up, open or committing). */
  private busy = false;
  /** The transaction being set up (token taken, not open yet); `cancelled` by a ROLLBACK that came meanwhile. */
  private starting: { readonly key: string; cancelled: boolean } | null = null;
  private waiting: Waiter[] = [];
  /** Transactions ended under their client (leadership lost, idle timeout): the reason, until the client hears it. */
  private readonly ended = new Map<string, SqlError>();

  constructor(
    private readonly host: TransactionHost,
    private readonly options: { readonly writeTimeoutMs: number; readonly idleTimeoutMs: number; readonly preemptIdleMs: number },
    private readonly logger: Logger,
  ) {}

  /** A session sends one request at a time and waits for its answer, so a transaction's requests never overlap. */
  handle(origin: TxOrigin, request: TxRequest): Promise<TxReply> {
    return this.dispatch(origin, request).then(
      (result): TxReply => ({ ok: true, result }),
      (error: unknown): TxReply => ({ ok: false, error: toWire(error) }),
    );
  }

  private async dispatch(origin: TxOrigin, request: TxRequest): Promise<QueryResult | null> {
    const key = `${origin.node}:${origin.session}`;
    // A first statement starts a new transaction: what ended the session's
    // previous one (whose first statement timed out at the session) is moot.
    if (request.op === 'exec' && request.first) this.ended.delete(key);
    const ended = this.ended.get(key);
    if (ended !== undefined) {
      if (request.op === 'rollback') {
        this.ended.delete(key);
        return null;
      }
      if (request.op === 'commit') this.ended.delete(key);
      throw ended;
    }
    switch (request.op) {
      case 'exec':
        return this.exec(key, origin, request);
      case 'commit':
        // A result means an entry was proposed: its outcome comes back to the origin like any write's.
        return (await this.commit(key, origin, request.seq)) ? { command: 'COMMIT', rowCount: 0, fields: null, rows: [] } : null;
      case 'rollback':
        await this.rollback(key);
        return null;
    }
  }

  private async exec(key: string, origin: TxOrigin, request: TxRequest & { op: 'exec' }): Promise<QueryResult> {
    const { sql, params } = request;
    if (this.open?.key !== key && !request.first) throw lost();
    const parsed = single(sql);
    // The session starts a new transaction, so one still open for it here is
    // a stale one: its first statement waited for the token past the
    // session's patience and opened after the session had given up. It must
    // not absorb this transaction's statements; roll it back, then begin.
    if (request.first && this.open?.key === key) await this.discard('stale: the session began another transaction');
    const open = this.open?.key === key ? this.open : null;
    const { tx, statement, reply } = open !== null ? await this.execIn(open, sql, params) : await this.begin(key, origin, request.readSince, sql, params);
    if ('error' in reply) throw fromWire(reply.error);
    this.record(tx, parsed, sql, params, statement.seed);
    return reply.result;
  }

  private async execIn(tx: OpenTransaction, sql: string, params: readonly SqlValue[]): Promise<Executed> {
    const statement: TxStatement = { sql, params, time: tx.time, seed: tx.seedBase + tx.statements++ };
    tx.running = true;
    tx.lastActivity = Date.now();
    try {
      const reply = await this.host.apply({ op: 'tx-exec', ...statement });
      if (reply.op !== 'tx-exec') throw new Error('apply worker answered the wrong task');
      return { tx, statement, reply };
    } finally {
      tx.running = false;
      tx.lastActivity = Date.now();
    }
  }

  /** Keep the writes for the log; savepoints rewind them on ROLLBACK TO. */
  private record(tx: OpenTransaction, statement: ParsedStatement, sql: string, params: readonly SqlValue[], seed: number): void {
    if (statement.kind === 'write' || statement.kind === 'ddl') {
      tx.writes.push({ sql, params, seed });
      return;
    }
    const t = statement.transaction;
    if (t === undefined || t.savepoint === undefined) return;
    const name = t.savepoint.toLowerCase();
    const at = tx.savepoints.map((s) => s.name).lastIndexOf(name);
    if (t.action === 'savepoint') tx.savepoints.push({ name, writes: tx.writes.length });
    else if (t.action === 'rollback_to' && at >= 0) {
      tx.writes.length = (tx.savepoints[at] as Savepoint).writes;
      tx.savepoints.length = at + 1;
    } else if (t.action === 'release' && at >= 0) tx.savepoints.length = at;
  }

  /** Take the write token, then open the transaction on the apply connection with its first statement, in one round trip. */
  private async begin(key: string, origin: TxOrigin, readSince: number | undefined, sql: string, params: readonly SqlValue[]): Promise<Executed> {
    if (!this.host.isLeader()) throw notLeader();
    const deadline = Date.now() + this.options.writeTimeoutMs;
    await this.acquire(key, deadline);
    const starting = { key, cancelled: false };
    this.starting = starting;
    try {
      await this.host.quiesce(deadline);
      const now = Date.now();
      const seedBase = (now % 1_000_000_007) * 4096;
      const statement: TxStatement = { sql, params, time: now, seed: seedBase };
      const reply = await this.host.apply({ op: 'tx-begin', readSince: readSince ?? null, first: statement });
      if (reply.op !== 'tx-begin') throw new Error('apply worker answered the wrong task');
      if (starting.cancelled) {
        if (reply.first !== null) await this.host.apply({ op: 'tx-end' });
        throw cancelled();
      }
      if (reply.first === null) {
        throw new SqlError('40001', 'could not serialize access: data this transaction read was changed by another one', {
          hint: 'Retry the transaction.',
        });
      }
      const tx: OpenTransaction = {
        key,
        origin,
        time: now,
        seedBase,
        basedOn: reply.basedOn,
        statements: 1,
        writes: [],
        savepoints: [],
        lastActivity: Date.now(),
        running: false,
      };
      this.open = tx;
      this.logger.debug({ tx: key, basedOn: reply.basedOn }, 'transaction began');
      return { tx, statement, reply: reply.first };
    } catch (error) {
      this.release();
      throw error;
    } finally {
      this.starting = null;
    }
  }

  /** True when the transaction's writes were proposed as an entry. */
  private async commit(key: string, origin: TxOrigin, seq: number): Promise<boolean> {
    const tx = this.open;
    // The session commits only a transaction it started: if it is not open here, a leader change lost it.
    if (tx === null || tx.key !== key) throw lost();
    this.open = null;
    try {
      // Propose first, then roll the speculative transaction back while the
      // entry is being chosen: the apply pipeline stays closed until release(),
      // so the entry is applied after the rollback all the same, and the
      // rollback's round trip to the apply worker is off the commit's path.
      // The rollback happens whatever propose does: release() reopens the pipeline.
      try {
        if (tx.writes.length === 0) return false;
        this.propose(tx, origin, seq);
        return true;
      } finally {
        await this.host.apply({ op: 'tx-end' });
      }
    } finally {
      this.release();
    }
  }

  private propose(tx: OpenTransaction, origin: TxOrigin, seq: number): void {
    const command: Command = { origin: { node: origin.node, session: origin.session, seq }, statements: tx.writes, time: tx.time, basedOn: tx.basedOn };
    if (!this.host.isLeader()) throw notLeader();
    this.host.proposeFirst(encodeCommand(command));
  }

  private async rollback(key: string): Promise<void> {
    if (this.open?.key !== key) {
      this.cancelStart(key);
      return;
    }
    await this.discard('rolled back');
  }

  /** Roll back the open transaction on the apply connection and hand the token on. */
  private async discard(why: string): Promise<void> {
    const tx = this.open;
    if (tx === null) return;
    this.open = null;
    this.logger.debug({ tx: tx.key, why }, 'transaction discarded');
    try {
      await this.host.apply({ op: 'tx-end' });
    } finally {
      this.release();
    }
  }

  /**
   * ROLLBACK for a transaction that is not open here yet: its first
   * statement is still waiting for the token, or being set up, after the
   * session gave up on it (the request timed out there). It must not open
   * later and hold the token until the idle timeout, or join the session's
   * next transaction.
   */
  private cancelStart(key: string): void {
    for (const w of this.waiting.filter((x) => x.key === key)) {
      this.waiting = this.waiting.filter((x) => x !== w);
      w.reject(cancelled());
    }
    if (this.starting?.key === key) this.starting.cancelled = true;
  }

  /** Leadership was lost, or the transaction sat idle too long (or while others waited): roll it back under the client. */
  private async abort(reason: SqlError): Promise<void> {
    const tx = this.open;
    if (tx === null) return;
    this.ended.set(tx.key, reason);
    this.logger.info({ tx: tx.key, code: reason.code, why: reason.message }, 'transaction aborted');
    await this.discard(reason.message);
  }

  /** Called by the node on every tick. */
  onTick(now: number): void {
    const tx = this.open;
    if (tx !== null && !this.host.isLeader()) {
      void this.abort(new SqlError('40001', 'the transaction was rolled back: this node lost leadership', { hint: 'Retry the transaction.' }));
    } else if (tx !== null && !tx.running) {
      this.abortIfIdle(tx, now - tx.lastActivity);
    }
    for (const w of this.waiting.filter((x) => now >= x.deadline)) {
      this.waiting = this.waiting.filter((x) => x !== w);
      w.reject(new SqlError('40001', 'could not start the transaction: another transaction held the write lock too long', { hint: 'Retry the transaction.' }));
    }
    // Bound what a client that vanished mid-transaction leaves behind.
    if (this.ended.size > 10_000) this.ended.clear();
  }

  /**
   * The cluster has one writer, so an open transaction holds up every other
   * write. One that sits idle (its client thinking, or gone) while writes wait
   * behind it gives way after `preemptIdleMs` instead of stalling the cluster
   * until the idle timeout; with nobody waiting it may idle that long.
   */
  private abortIfIdle(tx: OpenTransaction, idleMs: number): void {
    if (idleMs > this.options.idleTimeoutMs) {
      void this.abort(new SqlError('25P03', 'terminating transaction due to idle-in-transaction timeout'));
    } else if (idleMs > this.options.preemptIdleMs && (this.waiting.length > 0 || this.host.writesWaiting())) {
      void this.abort(
        new SqlError('40001', `the transaction was rolled back: it sat idle for over ${this.options.preemptIdleMs} ms while other writes waited for it`, {
          hint: 'Retry the transaction, and do not wait between its statements: the cluster has one writer (idleTransactionPreemptMs).',
        }),
      );
    }
  }

  private acquire(key: string, deadline: number): Promise<void> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => this.waiting.push({ key, deadline, resolve, reject }));
  }

  /** Let proposals flow (a committed transaction's entry goes first), then hand the token on. */
  private release(): void {
    this.host.resume();
    const next = this.waiting.shift();
    if (next !== undefined) next.resolve();
    else this.busy = false;
  }
}

function single(sql: string): ParsedStatement {
  const statements = parseSql(sql);
  if (statements.length !== 1) throw new SqlError('42601', 'one statement at a time inside a transaction');
  return statements[0] as ParsedStatement;
}

function lost(): SqlError {
  return new SqlError('40001', 'the transaction was rolled back: its leader changed or restarted', { hint: 'Retry the transaction.' });
}

function cancelled(): SqlError {
  return new SqlError('40001', 'the transaction was rolled back before it started', { hint: 'Retry the transaction.' });
}

function notLeader(): SqlError {
  return new SqlError('40001', 'the transaction was rolled back: leadership moved to another node', { hint: 'Retry the transaction.' });
}
