// A seeded simulation of clients using a set of perfectly linearizable
// registers, for testing the checker: every operation takes effect atomically
// at one instant between its invocation and its completion, so any history it
// produces is linearizable by construction. Faults are imitated by outcomes:
// `fail` (did not happen) and `info` (indeterminate: the operation may have
// taken effect already, may take effect later, or never).

import { HistoryRecorder, counterClock, pairHistory, type HistoryEvent, type JsonValue } from './history.js';
import { splitmix32 } from './linearizability.js';

export interface RegisterSimulationOptions {
  readonly seed: number;
  readonly operations: number;
  /** Client processes, i.e. the concurrency. */
  readonly processes: number;
  readonly keys: number;
  readonly readFraction?: number;
  readonly casFraction?: number;
  /** Chance that an operation ends indeterminate. */
  readonly infoProbability?: number;
  /** Chance that a write or cas fails before taking effect (with an error, so definitely not applied). */
  readonly failProbability?: number;
}

type Phase = 'invoked' | 'applied';

interface Pending {
  readonly f: 'read' | 'write' | 'cas';
  readonly key: number;
  readonly value: JsonValue;
  phase: Phase;
  result: JsonValue;
  outcome: 'ok' | 'fail';
}

/** An indeterminate operation that has not taken effect yet: it may later, or never. */
interface Ghost {
  readonly f: 'write' | 'cas';
  readonly key: number;
  readonly value: JsonValue;
}

export function simulateRegisterHistory(options: RegisterSimulationOptions): HistoryEvent[] {
  const next = splitmix32(options.seed);
  const random = (): number => next() / 2 ** 32;
  const pick = (n: number): number => Math.floor(random() * n);
  const readFraction = options.readFraction ?? 0.5;
  const casFraction = options.casFraction ?? 0.2;
  const infoP = options.infoProbability ?? 0.03;
  const failP = options.failProbability ?? 0.02;
  const recorder = new HistoryRecorder(counterClock());
  const registers = new Map<number, JsonValue>();
  const pending = new Map<number, Pending>();
  const ghosts: Ghost[] = [];
  let invoked = 0;
  let uniqueValue = 0;

  const apply = (op: { f: string; key: number; value: JsonValue }): { result: JsonValue; matched: boolean } => {
    const current = registers.get(op.key) ?? null;
    if (op.f === 'read') return { result: current, matched: true };
    if (op.f === 'write') {
      registers.set(op.key, op.value);
      return { result: op.value, matched: true };
    }
    const [expected, replacement] = op.value as [JsonValue, JsonValue];
    if (JSON.stringify(current) !== JSON.stringify(expected)) return { result: op.value, matched: false };
    registers.set(op.key, replacement);
    return { result: op.value, matched: true };
  };

  const invoke = (process: number): void => {
    const key = pick(options.keys);
    const roll = random();
    const f = roll < readFraction ? 'read' : roll < readFraction + casFraction ? 'cas' : 'write';
    let value: JsonValue = null;
    if (f === 'write') value = ++uniqueValue;
    if (f === 'cas') {
      // Expect the current value most of the time so that some swaps succeed.
      const current = registers.get(key) ?? null;
      const expected = random() < 0.6 ? current : pick(uniqueValue + 1);
      value = [expected, ++uniqueValue];
    }
    recorder.invoke(process, f, key, value);
    pending.set(process, { f, key, value, phase: 'invoked', result: null, outcome: 'ok' });
    invoked++;
  };

  const advance = (process: number, op: Pending): void => {
    if (op.phase === 'invoked') {
      if (op.f !== 'read' && random() < failP) {
        recorder.fail(process, op.value, '40001');
        pending.delete(process);
      } else if (op.f !== 'read' && random() < infoP) {
        recorder.info(process, op.value, '40003');
        ghosts.push({ f: op.f, key: op.key, value: op.value });
        pending.delete(process);
      } else {
        const { result, matched } = apply(op);
        op.phase = 'applied';
        op.result = result;
        op.outcome = matched ? 'ok' : 'fail';
      }
      return;
    }
    pending.delete(process);
    if (random() < infoP) recorder.info(process, op.value, '40003');
    else if (op.outcome === 'fail') recorder.fail(process, op.value); // cas mismatch: no error field
    else recorder.ok(process, op.result);
  };

  const maxSteps = options.operations * 20 + 1000;
  for (let step = 0; step < maxSteps; step++) {
    if (invoked >= options.operations && pending.size === 0) break;
    if (ghosts.length > 0 && random() < 0.05) {
      const [ghost] = ghosts.splice(pick(ghosts.length), 1);
      if (random() < 0.5) apply(ghost!);
    }
    const process = pick(options.processes);
    const op = pending.get(process);
    if (op !== undefined) advance(process, op);
    else if (invoked < options.operations) invoke(process);
  }
  if (pending.size > 0) throw new Error('simulation did not drain within its step bound');
  return [...recorder.events()];
}

/**
 * Makes a linearizable history (with unique written values) non-linearizable
 * by a stale read: a read that began after write W2 completed, which itself
 * began after write W1 completed, now returns W1's value. Only W1 wrote that
 * value, so no order can explain it. Returns undefined when no such triple exists.
 */
export function plantStaleRead(
  events: readonly HistoryEvent[],
  choose: (candidates: number) => number = () => 0,
): { events: HistoryEvent[]; readCompletionIndex: number; staleValue: JsonValue } | undefined {
  const ops = pairHistory(events).operations;
  const okWrites = ops.filter((op) => op.f === 'write' && op.outcome === 'ok');
  const candidates: { readIndex: number; stale: JsonValue }[] = [];
  for (const read of ops) {
    if (read.f !== 'read' || read.outcome !== 'ok') continue;
    const sameKey = okWrites.filter((w) => w.key === read.key);
    const w2 = sameKey.findLast((w) => w.completion!.index < read.invoke.index);
    const w1 = w2 && sameKey.find((w) => w.completion!.index < w2.invoke.index);
    if (w1 !== undefined) candidates.push({ readIndex: read.completion!.index, stale: w1.invoke.value });
  }
  if (candidates.length === 0) return undefined;
  const chosen = candidates[choose(candidates.length) % candidates.length]!;
  return {
    events: events.map((e) => (e.index === chosen.readIndex ? { ...e, value: chosen.stale } : e)),
    readCompletionIndex: chosen.readIndex,
    staleValue: chosen.stale,
  };
}
