// Where a paxosql node spends its time under write load. A local 3-node
// cluster starts; nodes 1 and 2 are replaced by processes of our own running
// `node --cpu-prof dist/src/cli/main.js start …` (NODE_OPTIONS may not carry
// --cpu-prof), and if node 3 leads it is restarted so that a profiled node
// leads. 64 clients insert for `--seconds`, the profiled nodes stop cleanly
// (SIGTERM, so the profiles are written), and the profiles are summarized:
// top functions by self time and time by module, for the leader and a
// follower, main thread and worker threads.
//
//   npm run build && node dist/bench/profile.js [--seconds 20] [--dir /tmp/paxosql-prof] [--out bench/out/profile.json]
// Open a .cpuprofile in Chrome DevTools (Performance → Load profile) for the full picture.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { CLI, LocalCluster } from '../src/cluster/local.js';
import { NODE_ENV, NODE_V8_FLAGS } from '../src/cluster/process-settings.js';
import { insertLoad } from './insert-load.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** Shorten a script URL to what says where it lives: node:internal, a package, or a file of paxosql. */
export function moduleOf(url: string): string {
  if (url === '') return '(native / vm)';
  if (url.startsWith('node:')) return url.replace(/^node:internal\/.*/, 'node:internal');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1] as string;
  const own = /\/dist\/(.*)$/.exec(url);
  return own !== null ? (own[1] as string) : url.replace(/^file:\/\//, '');
}

interface Summary {
  readonly file: string;
  readonly totalMs: number;
  readonly idleMs: number;
  readonly topFunctions: { name: string; where: string; selfMs: number; percent: number }[];
  readonly byModule: { module: string; selfMs: number; percent: number }[];
}

export function summarize(file: string, profile: CpuProfile, top = 25): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfById = new Map<number, number>();
  profile.samples.forEach((id, i) => selfById.set(id, (selfById.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const fn = new Map<string, { name: string; where: string; selfMs: number }>();
  const mod = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, ms] of selfById) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    total += ms;
    if (frame.functionName === '(idle)') {
      idle += ms;
      continue;
    }
    const where = `${moduleOf(frame.url)}:${frame.lineNumber + 1}`;
    const key = `${frame.functionName}@${where}`;
    const entry = fn.get(key) ?? { name: frame.functionName || '(anonymous)', where, selfMs: 0 };
    entry.selfMs += ms;
    fn.set(key, entry);
    const m = frame.url === '' ? frame.functionName : moduleOf(frame.url);
    mod.set(m, (mod.get(m) ?? 0) + ms);
  }
  const busy = total - idle;
  const pct = (ms: number): number => Math.round((ms / busy) * 1000) / 10;
  return {
    file,
    totalMs: Math.round(total),
    idleMs: Math.round(idle),
    topFunctions: [...fn.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top).map((f) => ({ ...f, selfMs: Math.round(f.selfMs), percent: pct(f.selfMs) })),
    byModule: [...mod].sort((a, b) => b[1] - a[1]).slice(0, top).map(([module, ms]) => ({ module, selfMs: Math.round(ms), percent: pct(ms) })),
  };
}

const PROFILED = [1, 2];

async function roleOf(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000, query_timeout: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const r = await client.query<{ 'paxosql.status': string }>('SHOW paxosql.status');
    return (JSON.parse(r.rows[0]?.['paxosql.status'] ?? '{}') as { role?: string }).role ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

function startProfiled(cluster: LocalCluster, id: number, dir: string): ChildProcess {
  const log = createWriteStream(join(dir, `node-${id}.log`));
  const child = spawn(process.execPath, [...NODE_V8_FLAGS, '--cpu-prof', `--cpu-prof-dir=${dir}`, CLI, 'start', '--config', cluster.nodeConfigPath(id), '--node', String(id), '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...NODE_ENV },
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  return child;
}

async function stopProfiled(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  const seconds = Number(arg('--seconds', '20'));
  const dir = arg('--dir', join(os.tmpdir(), 'paxosql-prof'));
  const out = arg('--out', 'bench/out/profile.json');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const cluster = await LocalCluster.start({ nodes: 3, logLevel: 'warn' });
  const profiled = new Map<number, ChildProcess>();
  const roles = new Map<number, string>();
  let acknowledged = 0;
  try {
    await cluster.waitForLeader(20_000);
    for (const id of PROFILED) {
      await cluster.kill(id);
      profiled.set(id, startProfiled(cluster, id, dir));
      await until(async () => (await roleOf(cluster.url(id))) !== null, `profiled node ${id} to serve`);
    }
    const leaderIs = async (ids: number[]): Promise<boolean> => {
      const r = await Promise.all(ids.map((id) => roleOf(cluster.url(id))));
      return r.includes('leader');
    };
    await until(() => leaderIs(cluster.ids), 'a leader');
    if (!(await leaderIs(PROFILED))) {
      // Node 3 leads: take it away so that a profiled node is elected, then bring it back as a follower.
      await cluster.kill(3);
      await until(() => leaderIs(PROFILED), 'a profiled node to lead');
      await cluster.startNode(3);
    }
    await cluster.query(1, 'CREATE TABLE bench_insert (id BIGINT PRIMARY KEY, client INTEGER NOT NULL, payload TEXT NOT NULL)');
    const { outcome } = await insertLoad(cluster.ids.map((id) => cluster.url(id)), seconds);
    acknowledged = outcome.acknowledgedWrites;
    for (const [id, child] of profiled) roles.set(child.pid as number, `node ${id} ${(await roleOf(cluster.url(id))) ?? 'down'}`);
  } finally {
    for (const child of profiled.values()) await stopProfiled(child);
    await cluster.stop();
  }
  const summaries = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => {
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread.
      const [, , , pid, thread] = f.split('.');
      const who = roles.get(Number(pid)) ?? `pid ${pid}`;
      return { who, thread: Number(thread) === 0 ? 'main' : `worker ${thread}`, ...summarize(join(dir, f), JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile) };
    })
    .sort((a, b) => a.who.localeCompare(b.who) || b.totalMs - b.idleMs - (a.totalMs - a.idleMs));
  const report = { benchmark: 'paxosql-profile', seconds, clients: 64, acknowledged, writesPerSecond: Math.round(acknowledged / seconds), loadAverage: os.loadavg(), profiles: summaries };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  for (const s of summaries) {
    process.stdout.write(`\n${s.who}, ${s.thread}: busy ${s.totalMs - s.idleMs} ms of ${s.totalMs} ms (${s.file})\n`);
    for (const f of s.topFunctions.slice(0, 15)) process.stdout.write(`  ${String(f.percent).padStart(5)}%  ${f.name}  ${f.where}\n`);
    process.stdout.write('  by module: ' + s.byModule.slice(0, 8).map((m) => `${m.module} ${m.percent}%`).join(', ') + '\n');
  }
}

await main();
