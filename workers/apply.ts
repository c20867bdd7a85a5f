// The apply worker: the only writer of a node's data.db. It runs in a piscina
// pool of exactly one thread, so its tasks run one at a time, in the order the
// runtime sends them, and the connection below is its private state.
//
// Each chosen entry is one SQLite transaction that also records the applied
// slot, so a restarted node resumes at applied + 1 and never applies an entry
// twice. Each command is atomic (a statement by itself, a transaction's
// statements in a SAVEPOINT): a failing statement (say a unique violation)
// fails only its command, the same way on every replica. A
// (node, session, seq) table makes a command that was chosen twice (a client
// retry after a leader change) apply once.

import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { setPageCache } from '../src/storage/page-cache.js';
import { decodeCommand, type Command } from '../src/cluster/command.js';
import { SqlEngine } from '../src/sql/engine.js';
import { toSqlError } from '../src/sql/errors.js';
import type { QueryResult } from '../src/sql/types.js';
import type { ApplyTask, ApplyReply, CommandOutcome, EntryToApply, TxExecReply, TxStatement } from '../src/cluster/apply-protocol.js';
import { toWire } from '../src/cluster/wire-error.js';

interface State {
  readonly path: string;
  readonly db: Database.Database;
  readonly engine: SqlEngine;
  readonly self: number;
  readonly readApplied: Database.Statement;
  readonly writeApplied: Database.Statement;
  readonly readChanged: Database.Statement;
  readonly writeChanged: Database.Statement;
  readonly readSession: Database.Statement;
  readonly writeSession: Database.Statement;
  readonly pruneSessions: Database.Statement;
}

let state: State | null = null;

/** The identity of the apply session: writes run as the cluster, not as a client. */
const APPLY_SESSION = { user: 'paxosql', database: 'paxosql', backendPid: 0 };

export default async function handle(task: ApplyTask): Promise<ApplyReply> {
  switch (task.op) {
    case 'open':
      return open(task.path, task.self);
    case 'apply': {
      const s = requireState();
      return { op: 'apply', ...applyEntries(s, task.entries), schema: s.engine.schemaVersion() };
    }
    case 'install':
      return install(task.path);
    case 'checksum':
      return checksum(requireState());
    case 'tx-begin':
      return txBegin(requireState(), task.readSince, task.first);
    case 'tx-exec':
      return txExec(requireState(), task);
    case 'tx-end':
      return txEnd(requireState());
    case 'close':
      state?.db.close();
      state = null;
      return { op: 'close' };
  }
}

function requireState(): State {
  if (state === null) throw new Error('apply worker used before open');
  return state;
}

async function open(path: string, self: number): Promise<ApplyReply> {
  state?.db.close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // The Paxos log is the durable record; data.db can lose its last commits on
  // power loss and replay them from the log, so it need not fsync each one.
  db.pragma('synchronous = NORMAL');
  setPageCache(db, 'apply');
  db.exec(`
    CREATE TABLE IF NOT EXISTS _paxosql_applied (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      slot INTEGER NOT NULL,   -- every entry through this slot is applied
      changed INTEGER NOT NULL -- the last slot with a command that changed the database
    );
    INSERT OR IGNORE INTO _paxosql_applied (id, slot, changed) VALUES (1, 0, 0);
    CREATE TABLE IF NOT EXISTS _paxosql_sessions (
      node INTEGER NOT NULL, session INTEGER NOT NULL, seq INTEGER NOT NULL, slot INTEGER NOT NULL,
      PRIMARY KEY (node, session)
    ) WITHOUT ROWID;
  `);
  const engine = await SqlEngine.create(db);
  state = {
    path,
    db,
    engine,
    self,
    readApplied: db.prepare('SELECT slot FROM _paxosql_applied WHERE id = 1').pluck(),
    readChanged: db.prepare('SELECT changed FROM _paxosql_applied WHERE id = 1').pluck(),
    writeApplied: db.prepare('UPDATE _paxosql_applied SET slot = ? WHERE id = 1'),
    writeChanged: db.prepare('UPDATE _paxosql_applied SET changed = ? WHERE id = 1'),
    readSession: db.prepare('SELECT seq FROM _paxosql_sessions WHERE node = ? AND session = ?').pluck(),
    writeSession: db.prepare('INSERT OR REPLACE INTO _paxosql_sessions (node, session, seq, slot) VALUES (?, ?, ?, ?)'),
    pruneSessions: db.prepare('DELETE FROM _paxosql_sessions WHERE slot < ?'),
  };
  return { op: 'open', applied: Number(state.readApplied.get()), schema: engine.schemaVersion() };
}

function applyEntries(s: State, entries: readonly EntryToApply[]): { applied: number; outcomes: CommandOutcome[] } {
  const outcomes: CommandOutcome[] = [];
  let applied = Number(s.readApplied.get());
  for (const entry of entries) {
    if (entry.slot <= applied) continue; // already applied before a restart
    if (entry.slot !== applied + 1) throw new Error(`apply: slot ${entry.slot} after ${applied}`);
    s.db.exec('BEGIN IMMEDIATE');
    try {
      let changed = false;
      entry.commands.forEach((bytes, index) => {
        const applied = applyCommand(s, entry, index, bytes);
        if (applied.outcome !== null) outcomes.push(applied.outcome);
        changed ||= applied.changed;
      });
      s.writeApplied.run(entry.slot);
      if (changed) s.writeChanged.run(entry.slot);
      pruneSessions(s, entry.slot);
      s.db.exec('COMMIT');
    } catch (error) {
      if (s.db.inTransaction) s.db.exec('ROLLBACK');
      throw error;
    }
    applied = entry.slot;
  }
  return { applied, outcomes };
}

/**
 * A retried command arrives within seconds of its first copy; a session not
 * heard from for SESSION_RETENTION_SLOTS slots never will be again. Pruning at
 * fixed slots keeps the table bounded and every replica identical.
 */
const SESSION_RETENTION_SLOTS = 1_000_000;
const PRUNE_EVERY_SLOTS = 10_000;

function pruneSessions(s: State, slot: number): void {
  if (slot % PRUNE_EVERY_SLOTS !== 0 || slot <= SESSION_RETENTION_SLOTS) return;
  s.pruneSessions.run(slot - SESSION_RETENTION_SLOTS);
}

interface Applied {
  /** Reported to the runtime when this node proposed the command. */
  readonly outcome: CommandOutcome | null;
  /** The command ran to completion (its statements may have changed the database). */
  readonly changed: boolean;
}

/** Runs one command in its own savepoint. */
function applyCommand(s: State, entry: EntryToApply, index: number, bytes: Uint8Array): Applied {
  const outcome = runCommand(s, entry, index, bytes);
  return { outcome: outcome?.mine === true ? outcome.outcome : null, changed: outcome?.outcome.kind === 'ok' };
}

function runCommand(s: State, entry: EntryToApply, index: number, bytes: Uint8Array): { mine: boolean; outcome: CommandOutcome } | null {
  let command: Command;
  try {
    command = decodeCommand(bytes);
  } catch {
    return null; // an empty command is a rejoining node's nudge; nothing else undecodable is ever proposed
  }
  const { node, session, seq } = command.origin;
  const mine = node === s.self;
  const last = s.readSession.get(node, session) as number | bigint | undefined;
  if (last !== undefined && Number(last) >= seq) {
    return { mine, outcome: { session, seq, slot: entry.slot, kind: 'duplicate' } };
  }
  s.writeSession.run(node, session, seq, entry.slot);
  if (command.basedOn !== undefined && !(entry.slot === command.basedOn + 1 && index === 0)) {
    // The transaction ran on the leader against slot basedOn; something was
    // applied since, so its results could differ here. Refuse it everywhere.
    const error = { code: '40001', message: 'could not serialize access: the transaction was ordered after other writes (leader change)' };
    return { mine, outcome: { session, seq, slot: entry.slot, kind: 'error', error } };
  }
  const time = command.time ?? entry.time;
  // One statement is atomic by itself: SQLite undoes a failed statement and
  // keeps the transaction, and the engine wraps a statement of several steps
  // in a savepoint of its own. Only a transaction's statements need one here.
  // (Two exec calls per command are 15% of the apply path's CPU.)
  const savepoint = command.statements.length > 1;
  if (savepoint) s.db.exec('SAVEPOINT paxosql_command');
  try {
    const results: QueryResult[] = [];
    command.statements.forEach((statement, i) => {
      const ctx = { time, seed: statement.seed ?? entry.slot * 1024 + index + i * 1_000_003, session: APPLY_SESSION };
      results.push(s.engine.execute(statement.sql, statement.params, ctx));
    });
    if (savepoint) s.db.exec('RELEASE paxosql_command');
    return { mine, outcome: { session, seq, slot: entry.slot, kind: 'ok', results } };
  } catch (error) {
    // SQLite rolls back the whole transaction on a few errors (disk full, I/O
    // error); the entry cannot then be applied, on this replica or any other.
    if (!s.db.inTransaction) throw new Error(`apply: slot ${entry.slot} lost its transaction: ${(error as Error).message}`);
    if (savepoint) {
      s.db.exec('ROLLBACK TO paxosql_command');
      s.db.exec('RELEASE paxosql_command');
    }
    // The command failed, but it was applied: its seq (written outside the savepoint) stays recorded.
    return { mine, outcome: { session, seq, slot: entry.slot, kind: 'error', error: toWire(error) } };
  }
}

// ---------------------------------------------------------------------------
// The leader's speculative transaction: statements run for real inside
// BEGIN … ROLLBACK so the client sees true results (and its own writes); the
// writes then go through the log and every replica, the leader included,
// applies them with the same time and seeds on the same state.

function txBegin(s: State, readSince: number | null, first: TxStatement): ApplyReply {
  if (s.db.inTransaction) throw new Error('tx-begin inside a transaction');
  s.db.exec('BEGIN IMMEDIATE');
  const basedOn = Number(s.readApplied.get());
  // A transaction that read a snapshot at readSince may write only if nothing changed the database since.
  if (readSince !== null && Number(s.readChanged.get()) > readSince) {
    s.db.exec('ROLLBACK');
    return { op: 'tx-begin', basedOn, first: null };
  }
  return { op: 'tx-begin', basedOn, first: txExec(s, first) };
}

function txExec(s: State, statement: TxStatement): TxExecReply {
  if (!s.db.inTransaction) throw new Error('tx-exec outside a transaction');
  const { sql, params, time, seed } = statement;
  try {
    return { op: 'tx-exec', result: s.engine.execute(sql, params, { time, seed, session: APPLY_SESSION }) };
  } catch (error) {
    return { op: 'tx-exec', error: toWire(error) };
  }
}

function txEnd(s: State): ApplyReply {
  if (s.db.inTransaction) s.db.exec('ROLLBACK');
  return { op: 'tx-end' };
}


/**
 * Replace data.db by a snapshot. The runtime has stopped sending entries and
 * closed the read pool, so this thread holds the only connection.
 */
async function install(snapshotPath: string): Promise<ApplyReply> {
  const s = requireState();
  s.db.close();
  state = null;
  for (const suffix of ['-wal', '-shm', '']) rmSync(s.path + suffix, { force: true });
  const temp = `${s.path}.installing`;
  copyFileSync(snapshotPath, temp);
  const fd = openSync(temp, 'r');
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, s.path);
  const reopened = await open(s.path, s.self);
  if (reopened.op !== 'open') throw new Error('reopen after install failed');
  return { op: 'install', applied: reopened.applied };
}

/**
 * A digest of every row of every table, for comparing replicas. Rows are
 * hashed one at a time in a total order (every column), so neither memory nor
 * the result depends on physical row order (VACUUM INTO may renumber rowids).
 */
function checksum(s: State): ApplyReply {
  const tables = s.db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_paxosql_applied' ORDER BY name")
    .pluck()
    .all() as string[];
  const hash = createHash('sha256');
  let rows = 0;
  for (const table of tables) {
    const quoted = `"${table.replaceAll('"', '""')}"`;
    const columns = (s.db.prepare(`SELECT count(*) FROM pragma_table_info(?)`).pluck().get(table) as number) || 1;
    const order = Array.from({ length: columns }, (_, i) => i + 1).join(', ');
    hash.update(`table ${table}\n`);
    for (const row of s.db.prepare(`SELECT * FROM ${quoted} ORDER BY ${order}`).raw(true).iterate() as IterableIterator<unknown[]>) {
      hash.update(JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('hex') : v)));
      hash.update('\n');
      rows++;
    }
  }
  return { op: 'checksum', applied: Number(s.readApplied.get()), digest: hash.digest('hex'), rows };
}
