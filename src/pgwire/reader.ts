// Incremental framing of frontend messages. TCP hands us arbitrary chunks: one
// message may span many chunks and one chunk may hold many messages. Chunks
// are kept in a list (no repeated concatenation of the whole backlog) and only
// the bytes of one complete message are copied out, when it is complete.

/** A complete frontend message. `type` is 0 for the untyped startup-phase packets. */
export interface FrontendMessage {
  readonly type: number;
  readonly body: Buffer;
}

/** Result of trying to frame the next message. */
export type FrameResult =
  | { readonly kind: 'message'; readonly message: FrontendMessage }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid'; readonly reason: string };

export class ChunkReader {
  private readonly chunks: Buffer[] = [];
  /** Offset of the first unread byte inside chunks[0]. */
  private headOffset = 0;
  private available = 0;

  get bufferedBytes(): number {
    return this.available;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.available += chunk.length;
  }

  /**
   * Frames the next message. With `typed` false (startup phase) the message is
   * a bare Int32 length followed by the body; otherwise a type byte comes first.
   * The length counts itself, so anything below 4 is a protocol violation, and
   * anything above `maxBodyBytes` is rejected before its body is buffered.
   */
  next(typed: boolean, maxBodyBytes: number): FrameResult {
    const headerBytes = typed ? 5 : 4;
    if (this.available < headerBytes) return { kind: 'incomplete' };
    const header = this.peek(headerBytes);
    const type = typed ? header[0]! : 0;
    const length = header.readInt32BE(typed ? 1 : 0);
    if (length < 4) return { kind: 'invalid', reason: `invalid message length ${length}` };
    const bodyBytes = length - 4;
    if (bodyBytes > maxBodyBytes) {
      return { kind: 'invalid', reason: `message of ${bodyBytes} bytes exceeds the limit of ${maxBodyBytes} bytes` };
    }
    if (this.available < headerBytes + bodyBytes) return { kind: 'incomplete' };
    this.skip(headerBytes);
    const body = this.take(bodyBytes);
    return { kind: 'message', message: { type, body } };
  }

  /** Drops everything buffered (used once a connection is being closed). */
  clear(): void {
    this.chunks.length = 0;
    this.headOffset = 0;
    this.available = 0;
  }

  /** Removes and returns everything buffered, e.g. to hand to a TLS socket. */
  drain(): Buffer {
    const all = this.take(this.available);
    return all;
  }

  private peek(count: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.headOffset >= count) {
      return first.subarray(this.headOffset, this.headOffset + count);
    }
    return this.copyOut(count, false);
  }

  private take(count: number): Buffer {
    if (count === 0) return Buffer.alloc(0);
    const first = this.chunks[0]!;
    if (first.length - this.headOffset >= count) {
      const view = first.subarray(this.headOffset, this.headOffset + count);
      this.skip(count);
      return view;
    }
    return this.copyOut(count, true);
  }

  /** Copies `count` bytes spanning several chunks, optionally consuming them. */
  private copyOut(count: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(count);
    let written = 0;
    let index = 0;
    let offset = this.headOffset;
    while (written < count) {
      const chunk = this.chunks[index]!;
      const n = Math.min(chunk.length - offset, count - written);
      chunk.copy(out, written, offset, offset + n);
      written += n;
      index += 1;
      offset = 0;
    }
    if (consume) this.skip(count);
    return out;
  }

  private skip(count: number): void {
    if (count > this.available) throw new Error(`ChunkReader: skip ${count} > available ${this.available}`);
    this.available -= count;
    let remaining = count;
    while (remaining > 0) {
      const first = this.chunks[0]!;
      const left = first.length - this.headOffset;
      if (left > remaining) {
        this.headOffset += remaining;
        return;
      }
      remaining -= left;
      this.chunks.shift();
      this.headOffset = 0;
    }
  }
}

/** Reads fields out of one message body; every read checks bounds and throws ProtocolViolation. */
export class BodyReader {
  private offset = 0;
  constructor(private readonly body: Buffer) {}

  get remaining(): number {
    return this.body.length - this.offset;
  }

  int8(): number {
    this.need(1);
    const v = this.body.readInt8(this.offset);
    this.offset += 1;
    return v;
  }

  int16(): number {
    this.need(2);
    const v = this.body.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.body.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  /** A NUL-terminated UTF-8 string. */
  cstring(): string {
    const end = this.body.indexOf(0, this.offset);
    if (end < 0) throw new ProtocolViolation('unterminated string in message');
    const s = this.body.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }

  bytes(count: number): Buffer {
    if (count < 0) throw new ProtocolViolation(`invalid byte count ${count}`);
    this.need(count);
    const v = this.body.subarray(this.offset, this.offset + count);
    this.offset += count;
    return v;
  }

  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** Asserts the whole body was consumed, as Postgres does ("invalid message format"). */
  end(): void {
    if (this.remaining !== 0) throw new ProtocolViolation('invalid message format');
  }

  private need(count: number): void {
    if (this.offset + count > this.body.length) throw new ProtocolViolation('invalid message format');
  }
}

/** A malformed frontend message: answered with 08P01 and the connection is closed. */
export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}
