// `paxosql bench`: turn the command line into BenchOptions and run. Kept apart
// from src/cli/main.ts so that tests can parse options without the CLI.

import { pino } from 'pino';
import { runBench } from './bench.js';
import {
  BenchOptionError,
  DEFAULT_OPTIONS,
  PROTOCOLS,
  WORKLOADS,
  parseDuration,
  parseKills,
  type BenchOptions,
  type ProtocolName,
  type WorkloadName,
} from './options.js';

/** The options as commander hands them over (strings, or string lists for repeatable options). */
export interface RawBenchOptions {
  readonly nodes?: string;
  readonly clients?: string;
  readonly duration?: string;
  readonly workload?: string;
  readonly kill?: string;
  readonly restartAfter?: string;
  readonly protocol?: string;
  readonly target?: readonly string[];
  readonly killCmd?: string;
  readonly restartCmd?: string;
  readonly out?: string;
  readonly opTimeout?: string;
  readonly seed?: string;
  readonly accounts?: string;
  readonly logLevel?: string;
}

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n)) throw new BenchOptionError(`${name} expects an integer, not "${text}"`);
  return n;
}

function oneOf<T extends string>(name: string, text: string | undefined, allowed: readonly T[], fallback: T): T {
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) throw new BenchOptionError(`${name} is one of ${allowed.join(', ')}, not "${text}"`);
  return text as T;
}

/** Output directory by default: bench/out/run-<time> under the current directory. */
function defaultOutDir(): string {
  return `bench/out/run-${new Date().toISOString().replace(/[:.]/g, '-')}`;
}

export function benchOptionsFrom(raw: RawBenchOptions): BenchOptions {
  return {
    nodes: integer('--nodes', raw.nodes, DEFAULT_OPTIONS.nodes),
    clients: integer('--clients', raw.clients, DEFAULT_OPTIONS.clients),
    durationMs: raw.duration === undefined ? DEFAULT_OPTIONS.durationMs : parseDuration(raw.duration),
    workload: oneOf<WorkloadName>('--workload', raw.workload, WORKLOADS, DEFAULT_OPTIONS.workload),
    protocol: oneOf<ProtocolName>('--protocol', raw.protocol, PROTOCOLS, DEFAULT_OPTIONS.protocol),
    kills: raw.kill === undefined ? [] : parseKills(raw.kill),
    restartAfterMs: raw.restartAfter === undefined ? null : parseDuration(raw.restartAfter),
    targets: (raw.target ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t.length > 0),
    killCmd: raw.killCmd ?? null,
    restartCmd: raw.restartCmd ?? null,
    outDir: raw.out ?? defaultOutDir(),
    opTimeoutMs: raw.opTimeout === undefined ? DEFAULT_OPTIONS.opTimeoutMs : parseDuration(raw.opTimeout),
    seed: integer('--seed', raw.seed, DEFAULT_OPTIONS.seed),
    accounts: integer('--accounts', raw.accounts, DEFAULT_OPTIONS.accounts),
  };
}

/**
 * Ctrl-C, a kill, a closed terminal, or a reader that stopped reading
 * (`paxosql bench | head`): exit at once, which kills the bench's own nodes
 * (LocalCluster's exit hook) rather than leaving them running. Exit codes as a
 * shell reports a death by that signal.
 */
function exitOnInterruption(): void {
  const codes = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
  for (const [signal, code] of Object.entries(codes)) {
    process.once(signal, () => {
      process.stderr.write(`paxosql bench: interrupted (${signal}); stopping the run's nodes\n`);
      process.exit(code);
    });
  }
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(141); // 128 + SIGPIPE
  });
}

/** The command's action: exit code 2 for bad options, 1 when the acknowledged-writes check fails. */
export async function benchCommand(raw: RawBenchOptions): Promise<void> {
  let options: BenchOptions;
  try {
    options = benchOptionsFrom(raw);
  } catch (error) {
    if (!(error instanceof BenchOptionError)) throw error;
    process.stderr.write(`paxosql bench: ${error.message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: raw.logLevel ?? 'warn' }, pino.destination(2));
  exitOnInterruption();
  try {
    const results = await runBench(options, { logger });
    if (!results.check.pass) process.exitCode = 1;
  } catch (error) {
    if (error instanceof BenchOptionError) {
      process.stderr.write(`paxosql bench: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`paxosql bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
