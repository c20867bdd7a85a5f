// `paxosql bench` end to end, short: a 10-second insert run on a local
// 3-node cluster with the leader killed at 4 s. What a user relies on: the
// output files are complete, the kill shows up in the figures and on the
// timeline, and every acknowledged write is on every replica afterwards.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureImpacts } from '../../src/bench/analysis.js';
import { runBench } from '../../src/bench/bench.js';
import { benchOptionsFrom } from '../../src/bench/cli.js';
import { fillTemplate } from '../../src/bench/faults.js';
import { classifyError } from '../../src/bench/load.js';
import { BenchOptionError, DEFAULT_OPTIONS, parseDuration, parseKills, validateOptions } from '../../src/bench/options.js';
import type { BenchResults } from '../../src/bench/report.js';
import { percentile, Recorder } from '../../src/bench/stats.js';
import { timelineSvg } from '../../src/bench/svg.js';
import { inlineParameters } from '../../src/bench/workloads.js';

describe('paxosql bench, 10 s with a leader kill at 4 s', () => {
  let outDir = '';
  let results: BenchResults;
  let printed = '';

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'paxosql-bench-test-'));
    results = await runBench(
      { ...DEFAULT_OPTIONS, nodes: 3, clients: 16, durationMs: 10_000, kills: parseKills('leader@4s'), outDir },
      { out: { write: (text: string) => (printed += text) } },
    );
  }, 45_000);
  afterAll(() => {
    if (outDir !== '') rmSync(outDir, { recursive: true, force: true });
  });

  it('writes results.json with the parameters, the machine, every second, totals and the failure', () => {
    const json = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')) as BenchResults;
    expect(json.parameters).toMatchObject({ nodes: 3, clients: 16, durationMs: 10_000, workload: 'insert', protocol: 'extended', kills: ['leader@4s'] });
    expect(json.machine.cores).toBeGreaterThan(0);
    expect(json.machine.node).toBe(process.version);
    // What the clients themselves cost: on a shared machine, CPU the servers did not get.
    expect(json.loadGenerator.cpuMs).toBeGreaterThan(0);
    expect(json.loadGenerator.coresBusy).toBeCloseTo(json.loadGenerator.cpuMs / 10_000, 1);
    expect(json.loadGenerator.cpuMicrosecondsPerOperation).toBeGreaterThan(0);
    expect(json.seconds).toHaveLength(10);
    for (const s of json.seconds) expect(Object.keys(s).sort()).toEqual(['errors', 'maxMs', 'p50Ms', 'p99Ms', 'reads', 'second', 'writes']);
    expect(json.totals.writes).toBe(json.seconds.reduce((n, s) => n + s.writes, 0));
    expect(json.totals.writes).toBeGreaterThan(100);
    expect(json.totals.latency.p99Ms).toBeGreaterThan(0);
    const kill = json.events.find((e) => e.kind === 'kill');
    expect(kill).toMatchObject({ role: 'leader', victim: 'leader' });
    expect(kill!.atMs).toBeGreaterThanOrEqual(4000);
    expect(kill!.atMs).toBeLessThan(6000);
    expect(json.failures).toHaveLength(1);
    const failure = json.failures[0]!;
    // Writes stop when the leader dies and resume after an election (LocalCluster: electionTicks 50 × 10 ms, randomized up to about 1 s).
    expect(failure.unavailableMs).not.toBeNull();
    expect(failure.unavailableMs!).toBeGreaterThan(0);
    expect(failure.unavailableMs!).toBeLessThan(5000);
    expect(failure.throughputBefore).toBeGreaterThan(0);
  });

  it('every acknowledged write is on every replica, and the replicas are identical', () => {
    expect(results.check.problems).toEqual([]);
    expect(results.check.pass).toBe(true);
    expect(results.check.checksumsEqual).toBe(true);
    expect(results.check.replicas).toHaveLength(3);
    expect(results.check.notChecked).toEqual([]);
    expect(results.check.acknowledgedIds).toBe(results.check.acknowledgedWrites);
    for (const replica of results.check.replicas) {
      expect(replica.missingIds).toBe(0);
      expect(replica.workloadRows).toBeGreaterThanOrEqual(results.check.acknowledgedIds);
    }
  });

  it('draws timeline.svg with both series, labelled axes and the kill marked', () => {
    const svg = readFileSync(join(outDir, 'timeline.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline /g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(svg).toContain('writes/s');
    expect(svg).toContain('p99 latency (ms)');
    expect(svg).toContain('time since start of load (s)');
    const kill = results.events.find((e) => e.kind === 'kill')!;
    expect(svg).toContain(`class="event event-kill" data-at-ms="${Math.round(kill.atMs)}" data-node="${kill.node}"`);
  });

  it('prints a progress line per second and a summary with the check', () => {
    const progress = printed.split('\n').filter((line) => /^\s+\d+s\s+writes\/s/.test(line));
    expect(progress).toHaveLength(10);
    expect(printed).toMatch(/kill leader \(node \d, leader\)/);
    expect(printed).toContain('acknowledged writes on every replica: PASS');
    expect(printed).toMatch(/load generator \(this process\): \d+\.\d\d of \d+ cores busy, \d+ µs of CPU per operation/);
  });
});

describe('paxosql bench options and figures', () => {
  it('parses the kill schedule and durations of the command line', () => {
    expect(parseKills('follower@40s, leader@20s,node2@1500ms')).toEqual([
      { victim: { role: 'node', id: 2 }, atMs: 1500 },
      { victim: { role: 'leader' }, atMs: 20_000 },
      { victim: { role: 'follower' }, atMs: 40_000 },
    ]);
    expect(parseDuration('60')).toBe(60_000);
    expect(parseDuration('1m')).toBe(60_000);
    expect(() => parseKills('leader')).toThrow(BenchOptionError);
    expect(() => parseKills('boss@3s')).toThrow(/leader, follower or node<id>/);
    const options = benchOptionsFrom({ duration: '10s', kill: 'leader@12s', out: '/tmp/x' });
    expect(() => validateOptions(options)).toThrow(/not before the end of the run/);
    const remote = benchOptionsFrom({ target: ['postgres://a@h1:5432/db,postgres://a@h2:5433/db'], kill: 'leader@2s', out: '/tmp/x' });
    expect(remote.targets).toHaveLength(2);
    expect(() => validateOptions(remote)).toThrow(/--kill-cmd/);
  });

  it('fills kill-command templates and inlines literals for the simple protocol', () => {
    expect(fillTemplate('ssh {host} kill-node {node} {port}', 2, 'postgres://u@db2.example:6000/x')).toBe('ssh db2.example kill-node 2 6000');
    expect(inlineParameters({ name: 'n', text: 'INSERT INTO t VALUES ($1, $2, $10)', values: [1, "it's", 3, 4, 5, 6, 7, 8, 9, -10] })).toBe("INSERT INTO t VALUES (1, 'it''s', -10)");
  });

  it('labels failures by SQLSTATE and retries only what an application would', () => {
    expect(classifyError(Object.assign(new Error('x'), { code: '40001' }))).toEqual({ sqlstate: '40001', retry: true });
    expect(classifyError(Object.assign(new Error('x'), { code: '23505' }))).toEqual({ sqlstate: '23505', retry: false });
    expect(classifyError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toEqual({ sqlstate: '08006', retry: true });
    expect(classifyError(new Error('Query read timeout'))).toEqual({ sqlstate: '57014', retry: true });
  });

  it('measures the unavailability window and the recovery to 90% from write completions', () => {
    // 100 writes/s until the kill at 10 s, none until 10.6 s, then 100/s again.
    const completions: number[] = [];
    for (let t = 0; t < 20_000; t += 10) if (t < 10_000 || t >= 10_600) completions.push(t);
    const [impact] = failureImpacts({
      events: [{ kind: 'kill', atMs: 10_000, node: 1, victim: 'leader', role: 'leader' }],
      completions,
      firstWriteStartedAtOrAfter: (t) => completions.find((c) => c >= t) ?? null,
      durationMs: 20_000,
    });
    expect(impact!.unavailableMs).toBe(600);
    expect(impact!.throughputBefore).toBe(100);
    // The first 1-s window with ≥ 90 writes starts once at most 100 ms of the outage remains in it.
    expect(impact!.recoveryTo90Ms).toBe(500);
    expect(impact!.throughputRatio).toBeCloseTo(0.94, 2);
  });

  it('keeps per-second rows with nearest-rank percentiles and errors by SQLSTATE', () => {
    let now = 0;
    const recorder = new Recorder(() => now);
    for (let i = 1; i <= 100; i++) recorder.success('write', 1000, 1000, 1000 + i);
    recorder.error('40001', 1500);
    recorder.error('40001', 1600);
    now = 2500;
    const rows = recorder.seconds(3000);
    expect(rows.map((r) => r.writes)).toEqual([0, 100, 0]);
    expect(rows[1]).toMatchObject({ p50Ms: 50, p99Ms: 99, maxMs: 100, errors: { '40001': 2 } });
    expect(rows[0]!.p99Ms).toBeNull();
    expect(percentile([], 0.5)).toBeNull();
    expect(recorder.firstWriteStartedAtOrAfter(1000)).toBe(1001);
    expect(recorder.firstWriteStartedAtOrAfter(1001)).toBeNull();
  });

  it('draws a second with no completed operation as a gap in the lines', () => {
    const svg = timelineSvg({
      title: 't',
      seconds: [0, 1, 2, 3, 4].map((second) => ({ second, writes: second === 2 ? 0 : 10, reads: 0, errors: {}, p50Ms: null, p99Ms: second === 2 ? null : 5, maxMs: null })),
      events: [{ kind: 'restart', atMs: 2500, node: 3 }],
      durationMs: 5000,
    });
    expect(svg.match(/<polyline /g)).toHaveLength(3); // throughput in one piece, p99 in two
    expect(svg).toContain('class="event event-restart" data-at-ms="2500" data-node="3"');
  });
});
