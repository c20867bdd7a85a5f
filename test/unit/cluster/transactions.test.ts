// The leader's transactions (src/cluster/transactions.ts) against an
// in-memory host: one write token, statements run "speculatively" on a fake
// apply connection, COMMIT proposes the recorded writes. The case that lost
// money in a fault run (bank, 5 nodes, seed 7575): a session's first
// statement waited for the token longer than the session did; the session
// gave up (40001, then ROLLBACK), the statement opened a transaction later
// anyway, and the session's next transaction ran inside it, so its COMMIT
// proposed the abandoned debit too. And the cluster's one writer: an open
// transaction that sits idle while writes wait behind it gives way.

import { pino } from 'pino';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApplyReply, ApplyTask } from '../../../src/cluster/apply-protocol.js';
import { decodeCommand } from '../../../src/cluster/command.js';
import { initParser } from '../../../src/sql/parse.js';
import { LeaderTransactions, type TransactionHost, type TxReply, type TxRequest } from '../../../src/cluster/transactions.js';

/** The apply connection as the leader's transactions see it: what is open, and what was proposed. */
class FakeHost implements TransactionHost {
  readonly self = 1;
  open: string[] | null = null;
  readonly proposed: string[][] = [];
  /** Autocommit writes queued behind the open transaction. */
  queuedWrites = false;
  /** When set, a tx-exec waits for this before it answers (a long statement). */
  statementRunning: Promise<void> | null = null;
  isLeader(): boolean {
    return true;
  }
  async quiesce(): Promise<void> {}
  resume(): void {}
  async apply(task: ApplyTask): Promise<ApplyReply> {
    const ok = { op: 'tx-exec' as const, result: { command: 'UPDATE', rowCount: 1, fields: null, rows: [] } };
    switch (task.op) {
      case 'tx-begin':
        expect(this.open).toBeNull(); // one transaction at a time on the connection
        this.open = [task.first.sql];
        return { op: 'tx-begin', basedOn: 0, first: ok };
      case 'tx-exec':
        expect(this.open).not.toBeNull();
        this.open?.push(task.sql);
        await this.statementRunning;
        return ok;
      case 'tx-end':
        this.open = null;
        return { op: 'tx-end' };
      default:
        throw new Error(`unexpected task ${task.op}`);
    }
  }
  proposeFirst(bytes: Uint8Array): void {
    this.proposed.push(decodeCommand(bytes).statements.map((s) => s.sql));
  }
  writesWaiting(): boolean {
    return this.queuedWrites;
  }
}

const DEBIT_6 = 'UPDATE accounts SET balance = balance - 3 WHERE id = 6';
const DEBIT_5 = 'UPDATE accounts SET balance = balance - 5 WHERE id = 5';
const CREDIT_2 = 'UPDATE accounts SET balance = balance + 5 WHERE id = 2';

const IDLE_TIMEOUT_MS = 60_000;
const PREEMPT_IDLE_MS = 1_000;

function setup(): { host: FakeHost; txs: LeaderTransactions; send: (session: number, request: TxRequest) => Promise<TxReply> } {
  const host = new FakeHost();
  const options = { writeTimeoutMs: 60_000, idleTimeoutMs: IDLE_TIMEOUT_MS, preemptIdleMs: PREEMPT_IDLE_MS };
  const txs = new LeaderTransactions(host, options, pino({ level: 'silent' }));
  return { host, txs, send: (session, request) => txs.handle({ node: 2, session }, request) };
}

const exec = (sql: string, first: boolean): TxRequest => ({ op: 'exec', sql, params: [], first });
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const codeOf = (reply: TxReply): string | null => (reply.ok ? null : reply.error.code);

/** Session 1 holds the token; session 2's first statement queues behind it (wrapped: an async function would wait for it). */
async function queuedBehindAnother(send: (session: number, request: TxRequest) => Promise<TxReply>): Promise<{ queued: Promise<TxReply> }> {
  expect((await send(1, exec('UPDATE accounts SET balance = balance WHERE id = 1', true))).ok).toBe(true);
  const queued = send(2, exec(DEBIT_6, true));
  await new Promise((resolve) => setImmediate(resolve));
  return { queued };
}

describe("the leader's transactions", () => {
  beforeAll(async () => {
    await initParser();
  });

  it("a ROLLBACK cancels a first statement still waiting for the token: it never opens, and the session's next transaction commits alone", async () => {
    const { host, send } = setup();
    const { queued } = await queuedBehindAnother(send);
    // The session gave up on it (its request timed out) and rolled back.
    expect((await send(2, { op: 'rollback' })).ok).toBe(true);
    const reply = await queued;
    expect(reply.ok ? null : reply.error.code).toBe('40001');
    expect((await send(1, { op: 'rollback' })).ok).toBe(true); // the token moves on
    expect(host.open).toBeNull(); // the cancelled debit did not open a transaction
    expect((await send(2, exec(DEBIT_5, true))).ok).toBe(true);
    expect((await send(2, exec(CREDIT_2, false))).ok).toBe(true);
    expect((await send(2, { op: 'commit', seq: 1 })).ok).toBe(true);
    expect(host.proposed).toEqual([[DEBIT_5, CREDIT_2]]);
  }, 10_000);

  it("a transaction that opened after its session gave up is rolled back when the session begins another, not joined", async () => {
    const { host, send } = setup();
    const { queued } = await queuedBehindAnother(send);
    // The session's ROLLBACK never arrived; the token passes and the abandoned debit opens.
    expect((await send(1, { op: 'rollback' })).ok).toBe(true);
    expect((await queued).ok).toBe(true);
    expect(host.open).toEqual([DEBIT_6]);
    expect((await send(2, exec(DEBIT_5, true))).ok).toBe(true);
    expect(host.open).toEqual([DEBIT_5]);
    expect((await send(2, exec(CREDIT_2, false))).ok).toBe(true);
    expect((await send(2, { op: 'commit', seq: 1 })).ok).toBe(true);
    expect(host.proposed).toEqual([[DEBIT_5, CREDIT_2]]);
  });

  it('a ROLLBACK that comes while the first statement is being set up cancels it once it is', async () => {
    const { host, txs, send } = setup();
    let letQuiesce: () => void = () => undefined;
    host.quiesce = () => new Promise<void>((resolve) => (letQuiesce = resolve));
    const starting = send(2, exec(DEBIT_6, true));
    await new Promise((resolve) => setImmediate(resolve));
    expect((await txs.handle({ node: 2, session: 2 }, { op: 'rollback' })).ok).toBe(true);
    letQuiesce();
    const reply = await starting;
    expect(reply.ok ? null : reply.error.code).toBe('40001');
    expect(host.open).toBeNull();
    host.quiesce = async () => undefined;
    expect((await send(3, exec(DEBIT_5, true))).ok).toBe(true); // the token was handed on
  });

  it('an idle transaction gives way after idleTransactionPreemptMs when writes wait behind it: 40001, nothing proposed', async () => {
    const { host, txs, send } = setup();
    expect((await send(1, exec(DEBIT_6, true))).ok).toBe(true);
    host.queuedWrites = true;
    txs.onTick(Date.now() + PREEMPT_IDLE_MS + 1);
    await settle();
    expect(host.open).toBeNull(); // the token is free: held proposals flow again
    expect(codeOf(await send(1, exec(CREDIT_2, false)))).toBe('40001');
    expect(codeOf(await send(1, { op: 'commit', seq: 1 }))).toBe('40001');
    expect(host.proposed).toEqual([]);
  });

  it('a transaction waiting for the token preempts an idle one too, and then opens', async () => {
    const { host, txs, send } = setup();
    const { queued } = await queuedBehindAnother(send);
    txs.onTick(Date.now() + PREEMPT_IDLE_MS + 1);
    expect((await queued).ok).toBe(true);
    expect(host.open).toEqual([DEBIT_6]);
  });

  it('with no write waiting, an idle transaction keeps the token until the idle timeout (25P03)', async () => {
    const { host, txs, send } = setup();
    expect((await send(1, exec(DEBIT_6, true))).ok).toBe(true);
    txs.onTick(Date.now() + PREEMPT_IDLE_MS + 1);
    await settle();
    expect(host.open).toEqual([DEBIT_6]);
    txs.onTick(Date.now() + IDLE_TIMEOUT_MS + 1);
    await settle();
    expect(host.open).toBeNull();
    expect(codeOf(await send(1, exec(CREDIT_2, false)))).toBe('25P03');
  });

  it('a statement still running is not idle, however long it runs; idleness counts from its end', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const { host, txs, send } = setup();
      expect((await send(1, exec(DEBIT_6, true))).ok).toBe(true);
      let finish: () => void = () => undefined;
      host.statementRunning = new Promise<void>((resolve) => (finish = resolve));
      const long = send(1, exec(DEBIT_5, false));
      await settle();
      host.queuedWrites = true;
      vi.setSystemTime(Date.now() + IDLE_TIMEOUT_MS + 1);
      txs.onTick(Date.now());
      await settle();
      expect(host.open).toEqual([DEBIT_6, DEBIT_5]);
      finish();
      expect((await long).ok).toBe(true);
      txs.onTick(Date.now() + PREEMPT_IDLE_MS / 2);
      await settle();
      expect((await send(1, { op: 'commit', seq: 1 })).ok).toBe(true);
      expect(host.proposed).toEqual([[DEBIT_6, DEBIT_5]]);
    } finally {
      vi.useRealTimers();
    }
  });
});
