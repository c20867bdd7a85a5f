// Bounds-checked byte writer and reader used by every binary codec in the
// project (messages, values in the Paxos log, handshakes).
//
// Why a hand-written reader: decode() runs on bytes from the network and from
// disk. It must never throw anything but a DecodeError and must never allocate
// memory in proportion to a length field it has not checked against the bytes
// actually present. Every read below checks the remaining length first.

/** Bytes that are not a valid encoding. The only exception decode functions throw. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** A value that cannot be encoded (a programming error in the caller: e.g. a negative slot). */
export class EncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EncodeError';
  }
}

/** A varint holds at most 8 bytes of 7 bits = 56 bits, enough for any safe integer. */
const MAX_VARINT_BYTES = 8;

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.buf.buffer);
  }

  /** The bytes written so far (a copy-free view; do not write after taking it). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  u8(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new EncodeError(`not a byte: ${n}`);
    this.ensure(1);
    this.buf[this.len++] = n;
  }

  bool(b: boolean): void {
    this.u8(b ? 1 : 0);
  }

  u32(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new EncodeError(`not a uint32: ${n}`);
    this.ensure(4);
    this.view.setUint32(this.len, n);
    this.len += 4;
  }

  f64(n: number): void {
    if (!Number.isFinite(n)) throw new EncodeError(`not a finite number: ${n}`);
    this.ensure(8);
    this.view.setFloat64(this.len, n);
    this.len += 8;
  }

  /**
   * A non-negative safe integer as LEB128 (7 bits per byte, low bits first).
   * Arithmetic rather than bit operators, because those truncate to 32 bits
   * and slots and rounds may grow past 2^32.
   */
  uvarint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new EncodeError(`not a non-negative safe integer: ${n}`);
    this.ensure(MAX_VARINT_BYTES);
    let rest = n;
    while (rest >= 0x80) {
      this.buf[this.len++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buf[this.len++] = rest;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.raw(b);
  }

  /** Bytes without a length prefix. */
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  private ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

export class ByteReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  remaining(): number {
    return this.buf.length - this.pos;
  }

  /** Refuse trailing garbage: an encoding is exactly one value. */
  expectEnd(what: string): void {
    if (this.remaining() !== 0) throw new DecodeError(`${this.remaining()} trailing bytes after ${what}`);
  }

  u8(): number {
    this.need(1, 'byte');
    return this.buf[this.pos++] as number;
  }

  bool(): boolean {
    const b = this.u8();
    if (b > 1) throw new DecodeError(`bad boolean byte ${b}`);
    return b === 1;
  }

  u32(): number {
    this.need(4, 'uint32');
    const n = this.view.getUint32(this.pos);
    this.pos += 4;
    return n;
  }

  f64(): number {
    this.need(8, 'float64');
    const n = this.view.getFloat64(this.pos);
    this.pos += 8;
    if (!Number.isFinite(n)) throw new DecodeError(`non-finite float64`);
    return n;
  }

  /** The inverse of ByteWriter.uvarint; refuses overlong and out-of-range encodings. */
  uvarint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.u8();
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        // A last byte of 0 after the first means the writer would have stopped earlier.
        if (b === 0 && i > 0) throw new DecodeError('overlong varint');
        if (!Number.isSafeInteger(value)) throw new DecodeError('varint beyond 2^53');
        return value;
      }
      scale *= 0x80;
    }
    throw new DecodeError('varint longer than 8 bytes');
  }

  /** A count of items that each take at least `minItemBytes`, checked against what is left. */
  count(minItemBytes: number, what: string): number {
    const n = this.uvarint();
    if (n * minItemBytes > this.remaining()) {
      throw new DecodeError(`${what}: count ${n} exceeds the ${this.remaining()} bytes left`);
    }
    return n;
  }

  /** Length-prefixed bytes, copied so the result does not pin (or alias) the input buffer. */
  bytes(): Uint8Array {
    const n = this.uvarint();
    this.need(n, 'byte string');
    return this.take(n);
  }

  /** Exactly n bytes without a prefix (copied). */
  raw(n: number): Uint8Array {
    this.need(n, 'raw bytes');
    return this.take(n);
  }

  /**
   * A plain Uint8Array copy. Not `slice()`: on a Node Buffer that returns a
   * view sharing memory, and callers keep decoded commands long after the
   * frame (or SQLite row) they came from is gone.
   */
  private take(n: number): Uint8Array {
    const out = new Uint8Array(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining()) throw new DecodeError(`truncated ${what}: need ${n}, have ${this.remaining()}`);
  }
}
