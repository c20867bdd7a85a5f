// The workloads of the fault tests: what each client process does, how its
// results become history values, and which checker judges the history.
//
//   register  many integer registers (rows of `reg`): read, write (upsert) and
//             compare-and-set; checked for linearizability key by key. Keys
//             are retired after a bounded number of operations and replaced by
//             fresh ones (Jepsen's "independent" keys), so every key's history
//             stays small enough to check exhaustively.
//   bank      transfers between accounts inside BEGIN … COMMIT, reads of all
//             balances in read-only transactions and as single statements;
//             every read must show the initial total and no negative balance.
//   set       unique inserts; every acknowledged insert must be in the final
//             read of every node, and nothing unexpected may appear.

import type { Random } from '../../src/util/random.js';
import type { CheckerSelection, JsonValue, Key } from './checker/index.js';
import { classifyError, describeError, isServerError, type NodeClient } from './client.js';

export const WORKLOAD_NAMES = ['register', 'bank', 'set'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** How an operation ended, as it goes into the history. */
export interface Completion {
  readonly type: 'ok' | 'fail' | 'info';
  /** Defaults to the invocation's value. */
  readonly value?: JsonValue;
  readonly error?: string;
}

/** One operation a client process is about to invoke. */
export interface PlannedOp {
  readonly f: string;
  readonly key?: Key;
  readonly value: JsonValue;
  /** Runs it; a thrown error is classified by the runner (classifyError). */
  run(client: NodeClient): Promise<Completion>;
}

export interface Workload {
  readonly name: WorkloadName;
  /** Statements that create the schema and initial data; each must be safe to repeat. */
  readonly setupStatements: readonly string[];
  next(process: number, random: Random): PlannedOp;
  /** Reads run on every node once the cluster has healed. */
  finalReads(node: number): PlannedOp[];
  checkers(): CheckerSelection;
}

export interface WorkloadOptions {
  /** Register: keys in use at once. */
  readonly keys?: number;
  /** Register: invocations on one key before it is retired. */
  readonly opsPerKey?: number;
  /** Bank: accounts, each starting with `initialBalance`. */
  readonly accounts?: number;
  readonly initialBalance?: number;
}

export function createWorkload(name: WorkloadName, options: WorkloadOptions = {}): Workload {
  switch (name) {
    case 'register':
      return new RegisterWorkload(options.keys ?? 24, options.opsPerKey ?? 120);
    case 'bank':
      return new BankWorkload(options.accounts ?? 8, options.initialBalance ?? 100);
    case 'set':
      return new SetWorkload();
  }
}

/** node-postgres returns int8 as text and int4 as numbers; histories compare JSON text, so normalise. */
function toNumber(raw: unknown): number | null {
  if (raw === null || raw === undefined) return null;
  const n = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`expected an integer, got ${JSON.stringify(raw)}`);
  return n;
}

// ---------------------------------------------------------------------------

class RegisterWorkload implements Workload {
  readonly name = 'register' as const;
  readonly setupStatements = ['CREATE TABLE IF NOT EXISTS reg (k INTEGER PRIMARY KEY, v INTEGER)'];
  private readonly active: number[];
  private readonly invocations = new Map<number, number>();
  private nextKey: number;
  private nextValue = 1;
  /** The last value anyone saw in each register: what a read-modify-write client would compare against. */
  private readonly lastSeen = new Map<number, number | null>();

  constructor(
    keys: number,
    private readonly opsPerKey: number,
  ) {
    if (keys < 1 || opsPerKey < 1) throw new RangeError('register workload needs at least one key and one op per key');
    this.active = Array.from({ length: keys }, (_, i) => i + 1);
    this.nextKey = keys + 1;
  }

  next(_process: number, random: Random): PlannedOp {
    const key = this.takeKey(random);
    const roll = random.next();
    const seen = this.lastSeen.get(key);
    if (roll < 0.5) return this.read(key);
    if (roll < 0.75 || seen === undefined || seen === null) return this.write(key, this.nextValue++);
    return this.cas(key, seen, this.nextValue++);
  }

  finalReads(): PlannedOp[] {
    return this.active.map((key) => this.read(key));
  }

  checkers(): CheckerSelection {
    return { register: { initialValue: null, timeLimitMs: 20_000, minimizeTimeLimitMs: 5_000 } };
  }

  /** A random active key; one that reached its budget is replaced by a fresh key. */
  private takeKey(random: Random): number {
    const slot = random.int(this.active.length);
    const key = this.active[slot]!;
    const used = (this.invocations.get(key) ?? 0) + 1;
    this.invocations.set(key, used);
    if (used >= this.opsPerKey) {
      this.active[slot] = this.nextKey++;
      this.invocations.delete(key);
    }
    return key;
  }

  private read(key: number): PlannedOp {
    return {
      f: 'read',
      key,
      value: null,
      run: async (client) => {
        const r = await client.query('SELECT v FROM reg WHERE k = $1', [key]);
        const value = r.rows.length === 0 ? null : toNumber((r.rows[0] as { v: unknown }).v);
        this.lastSeen.set(key, value);
        return { type: 'ok', value };
      },
    };
  }

  private write(key: number, value: number): PlannedOp {
    return {
      f: 'write',
      key,
      value,
      run: async (client) => {
        await client.query('INSERT INTO reg (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v', [key, value]);
        this.lastSeen.set(key, value);
        return { type: 'ok' };
      },
    };
  }

  /** The checker's convention: ok = swapped; fail without an error = the compare did not match. */
  private cas(key: number, expected: number, next: number): PlannedOp {
    return {
      f: 'cas',
      key,
      value: [expected, next],
      run: async (client) => {
        const r = await client.query('UPDATE reg SET v = $3 WHERE k = $1 AND v = $2', [key, expected, next]);
        if (r.rowCount === 1) {
          this.lastSeen.set(key, next);
          return { type: 'ok' };
        }
        if (r.rowCount === 0) return { type: 'fail' };
        throw new Error(`cas on key ${key} updated ${r.rowCount} rows`);
      },
    };
  }
}

// ---------------------------------------------------------------------------

/** Leaves the session outside any transaction, or drops the connection if it cannot tell. */
async function rollbackQuietly(client: NodeClient): Promise<void> {
  try {
    await client.query('ROLLBACK');
  } catch {
    client.abandon();
  }
}

class BankWorkload implements Workload {
  readonly name = 'bank' as const;
  readonly setupStatements: readonly string[];
  private readonly accounts: number[];

  constructor(
    accounts: number,
    private readonly initialBalance: number,
  ) {
    if (accounts < 2) throw new RangeError('bank workload needs at least two accounts');
    this.accounts = Array.from({ length: accounts }, (_, i) => i + 1);
    this.setupStatements = [
      'CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL)',
      // Idempotent, so a retried setup never adds money.
      `INSERT INTO accounts (id, balance) VALUES ${this.accounts.map((id) => `(${id}, ${initialBalance})`).join(', ')} ON CONFLICT (id) DO NOTHING`,
    ];
  }

  next(_process: number, random: Random): PlannedOp {
    const roll = random.next();
    if (roll < 0.5) {
      const from = random.pick(this.accounts);
      let to = random.pick(this.accounts);
      while (to === from) to = random.pick(this.accounts);
      return this.transfer(from, to, random.between(1, 5));
    }
    return roll < 0.75 ? this.transactionRead() : this.plainRead();
  }

  finalReads(): PlannedOp[] {
    return [this.transactionRead(), this.plainRead()];
  }

  checkers(): CheckerSelection {
    return { bank: { initialTotal: this.accounts.length * this.initialBalance, accounts: this.accounts, allowNegative: false } };
  }

  /**
   * BEGIN; debit (only if the money is there); credit; COMMIT. An error
   * before COMMIT was sent leaves nothing behind (the transaction rolls back,
   * also when the connection dies), so it is a definite failure; an error of
   * COMMIT itself is classified like any write's.
   */
  private transfer(from: number, to: number, amount: number): PlannedOp {
    return {
      f: 'transfer',
      value: { from, to, amount },
      run: async (client) => {
        try {
          await client.query('BEGIN');
          const debit = await client.query('UPDATE accounts SET balance = balance - $2 WHERE id = $1 AND balance >= $2', [from, amount]);
          if (debit.rowCount === 0) {
            await rollbackQuietly(client);
            return { type: 'fail', error: 'insufficient-funds' };
          }
          await client.query('UPDATE accounts SET balance = balance + $2 WHERE id = $1', [to, amount]);
        } catch (error) {
          if (isServerError(error)) await rollbackQuietly(client);
          return { type: 'fail', error: describeError(error) };
        }
        try {
          const commit = await client.query('COMMIT');
          // COMMIT of a transaction that failed answers ROLLBACK.
          return commit.command === 'COMMIT' ? { type: 'ok' } : { type: 'fail', error: `commit answered ${commit.command}` };
        } catch (error) {
          return classifyError(error);
        }
      },
    };
  }

  private transactionRead(): PlannedOp {
    return {
      f: 'read',
      value: 'transaction',
      run: async (client) => {
        try {
          await client.query('BEGIN READ ONLY');
          const r = await client.query('SELECT id, balance FROM accounts ORDER BY id');
          await client.query('COMMIT');
          return { type: 'ok', value: balancesOf(r.rows) };
        } catch (error) {
          if (isServerError(error)) await rollbackQuietly(client);
          throw error;
        }
      },
    };
  }

  private plainRead(): PlannedOp {
    return {
      f: 'read',
      value: 'statement',
      run: async (client) => {
        const r = await client.query('SELECT id, balance FROM accounts ORDER BY id');
        return { type: 'ok', value: balancesOf(r.rows) };
      },
    };
  }
}

function balancesOf(rows: readonly unknown[]): { [account: string]: JsonValue } {
  const balances: { [account: string]: JsonValue } = {};
  for (const row of rows) {
    const { id, balance } = row as { id: unknown; balance: unknown };
    balances[String(id)] = toNumber(balance);
  }
  return balances;
}

// ---------------------------------------------------------------------------

class SetWorkload implements Workload {
  readonly name = 'set' as const;
  readonly setupStatements = ['CREATE TABLE IF NOT EXISTS elems (e INTEGER PRIMARY KEY)'];
  private nextElement = 1;

  next(_process: number, random: Random): PlannedOp {
    // A few reads during the faults catch elements that vanish and come back.
    return random.chance(0.002) ? this.read(null) : this.add(this.nextElement++);
  }

  finalReads(node: number): PlannedOp[] {
    return [this.read(node)];
  }

  checkers(): CheckerSelection {
    return { set: {} };
  }

  private add(element: number): PlannedOp {
    return {
      f: 'add',
      value: element,
      run: async (client) => {
        await client.query('INSERT INTO elems (e) VALUES ($1)', [element]);
        return { type: 'ok' };
      },
    };
  }

  private read(node: number | null): PlannedOp {
    return {
      f: 'read',
      value: null,
      run: async (client) => {
        const r = await client.query('SELECT e FROM elems');
        const elements = r.rows.map((row) => toNumber((row as { e: unknown }).e));
        return { type: 'ok', value: node === null ? elements : { node, elements } };
      },
    };
  }
}
