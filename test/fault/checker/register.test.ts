import { describe, expect, it } from 'vitest';
import { HistoryRecorder, HistoryStructureError, counterClock, type HistoryEvent } from './history.js';
import { checkRegisterHistory, type RegisterCheckResult } from './register.js';

/** A hand-made history; times are 0, 1, 2... so event order is real-time order. */
function history(build: (h: HistoryRecorder) => void): HistoryEvent[] {
  const h = new HistoryRecorder(counterClock());
  build(h);
  return [...h.events()];
}

function check(events: HistoryEvent[]): RegisterCheckResult {
  return checkRegisterHistory(events, { timeLimitMs: 5_000 });
}

describe('register linearizability: histories that must pass', () => {
  it('accepts a sequential write then read', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.ok(0);
        h.invoke(0, 'read', 'x');
        h.ok(0, 1);
      }),
    );
    expect(r.valid).toBe(true);
    expect(r.keysChecked).toBe(1);
    expect(r.operationsChecked).toBe(2);
  });

  it('accepts a read of the initial value (null) before any write', () => {
    const r = check(history((h) => (h.invoke(0, 'read', 'x'), h.ok(0, null))));
    expect(r.valid).toBe(true);
  });

  it('accepts either value for a read concurrent with a write', () => {
    for (const seen of [null, 1]) {
      const r = check(
        history((h) => {
          h.invoke(0, 'write', 'x', 1);
          h.invoke(1, 'read', 'x');
          h.ok(1, seen);
          h.ok(0);
        }),
      );
      expect(r.valid, `read saw ${seen}`).toBe(true);
    }
  });

  it('accepts concurrent writes seen in the order the reads need', () => {
    // Writes 1 and 2 overlap; the later reads fix their order as 1 then 2.
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.invoke(1, 'write', 'x', 2);
        h.invoke(2, 'read', 'x');
        h.ok(2, 1);
        h.ok(0);
        h.ok(1);
        h.invoke(2, 'read', 'x');
        h.ok(2, 2);
      }),
    );
    expect(r.valid).toBe(true);
  });

  it('accepts an indeterminate write that took effect, even long after it timed out', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.info(0, undefined, '40003');
        h.invoke(1, 'read', 'x');
        h.ok(1, null);
        h.invoke(1, 'read', 'x');
        h.ok(1, 1);
      }),
    );
    expect(r.valid).toBe(true);
  });

  it('accepts an indeterminate write that never took effect', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.info(0);
        h.invoke(1, 'read', 'x');
        h.ok(1, null);
      }),
    );
    expect(r.valid).toBe(true);
  });

  it('treats an operation still pending when the history ends as indeterminate', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.invoke(1, 'read', 'x');
        h.ok(1, 1);
      }),
    );
    expect(r.valid).toBe(true);
  });

  it('accepts successful and unsuccessful compare-and-set', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.ok(0);
        h.invoke(0, 'cas', 'x', [1, 2]);
        h.ok(0);
        h.invoke(1, 'cas', 'x', [1, 3]);
        h.fail(1); // rows affected 0: the value was not 1
        h.invoke(1, 'read', 'x');
        h.ok(1, 2);
      }),
    );
    expect(r.valid).toBe(true);
  });

  it('drops a cas that failed with an error (it did not happen)', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.ok(0);
        // Without the error this would claim the value was not 1 — which is false.
        h.invoke(0, 'cas', 'x', [1, 2]);
        h.fail(0, undefined, '40001');
        h.invoke(0, 'read', 'x');
        h.ok(0, 1);
      }),
    );
    expect(r.valid).toBe(true);
  });

  it('accepts an indeterminate cas either way', () => {
    for (const seen of [1, 2]) {
      const r = check(
        history((h) => {
          h.invoke(0, 'write', 'x', 1);
          h.ok(0);
          h.invoke(0, 'cas', 'x', [1, 2]);
          h.info(0);
          h.invoke(1, 'read', 'x');
          h.ok(1, seen);
        }),
      );
      expect(r.valid, `read saw ${seen}`).toBe(true);
    }
  });

  it('counts operations of other functions as ignored', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'add', 'x', 1);
        h.ok(0);
        h.invoke(0, 'read', 'x');
        h.ok(0, null);
      }),
    );
    expect(r.valid).toBe(true);
    expect(r.ignoredOperations).toBe(1);
  });
});

describe('register linearizability: histories that must fail', () => {
  it('rejects a stale read and explains it', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.ok(0);
        h.invoke(0, 'write', 'x', 2);
        h.ok(0);
        h.invoke(1, 'read', 'x');
        h.ok(1, 1);
      }),
    );
    expect(r.valid).toBe(false);
    expect(r.failures).toHaveLength(1);
    const failure = r.failures[0]!;
    expect(failure.key).toBe('x');
    expect(failure.failingOperation?.f).toBe('read');
    expect(failure.failingOperation?.result).toBe(1);
    expect(failure.possibleValues).toEqual([2]);
    expect(failure.explanation).toContain('read returned 1');
    expect(failure.explanation).toContain('held 2');
    expect(r.explanation).toContain('NOT linearizable');
  });

  it('rejects a read of a value never written', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.ok(0);
        h.invoke(1, 'read', 'x');
        h.ok(1, 7);
      }),
    );
    expect(r.valid).toBe(false);
    expect(r.failures[0]!.explanation).toContain('No operation ever wrote 7');
  });

  it('rejects a lost write (acknowledged, then read as the old value)', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.ok(0);
        h.invoke(1, 'read', 'x');
        h.ok(1, null);
      }),
    );
    expect(r.valid).toBe(false);
  });

  it('rejects an indeterminate write that is seen and then unseen', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.info(0);
        h.invoke(1, 'read', 'x');
        h.ok(1, 1);
        h.invoke(1, 'read', 'x');
        h.ok(1, null);
      }),
    );
    expect(r.valid).toBe(false);
  });

  it('rejects a write that failed but is read', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.fail(0, undefined, '23505');
        h.invoke(1, 'read', 'x');
        h.ok(1, 1);
      }),
    );
    expect(r.valid).toBe(false);
  });

  it('rejects a cas that succeeded although the value was not the expected one', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 0);
        h.ok(0);
        h.invoke(0, 'cas', 'x', [1, 2]);
        h.ok(0);
      }),
    );
    expect(r.valid).toBe(false);
    expect(r.failures[0]!.failingOperation?.f).toBe('cas');
    expect(r.failures[0]!.explanation).toContain('The cas succeeded');
  });

  it('rejects a cas that reported a mismatch although the value was the expected one', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.ok(0);
        h.invoke(0, 'cas', 'x', [1, 2]);
        h.fail(0); // no error: rows affected 0
      }),
    );
    expect(r.valid).toBe(false);
    expect(r.failures[0]!.possibleValues).toEqual([1]);
  });

  it('reads a cas completed ok with value false as a mismatch', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.ok(0);
        h.invoke(0, 'cas', 'x', [1, 2]);
        h.ok(0, false);
      }),
    );
    expect(r.valid).toBe(false);
  });

  it('rejects two sequential reads that see concurrent writes in opposite orders', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.invoke(1, 'write', 'x', 2);
        h.ok(0);
        h.ok(1);
        h.invoke(2, 'read', 'x');
        h.ok(2, 1);
        h.invoke(2, 'read', 'x');
        h.ok(2, 2);
      }),
    );
    expect(r.valid).toBe(false);
  });

  it('refuses a malformed cas value', () => {
    const events = history((h) => (h.invoke(0, 'cas', 'x', 5), h.ok(0)));
    expect(() => check(events)).toThrow(HistoryStructureError);
  });
});

describe('register linearizability: keys, witnesses and budget', () => {
  it('checks each key independently', () => {
    const events = history((h) => {
      h.invoke(0, 'write', 'a', 1);
      h.invoke(1, 'write', 'b', 2);
      h.ok(0);
      h.ok(1);
      h.invoke(0, 'read', 'a');
      h.ok(0, 1);
      h.invoke(1, 'read', 'b');
      h.ok(1, 2);
      // Key c was never written: reading 1 (written to a) is a violation on c alone.
      h.invoke(2, 'read', 'c');
      h.ok(2, 1);
    });
    const r = check(events);
    expect(r.valid).toBe(false);
    expect(r.keyCount).toBe(3);
    expect(r.keysChecked).toBe(3);
    expect(r.failures.map((f) => f.key)).toEqual(['c']);
    // Without key c the rest is fine: a's write does not leak into b.
    expect(check(events.filter((e) => e.key !== 'c')).valid).toBe(true);
  });

  it('treats numeric and string spellings of a key as one key', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 1, 'v');
        h.ok(0);
        h.invoke(0, 'read', '1');
        h.ok(0, 'v');
      }),
    );
    expect(r.valid).toBe(true);
    expect(r.keyCount).toBe(1);
  });

  it('shrinks a failure to the prefix up to the bad read, without irrelevant reads', () => {
    const events = history((h) => {
      for (let v = 1; v <= 50; v++) {
        h.invoke(0, 'write', 'x', v);
        h.ok(0);
        h.invoke(1, 'read', 'x');
        h.ok(1, v);
      }
      h.invoke(1, 'read', 'x');
      h.ok(1, 49); // stale
      for (let v = 51; v <= 80; v++) {
        h.invoke(0, 'write', 'x', v);
        h.ok(0);
        h.invoke(1, 'read', 'x');
        h.ok(1, v);
      }
    });
    const r = check(events);
    expect(r.valid).toBe(false);
    const failure = r.failures[0]!;
    expect(failure.keyOperationCount).toBe(161);
    expect(failure.minimized).toBe(true);
    expect(failure.failingOperation?.result).toBe(49);
    // Every write up to the bad read, and the bad read: no reads, nothing after it.
    expect(failure.subHistory).toHaveLength(51);
    expect(failure.subHistory.filter((s) => s.operation.f === 'read')).toHaveLength(1);
    // The witness stands on its own: it fails when checked by itself.
    expect(check([...failure.events]).valid).toBe(false);
  });

  it('marks operations completing after the failing one as pending in the witness', () => {
    const r = check(
      history((h) => {
        h.invoke(0, 'write', 'x', 1);
        h.ok(0);
        h.invoke(2, 'write', 'x', 3); // completes after the bad read
        h.invoke(1, 'read', 'x');
        h.ok(1, 9);
        h.ok(2);
      }),
    );
    expect(r.valid).toBe(false);
    const pending = r.failures[0]!.subHistory.filter((s) => s.pendingAtCut);
    expect(pending.map((s) => s.operation.invoke.value)).toEqual([3]);
    expect(r.failures[0]!.explanation).toContain('still pending');
  });

  it('returns unknown, not a guess, when the time budget runs out', () => {
    // 40 concurrent writes, then two sequential reads of different values:
    // impossible, but proving it means visiting every subset of the writes.
    const events = history((h) => {
      for (let p = 0; p < 40; p++) h.invoke(p, 'write', 'x', p);
      for (let p = 0; p < 40; p++) h.ok(p);
      h.invoke(100, 'read', 'x');
      h.ok(100, 0);
      h.invoke(100, 'read', 'x');
      h.ok(100, 1);
      // A small, valid key must still be decided.
      h.invoke(101, 'write', 'y', 1);
      h.ok(101);
    });
    const started = performance.now();
    const r = checkRegisterHistory(events, { timeLimitMs: 300 });
    const elapsed = performance.now() - started;
    expect(r.valid).toBe('unknown');
    expect(r.unknownKeys.map((u) => u.key)).toEqual(['x']);
    expect(r.keysChecked).toBe(1);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('returns unknown when the memory bound is hit', () => {
    const events = history((h) => {
      for (let p = 0; p < 30; p++) h.invoke(p, 'write', 'x', p);
      for (let p = 0; p < 30; p++) h.ok(p);
      h.invoke(100, 'read', 'x');
      h.ok(100, 0);
      h.invoke(100, 'read', 'x');
      h.ok(100, 1);
    });
    const r = checkRegisterHistory(events, { maxConfigurations: 1_000 });
    expect(r.valid).toBe('unknown');
    expect(r.unknownKeys[0]!.reason).toContain('memory');
  });

  it('still reports a definite failure on one key when another key is unknown', () => {
    const events = history((h) => {
      for (let p = 0; p < 40; p++) h.invoke(p, 'write', 'x', p);
      for (let p = 0; p < 40; p++) h.ok(p);
      h.invoke(100, 'read', 'x');
      h.ok(100, 0);
      h.invoke(100, 'read', 'x');
      h.ok(100, 1);
      h.invoke(101, 'read', 'y');
      h.ok(101, 5);
    });
    const r = checkRegisterHistory(events, { timeLimitMs: 200 });
    expect(r.valid).toBe(false);
    expect(r.failures.map((f) => f.key)).toEqual(['y']);
    expect(r.unknownKeys.map((u) => u.key)).toEqual(['x']);
  });
});
