import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HistoryParseError,
  HistoryRecorder,
  HistoryStructureError,
  counterClock,
  formatHistory,
  pairHistory,
  parseHistory,
  readHistoryFile,
  writeHistoryFile,
  type HistoryEvent,
} from './history.js';

const line = (o: Record<string, unknown>): string => JSON.stringify(o);
const base = { process: 0, type: 'invoke', f: 'read', key: 'x', value: null, time: 1, index: 0 };

describe('history parsing', () => {
  it('parses events, skips blank lines, and round-trips through the writer', () => {
    const text = `${line(base)}\n\n${line({ ...base, type: 'ok', value: 3, time: 2, index: 1 })}\n`;
    const events = parseHistory(text);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ type: 'ok', value: 3, key: 'x' });
    expect(parseHistory(formatHistory(events))).toEqual(events);
  });

  it.each([
    ['not json', /invalid JSON/],
    ['[1,2]', /expected a JSON object/],
    [line({ ...base, process: 1.5 }), /"process" must be an integer/],
    [line({ ...base, type: 'done' }), /"type" must be one of/],
    [line({ ...base, f: '' }), /"f" must be a non-empty string/],
    [line({ ...base, key: [1] }), /"key"/],
    [line({ ...base, time: 'soon' }), /"time" must be a finite number/],
    [line({ ...base, index: -1 }), /"index" must be a non-negative integer/],
    [line({ ...base, error: 40003 }), /"error"/],
  ])('rejects %s with a clear error naming the line', (bad, message) => {
    const text = `${line(base)}\n${bad}\n`;
    let caught: unknown;
    try {
      parseHistory(text, 'h.jsonl');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(HistoryParseError);
    expect((caught as HistoryParseError).line).toBe(2);
    expect((caught as Error).message).toMatch(message);
    expect((caught as Error).message).toContain('h.jsonl:2');
  });
});

describe('history files', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('writes and reads back a recorded history', async () => {
    dir = await mkdtemp(join(tmpdir(), 'paxosql-history-'));
    const h = new HistoryRecorder(counterClock());
    h.invoke(0, 'write', 'k', 1);
    h.info(0, undefined, '40003');
    h.nemesis(-1, 'kill', 'n2');
    const path = join(dir, 'history.jsonl');
    await writeHistoryFile(path, h.events());
    expect(await readHistoryFile(path)).toEqual(h.events());
  });
});

describe('pairing invocations with completions', () => {
  const ev = (o: Partial<HistoryEvent> & { index: number }): HistoryEvent =>
    ({ process: 0, type: 'invoke', f: 'write', key: 'x', value: 1, time: o.index, ...o }) as HistoryEvent;

  it('pairs per process, treats a missing completion as indeterminate, keeps nemesis events aside', () => {
    const h = new HistoryRecorder(counterClock());
    h.invoke(0, 'write', 'x', 1);
    h.invoke(1, 'read', 'x');
    h.nemesis(-1, 'partition');
    h.ok(1, 1);
    h.ok(0);
    h.invoke(0, 'write', 'x', 2);
    const { operations, nemesis } = pairHistory(h.events());
    expect(operations.map((o) => [o.process, o.f, o.outcome])).toEqual([
      [0, 'write', 'ok'],
      [1, 'read', 'ok'],
      [0, 'write', 'info'],
    ]);
    expect(operations[2]!.completion).toBeUndefined();
    expect(nemesis.map((e) => e.f)).toEqual(['partition']);
  });

  it('lets a process invoke again after an indeterminate result', () => {
    const h = new HistoryRecorder(counterClock());
    h.invoke(0, 'write', 'x', 1);
    h.info(0);
    h.invoke(0, 'write', 'x', 2);
    h.ok(0);
    expect(pairHistory(h.events()).operations.map((o) => o.outcome)).toEqual(['info', 'ok']);
  });

  it.each([
    ['a completion without an invocation', [ev({ index: 0, type: 'ok' })], /without invoking/],
    ['two invocations in flight on one process', [ev({ index: 0 }), ev({ index: 1 })], /still pending/],
    ['a completion of another function', [ev({ index: 0 }), ev({ index: 1, type: 'ok', f: 'read' })], /does not match/],
    ['a completion of another key', [ev({ index: 0 }), ev({ index: 1, type: 'ok', key: 'y' })], /key/],
    ['a duplicate index', [ev({ index: 0 }), ev({ index: 0, process: 1 })], /share this index/],
    ['a clock going backwards', [ev({ index: 0, time: 5 }), ev({ index: 1, type: 'ok', time: 4 })], /backwards/],
  ])('rejects %s', (_name, events, message) => {
    expect(() => pairHistory(events)).toThrow(HistoryStructureError);
    expect(() => pairHistory(events)).toThrow(message);
  });
});
