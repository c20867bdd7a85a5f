// Value codecs, framing and COPY parsing, without sockets.

import { describe, expect, it } from 'vitest';
import { CopyRowParser, CSV_COPY_FORMAT, encodeCopyRow, parseCopyStatement, TEXT_COPY_FORMAT } from '../../../src/pgwire/copy.js';
import { decodeNumericBinary, encodeNumericBinary } from '../../../src/pgwire/numeric.js';
import { ChunkReader } from '../../../src/pgwire/reader.js';
import { decodeParam, encodeValue, formatFloat, TypeOid } from '../../../src/pgwire/types.js';
import { SqlError } from '../../../src/sql/types.js';

function numericHeader(buf: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < buf.length; i += 2) out.push(i === 4 ? buf.readUInt16BE(i) : buf.readInt16BE(i));
  return out;
}

describe('binary numeric', () => {
  it('encodes base-10000 digits with weight, sign and display scale', () => {
    // [ndigits, weight, sign, dscale, ...digits]
    expect(numericHeader(encodeNumericBinary('12345.678'))).toEqual([3, 1, 0, 3, 1, 2345, 6780]);
    expect(numericHeader(encodeNumericBinary('0.0001'))).toEqual([1, -1, 0, 4, 1]);
    expect(numericHeader(encodeNumericBinary('-1000000'))).toEqual([1, 1, 0x4000, 0, 100]);
    expect(numericHeader(encodeNumericBinary('0'))).toEqual([0, 0, 0, 0]);
    expect(numericHeader(encodeNumericBinary('0.00'))).toEqual([0, 0, 0, 2]);
    expect(numericHeader(encodeNumericBinary('NaN'))).toEqual([0, 0, 0xc000, 0]);
    expect(numericHeader(encodeNumericBinary('-Infinity'))).toEqual([0, 0, 0xf000, 0]);
    expect(numericHeader(encodeNumericBinary('1.5e3'))).toEqual([1, 0, 0, 0, 1500]);
  });

  it('decodes what it encodes for seeded random decimals', () => {
    const seed = 20240601;
    let state = seed;
    const next = (n: number): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state % n;
    };
    for (let i = 0; i < 2000; i++) {
      const intDigits = next(25);
      const fracDigits = next(25);
      const digits = (n: number): string => Array.from({ length: n }, () => String(next(10))).join('');
      const int = (digits(intDigits).replace(/^0+/, '') || '0');
      const text = (next(2) === 0 ? '-' : '') + int + (fracDigits > 0 ? '.' + digits(fracDigits) : '');
      const expected = /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
      expect(decodeNumericBinary(encodeNumericBinary(text)), `seed ${seed} value ${text}`).toBe(expected);
    }
  });

  it('rejects malformed binary numerics with 22P03', () => {
    expect(() => decodeNumericBinary(Buffer.from([0, 1, 0, 0]))).toThrow(SqlError);
    const badDigit = Buffer.from([0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10]);
    expect(() => decodeNumericBinary(badDigit)).toThrow(/invalid digit/);
  });
});

describe('text output', () => {
  it('prints floats like Postgres 12+', () => {
    expect(formatFloat(0.1, 'float8')).toBe('0.1');
    expect(formatFloat(100, 'float8')).toBe('100');
    expect(formatFloat(1e15, 'float8')).toBe('1e+15');
    expect(formatFloat(123456789012345, 'float8')).toBe('123456789012345');
    expect(formatFloat(1.5e-7, 'float8')).toBe('1.5e-07');
    expect(formatFloat(-2.5e300, 'float8')).toBe('-2.5e+300');
    expect(formatFloat(NaN, 'float8')).toBe('NaN');
    expect(formatFloat(-Infinity, 'float8')).toBe('-Infinity');
    expect(formatFloat(-0, 'float8')).toBe('-0');
    expect(formatFloat(0.1, 'float4')).toBe('0.1');
    expect(formatFloat(123456789, 'float4')).toBe('1.2345679e+08');
    expect(formatFloat(3.14159, 'float4')).toBe('3.14159');
  });

  it('prints bool, bytea and timestamps in Postgres text form', () => {
    const text = (v: Parameters<typeof encodeValue>[0], oid: number): string | undefined => encodeValue(v, oid, 0)?.toString();
    expect(text(1, TypeOid.bool)).toBe('t');
    expect(text(0n, TypeOid.bool)).toBe('f');
    expect(text(new Uint8Array([0xde, 0xad]), TypeOid.bytea)).toBe('\\xdead');
    expect(text('2024-03-04 05:06:07', TypeOid.timestamptz)).toBe('2024-03-04 05:06:07+00');
    expect(text(Date.UTC(2024, 2, 4, 5, 6, 7, 890), TypeOid.timestamp)).toBe('2024-03-04 05:06:07.89');
    expect(text('0099-01-01 00:00:00', TypeOid.timestamp)).toBe('0099-01-01 00:00:00');
    expect(encodeValue(null, TypeOid.int4, 0)).toBeNull();
  });
});

describe('binary encodings', () => {
  const hex = (v: Parameters<typeof encodeValue>[0], oid: number): string | undefined => encodeValue(v, oid, 1)?.toString('hex');

  it('encodes each type as Postgres sends it', () => {
    expect(hex(true, TypeOid.bool)).toBe('01');
    expect(hex(-2, TypeOid.int2)).toBe('fffe');
    expect(hex(1, TypeOid.int4)).toBe('00000001');
    expect(hex(-1n, TypeOid.int8)).toBe('ffffffffffffffff');
    expect(hex(1.5, TypeOid.float4)).toBe('3fc00000');
    expect(hex(1.5, TypeOid.float8)).toBe('3ff8000000000000');
    expect(hex('hi', TypeOid.text)).toBe('6869');
    expect(hex('{}', TypeOid.json)).toBe('7b7d');
    expect(hex('{}', TypeOid.jsonb)).toBe('017b7d');
    expect(hex('2000-01-02', TypeOid.date)).toBe('00000001');
    expect(hex('2000-01-01 00:00:01', TypeOid.timestamp)).toBe('00000000000f4240');
    expect(hex('1999-12-31 23:59:59.999999+00', TypeOid.timestamptz)).toBe('ffffffffffffffff');
    expect(hex('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', TypeOid.uuid)).toBe('a0eebc999c0b4ef8bb6d6bb9bd380a11');
  });

  it('decodes binary parameters into the documented SqlValues', () => {
    const bin = (h: string, oid: number): unknown => decodeParam(Buffer.from(h, 'hex'), oid, 1);
    expect(bin('01', TypeOid.bool)).toBe(true);
    expect(bin('fffe', TypeOid.int2)).toBe(-2);
    expect(bin('ffffffffffffffff', TypeOid.int8)).toBe(-1n);
    expect(bin('0000000000000000', TypeOid.timestamptz)).toBe('2000-01-01 00:00:00+00');
    expect(bin('ffffffff', TypeOid.date)).toBe('1999-12-31');
    expect(bin('017b7d', TypeOid.jsonb)).toBe('{}');
    expect(() => bin('027b7d', TypeOid.jsonb)).toThrow(/jsonb version/);
    expect(() => bin('0001', TypeOid.int4)).toThrow(SqlError);
    expect(decodeParam(Buffer.from('\\x00ff'), TypeOid.bytea, 0)).toEqual(new Uint8Array([0, 255]));
    expect(decodeParam(Buffer.from('a\\\\b\\001'), TypeOid.bytea, 0)).toEqual(new Uint8Array([0x61, 0x5c, 0x62, 1]));
  });
});

describe('ChunkReader', () => {
  const frame = (type: string, body: string): Buffer => {
    const b = Buffer.alloc(5 + body.length);
    b.write(type, 0, 'latin1');
    b.writeInt32BE(4 + body.length, 1);
    b.write(body, 5, 'latin1');
    return b;
  };

  it('frames several messages from one chunk and one message from many chunks', () => {
    const reader = new ChunkReader();
    reader.push(Buffer.concat([frame('Q', 'one\0'), frame('Q', 'two\0'), frame('S', '')]));
    const bodies: string[] = [];
    for (let r = reader.next(true, 100); r.kind === 'message'; r = reader.next(true, 100)) bodies.push(r.message.body.toString('latin1'));
    expect(bodies).toEqual(['one\0', 'two\0', '']);
    const split = frame('Q', 'split across chunks\0');
    for (const byte of split.subarray(0, split.length - 1)) {
      reader.push(Buffer.from([byte]));
      expect(reader.next(true, 100).kind).toBe('incomplete');
    }
    reader.push(split.subarray(split.length - 1));
    const r = reader.next(true, 100);
    expect(r.kind === 'message' && r.message.body.toString('latin1')).toBe('split across chunks\0');
    expect(reader.bufferedBytes).toBe(0);
  });

  it('rejects bad and oversized lengths as soon as the header is in', () => {
    const reader = new ChunkReader();
    reader.push(Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]));
    expect(reader.next(true, 1000).kind).toBe('invalid');
    const small = new ChunkReader();
    small.push(Buffer.from([0x51, 0, 0, 0, 3]));
    expect(small.next(true, 1000).kind).toBe('invalid');
  });
});

describe('COPY data', () => {
  it('parses text format with escapes, NULL and the end marker, across chunk boundaries', () => {
    const parser = new CopyRowParser(TEXT_COPY_FORMAT, 1000);
    const input = Buffer.from('1\ta\\tb\\\\c\t\\N\n2\tcafé\t\\x41\n\\.\nignored\n');
    const rows = [];
    for (let i = 0; i < input.length; i += 3) rows.push(...parser.push(input.subarray(i, i + 3)));
    rows.push(...parser.end());
    expect(rows).toEqual([
      ['1', 'a\tb\\c', null],
      ['2', 'café', 'A'],
    ]);
  });

  it('parses CSV with a header, quotes, doubled quotes, embedded newlines and a final line without newline', () => {
    const parser = new CopyRowParser({ ...CSV_COPY_FORMAT, header: true }, 1000);
    const rows = [...parser.push(Buffer.from('a,b\n"x ""q""",\n"line1\nli')), ...parser.push(Buffer.from('ne2",""\n3,4')), ...parser.end()];
    expect(rows).toEqual([
      ['x "q"', null],
      ['line1\nline2', ''],
      ['3', '4'],
    ]);
  });

  it('bounds a row that never ends', () => {
    const parser = new CopyRowParser(TEXT_COPY_FORMAT, 10);
    expect(() => parser.push(Buffer.from('x'.repeat(20)))).toThrow(/longer than/);
  });

  it('encodes rows for COPY TO', () => {
    expect(encodeCopyRow(['a\tb', null, 'c\\'], TEXT_COPY_FORMAT)).toBe('a\\tb\t\\N\tc\\\\\n');
    expect(encodeCopyRow(['a,b', null, '', 'q"'], CSV_COPY_FORMAT)).toBe('"a,b",,"","q"""\n');
  });

  it('recognises COPY statements and their options', () => {
    expect(parseCopyStatement('COPY t FROM STDIN')).toMatchObject({ direction: 'from-stdin', table: 't', columns: null, format: { format: 'text' } });
    expect(parseCopyStatement('copy public."My T" (a, "b") from stdin with (format csv, header true, delimiter \';\');')).toMatchObject({
      table: 'public.My T',
      columns: ['a', 'b'],
      format: { format: 'csv', header: true, delimiter: ';' },
    });
    expect(parseCopyStatement('COPY t TO STDOUT CSV HEADER')).toMatchObject({ direction: 'to-stdout', format: { format: 'csv', header: true } });
    expect(parseCopyStatement("COPY (SELECT ')' AS p, f(x) FROM t) TO STDOUT WITH (FORMAT csv)")).toMatchObject({
      direction: 'to-stdout',
      query: "SELECT ')' AS p, f(x) FROM t",
      format: { format: 'csv' },
    });
    expect(parseCopyStatement('COPY t FROM STDIN WITH (FREEZE ON)')).toMatchObject({ direction: 'from-stdin', table: 't' });
    expect(parseCopyStatement("COPY t FROM '/etc/passwd'")).toBeUndefined();
    expect(parseCopyStatement('SELECT 1')).toBeUndefined();
    expect(() => parseCopyStatement('COPY t FROM STDIN (FORMAT binary)')).toThrow(expect.objectContaining({ code: '0A000' }));
    expect(() => parseCopyStatement('COPY t FROM STDIN (FORMAT xml)')).toThrow(expect.objectContaining({ code: '42601' }));
  });
});
