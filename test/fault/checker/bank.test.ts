import { describe, expect, it } from 'vitest';
import { checkBankHistory } from './bank.js';
import { HistoryRecorder, counterClock, type HistoryEvent, type JsonValue } from './history.js';

function bankHistory(reads: JsonValue[]): HistoryEvent[] {
  const h = new HistoryRecorder(counterClock());
  h.invoke(0, 'transfer', undefined, { from: 'a', to: 'b', amount: 5 });
  h.ok(0);
  h.invoke(1, 'transfer', undefined, { from: 'b', to: 'c', amount: 5 });
  h.info(1);
  reads.forEach((balances) => {
    h.invoke(2, 'read', undefined);
    h.ok(2, balances);
  });
  return [...h.events()];
}

describe('bank checker', () => {
  it('accepts reads that all add up to the initial total, in every supported shape', () => {
    const r = checkBankHistory(
      bankHistory([{ a: 10, b: 10, c: 10 }, [5, 15, 10], [{ id: 'a', balance: '5' }, { account: 'b', balance: 10 }, { id: 'c', balance: 15 }]]),
      { initialTotal: 30 },
    );
    expect(r.valid).toBe(true);
    expect(r.readsChecked).toBe(3);
    expect(r.transfers).toEqual({ ok: 1, fail: 0, info: 1 });
  });

  it('reports reads whose total is wrong', () => {
    const r = checkBankHistory(bankHistory([{ a: 10, b: 10, c: 10 }, { a: 5, b: 10, c: 10 }]), { initialTotal: 30 });
    expect(r.valid).toBe(false);
    expect(r.badReadCount).toBe(1);
    expect(r.badReads[0]!.total).toBe(25);
    expect(r.badReads[0]!.problems.join()).toContain('total is 25, expected 30');
    expect(r.explanation).toContain('INVALID');
  });

  it('rejects negative balances unless allowed', () => {
    const events = bankHistory([{ a: -5, b: 25, c: 10 }]);
    expect(checkBankHistory(events, { initialTotal: 30 }).valid).toBe(false);
    expect(checkBankHistory(events, { initialTotal: 30, allowNegative: true }).valid).toBe(true);
  });

  it('checks the set of accounts when given, and rejects malformed balances', () => {
    expect(checkBankHistory(bankHistory([{ a: 15, b: 15 }]), { initialTotal: 30, accounts: ['a', 'b', 'c'] }).valid).toBe(false);
    const malformed = checkBankHistory(bankHistory([{ a: 'ten', b: 20 }]), { initialTotal: 30 });
    expect(malformed.valid).toBe(false);
    expect(malformed.badReads[0]!.total).toBeNull();
  });

  it('is unknown without any successful read', () => {
    expect(checkBankHistory(bankHistory([]), { initialTotal: 30 }).valid).toBe('unknown');
  });
});
