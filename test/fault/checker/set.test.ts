import { describe, expect, it } from 'vitest';
import { HistoryRecorder, counterClock, type HistoryEvent, type JsonValue } from './history.js';
import { checkSetHistory } from './set.js';

/** Adds 1 (ok), 2 (ok), 3 (indeterminate), 4 (indeterminate), 5 (failed), then the given final reads. */
function setHistory(reads: JsonValue[]): HistoryEvent[] {
  const h = new HistoryRecorder(counterClock());
  h.invoke(0, 'add', 's', 1);
  h.ok(0);
  h.invoke(1, 'add', 's', 2);
  h.ok(1);
  h.invoke(2, 'add', 's', 3);
  h.info(2);
  h.invoke(2, 'add', 's', 4);
  h.info(2);
  h.invoke(3, 'add', 's', 5);
  h.fail(3, undefined, '23505');
  reads.forEach((elements, node) => {
    h.invoke(10 + node, 'read', 's');
    h.ok(10 + node, elements);
  });
  return [...h.events()];
}

describe('set checker', () => {
  it('accepts final reads with every acknowledged add, counting recovered indeterminate ones', () => {
    const r = checkSetHistory(setHistory([[1, 2, 3], { node: 'n2', elements: ['1', '2', '3'] }]));
    expect(r.valid).toBe(true);
    expect(r.recoveredCount).toBe(1);
    expect(r.indeterminateMissingCount).toBe(1);
    expect(r.adds).toEqual({ attempted: 5, ok: 2, fail: 1, info: 2 });
  });

  it('reports a lost acknowledged add', () => {
    const r = checkSetHistory(setHistory([[1, 2], [1]]));
    expect(r.valid).toBe(false);
    expect(r.lost).toEqual(['2']);
    expect(r.explanation).toContain('lost');
  });

  it('reports elements nobody tried to add, and failed adds that appear', () => {
    const r = checkSetHistory(setHistory([[1, 2, 5, 99]]));
    expect(r.valid).toBe(false);
    expect(r.unexpected).toEqual(['99']);
    expect(r.failedButPresent).toEqual(['5']);
  });

  it('reports an element applied twice, and one that vanished between reads', () => {
    const r = checkSetHistory(setHistory([[1, 2, 2, 3], [1, 2]]));
    expect(r.valid).toBe(false);
    expect(r.duplicated).toEqual(['2']);
    expect(r.vanished).toEqual(['3']);
  });

  it('does not require an add that completed after the read began', () => {
    const h = new HistoryRecorder(counterClock());
    h.invoke(0, 'add', 's', 1);
    h.invoke(1, 'read', 's');
    h.ok(0);
    h.ok(1, []);
    expect(checkSetHistory([...h.events()]).valid).toBe(true);
  });

  it('is unknown without any successful read', () => {
    expect(checkSetHistory(setHistory([])).valid).toBe('unknown');
  });
});
