// Interval literals in date/time arithmetic: `now() - interval '1 hour'`,
// `created_at + $1::interval`. paxosql has no interval type to store or return;
// an interval is only ever added to or subtracted from a date or timestamp,
// here, deterministically (the same text gives the same shift everywhere).

import { SqlError } from './types.js';

/** Postgres keeps an interval as months, days and microseconds: a month is not a fixed number of days. */
export interface Interval {
  readonly months: number;
  readonly days: number;
  readonly ms: number;
}

const MS = { second: 1000, minute: 60_000, hour: 3_600_000 } as const;

interface Shift {
  readonly months?: number;
  readonly days?: number;
  readonly ms?: number;
}

/** Unit words (singular, plural and abbreviations, as Postgres reads them) → what one of them adds. */
const UNITS: ReadonlyMap<string, Shift> = new Map(([
  [['microsecond', 'microseconds', 'us', 'usec', 'usecs'], { ms: 0.001 }],
  [['millisecond', 'milliseconds', 'ms', 'msec', 'msecs'], { ms: 1 }],
  [['second', 'seconds', 's', 'sec', 'secs'], { ms: MS.second }],
  [['minute', 'minutes', 'm', 'min', 'mins'], { ms: MS.minute }],
  [['hour', 'hours', 'h', 'hr', 'hrs'], { ms: MS.hour }],
  [['day', 'days', 'd'], { days: 1 }],
  [['week', 'weeks', 'w'], { days: 7 }],
  [['month', 'months', 'mon', 'mons'], { months: 1 }],
  [['year', 'years', 'y', 'yr', 'yrs'], { months: 12 }],
  [['decade', 'decades'], { months: 120 }],
  [['century', 'centuries'], { months: 1200 }],
  [['millennium', 'millennia', 'millenniums'], { months: 12_000 }],
] as const).flatMap(([names, shift]) => names.map((name): [string, Shift] => [name, shift])));

const MAX_INTERVAL_TEXT = 200;

/**
 * Parses Postgres' interval input: `<number> <unit>` pairs ('1 day 2 hours',
 * '-90 minutes', '1.5 hours'), an optional [-]hh:mm[:ss[.fff]] time, a leading
 * '@' and a trailing 'ago'. Fractions spill down as Postgres spills them
 * (0.5 month = 15 days, 0.5 day = 12 hours). ISO 8601 forms are refused (22007).
 */
export function parseInterval(text: string): Interval {
  const invalid = (): SqlError => new SqlError('22007', `invalid input syntax for type interval: "${text}"`);
  if (text.length > MAX_INTERVAL_TEXT) throw invalid();
  let words = text.trim().toLowerCase().replace(/^@\s*/, '').split(/\s+/).filter((w) => w !== '');
  let sign = 1;
  if (words[words.length - 1] === 'ago') {
    sign = -1;
    words = words.slice(0, -1);
  }
  if (words.length === 0) throw invalid();
  let months = 0;
  let days = 0;
  let ms = 0;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const time = /^([+-])?(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$/.exec(word);
    if (time !== null) {
      const [, timeSign, h = '0', m = '0', s = '0'] = time;
      ms += (timeSign === '-' ? -1 : 1) * (Number(h) * MS.hour + Number(m) * MS.minute + Number(s) * MS.second);
      continue;
    }
    // "1 day", "1day", "-2 hours": a number, then its unit (the next word, or glued on).
    const glued = /^([+-]?\d+(?:\.\d+)?)([a-z]+)?$/.exec(word);
    if (glued === null) throw invalid();
    const amount = Number(glued[1]);
    const unitWord = glued[2] ?? words[++i];
    const spec = unitWord === undefined ? undefined : UNITS.get(unitWord);
    if (spec === undefined) throw invalid();
    const addMonths = amount * (spec.months ?? 0);
    const wholeMonths = Math.trunc(addMonths);
    months += wholeMonths;
    const addDays = amount * (spec.days ?? 0) + (addMonths - wholeMonths) * 30;
    const wholeDays = Math.trunc(addDays);
    days += wholeDays;
    ms += amount * (spec.ms ?? 0) + (addDays - wholeDays) * 24 * MS.hour;
  }
  return { months: sign * months, days: sign * days, ms: Math.round(sign * ms * 1000) / 1000 };
}

/**
 * `ms` (a UTC instant, or a timestamp without zone read as UTC) shifted by the
 * interval times `sign`: months first on the calendar, clamped to the month's
 * last day ('2024-01-31' + 1 month = '2024-02-29', as Postgres), then days, then time.
 */
export function addInterval(ms: number, interval: Interval, sign: 1 | -1): number {
  const date = new Date(ms);
  if (interval.months !== 0) {
    const day = date.getUTCDate();
    date.setUTCDate(1);
    date.setUTCMonth(date.getUTCMonth() + sign * interval.months);
    const lastDay = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)).getUTCDate();
    date.setUTCDate(Math.min(day, lastDay));
  }
  return date.getTime() + sign * (interval.days * 86_400_000 + interval.ms);
}
