// Jepsen-style fault tests against a real 3-node cluster: each workload for
// 60 s under every nemesis (kill -9, SIGSTOP, partitions through the peer-link
// proxies, wiped data directories) must produce a valid history with more
// than 1,000 completed operations, and the unsafe local-read mode must be
// caught by the linearizability checker. One file, so the runs go one after
// another (each one is a whole cluster on a 2-core machine).
//
// Replay a failure with the command printed in the message (npm run fault -- …
// --seed S); PAXOSQL_FAULT_SEED=S runs these tests with another seed.

import { rmSync } from 'node:fs';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NEMESIS_KINDS } from './nemesis.js';
import { runFaultTest, type FaultRunOptions, type FaultRunResult, type RunHandles } from './run.js';

const DURATION_MS = 60_000;
/** The run, final reads, convergence check and checkers, with room for a slow CI machine. */
const TEST_TIMEOUT_MS = 180_000;
const seedOverride = process.env['PAXOSQL_FAULT_SEED'];

function seedFor(fixed: number): number {
  return seedOverride === undefined ? fixed : Number(seedOverride);
}

describe('fault tests (real processes, real clients, seeded faults)', () => {
  let handles: RunHandles | null = null;
  let progress: string[] = [];
  let keepOutput: string | null = null;

  afterEach(async () => {
    // The run stops its cluster itself; this catches a run abandoned by a timeout.
    await handles?.cluster.stop({ keepFiles: true });
    await handles?.mesh.close();
    handles = null;
    progress = [];
  });
  afterAll(() => {
    if (keepOutput !== null) process.stderr.write(`fault test output kept in ${keepOutput}\n`);
  });

  async function run(options: Omit<FaultRunOptions, 'progress' | 'onStarted' | 'nodes' | 'durationMs' | 'nemeses'>): Promise<FaultRunResult> {
    const result = await runFaultTest({
      nodes: 3,
      durationMs: DURATION_MS,
      nemeses: [...NEMESIS_KINDS],
      ...options,
      progress: (line) => progress.push(line),
      onStarted: (h) => {
        handles = h;
      },
    });
    return result;
  }

  /** What a failing assertion prints: the seed, how to replay it, and the run's own account. */
  function explain(result: FaultRunResult): string {
    return `seed ${result.seed} — replay: ${result.replay}\n${progress.join('\n')}\n\n${result.text}`;
  }

  function expectHealthyRun(result: FaultRunResult): void {
    const why = explain(result);
    expect(result.valid, why).toBe(true);
    expect(result.completedOperations, why).toBeGreaterThan(1000);
    for (const kind of NEMESIS_KINDS) expect(result.nemesisCounts[kind] ?? 0, `${kind} never happened\n${why}`).toBeGreaterThanOrEqual(1);
    expect(result.convergence.valid, why).toBe(true);
  }

  /** Output of a passing run is removed; a failing one keeps its history and node logs. */
  function cleanUp(result: FaultRunResult, passed: boolean): void {
    if (passed) rmSync(result.outDir, { recursive: true, force: true });
    else keepOutput = result.outDir;
  }

  for (const [workload, seed] of [['register', 101], ['bank', 202], ['set', 303]] as const) {
    it(`${workload}: 60 s of kill, pause, partition and wipe leave a valid history`, async () => {
      const result = await run({ workload, seed: seedFor(seed) });
      let passed = false;
      try {
        expectHealthyRun(result);
        passed = true;
      } finally {
        cleanUp(result, passed);
      }
    }, TEST_TIMEOUT_MS);
  }

  it('unsafe local reads on followers are caught as non-linearizable', async () => {
    const result = await run({ workload: 'register', seed: seedFor(404), unsafeReads: true });
    let passed = false;
    try {
      const why = explain(result);
      expect(result.report.register?.valid, `the checker did not catch stale local reads\n${why}`).toBe(false);
      expect(result.valid, why).toBe(false);
      expect(result.report.register!.failures[0]!.failingOperation?.f, why).toBe('read');
      passed = true;
    } finally {
      cleanUp(result, passed);
    }
  }, TEST_TIMEOUT_MS);
});
