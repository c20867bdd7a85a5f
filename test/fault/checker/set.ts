// Set checker: clients `add` unique elements during the faults, then `read` the
// whole set on every node once the cluster has healed. Acknowledged adds must
// survive; nothing may appear that nobody tried to add.
//
// Rules (a read R and an add A "precede" when A's completion comes before R's invocation):
//   lost              an ok add missing from a read it precedes              → invalid
//   unexpected        an element in a read that no add ever invoked          → invalid
//   failed-but-present an element whose add definitely failed, yet is there  → invalid
//   duplicated        an element twice in one read (an add applied twice)    → invalid
//   vanished          an element in a read, missing from a later read        → invalid (sets only grow)
//   recovered         an indeterminate add that is present: fine, counted
// A read's value is an array of elements, or {"node"?: ..., "elements": [...]}.
// Elements are compared by their text, so 5 and "5" are the same element.

import { isPairedHistory, pairHistory, type HistoryEvent, type JsonValue, type Operation, type PairedHistory } from './history.js';
import type { Verdict } from './verdict.js';

export interface SetOptions {
  readonly addFunction?: string;
  readonly readFunction?: string;
  /** At most this many elements are listed per category (all are counted). Default 100. */
  readonly maxReported?: number;
}

export interface SetCheckResult {
  readonly valid: Verdict;
  readonly readsChecked: number;
  readonly adds: { readonly attempted: number; readonly ok: number; readonly fail: number; readonly info: number };
  readonly lostCount: number;
  readonly lost: readonly string[];
  readonly unexpectedCount: number;
  readonly unexpected: readonly string[];
  readonly failedButPresentCount: number;
  readonly failedButPresent: readonly string[];
  readonly duplicatedCount: number;
  readonly duplicated: readonly string[];
  readonly vanishedCount: number;
  readonly vanished: readonly string[];
  /** Indeterminate adds found in at least one read. */
  readonly recoveredCount: number;
  /** Indeterminate adds found in no read (allowed: they may never have happened). */
  readonly indeterminateMissingCount: number;
  readonly explanation: string;
}

interface SetRead {
  readonly op: Operation;
  readonly call: number;
  readonly ret: number;
  readonly elements: ReadonlySet<string>;
}

interface Add {
  readonly op: Operation;
  readonly element: string;
}

export class SetReadShapeError extends Error {
  constructor(
    readonly eventIndex: number,
    reason: string,
  ) {
    super(`set read at event ${eventIndex}: ${reason}`);
    this.name = 'SetReadShapeError';
  }
}

function elementText(value: JsonValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function readElements(op: Operation): JsonValue[] {
  const v = op.result;
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && v !== null && Array.isArray(v['elements'])) return v['elements'];
  throw new SetReadShapeError(op.completion?.index ?? op.invoke.index, `expected an array or {elements: [...]}, got ${JSON.stringify(v)}`);
}

/** Adds a count and a bounded sample to a category. */
class Category {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  add(element: string): void {
    this.seen.add(element);
  }
  get count(): number {
    return this.seen.size;
  }
  sample(): string[] {
    return [...this.seen].slice(0, this.max);
  }
}

export function checkSetHistory(history: readonly HistoryEvent[] | PairedHistory, options: SetOptions = {}): SetCheckResult {
  const paired = isPairedHistory(history) ? history : pairHistory(history);
  const addF = options.addFunction ?? 'add';
  const readF = options.readFunction ?? 'read';
  const max = options.maxReported ?? 100;
  const adds: Add[] = [];
  const reads: SetRead[] = [];
  const duplicated = new Category(max);
  for (const op of paired.operations) {
    if (op.f === addF) adds.push({ op, element: elementText(op.invoke.value) });
    if (op.f === readF && op.outcome === 'ok') reads.push(toSetRead(op, duplicated));
  }
  const attempted = new Set(adds.map((a) => a.element));
  const present = new Set<string>();
  for (const r of reads) for (const e of r.elements) present.add(e);

  const lost = new Category(max);
  const failedButPresent = new Category(max);
  const recovered = new Category(max);
  let indeterminateMissing = 0;
  for (const add of adds) {
    if (add.op.outcome === 'ok') {
      const ackedAt = add.op.completion!.index;
      if (reads.some((r) => r.call > ackedAt && !r.elements.has(add.element))) lost.add(add.element);
    } else if (add.op.outcome === 'fail') {
      if (present.has(add.element)) failedButPresent.add(add.element);
    } else if (present.has(add.element)) {
      recovered.add(add.element);
    } else {
      indeterminateMissing++;
    }
  }
  const unexpected = new Category(max);
  for (const e of present) if (!attempted.has(e)) unexpected.add(e);
  const vanished = findVanished(reads, max);

  const counts = { ok: 0, fail: 0, info: 0 };
  for (const add of adds) counts[add.op.outcome]++;
  const violations =
    lost.count + unexpected.count + failedButPresent.count + duplicated.count + vanished.count;
  const valid: Verdict = violations > 0 ? false : reads.length === 0 ? 'unknown' : true;
  const result = {
    valid,
    readsChecked: reads.length,
    adds: { attempted: adds.length, ...counts },
    lostCount: lost.count,
    lost: lost.sample(),
    unexpectedCount: unexpected.count,
    unexpected: unexpected.sample(),
    failedButPresentCount: failedButPresent.count,
    failedButPresent: failedButPresent.sample(),
    duplicatedCount: duplicated.count,
    duplicated: duplicated.sample(),
    vanishedCount: vanished.count,
    vanished: vanished.sample(),
    recoveredCount: recovered.count,
    indeterminateMissingCount: indeterminateMissing,
  };
  return { ...result, explanation: setExplanation(result) };
}

function toSetRead(op: Operation, duplicated: Category): SetRead {
  const elements = new Set<string>();
  for (const raw of readElements(op)) {
    const e = elementText(raw);
    if (elements.has(e)) duplicated.add(e);
    elements.add(e);
  }
  return { op, call: op.invoke.index, ret: op.completion!.index, elements };
}

/** Elements seen by a read and missing from a read that began after it completed. */
function findVanished(reads: readonly SetRead[], max: number): Category {
  const vanished = new Category(max);
  for (const earlier of reads) {
    for (const later of reads) {
      if (later.call <= earlier.ret) continue;
      for (const e of earlier.elements) if (!later.elements.has(e)) vanished.add(e);
    }
  }
  return vanished;
}

function setExplanation(r: Omit<SetCheckResult, 'explanation'>): string {
  const tally =
    `${r.adds.attempted} adds (${r.adds.ok} ok, ${r.adds.fail} failed, ${r.adds.info} indeterminate), ${r.readsChecked} reads; ` +
    `${r.recoveredCount} indeterminate adds recovered, ${r.indeterminateMissingCount} absent`;
  if (r.valid === 'unknown') return `set: unknown: no successful read. ${tally}`;
  if (r.valid === true) return `set: valid. ${tally}`;
  const lines = [`set: INVALID. ${tally}`];
  const category = (name: string, count: number, sample: readonly string[]): void => {
    if (count > 0) lines.push(`  ${name}: ${count} — ${sample.join(', ')}${count > sample.length ? ', …' : ''}`);
  };
  category('lost (acknowledged, missing from a later read)', r.lostCount, r.lost);
  category('unexpected (never added)', r.unexpectedCount, r.unexpected);
  category('present although the add failed', r.failedButPresentCount, r.failedButPresent);
  category('duplicated within one read', r.duplicatedCount, r.duplicated);
  category('vanished (in a read, missing from a later one)', r.vanishedCount, r.vanished);
  return lines.join('\n');
}
