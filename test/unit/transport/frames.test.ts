import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../../src/transport/backoff.js';
import { DropOldestQueue } from '../../../src/transport/bounded-queue.js';
import { DecodeError } from '../../../src/transport/bytes.js';
import { decodeHandshake, encodeFrame, encodeHandshake, FrameDecoder, FrameError } from '../../../src/transport/frames.js';
import { prng } from './random-messages.js';

const SEED = Number(process.env['FRAMES_SEED'] ?? 99);

describe('FrameDecoder', () => {
  it(`reassembles frames from arbitrary chunk boundaries (FRAMES_SEED=${SEED})`, () => {
    const rand = prng(SEED);
    for (let round = 0; round < 200; round++) {
      const payloads = Array.from({ length: 1 + Math.floor(rand() * 20) }, () =>
        Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 300) }, () => Math.floor(rand() * 256))),
      );
      const stream = Buffer.concat(payloads.map(encodeFrame));
      const decoder = new FrameDecoder(1024);
      const got: Buffer[] = [];
      for (let at = 0; at < stream.length; ) {
        const size = 1 + Math.floor(rand() * (rand() < 0.5 ? 5 : 700));
        got.push(...decoder.push(stream.subarray(at, at + size)));
        at += size;
      }
      expect(got.map((b) => b.toString('hex')), `seed ${SEED} round ${round}`).toEqual(payloads.map((b) => b.toString('hex')));
    }
  });

  it('refuses a frame longer than the maximum before buffering it, and an empty frame', () => {
    expect(() => new FrameDecoder(100).push(Buffer.from([0, 0, 0, 101]))).toThrow(FrameError);
    expect(() => new FrameDecoder(100).push(Buffer.from([0, 0, 0, 0]))).toThrow(/empty/);
    expect(new FrameDecoder(100).push(Buffer.from([0, 0, 0, 100, 1]))).toEqual([]);
  });
});

describe('handshake', () => {
  it('round-trips and refuses bad magic, versions and trailing bytes', () => {
    const hs = { clusterId: 'prod-é', from: 3, to: 1 };
    const bytes = encodeHandshake(hs);
    expect(decodeHandshake(bytes)).toEqual(hs);
    expect(() => decodeHandshake(Uint8Array.from([...bytes, 0]))).toThrow(DecodeError);
    const badMagic = Uint8Array.from(bytes);
    badMagic[0] = 0;
    expect(() => decodeHandshake(badMagic)).toThrow(/magic/);
    const badVersion = Uint8Array.from(bytes);
    badVersion[4] = 9;
    expect(() => decodeHandshake(badVersion)).toThrow(/version 9/);
    expect(() => decodeHandshake(bytes.subarray(0, 6))).toThrow(DecodeError);
  });
});

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with jitter in the upper half', () => {
    const opts = { initialMs: 10, maxMs: 1000 };
    expect(backoffDelay(0, opts, () => 0)).toBe(5);
    expect(backoffDelay(0, opts, () => 0.999999)).toBeCloseTo(10, 3);
    expect(backoffDelay(3, opts, () => 0)).toBe(40);
    expect(backoffDelay(50, opts, () => 0.5)).toBe(750);
    expect(backoffDelay(1e9, opts, () => 0)).toBe(500);
  });
});

describe('DropOldestQueue', () => {
  it('drops the oldest items beyond its count and weight bounds and counts them', () => {
    const q = new DropOldestQueue<number>(3, 10, (n) => n);
    for (const n of [1, 2, 3, 4]) q.push(n);
    expect(q.dropped).toBe(1);
    q.push(6); // 4 items > 3: drops 2; then 3+4+6 = 13 > 10: drops 3; 4+6 = 10 fits
    expect(q.dropped).toBe(3);
    expect(q.weight).toBe(10);
    q.push(50); // alone above the weight bound: kept, everything older dropped
    expect(q.drain()).toEqual([50]);
    expect(q.dropped).toBe(5);
    expect(q.length).toBe(0);
    expect(q.weight).toBe(0);
  });

  it('keeps FIFO order across interleaved pushes and shifts', () => {
    const q = new DropOldestQueue<number>(1000);
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.push(i);
      if (i % 3 === 0) out.push(q.shift() as number);
    }
    out.push(...q.drain());
    expect(out.every((n, i) => i === 0 || n > (out[i - 1] as number))).toBe(true);
    expect(out.at(-1)).toBe(4999);
    expect(out.length + q.dropped).toBe(5000);
  });
});
