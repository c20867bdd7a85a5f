// The result summary of a fault-test run: how many operations of each kind
// ended how, and every checker's verdict, combined into one.

import { checkBankHistory, type BankCheckResult, type BankOptions } from './bank.js';
import { isPairedHistory, pairHistory, type HistoryEvent, type PairedHistory } from './history.js';
import { checkRegisterHistory, type RegisterCheckOptions, type RegisterCheckResult } from './register.js';
import { checkSetHistory, type SetCheckResult, type SetOptions } from './set.js';
import { combineVerdicts, verdictWord, type Verdict } from './verdict.js';

export interface OutcomeCounts {
  ok: number;
  fail: number;
  info: number;
  /** Invoked and never completed (counted as indeterminate by the checkers, not in `info`). */
  pending: number;
}

export interface HistorySummary {
  readonly operations: number;
  readonly total: OutcomeCounts;
  readonly byFunction: Readonly<Record<string, OutcomeCounts>>;
  readonly processes: number;
  readonly nemesisEvents: number;
}

export function summarizeHistory(history: readonly HistoryEvent[] | PairedHistory): HistorySummary {
  const paired = isPairedHistory(history) ? history : pairHistory(history);
  const total: OutcomeCounts = { ok: 0, fail: 0, info: 0, pending: 0 };
  const byFunction: Record<string, OutcomeCounts> = {};
  const processes = new Set<number>();
  for (const op of paired.operations) {
    processes.add(op.process);
    const counts = (byFunction[op.f] ??= { ok: 0, fail: 0, info: 0, pending: 0 });
    const slot = op.completion === undefined ? 'pending' : op.outcome;
    counts[slot]++;
    total[slot]++;
  }
  return {
    operations: paired.operations.length,
    total,
    byFunction,
    processes: processes.size,
    nemesisEvents: paired.nemesis.length,
  };
}

export interface CheckerSelection {
  readonly register?: RegisterCheckOptions;
  readonly bank?: BankOptions;
  readonly set?: SetOptions;
}

export interface RunReport {
  readonly valid: Verdict;
  readonly verdicts: Readonly<Partial<Record<keyof CheckerSelection, Verdict>>>;
  readonly summary: HistorySummary;
  readonly register?: RegisterCheckResult;
  readonly bank?: BankCheckResult;
  readonly set?: SetCheckResult;
  readonly text: string;
}

/** Runs the selected checkers on one history and combines their verdicts. */
export function runCheckers(history: readonly HistoryEvent[] | PairedHistory, selection: CheckerSelection): RunReport {
  const paired = isPairedHistory(history) ? history : pairHistory(history);
  const summary = summarizeHistory(paired);
  const register = selection.register === undefined ? undefined : checkRegisterHistory(paired, selection.register);
  const bank = selection.bank === undefined ? undefined : checkBankHistory(paired, selection.bank);
  const set = selection.set === undefined ? undefined : checkSetHistory(paired, selection.set);
  const verdicts: Partial<Record<keyof CheckerSelection, Verdict>> = {};
  if (register !== undefined) verdicts.register = register.valid;
  if (bank !== undefined) verdicts.bank = bank.valid;
  if (set !== undefined) verdicts.set = set.valid;
  const verdictList = Object.values(verdicts);
  // No checker selected means nothing was verified: say so rather than "valid".
  const valid = verdictList.length === 0 ? 'unknown' : combineVerdicts(verdictList);
  const text = [
    `overall: ${verdictWord(valid)}`,
    formatSummary(summary),
    ...[register?.explanation, bank?.explanation, set?.explanation].filter((t): t is string => t !== undefined),
  ].join('\n\n');
  const report: RunReport = { valid, verdicts, summary, text };
  return { ...report, ...(register && { register }), ...(bank && { bank }), ...(set && { set }) };
}

export function formatSummary(summary: HistorySummary): string {
  const row = (name: string, c: OutcomeCounts): string =>
    `  ${name.padEnd(12)} ok ${c.ok}  fail ${c.fail}  info ${c.info}${c.pending > 0 ? `  pending ${c.pending}` : ''}`;
  const lines = [`${summary.operations} operations by ${summary.processes} processes, ${summary.nemesisEvents} nemesis events`];
  for (const f of Object.keys(summary.byFunction).sort()) lines.push(row(f, summary.byFunction[f]!));
  lines.push(row('total', summary.total));
  return lines.join('\n');
}
