import { describe, expect, it } from 'vitest';
import { HistoryRecorder, counterClock } from './history.js';
import { runCheckers, summarizeHistory } from './summary.js';
import { combineVerdicts } from './verdict.js';

function mixedHistory(staleRead: boolean) {
  const h = new HistoryRecorder(counterClock());
  h.invoke(0, 'write', 'x', 1);
  h.ok(0);
  h.invoke(0, 'write', 'x', 2);
  h.ok(0);
  h.invoke(1, 'read', 'x');
  h.ok(1, staleRead ? 1 : 2);
  h.invoke(2, 'cas', 'x', [5, 6]);
  h.fail(2);
  h.invoke(3, 'write', 'x', 3);
  h.info(3, undefined, '40003');
  h.nemesis(-1, 'kill', 'n1');
  h.invoke(4, 'read', 'x');
  return [...h.events()];
}

describe('result summary', () => {
  it('counts outcomes per function and in total', () => {
    const s = summarizeHistory(mixedHistory(false));
    expect(s.byFunction['write']).toEqual({ ok: 2, fail: 0, info: 1, pending: 0 });
    expect(s.byFunction['read']).toEqual({ ok: 1, fail: 0, info: 0, pending: 1 });
    expect(s.byFunction['cas']).toEqual({ ok: 0, fail: 1, info: 0, pending: 0 });
    expect(s.total).toEqual({ ok: 3, fail: 1, info: 1, pending: 1 });
    expect(s.processes).toBe(5);
    expect(s.nemesisEvents).toBe(1);
  });

  it('combines checker verdicts: any false is false, else any unknown is unknown', () => {
    expect(combineVerdicts([true, true])).toBe(true);
    expect(combineVerdicts([true, 'unknown'])).toBe('unknown');
    expect(combineVerdicts(['unknown', false])).toBe(false);
  });

  it('runs the selected checkers and reports each verdict', () => {
    const good = runCheckers(mixedHistory(false), { register: {}, set: { readFunction: 'members' } });
    expect(good.verdicts).toEqual({ register: true, set: 'unknown' });
    expect(good.valid).toBe('unknown');
    expect(good.text).toContain('overall: unknown');
    const bad = runCheckers(mixedHistory(true), { register: {} });
    expect(bad.valid).toBe(false);
    expect(bad.register?.failures[0]?.key).toBe('x');
    expect(bad.text).toContain('NOT linearizable');
  });

  it('is unknown when no checker was selected', () => {
    expect(runCheckers(mixedHistory(false), {}).valid).toBe('unknown');
  });
});
