// Linearizability checker for the register workload: per key, `read` → value
// (or null), `write` v, `cas` [expected, new]. Each key is an independent
// register, so the history is split by key and each part checked on its own
// (P-compositionality: a history is linearizable iff every per-object
// sub-history is).
//
// How outcomes map to the model:
//   read  ok → observed value; fail → dropped; info → dropped (a read has no effect)
//   write ok → happened; fail → dropped; info → may have happened, any time after invoke
//   cas   ok → swapped (true); info → may have happened, either way;
//         fail WITHOUT an `error` field → the compare did not match: a definite
//             observation that the value was not `expected` (rows affected = 0);
//         fail WITH an `error` field (a SQLSTATE) → did not happen, dropped.
//   A cas ok whose completion value is literally `false` is also read as "did not match".
// Values are compared as JSON text: 1 and "1" are different values.

import {
  HistoryStructureError,
  isPairedHistory,
  pairHistory,
  type HistoryEvent,
  type JsonValue,
  type Key,
  type Operation,
  type PairedHistory,
} from './history.js';
import { checkLinearizable, type LinOperation, type Model, type SearchOutcome } from './linearizability.js';
import { combineVerdicts, type Verdict } from './verdict.js';

/** Register values travel as canonical JSON text: cheap to compare and to memoize. */
type ValueText = string;

export type RegisterInput =
  | { readonly f: 'read' }
  | { readonly f: 'write'; readonly value: ValueText }
  | { readonly f: 'cas'; readonly expected: ValueText; readonly next: ValueText };

export type RegisterOutput =
  | { readonly f: 'read'; readonly value: ValueText }
  | { readonly f: 'write' }
  | { readonly f: 'cas'; readonly swapped: boolean };

export interface RegisterOp extends LinOperation<RegisterInput, RegisterOutput> {
  readonly source: Operation;
}

const REJECT = { ok: false } as const;

/** The sequential specification of a single register. */
export function registerModel(initial: ValueText): Model<ValueText, RegisterInput, RegisterOutput> {
  return {
    init: initial,
    stateKey: (state) => state,
    // Checked case by case (write or cas X, followed by read, write, matching or
    // non-matching cas Y): if Y is possible without X, then X;Y may become Y;X
    // or X may be dropped, with the same results and final state.
    indeterminateMattersOnlyWhenEnabling: true,
    inputKey: (input) =>
      input.f === 'read' ? 'r' : input.f === 'write' ? `w${input.value}` : `c${input.expected}\u0001${input.next}`,
    step(state, input, output) {
      switch (input.f) {
        case 'read':
          if (output === undefined || (output.f === 'read' && output.value === state)) return { ok: true, state };
          return REJECT;
        case 'write':
          return { ok: true, state: input.value };
        case 'cas': {
          const matches = state === input.expected;
          if (output === undefined) return { ok: true, state: matches ? input.next : state };
          const swapped = output.f === 'cas' && output.swapped;
          if (swapped !== matches) return REJECT;
          return { ok: true, state: matches ? input.next : state };
        }
      }
    },
  };
}

export function valueText(value: JsonValue): ValueText {
  return JSON.stringify(value);
}

export const REGISTER_FUNCTIONS = ['read', 'write', 'cas'] as const;

/** Turns one paired operation into a model operation, or undefined when it has no effect to check. */
export function toRegisterOp(op: Operation): RegisterOp | undefined {
  const call = op.invoke.index;
  const determinate = op.outcome !== 'info';
  const ret = determinate ? op.completion!.index : Infinity;
  switch (op.f) {
    case 'read':
      if (op.outcome !== 'ok') return undefined;
      return { source: op, call, ret, input: { f: 'read' }, output: { f: 'read', value: valueText(op.result) } };
    case 'write':
      if (op.outcome === 'fail') return undefined;
      return {
        source: op,
        call,
        ret,
        input: { f: 'write', value: valueText(op.invoke.value) },
        output: determinate ? { f: 'write' } : undefined,
      };
    case 'cas': {
      const input = casInput(op);
      if (op.outcome === 'fail' && op.error !== undefined) return undefined;
      if (!determinate) return { source: op, call, ret, input, output: undefined };
      const swapped = op.outcome === 'ok' && op.result !== false;
      return { source: op, call, ret, input, output: { f: 'cas', swapped } };
    }
    default:
      return undefined;
  }
}

function casInput(op: Operation): RegisterInput {
  const v = op.invoke.value;
  if (!Array.isArray(v) || v.length !== 2) {
    throw new HistoryStructureError(op.invoke.index, `cas value must be [expected, new], got ${JSON.stringify(v)}`);
  }
  return { f: 'cas', expected: valueText(v[0]!), next: valueText(v[1]!) };
}

interface KeyOps {
  readonly key: Key | undefined;
  readonly name: string;
  readonly ops: RegisterOp[];
}

/** Splits register operations by key; counts operations of other functions. */
export function partitionByKey(operations: readonly Operation[]): { keys: KeyOps[]; ignored: number } {
  const byName = new Map<string, KeyOps>();
  let ignored = 0;
  for (const op of operations) {
    if (!(REGISTER_FUNCTIONS as readonly string[]).includes(op.f)) {
      ignored++;
      continue;
    }
    const registerOp = toRegisterOp(op);
    if (registerOp === undefined) continue;
    const name = op.key === undefined ? '(no key)' : String(op.key);
    let entry = byName.get(name);
    if (entry === undefined) {
      entry = { key: op.key, name, ops: [] };
      byName.set(name, entry);
    }
    entry.ops.push(registerOp);
  }
  return { keys: [...byName.values()], ignored };
}

export interface RegisterCheckOptions {
  /** Budget for deciding every key. Default 10 s. */
  readonly timeLimitMs?: number;
  /** Extra budget for shrinking failing keys to small sub-histories. Default 5 s. */
  readonly minimizeTimeLimitMs?: number;
  /** The value every register holds before the first write. Default null. */
  readonly initialValue?: JsonValue;
  /** Memory bound on the memo of one key's search. Default 2,000,000 configurations. */
  readonly maxConfigurations?: number;
  /** Clock in ms, injectable for tests. Default performance.now. */
  readonly now?: () => number;
}

/** One operation of a failing sub-history. */
export interface SubHistoryOp {
  readonly operation: Operation;
  /** True when it completed after the failing operation, so it counts as pending (indeterminate). */
  readonly pendingAtCut: boolean;
}

export interface KeyFailure {
  readonly key: string;
  /** The operation whose completion made the key's history non-linearizable. Undefined if not minimized. */
  readonly failingOperation: Operation | undefined;
  /** The smallest failing sub-history found, in invocation order. */
  readonly subHistory: readonly SubHistoryOp[];
  /** The same sub-history as history events: it can be written out and re-checked on its own. */
  readonly events: readonly HistoryEvent[];
  /** Whether the shrinking finished (false: budget ran out; the sub-history may be larger than needed). */
  readonly minimized: boolean;
  readonly keyOperationCount: number;
  /** Values the register could have held where the failing operation took effect. */
  readonly possibleValues: readonly JsonValue[] | undefined;
  readonly explanation: string;
}

export interface RegisterCheckResult {
  readonly valid: Verdict;
  readonly keyCount: number;
  /** Keys with a definite answer (linearizable or not). */
  readonly keysChecked: number;
  readonly operationsChecked: number;
  /** Operations whose f is not read/write/cas. */
  readonly ignoredOperations: number;
  readonly elapsedMs: number;
  readonly failures: readonly KeyFailure[];
  readonly unknownKeys: readonly { readonly key: string; readonly reason: string }[];
  readonly explanation: string;
}

const DEFAULTS = {
  timeLimitMs: 10_000,
  minimizeTimeLimitMs: 5_000,
  maxConfigurations: 2_000_000,
} as const;

/** Most attempts to drop one observation from a failing sub-history. */
const MAX_DROP_ATTEMPTS = 500;
/** Most candidate values tried when explaining a failure. */
const MAX_CANDIDATE_VALUES = 8;
/** Budget for those tries: they only improve the explanation. */
const CANDIDATE_BUDGET_MS = 1_000;

interface Checker {
  readonly model: Model<ValueText, RegisterInput, RegisterOutput>;
  readonly now: () => number;
  readonly maxConfigurations: number;
}

function search(checker: Checker, ops: readonly RegisterOp[], deadline: number): SearchOutcome {
  return checkLinearizable(checker.model, abstractUnobserved(ops, checker.model.init), {
    deadline,
    now: checker.now,
    maxConfigurations: checker.maxConfigurations,
  });
}

/** Stands for every value that no operation ever compares against. Not JSON, so unequal to any real value. */
const UNOBSERVED: ValueText = '\u0000unobserved';

/**
 * Values that no read returned and no cas expects are never compared with
 * anything, so which of them the register holds cannot matter: merge them
 * into one. The search then sees equal states where it would see distinct
 * ones, and, with the symmetry of indeterminate operations, stops enumerating
 * which of many timed-out writes of never-read values took effect.
 */
export function abstractUnobserved(ops: readonly RegisterOp[], initial: ValueText): LinOperation<RegisterInput, RegisterOutput>[] {
  const observed = new Set<ValueText>([initial]);
  for (const op of ops) {
    if (op.output?.f === 'read') observed.add(op.output.value);
    if (op.input.f === 'cas') observed.add(op.input.expected);
  }
  const abstract = (v: ValueText): ValueText => (observed.has(v) ? v : UNOBSERVED);
  return ops.map((op) => {
    const input = op.input;
    if (input.f === 'write') return { ...op, input: { f: 'write', value: abstract(input.value) } };
    if (input.f === 'cas') return { ...op, input: { f: 'cas', expected: input.expected, next: abstract(input.next) } };
    return op;
  });
}

/** Checks a register history (events, or already paired operations). */
export function checkRegisterHistory(
  history: readonly HistoryEvent[] | PairedHistory,
  options: RegisterCheckOptions = {},
): RegisterCheckResult {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const paired = isPairedHistory(history) ? history : pairHistory(history);
  const { keys, ignored } = partitionByKey(paired.operations);
  const initial = valueText(options.initialValue ?? null);
  const checker: Checker = {
    model: registerModel(initial),
    now,
    maxConfigurations: options.maxConfigurations ?? DEFAULTS.maxConfigurations,
  };
  // Small keys first: one pathological key must not starve all the others of budget.
  keys.sort((a, b) => a.ops.length - b.ops.length || a.name.localeCompare(b.name));
  const deadline = start + (options.timeLimitMs ?? DEFAULTS.timeLimitMs);
  const illegal: KeyOps[] = [];
  const unknownKeys: { key: string; reason: string }[] = [];
  let operationsChecked = 0;
  for (const k of keys) {
    const outcome = now() > deadline ? undefined : search(checker, k.ops, deadline);
    if (outcome === undefined || outcome.kind === 'budget') {
      const reason =
        outcome === undefined
          ? 'time budget exhausted before this key was checked'
          : `${outcome.reason === 'time' ? 'time' : 'memory'} budget exhausted after ${outcome.configurations} configurations`;
      unknownKeys.push({ key: k.name, reason });
      continue;
    }
    operationsChecked += k.ops.length;
    if (outcome.kind === 'illegal') illegal.push(k);
  }
  const minimizeDeadline = now() + (options.minimizeTimeLimitMs ?? DEFAULTS.minimizeTimeLimitMs);
  const failures = illegal.map((k) => explainFailure(checker, k, initial, minimizeDeadline));
  const valid = combineVerdicts([failures.length > 0 ? false : true, unknownKeys.length > 0 ? 'unknown' : true]);
  const elapsedMs = now() - start;
  return {
    valid,
    keyCount: keys.length,
    keysChecked: keys.length - unknownKeys.length,
    operationsChecked,
    ignoredOperations: ignored,
    elapsedMs,
    failures,
    unknownKeys,
    explanation: summarize(valid, keys.length, operationsChecked, elapsedMs, failures, unknownKeys),
  };
}

function summarize(
  valid: Verdict,
  keyCount: number,
  operations: number,
  elapsedMs: number,
  failures: readonly KeyFailure[],
  unknownKeys: readonly { key: string; reason: string }[],
): string {
  const head =
    valid === true
      ? `linearizable: ${keyCount} keys, ${operations} operations checked in ${Math.round(elapsedMs)} ms`
      : valid === false
        ? `NOT linearizable: ${failures.length} of ${keyCount} keys have no linearization`
        : `unknown: ${unknownKeys.length} of ${keyCount} keys could not be decided within budget`;
  const parts = [head, ...failures.map((f) => f.explanation)];
  if (unknownKeys.length > 0) {
    const shown = unknownKeys.slice(0, 10).map((u) => `  key ${u.key}: ${u.reason}`);
    parts.push(`undecided keys:\n${shown.join('\n')}${unknownKeys.length > 10 ? `\n  … ${unknownKeys.length - 10} more` : ''}`);
  }
  return parts.join('\n\n');
}

// ---------------------------------------------------------------------------
// Shrinking a failing key to a small witness.
//
// Prefix: cut the history at the completion of some operation; operations that
// complete later count as pending (indeterminate), reads pending at the cut are
// dropped. If a prefix has no linearization, no longer prefix has one either,
// so a binary search finds the first completion that broke linearizability.
// Observations (reads, cas that did not match) are then dropped one by one
// while the rest still fails: removing an observation can only make a history
// easier to linearize, so what remains is still a genuine witness.
// ---------------------------------------------------------------------------

interface Witness {
  readonly ops: readonly RegisterOp[];
  readonly failing: RegisterOp | undefined;
  readonly minimized: boolean;
}

function prefixAt(ops: readonly RegisterOp[], cut: number): RegisterOp[] {
  const prefix: RegisterOp[] = [];
  for (const op of ops) {
    if (op.call >= cut) continue;
    if (op.ret <= cut) prefix.push(op);
    else if (op.input.f !== 'read') prefix.push({ ...op, ret: Infinity, output: undefined });
  }
  return prefix;
}

function isObservation(op: RegisterOp): boolean {
  if (op.output === undefined) return false;
  return op.output.f === 'read' || (op.output.f === 'cas' && !op.output.swapped);
}

function shrink(checker: Checker, ops: readonly RegisterOp[], deadline: number): Witness {
  const returns = ops.filter((op) => op.ret !== Infinity).map((op) => op.ret).sort((a, b) => a - b);
  let lo = 0;
  let hi = returns.length - 1; // invariant: the prefix at returns[hi] fails
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const outcome = search(checker, prefixAt(ops, returns[mid]!), deadline);
    if (outcome.kind === 'budget') return { ops: prefixAt(ops, returns[hi]!), failing: undefined, minimized: false };
    if (outcome.kind === 'illegal') hi = mid;
    else lo = mid + 1;
  }
  const cut = returns[hi]!;
  const failing = ops.find((op) => op.ret === cut);
  const dropped = dropObservations(checker, prefixAt(ops, cut), failing, deadline);
  return { ops: dropped.ops, failing, minimized: dropped.complete };
}

/**
 * Drops observations that the failure does not need, in blocks (as in delta
 * debugging): first halves, then quarters, ... down to single operations, so
 * that a witness needing few observations costs few searches. Earliest first:
 * the observations that matter tend to be near the failing operation.
 */
function dropObservations(
  checker: Checker,
  witness: readonly RegisterOp[],
  failing: RegisterOp | undefined,
  deadline: number,
): { ops: readonly RegisterOp[]; complete: boolean } {
  let current = witness;
  let candidates = witness.filter((op) => op !== failing && isObservation(op));
  let attempts = 0;
  for (let size = Math.max(1, Math.ceil(candidates.length / 2)); candidates.length > 0; size = Math.ceil(size / 2)) {
    const kept: RegisterOp[] = [];
    for (let start = 0; start < candidates.length; start += size) {
      const block = new Set(candidates.slice(start, start + size));
      if (++attempts > MAX_DROP_ATTEMPTS) return { ops: current, complete: false };
      const outcome = search(checker, current.filter((op) => !block.has(op)), deadline);
      if (outcome.kind === 'budget') return { ops: current, complete: false };
      if (outcome.kind === 'illegal') current = current.filter((op) => !block.has(op));
      else kept.push(...block);
    }
    candidates = kept;
    if (size === 1) break;
  }
  return { ops: current, complete: true };
}

/** The values (among those ever written) the register could have held when `failing` took effect. */
function possibleValues(
  checker: Checker,
  witness: readonly RegisterOp[],
  failing: RegisterOp,
  initial: ValueText,
  deadline: number,
): { values: ValueText[]; allCandidatesTried: boolean } | undefined {
  // The most recently invoked writers first: with a budget on candidates, those are the plausible ones.
  const candidates = new Set<ValueText>();
  for (const op of [...witness].sort((a, b) => b.call - a.call)) {
    if (op.input.f === 'write') candidates.add(op.input.value);
    if (op.input.f === 'cas') candidates.add(op.input.next);
  }
  candidates.add(initial);
  const possible: ValueText[] = [];
  for (const value of [...candidates].slice(0, MAX_CANDIDATE_VALUES)) {
    const probe: RegisterOp = { ...failing, input: { f: 'read' }, output: { f: 'read', value } };
    const outcome = search(checker, witness.map((op) => (op === failing ? probe : op)), deadline);
    if (outcome.kind === 'budget') return undefined;
    if (outcome.kind === 'linearizable') possible.push(value);
  }
  return { values: possible, allCandidatesTried: candidates.size <= MAX_CANDIDATE_VALUES };
}

function explainFailure(checker: Checker, k: KeyOps, initial: ValueText, deadline: number): KeyFailure {
  const witness = shrink(checker, k.ops, deadline);
  const failing = witness.failing;
  const probeDeadline = Math.min(deadline, checker.now() + CANDIDATE_BUDGET_MS);
  const possible = failing === undefined ? undefined : possibleValues(checker, witness.ops, failing, initial, probeDeadline);
  const subHistory = [...witness.ops]
    .sort((a, b) => a.call - b.call)
    .map((op) => ({ operation: op.source, pendingAtCut: op.ret === Infinity && op.source.outcome !== 'info' }));
  const everWritten = new Set<ValueText>([initial]);
  for (const op of k.ops) {
    if (op.input.f === 'write') everWritten.add(op.input.value);
    if (op.input.f === 'cas') everWritten.add(op.input.next);
  }
  return {
    key: k.name,
    failingOperation: failing?.source,
    subHistory,
    events: subHistoryEvents(subHistory),
    minimized: witness.minimized,
    keyOperationCount: k.ops.length,
    possibleValues: possible?.values.map((v) => JSON.parse(v) as JsonValue),
    explanation: explanationText(k, failing, subHistory, possible, everWritten, witness.minimized),
  };
}

function subHistoryEvents(subHistory: readonly SubHistoryOp[]): HistoryEvent[] {
  const events: HistoryEvent[] = [];
  for (const { operation, pendingAtCut } of subHistory) {
    events.push(operation.invoke);
    if (!pendingAtCut && operation.completion !== undefined) events.push(operation.completion);
  }
  return events.sort((a, b) => a.index - b.index);
}

const MAX_EXPLAINED_OPS = 40;

function explanationText(
  k: KeyOps,
  failing: RegisterOp | undefined,
  subHistory: readonly SubHistoryOp[],
  possible: { values: readonly ValueText[]; allCandidatesTried: boolean } | undefined,
  everWritten: ReadonlySet<ValueText>,
  minimized: boolean,
): string {
  const lines = [`key ${k.name}: not linearizable (${k.ops.length} operations on this key).`];
  if (failing !== undefined) {
    lines.push(`It first breaks when this operation completes: ${describeOperation(failing.source)}.`);
    const reason = failureReason(failing, possible, everWritten);
    if (reason !== undefined) lines.push(reason);
  }
  lines.push(
    `${minimized ? 'Smallest' : 'Failing (shrinking ran out of budget)'} sub-history, ${subHistory.length} operations; ` +
      `no order of them that respects real time and the register's rules explains every result:`,
  );
  // The end of the witness is where the trouble is; earlier operations are elided.
  const omitted = Math.max(0, subHistory.length - MAX_EXPLAINED_OPS);
  if (omitted > 0) lines.push(`    … ${omitted} earlier operations (see \`subHistory\`)`);
  for (const { operation, pendingAtCut } of subHistory.slice(omitted)) {
    const marker = failing !== undefined && operation === failing.source ? '  ← ' : '    ';
    lines.push(`${marker}${describeOperation(operation)}${pendingAtCut ? ' (still pending at that point)' : ''}`);
  }
  return lines.join('\n');
}

function failureReason(
  failing: RegisterOp,
  possible: { values: readonly ValueText[]; allCandidatesTried: boolean } | undefined,
  everWritten: ReadonlySet<ValueText>,
): string | undefined {
  const values = possible?.values;
  const among = possible?.allCandidatesTried === false ? ` (of the ${MAX_CANDIDATE_VALUES} most recently written values)` : '';
  const could =
    values === undefined
      ? undefined
      : values.length === 0
        ? `no value at all${among}`
        : values.length === 1
          ? `${values[0]!}${among}`
          : `only one of ${values.join(', ')}${among}`;
  const input = failing.input;
  const output = failing.output;
  if (input.f === 'read' && output?.f === 'read') {
    const never = everWritten.has(output.value) ? '' : ` No operation ever wrote ${output.value} to this key.`;
    return could === undefined
      ? `The read returned ${output.value}.${never}`
      : `The read returned ${output.value}, but wherever it could have taken effect the register held ${could}.${never}`;
  }
  if (input.f === 'cas' && output?.f === 'cas') {
    if (output.swapped) {
      return `The cas succeeded, so the register held ${input.expected}; but wherever it could have taken effect it held ${could ?? 'something else'}.`;
    }
    return `The cas reported the value was not ${input.expected}; but wherever it could have taken effect the register held ${could ?? input.expected}.`;
  }
  return undefined;
}

/** One line for a human: `process 3 read → 2 [events 120..131]`. */
export function describeOperation(op: Operation): string {
  const span = `[events ${op.invoke.index}..${op.completion?.index ?? '∞'}]`;
  const arg = (v: JsonValue): string => JSON.stringify(v);
  let what: string;
  switch (op.f) {
    case 'read':
      what = op.outcome === 'ok' ? `read → ${arg(op.result)}` : `read (${op.outcome})`;
      break;
    case 'write':
      what = `write ${arg(op.invoke.value)}`;
      break;
    case 'cas': {
      const v = op.invoke.value;
      const pair = Array.isArray(v) && v.length === 2 ? `${arg(v[0]!)} → ${arg(v[1]!)}` : arg(v);
      what = `cas ${pair}`;
      if (op.outcome === 'fail' && op.error === undefined) what += ' → did not match';
      else if (op.outcome === 'ok') what += op.result === false ? ' → did not match' : ' → swapped';
      break;
    }
    default:
      what = `${op.f} ${arg(op.invoke.value)}`;
  }
  const outcome = op.outcome === 'info' ? ' (indeterminate)' : op.outcome === 'fail' && op.error !== undefined ? ` (failed: ${op.error})` : '';
  return `process ${op.process} ${what}${outcome} ${span}`;
}
