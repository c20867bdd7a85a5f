// The acceptor's durable state: the highest promised ballot and the accepted
// entries, as the Paxos core hands them out in each Ready. The runtime writes a
// Ready's promise and accepts with one persist() call (one fsync: group commit)
// and only then sends the messages that depend on them.

import { compareBallots, ZERO_BALLOT } from '../paxos/ballot.js';
import type { AcceptedEntry, Ballot, Slot } from '../paxos/types.js';

export { compareBallots, ZERO_BALLOT };

/** What load() returns: the state persist() made durable, above the compaction point. */
export interface LoadedPaxosState {
  readonly promised: Ballot;
  /** Accepted entries with slot >= firstSlot(), in increasing slot order, one per slot. */
  readonly accepted: readonly AcceptedEntry[];
}

/** Durable storage of the acceptor's promise and accepted entries. */
export interface PaxosLog {
  /** The durable state as of the last persist()/compact() that returned. */
  load(): LoadedPaxosState;
  /**
   * Make `promised` (unless null) and every entry of `accepted` durable, all or
   * nothing, with one fsync, before returning. An entry for a slot replaces any
   * earlier entry for that slot (also earlier in the same call). Entries below
   * firstSlot() are already compacted away (chosen and applied) and are ignored.
   * Throws PaxosLogError if the promise would go backwards.
   */
  persist(promised: Ballot | null, accepted: readonly AcceptedEntry[]): void;
  /**
   * The durable entries fromSlot..toSlot in slot order, stopping at the first
   * missing slot (compacted, or never accepted here), and before the entry that
   * would take the values' encoded size past maxBytes (the first entry is
   * always returned): a read on the event loop does bounded work.
   */
  read(fromSlot: Slot, toSlot: Slot, maxBytes?: number): AcceptedEntry[];
  /** Drop every entry with slot <= throughSlot and durably move firstSlot() to throughSlot + 1. */
  compact(throughSlot: Slot): void;
  /** The lowest slot that may still be held (1 until the first compaction). */
  firstSlot(): Slot;
  close(): void;
}

/**
 * Compact `log` through `slot`, at most `chunk` slots per step, awaiting
 * `pause()` between steps (the runtime yields to its event loop there, so
 * that persists interleave and no step stalls the loop for long). Ends early
 * when `stopped()` says the log is closing.
 */
export async function compactInSteps(log: PaxosLog, slot: Slot, chunk: number, pause: () => Promise<void>, stopped: () => boolean): Promise<void> {
  if (!Number.isSafeInteger(chunk) || chunk < 1) throw new PaxosLogError(`compact: invalid step ${chunk}`);
  while (!stopped() && log.firstSlot() <= slot) {
    log.compact(Math.min(slot, log.firstSlot() - 1 + chunk));
    if (log.firstSlot() <= slot) await pause();
  }
}

/** Misuse of, or damage to, a Paxos log. */
export class PaxosLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaxosLogError';
  }
}

export function assertValidBallot(b: Ballot, what: string): void {
  if (!Number.isSafeInteger(b.round) || b.round < 0 || !Number.isSafeInteger(b.node) || b.node < 0) {
    throw new PaxosLogError(`${what}: invalid ballot ${JSON.stringify(b)}`);
  }
}

export function assertValidSlot(slot: Slot, what: string): void {
  if (!Number.isSafeInteger(slot) || slot < 1) throw new PaxosLogError(`${what}: invalid slot ${slot}`);
}

/** A promise must never go backwards: that would let an acceptor break an earlier promise. */
export function assertPromiseMonotonic(current: Ballot, next: Ballot): void {
  assertValidBallot(next, 'promise');
  if (compareBallots(next, current) < 0) {
    throw new PaxosLogError(
      `promise would go backwards from (${current.round},${current.node}) to (${next.round},${next.node})`,
    );
  }
}

export function assertValidCompaction(throughSlot: Slot): void {
  if (!Number.isSafeInteger(throughSlot) || throughSlot < 0) {
    throw new PaxosLogError(`compact: invalid slot ${throughSlot}`);
  }
}
