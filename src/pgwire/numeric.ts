// Postgres NUMERIC in its binary wire form: a header of four Int16 (ndigits,
// weight, sign, dscale) then ndigits base-10000 digits, most significant first.
// The value is sum(digit[i] * 10000^(weight - i)); dscale is the number of
// decimal digits after the point to display.

import { SqlError } from '../sql/types.js';

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = 0xc000;
const NUMERIC_PINF = 0xd000;
const NUMERIC_NINF = 0xf000;

/** A decimal split into its parts; `digits` holds only decimal digits. */
interface DecimalParts {
  readonly negative: boolean;
  readonly integerDigits: string;
  readonly fractionDigits: string;
}

/**
 * Parses a decimal literal (optional sign, digits, optional fraction, optional
 * exponent) into plain integer and fraction digit strings. Throws 22P02.
 */
export function parseDecimal(text: string): DecimalParts {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(text);
  if (!m || (m[2] === '' && (m[3] === undefined || m[3] === ''))) {
    throw new SqlError('22P02', `invalid input syntax for type numeric: "${text}"`);
  }
  let integerDigits = m[2] ?? '';
  let fractionDigits = m[3] ?? '';
  const exponent = m[4] === undefined ? 0 : Number(m[4]);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 100_000) {
    throw new SqlError('22003', `value overflows numeric format: "${text}"`);
  }
  if (exponent > 0) {
    const moved = fractionDigits.padEnd(exponent, '0');
    integerDigits += moved.slice(0, exponent);
    fractionDigits = moved.slice(exponent);
  } else if (exponent < 0) {
    const moved = integerDigits.padStart(-exponent, '0');
    fractionDigits = moved.slice(moved.length + exponent) + fractionDigits;
    integerDigits = moved.slice(0, moved.length + exponent);
  }
  integerDigits = integerDigits.replace(/^0+/, '');
  return { negative: m[1] === '-', integerDigits, fractionDigits };
}

/** Canonical text form of a decimal literal, as numeric_out prints it. */
export function formatDecimal(text: string): string {
  const special = specialNumeric(text);
  if (special !== undefined) return special;
  const p = parseDecimal(text);
  const isZero = /^0*$/.test(p.integerDigits + p.fractionDigits);
  const sign = p.negative && !isZero ? '-' : '';
  const intPart = p.integerDigits === '' ? '0' : p.integerDigits;
  return sign + intPart + (p.fractionDigits === '' ? '' : '.' + p.fractionDigits);
}

function specialNumeric(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'nan') return 'NaN';
  if (t === 'infinity' || t === '+infinity' || t === 'inf') return 'Infinity';
  if (t === '-infinity' || t === '-inf') return '-Infinity';
  return undefined;
}

/** Encodes a decimal string (or NaN/Infinity) as binary NUMERIC. */
export function encodeNumericBinary(text: string): Buffer {
  const special = specialNumeric(text);
  if (special !== undefined) {
    const sign = special === 'NaN' ? NUMERIC_NAN : special === 'Infinity' ? NUMERIC_PINF : NUMERIC_NINF;
    return header(0, 0, sign, 0);
  }
  const p = parseDecimal(text);
  const dscale = p.fractionDigits.length;
  if (dscale > 0x3fff) throw new SqlError('22003', 'numeric scale out of range');
  // Align both parts to groups of four decimal digits around the point.
  const intAligned = p.integerDigits.padStart(Math.ceil(p.integerDigits.length / 4) * 4, '0');
  const fracAligned = p.fractionDigits.padEnd(Math.ceil(p.fractionDigits.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intAligned.length; i += 4) groups.push(Number(intAligned.slice(i, i + 4)));
  for (let i = 0; i < fracAligned.length; i += 4) groups.push(Number(fracAligned.slice(i, i + 4)));
  let weight = intAligned.length / 4 - 1;
  // Strip zero groups at both ends; leading ones lower the weight.
  let start = 0;
  while (start < groups.length && groups[start] === 0) {
    start++;
    weight--;
  }
  let end = groups.length;
  while (end > start && groups[end - 1] === 0) end--;
  const digits = groups.slice(start, end);
  if (digits.length === 0) return header(0, 0, NUMERIC_POS, dscale);
  if (digits.length > 0x7fff || weight > 0x7fff || weight < -0x8000) {
    throw new SqlError('22003', 'value overflows numeric format');
  }
  const out = Buffer.allocUnsafe(8 + digits.length * 2);
  header(digits.length, weight, p.negative ? NUMERIC_NEG : NUMERIC_POS, dscale).copy(out, 0);
  digits.forEach((d, i) => out.writeInt16BE(d, 8 + i * 2));
  return out;
}

function header(ndigits: number, weight: number, sign: number, dscale: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeInt16BE(ndigits, 0);
  b.writeInt16BE(weight, 2);
  b.writeUInt16BE(sign, 4);
  b.writeInt16BE(dscale, 6);
  return b;
}

/** Decodes binary NUMERIC to its canonical text form. Throws 22P03 on malformed input. */
export function decodeNumericBinary(buf: Buffer): string {
  if (buf.length < 8) throw new SqlError('22P03', 'insufficient data left in message for numeric');
  const ndigits = buf.readInt16BE(0);
  const weight = buf.readInt16BE(2);
  const sign = buf.readUInt16BE(4);
  const dscale = buf.readInt16BE(6);
  if (sign === NUMERIC_NAN) return 'NaN';
  if (sign === NUMERIC_PINF) return 'Infinity';
  if (sign === NUMERIC_NINF) return '-Infinity';
  if (sign !== NUMERIC_POS && sign !== NUMERIC_NEG) throw new SqlError('22P03', 'invalid sign in external "numeric" value');
  if (ndigits < 0 || dscale < 0 || buf.length !== 8 + ndigits * 2) {
    throw new SqlError('22P03', 'invalid external "numeric" value');
  }
  const digits: number[] = [];
  for (let i = 0; i < ndigits; i++) {
    const d = buf.readInt16BE(8 + i * 2);
    if (d < 0 || d > 9999) throw new SqlError('22P03', 'invalid digit in external "numeric" value');
    digits.push(d);
  }
  const digitAt = (position: number): number => {
    const index = weight - position;
    return index >= 0 && index < ndigits ? digits[index]! : 0;
  };
  let intPart = '';
  for (let pos = weight; pos >= 0; pos--) intPart += String(digitAt(pos)).padStart(4, '0');
  intPart = intPart.replace(/^0+/, '') || '0';
  let fracPart = '';
  for (let pos = -1; fracPart.length < dscale; pos--) fracPart += String(digitAt(pos)).padStart(4, '0');
  fracPart = fracPart.slice(0, dscale);
  const isZero = /^0*$/.test(intPart + fracPart);
  const signText = sign === NUMERIC_NEG && !isZero ? '-' : '';
  return signText + intPart + (dscale > 0 ? '.' + fracPart : '');
}
