// What each failure cost: how long writes stopped, how long until throughput
// recovered, and the throughput while the node was down, from the completion
// times of acknowledged writes.

import type { BenchEvent } from './faults.js';

export interface FailureImpact {
  readonly node: number;
  readonly victim: string;
  readonly role: string;
  readonly killedAtMs: number;
  /**
   * From the kill to the first acknowledged write whose (successful) attempt
   * started at or after the kill; null if none did before the end of the run.
   */
  readonly unavailableMs: number | null;
  /** From the kill to the start of the first 1-second window with ≥ 90% of the throughput before it; null if never. */
  readonly recoveryTo90Ms: number | null;
  /** Writes/s over the (up to) 5 s before the kill. */
  readonly throughputBefore: number | null;
  /** Writes/s from the kill until the node came back, the next event, or the end of the run. */
  readonly throughputWhileDown: number | null;
  /** throughputWhileDown / throughputBefore. */
  readonly throughputRatio: number | null;
}

const BEFORE_WINDOW_MS = 5000;
const RECOVERY_WINDOW_MS = 1000;
const RECOVERY_STEP_MS = 50;
const RECOVERY_LEVEL = 0.9;

/** Completions in [from, to) of an ascending array. */
export function countBetween(sorted: readonly number[], from: number, to: number): number {
  return lowerBound(sorted, to) - lowerBound(sorted, from);
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function rate(sorted: readonly number[], from: number, to: number): number | null {
  return to - from < 500 ? null : (countBetween(sorted, from, to) * 1000) / (to - from);
}

export interface ImpactInputs {
  readonly events: readonly BenchEvent[];
  /** Completion times of acknowledged writes, ascending. */
  readonly completions: readonly number[];
  readonly firstWriteStartedAtOrAfter: (t: number) => number | null;
  readonly durationMs: number;
}

export function failureImpacts(inputs: ImpactInputs): FailureImpact[] {
  const kills = inputs.events.filter((e) => e.kind === 'kill');
  return kills.map((kill) => impactOf(kill, inputs));
}

function impactOf(kill: BenchEvent, inputs: ImpactInputs): FailureImpact {
  const t = kill.atMs;
  const firstWrite = inputs.firstWriteStartedAtOrAfter(t);
  const before = rate(inputs.completions, Math.max(0, t - BEFORE_WINDOW_MS), t);
  const downUntil = endOfDowntime(kill, inputs);
  const whileDown = rate(inputs.completions, t, downUntil);
  return {
    node: kill.node,
    victim: kill.victim ?? `node${kill.node}`,
    role: kill.role ?? 'unknown',
    killedAtMs: t,
    unavailableMs: firstWrite === null ? null : firstWrite - t,
    recoveryTo90Ms: before === null ? null : recoveryTime(inputs.completions, t, before, inputs.durationMs),
    throughputBefore: before,
    throughputWhileDown: whileDown,
    throughputRatio: before === null || whileDown === null || before === 0 ? null : whileDown / before,
  };
}

/** The node's restart, or the next kill, or the end of the run, whichever comes first. */
function endOfDowntime(kill: BenchEvent, inputs: ImpactInputs): number {
  let end = inputs.durationMs;
  for (const e of inputs.events) {
    if (e.atMs <= kill.atMs || e === kill) continue;
    if (e.kind === 'kill' || (e.kind === 'restart' && e.node === kill.node)) end = Math.min(end, e.atMs);
  }
  return end;
}

function recoveryTime(completions: readonly number[], killedAt: number, before: number, durationMs: number): number | null {
  const needed = RECOVERY_LEVEL * before * (RECOVERY_WINDOW_MS / 1000);
  for (let start = killedAt; start + RECOVERY_WINDOW_MS <= durationMs; start += RECOVERY_STEP_MS) {
    if (countBetween(completions, start, start + RECOVERY_WINDOW_MS) >= needed) return start - killedAt;
  }
  return null;
}
