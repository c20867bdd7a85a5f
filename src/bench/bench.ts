// One `paxosql bench` run: start a local cluster (or take the --target URLs),
// create the workload's tables, run the clients and the kill schedule side by
// side while printing a line per second, then check that every acknowledged
// write is on every replica, and write results.json and timeline.svg.

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { LocalCluster } from '../cluster/local.js';
import { failureImpacts } from './analysis.js';
import { CommandFaults, LocalClusterFaults, runSchedule, type BenchEvent, type FaultDriver } from './faults.js';
import { classifyError, runLoad } from './load.js';
import { validateOptions, type BenchOptions } from './options.js';
import { describeParameters, machineInfo, progressLine, summaryText, totalsOf, type BenchResults } from './report.js';
import { Recorder } from './stats.js';
import { timelineSvg } from './svg.js';
import { finalCheck } from './verify.js';
import { createWorkload } from './workloads.js';
import { createRandom } from '../util/random.js';

export interface BenchIo {
  readonly logger?: Logger;
  /** Progress lines and the summary; default process.stdout. */
  readonly out?: { write(text: string): unknown };
}

interface Target {
  readonly urls: readonly string[];
  readonly driver: FaultDriver;
  /** The URL to create the tables through (the leader's, to spare a forwarding hop). */
  readonly setupUrl: string;
  close(keepFiles: boolean): Promise<void>;
  readonly describe: string;
}

const SETUP_ATTEMPTS = 20;

export async function runBench(options: BenchOptions, io: BenchIo = {}): Promise<BenchResults> {
  validateOptions(options);
  const logger = io.logger ?? pino({ level: 'silent' });
  const out = io.out ?? process.stdout;
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const target = await openTarget(options, logger);
  let keepFiles = false;
  try {
    out.write(`paxosql bench: ${target.describe}\n`);
    const workload = createWorkload(options.workload, options.accounts);
    await runSetup(target.setupUrl, workload.setup);
    const results = await measure(options, target, workload, logger, out);
    keepFiles = !results.check.pass;
    writeFileSync(join(outDir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    writeFileSync(join(outDir, 'timeline.svg'), timelineSvg({ title: titleOf(results), seconds: results.seconds, events: results.events, durationMs: options.durationMs, outages: outagesOf(results) }));
    out.write(summaryText(results, outDir));
    return results;
  } catch (error) {
    keepFiles = true;
    throw error;
  } finally {
    await target.close(keepFiles);
  }
}

function outagesOf(results: BenchResults): { fromMs: number; toMs: number }[] {
  return results.failures
    .filter((f) => f.unavailableMs !== null)
    .map((f) => ({ fromMs: f.killedAtMs, toMs: f.killedAtMs + (f.unavailableMs as number) }));
}

function titleOf(results: BenchResults): string {
  const p = results.parameters;
  return `paxosql bench — ${p.workload}, ${p.clients} clients, ${p.nodes} nodes, ${p.protocol} protocol${p.kills.length > 0 ? `, kills ${p.kills.join(' ')}` : ''}`;
}

async function openTarget(options: BenchOptions, logger: Logger): Promise<Target> {
  if (options.targets.length > 0) {
    const urls = options.targets;
    return {
      urls,
      driver: new CommandFaults(urls, options.killCmd, options.restartCmd, logger),
      setupUrl: urls[0] as string,
      close: async () => undefined,
      describe: `driving ${urls.join(', ')}`,
    };
  }
  const cluster = await LocalCluster.start({ nodes: options.nodes, logLevel: 'warn' });
  try {
    const leader = await cluster.waitForLeader(20_000);
    return {
      urls: cluster.ids.map((id) => cluster.url(id)),
      driver: new LocalClusterFaults(cluster),
      setupUrl: cluster.url(leader),
      close: async (keepFiles) => {
        await cluster.stop({ keepFiles });
        if (keepFiles) logger.warn({ dir: cluster.dir }, 'kept the cluster files for inspection');
      },
      describe: `a local ${options.nodes}-node cluster in ${cluster.dir}`,
    };
  } catch (error) {
    await cluster.stop({ keepFiles: true });
    throw error;
  }
}

/** Create the workload's tables; a statement that fails for a retryable reason (an election) is retried, bounded. */
async function runSetup(url: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, query_timeout: 60_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    for (const sql of statements) {
      for (let attempt = 1; ; attempt++) {
        try {
          await client.query(sql);
          break;
        } catch (error) {
          if (!classifyError(error).retry || attempt >= SETUP_ATTEMPTS) throw error;
          await new Promise((done) => setTimeout(done, 100 * attempt));
        }
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function measure(
  options: BenchOptions,
  target: Target,
  workload: ReturnType<typeof createWorkload>,
  logger: Logger,
  out: { write(text: string): unknown },
): Promise<BenchResults> {
  const loadAverageStart = os.loadavg();
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const recorder = new Recorder(() => performance.now() - t0);
  const events: BenchEvent[] = [];
  const progress = startProgress(recorder, events, options.durationMs, out);
  const cpuAtStart = process.cpuUsage();
  const [outcome] = await Promise.all([
    runLoad({
      urls: target.urls,
      clients: options.clients,
      protocol: options.protocol,
      workload,
      recorder,
      endMs: options.durationMs,
      opTimeoutMs: options.opTimeoutMs,
      random: createRandom(options.seed),
      logger,
    }),
    runSchedule({
      driver: target.driver,
      kills: options.kills,
      restartAfterMs: options.restartAfterMs,
      endMs: options.durationMs,
      now: () => recorder.now(),
      onEvent: (e) => events.push(e),
      logger,
    }),
  ]);
  const loadCpu = process.cpuUsage(cpuAtStart);
  await progress.finish();
  // Bring back the nodes still down, so that every replica can be checked; a target node without --restart-cmd stays down.
  const driver = target.driver;
  for (const id of driver.ids) if (driver.isDown(id)) await driver.restart(id);
  const up = driver.ids.filter((id) => !driver.isDown(id)).map((id) => ({ node: id, url: target.urls[id - 1] as string }));
  const check = await finalCheck(up, driver.ids.filter((id) => driver.isDown(id)), options.workload, outcome);
  const seconds = recorder.seconds(options.durationMs);
  const sortedEvents = [...events].sort((a, b) => a.atMs - b.atMs);
  return {
    benchmark: 'paxosql-bench',
    version: 1,
    startedAt,
    parameters: describeParameters(options, target.urls),
    machine: machineInfo(loadAverageStart),
    loadGenerator: loadGeneratorCpu(loadCpu, seconds, options.durationMs),
    totals: totalsOf(seconds, outcome, recorder.errorTotals(), recorder.latency(), options.durationMs),
    seconds,
    events: sortedEvents,
    failures: failureImpacts({
      events: sortedEvents,
      completions: recorder.writeCompletions(),
      firstWriteStartedAtOrAfter: (t) => recorder.firstWriteStartedAtOrAfter(t),
      durationMs: options.durationMs,
    }),
    check,
  };
}

function loadGeneratorCpu(cpu: NodeJS.CpuUsage, seconds: readonly { writes: number; reads: number }[], durationMs: number): BenchResults['loadGenerator'] {
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const operations = seconds.reduce((n, s) => n + s.writes + s.reads, 0);
  return {
    cpuMs: Math.round(cpuMs),
    coresBusy: Math.round((cpuMs / durationMs) * 100) / 100,
    cpuMicrosecondsPerOperation: Math.round((cpuMs * 1000) / Math.max(1, operations) * 10) / 10,
  };
}

/** Print the row of each second once it is over (a little after, so late completions are counted). */
function startProgress(recorder: Recorder, events: readonly BenchEvent[], durationMs: number, out: { write(text: string): unknown }): { finish(): Promise<void> } {
  const seconds = Math.ceil(durationMs / 1000);
  let next = 0;
  let timer: NodeJS.Timeout | undefined;
  const printDue = (all: boolean): void => {
    while (next < seconds && (all || recorder.now() >= (next + 1) * 1000 + 50)) {
      out.write(progressLine(recorder.row(next), events) + '\n');
      next++;
    }
  };
  const schedule = (): void => {
    const wait = Math.max(10, (next + 1) * 1000 + 60 - recorder.now());
    timer = setTimeout(() => {
      printDue(false);
      if (next < seconds) schedule();
    }, wait);
  };
  schedule();
  return {
    finish: async () => {
      if (timer !== undefined) clearTimeout(timer);
      printDue(true);
    },
  };
}
