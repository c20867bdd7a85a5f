// pgbench against a follower of a real cluster: `pgbench -i` (CREATE TABLE …
// WITH (fillfactor), TRUNCATE and COPY FROM STDIN inside one transaction,
// VACUUM ANALYZE, ALTER TABLE … ADD PRIMARY KEY), the TPC-B-like default
// script, the select-only script, and a custom insert script under each
// query mode — all with zero failed transactions, and the TPC-B invariant
// (every balance sum equals the history's sum of deltas) holding afterwards.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../harness.js';
import { runProgram, startCluster, type ProgramResult } from './tools.js';

interface BenchSummary {
  readonly processed: number;
  readonly failed: number | null;
  readonly tps: string;
}

/** The figures of pgbench's report; throws with the whole output when they are missing. */
function summary(r: ProgramResult): BenchSummary {
  const processed = /number of transactions actually processed: (\d+)/.exec(r.stdout);
  const tps = /^tps = .*$/m.exec(r.stdout);
  if (processed === null || tps === null) throw new Error(`no pgbench report (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  const failed = /number of failed transactions: (\d+)/.exec(r.stdout);
  return { processed: Number(processed[1]), failed: failed === null ? null : Number(failed[1]), tps: tps[0] };
}

function expectClean(r: ProgramResult, label: string): BenchSummary {
  const s = summary(r);
  // Postgres 15's pgbench reports failed transactions; older ones abort the client on any error.
  expect(r.stderr, label).not.toMatch(/aborted|error/i);
  expect(r.code, label).toBe(0);
  if (s.failed !== null) expect(s.failed, label).toBe(0);
  expect(s.processed, label).toBeGreaterThan(0);
  console.log(`pgbench ${label}: ${s.processed} transactions, ${s.tps}`);
  return s;
}

describe('pgbench', () => {
  let cluster: LocalCluster;
  let url: string;
  let client: pg.Client;
  const dir = mkdtempSync(join(tmpdir(), 'paxosql-pgbench-'));

  beforeAll(async () => {
    // pgbench -i loads 100,000 rows in one transaction, which is one log entry: more than the default 1 MiB.
    // A loaded CI machine may take seconds to apply that entry: give writes more time than the default.
    const started = await startCluster({ maxBatchBytes: 32 << 20, writeTimeoutMs: 30_000 });
    cluster = started.cluster;
    url = cluster.url(started.follower);
    client = await cluster.client(started.follower);
  });
  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function pgbench(args: readonly string[], timeoutMs: number): Promise<ProgramResult> {
    return runProgram('pgbench', [...args, url], { timeoutMs });
  }

  async function count(table: string): Promise<number> {
    return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  }

  it('initialises scale 1: tables, 100,000 accounts by COPY, primary keys', async () => {
    const r = await pgbench(['-i', '-s', '1'], 90_000);
    expect(r.stderr, `pgbench -i exited ${r.code} (${r.signal ?? 'no signal'})`).toMatch(/creating primary keys\.\.\.\ndone in/);
    expect(r.code).toBe(0);
    expect(await count('pgbench_accounts')).toBe(100_000);
    expect(await count('pgbench_branches')).toBe(1);
    expect(await count('pgbench_tellers')).toBe(10);
    expect(await count('pgbench_history')).toBe(0);
    // ADD PRIMARY KEY made real primary keys: NOT NULL, unique, shown in the catalog.
    await expect(client.query('INSERT INTO pgbench_branches (bid, bbalance) VALUES (1, 0)')).rejects.toMatchObject({ code: '23505' });
    await expect(client.query('INSERT INTO pgbench_tellers (tid, bid) VALUES (NULL, 1)')).rejects.toMatchObject({ code: '23502' });
    const keys = await client.query("SELECT conrelid::regclass::text AS t, contype FROM pg_constraint WHERE contype = 'p' ORDER BY 1");
    expect(keys.rows).toEqual([
      { t: 'pgbench_accounts', contype: 'p' },
      { t: 'pgbench_branches', contype: 'p' },
      { t: 'pgbench_tellers', contype: 'p' },
    ]);
  });

  it('runs the default TPC-B script with 8 clients for 10 s without a failed transaction', async () => {
    const s = expectClean(await pgbench(['-c', '8', '-j', '2', '-T', '10'], 60_000), 'tpcb -c 8 -j 2 -T 10');
    // Each transaction moved one delta into an account, a teller and the branch, and logged it.
    const sums = await client.query(`SELECT (SELECT sum(abalance) FROM pgbench_accounts)::text AS a, (SELECT sum(tbalance) FROM pgbench_tellers)::text AS t,
      (SELECT sum(bbalance) FROM pgbench_branches)::text AS b, (SELECT sum(delta) FROM pgbench_history)::text AS h, (SELECT count(*) FROM pgbench_history)::int AS n`);
    const row = sums.rows[0] as { a: string; t: string; b: string; h: string; n: number };
    expect(row.n).toBe(s.processed);
    expect(new Set([row.a, row.t, row.b, row.h]).size).toBe(1);
  });

  it('runs the select-only script', async () => {
    expectClean(await pgbench(['-S', '-c', '8', '-j', '2', '-T', '4'], 60_000), 'select-only -S -c 8 -j 2 -T 4');
  });

  it('runs a custom insert script under -M simple, extended and prepared', async () => {
    const script = join(dir, 'insert.sql');
    writeFileSync(script, [
      '\\set aid random(1, 100000)',
      '\\set delta random(-5000, 5000)',
      'INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (1, 1, :aid, :delta, CURRENT_TIMESTAMP);',
      '',
    ].join('\n'));
    for (const mode of ['simple', 'extended', 'prepared']) {
      const before = await count('pgbench_history');
      const s = expectClean(await pgbench(['-n', '-M', mode, '-f', script, '-c', '4', '-j', '2', '-T', '3'], 60_000), `insert -M ${mode} -c 4 -T 3`);
      expect(await count('pgbench_history')).toBe(before + s.processed);
    }
  });
});
