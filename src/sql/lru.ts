// A small bounded map that evicts roughly the least recently used entry: the
// CLOCK (second-chance) approximation of LRU. A hit only sets a flag; eviction
// walks from the oldest insertion and gives each flagged entry one more round
// (moved to the newest end, flag cleared) before evicting the first unflagged
// one. Moving an entry on every hit, as an exact LRU over a Map must, cost a
// delete and an insert per lookup: 6% of the apply path, which looks up three
// caches per command.

interface Slot<V> {
  readonly value: V;
  used: boolean;
}

export class LruMap<K, V> {
  private readonly entries = new Map<K, Slot<V>>();
  private hitCount = 0;
  private missCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`LRU capacity must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  get hits(): number {
    return this.hitCount;
  }

  get misses(): number {
    return this.missCount;
  }

  get(key: K): V | undefined {
    const slot = this.entries.get(key);
    if (slot === undefined) {
      this.missCount++;
      return undefined;
    }
    this.hitCount++;
    slot.used = true;
    return slot.value;
  }

  set(key: K, value: V): void {
    // Evict before inserting, so that the new entry is never the one evicted.
    if (!this.entries.delete(key) && this.entries.size >= this.capacity) this.evictOne();
    this.entries.set(key, { value, used: false });
  }

  clear(): void {
    this.entries.clear();
  }

  /** Bounded: each entry is passed over at most once before one is evicted. */
  private evictOne(): void {
    for (let i = 0; i <= this.entries.size; i++) {
      const oldest = this.entries.entries().next();
      if (oldest.done === true) return;
      const [key, slot] = oldest.value;
      this.entries.delete(key);
      if (!slot.used) return;
      slot.used = false;
      this.entries.set(key, slot);
    }
  }
}
