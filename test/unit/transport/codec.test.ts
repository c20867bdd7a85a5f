import { describe, expect, it } from 'vitest';
import type { Message } from '../../../src/paxos/types.js';
import { ByteWriter } from '../../../src/transport/bytes.js';
import {
  DecodeError,
  decodeMessage,
  decodeValue,
  EncodeError,
  encodeMessage,
  encodeValue,
  MESSAGE_FORMAT_VERSION,
  MESSAGE_TYPE_CODES,
} from '../../../src/transport/codec.js';
import { ALL_MESSAGE_TYPES, anyRandomMessage, prng, randomMessage, randomValue } from './random-messages.js';

const SEED = Number(process.env['CODEC_SEED'] ?? 1234);

/** Decoding either yields a message or throws DecodeError; nothing else. */
function decodeOrDecodeError(bytes: Uint8Array): Message | DecodeError {
  try {
    return decodeMessage(bytes);
  } catch (err) {
    if (err instanceof DecodeError) return err;
    throw new Error(`decode threw ${String(err)} for bytes ${Buffer.from(bytes).toString('hex')}`);
  }
}

describe('message codec', () => {
  it(`round-trips random messages of every type (CODEC_SEED=${SEED})`, () => {
    const rand = prng(SEED);
    for (let i = 0; i < 3000; i++) {
      const type = ALL_MESSAGE_TYPES[i % ALL_MESSAGE_TYPES.length];
      if (type === undefined) throw new Error('no types');
      const msg = randomMessage(rand, type);
      const bytes = encodeMessage(msg);
      expect(bytes[0]).toBe(MESSAGE_FORMAT_VERSION);
      expect(bytes[1]).toBe(MESSAGE_TYPE_CODES[type]);
      expect(decodeMessage(bytes), `seed ${SEED} iteration ${i}`).toEqual(msg);
    }
  });

  it('gives every message type a distinct code', () => {
    const codes = Object.values(MESSAGE_TYPE_CODES);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.length).toBe(ALL_MESSAGE_TYPES.length);
  });

  it(`yields only messages or DecodeErrors for mutated encodings, and re-encodes what it accepts identically (CODEC_SEED=${SEED})`, () => {
    const rand = prng(SEED + 1);
    let accepted = 0;
    for (let i = 0; i < 20000; i++) {
      const bytes = Uint8Array.from(encodeMessage(anyRandomMessage(rand)));
      const mutations = 1 + Math.floor(rand() * 3);
      for (let m = 0; m < mutations; m++) {
        const at = Math.floor(rand() * bytes.length);
        bytes[at] = rand() < 0.5 ? Math.floor(rand() * 256) : (bytes[at] ?? 0) ^ (1 << Math.floor(rand() * 8));
      }
      const cut = rand() < 0.3 ? bytes.subarray(0, Math.floor(rand() * bytes.length)) : bytes;
      const result = decodeOrDecodeError(cut);
      if (!(result instanceof DecodeError)) {
        accepted++;
        // The encoding is canonical: anything accepted is exactly the encoding of what it decoded to.
        expect(Buffer.from(encodeMessage(result)).equals(cut), `seed ${SEED} iteration ${i}`).toBe(true);
      }
    }
    expect(accepted).toBeGreaterThan(0); // some mutations (e.g. of a command byte) stay valid
  });

  it(`yields only messages or DecodeErrors for random bytes (CODEC_SEED=${SEED})`, () => {
    const rand = prng(SEED + 2);
    for (let i = 0; i < 20000; i++) {
      const bytes = new Uint8Array(Math.floor(rand() * 64));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      // Give most inputs a valid header so the body decoders get exercised too.
      if (bytes.length >= 2 && rand() < 0.8) {
        bytes[0] = MESSAGE_FORMAT_VERSION;
        bytes[1] = 1 + Math.floor(rand() * ALL_MESSAGE_TYPES.length);
      }
      decodeOrDecodeError(bytes);
    }
  });

  it('refuses a huge count without allocating for it', () => {
    const w = new ByteWriter();
    w.u8(MESSAGE_FORMAT_VERSION);
    w.u8(MESSAGE_TYPE_CODES.accepted);
    w.uvarint(1);
    w.uvarint(2);
    w.uvarint(5); // ballot
    w.uvarint(1);
    w.uvarint(Number.MAX_SAFE_INTEGER); // slot count
    w.uvarint(1);
    expect(() => decodeMessage(w.finish())).toThrow(/count .* exceeds/);
  });

  it('refuses an unknown version, unknown type, trailing bytes and overlong varints', () => {
    const good = encodeMessage({ type: 'read-index', from: 1, to: 2, id: 7 });
    expect(() => decodeMessage(Uint8Array.from([99, ...good.subarray(1)]))).toThrow(/version 99/);
    expect(() => decodeMessage(Uint8Array.from([MESSAGE_FORMAT_VERSION, 200, 1, 2, 7]))).toThrow(/type code 200/);
    expect(() => decodeMessage(Uint8Array.from([...good, 0]))).toThrow(/trailing/);
    const overlong = Uint8Array.from([MESSAGE_FORMAT_VERSION, MESSAGE_TYPE_CODES['read-index'], 1, 2, 0x87, 0x00]);
    expect(() => decodeMessage(overlong)).toThrow(/overlong/);
    expect(() => decodeMessage(new Uint8Array(0))).toThrow(DecodeError);
  });

  it('encodes slots and rounds beyond 2^32 exactly', () => {
    const msg: Message = { type: 'accepted', from: 1, to: 2, ballot: { round: 2 ** 40 + 1, node: 3 }, slots: [2 ** 32, 2 ** 53 - 1, 0] };
    expect(decodeMessage(encodeMessage(msg))).toEqual(msg);
  });

  it('refuses to encode numbers it cannot represent', () => {
    expect(() => encodeMessage({ type: 'read-index', from: 1, to: 2, id: -1 })).toThrow(EncodeError);
    expect(() => encodeMessage({ type: 'read-index', from: 1, to: 2, id: 1.5 })).toThrow(EncodeError);
    expect(() => encodeMessage({ type: 'read-index', from: 1, to: 2, id: 2 ** 53 })).toThrow(EncodeError);
    expect(() => encodeMessage({ type: 'read-index-reply', from: 1, to: 2, id: 1, index: -2 })).toThrow(EncodeError);
    expect(() => encodeValue({ kind: 'batch', time: Number.NaN, commands: [] })).toThrow(EncodeError);
  });
});

describe('value codec', () => {
  it(`round-trips random values and returns plain, unaliased Uint8Arrays (CODEC_SEED=${SEED})`, () => {
    const rand = prng(SEED + 3);
    for (let i = 0; i < 2000; i++) {
      const v = randomValue(rand);
      const bytes = Buffer.from(encodeValue(v)); // as SQLite hands it back
      const decoded = decodeValue(bytes);
      expect(decoded).toEqual(v);
      if (decoded.kind === 'batch') {
        for (const c of decoded.commands) {
          expect(Object.getPrototypeOf(c)).toBe(Uint8Array.prototype);
          expect(c.buffer).not.toBe(bytes.buffer);
        }
      }
    }
  });

  it('refuses an unknown value format version', () => {
    const bytes = Uint8Array.from(encodeValue({ kind: 'noop' }));
    bytes[0] = 2;
    expect(() => decodeValue(bytes)).toThrow(/value format version 2/);
  });
});
