// `paxosql bench` end to end, short: a 10-second insert run on a local
// 3-node cluster with the leader killed at 4 s. What a user relies on: the
// output files are complete, the kill shows up in the figures and on the
// timeline, and every acknowledged write is on every replica afterwards.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBench } from '../../src/bench/bench.js';
import { DEFAULT_OPTIONS, parseKills } from '../../src/bench/options.js';
import type { BenchResults } from '../../src/bench/report.js';

describe('paxosql bench, 10 s with a leader kill at 4 s', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'paxosql-bench-test-'));
  let results: BenchResults;
  let printed = '';

  beforeAll(async () => {
    results = await runBench(
      { ...DEFAULT_OPTIONS, nodes: 3, clients: 16, durationMs: 10_000, kills: parseKills('leader@4s'), outDir },
      { out: { write: (text: string) => (printed += text) } },
    );
  }, 45_000);
  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  it('writes results.json with the parameters, the machine, every second, totals and the failure', () => {
    const json = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8')) as BenchResults;
    expect(json.parameters).toMatchObject({ nodes: 3, clients: 16, durationMs: 10_000, workload: 'insert', protocol: 'extended', kills: ['leader@4s'] });
    expect(json.machine.cores).toBeGreaterThan(0);
    expect(json.machine.node).toBe(process.version);
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
    // Writes stop when the leader dies and resume after an election (electionTicks 30 × 10 ms here).
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
  });
});
