// What the load generator observed, kept per second of the run, and the
// statistics derived from it. Times are milliseconds since the load started.

export type OperationKind = 'write' | 'read';

export interface SecondStats {
  /** Seconds since the start of the load: this row covers [second, second + 1). */
  readonly second: number;
  /** Write operations acknowledged in this second (a tpcb transaction counts once). */
  readonly writes: number;
  readonly reads: number;
  /** Failed attempts in this second by SQLSTATE (network failures: 08006, client timeouts: 57014). */
  readonly errors: Readonly<Record<string, number>>;
  /** Latency of the operations that completed in this second, from their first attempt (retries included). */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

export interface LatencySummary {
  readonly count: number;
  readonly meanMs: number | null;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly maxMs: number | null;
}

interface Bucket {
  writes: number;
  reads: number;
  errors: Map<string, number>;
  latencies: number[];
}

/** Latency samples kept per second; beyond this (over 200k ops/s) the rest of that second is counted but not sampled. */
const MAX_SAMPLES_PER_SECOND = 200_000;
/** The run is bounded by --duration; this bounds the array of buckets should a caller forget. */
const MAX_SECONDS = 24 * 3600;

export class Recorder {
  private readonly buckets: Bucket[] = [];
  /** Completion time of every acknowledged write, for the failure-window analysis. */
  private readonly writeDone: number[] = [];
  /** Start time of the successful attempt of every acknowledged write, same order as writeDone. */
  private readonly writeAttemptStart: number[] = [];
  private readonly allLatencies: number[] = [];

  constructor(private readonly clock: () => number) {}

  /** Milliseconds since the load started. */
  now(): number {
    return this.clock();
  }

  success(kind: OperationKind, opStartMs: number, attemptStartMs: number, doneMs: number): void {
    const bucket = this.bucket(doneMs);
    if (kind === 'write') {
      bucket.writes++;
      this.writeDone.push(doneMs);
      this.writeAttemptStart.push(attemptStartMs);
    } else {
      bucket.reads++;
    }
    const latency = doneMs - opStartMs;
    if (bucket.latencies.length < MAX_SAMPLES_PER_SECOND) bucket.latencies.push(latency);
    this.allLatencies.push(latency);
  }

  error(code: string, atMs: number): void {
    const errors = this.bucket(atMs).errors;
    errors.set(code, (errors.get(code) ?? 0) + 1);
  }

  /** Per-second rows for [0, durationMs), including seconds in which nothing completed. */
  seconds(durationMs: number): SecondStats[] {
    const count = Math.ceil(durationMs / 1000);
    const rows: SecondStats[] = [];
    for (let s = 0; s < count; s++) rows.push(summarizeBucket(s, this.buckets[s]));
    return rows;
  }

  /** The row of one second (for the progress line while the run goes on). */
  row(second: number): SecondStats {
    return summarizeBucket(second, this.buckets[second]);
  }

  /** Completion times of acknowledged writes (sorted: completions are recorded in time order). */
  writeCompletions(): readonly number[] {
    return this.writeDone;
  }

  /** The first acknowledged write whose successful attempt started at or after `t`; null if none. */
  firstWriteStartedAtOrAfter(t: number): number | null {
    // Completions are recorded in time order, so the first that qualifies is the earliest.
    for (let i = 0; i < this.writeDone.length; i++) {
      if ((this.writeAttemptStart[i] as number) >= t) return this.writeDone[i] as number;
    }
    return null;
  }

  latency(): LatencySummary {
    return summarizeLatencies(this.allLatencies);
  }

  errorTotals(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const bucket of this.buckets) {
      if (bucket === undefined) continue;
      for (const [code, n] of bucket.errors) totals[code] = (totals[code] ?? 0) + n;
    }
    return totals;
  }

  private bucket(atMs: number): Bucket {
    const second = Math.min(MAX_SECONDS - 1, Math.max(0, Math.floor(atMs / 1000)));
    let bucket = this.buckets[second];
    if (bucket === undefined) {
      bucket = { writes: 0, reads: 0, errors: new Map(), latencies: [] };
      this.buckets[second] = bucket;
    }
    return bucket;
  }
}

function summarizeBucket(second: number, bucket: Bucket | undefined): SecondStats {
  if (bucket === undefined) return { second, writes: 0, reads: 0, errors: {}, p50Ms: null, p99Ms: null, maxMs: null };
  const sorted = Float64Array.from(bucket.latencies).sort();
  return {
    second,
    writes: bucket.writes,
    reads: bucket.reads,
    errors: Object.fromEntries([...bucket.errors].sort(([a], [b]) => a.localeCompare(b))),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : null,
  };
}

export function summarizeLatencies(latencies: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latencies).sort();
  const mean = sorted.length > 0 ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null;
  return {
    count: sorted.length,
    meanMs: mean,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    p999Ms: percentile(sorted, 0.999),
    maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : null,
  };
}

/** Nearest-rank percentile of ascending samples; null when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}
