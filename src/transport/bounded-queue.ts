// A FIFO bounded by item count and by total weight (bytes), that drops its
// oldest items to make room: for Paxos the newest message (a later heartbeat, a
// higher commit index) is the more useful one, and the protocol retransmits
// what matters.

export class DropOldestQueue<T> {
  private items: T[] = [];
  private head = 0;
  private totalWeight = 0;
  /** Items dropped to make room since the queue was created. */
  dropped = 0;

  constructor(
    readonly capacity: number,
    readonly maxWeight: number = Number.POSITIVE_INFINITY,
    private readonly weigh: (item: T) => number = () => 0,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`bad queue capacity ${capacity}`);
    if (!(maxWeight > 0)) throw new RangeError(`bad queue weight bound ${maxWeight}`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  get weight(): number {
    return this.totalWeight;
  }

  /**
   * Adds `item`, then drops the oldest items while either bound is exceeded.
   * The newest item is always kept, even if it alone outweighs maxWeight.
   */
  push(item: T): void {
    this.items.push(item);
    this.totalWeight += this.weigh(item);
    while (this.length > 1 && (this.length > this.capacity || this.totalWeight > this.maxWeight)) {
      this.shift();
      this.dropped++;
    }
  }

  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const item = this.items[this.head] as T;
    this.head++;
    this.totalWeight -= this.weigh(item);
    // Reclaim the consumed prefix once it is half the array, keeping shift() O(1) amortized.
    if (this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    this.totalWeight = 0;
    return out;
  }
}
