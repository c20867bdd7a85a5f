import { describe, expect, it } from 'vitest';
import { HistoryRecorder, counterClock, pairHistory, type HistoryEvent, type JsonValue } from './history.js';
import { splitmix32 } from './linearizability.js';
import { checkRegisterHistory, toRegisterOp, type RegisterOp } from './register.js';

// The search prunes (memo with subsumption, interchangeable indeterminate
// operations, indeterminate operations only where they help). This compares
// it with a brute force that tries every order of every allowed subset, on
// many small random histories, linearizable or not.

function randomHistory(seed: number): HistoryEvent[] {
  const next = splitmix32(seed);
  const pick = (n: number): number => Math.floor((next() / 2 ** 32) * n);
  const values: JsonValue[] = [null, 1, 2, 3];
  const h = new HistoryRecorder(counterClock());
  const pending = new Set<number>();
  let invoked = 0;
  const total = 3 + pick(5);
  for (let step = 0; step < 100 && (invoked < total || pending.size > 0); step++) {
    const p = pick(3);
    if (pending.has(p)) {
      pending.delete(p);
      const f = h.events().findLast((e) => e.process === p)!.f;
      const roll = pick(10);
      if (roll < 2) h.info(p);
      else if (f === 'read') h.ok(p, values[pick(4)]!);
      else if (f === 'cas' && roll < 5) h.fail(p);
      else h.ok(p);
    } else if (invoked < total) {
      const roll = pick(3);
      if (roll === 0) h.invoke(p, 'read', 'k');
      else if (roll === 1) h.invoke(p, 'write', 'k', values[1 + pick(3)]!);
      else h.invoke(p, 'cas', 'k', [values[pick(4)]!, values[1 + pick(3)]!]);
      pending.add(p);
      invoked++;
    }
  }
  return [...h.events()];
}

function step(state: string, op: RegisterOp): string | undefined {
  const { input, output } = op;
  if (input.f === 'read') return output === undefined || (output.f === 'read' && output.value === state) ? state : undefined;
  if (input.f === 'write') return input.value;
  const matches = state === input.expected;
  if (output === undefined) return matches ? input.next : state;
  const swapped = output.f === 'cas' && output.swapped;
  if (swapped !== matches) return undefined;
  return matches ? input.next : state;
}

/** Tries every order of (all determinate + any subset of indeterminate) operations. */
function bruteForce(ops: readonly RegisterOp[]): boolean {
  const used = new Array<boolean>(ops.length).fill(false);
  const mustUse = ops.filter((op) => op.ret !== Infinity).length;
  const extend = (state: string, placed: number[], determinatePlaced: number): boolean => {
    if (determinatePlaced === mustUse) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      // Real time: every unplaced operation that returned before i was called must come first.
      const op = ops[i]!;
      if (ops.some((other, j) => !used[j] && j !== i && other.ret < op.call)) continue;
      const after = step(state, op);
      if (after === undefined) continue;
      used[i] = true;
      const ok = extend(after, [...placed, i], determinatePlaced + (op.ret !== Infinity ? 1 : 0));
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return extend('null', [], 0);
}

describe('linearizability search agrees with brute force', () => {
  it('on 1,500 small random register histories', () => {
    let linearizable = 0;
    for (let seed = 1; seed <= 1_500; seed++) {
      const events = randomHistory(seed);
      const ops = pairHistory(events)
        .operations.map(toRegisterOp)
        .filter((op): op is RegisterOp => op !== undefined);
      const expected = bruteForce(ops);
      const actual = checkRegisterHistory(events, { timeLimitMs: 5_000 }).valid;
      expect(actual, `seed ${seed}\n${events.map((e) => JSON.stringify(e)).join('\n')}`).toBe(expected);
      if (expected) linearizable++;
    }
    // Both kinds must be well represented, or the comparison proves little.
    expect(linearizable).toBeGreaterThan(200);
    expect(linearizable).toBeLessThan(1_300);
  });
});
