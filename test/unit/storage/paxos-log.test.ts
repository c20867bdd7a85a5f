import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AcceptedEntry, Ballot, Value } from '../../../src/paxos/types.js';
import {
  compactInSteps,
  MemoryDisk,
  MemoryPaxosLog,
  type PaxosLog,
  PaxosLogError,
  SqlitePaxosLog,
  ZERO_BALLOT,
} from '../../../src/storage/index.js';

/** A way to open the log, and to reopen it as a restarted process would. */
interface Harness {
  open(): PaxosLog;
  /** Simulates a restart: the old handle is gone, a new one reads what is durable. */
  restart(old: PaxosLog): PaxosLog;
  cleanup(): void;
}

function sqliteHarness(): Harness {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paxos-log-'));
  const file = path.join(dir, 'paxos.db');
  return {
    open: () => SqlitePaxosLog.open(file),
    restart: (old) => {
      old.close();
      return SqlitePaxosLog.open(file);
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

function memoryHarness(): Harness {
  const disk = new MemoryDisk();
  return {
    open: () => new MemoryPaxosLog(disk),
    restart: (old) => {
      (old as MemoryPaxosLog).crash();
      return new MemoryPaxosLog(disk);
    },
    cleanup: () => {},
  };
}

const b = (round: number, node: number): Ballot => ({ round, node });

function batch(time: number, ...commands: number[][]): Value {
  return { kind: 'batch', time, commands: commands.map((c) => Uint8Array.from(c)) };
}

function entry(slot: number, ballot: Ballot, value: Value = batch(slot, [slot % 256])): AcceptedEntry {
  return { slot, ballot, value };
}

describe.each([
  ['SqlitePaxosLog', sqliteHarness],
  ['MemoryPaxosLog', memoryHarness],
])('%s', (_name, makeHarness) => {
  let h: Harness;
  let log: PaxosLog;

  beforeEach(() => {
    h = makeHarness();
    log = h.open();
  });
  afterEach(() => {
    log.close();
    h.cleanup();
  });

  it('starts empty with the zero ballot and first slot 1', () => {
    expect(log.load()).toEqual({ promised: ZERO_BALLOT, accepted: [] });
    expect(log.firstSlot()).toBe(1);
  });

  it('keeps the promise and accepted entries across a restart, in slot order', () => {
    log.persist(b(2, 1), [entry(3, b(2, 1)), entry(1, b(2, 1), { kind: 'noop' })]);
    log.persist(null, [entry(2, b(2, 1), batch(1.5e12, [], [0, 255, 7], new Array(5000).fill(9)))]);
    log = h.restart(log);
    const state = log.load();
    expect(state.promised).toEqual(b(2, 1));
    expect(state.accepted.map((e) => e.slot)).toEqual([1, 2, 3]);
    expect(state.accepted[0]).toEqual(entry(1, b(2, 1), { kind: 'noop' }));
    expect(state.accepted[1]).toEqual(entry(2, b(2, 1), batch(1.5e12, [], [0, 255, 7], new Array(5000).fill(9))));
    expect(state.accepted[2]).toEqual(entry(3, b(2, 1)));
  });

  it('replaces an earlier entry for the same slot, across calls and within one call', () => {
    log.persist(b(1, 1), [entry(1, b(1, 1), batch(1, [1]))]);
    log.persist(b(2, 2), [entry(1, b(2, 2), batch(2, [2])), entry(1, b(2, 2), batch(3, [3]))]);
    log = h.restart(log);
    expect(log.load().accepted).toEqual([entry(1, b(2, 2), batch(3, [3]))]);
  });

  it('keeps large slot and round numbers exactly', () => {
    const big = Number.MAX_SAFE_INTEGER;
    log.persist(b(big, 7), [entry(2 ** 40 + 3, b(2 ** 33, 7))]);
    log = h.restart(log);
    expect(log.load()).toEqual({ promised: b(big, 7), accepted: [entry(2 ** 40 + 3, b(2 ** 33, 7))] });
  });

  it('refuses a promise that goes backwards and writes nothing of that call', () => {
    log.persist(b(5, 2), []);
    expect(() => log.persist(b(5, 1), [entry(1, b(5, 1))])).toThrow(PaxosLogError);
    expect(() => log.persist(b(4, 3), [])).toThrow(PaxosLogError);
    log = h.restart(log);
    expect(log.load()).toEqual({ promised: b(5, 2), accepted: [] });
  });

  it('refuses invalid slots and writes nothing of that call', () => {
    for (const slot of [0, -1, 1.5, Number.NaN]) {
      expect(() => log.persist(b(1, 1), [entry(1, b(1, 1)), entry(slot, b(1, 1))])).toThrow(PaxosLogError);
    }
    expect(log.load()).toEqual({ promised: ZERO_BALLOT, accepted: [] });
  });

  it('compacts durably and ignores later entries below the log start', () => {
    log.persist(b(1, 1), [1, 2, 3, 4, 5].map((s) => entry(s, b(1, 1))));
    log.compact(3);
    expect(log.firstSlot()).toBe(4);
    log.compact(2); // never moves backwards
    log.persist(null, [entry(2, b(1, 1)), entry(6, b(1, 1))]);
    log = h.restart(log);
    expect(log.firstSlot()).toBe(4);
    expect(log.load().accepted.map((e) => e.slot)).toEqual([4, 5, 6]);
  });

  it('reads a range of entries in slot order, stopping at the first slot it does not hold', () => {
    log.persist(b(1, 1), [1, 2, 3, 4, 6].map((s) => entry(s, b(1, 1))));
    log.compact(1);
    expect(log.read(2, 4)).toEqual([2, 3, 4].map((s) => entry(s, b(1, 1))));
    expect(log.read(3, 10).map((e) => e.slot)).toEqual([3, 4]); // 5 is missing: nothing after it
    expect(log.read(1, 3)).toEqual([]); // compacted: the range does not start where asked
    expect(log.read(7, 9)).toEqual([]);
  });

  it('stops a read before the entry that would exceed the byte budget, but always returns the first', () => {
    const big = (slot: number) => entry(slot, b(1, 1), { kind: 'batch', time: 1, commands: [new Uint8Array(1000).fill(slot)] });
    log.persist(b(1, 1), [1, 2, 3, 4].map(big));
    expect(log.read(1, 4, 2500).map((e) => e.slot)).toEqual([1, 2]);
    expect(log.read(2, 4, 10).map((e) => e.slot)).toEqual([2]); // one entry even when it alone is over
    expect(log.read(1, 4, 1 << 20).map((e) => e.slot)).toEqual([1, 2, 3, 4]);
    expect(log.read(3, 3, 1)[0]?.value).toEqual(big(3).value);
  });

  it('compacts in steps, letting persists in between, until the whole range is gone', async () => {
    log.persist(b(1, 1), Array.from({ length: 2500 }, (_, i) => entry(i + 1, b(1, 1))));
    const startsSeen: number[] = [];
    await compactInSteps(log, 2100, 1000, async () => {
      startsSeen.push(log.firstSlot());
      if (startsSeen.length === 1) log.persist(null, [entry(2600, b(1, 1))]);
    }, () => false);
    expect(startsSeen).toEqual([1001, 2001]);
    log = h.restart(log);
    expect(log.firstSlot()).toBe(2101);
    const slots = log.load().accepted.map((e) => e.slot);
    expect(slots[0]).toBe(2101);
    expect(slots.at(-1)).toBe(2600);
    expect(slots).toHaveLength(401);
  });

  it('stops compacting in steps when told the log is closing', async () => {
    log.persist(b(1, 1), Array.from({ length: 30 }, (_, i) => entry(i + 1, b(1, 1))));
    let closing = false;
    await compactInSteps(log, 30, 10, async () => {
      closing = true;
    }, () => closing);
    expect(log.firstSlot()).toBe(11);
  });

  it('does not alias the caller buffers in either direction', () => {
    const cmd = Uint8Array.from([1, 2, 3]);
    log.persist(b(1, 1), [entry(1, b(1, 1), { kind: 'batch', time: 1, commands: [cmd] })]);
    cmd[0] = 99;
    const first = log.load().accepted[0]?.value;
    if (first?.kind !== 'batch') throw new Error('expected a batch');
    expect(Array.from(first.commands[0] ?? [])).toEqual([1, 2, 3]);
    (first.commands[0] as Uint8Array)[1] = 99;
    const again = log.load().accepted[0]?.value;
    expect(again).toEqual(batch(1, [1, 2, 3]));
  });

  it('refuses use after close', () => {
    log.close();
    expect(() => log.load()).toThrow(PaxosLogError);
    expect(() => log.persist(b(1, 1), [])).toThrow(PaxosLogError);
  });
});

describe('MemoryPaxosLog faults', () => {
  it('an injected write failure writes nothing and the next write succeeds', () => {
    const disk = new MemoryDisk();
    const log = new MemoryPaxosLog(disk);
    disk.failNextWrites(1);
    expect(() => log.persist(b(1, 1), [entry(1, b(1, 1))])).toThrow(PaxosLogError);
    expect(log.load()).toEqual({ promised: ZERO_BALLOT, accepted: [] });
    log.persist(b(1, 1), [entry(1, b(1, 1))]);
    expect(disk.syncs).toBe(1);
    log.crash();
    expect(() => log.load()).toThrow(PaxosLogError);
    expect(new MemoryPaxosLog(disk).load().accepted).toEqual([entry(1, b(1, 1))]);
  });
});

describe('SqlitePaxosLog on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'paxos-log-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a second opener of the same file while the first is open', () => {
    const file = path.join(dir, 'paxos.db');
    const log = SqlitePaxosLog.open(file);
    try {
      expect(() => SqlitePaxosLog.open(file)).toThrow(PaxosLogError);
    } finally {
      log.close();
    }
    SqlitePaxosLog.open(file).close(); // free again once the first closed
  });

  it('reports a corrupt value as a PaxosLogError at load, never as data', () => {
    const file = path.join(dir, 'paxos.db');
    const log = SqlitePaxosLog.open(file);
    log.persist(b(1, 1), [entry(1, b(1, 1))]);
    log.close();
    const raw = new Database(file);
    raw.prepare('UPDATE accepted SET value = ? WHERE slot = 1').run(Buffer.from([1, 1, 0, 0]));
    raw.close();
    const reopened = SqlitePaxosLog.open(file);
    try {
      expect(() => reopened.load()).toThrow(/slot 1 value is corrupt/);
    } finally {
      reopened.close();
    }
  });
});
