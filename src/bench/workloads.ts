// The workloads: the schema each needs, the operations a client sends, and
// how to render a statement for each protocol. The same workloads exist as
// pgbench scripts in bench/pgbench/ (same tables, same statements).

import type { OperationKind } from './stats.js';
import type { ProtocolName, WorkloadName } from './options.js';
import type { Random } from '../util/random.js';

export type SqlParam = number | string;

export interface Statement {
  /** Name of the prepared statement (protocol "prepared"); one per distinct text. */
  readonly name: string;
  /** SQL with $1, $2, … placeholders. */
  readonly text: string;
  readonly values: readonly SqlParam[];
}

export interface Operation {
  readonly kind: OperationKind;
  /** Run inside BEGIN … COMMIT. */
  readonly transaction: boolean;
  readonly statements: readonly Statement[];
  /** For inserts: the id, recorded when the insert is acknowledged and checked on every replica at the end. */
  readonly insertId: number | null;
}

export interface Workload {
  readonly name: WorkloadName;
  /** Statements that (re)create the tables, run once before the load. */
  readonly setup: readonly string[];
  next(random: Random): Operation;
}

const PAYLOAD = 'x'.repeat(64);

/** One shared id sequence for all clients of a run: ids are unique without coordination with the server. */
export class IdSequence {
  constructor(private next = 1) {}
  take(): number {
    return this.next++;
  }
}

const INSERT_ROW: Omit<Statement, 'values'> = {
  name: 'bench_insert',
  text: 'INSERT INTO bench_insert (id, client, payload) VALUES ($1, $2, $3)',
};
const UPDATE_ACCOUNT: Omit<Statement, 'values'> = {
  name: 'bench_update',
  text: 'UPDATE bench_accounts SET balance = balance + $1, updates = updates + 1 WHERE id = $2',
};
const READ_ACCOUNT: Omit<Statement, 'values'> = {
  name: 'bench_read',
  text: 'SELECT balance FROM bench_accounts WHERE id = $1',
};

function insertSetup(): string[] {
  return [
    'DROP TABLE IF EXISTS bench_insert',
    'CREATE TABLE bench_insert (id BIGINT PRIMARY KEY, client INTEGER NOT NULL, payload TEXT NOT NULL)',
  ];
}

function accountsSetup(accounts: number): string[] {
  return [
    'DROP TABLE IF EXISTS bench_accounts',
    'CREATE TABLE bench_accounts (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL DEFAULT 0, updates BIGINT NOT NULL DEFAULT 0)',
    `INSERT INTO bench_accounts (id, balance, updates) SELECT g, 0, 0 FROM generate_series(1, ${accounts}) AS g`,
  ];
}

/** pgbench's own schema (scale 1: 1 branch, 10 tellers, `accounts` accounts) so bench/pgbench/tpcb.sql runs on the same tables. */
function tpcbSetup(accounts: number): string[] {
  return [
    'DROP TABLE IF EXISTS pgbench_history',
    'DROP TABLE IF EXISTS pgbench_tellers',
    'DROP TABLE IF EXISTS pgbench_accounts',
    'DROP TABLE IF EXISTS pgbench_branches',
    'CREATE TABLE pgbench_branches (bid INTEGER PRIMARY KEY, bbalance INTEGER NOT NULL, filler CHAR(88))',
    'CREATE TABLE pgbench_tellers (tid INTEGER PRIMARY KEY, bid INTEGER NOT NULL, tbalance INTEGER NOT NULL, filler CHAR(84))',
    'CREATE TABLE pgbench_accounts (aid INTEGER PRIMARY KEY, bid INTEGER NOT NULL, abalance INTEGER NOT NULL, filler CHAR(84))',
    'CREATE TABLE pgbench_history (tid INTEGER, bid INTEGER, aid INTEGER, delta INTEGER, mtime TIMESTAMP, filler CHAR(22))',
    "INSERT INTO pgbench_branches (bid, bbalance, filler) VALUES (1, 0, '')",
    "INSERT INTO pgbench_tellers (tid, bid, tbalance, filler) SELECT g, 1, 0, '' FROM generate_series(1, 10) AS g",
    `INSERT INTO pgbench_accounts (aid, bid, abalance, filler) SELECT g, 1, 0, '' FROM generate_series(1, ${accounts}) AS g`,
  ];
}

function insertOperation(ids: IdSequence, random: Random): Operation {
  const id = ids.take();
  return {
    kind: 'write',
    transaction: false,
    statements: [{ ...INSERT_ROW, values: [id, random.int(1_000_000), PAYLOAD] }],
    insertId: id,
  };
}

function updateOperation(accounts: number, random: Random): Operation {
  const delta = random.int(10_001) - 5000;
  return {
    kind: 'write',
    transaction: false,
    statements: [{ ...UPDATE_ACCOUNT, values: [delta, 1 + random.int(accounts)] }],
    insertId: null,
  };
}

function readOperation(accounts: number, random: Random): Operation {
  return { kind: 'read', transaction: false, statements: [{ ...READ_ACCOUNT, values: [1 + random.int(accounts)] }], insertId: null };
}

/** pgbench's TPC-B-like transaction ("tpcb-like" builtin), scale 1. */
function tpcbOperation(accounts: number, random: Random): Operation {
  const aid = 1 + random.int(accounts);
  const tid = 1 + random.int(10);
  const bid = 1;
  const delta = random.int(10_001) - 5000;
  return {
    kind: 'write',
    transaction: true,
    statements: [
      { name: 'tpcb_account', text: 'UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2', values: [delta, aid] },
      { name: 'tpcb_balance', text: 'SELECT abalance FROM pgbench_accounts WHERE aid = $1', values: [aid] },
      { name: 'tpcb_teller', text: 'UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2', values: [delta, tid] },
      { name: 'tpcb_branch', text: 'UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2', values: [delta, bid] },
      {
        name: 'tpcb_history',
        text: 'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)',
        values: [tid, bid, aid, delta],
      },
    ],
    insertId: null,
  };
}

/** `firstId`: where insert ids start (above rows already in the table). */
export function createWorkload(name: WorkloadName, accounts: number, firstId = 1): Workload {
  const ids = new IdSequence(firstId);
  switch (name) {
    case 'insert':
      return { name, setup: insertSetup(), next: (random) => insertOperation(ids, random) };
    case 'update':
      return { name, setup: accountsSetup(accounts), next: (random) => updateOperation(accounts, random) };
    case 'tpcb':
      return { name, setup: tpcbSetup(accounts), next: (random) => tpcbOperation(accounts, random) };
    case 'mixed':
      // Half inserts, 30% updates, 20% point reads: reads are not writes and are counted apart.
      return {
        name,
        setup: [...insertSetup(), ...accountsSetup(accounts)],
        next: (random) => {
          const roll = random.int(10);
          if (roll < 5) return insertOperation(ids, random);
          if (roll < 8) return updateOperation(accounts, random);
          return readOperation(accounts, random);
        },
      };
  }
}

/** A value as an SQL literal, for the simple protocol (values inlined into the text). */
export function sqlLiteral(value: SqlParam): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot inline ${value} as an SQL literal`);
    return String(value);
  }
  return `'${value.replaceAll("'", "''")}'`;
}

/** The statement's text with $n replaced by literals. */
export function inlineParameters(statement: Statement): string {
  return statement.text.replace(/\$(\d+)/g, (_, n: string) => {
    const value = statement.values[Number(n) - 1];
    if (value === undefined) throw new Error(`statement ${statement.name} has no value for $${n}`);
    return sqlLiteral(value);
  });
}

/** The pg query config that sends `statement` with the given protocol. */
export function queryConfig(statement: Statement, protocol: ProtocolName): { text: string; values?: SqlParam[]; name?: string } {
  switch (protocol) {
    case 'simple':
      return { text: inlineParameters(statement) };
    case 'extended':
      return { text: statement.text, values: [...statement.values] };
    case 'prepared':
      return { name: statement.name, text: statement.text, values: [...statement.values] };
  }
}
