// Type OIDs and the text/binary codecs for parameters (client → server) and
// result columns (server → client).
//
// Parameters decode into these SqlValues, by declared type:
//   bool → boolean; int2/int4/oid → number; int8 → bigint; float4/float8 → number;
//   numeric → canonical decimal string; bytea → Uint8Array;
//   timestamp/timestamptz → 'YYYY-MM-DD HH:MM:SS[.fff]' (+00 for timestamptz, in UTC; text input
//   as the SQL layer parses literals); date → 'YYYY-MM-DD'; a text 'now', 'today', 'tomorrow' or
//   'yesterday' stays that word, for the engine to resolve with the statement's time;
//   uuid → lowercase 8-4-4-4-12; text/varchar/bpchar/json/jsonb/unknown → string.
// Result values are accepted loosely (SQLite hands back numbers for booleans,
// strings for timestamps, bigint or number for integers) and encoded by the
// column's type OID; a timestamp given as a number is milliseconds since the Unix epoch.

import { decodeDateTimeParam } from '../sql/pgtypes.js';
import { SqlError, type SqlValue } from '../sql/types.js';
import { decodeNumericBinary, encodeNumericBinary, formatDecimal } from './numeric.js';

export const TypeOid = {
  unknown: 0,
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

/** 0 = text, 1 = binary, as in Bind and RowDescription. */
export type FormatCode = 0 | 1;

const MICROS_PER_DAY = 86_400_000_000n;
/** Days from 1970-01-01 to 2000-01-01, the Postgres epoch for binary dates and timestamps. */
const PG_EPOCH_DAYS = 10_957;
const PG_EPOCH_MICROS = BigInt(PG_EPOCH_DAYS) * MICROS_PER_DAY;
const INT64_MAX = 0x7fffffffffffffffn;
const INT64_MIN = -0x8000000000000000n;

// ---------------------------------------------------------------- decoding

/** Decodes one Bind parameter. Throws SqlError 22P02/22P03/22003 on bad input. */
export function decodeParam(data: Buffer, typeOid: number, format: FormatCode): SqlValue {
  return format === 1 ? decodeBinary(data, typeOid) : decodeText(data.toString('utf8'), typeOid);
}

export function decodeText(text: string, typeOid: number): SqlValue {
  switch (typeOid) {
    case TypeOid.bool:
      return parseBool(text);
    case TypeOid.int2:
      return parseInteger(text, 'smallint', -32768n, 32767n);
    case TypeOid.int4:
      return parseInteger(text, 'integer', -2147483648n, 2147483647n);
    case TypeOid.oid:
      return parseInteger(text, 'oid', 0n, 4294967295n);
    case TypeOid.int8:
      return BigInt(parseInteger(text, 'bigint', INT64_MIN, INT64_MAX, true));
    case TypeOid.float4:
    case TypeOid.float8:
      return parseFloatText(text);
    case TypeOid.numeric:
      return formatDecimal(text);
    case TypeOid.bytea:
      return parseByteaText(text);
    // The SQL layer's parser, the same one literals and casts use.
    case TypeOid.timestamp:
      return decodeDateTimeParam(text, 'timestamp');
    case TypeOid.timestamptz:
      return decodeDateTimeParam(text, 'timestamptz');
    case TypeOid.date:
      return decodeDateTimeParam(text, 'date');
    case TypeOid.uuid:
      return formatUuid(parseUuid(text));
    default:
      return text;
  }
}

function decodeBinary(data: Buffer, typeOid: number): SqlValue {
  const expectLength = (n: number): void => {
    if (data.length !== n) throw new SqlError('22P03', `incorrect binary data format: expected ${n} bytes, got ${data.length}`);
  };
  switch (typeOid) {
    case TypeOid.bool:
      expectLength(1);
      return data[0] !== 0;
    case TypeOid.int2:
      expectLength(2);
      return data.readInt16BE(0);
    case TypeOid.int4:
      expectLength(4);
      return data.readInt32BE(0);
    case TypeOid.oid:
      expectLength(4);
      return data.readUInt32BE(0);
    case TypeOid.int8:
      expectLength(8);
      return data.readBigInt64BE(0);
    case TypeOid.float4:
      expectLength(4);
      return data.readFloatBE(0);
    case TypeOid.float8:
      expectLength(8);
      return data.readDoubleBE(0);
    case TypeOid.numeric:
      return decodeNumericBinary(data);
    case TypeOid.bytea:
      return new Uint8Array(data);
    case TypeOid.timestamp:
    case TypeOid.timestamptz:
      expectLength(8);
      return formatTimestamp(data.readBigInt64BE(0) + PG_EPOCH_MICROS, typeOid === TypeOid.timestamptz);
    case TypeOid.date:
      expectLength(4);
      return formatDate(data.readInt32BE(0) + PG_EPOCH_DAYS);
    case TypeOid.uuid:
      expectLength(16);
      return formatUuid(data);
    case TypeOid.jsonb:
      if (data.length < 1 || data[0] !== 1) throw new SqlError('22P03', 'unsupported jsonb version number');
      return data.toString('utf8', 1);
    default:
      return data.toString('utf8');
  }
}

function parseBool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (['t', 'true', 'y', 'yes', 'on', '1'].includes(t)) return true;
  if (['f', 'false', 'n', 'no', 'off', '0'].includes(t)) return false;
  throw new SqlError('22P02', `invalid input syntax for type boolean: "${text}"`);
}

function parseInteger(text: string, typeName: string, min: bigint, max: bigint, asBigInt?: false): number;
function parseInteger(text: string, typeName: string, min: bigint, max: bigint, asBigInt: true): bigint;
function parseInteger(text: string, typeName: string, min: bigint, max: bigint, asBigInt = false): number | bigint {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) throw new SqlError('22P02', `invalid input syntax for type ${typeName}: "${text}"`);
  const v = BigInt(t);
  if (v < min || v > max) throw new SqlError('22003', `value "${text}" is out of range for type ${typeName}`);
  return asBigInt ? v : Number(v);
}

function parseFloatText(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'nan') return NaN;
  if (t === 'infinity' || t === '+infinity' || t === 'inf') return Infinity;
  if (t === '-infinity' || t === '-inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) {
    throw new SqlError('22P02', `invalid input syntax for type double precision: "${text}"`);
  }
  return Number(t);
}

/** bytea input: `\x` hex format, or the legacy escape format (`\\` and `\ooo`). */
function parseByteaText(text: string): Uint8Array {
  if (text.startsWith('\\x')) {
    const hex = text.slice(2).replace(/\s/g, '');
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
      throw new SqlError('22P02', 'invalid hexadecimal data: odd number of digits or invalid digit');
    }
    return new Uint8Array(Buffer.from(hex, 'hex'));
  }
  const out: number[] = [];
  for (let i = 0; i < text.length; ) {
    const ch = text.charCodeAt(i);
    if (ch !== 0x5c) {
      for (const b of Buffer.from(text[i]!, 'utf8')) out.push(b);
      i++;
    } else if (text[i + 1] === '\\') {
      out.push(0x5c);
      i += 2;
    } else if (/^[0-3][0-7]{2}$/.test(text.slice(i + 1, i + 4))) {
      out.push(parseInt(text.slice(i + 1, i + 4), 8));
      i += 4;
    } else {
      throw new SqlError('22P02', 'invalid input syntax for type bytea');
    }
  }
  return new Uint8Array(out);
}

/**
 * Parses 'YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]' (or a bare date, or
 * ±infinity) into microseconds since the Unix epoch, in UTC. For result values
 * (stored, already canonical text): parameter input goes through the SQL
 * layer's parseDateTime, which checks every field.
 */
export function parseTimestamp(text: string): bigint {
  const t = text.trim().toLowerCase();
  if (t === 'infinity' || t === '+infinity') return INT64_MAX;
  if (t === '-infinity') return INT64_MIN;
  const m = /^(\d{4,})-(\d{1,2})-(\d{1,2})(?:[ t](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(z|[+-]\d{1,2}(?::?\d{2})?)?$/.exec(t);
  if (!m) throw new SqlError('22007', `invalid input syntax for type timestamp: "${text}"`);
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0)) as [
    number, number, number, number, number, number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) {
    throw new SqlError('22008', `date/time field value out of range: "${text}"`);
  }
  const wholeMillis = utcMillis(year, month, day, hour, minute, second);
  if (Number.isNaN(wholeMillis)) throw new SqlError('22008', `date/time field value out of range: "${text}"`);
  // Round to microseconds as Postgres does.
  const fraction = m[7] ?? '';
  const micros = fraction === '' ? 0 : Math.round(Number(fraction.padEnd(9, '0').slice(0, 9)) / 1000);
  let result = BigInt(wholeMillis) * 1000n + BigInt(micros);
  const zone = m[8];
  if (zone !== undefined && zone !== 'z') {
    const zm = /^([+-])(\d{1,2}):?(\d{2})?$/.exec(zone)!;
    const offsetMinutes = Number(zm[2]) * 60 + Number(zm[3] ?? 0);
    result -= BigInt((zm[1] === '-' ? -1 : 1) * offsetMinutes) * 60_000_000n;
  }
  return result;
}

/** Milliseconds since the Unix epoch for a UTC date-time; unlike Date.UTC, years 0-99 are not moved to 19xx. */
function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** Formats microseconds since the Unix epoch the way timestamp_out prints it (ISO DateStyle, UTC). */
export function formatTimestamp(unixMicros: bigint, withZone: boolean): string {
  if (unixMicros >= INT64_MAX) return 'infinity';
  if (unixMicros <= INT64_MIN) return '-infinity';
  let millis = unixMicros / 1000n;
  let micros = unixMicros % 1000n;
  if (micros < 0n) {
    micros += 1000n;
    millis -= 1n;
  }
  const d = new Date(Number(millis));
  if (Number.isNaN(d.getTime())) throw new SqlError('22008', 'timestamp out of range');
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const fraction = (pad(d.getUTCMilliseconds(), 3) + String(micros).padStart(3, '0')).replace(/0+$/, '');
  return `${date} ${time}${fraction === '' ? '' : '.' + fraction}${withZone ? '+00' : ''}`;
}

function formatDate(unixDays: number): string {
  return formatTimestamp(BigInt(unixDays) * MICROS_PER_DAY, false).slice(0, 10);
}

function parseUuid(text: string): Buffer {
  const hex = text.trim().replace(/^\{|\}$/g, '').replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new SqlError('22P02', `invalid input syntax for type uuid: "${text}"`);
  return Buffer.from(hex, 'hex');
}

function formatUuid(bytes: Buffer): string {
  const h = bytes.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ---------------------------------------------------------------- encoding

/** Encodes one result value for a DataRow; null stays null (SQL NULL). */
export function encodeValue(value: SqlValue, typeOid: number, format: FormatCode): Buffer | null {
  if (value === null) return null;
  return format === 1 ? encodeBinary(value, typeOid) : Buffer.from(encodeText(value, typeOid), 'utf8');
}

/** The text output form of a value, as Postgres prints it. */
export function encodeText(value: Exclude<SqlValue, null>, typeOid: number): string {
  switch (typeOid) {
    case TypeOid.bool:
      return toBoolean(value) ? 't' : 'f';
    case TypeOid.int2:
    case TypeOid.int4:
    case TypeOid.int8:
    case TypeOid.oid:
      return typeof value === 'boolean' ? (value ? '1' : '0') : asString(value);
    case TypeOid.float4:
      return formatFloat(toNumber(value), 'float4');
    case TypeOid.float8:
      return formatFloat(toNumber(value), 'float8');
    case TypeOid.numeric:
      return formatDecimal(numericText(value));
    case TypeOid.bytea:
      return '\\x' + Buffer.from(toBytes(value)).toString('hex');
    case TypeOid.timestamp:
    case TypeOid.timestamptz:
      return formatTimestamp(toUnixMicros(value), typeOid === TypeOid.timestamptz);
    case TypeOid.date:
      return formatTimestamp(toUnixMicros(value), false).slice(0, 10);
    case TypeOid.uuid:
      return formatUuid(parseUuid(asString(value)));
    default:
      return asString(value);
  }
}

function encodeBinary(value: Exclude<SqlValue, null>, typeOid: number): Buffer {
  const fixed = (size: number, write: (b: Buffer) => void): Buffer => {
    const b = Buffer.allocUnsafe(size);
    write(b);
    return b;
  };
  switch (typeOid) {
    case TypeOid.bool:
      return Buffer.from([toBoolean(value) ? 1 : 0]);
    case TypeOid.int2:
      return fixed(2, (b) => b.writeInt16BE(Number(toBigInt(value)), 0));
    case TypeOid.int4:
      return fixed(4, (b) => b.writeInt32BE(Number(toBigInt(value)), 0));
    case TypeOid.oid:
      return fixed(4, (b) => b.writeUInt32BE(Number(toBigInt(value)), 0));
    case TypeOid.int8:
      return fixed(8, (b) => b.writeBigInt64BE(toBigInt(value), 0));
    case TypeOid.float4:
      return fixed(4, (b) => b.writeFloatBE(toNumber(value), 0));
    case TypeOid.float8:
      return fixed(8, (b) => b.writeDoubleBE(toNumber(value), 0));
    case TypeOid.numeric:
      return encodeNumericBinary(numericText(value));
    case TypeOid.bytea:
      return Buffer.from(toBytes(value));
    case TypeOid.timestamp:
    case TypeOid.timestamptz:
      return fixed(8, (b) => b.writeBigInt64BE(clampInt64(toUnixMicros(value) - PG_EPOCH_MICROS), 0));
    case TypeOid.date:
      return fixed(4, (b) => b.writeInt32BE(Number(toUnixMicros(value) / MICROS_PER_DAY) - PG_EPOCH_DAYS, 0));
    case TypeOid.uuid:
      return parseUuid(asString(value));
    case TypeOid.jsonb:
      return Buffer.concat([Buffer.from([1]), Buffer.from(asString(value), 'utf8')]);
    default:
      // text, varchar, bpchar, json and unknown types: binary form is the UTF-8 text.
      return Buffer.from(asString(value), 'utf8');
  }
}

function clampInt64(v: bigint): bigint {
  return v > INT64_MAX ? INT64_MAX : v < INT64_MIN ? INT64_MIN : v;
}

function asString(value: Exclude<SqlValue, null>): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return String(value);
}

function toBoolean(value: Exclude<SqlValue, null>): boolean {
  if (typeof value === 'string') return parseBool(value);
  if (value instanceof Uint8Array) return value.length > 0 && value[0] !== 0;
  return Boolean(value);
}

function toNumber(value: Exclude<SqlValue, null>): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return parseFloatText(asString(value));
}

function toBigInt(value: Exclude<SqlValue, null>): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SqlError('22003', 'integer out of range');
    return BigInt(Math.trunc(value));
  }
  if (typeof value === 'boolean') return value ? 1n : 0n;
  return parseInteger(asString(value), 'bigint', INT64_MIN, INT64_MAX, true);
}

function numericText(value: Exclude<SqlValue, null>): string {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  }
  return asString(value);
}

function toBytes(value: Exclude<SqlValue, null>): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return Buffer.from(asString(value), 'utf8');
}

function toUnixMicros(value: Exclude<SqlValue, null>): bigint {
  if (typeof value === 'number') return BigInt(Math.round(value * 1000));
  if (typeof value === 'bigint') return value * 1000n;
  return parseTimestamp(asString(value));
}

/**
 * float4/float8 text output as Postgres 12+ prints it: the shortest text that
 * reads back to the same value, positional for decimal exponents in
 * [-4, precision) and otherwise `d.ddde+XX` with at least two exponent digits.
 */
export function formatFloat(value: number, kind: 'float4' | 'float8'): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const exponential = kind === 'float8' ? value.toExponential() : shortestFloat4(value);
  const [mantissa, exponentText] = exponential.split('e') as [string, string];
  const exponent = Number(exponentText);
  const positionalLimit = kind === 'float8' ? 15 : 6;
  if (exponent < -4 || exponent >= positionalLimit) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  let text: string;
  if (exponent >= 0) {
    const intDigits = digits.padEnd(exponent + 1, '0');
    const intPart = intDigits.slice(0, exponent + 1);
    const frac = intDigits.slice(exponent + 1);
    text = frac === '' ? intPart : `${intPart}.${frac}`;
  } else {
    text = `0.${'0'.repeat(-exponent - 1)}${digits}`;
  }
  return (negative ? '-' : '') + text;
}

/** Shortest exponential form that rounds back to the same float4. */
function shortestFloat4(value: number): string {
  const target = Math.fround(value);
  for (let digits = 0; digits < 9; digits++) {
    const candidate = target.toExponential(digits);
    if (Math.fround(Number(candidate)) === target) return candidate;
  }
  return target.toExponential(8);
}
