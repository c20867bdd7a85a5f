// Microbenchmark of the apply path, in one thread: the apply worker's own
// handler (workers/apply.ts) applying entries of single-row INSERT commands
// shaped like `paxosql bench --workload insert` (extended protocol, 3
// parameters, 64-byte payload), 16 commands per entry. The baseline, measured
// in the same run on the same kind of file, is better-sqlite3 alone doing the
// same inserts with a prepared statement, one transaction per 16 rows, into
// the same table: the ratio is what the command codec, the SQL layer, the
// exactly-once table and the per-command savepoints cost on top of SQLite.
//
//   npm run build && node dist/bench/apply.js [--commands 100000] [--out bench/out/apply.json]

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { ApplyReply, EntryToApply } from '../src/cluster/apply-protocol.js';
import { encodeCommand } from '../src/cluster/command.js';
import handle from '../workers/apply.js';

const PER_ENTRY = 16;
const PAYLOAD = 'x'.repeat(64);
const INSERT = 'INSERT INTO bench_insert (id, client, payload) VALUES ($1, $2, $3)';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function entries(firstSlot: number, firstId: number, count: number): EntryToApply[] {
  const out: EntryToApply[] = [];
  for (let e = 0; e < count / PER_ENTRY; e++) {
    const commands: Uint8Array[] = [];
    for (let c = 0; c < PER_ENTRY; c++) {
      const id = firstId + e * PER_ENTRY + c;
      // Proposed by node 2 (not this one): a follower's apply, no results kept.
      commands.push(encodeCommand({ origin: { node: 2, session: id % 64, seq: id }, statements: [{ sql: INSERT, params: [String(id), String(id % 64), PAYLOAD] }] }));
    }
    out.push({ slot: firstSlot + e, time: 1_700_000_000_000 + e, commands });
  }
  return out;
}

async function applyPath(dir: string, commands: number): Promise<number> {
  const path = join(dir, 'apply.db');
  await handle({ op: 'open', path, self: 1 });
  const create = encodeCommand({ origin: { node: 2, session: 1_000_000, seq: 1 }, statements: [{ sql: 'CREATE TABLE bench_insert (id BIGINT PRIMARY KEY, client INTEGER NOT NULL, payload TEXT NOT NULL)', params: [] }] });
  await handle({ op: 'apply', entries: [{ slot: 1, time: 0, commands: [create] }] });
  const warm = entries(2, 1, 4096);
  await handle({ op: 'apply', entries: warm });
  const work = entries(2 + warm.length, 1 + 4096, commands);
  const t0 = performance.now();
  for (let i = 0; i < work.length; i += 64) {
    const reply: ApplyReply = await handle({ op: 'apply', entries: work.slice(i, i + 64) });
    if (reply.op !== 'apply' || reply.applied !== (work[Math.min(i + 63, work.length - 1)] as EntryToApply).slot) throw new Error('apply did not advance');
  }
  const seconds = (performance.now() - t0) / 1000;
  await handle({ op: 'close' });
  return seconds;
}

function sqliteAlone(dir: string, commands: number): number {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // The table exactly as paxosql creates it from the workload's DDL (a bigint
  // key is not SQLite's rowid: a second b-tree, as in the apply path).
  db.exec('CREATE TABLE bench_insert ("id" bigint NOT NULL PRIMARY KEY, "client" int NOT NULL, "payload" text NOT NULL)');
  const insert = db.prepare('INSERT INTO bench_insert (id, client, payload) VALUES (?, ?, ?)');
  const batch = db.transaction((first: number) => {
    for (let c = 0; c < PER_ENTRY; c++) insert.run(first + c, (first + c) % 64, PAYLOAD);
  });
  for (let id = 1; id <= 4096; id += PER_ENTRY) batch(id);
  const t0 = performance.now();
  for (let id = 4097; id < 4097 + commands; id += PER_ENTRY) batch(id);
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return seconds;
}

async function main(): Promise<void> {
  const commands = Math.ceil(Number(arg('--commands', '100000')) / PER_ENTRY) * PER_ENTRY;
  const out = arg('--out', 'bench/out/apply.json');
  const dir = mkdtempSync(join(os.tmpdir(), 'paxosql-apply-bench-'));
  try {
    const baseline = sqliteAlone(dir, commands);
    const apply = await applyPath(dir, commands);
    const perCommand = (s: number): number => Math.round((s / commands) * 1e7) / 10;
    const report = {
      benchmark: 'paxosql-apply',
      commands,
      commandsPerEntry: PER_ENTRY,
      baseline: { what: 'better-sqlite3 prepared INSERT, one transaction per entry', seconds: baseline, microsecondsPerRow: perCommand(baseline) },
      apply: { what: 'workers/apply.ts handler', seconds: apply, microsecondsPerCommand: perCommand(apply), commandsPerSecond: Math.round(commands / apply) },
      ratioToBaseline: Math.round((apply / baseline) * 100) / 100,
      machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, loadAverage: os.loadavg() },
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(
      `apply path: ${report.apply.microsecondsPerCommand} µs per command (${report.apply.commandsPerSecond.toLocaleString('en-US')}/s); ` +
        `SQLite alone: ${report.baseline.microsecondsPerRow} µs per row; ratio ${report.ratioToBaseline}×\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
