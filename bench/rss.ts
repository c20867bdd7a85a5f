// Memory per node with a large table: load `--rows` rows (default 1,000,000)
// into a local 3-node cluster, then keep writing for `--seconds` with 64
// clients, sampling every node's resident set size (VmRSS from /proc) twice a
// second. The target is < 200 MB per node at 1 million rows.
//
//   npm run build && node dist/bench/rss.js [--rows 1000000] [--seconds 20] [--out bench/out/rss.json]

import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalCluster } from '../src/cluster/local.js';
import { insertLoad } from './insert-load.js';

const CHUNK = 10_000;
const PAYLOAD = 'x'.repeat(64);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** Resident and peak resident set size of a process, in MB (Linux). */
function memoryOf(pid: number): { rssMB: number; peakMB: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/**
 * Every node applied everything committed. (Not convergedChecksums: SHOW paxosql.checksum
 * overflows the stack at a million rows, see bench/README.md.)
 */
async function converged(cluster: LocalCluster): Promise<void> {
  await cluster.waitFor(async () => {
    const s = await cluster.statuses();
    return s.length === cluster.ids.length && s.every((x) => x.applied === Math.max(...s.map((y) => y.commit)));
  }, 60_000, 'replicas to apply everything');
}

async function main(): Promise<void> {
  const rows = Number(arg('--rows', '1000000'));
  const seconds = Number(arg('--seconds', '20'));
  const out = arg('--out', 'bench/out/rss.json');
  const cluster = await LocalCluster.start({ nodes: 3, logLevel: 'warn' });
  try {
    const leader = await cluster.waitForLeader(20_000);
    const empty = cluster.ids.map((id) => memoryOf(cluster.pid(id) as number)?.rssMB ?? 0);
    const client = await cluster.client(leader);
    await client.query('DROP TABLE IF EXISTS bench_insert');
    await client.query('CREATE TABLE bench_insert (id BIGINT PRIMARY KEY, client INTEGER NOT NULL, payload TEXT NOT NULL)');
    const loadStart = performance.now();
    // Bulk rows through the log in 10,000-row statements; ids above `rows` are left for the write load.
    for (let first = 1; first <= rows; first += CHUNK) {
      const last = Math.min(rows, first + CHUNK - 1);
      await client.query(`INSERT INTO bench_insert (id, client, payload) SELECT g, g % 64, '${PAYLOAD}' FROM generate_series(${first}, ${last}) AS g`);
    }
    await client.end();
    const loadSeconds = (performance.now() - loadStart) / 1000;
    process.stdout.write(`loaded ${rows.toLocaleString('en-US')} rows in ${loadSeconds.toFixed(1)} s\n`);
    await converged(cluster);
    const afterLoad = cluster.ids.map((id) => ({ node: id, ...memoryOf(cluster.pid(id) as number) }));

    // Then keep writing (single-row inserts, ids after the bulk rows) and watch the peak.
    const peak = new Map<number, number>();
    const sampler = setInterval(() => {
      for (const id of cluster.ids) {
        const m = memoryOf(cluster.pid(id) as number);
        if (m !== null) peak.set(id, Math.max(peak.get(id) ?? 0, m.rssMB));
      }
    }, 500);
    const { outcome, recorder } = await insertLoad(cluster.ids.map((id) => cluster.url(id)), seconds, rows + 1);
    clearInterval(sampler);
    await converged(cluster);
    const counts = await Promise.all(cluster.ids.map(async (id) => Number((await cluster.query<{ n: string }>(id, 'SELECT count(*) AS n FROM bench_insert')).rows[0]?.n)));
    const nodes = cluster.ids.map((id) => {
      const m = memoryOf(cluster.pid(id) as number);
      const db = join(cluster.dir, 'data', `node-${id}`, 'data.db');
      return {
        node: id,
        rssEmptyMB: round(empty[id - 1] ?? 0),
        rowsAfterLoad: rows,
        rssAfterLoadMB: round(afterLoad[id - 1]?.rssMB ?? 0),
        rssUnderWriteLoadPeakMB: round(peak.get(id) ?? 0),
        rssAtEndMB: round(m?.rssMB ?? 0),
        processPeakMB: round(m?.peakMB ?? 0),
        dataDbMB: round(statSync(db).size / 2 ** 20),
        rowsAtEnd: counts[id - 1] ?? null,
      };
    });
    const report = {
      benchmark: 'paxosql-rss',
      rows,
      bulkLoadSeconds: round(loadSeconds),
      writeLoad: { clients: 64, seconds, acknowledged: outcome.acknowledgedWrites, latency: recorder.latency() },
      machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, loadAverage: os.loadavg().map(round) },
      nodes,
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } finally {
    await cluster.stop();
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

await main();
