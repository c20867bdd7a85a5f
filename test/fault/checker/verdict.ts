// A checker's answer. `unknown` is an honest answer: the checker ran out of
// budget or had nothing to look at, and does not guess.

export type Verdict = true | false | 'unknown';

/** False beats unknown beats true: one definite violation makes the whole run invalid. */
export function combineVerdicts(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.includes(false)) return false;
  if (verdicts.includes('unknown')) return 'unknown';
  return true;
}

export function verdictWord(v: Verdict): string {
  return v === true ? 'valid' : v === false ? 'INVALID' : 'unknown';
}
