// The load every harness under bench/ measures with: paxosql bench's insert
// workload, 64 clients, extended protocol, closed loop, spread over `urls`.

import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { runLoad, type LoadOutcome } from '../src/bench/load.js';
import { Recorder } from '../src/bench/stats.js';
import { createWorkload } from '../src/bench/workloads.js';
import { createRandom } from '../src/util/random.js';

export const CLIENTS = 64;

/** Insert for `seconds`; ids start at `firstId` (bench_insert must exist). The recorder holds the latencies. */
export async function insertLoad(urls: readonly string[], seconds: number, firstId = 1, seed = 1): Promise<{ outcome: LoadOutcome; recorder: Recorder }> {
  const t0 = performance.now();
  const recorder = new Recorder(() => performance.now() - t0);
  const outcome = await runLoad({
    urls,
    clients: CLIENTS,
    protocol: 'extended',
    workload: createWorkload('insert', 10, firstId),
    recorder,
    endMs: seconds * 1000,
    opTimeoutMs: 5000,
    random: createRandom(seed),
    logger: pino({ level: 'silent' }),
  });
  return { outcome, recorder };
}
