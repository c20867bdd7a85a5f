// A generic linearizability search, after Porcupine (Athalye) which follows
// Wing & Gong's algorithm with Lowe's improvements:
//   - the history is a doubly linked list of call and return entries in real-time order;
//   - an operation may be linearized ("lifted" out of the list) only while no
//     return entry precedes its call entry, i.e. just in time;
//   - reaching a return entry means the operation it belongs to should have been
//     linearized already: backtrack;
//   - (set of linearized operations, model state) pairs already explored are
//     memoized, so the search never explores the same configuration twice.
// Indeterminate operations return at +infinity: they may be linearized at any
// point after their call or never; the search succeeds as soon as every
// operation with a finite return has been linearized.
//
// Timed-out operations are what makes such searches blow up, so three
// reductions target them (each checked against a brute force in
// linearizability.test.ts):
//   - subsumption in the memo: same determinate set and state with fewer
//     indeterminate operations used dominates (see Memo);
//   - interchangeable indeterminate operations (equal inputs) are used in
//     invocation order only (see symmetryClasses);
//   - determinate candidates are tried before indeterminate ones, and, for
//     models that declare it sound, an indeterminate operation is only
//     linearized where it enables the next operation (see enables).
//
// This module knows nothing about registers; see register.ts for the model.

/** What a model step says: the operation could happen here, leading to `state`, or not. */
export type StepResult<S> = { readonly ok: true; readonly state: S } | { readonly ok: false };

/** A sequential specification. `step` must be a pure function. */
export interface Model<S, I, O> {
  readonly init: S;
  /** `output` undefined means unknown: accept whatever the operation would have returned. */
  step(state: S, input: I, output: O | undefined): StepResult<S>;
  /** Equal states must give equal keys (memoization). */
  stateKey(state: S): string;
  /**
   * Optional: equal inputs must give equal keys. Lets the search treat
   * indeterminate operations with equal inputs as interchangeable.
   */
  inputKey?(input: I): string;
  /**
   * Optional pruning, sound only for models where this holds: in any valid
   * linearization, an indeterminate operation X can be moved later or dropped
   * unless the operation right after it is a determinate one that is possible
   * only because of X, or an indeterminate one that has an effect only because
   * of X. True for registers (read, write, cas): see register.ts. When set, the
   * search linearizes an indeterminate operation only where it helps.
   */
  readonly indeterminateMattersOnlyWhenEnabling?: boolean;
}

export interface LinOperation<I, O> {
  /** Position of the invocation in real time. */
  readonly call: number;
  /** Position of the completion; Infinity when indeterminate. Must be > call. */
  readonly ret: number;
  readonly input: I;
  readonly output: O | undefined;
}

export interface SearchLimits {
  /** Give up when `now()` passes this. */
  readonly deadline: number;
  readonly now: () => number;
  /** Give up when the memo holds this many configurations (a memory bound). */
  readonly maxConfigurations: number;
}

/** Effort spent, for reports and tuning. */
export interface SearchEffort {
  /** Configurations held in the memo at the end. */
  readonly configurations: number;
  readonly iterations: number;
  readonly backtracks: number;
}

export type SearchOutcome =
  | ({ readonly kind: 'linearizable'; readonly order: readonly number[] } & SearchEffort)
  | ({ readonly kind: 'illegal' } & SearchEffort)
  | ({ readonly kind: 'budget'; readonly reason: 'time' | 'memory' } & SearchEffort);

interface Entry {
  readonly op: number;
  readonly isCall: boolean;
  readonly time: number;
  /** For a call entry: its return entry. */
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/** How often (in loop iterations) the deadline is looked at; reading a clock costs. */
const DEADLINE_CHECK_INTERVAL = 1024;

export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly LinOperation<I, O>[],
  limits: SearchLimits,
): SearchOutcome {
  validateOperations(ops);
  const head = buildEntryList(ops);
  const indeterminate = indeterminateMask(ops);
  const zobrist = zobristTable(ops);
  const symmetry = symmetryClasses(model, ops);
  const memo = new Memo(indeterminate);
  const linearized = new Uint32Array(indeterminate.length);
  // Each configuration first tries the operations with a known result, then
  // the indeterminate ones. Trying them in list order instead would linearize
  // every timed-out write the moment it is invoked — rarely what happened —
  // and backtrack out of those choices at great length.
  const stack: { entry: Entry; state: S; phase: Phase }[] = [];
  let phase = Phase.Determinate;
  let remaining = ops.filter((op) => op.ret !== Infinity).length;
  let state = model.init;
  let hashLo = 0;
  let hashHi = 0;
  let entry = head.next;
  let iterations = 0;
  let backtracks = 0;

  while (remaining > 0) {
    if (++iterations % DEADLINE_CHECK_INTERVAL === 0 && limits.now() > limits.deadline) {
      return { kind: 'budget', reason: 'time', configurations: memo.size, iterations, backtracks };
    }
    // While a finite-return operation remains, its return entry lies ahead of any
    // position we can reach, so the scan never runs off the list.
    if (entry === undefined) throw new Error('linearizability search ran off the entry list');
    if (!entry.isCall) {
      // Every candidate of this phase has been tried.
      if (phase === Phase.Determinate) {
        phase = Phase.Indeterminate;
        entry = head.next;
        continue;
      }
      // A return entry: its operation had to be linearized by now. Undo the last choice.
      const top = stack.pop();
      if (top === undefined) return { kind: 'illegal', configurations: memo.size, iterations, backtracks };
      const id = top.entry.op;
      backtracks++;
      state = top.state;
      phase = top.phase;
      clearBit(linearized, id);
      hashLo = (hashLo ^ zobrist.lo[id]!) >>> 0;
      hashHi = (hashHi ^ zobrist.hi[id]!) >>> 0;
      symmetry.release(id);
      unlift(top.entry);
      if (ops[id]!.ret !== Infinity) remaining++;
      entry = top.entry.next;
      continue;
    }
    const id = entry.op;
    const op = ops[id]!;
    if ((op.ret === Infinity) === (phase === Phase.Determinate) || !symmetry.mayLinearize(id)) {
      entry = entry.next;
      continue;
    }
    const result = model.step(state, op.input, op.output);
    if (result.ok && (phase === Phase.Determinate || !model.indeterminateMattersOnlyWhenEnabling || enables(model, ops, head, id, state, result.state))) {
      const lo = (hashLo ^ zobrist.lo[id]!) >>> 0;
      const hi = (hashHi ^ zobrist.hi[id]!) >>> 0;
      const memoKey = `${lo}.${hi}.${model.stateKey(result.state)}`;
      if (memo.addUnlessDominated(memoKey, linearized, id)) {
        if (memo.size > limits.maxConfigurations) {
          return { kind: 'budget', reason: 'memory', configurations: memo.size, iterations, backtracks };
        }
        stack.push({ entry, state, phase });
        state = result.state;
        phase = Phase.Determinate;
        setBit(linearized, id);
        hashLo = lo;
        hashHi = hi;
        symmetry.take(id);
        lift(entry);
        if (op.ret !== Infinity) remaining--;
        entry = head.next;
        continue;
      }
    }
    entry = entry.next;
  }
  return { kind: 'linearizable', order: stack.map((s) => s.entry.op), configurations: memo.size, iterations, backtracks };
}

const enum Phase {
  /** Operations with a known result. */
  Determinate,
  /** Indeterminate operations. */
  Indeterminate,
}

/**
 * Whether linearizing indeterminate operation `x` (moving from `before` to
 * `after`) helps an operation that could go next: a determinate one becomes
 * possible, or an indeterminate one starts having an effect (a cas now matches).
 */
function enables<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly LinOperation<I, O>[],
  head: Entry,
  x: number,
  before: S,
  after: S,
): boolean {
  const beforeKey = model.stateKey(before);
  const afterKey = model.stateKey(after);
  if (beforeKey === afterKey) return false; // no effect: dominated by not linearizing x at all
  for (let e = head.next; e !== undefined && e.isCall; e = e.next) {
    if (e.op === x) continue;
    const op = ops[e.op]!;
    const fromAfter = model.step(after, op.input, op.output);
    if (!fromAfter.ok) continue;
    const fromBefore = model.step(before, op.input, op.output);
    if (op.ret !== Infinity) {
      if (!fromBefore.ok) return true;
    } else if (fromBefore.ok && model.stateKey(fromBefore.state) === beforeKey && model.stateKey(fromAfter.state) !== afterKey) {
      return true;
    }
  }
  return false;
}

const REJECTED = { ok: false } as const;

function indeterminateMask<I, O>(ops: readonly LinOperation<I, O>[]): Uint32Array {
  const mask = new Uint32Array(Math.ceil(ops.length / 32));
  ops.forEach((op, i) => {
    if (op.ret === Infinity) setBit(mask, i);
  });
  return mask;
}

/**
 * Indeterminate operations with the same input and no output are
 * interchangeable: once invoked they stay available forever and have the same
 * effect. Any linearization that uses some of them can use the earliest-invoked
 * ones instead, so only that canonical choice is explored: the k-th member of
 * a class may be linearized only after the first k-1.
 */
function symmetryClasses<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly LinOperation<I, O>[],
): { mayLinearize(op: number): boolean; take(op: number): void; release(op: number): void } {
  const classOf = new Int32Array(ops.length).fill(-1);
  const rank = new Int32Array(ops.length);
  const classIds = new Map<string, number>();
  const sizes: number[] = [];
  if (model.inputKey !== undefined) {
    const order = ops.map((_, i) => i).sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
    for (const i of order) {
      const op = ops[i]!;
      if (op.ret !== Infinity || op.output !== undefined) continue;
      const key = model.inputKey(op.input);
      let c = classIds.get(key);
      if (c === undefined) {
        c = sizes.length;
        classIds.set(key, c);
        sizes.push(0);
      }
      classOf[i] = c;
      rank[i] = sizes[c]!;
      sizes[c] = sizes[c]! + 1;
    }
  }
  const taken = new Int32Array(sizes.length);
  return {
    mayLinearize: (op) => classOf[op]! < 0 || taken[classOf[op]!] === rank[op],
    take: (op) => {
      if (classOf[op]! >= 0) taken[classOf[op]!]!++;
    },
    release: (op) => {
      if (classOf[op]! >= 0) taken[classOf[op]!]!--;
    },
  };
}

function validateOperations<I, O>(ops: readonly LinOperation<I, O>[]): void {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (!Number.isFinite(op.call)) throw new Error(`operation ${i}: call must be finite`);
    if (!(op.ret > op.call)) throw new Error(`operation ${i}: return (${op.ret}) must come after call (${op.call})`);
  }
}

/** Entries in real-time order; on equal times calls come first, so touching operations count as concurrent. */
function buildEntryList<I, O>(ops: readonly LinOperation<I, O>[]): Entry {
  const entries: Entry[] = [];
  ops.forEach((op, i) => {
    const ret: Entry = { op: i, isCall: false, time: op.ret, match: undefined, prev: undefined, next: undefined };
    const call: Entry = { op: i, isCall: true, time: op.call, match: ret, prev: undefined, next: undefined };
    entries.push(call, ret);
  });
  entries.sort((a, b) => {
    if (a.time !== b.time) return a.time < b.time ? -1 : 1;
    if (a.isCall !== b.isCall) return a.isCall ? -1 : 1;
    return a.op - b.op;
  });
  const head: Entry = { op: -1, isCall: false, time: -Infinity, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const e of entries) {
    last.next = e;
    e.prev = last;
    last = e;
  }
  return head;
}

/** Removes a call entry and its return entry from the list (dancing links). */
function lift(call: Entry): void {
  unlink(call);
  unlink(call.match!);
}

/** Undoes `lift`; must be called in reverse order of lifting. */
function unlift(call: Entry): void {
  relink(call.match!);
  relink(call);
}

function unlink(e: Entry): void {
  e.prev!.next = e.next;
  if (e.next !== undefined) e.next.prev = e.prev;
}

function relink(e: Entry): void {
  e.prev!.next = e;
  if (e.next !== undefined) e.next.prev = e;
}

function setBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] = bits[i >>> 5]! | (1 << (i & 31));
}

function clearBit(bits: Uint32Array, i: number): void {
  bits[i >>> 5] = bits[i >>> 5]! & ~(1 << (i & 31));
}

/**
 * Random 64-bit tags per determinate operation; the XOR of the tags of the
 * linearized set hashes it in O(1) per step. Indeterminate operations get no
 * tag: the memo compares their subsets by inclusion, not by hash (see Memo).
 * A fixed seed keeps runs reproducible.
 */
function zobristTable<I, O>(ops: readonly LinOperation<I, O>[]): { lo: Uint32Array; hi: Uint32Array } {
  const next = splitmix32(0x9e3779b9);
  const lo = new Uint32Array(ops.length);
  const hi = new Uint32Array(ops.length);
  ops.forEach((op, i) => {
    if (op.ret === Infinity) return;
    lo[i] = next();
    hi[i] = next();
  });
  return { lo, hi };
}

export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Configurations seen so far, keyed by (hash of the linearized determinate
 * operations, model state); hash collisions are resolved by exact comparison.
 *
 * Subsumption: a configuration with the same determinate set and state but a
 * SUBSET of the indeterminate operations linearized can do everything the
 * other can (the unused indeterminate operations may simply stay unused), so a
 * new configuration dominated by a stored one is not explored again.
 */
class Memo {
  private readonly buckets = new Map<string, Uint32Array[]>();
  private readonly candidate: Uint32Array;
  size = 0;

  constructor(private readonly indeterminate: Uint32Array) {
    this.candidate = new Uint32Array(indeterminate.length);
  }

  /** Records (`bits` ∪ {op}, state) unless a stored configuration dominates it; returns whether it was recorded. */
  addUnlessDominated(key: string, bits: Uint32Array, op: number): boolean {
    const candidate = this.candidate;
    candidate.set(bits);
    setBit(candidate, op);
    const bucket = this.buckets.get(key);
    if (bucket === undefined) {
      this.buckets.set(key, [candidate.slice()]);
      this.size++;
      return true;
    }
    for (const stored of bucket) if (this.dominates(stored, candidate)) return false;
    // Drop what the newcomer dominates: it keeps buckets short and prunes no less.
    const kept = bucket.filter((stored) => !this.dominates(candidate, stored));
    this.size += kept.length + 1 - bucket.length;
    kept.push(candidate.slice());
    this.buckets.set(key, kept);
    return true;
  }

  /** Same determinate operations, and a's indeterminate ones are a subset of b's. */
  private dominates(a: Uint32Array, b: Uint32Array): boolean {
    const ind = this.indeterminate;
    for (let w = 0; w < a.length; w++) {
      if (((a[w]! ^ b[w]!) & ~ind[w]!) !== 0) return false;
      if ((a[w]! & ind[w]! & ~b[w]!) !== 0) return false;
    }
    return true;
  }
}
