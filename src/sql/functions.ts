// User functions registered on every SQLite connection: deterministic replacements for
// clock and randomness (reading the per-entry context), Postgres casts and operators with
// Postgres error behaviour, and Postgres functions SQLite lacks.

import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { parseArrayLiteral } from './catalog-functions.js';
import { addInterval, parseInterval } from './interval.js';
import { coerceToPgType, formatDate, formatTimestamp, lookupPgType, parseDateTime, roundDecimal, type StoredValue } from './pgtypes.js';
import type { SeededRandom } from './prng.js';
import { SqlError } from './types.js';

/** Per-session facts for version(), current_user and friends. */
export interface SessionInfo {
  readonly user: string;
  readonly database: string;
  readonly backendPid: number;
  /** Session settings (lower-case names), e.g. application_name, as the wire layer holds them. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** The deterministic inputs of one log entry (or one read). */
export interface ExecContext {
  /** Milliseconds since the epoch, assigned by the leader; now() is constant within an entry. */
  readonly time: number;
  /** Seeds random(); e.g. the log slot. */
  readonly seed: bigint | number;
  readonly session?: SessionInfo;
}

/** What the functions read while a statement runs. */
export interface FunctionEnvironment {
  context(): ExecContext;
  random(): SeededRandom;
  readonly serverVersion: string;
}

export const DEFAULT_SETTINGS: Readonly<Record<string, string>> = {
  server_version: '16.0',
  server_encoding: 'UTF8',
  client_encoding: 'UTF8',
  datestyle: 'ISO, MDY',
  timezone: 'UTC',
  integer_datetimes: 'on',
  standard_conforming_strings: 'on',
  transaction_isolation: 'serializable',
  default_transaction_isolation: 'serializable',
  transaction_read_only: 'off',
  default_transaction_read_only: 'off',
  search_path: '"$user", public',
  application_name: '',
  is_superuser: 'on',
  max_identifier_length: '63',
};

const MAX_SERIES_ROWS = 10_000_000;
const MAX_REPEAT_LENGTH = 100_000_000;

type Arg = unknown;

function toNumber(value: Arg): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  throw new SqlError('22P02', `invalid input syntax for type numeric: "${String(value)}"`);
}

function toText(value: Arg): string {
  return value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : String(value);
}

function divisionByZero(): SqlError {
  return new SqlError('22012', 'division by zero');
}

/** Postgres `/`: integer division truncates, any division by zero raises 22012. */
export function pgDivide(a: Arg, b: Arg): StoredValue {
  if (a === null || b === null) return null;
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    if (b === 0n) throw divisionByZero();
    return a / b;
  }
  const divisor = toNumber(b);
  if (divisor === 0) throw divisionByZero();
  return toNumber(a) / divisor;
}

export function pgModulo(a: Arg, b: Arg): StoredValue {
  if (a === null || b === null) return null;
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    if (b === 0n) throw divisionByZero();
    return a % b;
  }
  const divisor = toNumber(b);
  if (divisor === 0) throw divisionByZero();
  return toNumber(a) % divisor;
}

function uuidFromBytes(bytes: Uint8Array): string {
  const b = Uint8Array.from(bytes);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40; // version 4
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Buffer.from(b).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** SQLite's own date text ('YYYY-MM-DD HH:MM:SS.SSS') for the context time. */
function sqliteNow(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

function compareValues(a: Arg, b: Arg): number {
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  const left = toText(a);
  const right = toText(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** GREATEST/LEAST ignore NULLs in Postgres (SQLite's max/min return NULL). */
function extreme(args: readonly Arg[], sign: 1 | -1): Arg {
  let best: Arg = null;
  for (const arg of args) {
    if (arg === null) continue;
    if (best === null || compareValues(arg, best) * sign > 0) best = arg;
  }
  return best;
}

/** The first `limit` characters (code points, as Postgres counts them). */
function truncateChars(text: string, limit: number): string {
  const chars = [...text];
  return chars.length <= limit ? text : chars.slice(0, limit).join('');
}

function castWithContext(env: FunctionEnvironment, value: Arg, typeName: Arg, mods: readonly Arg[]): StoredValue {
  const pgType = lookupPgType(String(typeName));
  if (pgType === null) throw new SqlError('42704', `type "${String(typeName)}" does not exist`);
  const typmods = mods.map((m) => Number(m));
  return coerceToPgType(value, pgType, typmods, env.context().time);
}

const DATE_PART_FIELDS = new Set(['year', 'month', 'day', 'hour', 'minute', 'second', 'epoch', 'dow', 'doy', 'quarter', 'week', 'millisecond', 'milliseconds', 'decade', 'century', 'isodow']);

function datePart(field: string, ms: number): number {
  const d = new Date(ms);
  switch (field) {
    case 'year': return d.getUTCFullYear();
    case 'month': return d.getUTCMonth() + 1;
    case 'day': return d.getUTCDate();
    case 'hour': return d.getUTCHours();
    case 'minute': return d.getUTCMinutes();
    case 'second': return d.getUTCSeconds() + d.getUTCMilliseconds() / 1000;
    case 'millisecond': case 'milliseconds': return d.getUTCSeconds() * 1000 + d.getUTCMilliseconds();
    case 'epoch': return ms / 1000;
    case 'dow': return d.getUTCDay();
    case 'isodow': return d.getUTCDay() === 0 ? 7 : d.getUTCDay();
    case 'doy': return Math.floor((ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86_400_000) + 1;
    case 'quarter': return Math.floor(d.getUTCMonth() / 3) + 1;
    case 'decade': return Math.floor(d.getUTCFullYear() / 10);
    case 'century': return Math.ceil(d.getUTCFullYear() / 100);
    case 'week': {
      const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      const dayNumber = (target.getUTCDay() + 6) % 7;
      target.setUTCDate(target.getUTCDate() - dayNumber + 3);
      const firstThursday = new Date(Date.UTC(target.getUTCFullYear(), 0, 4));
      return 1 + Math.round(((target.getTime() - firstThursday.getTime()) / 86_400_000 - 3 + ((firstThursday.getUTCDay() + 6) % 7)) / 7);
    }
    default: throw new SqlError('22023', `unit "${field}" not supported`);
  }
}

function dateTrunc(field: string, ms: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth();
  switch (field) {
    case 'year': return Date.UTC(y, 0, 1);
    case 'quarter': return Date.UTC(y, mo - (mo % 3), 1);
    case 'month': return Date.UTC(y, mo, 1);
    case 'week': return Date.UTC(y, mo, d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    case 'day': return Date.UTC(y, mo, d.getUTCDate());
    case 'hour': return Date.UTC(y, mo, d.getUTCDate(), d.getUTCHours());
    case 'minute': return Date.UTC(y, mo, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes());
    case 'second': return Math.floor(ms / 1000) * 1000;
    case 'milliseconds': case 'millisecond': return ms;
    default: throw new SqlError('22023', `unit "${field}" not recognized for type timestamp`);
  }
}

function hasZone(text: string): boolean {
  return /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(text.trim()) && /[ T]\d/.test(text);
}

function pad(text: string, length: number, fill: string, left: boolean): string {
  const chars = [...text];
  if (length <= chars.length) return chars.slice(0, Math.max(length, 0)).join('');
  if (fill === '') return text;
  const fillChars = [...fill];
  const padding: string[] = [];
  for (let i = 0; padding.length < length - chars.length; i++) padding.push(fillChars[i % fillChars.length] ?? ' ');
  return left ? padding.join('') + text : text + padding.join('');
}

type Fn = (...args: Arg[]) => unknown;

interface FunctionSpec {
  readonly fn: Fn;
  /** SQLite may reuse results within a statement (required for CHECK, indexes, generated columns). */
  readonly deterministic?: boolean;
  readonly varargs?: boolean;
}

/** Returns NULL for any NULL argument (STRICT in Postgres terms); keeps the arity SQLite checks. */
const DAY_MS = 86_400_000;

function nullSafe(fn: Fn): Fn {
  const wrapper: Fn = (...args) => (args.some((a) => a === null) ? null : fn(...args));
  Object.defineProperty(wrapper, 'length', { value: fn.length });
  return wrapper;
}

/** Registers every function on a connection. The environment supplies the current context. */
/**
 * An array parameter (`{1,2,NULL}`, as drivers send a JS array) as a JSON
 * array for json_each, each element converted to its element type's stored
 * form, so `x = ANY($1)` compares what `x = $1` would: 't' is 1 for a
 * boolean, '07' is 7 for an integer. Integers beyond a double's exact range
 * stay digit strings (SQLite compares them with a column numerically).
 */
function arrayParamJson(text: string, elementType: string): string {
  const pgType = lookupPgType(elementType);
  if (!/^\s*\{.*\}\s*$/s.test(text)) {
    throw new SqlError('22P02', `malformed array literal: "${text}"`, { detail: 'Array value must start with "{".' });
  }
  const elements = parseArrayLiteral(text).map((element): unknown => {
    if (element === null) return null;
    const stored = pgType === null ? element : coerceToPgType(element, pgType);
    if (typeof stored === 'bigint') return Number.isSafeInteger(Number(stored)) ? Number(stored) : stored.toString();
    if (stored instanceof Uint8Array) throw new SqlError('0A000', 'bytea arrays are not supported');
    return stored;
  });
  return JSON.stringify(elements);
}

/** pg_sleep: blocks this thread (a read thread: statement_timeout or a cancel ends it by restarting the thread). */
function sleepSeconds(seconds: number): string {
  const ms = Math.min(Math.max(seconds, 0) * 1000, 2_147_483_647);
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return '';
}

export function registerFunctions(db: Database.Database, env: FunctionEnvironment): void {
  const session = (): SessionInfo | undefined => env.context().session;
  // Read once: a user function may not run queries on its own connection.
  const sqliteVersion = String(db.prepare('select sqlite_version()').pluck().get());
  const specs: Record<string, FunctionSpec> = {
    // Clock: the entry's time, constant within an entry as now() is within a transaction.
    pg_now: { fn: () => formatTimestamp(env.context().time, true) },
    // The wall clock and sleeping: for reads only (the translator refuses them in anything replicated).
    pg_clock_timestamp: { fn: () => formatTimestamp(Date.now(), true) },
    pg_sleep: { fn: nullSafe((seconds) => sleepSeconds(toNumber(seconds))) },
    pg_localtimestamp: { fn: () => formatTimestamp(env.context().time, false) },
    pg_current_date: { fn: () => formatDate(env.context().time) },
    pg_sqlite_now: { fn: () => sqliteNow(env.context().time) },
    pg_pin_now: { fn: (v) => (typeof v === 'string' && v.trim().toLowerCase() === 'now' ? sqliteNow(env.context().time) : v) },
    // Randomness: the seeded stream.
    pg_random: { fn: () => env.random().nextFloat() },
    pg_randomblob: { fn: nullSafe((n) => Buffer.from(env.random().bytes(Math.max(1, Math.min(toNumber(n), 1 << 20))))) },
    pg_gen_random_uuid: { fn: () => uuidFromBytes(env.random().bytes(16)) },
    // Casts and operators with Postgres errors.
    pg_bool_text: { fn: nullSafe((value) => (Number(value) !== 0 ? 'true' : 'false')), deterministic: true },
    pg_array_json: { fn: nullSafe((array, elementType) => arrayParamJson(toText(array), toText(elementType))), deterministic: true },
    pg_cast: { fn: (value, typeName, ...mods) => castWithContext(env, value, typeName, mods), deterministic: true, varargs: true },
    pg_cast_truncating: {
      fn: (value, typeName, ...mods) => castWithContext(env, value === null ? null : truncateChars(toText(value), Number(mods[0])), typeName, mods),
      deterministic: true,
      varargs: true,
    },
    pg_div: { fn: pgDivide, deterministic: true },
    pg_mod: { fn: pgModulo, deterministic: true },
    pg_div_int: { fn: nullSafe((a, b) => { const q = pgDivide(a, b); return typeof q === 'number' ? Math.trunc(q) : q; }), deterministic: true },
    // round(x, n) rounds a NUMERIC in Postgres: half away from zero on the decimal digits, not on the double.
    round: {
      fn: nullSafe((x, places = 0) => roundDecimal(toNumber(x), Math.trunc(toNumber(places)))),
      deterministic: true,
      varargs: true,
    },
    pg_trunc: { fn: nullSafe((x, places = 0) => { const f = 10 ** toNumber(places); return Math.trunc(toNumber(x) * f) / f; }), deterministic: true, varargs: true },
    pg_regex_match: {
      fn: nullSafe((text, pattern, insensitive) => (new RegExp(toText(pattern), toNumber(insensitive) === 1 ? 'iu' : 'u').test(toText(text)) ? 1n : 0n)),
      deterministic: true,
    },
    pg_greatest: { fn: (...args) => extreme(args, 1), deterministic: true, varargs: true },
    pg_least: { fn: (...args) => extreme(args, -1), deterministic: true, varargs: true },
    pg_substring: {
      fn: nullSafe((text, start, length) => {
        if (typeof start === 'string') throw new SqlError('0A000', 'substring with a regular expression is not supported');
        const chars = [...toText(text)];
        const from = toNumber(start);
        const end = length === undefined ? chars.length + 1 : from + toNumber(length);
        if (length !== undefined && toNumber(length) < 0) throw new SqlError('22011', 'negative substring length not allowed');
        return chars.slice(Math.max(from, 1) - 1, Math.max(end, 1) - 1).join('');
      }),
      deterministic: true, varargs: true,
    },
    pg_date_part: {
      fn: nullSafe((field, value) => {
        const unit = toText(field).toLowerCase();
        if (!DATE_PART_FIELDS.has(unit)) throw new SqlError('22023', `unit "${unit}" not recognized`);
        return datePart(unit, parseDateTime(toText(value), 'timestamptz'));
      }),
      deterministic: true,
    },
    date_trunc: {
      fn: nullSafe((field, value) => {
        const text = toText(value);
        return formatTimestamp(dateTrunc(toText(field).toLowerCase(), parseDateTime(text, 'timestamptz')), hasZone(text));
      }),
      deterministic: true,
    },
    to_timestamp: { fn: nullSafe((seconds) => formatTimestamp(toNumber(seconds) * 1000, true)), deterministic: true },
    // date ± integer is a date; date - date is a number of days (SQLite would do arithmetic on the year).
    pg_date_add_days: {
      fn: nullSafe((date, days) => {
        const n = toNumber(days);
        if (!Number.isInteger(n)) throw new SqlError('42883', 'operator does not exist: date + non-integer', { hint: 'Cast the number to integer.' });
        return formatDate(parseDateTime(toText(date), 'date') + n * DAY_MS);
      }),
      deterministic: true,
    },
    // timestamp ± interval (date + interval is a timestamp): the interval is text, see interval.ts.
    pg_add_interval: {
      fn: nullSafe((value, interval, sign, resultType) => {
        const type = toText(resultType) === 'timestamptz' ? 'timestamptz' : 'timestamp';
        const base = parseDateTime(toText(value), type);
        return formatTimestamp(addInterval(base, parseInterval(toText(interval)), toNumber(sign) < 0 ? -1 : 1), type === 'timestamptz');
      }),
      deterministic: true,
    },
    pg_date_diff_days: {
      fn: nullSafe((a, b) => BigInt(Math.round((parseDateTime(toText(a), 'date') - parseDateTime(toText(b), 'date')) / DAY_MS))),
      deterministic: true,
    },
    left: { fn: nullSafe((s, n) => { const c = [...toText(s)]; const k = toNumber(n); return c.slice(0, k < 0 ? Math.max(c.length + k, 0) : k).join(''); }), deterministic: true },
    right: { fn: nullSafe((s, n) => { const c = [...toText(s)]; const k = toNumber(n); return c.slice(k < 0 ? Math.min(-k, c.length) : Math.max(c.length - k, 0)).join(''); }), deterministic: true },
    lpad: { fn: nullSafe((s, n, fill = ' ') => pad(toText(s), toNumber(n), toText(fill), true)), deterministic: true, varargs: true },
    rpad: { fn: nullSafe((s, n, fill = ' ') => pad(toText(s), toNumber(n), toText(fill), false)), deterministic: true, varargs: true },
    repeat: {
      fn: nullSafe((s, n) => {
        const text = toText(s);
        const count = Math.max(0, toNumber(n));
        if (text.length * count > MAX_REPEAT_LENGTH) throw new SqlError('54000', 'requested length too large');
        return text.repeat(count);
      }),
      deterministic: true,
    },
    reverse: { fn: nullSafe((s) => [...toText(s)].reverse().join('')), deterministic: true },
    split_part: {
      fn: nullSafe((s, delimiter, n) => {
        const index = toNumber(n);
        if (index === 0) throw new SqlError('22023', 'field position must not be zero');
        const parts = toText(delimiter) === '' ? [toText(s)] : toText(s).split(toText(delimiter));
        return (index > 0 ? parts[index - 1] : parts[parts.length + index]) ?? '';
      }),
      deterministic: true,
    },
    initcap: { fn: nullSafe((s) => toText(s).toLowerCase().replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_m, sep: string, ch: string) => sep + ch.toUpperCase())), deterministic: true },
    md5: { fn: nullSafe((s) => createHash('md5').update(s instanceof Uint8Array ? Buffer.from(s) : toText(s)).digest('hex')), deterministic: true },
    starts_with: { fn: nullSafe((s, prefix) => (toText(s).startsWith(toText(prefix)) ? 1n : 0n)), deterministic: true },
    translate: {
      fn: nullSafe((s, from, to) => {
        const fromChars = [...toText(from)];
        const toChars = [...toText(to)];
        return [...toText(s)].map((ch) => { const i = fromChars.indexOf(ch); return i < 0 ? ch : (toChars[i] ?? ''); }).join('');
      }),
      deterministic: true,
    },
    to_hex: { fn: nullSafe((n) => BigInt.asUintN(64, BigInt(typeof n === 'bigint' ? n : Math.trunc(toNumber(n)))).toString(16)), deterministic: true },
    regexp_replace: {
      fn: nullSafe((s, pattern, replacement, flags = '') => {
        const f = toText(flags);
        const jsFlags = `${f.includes('g') ? 'g' : ''}${f.includes('i') ? 'i' : ''}u`;
        return toText(s).replace(new RegExp(toText(pattern), jsFlags), toText(replacement).replace(/\\(\d)/g, '$$$1'));
      }),
      deterministic: true, varargs: true,
    },
    // Session and server facts.
    version: { fn: () => `PostgreSQL ${env.serverVersion} (paxosql, SQLite ${sqliteVersion})` },
    current_database: { fn: () => session()?.database ?? 'paxosql' },
    pg_current_user: { fn: () => session()?.user ?? 'paxosql' },
    current_schema: { fn: () => 'public' },
    pg_backend_pid: { fn: () => BigInt(session()?.backendPid ?? 0) },
    current_setting: {
      fn: (name, missingOk) => {
        const key = toText(name).toLowerCase();
        const value = session()?.settings?.[key] ?? (key === 'server_version' ? env.serverVersion : DEFAULT_SETTINGS[key]);
        if (value !== undefined) return value;
        if (missingOk !== undefined && missingOk !== null && toNumber(missingOk) !== 0) return null;
        throw new SqlError('42704', `unrecognized configuration parameter "${key}"`);
      },
      varargs: true,
    },
  };
  for (const [name, spec] of Object.entries(specs)) {
    db.function(name, { safeIntegers: true, deterministic: spec.deterministic ?? false, varargs: spec.varargs ?? false }, spec.fn as (...params: unknown[]) => unknown);
  }
  registerGenerateSeries(db);
}

/** generate_series(start, stop[, step]) as a table-valued function, bounded. */
function registerGenerateSeries(db: Database.Database): void {
  db.table('pg_generate_series', {
    columns: ['value'],
    parameters: ['start', 'stop', 'step'],
    safeIntegers: true,
    *rows(...args: unknown[]) {
      const [start, stop, step] = args;
      if (start === null || stop === null || start === undefined || stop === undefined) return;
      const integral = typeof start === 'bigint' && typeof stop === 'bigint' && (step === undefined || step === null || typeof step === 'bigint');
      const by = step === undefined || step === null ? 1 : toNumber(step);
      if (by === 0) throw new SqlError('22023', 'step size cannot equal zero');
      const count = Math.floor((toNumber(stop) - toNumber(start)) / by) + 1;
      if (count > MAX_SERIES_ROWS) throw new SqlError('54000', `generate_series would return more than ${MAX_SERIES_ROWS} rows`);
      for (let i = 0; i < count; i++) {
        yield [integral ? BigInt(start as bigint) + BigInt(by) * BigInt(i) : toNumber(start) + by * i];
      }
    },
  });
}
