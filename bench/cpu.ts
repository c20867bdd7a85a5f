// CPU time per write: what each replica spends, by thread, for one
// acknowledged insert — and, in the same run, what PostgreSQL's servers spend
// for one. On a machine where the nodes and the load generator share the
// cores, throughput is the cores divided by this figure, so it is the number
// that says where speed must come from; unlike writes/s it hardly moves with
// the machine's other load.
//
// A local 3-node cluster runs the insert workload (64 clients, extended
// protocol) for --seconds; user+system time of every thread of every node is
// read from /proc before and after. Threads are told apart by their start
// order: the main thread is the process itself (it also writes paxos.db), and
// a node starts its apply thread and read thread last (src/cluster/node.ts),
// so the two newest threads are those; the rest are V8's and libuv's helper
// threads (garbage collection, mostly). With --postgres URL --postgres-user NAME the
// same load runs against that server, and the CPU of every process of NAME
// (primary, standbys, WAL senders and receivers) is the baseline.
//
// --kill-follower: then kill -9 a follower and run the load again on the two
// survivors. What a follower's loss costs cannot be read from writes/s when
// the nodes share the cores (the dead node's CPU goes to the others); the
// survivors' CPU per write before and after can: where each node has cores of
// its own and is CPU-bound, throughput falls by the ratio of the two.
//
//   npm run build && node dist/bench/cpu.js [--seconds 15] [--postgres postgres://… --postgres-user postgres] [--kill-follower] [--out bench/out/cpu.json]

import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import pg from 'pg';
import { insertLoad } from './insert-load.js';
import { createWorkload } from '../src/bench/workloads.js';
import { LocalCluster } from '../src/cluster/local.js';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** CPU seconds (user + system) of one thread, or of a whole process when tid is omitted. */
function cpuSeconds(pid: number, tid?: number): number {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces), 1-based: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0; // the thread or process ended
  }
}

type Role = 'main' | 'apply' | 'read' | 'V8/libuv helpers' | 'started during the run (snapshot writer)';

function nodeThreads(pid: number): Map<number, Role> {
  const tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
  const newest = tids.slice(-2);
  const roles: Role[] = ['apply', 'read'];
  return new Map(tids.map((tid) => [tid, tid === pid ? 'main' : newest.includes(tid) ? (roles[newest.indexOf(tid)] as Role) : 'V8/libuv helpers']));
}

interface Loaded {
  readonly writes: number;
  /** This process's own CPU per write: the load generator's share of the cores. */
  readonly loadGeneratorMicrosecondsPerWrite: number;
}

/** Seconds of load before every measured run, so that JIT warm-up and the first connections are not counted. */
const WARM_UP_SECONDS = 3;

/** The setup statements, a warm-up, then `onStart()` (take the CPU readings there) and the measured load. */
async function load(urls: string[], seconds: number, onStart: () => void): Promise<Loaded> {
  const setup = new pg.Client({ connectionString: urls[0] });
  await setup.connect();
  for (const sql of createWorkload('insert', 10).setup) await setup.query(sql);
  await setup.end();
  await insertLoad(urls, WARM_UP_SECONDS, 1_000_000_000, 2);
  onStart();
  const cpu0 = process.cpuUsage();
  const { outcome } = await insertLoad(urls, seconds);
  const cpu = process.cpuUsage(cpu0);
  const writes = outcome.acknowledgedWrites;
  return { writes, loadGeneratorMicrosecondsPerWrite: Math.round(((cpu.user + cpu.system) / writes) * 10) / 10 };
}

async function measurePaxosql(seconds: number, killFollower: boolean): Promise<Record<string, unknown>> {
  const cluster = await LocalCluster.start({ nodes: 3, logLevel: 'warn' });
  try {
    const leader = await cluster.waitForLeader(20_000);
    const pids = cluster.ids.map((id) => cluster.pid(id) as number);
    const threads = new Map(pids.map((pid) => [pid, nodeThreads(pid)]));
    let before = new Map<string, number>();
    let processBefore = new Map<number, number>();
    const { writes, loadGeneratorMicrosecondsPerWrite } = await load(cluster.ids.map((id) => cluster.url(id)), seconds, () => {
      before = new Map([...threads].flatMap(([pid, roles]) => [...roles.keys()].map((tid) => [`${pid}/${tid}`, cpuSeconds(pid, tid)])));
      processBefore = new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
    });
    const processCpu = new Map(pids.map((pid) => [pid, cpuSeconds(pid) - (processBefore.get(pid) ?? 0)]));
    const byRole = new Map<Role, number>();
    // Per node too: the leader serves every client's protocol work, the followers only replicate and apply.
    const byNode = new Map<string, Map<Role, number>>();
    for (const [pid, roles] of threads) {
      const id = cluster.ids[pids.indexOf(pid)] as number;
      const nodeRoles = new Map<Role, number>();
      byNode.set(`${id}${id === leader ? ' (leader)' : ''}`, nodeRoles);
      for (const [tid, role] of roles) {
        const seconds = cpuSeconds(pid, tid) - (before.get(`${pid}/${tid}`) ?? 0);
        byRole.set(role, (byRole.get(role) ?? 0) + seconds);
        nodeRoles.set(role, (nodeRoles.get(role) ?? 0) + seconds);
      }
      // The snapshot writer starts at a node's first snapshot (threads that ended meanwhile are not seen).
      for (const tid of nodeThreads(pid).keys()) {
        if (roles.has(tid)) continue;
        const role: Role = 'started during the run (snapshot writer)';
        byRole.set(role, (byRole.get(role) ?? 0) + cpuSeconds(pid, tid));
      }
    }
    const perWrite = (s: number): number => Math.round((s / writes) * 1e7) / 10;
    const total = [...byRole.values()].reduce((a, b) => a + b, 0);
    return {
      writes,
      writesPerSecond: Math.round(writes / seconds),
      microsecondsPerWrite: perWrite(total),
      microsecondsPerWritePerNode: Math.round(perWrite(total) / 3 * 10) / 10,
      byThread: Object.fromEntries([...byRole].sort((a, b) => b[1] - a[1]).map(([role, s]) => [role, perWrite(s)])),
      byNode: Object.fromEntries([...byNode].map(([node, roles]) => [node, Object.fromEntries([...roles].filter(([, s]) => s > 0).map(([role, s]) => [role, perWrite(s)]))])),
      loadGeneratorMicrosecondsPerWrite,
      ...(killFollower ? { followerKill: await afterFollowerKill(cluster, leader, seconds, writes, processCpu) } : {}),
    };
  } finally {
    await cluster.stop();
  }
}

/** Kill -9 a follower, load the two survivors, and compare their CPU per write with the run before. */
async function afterFollowerKill(cluster: LocalCluster, leader: number, seconds: number, writesBefore: number, cpuBefore: ReadonlyMap<number, number>): Promise<Record<string, unknown>> {
  const victim = cluster.ids.find((id) => id !== leader) as number;
  const survivors = cluster.ids.filter((id) => id !== victim);
  const pids = survivors.map((id) => cluster.pid(id) as number);
  await cluster.kill(victim);
  let start = new Map<number, number>();
  const { writes } = await load(survivors.map((id) => cluster.url(id)), seconds, () => {
    start = new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
  });
  const cpuAfter = pids.reduce((sum, pid) => sum + cpuSeconds(pid) - (start.get(pid) ?? 0), 0);
  const survivorsBefore = pids.reduce((sum, pid) => sum + (cpuBefore.get(pid) ?? 0), 0);
  const before = (survivorsBefore / writesBefore) * 1e6;
  const after = (cpuAfter / writes) * 1e6;
  return {
    killed: victim,
    survivors,
    writesPerSecondAfter: Math.round(writes / seconds),
    survivorsMicrosecondsPerWriteBefore: Math.round(before * 10) / 10,
    survivorsMicrosecondsPerWriteAfter: Math.round(after * 10) / 10,
    /** Throughput left where each node has its own cores and is CPU-bound: before / after. */
    throughputRatioIfCpuBound: Math.round((before / after) * 100) / 100,
  };
}

function processesOf(user: string): number[] {
  return execFileSync('pgrep', ['-u', user], { encoding: 'utf8' }).split('\n').filter((l) => l !== '').map(Number);
}

async function measurePostgres(url: string, user: string, seconds: number): Promise<Record<string, unknown>> {
  let pids: number[] = [];
  let before = new Map<number, number>();
  const { writes, loadGeneratorMicrosecondsPerWrite } = await load([url], seconds, () => {
    pids = processesOf(user);
    before = new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
  });
  // Backends started for this run's connections count from zero.
  let total = 0;
  for (const pid of new Set([...pids, ...processesOf(user)])) total += cpuSeconds(pid) - (before.get(pid) ?? 0);
  return { writes, writesPerSecond: Math.round(writes / seconds), microsecondsPerWrite: Math.round((total / writes) * 1e7) / 10, loadGeneratorMicrosecondsPerWrite };
}

async function main(): Promise<void> {
  const seconds = Number(arg('--seconds', '15'));
  const out = arg('--out', 'bench/out/cpu.json');
  const postgres = arg('--postgres', '');
  const paxosql = await measurePaxosql(seconds, process.argv.includes('--kill-follower'));
  const baseline = postgres === '' ? null : await measurePostgres(postgres, arg('--postgres-user', 'postgres'), seconds);
  const report = {
    benchmark: 'paxosql-cpu-per-write',
    workload: 'insert, 64 clients, extended protocol',
    seconds,
    paxosql,
    postgres: baseline,
    cpuRatioToPostgres: baseline === null ? null : Math.round(((paxosql['microsecondsPerWrite'] as number) / (baseline['microsecondsPerWrite'] as number)) * 100) / 100,
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version, loadAverage: os.loadavg() },
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

await main();
