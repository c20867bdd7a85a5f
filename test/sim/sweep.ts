// Runs many seeds and sums their results into the one-line summary.

import type { PlantedBug } from '../../src/paxos/types.js';
import { runSimulation, type FaultCounts, type SimResult } from './simulation.js';

export interface SweepOptions {
  readonly from: number;
  readonly count: number;
  readonly nodes: number;
  readonly bug?: PlantedBug;
  /** Stop at the first seed with a safety violation (to measure how soon a planted bug is caught). */
  readonly stopAtFirstViolation?: boolean;
  readonly onFailure?: (result: SimResult) => void;
}

export interface SweepSummary {
  seeds: number;
  violations: number;
  liveness_failures: number;
  chosen: number;
  faults: FaultCounts;
  first_failing_seed: number | null;
  first_violating_seed: number | null;
}

export function runSeeds(options: SweepOptions): SweepSummary {
  const summary: SweepSummary = {
    seeds: 0,
    violations: 0,
    liveness_failures: 0,
    chosen: 0,
    faults: { dropped: 0, duplicated: 0, crashes: 0, partitions: 0, pauses: 0, snapshots: 0, wipes: 0, fetches: 0 },
    first_failing_seed: null,
    first_violating_seed: null,
  };
  for (let seed = options.from; seed < options.from + options.count; seed++) {
    const result = runSimulation({ seed, nodes: options.nodes, ...(options.bug === undefined ? {} : { bug: options.bug }) });
    summary.seeds++;
    summary.chosen += result.chosen;
    summary.faults.dropped += result.faults.dropped;
    summary.faults.duplicated += result.faults.duplicated;
    summary.faults.crashes += result.faults.crashes;
    summary.faults.partitions += result.faults.partitions;
    summary.faults.pauses += result.faults.pauses;
    summary.faults.snapshots += result.faults.snapshots;
    summary.faults.wipes += result.faults.wipes;
    summary.faults.fetches += result.faults.fetches;
    const violated = result.violations.length > 0;
    const stuck = result.livenessFailures.length > 0;
    if (violated) summary.violations++;
    if (stuck) summary.liveness_failures++;
    if (violated) summary.first_violating_seed ??= seed;
    if (violated || stuck) {
      summary.first_failing_seed ??= seed;
      options.onFailure?.(result);
      if (violated && options.stopAtFirstViolation === true) break;
    }
  }
  return summary;
}
