// One fault-test run: a real cluster (node processes, every peer link behind
// a fault-injecting proxy), Postgres clients running a workload against every
// node, the nemesis breaking things on a seeded schedule; then every fault
// healed, a quiet period (clients keep going), final reads on every node, a
// check that the replicas converged, and the history checkers.
// `npm run fault` (main.ts) and the fault tests both call runFaultTest.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { LocalCluster } from '../../src/cluster/local.js';
import { createRandom, type Random } from '../../src/util/random.js';
import {
  HistoryRecorder,
  combineVerdicts,
  runCheckers,
  verdictWord,
  writeHistoryFile,
  type RunReport,
  type Verdict,
} from './checker/index.js';
import { classifyError, NodeClient } from './client.js';
import { Nemesis, planFaults, sleep, type FaultPlan, type NemesisKind } from './nemesis.js';
import { ProxyMesh } from './proxy.js';
import { createWorkload, type Completion, type PlannedOp, type Workload, type WorkloadName } from './workloads.js';

export interface FaultRunOptions {
  readonly workload: WorkloadName;
  readonly nemeses: readonly NemesisKind[];
  /** Client time in ms: faults for the first durationMs − quietMs, then the quiet period. */
  readonly durationMs: number;
  readonly seed: number;
  readonly nodes: number;
  /** Clients on followers read their local replica (SET paxosql.read_consistency = local). */
  readonly unsafeReads?: boolean;
  /** Where the history, result and cluster files go; default a new temporary directory. */
  readonly outDir?: string;
  /** Default a quarter of the duration, at most 10 s. */
  readonly quietMs?: number;
  /** Default 2. */
  readonly clientsPerNode?: number;
  /** Cluster config fields over the fault-test defaults below. */
  readonly clusterConfig?: Record<string, unknown>;
  /** Progress lines; default none. */
  readonly progress?: (line: string) => void;
  /** Told once the cluster runs, so a test can stop it even if the run itself is abandoned (a timeout). */
  readonly onStarted?: (handles: RunHandles) => void;
}

export interface RunHandles {
  readonly cluster: LocalCluster;
  readonly mesh: ProxyMesh;
}

export interface ConvergenceResult {
  readonly valid: boolean;
  readonly detail: string;
}

export interface FaultRunResult {
  /** Checkers, convergence and node health combined. */
  readonly valid: Verdict;
  readonly seed: number;
  readonly workload: WorkloadName;
  readonly nodes: number;
  readonly nemeses: readonly NemesisKind[];
  readonly unsafeReads: boolean;
  readonly outDir: string;
  readonly historyPath: string;
  readonly resultPath: string;
  /** Node config files and logs. */
  readonly clusterDir: string;
  readonly report: RunReport;
  readonly completedOperations: number;
  readonly nemesisCounts: Readonly<Record<string, number>>;
  readonly plannedFaults: readonly FaultPlan[];
  readonly convergence: ConvergenceResult;
  /** Nodes that did not restart, did not catch up, or exited on their own. */
  readonly clusterProblems: readonly string[];
  readonly elapsedMs: number;
  /** The command that replays this run's schedule. */
  readonly replay: string;
  /** A human-readable summary (what the CLI prints). */
  readonly text: string;
}

/**
 * Timeouts short enough that a 60 s run sees many faults and their
 * recoveries, yet well above an election (electionTicks × tickMs = 300 ms).
 * The small compaction threshold makes a wiped node rejoin through a snapshot.
 */
export const FAULT_CLUSTER_CONFIG = {
  compactionThreshold: 200,
  writeTimeoutMs: 2000,
  idleTransactionTimeoutMs: 2000,
} as const;

/** Client-side timeout beyond the server's own write timeout: a paused node never answers. */
const CLIENT_TIMEOUT_SLACK_MS = 3000;
const CONNECT_TIMEOUT_MS = 2000;
/** Bounds on any one client process, whatever the duration. */
const MAX_OPS_PER_CLIENT = 1_000_000;
const FINAL_READ_ATTEMPTS = 30;
const CONVERGENCE_TIMEOUT_MS = 30_000;
const PROGRESS_EVERY_MS = 5000;

export function replayCommand(o: Pick<FaultRunOptions, 'workload' | 'nemeses' | 'durationMs' | 'seed' | 'nodes' | 'unsafeReads'>): string {
  return [
    'npm run fault --',
    `--workload ${o.workload}`,
    `--nemesis ${o.nemeses.length > 0 ? o.nemeses.join(',') : 'none'}`,
    `--duration ${Math.round(o.durationMs / 1000)}`,
    `--seed ${o.seed}`,
    `--nodes ${o.nodes}`,
    ...(o.unsafeReads === true ? ['--unsafe-reads'] : []),
  ].join(' ');
}

export async function runFaultTest(options: FaultRunOptions): Promise<FaultRunResult> {
  const started = performance.now();
  const log = options.progress ?? (() => undefined);
  const outDir = options.outDir ?? mkdtempSync(join(tmpdir(), 'paxosql-fault-'));
  mkdirSync(outDir, { recursive: true });
  const clusterDir = join(outDir, 'cluster');
  const quietMs = options.quietMs ?? Math.min(10_000, Math.floor(options.durationMs / 4));
  const windowMs = Math.max(0, options.durationMs - quietMs);
  const workload = createWorkload(options.workload);
  const recorder = new HistoryRecorder();
  const random = createRandom(options.seed);
  const plans = planFaults({ seed: options.seed, kinds: options.nemeses, windowMs, nodes: options.nodes, unsafeReads: options.unsafeReads });
  log(`seed ${options.seed}: ${options.workload} on ${options.nodes} nodes, nemesis ${options.nemeses.join(',') || 'none'}, ${Math.round(options.durationMs / 1000)} s${options.unsafeReads === true ? ', UNSAFE local reads on followers' : ''}`);
  log(`output in ${outDir}`);

  const ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
  const mesh = await ProxyMesh.create(ids);
  let nemesis: Nemesis | null = null;
  let cluster: LocalCluster | null = null;
  const clients: NodeClient[] = [];
  try {
    cluster = await LocalCluster.start({
      nodes: options.nodes,
      dir: clusterDir,
      config: { ...FAULT_CLUSTER_CONFIG, ...options.clusterConfig },
      configFor: (id, config) => mesh.configFor(id, config),
      onUnexpectedExit: (id, code, signal) => nemesis?.recordCrash(id, code, signal),
    });
    const theCluster = cluster;
    options.onStarted?.({ cluster: theCluster, mesh });
    nemesis = new Nemesis({ cluster: theCluster, mesh, recorder, seed: options.seed, log });
    const writeTimeoutMs = Number(options.clusterConfig?.['writeTimeoutMs'] ?? FAULT_CLUSTER_CONFIG.writeTimeoutMs);
    const clientOptions = {
      url: (node: number) => theCluster.url(node),
      statementTimeoutMs: writeTimeoutMs + CLIENT_TIMEOUT_SLACK_MS,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    };
    await theCluster.waitForLeader(20_000);
    await setUp(workload, new NodeClient({ ...clientOptions, nodes: ids }));
    log('schema ready; clients start');

    // Clients run until told to stop; the nemesis runs in the fault window, then heals everything.
    let stopClients = false;
    const processes = ids.length * (options.clientsPerNode ?? 2);
    const loops = Array.from({ length: processes }, (_, p) => {
      const client = new NodeClient({ ...clientOptions, nodes: rotate(ids, p % ids.length), onConnect: connectHook(options.unsafeReads === true) });
      clients.push(client);
      return clientLoop(p, client, workload, random.fork(), recorder, () => stopClients);
    });
    const ticker = setInterval(() => log(progressLine(recorder, started)), PROGRESS_EVERY_MS);
    try {
      await nemesis.run(plans, performance.now() + windowMs, () => false);
      await nemesis.healAll();
      log(`all faults healed; quiet period of ${Math.round(quietMs / 1000)} s`);
      await sleep(quietMs);
    } finally {
      stopClients = true;
      await Promise.all(loops);
      clearInterval(ticker);
    }
    log(progressLine(recorder, started));

    await finalReads(theCluster, workload, recorder, clientOptions, log);
    const convergence = await checkConvergence(theCluster);
    log(`convergence: ${convergence.detail}`);

    const historyPath = join(outDir, 'history.jsonl');
    await writeHistoryFile(historyPath, recorder.events());
    log(`checking ${recorder.events().length} events…`);
    const report = runCheckers(recorder.events(), workload.checkers());
    const clusterProblems = nemesis.failures();
    const valid = combineVerdicts([report.valid, convergence.valid, clusterProblems.length === 0]);
    const completedOperations = report.summary.total.ok + report.summary.total.fail;
    const replay = replayCommand(options);
    const text = [
      `result: ${verdictWord(valid)} (seed ${options.seed})`,
      report.text,
      `nemesis: ${JSON.stringify(nemesis.eventCounts())}`,
      `convergence: ${convergence.detail}`,
      ...(clusterProblems.length > 0 ? [`cluster problems:\n  ${clusterProblems.join('\n  ')}`] : []),
      `history: ${historyPath}`,
      `node logs: ${clusterDir}`,
      `replay: ${replay}`,
    ].join('\n\n');
    const resultPath = join(outDir, 'result.json');
    const result: FaultRunResult = {
      valid,
      seed: options.seed,
      workload: options.workload,
      nodes: options.nodes,
      nemeses: options.nemeses,
      unsafeReads: options.unsafeReads === true,
      outDir,
      historyPath,
      resultPath,
      clusterDir,
      report,
      completedOperations,
      nemesisCounts: nemesis.eventCounts(),
      plannedFaults: plans,
      convergence,
      clusterProblems,
      elapsedMs: Math.round(performance.now() - started),
      replay,
      text,
    };
    writeFileSync(resultPath, JSON.stringify(resultJson(result), null, 2) + '\n');
    return result;
  } finally {
    for (const client of clients) client.close();
    await cluster?.stop({ keepFiles: true });
    await mesh.close();
  }
}

/** The result file: everything but the long explanation texts duplicated elsewhere. */
function resultJson(result: FaultRunResult): unknown {
  const { report, text: _text, ...rest } = result;
  return {
    ...rest,
    checkers: {
      valid: report.valid,
      verdicts: report.verdicts,
      summary: report.summary,
      ...(report.register && { register: { ...report.register, failures: report.register.failures.map((f) => ({ key: f.key, explanation: f.explanation, events: f.events })) } }),
      ...(report.bank && { bank: report.bank }),
      ...(report.set && { set: report.set }),
    },
  };
}

/** The node order client p tries: its home node first, then the others. */
function rotate(ids: readonly number[], by: number): number[] {
  return [...ids.slice(by), ...ids.slice(0, by)];
}

/** In unsafe mode, a session that lands on a follower reads that replica's local state. */
function connectHook(unsafeReads: boolean): ((client: pg.Client, node: number) => Promise<void>) | undefined {
  if (!unsafeReads) return undefined;
  return async (client) => {
    const r = await client.query<{ 'paxosql.status': string }>('SHOW paxosql.status');
    const status = JSON.parse(r.rows[0]!['paxosql.status']) as { role: string };
    if (status.role !== 'leader') await client.query('SET paxosql.read_consistency = local');
  };
}

/** Runs the setup statements until each succeeds (the cluster may still be electing). */
async function setUp(workload: Workload, client: NodeClient): Promise<void> {
  const deadline = performance.now() + 60_000;
  try {
    for (const sql of workload.setupStatements) {
      for (let attempt = 1; ; attempt++) {
        try {
          if (!(await client.connect())) throw new Error('no node accepts connections');
          await client.query(sql);
          break;
        } catch (error) {
          if (performance.now() > deadline) throw new Error(`setup statement failed after ${attempt} attempts: ${sql}: ${String(error)}`);
          await sleep(200);
        }
      }
    }
  } finally {
    client.close();
  }
}

async function clientLoop(
  process: number,
  client: NodeClient,
  workload: Workload,
  random: Random,
  recorder: HistoryRecorder,
  stopped: () => boolean,
): Promise<void> {
  for (let ops = 0; ops < MAX_OPS_PER_CLIENT && !stopped(); ops++) {
    // Connect before invoking: a refused connection is not an operation.
    if (!(await client.connect())) {
      await sleep(100);
      continue;
    }
    await perform(process, workload.next(process, random), client, recorder);
  }
}

async function perform(process: number, op: PlannedOp, client: NodeClient, recorder: HistoryRecorder): Promise<Completion> {
  recorder.invoke(process, op.f, op.key, op.value);
  let completion: Completion;
  try {
    completion = await op.run(client);
  } catch (error) {
    completion = classifyError(error);
  }
  recorder.complete(process, completion.type, completion.value, completion.error);
  return completion;
}

/** Each node's final reads, on its own connection to that node, retried until they succeed. */
async function finalReads(
  cluster: LocalCluster,
  workload: Workload,
  recorder: HistoryRecorder,
  clientOptions: { url: (node: number) => string; statementTimeoutMs: number; connectTimeoutMs: number },
  log: (line: string) => void,
): Promise<void> {
  for (const node of cluster.ids) {
    const process = 10_000 + node; // apart from the workload's processes
    const client = new NodeClient({ ...clientOptions, nodes: [node] });
    try {
      for (const op of workload.finalReads(node)) {
        let done = false;
        for (let attempt = 0; attempt < FINAL_READ_ATTEMPTS && !done; attempt++) {
          if (!(await client.connect())) {
            await sleep(500);
            continue;
          }
          done = (await perform(process, op, client, recorder)).type === 'ok';
          if (!done) await sleep(200);
        }
        if (!done) log(`final read ${op.f} ${op.key ?? ''} on node ${node} never succeeded`);
      }
    } finally {
      client.close();
    }
  }
}

async function checkConvergence(cluster: LocalCluster): Promise<ConvergenceResult> {
  const down = cluster.ids.filter((id) => !cluster.isRunning(id));
  if (down.length > 0) return { valid: false, detail: `nodes ${down.join(', ')} are not running` };
  try {
    const sums = await cluster.convergedChecksums(CONVERGENCE_TIMEOUT_MS);
    const digests = new Set(sums.map((s) => s.digest));
    if (digests.size !== 1) return { valid: false, detail: `replicas DIVERGED at slot ${sums[0]?.applied}: ${JSON.stringify(sums)}` };
    return { valid: true, detail: `all ${sums.length} replicas identical at slot ${sums[0]!.applied} (${sums[0]!.rows} rows)` };
  } catch (error) {
    return { valid: false, detail: `replicas did not converge: ${error instanceof Error ? error.message : String(error)}` };
  }
}

function progressLine(recorder: HistoryRecorder, started: number): string {
  const counts = { ok: 0, fail: 0, info: 0 };
  for (const e of recorder.events()) if (e.process >= 0 && e.type !== 'invoke') counts[e.type]++;
  const seconds = Math.round((performance.now() - started) / 1000);
  return `[${seconds}s] ok ${counts.ok}, fail ${counts.fail}, info ${counts.info}`;
}
