// Framing on node-to-node TCP connections: every frame is a uint32 big-endian
// payload length followed by the payload. The first frame on a connection is a
// handshake; every later frame is one encoded Message.

import type { NodeId } from '../paxos/types.js';
import { ByteReader, ByteWriter, DecodeError } from './bytes.js';

/** A stream that breaks the framing rules; the connection cannot be resynchronized. */
export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

const LENGTH_BYTES = 4;

export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(LENGTH_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.set(payload, LENGTH_BYTES);
  return frame;
}

/**
 * Splits a byte stream into frames. Holds at most one partial frame, so its
 * memory is bounded by maxFrameBytes: a length above that is refused before
 * any of the frame is buffered.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes: number) {
    if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 1 || maxFrameBytes > 0xffffffff) {
      throw new RangeError(`bad maxFrameBytes ${maxFrameBytes}`);
    }
  }

  /** Add bytes from the socket; returns the frames they complete, in order. Throws FrameError. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < LENGTH_BYTES) return frames;
      const length = this.peekLength();
      if (length === 0) throw new FrameError('empty frame');
      if (length > this.maxFrameBytes) throw new FrameError(`frame of ${length} bytes exceeds ${this.maxFrameBytes}`);
      if (this.buffered < LENGTH_BYTES + length) return frames;
      this.consume(LENGTH_BYTES);
      frames.push(this.consume(length));
    }
  }

  private peekLength(): number {
    const first = this.chunks[0] as Buffer;
    if (first.length >= LENGTH_BYTES) return first.readUInt32BE(0);
    this.chunks = [Buffer.concat(this.chunks)];
    return (this.chunks[0] as Buffer).readUInt32BE(0);
  }

  /** Removes and returns the next n buffered bytes (n <= buffered). */
  private consume(n: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0] as Buffer;
      const take = Math.min(head.length, n - filled);
      head.copy(out, filled, 0, take);
      filled += take;
      if (take === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(take);
    }
    this.buffered -= n;
    return out;
  }
}

// ---------------------------------------------------------------------------
// Handshake: the dialing node says who it is, which node it meant to reach and
// which cluster it belongs to, so the receiver can refuse strangers and
// misconfigured peers before reading any message.

const HANDSHAKE_MAGIC = Buffer.from('PXQL', 'ascii');
export const HANDSHAKE_VERSION = 1;
const MAX_CLUSTER_ID_BYTES = 255;

export interface Handshake {
  readonly clusterId: string;
  readonly from: NodeId;
  readonly to: NodeId;
}

export function encodeHandshake(h: Handshake): Uint8Array {
  const id = Buffer.from(h.clusterId, 'utf8');
  if (id.length > MAX_CLUSTER_ID_BYTES) throw new RangeError(`cluster id longer than ${MAX_CLUSTER_ID_BYTES} bytes`);
  const w = new ByteWriter(16 + id.length);
  w.raw(HANDSHAKE_MAGIC);
  w.u8(HANDSHAKE_VERSION);
  w.bytes(id);
  w.uvarint(h.from);
  w.uvarint(h.to);
  return w.finish();
}

/** Throws DecodeError for anything that is not a version-1 handshake. */
export function decodeHandshake(bytes: Uint8Array): Handshake {
  const r = new ByteReader(bytes);
  if (!Buffer.from(r.raw(HANDSHAKE_MAGIC.length)).equals(HANDSHAKE_MAGIC)) throw new DecodeError('bad handshake magic');
  const version = r.u8();
  if (version !== HANDSHAKE_VERSION) throw new DecodeError(`unsupported handshake version ${version}`);
  const id = r.bytes();
  if (id.length > MAX_CLUSTER_ID_BYTES) throw new DecodeError('cluster id too long');
  const clusterId = Buffer.from(id).toString('utf8');
  const from = r.uvarint();
  const to = r.uvarint();
  r.expectEnd('handshake');
  return { clusterId, from, to };
}
