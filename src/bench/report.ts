// results.json (every figure, the parameters, the machine) and the human
// summary printed at the end of a run, plus the one-line-per-second progress.

import os from 'node:os';
import type { FailureImpact } from './analysis.js';
import type { BenchEvent } from './faults.js';
import type { LoadOutcome } from './load.js';
import type { BenchOptions } from './options.js';
import { describeVictim } from './options.js';
import type { LatencySummary, SecondStats } from './stats.js';
import type { FinalCheck } from './verify.js';

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly node: string;
  readonly platform: string;
  readonly totalMemoryMB: number;
  /** os.loadavg() when the load started and when it ended: other work on the machine skews the figures. */
  readonly loadAverageStart: readonly number[];
  readonly loadAverageEnd: readonly number[];
}

export interface BenchResults {
  readonly benchmark: 'paxosql-bench';
  readonly version: 1;
  readonly startedAt: string;
  readonly parameters: {
    readonly nodes: number;
    readonly clients: number;
    readonly durationMs: number;
    readonly workload: string;
    readonly protocol: string;
    readonly kills: readonly string[];
    readonly restartAfterMs: number | null;
    readonly target: 'local-cluster' | 'urls';
    readonly urls: readonly string[];
    readonly opTimeoutMs: number;
    readonly seed: number;
    readonly accounts: number;
  };
  readonly machine: MachineInfo;
  /**
   * CPU of this process (the clients) while the load ran. On a machine it
   * shares with the servers, that CPU is theirs no longer: a lighter load
   * generator (pgbench) can measure them higher.
   */
  readonly loadGenerator: {
    readonly cpuMs: number;
    readonly coresBusy: number;
    readonly cpuMicrosecondsPerOperation: number;
  };
  readonly totals: {
    readonly writes: number;
    readonly reads: number;
    readonly writesPerSecond: number;
    readonly errors: Readonly<Record<string, number>>;
    readonly writeAttempts: number;
    readonly failedOperations: number;
    readonly abandonedOperations: number;
    readonly duplicateOnRetry: number;
    readonly latency: LatencySummary;
  };
  readonly seconds: readonly SecondStats[];
  readonly events: readonly BenchEvent[];
  readonly failures: readonly FailureImpact[];
  readonly check: FinalCheck;
}

export function machineInfo(loadAverageStart: readonly number[]): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    totalMemoryMB: Math.round(os.totalmem() / 2 ** 20),
    loadAverageStart: loadAverageStart.map(round2),
    loadAverageEnd: os.loadavg().map(round2),
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

export function describeParameters(options: BenchOptions, urls: readonly string[]): BenchResults['parameters'] {
  return {
    nodes: options.targets.length > 0 ? options.targets.length : options.nodes,
    clients: options.clients,
    durationMs: options.durationMs,
    workload: options.workload,
    protocol: options.protocol,
    kills: options.kills.map((k) => `${describeVictim(k.victim)}@${k.atMs / 1000}s`),
    restartAfterMs: options.restartAfterMs,
    target: options.targets.length > 0 ? 'urls' : 'local-cluster',
    urls,
    opTimeoutMs: options.opTimeoutMs,
    seed: options.seed,
    accounts: options.accounts,
  };
}

export function totalsOf(seconds: readonly SecondStats[], outcome: LoadOutcome, errors: Record<string, number>, latency: LatencySummary, durationMs: number): BenchResults['totals'] {
  const writes = seconds.reduce((n, s) => n + s.writes, 0);
  return {
    writes,
    reads: seconds.reduce((n, s) => n + s.reads, 0),
    writesPerSecond: (writes * 1000) / durationMs,
    errors,
    writeAttempts: outcome.writeAttempts,
    failedOperations: outcome.failedOperations,
    abandonedOperations: outcome.abandonedOperations,
    duplicateOnRetry: outcome.duplicateOnRetry,
    latency,
  };
}

function ms(value: number | null): string {
  if (value === null) return '-';
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function errorText(errors: Readonly<Record<string, number>>): string {
  const entries = Object.entries(errors);
  return entries.length === 0 ? '0' : entries.map(([code, n]) => `${code}×${n}`).join(' ');
}

export function eventText(e: BenchEvent): string {
  if (e.kind === 'kill') return `kill ${e.victim} (node ${e.node}, ${e.role})`;
  if (e.kind === 'restart') return `restart node ${e.node}`;
  return `node ${e.node} leads`;
}

/** One progress line for a finished second. */
export function progressLine(row: SecondStats, events: readonly BenchEvent[]): string {
  const happened = events.filter((e) => Math.floor(e.atMs / 1000) === row.second).map(eventText);
  return (
    `${String(row.second + 1).padStart(4)}s  writes/s ${count(row.writes).padStart(7)}` +
    `  p99 ${ms(row.p99Ms).padStart(9)}  errors ${errorText(row.errors)}` +
    (happened.length > 0 ? `  | ${happened.join(', ')}` : '')
  );
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function summaryText(results: BenchResults, outDir: string): string {
  const p = results.parameters;
  const t = results.totals;
  const lines: string[] = [];
  lines.push('');
  lines.push(`paxosql bench: ${p.workload} workload, ${p.clients} clients, ${p.nodes} node(s) (${p.target}), ${p.protocol} protocol, ${p.durationMs / 1000} s`);
  lines.push(`machine: ${results.machine.cpu}, ${results.machine.cores} cores, node ${results.machine.node}, load average ${results.machine.loadAverageStart[0]} → ${results.machine.loadAverageEnd[0]}`);
  const g = results.loadGenerator;
  lines.push(`load generator (this process): ${g.coresBusy.toFixed(2)} of ${results.machine.cores} cores busy, ${g.cpuMicrosecondsPerOperation.toFixed(0)} µs of CPU per operation`);
  lines.push('');
  lines.push(
    table([
      ['writes', 'writes/s', 'reads', 'p50', 'p90', 'p99', 'p99.9', 'max', 'errors'],
      [count(t.writes), count(t.writesPerSecond), count(t.reads), ms(t.latency.p50Ms), ms(t.latency.p90Ms), ms(t.latency.p99Ms), ms(t.latency.p999Ms), ms(t.latency.maxMs), errorText(t.errors)],
    ]),
  );
  if (results.failures.length > 0) {
    lines.push('');
    lines.push(
      table([
        ['failure', 'at', 'writes stopped for', 'back to 90% after', 'writes/s before', 'while down', 'ratio'],
        ...results.failures.map((f) => [
          `kill ${f.victim} (node ${f.node}, ${f.role})`,
          `${(f.killedAtMs / 1000).toFixed(1)} s`,
          ms(f.unavailableMs),
          ms(f.recoveryTo90Ms),
          f.throughputBefore === null ? '-' : count(f.throughputBefore),
          f.throughputWhileDown === null ? '-' : count(f.throughputWhileDown),
          f.throughputRatio === null ? '-' : `${(f.throughputRatio * 100).toFixed(0)}%`,
        ]),
      ]),
    );
  }
  const c = results.check;
  lines.push('');
  lines.push(
    `acknowledged writes on every replica: ${c.pass ? 'PASS' : 'FAIL'} (${count(c.acknowledgedWrites)} acknowledged writes` +
      (c.acknowledgedIds > 0 ? `, ${count(c.acknowledgedIds)} insert ids checked` : '') +
      `, ${c.replicas.length} replica(s), checksums ${c.checksumsEqual === null ? 'not available' : c.checksumsEqual ? 'identical' : 'not identical'})`,
  );
  if (c.notChecked.length > 0) lines.push(`  not checked: node ${c.notChecked.join(', ')} (still down: no --restart-cmd)`);
  for (const problem of c.problems) lines.push(`  ${problem}`);
  lines.push(`results: ${outDir}/results.json, ${outDir}/timeline.svg`);
  return lines.join('\n') + '\n';
}
