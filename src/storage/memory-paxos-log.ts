// In-memory twin of SqlitePaxosLog for unit tests and the deterministic
// simulator. The "disk" is a separate object that outlives a log handle, so a
// simulated crash is: drop the handle (crash()), then open a new one on the same
// disk. Because persist() is synchronous and all-or-nothing, everything a
// persist() returned from survives and nothing else exists to lose.

import type { AcceptedEntry, Ballot, Slot } from '../paxos/types.js';
import { copyAcceptedEntry, encodeValue } from '../transport/codec.js';
import {
  assertPromiseMonotonic,
  assertValidBallot,
  assertValidCompaction,
  assertValidSlot,
  type LoadedPaxosState,
  type PaxosLog,
  PaxosLogError,
  ZERO_BALLOT,
} from './paxos-log.js';

/** The durable bytes of one node, as far as the simulator is concerned. */
export class MemoryDisk {
  promised: Ballot = ZERO_BALLOT;
  firstSlot: Slot = 1;
  readonly entries = new Map<Slot, AcceptedEntry>();
  /** Number of durable writes (one per non-empty persist or compact): the fsyncs a real disk would do. */
  syncs = 0;
  private failuresToInject = 0;

  /** Make the next `n` persist()/compact() calls fail with an I/O error, writing nothing. */
  failNextWrites(n = 1): void {
    this.failuresToInject = n;
  }

  /** @internal Consumes one injected failure, if any. */
  takeInjectedFailure(): boolean {
    if (this.failuresToInject === 0) return false;
    this.failuresToInject--;
    return true;
  }
}

export class MemoryPaxosLog implements PaxosLog {
  private crashed = false;
  private closed = false;

  constructor(readonly disk: MemoryDisk = new MemoryDisk()) {}

  load(): LoadedPaxosState {
    this.assertUsable();
    const accepted = [...this.disk.entries.values()]
      .filter((e) => e.slot >= this.disk.firstSlot)
      .sort((a, b) => a.slot - b.slot)
      .map(copyAcceptedEntry);
    return { promised: { ...this.disk.promised }, accepted };
  }

  persist(promised: Ballot | null, accepted: readonly AcceptedEntry[]): void {
    this.assertUsable();
    if (promised !== null) assertPromiseMonotonic(this.disk.promised, promised);
    // Validate and copy first so a bad entry (or an injected failure) writes nothing.
    const copies: AcceptedEntry[] = [];
    for (const e of accepted) {
      assertValidSlot(e.slot, 'persist');
      assertValidBallot(e.ballot, `persist slot ${e.slot}`);
      if (e.slot >= this.disk.firstSlot) copies.push(copyAcceptedEntry(e));
    }
    if (promised === null && copies.length === 0) return;
    if (this.disk.takeInjectedFailure()) throw new PaxosLogError('injected I/O error in persist');
    if (promised !== null) this.disk.promised = { round: promised.round, node: promised.node };
    for (const e of copies) this.disk.entries.set(e.slot, e);
    this.disk.syncs++;
  }

  read(fromSlot: Slot, toSlot: Slot, maxBytes = Number.POSITIVE_INFINITY): AcceptedEntry[] {
    this.assertUsable();
    if (fromSlot < this.disk.firstSlot) return []; // compacted: the range cannot start where asked
    const out: AcceptedEntry[] = [];
    let bytes = 0;
    for (let slot = fromSlot; slot <= toSlot; slot++) {
      const e = this.disk.entries.get(slot);
      if (e === undefined) break;
      bytes += encodeValue(e.value).byteLength;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(copyAcceptedEntry(e));
    }
    return out;
  }

  compact(throughSlot: Slot): void {
    this.assertUsable();
    assertValidCompaction(throughSlot);
    if (throughSlot < this.disk.firstSlot) return;
    if (this.disk.takeInjectedFailure()) throw new PaxosLogError('injected I/O error in compact');
    for (const slot of this.disk.entries.keys()) if (slot <= throughSlot) this.disk.entries.delete(slot);
    this.disk.firstSlot = throughSlot + 1;
    this.disk.syncs++;
  }

  firstSlot(): Slot {
    this.assertUsable();
    return this.disk.firstSlot;
  }

  close(): void {
    this.closed = true;
  }

  /** Simulate kill -9: this handle is dead; open a new MemoryPaxosLog on `disk` to restart. */
  crash(): void {
    this.crashed = true;
  }

  private assertUsable(): void {
    if (this.crashed) throw new PaxosLogError('paxos log used after a simulated crash');
    if (this.closed) throw new PaxosLogError('paxos log is closed');
  }
}
