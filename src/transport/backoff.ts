// Reconnect delays: exponential with "equal jitter" (half fixed, half random),
// so peers that lost a node at the same moment do not all redial in lockstep.

export interface BackoffOptions {
  /** Delay bound for the first retry. */
  readonly initialMs: number;
  /** Largest delay bound, however many attempts failed. */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 50, maxMs: 2000 };

/** Delay before retry number `attempt` (0-based); `random` is uniform in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number): number {
  const exponent = Math.min(Math.max(0, attempt), 30); // 2^30 already exceeds any sane maxMs
  const bound = Math.min(options.maxMs, options.initialMs * 2 ** exponent);
  return bound / 2 + random() * (bound / 2);
}
