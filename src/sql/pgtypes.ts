// Postgres types that the SQL layer supports: their canonical names, OIDs, the type
// name declared in the SQLite schema, and conversions of values in both directions.

import { SqlError, type SqlValue } from './types.js';

/** Canonical names of the supported Postgres types (the `typname` in pg_type). */
export type PgType =
  | 'bool' | 'int2' | 'int4' | 'int8' | 'float4' | 'float8' | 'numeric'
  | 'text' | 'varchar' | 'bpchar' | 'bytea' | 'date' | 'timestamp' | 'timestamptz'
  | 'uuid' | 'json' | 'jsonb';

export const PG_TYPE_OIDS: Readonly<Record<PgType, number>> = {
  bool: 16, int2: 21, int4: 23, int8: 20, float4: 700, float8: 701, numeric: 1700,
  text: 25, varchar: 1043, bpchar: 1042, bytea: 17, date: 1082, timestamp: 1114,
  timestamptz: 1184, uuid: 2950, json: 114, jsonb: 3802,
};

/** OID clients receive when a type cannot be determined: text, which every client can read. */
export const UNKNOWN_TYPE_OID = PG_TYPE_OIDS.text;

// Every spelling the Postgres grammar (after libpg-query normalisation) or a SQLite
// declared type may use for a supported type.
const TYPE_ALIASES: ReadonlyMap<string, PgType> = new Map<string, PgType>([
  ['bool', 'bool'], ['boolean', 'bool'],
  ['int2', 'int2'], ['smallint', 'int2'],
  ['int4', 'int4'], ['int', 'int4'], ['integer', 'int4'],
  ['int8', 'int8'], ['bigint', 'int8'],
  ['float4', 'float4'], ['real', 'float4'],
  ['float8', 'float8'], ['double precision', 'float8'], ['float', 'float8'],
  ['numeric', 'numeric'], ['decimal', 'numeric'],
  ['text', 'text'],
  ['varchar', 'varchar'], ['character varying', 'varchar'],
  ['bpchar', 'bpchar'], ['char', 'bpchar'], ['character', 'bpchar'],
  ['bytea', 'bytea'],
  ['date', 'date'],
  ['timestamp', 'timestamp'], ['timestamp without time zone', 'timestamp'],
  ['timestamptz', 'timestamptz'], ['timestamp with time zone', 'timestamptz'],
  ['uuid', 'uuid'], ['json', 'json'], ['jsonb', 'jsonb'],
]);

/** Resolves a type name (any accepted spelling, modifiers stripped) or returns null. */
export function lookupPgType(name: string): PgType | null {
  const bare = name.toLowerCase().replace(/\(.*\)/, '').replace(/\s+/g, ' ').trim();
  return TYPE_ALIASES.get(bare) ?? null;
}

/** The OID for a SQLite declared column type, or null when it is not a known Postgres type. */
export function oidOfDeclaredType(declared: string | null | undefined): number | null {
  if (declared === null || declared === undefined) return null;
  const pgType = lookupPgType(declared);
  return pgType === null ? null : PG_TYPE_OIDS[pgType];
}

/** The type name written into the SQLite schema; chosen so SQLite's affinity rules fit. */
export function declaredTypeName(pgType: PgType, typmods: readonly number[]): string {
  const mods = typmods.length > 0 ? `(${typmods.join(',')})` : '';
  switch (pgType) {
    case 'bool': return 'boolean';
    case 'int2': return 'smallint';
    // Not 'integer': SQLite would make an `integer PRIMARY KEY` an auto-assigned rowid alias.
    case 'int4': return 'int';
    case 'int8': return 'bigint';
    case 'float4': return 'real';
    case 'float8': return 'double precision';
    case 'numeric': return `numeric${mods}`;
    case 'varchar': return `varchar${mods}`;
    case 'bpchar': return `char${mods.length > 0 ? mods : '(1)'}`;
    default: return pgType;
  }
}

/** The OID of the array type of each supported element type (int4 → int4[], …). */
export const ARRAY_TYPE_OIDS: Readonly<Partial<Record<PgType, number>>> = {
  bool: 1000, bytea: 1001, int2: 1005, int4: 1007, text: 1009, bpchar: 1014, varchar: 1015, int8: 1016,
  float4: 1021, float8: 1022, timestamp: 1115, date: 1182, timestamptz: 1185, numeric: 1231, uuid: 2951,
  json: 199, jsonb: 3807,
};

/** The numeric scale declared as `numeric(p,s)`, or null. */
export function numericScale(declared: string | null | undefined): number | null {
  const match = declared === null || declared === undefined ? null : /numeric\s*\(\s*\d+\s*,\s*(\d+)\s*\)/i.exec(declared);
  return match?.[1] === undefined ? null : Number(match[1]);
}

// ---------------------------------------------------------------------------
// Input: text (or SQLite values) to the stored representation of a Postgres type.

function invalidInput(typeLabel: string, value: unknown): SqlError {
  return new SqlError('22P02', `invalid input syntax for type ${typeLabel}: "${String(value)}"`);
}

const INT_RANGES: Readonly<Record<'int2' | 'int4' | 'int8', readonly [bigint, bigint]>> = {
  int2: [-32768n, 32767n],
  int4: [-2147483648n, 2147483647n],
  int8: [-9223372036854775808n, 9223372036854775807n],
};
const INT_LABELS = { int2: 'smallint', int4: 'integer', int8: 'bigint' } as const;

function toInteger(value: unknown, pgType: 'int2' | 'int4' | 'int8'): bigint {
  let result: bigint;
  if (typeof value === 'bigint') result = value;
  else if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SqlError('22003', `${INT_LABELS[pgType]} out of range`);
    result = BigInt(Math.round(value)); // Postgres rounds float→int to nearest (half away from zero)
  } else if (typeof value === 'string') {
    const trimmed = value.trim();
    if (!/^[+-]?\d+$/.test(trimmed)) throw invalidInput(INT_LABELS[pgType], value);
    result = BigInt(trimmed);
  } else if (typeof value === 'boolean') result = value ? 1n : 0n;
  else throw invalidInput(INT_LABELS[pgType], value);
  const [min, max] = INT_RANGES[pgType];
  if (result < min || result > max) throw new SqlError('22003', `${INT_LABELS[pgType]} out of range`);
  return result;
}

/**
 * NUMERIC is stored as a double, which holds 15 significant decimal digits
 * exactly. A value with more would silently change, so it is refused.
 */
const EXACT_NUMERIC_DIGITS = 15;

function refuseInexactNumeric(value: unknown): void {
  let digits: string;
  if (typeof value === 'bigint') digits = (value < 0n ? -value : value).toString();
  else if (typeof value === 'string') digits = value.trim().toLowerCase().replace(/^[+-]/, '').replace(/e[+-]?\d+$/, '').replace('.', '');
  else return;
  if (!/^\d+$/.test(digits)) return; // not a plain number: the parse below reports it
  const significant = digits.replace(/^0+/, '').replace(/0+$/, '');
  if (significant.length > EXACT_NUMERIC_DIGITS) {
    throw new SqlError('22003', `numeric value ${String(value)} has more than ${EXACT_NUMERIC_DIGITS} significant digits`, {
      detail: 'paxosql stores NUMERIC as a double, exact to 15 significant digits.',
      hint: 'Store it as TEXT, or scale it to an integer (BIGINT holds 18 digits exactly).',
    });
  }
}

function toFloat(value: unknown, label: string): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string') {
    const trimmed = value.trim().toLowerCase();
    if (trimmed === 'nan') return Number.NaN;
    if (trimmed === 'infinity' || trimmed === '+infinity') return Number.POSITIVE_INFINITY;
    if (trimmed === '-infinity') return Number.NEGATIVE_INFINITY;
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(trimmed)) throw invalidInput(label, value);
    return Number(trimmed);
  }
  throw invalidInput(label, value);
}

const TRUE_WORDS = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['f', 'false', 'n', 'no', 'off', '0']);

function toBool(value: unknown): bigint {
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'bigint') return value === 0n ? 0n : 1n;
  if (typeof value === 'number') return value === 0 ? 0n : 1n;
  if (typeof value === 'string') {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return 1n;
    if (FALSE_WORDS.has(word)) return 0n;
  }
  throw invalidInput('boolean', value);
}

const UUID_PATTERN = /^\{?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})\}?$/i;

function toUuid(value: unknown): string {
  const match = typeof value === 'string' ? UUID_PATTERN.exec(value.trim()) : null;
  if (match === null) throw invalidInput('uuid', value);
  return match.slice(1, 6).join('-').toLowerCase();
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/**
 * Postgres' text form of a timestamp (UTC), fraction with trailing zeros trimmed.
 * `extraMicros` (0-999) are the microseconds below `ms`.
 */
export function formatTimestamp(ms: number, withZone: boolean, extraMicros = 0): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new SqlError('22008', 'timestamp out of range');
  const base = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)} ` +
    `${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}`;
  const digits = `${pad(date.getUTCMilliseconds(), 3)}${pad(extraMicros, 3)}`.replace(/0+$/, '');
  return `${base}${digits === '' ? '' : `.${digits}`}${withZone ? '+00' : ''}`;
}

export function formatDate(ms: number): string {
  return formatTimestamp(ms, false).slice(0, 10);
}

/** The Postgres date/time types; their text input is parsed by parseDateTime. */
export type DateTimeType = 'date' | 'timestamp' | 'timestamptz';

const DATE_TIME_LABELS: Readonly<Record<DateTimeType, string>> = {
  date: 'date', timestamp: 'timestamp', timestamptz: 'timestamp with time zone',
};

// 'YYYY-MM-DD', optionally followed by ' HH:MM[:SS[.fff]]' (or 'T…') and a zone: Z, ±HH, ±HHMM, ±HH:MM.
const DATE_TIME_PATTERN =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{1,2}(?::?\d{2})?)?$/i;

const DAY_MS = 86_400_000;
const MICROS_PER_MS = 1000n;

/** Milliseconds since the Unix epoch of a UTC date-time; unlike Date.UTC, years 0-99 are not moved to 19xx. */
function utcMillis(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcMillis(year, month + 1, 0)).getUTCDate();
}

function outOfRange(text: string): SqlError {
  return new SqlError('22008', `date/time field value out of range: "${text}"`);
}

/** The statement's time turned into the value of a clock word ('now', 'today', ...), or null for other text. */
function clockWordValue(word: string, clock: number): number | null {
  const midnight = Math.floor(clock / DAY_MS) * DAY_MS;
  switch (word) {
    case 'now': return clock;
    case 'today': return midnight;
    case 'tomorrow': return midnight + DAY_MS;
    case 'yesterday': return midnight - DAY_MS;
    default: return null;
  }
}

/** True for the special inputs whose value depends on the statement's time. */
export function isClockWord(text: string): boolean {
  return clockWordValue(text.trim().toLowerCase(), 0) !== null;
}

/**
 * The one parser of date/timestamp text input, for literals, casts and bound
 * parameters alike: microseconds since the epoch (UTC). Fields are checked as Postgres
 * does (no 2024-02-30, no month 13: 22008) instead of letting Date roll them
 * over. As in Postgres, `date` ignores the time and zone, and `timestamp`
 * (without time zone) ignores the zone. `clock` is the statement's time,
 * fixed by the leader and the same on every replica: it gives 'now', 'today',
 * 'tomorrow' and 'yesterday'; without it they are refused rather than read
 * from this machine's clock.
 */
export function parseDateTimeMicros(text: string, pgType: DateTimeType, clock: number | null = null): bigint {
  const trimmed = text.trim();
  const word = trimmed.toLowerCase();
  if (word === 'epoch') return 0n;
  if (word === 'infinity' || word === '+infinity' || word === '-infinity') {
    throw new SqlError('0A000', `${DATE_TIME_LABELS[pgType]} value "${trimmed}" is not supported`, {
      detail: 'paxosql has no infinite dates or timestamps.',
    });
  }
  if (isClockWord(word)) {
    if (clock === null) throw new SqlError('0A000', `"${trimmed}" is only accepted where the statement's time is known`);
    const value = clockWordValue(word, clock)!;
    return BigInt(pgType === 'date' ? Math.floor(value / DAY_MS) * DAY_MS : value) * MICROS_PER_MS;
  }
  const match = DATE_TIME_PATTERN.exec(trimmed);
  if (match === null) throw new SqlError('22007', `invalid input syntax for type ${DATE_TIME_LABELS[pgType]}: "${text}"`);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((v) => Number(v ?? 0)) as
    [number, number, number, number, number, number];
  const micros = match[7] === undefined ? 0 : Math.round(Number(`0.${match[7]}`) * 1e6);
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) throw outOfRange(text);
  // Postgres accepts 24:00:00 (the next midnight) and a leap second 60 (rolled into the next minute).
  if (hour > 24 || minute > 59 || second > 60 || (hour === 24 && minute + second + micros > 0)) throw outOfRange(text);
  if (pgType === 'date') return BigInt(utcMillis(year, month, day)) * MICROS_PER_MS;
  const wallClock = BigInt(utcMillis(year, month, day, hour, minute, second)) * MICROS_PER_MS + BigInt(micros);
  const zone = match[8];
  if (pgType === 'timestamp' || zone === undefined || zone.toUpperCase() === 'Z') return wallClock;
  return wallClock - BigInt(zoneOffsetMinutes(zone, text) * 60_000) * MICROS_PER_MS;
}

/** parseDateTimeMicros rounded to milliseconds, the precision values are stored with. */
export function parseDateTime(text: string, pgType: DateTimeType, clock: number | null = null): number {
  const [ms, rest] = splitMillis(parseDateTimeMicros(text, pgType, clock));
  return rest >= 500 ? ms + 1 : ms;
}

/** Whole milliseconds (rounded down) and the microseconds left over (0-999). */
function splitMillis(micros: bigint): [number, number] {
  let ms = micros / MICROS_PER_MS;
  let rest = micros % MICROS_PER_MS;
  if (rest < 0n) {
    ms -= 1n;
    rest += MICROS_PER_MS;
  }
  return [Number(ms), Number(rest)];
}

function zoneOffsetMinutes(zone: string, text: string): number {
  const [, sign, hours, minutes] = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
  const offset = Number(hours) * 60 + Number(minutes ?? 0);
  if (Number(hours) > 15 || Number(minutes ?? 0) > 59) {
    throw new SqlError('22009', `time zone displacement out of range: "${text}"`);
  }
  return sign === '-' ? -offset : offset;
}

/**
 * A date/timestamp parameter as the wire decodes it: validated and canonical,
 * as a literal is, keeping microseconds. A clock word ('now', 'today', ...)
 * stays as it is: the wire does not know the statement's time, which the
 * engine has when the statement runs (the leader's, the same on every replica).
 */
export function decodeDateTimeParam(text: string, pgType: DateTimeType): string {
  if (isClockWord(text)) return text.trim().toLowerCase();
  const [ms, extraMicros] = splitMillis(parseDateTimeMicros(text, pgType));
  return pgType === 'date' ? formatDate(ms) : formatTimestamp(ms, pgType === 'timestamptz', extraMicros);
}

function formatDateTime(ms: number, pgType: DateTimeType): string {
  return pgType === 'date' ? formatDate(ms) : formatTimestamp(ms, pgType === 'timestamptz');
}

function toDateTime(value: unknown, pgType: DateTimeType, clock: number | null): string {
  return formatDateTime(typeof value === 'string' ? parseDateTime(value, pgType, clock) : Number(value), pgType);
}

function toBytea(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') {
    if (/^\\x([0-9a-f]{2})*$/i.test(value)) return Buffer.from(value.slice(2), 'hex');
    return Buffer.from(value, 'utf8');
  }
  throw invalidInput('bytea', value);
}

function toJsonText(value: unknown, label: string): string {
  const text = typeof value === 'string' ? value : String(value);
  try {
    JSON.parse(text);
  } catch {
    throw invalidInput(label, value);
  }
  return label === 'jsonb' ? JSON.stringify(JSON.parse(text)) : text;
}

/**
 * `n` rounded to `scale` decimals half away from zero, as Postgres rounds a
 * NUMERIC, on the number's shortest decimal form — the digits the user wrote:
 * 1.005 gives 1.01, where toFixed sees the double 1.00499999… and gives 1.00.
 */
export function roundDecimal(n: number, scale: number): number {
  if (!Number.isFinite(n) || scale < 0) return n;
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(n.toExponential());
  if (match === null) return n;
  const [, sign = '', lead = '', rest = '', exponent = '0'] = match;
  const digits = lead + rest;
  const integerDigits = 1 + Number(exponent); // digits before the decimal point
  const keep = integerDigits + scale;
  if (keep >= digits.length) return n; // already within the scale
  if (keep < 0) return 0;
  let kept = BigInt(digits.slice(0, keep) || '0');
  if ((digits[keep] ?? '0') >= '5') kept += 1n;
  return Number(`${sign}${kept}e${-scale}`);
}

/** A value for a numeric(precision, scale) column: rounded to the scale, refused (22003) if it needs more integer digits than the column has. */
function toNumericField(n: number, precision: number | undefined, scale: number | undefined): number {
  if (precision === undefined) return n;
  const rounded = roundDecimal(n, scale ?? 0);
  const integerDigits = precision - (scale ?? 0);
  if (Math.abs(rounded) >= 10 ** integerDigits) {
    throw new SqlError('22003', 'numeric field overflow', {
      detail: `A field with precision ${precision}, scale ${scale ?? 0} must round to an absolute value less than ${integerDigits > 0 ? `10^${integerDigits}` : '1'}.`,
    });
  }
  return rounded;
}

/** A value SQLite can store or a user function can return. */
export type StoredValue = null | bigint | number | string | Uint8Array;

/**
 * Converts a value to the stored representation of `pgType`, with Postgres' input rules
 * (so `'abc'::int` fails with 22P02 as it does in Postgres). Used by casts and by the
 * coercion of INSERT/UPDATE values into typed columns. `clock` is the statement's
 * time, for date/time inputs such as 'now' (see parseDateTime).
 */
export function coerceToPgType(
  value: unknown, pgType: PgType, typmods: readonly number[] = [], clock: number | null = null,
): StoredValue {
  if (value === null || value === undefined) return null;
  switch (pgType) {
    case 'bool': return toBool(value);
    case 'int2': case 'int4': case 'int8': return toInteger(value, pgType);
    case 'float4': case 'float8': return toFloat(value, pgType === 'float4' ? 'real' : 'double precision');
    case 'numeric': {
      refuseInexactNumeric(value);
      return toNumericField(toFloat(value, 'numeric'), typmods[0], typmods[1]);
    }
    case 'text': return textOf(value);
    case 'varchar': case 'bpchar': {
      const text = textOf(value);
      const limit = typmods[0] ?? (pgType === 'bpchar' ? 1 : undefined);
      const chars = [...text];
      if (limit === undefined || chars.length <= limit) return text;
      // As Postgres: what is too long only by trailing spaces is cut to fit.
      if (/^ *$/.test(chars.slice(limit).join(''))) return chars.slice(0, limit).join('');
      const label = pgType === 'varchar' ? 'character varying' : 'character';
      throw new SqlError('22001', `value too long for type ${label}(${limit})`);
    }
    case 'bytea': return toBytea(value);
    case 'date': case 'timestamp': case 'timestamptz': return toDateTime(value, pgType, clock);
    case 'uuid': return toUuid(value);
    case 'json': case 'jsonb': return toJsonText(value, pgType);
  }
}

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  return String(value);
}

// ---------------------------------------------------------------------------
// Output: SQLite values (read with safeIntegers) to what the wire layer sends.

/** Converts a stored SQLite value of a column of type `oid` to its Postgres meaning. */
/**
 * An integer result out of its type's range fails as in Postgres (22003):
 * SQLite computes integers in 64 bits and turns an overflow into a double, so
 * `2147483647::int * 2` and `9223372036854775807::bigint + 1` would otherwise
 * come back as numbers no int4 or int8 can hold.
 */
function checkIntegerResult(value: unknown, pgType: 'int2' | 'int4' | 'int8'): void {
  const [min, max] = INT_RANGES[pgType];
  // Compared as numbers or as bigints, whichever the value is: no allocation per value of a large result.
  const outside = typeof value === 'bigint' ? value < min || value > max
    // (`>= max + 1`: as a double, int8's max rounds up to 2^63 — exactly what SQLite's overflowed max + 1 gives.)
    : typeof value === 'number' && Number.isInteger(value) && (value < Number(min) || value >= Number(max) + 1);
  if (outside) throw new SqlError('22003', `${INT_LABELS[pgType]} out of range`);
}

export function toPgValue(value: unknown, oid: number, scale: number | null): SqlValue {
  if (value === null || value === undefined) return null;
  switch (oid) {
    case PG_TYPE_OIDS.bool:
      if (typeof value === 'string') return TRUE_WORDS.has(value.toLowerCase());
      return Number(value) !== 0;
    case PG_TYPE_OIDS.int2: case PG_TYPE_OIDS.int4:
      if (typeof value === 'string') return value;
      checkIntegerResult(value, oid === PG_TYPE_OIDS.int2 ? 'int2' : 'int4');
      return Number(value);
    case PG_TYPE_OIDS.int8:
      checkIntegerResult(value, 'int8');
      if (typeof value === 'bigint') return value;
      if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
      return typeof value === 'string' ? value : Number(value);
    case PG_TYPE_OIDS.float4: case PG_TYPE_OIDS.float8:
      return typeof value === 'string' ? value : Number(value);
    case PG_TYPE_OIDS.numeric:
      if (typeof value === 'string') return value;
      if (typeof value === 'bigint') return scale !== null && scale > 0 ? `${value}.${'0'.repeat(scale)}` : value.toString();
      if (typeof value === 'number') return scale !== null ? roundDecimal(value, scale).toFixed(scale) : String(value);
      return textOf(value);
    case PG_TYPE_OIDS.bytea:
      return value instanceof Uint8Array ? new Uint8Array(value) : new Uint8Array(Buffer.from(textOf(value), 'utf8'));
    case PG_TYPE_OIDS.timestamptz:
      return typeof value === 'string' ? value.replace(/\+00:00$/, '+00') : textOf(value);
    default:
      return value instanceof Uint8Array ? new Uint8Array(value) : textOf(value);
  }
}

/** The OID that describes a runtime value whose column type is otherwise unknown. */
export function oidOfRuntimeValue(value: unknown): number {
  if (typeof value === 'bigint') return PG_TYPE_OIDS.int8;
  if (typeof value === 'number') return PG_TYPE_OIDS.float8;
  if (value instanceof Uint8Array) return PG_TYPE_OIDS.bytea;
  return PG_TYPE_OIDS.text;
}
