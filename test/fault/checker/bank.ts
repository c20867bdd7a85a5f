// Bank checker: clients transfer money between N accounts inside transactions
// and read all balances at once. Transfers move money, never create or destroy
// it, so every successful read must see the initial total (a snapshot that
// mixes states before and after some transfer would not), and, unless the
// workload allows overdrafts, no negative balance.
//
// A read's value may be an object {account: balance}, an array of balances
// (account = position), or an array of {account | id, balance} objects.
// Balances may be numbers or integer strings (node-postgres returns bigint as text).

import { isPairedHistory, pairHistory, type HistoryEvent, type JsonValue, type Key, type Operation, type PairedHistory } from './history.js';
import type { Verdict } from './verdict.js';

export interface BankOptions {
  /** The sum of all balances before the test; every read must add up to this. */
  readonly initialTotal: number;
  /** When given, every read must show exactly these accounts. */
  readonly accounts?: readonly Key[];
  /** Overdrafts allowed by the workload. Default false. */
  readonly allowNegative?: boolean;
  readonly readFunction?: string;
  readonly transferFunction?: string;
  /** At most this many bad reads are listed (all are counted). Default 100. */
  readonly maxReported?: number;
}

export interface BadRead {
  readonly process: number;
  /** Index of the read's completion event. */
  readonly index: number;
  readonly balances: JsonValue;
  /** Null when the balances could not be summed. */
  readonly total: number | null;
  readonly problems: readonly string[];
}

export interface BankCheckResult {
  readonly valid: Verdict;
  readonly readsChecked: number;
  readonly badReadCount: number;
  readonly badReads: readonly BadRead[];
  readonly transfers: { readonly ok: number; readonly fail: number; readonly info: number };
  readonly explanation: string;
}

export function checkBankHistory(history: readonly HistoryEvent[] | PairedHistory, options: BankOptions): BankCheckResult {
  const paired = isPairedHistory(history) ? history : pairHistory(history);
  const readF = options.readFunction ?? 'read';
  const transferF = options.transferFunction ?? 'transfer';
  const maxReported = options.maxReported ?? 100;
  const transfers = { ok: 0, fail: 0, info: 0 };
  const badReads: BadRead[] = [];
  let badReadCount = 0;
  let readsChecked = 0;
  for (const op of paired.operations) {
    if (op.f === transferF) transfers[op.outcome]++;
    if (op.f !== readF || op.outcome !== 'ok') continue;
    readsChecked++;
    const bad = checkRead(op, options);
    if (bad === undefined) continue;
    badReadCount++;
    if (badReads.length < maxReported) badReads.push(bad);
  }
  const valid: Verdict = badReadCount > 0 ? false : readsChecked === 0 ? 'unknown' : true;
  return { valid, readsChecked, badReadCount, badReads, transfers, explanation: bankExplanation(valid, readsChecked, badReadCount, badReads, options) };
}

function checkRead(op: Operation, options: BankOptions): BadRead | undefined {
  const problems: string[] = [];
  const balances = parseBalances(op.result, problems);
  let total: number | null = null;
  if (balances !== undefined) {
    total = 0;
    for (const [account, balance] of balances) {
      total += balance;
      if (balance < 0 && options.allowNegative !== true) problems.push(`account ${account} is negative (${balance})`);
    }
    if (total !== options.initialTotal) problems.push(`total is ${total}, expected ${options.initialTotal}`);
    if (options.accounts !== undefined) checkAccounts(balances, options.accounts, problems);
  }
  if (problems.length === 0) return undefined;
  return { process: op.process, index: op.completion?.index ?? op.invoke.index, balances: op.result, total, problems };
}

function checkAccounts(balances: ReadonlyMap<string, number>, accounts: readonly Key[], problems: string[]): void {
  const expected = new Set(accounts.map(String));
  const missing = [...expected].filter((a) => !balances.has(a));
  const extra = [...balances.keys()].filter((a) => !expected.has(a));
  if (missing.length > 0) problems.push(`missing accounts: ${missing.join(', ')}`);
  if (extra.length > 0) problems.push(`unknown accounts: ${extra.join(', ')}`);
}

/** Account name → balance, or undefined (with the shape problems noted) when the read cannot be summed. */
function parseBalances(value: JsonValue, problems: string[]): Map<string, number> | undefined {
  const balances = new Map<string, number>();
  const shapeProblems: string[] = [];
  const add = (account: string, raw: JsonValue | undefined): void => {
    const n = parseAmount(raw);
    if (n === undefined) shapeProblems.push(`account ${account} has a malformed balance ${JSON.stringify(raw)}`);
    else if (balances.has(account)) shapeProblems.push(`account ${account} appears twice`);
    else balances.set(account, n);
  };
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
        const account = item['account'] ?? item['id'];
        if (typeof account === 'string' || typeof account === 'number') add(String(account), item['balance']);
        else shapeProblems.push(`row ${i} has no account or id`);
      } else {
        add(String(i), item);
      }
    });
  } else if (typeof value === 'object' && value !== null) {
    for (const [account, raw] of Object.entries(value)) add(account, raw);
  } else {
    shapeProblems.push(`balances must be an object or an array, got ${JSON.stringify(value)}`);
  }
  problems.push(...shapeProblems);
  return shapeProblems.length > 0 ? undefined : balances;
}

function parseAmount(raw: JsonValue | undefined): number | undefined {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'string' && /^-?\d+(\.\d+)?$/.test(raw.trim())) return Number(raw);
  return undefined;
}

function bankExplanation(
  valid: Verdict,
  reads: number,
  badCount: number,
  badReads: readonly BadRead[],
  options: BankOptions,
): string {
  if (valid === 'unknown') return 'bank: unknown: no successful read to check';
  if (valid === true) return `bank: valid: all ${reads} reads total ${options.initialTotal}`;
  const lines = [`bank: INVALID: ${badCount} of ${reads} reads are wrong`];
  for (const bad of badReads.slice(0, 10)) {
    lines.push(`  process ${bad.process}, event ${bad.index}: ${bad.problems.join('; ')} — ${JSON.stringify(bad.balances)}`);
  }
  if (badCount > 10) lines.push(`  … ${badCount - 10} more`);
  return lines.join('\n');
}
