// Seeded generators of random Paxos messages for codec and transport tests.

import { createRandom } from '../../../src/util/random.js';
import type { Ballot, Message, MessageType, NodeId, Value } from '../../../src/paxos/types.js';
import { MESSAGE_TYPE_CODES } from '../../../src/transport/codec.js';

export type Rand = () => number;

/** A seeded source uniform in [0, 1), from the project's PRNG. */
export function prng(seed: number): Rand {
  const random = createRandom(seed);
  return () => random.next();
}

export const ALL_MESSAGE_TYPES = Object.keys(MESSAGE_TYPE_CODES) as MessageType[];

function int(rand: Rand, max: number): number {
  return Math.floor(rand() * max);
}

/** Mostly small numbers, sometimes huge ones near 2^53, to exercise every varint width. */
function num(rand: Rand): number {
  const r = rand();
  if (r < 0.5) return int(rand, 200);
  if (r < 0.8) return int(rand, 2 ** 32);
  if (r < 0.95) return int(rand, Number.MAX_SAFE_INTEGER);
  return Number.MAX_SAFE_INTEGER - int(rand, 3);
}

function ballot(rand: Rand): Ballot {
  return { round: num(rand), node: int(rand, 10) };
}

function bytes(rand: Rand, maxLen: number): Uint8Array {
  const b = new Uint8Array(int(rand, maxLen));
  for (let i = 0; i < b.length; i++) b[i] = int(rand, 256);
  return b;
}

function list<T>(rand: Rand, max: number, make: () => T): T[] {
  return Array.from({ length: int(rand, max + 1) }, make);
}

export function randomValue(rand: Rand): Value {
  if (rand() < 0.2) return { kind: 'noop' };
  const time = rand() < 0.5 ? 1.7e12 + int(rand, 1e9) : rand() * 1e6 - 5e5;
  return { kind: 'batch', time, commands: list(rand, 4, () => bytes(rand, 64)) };
}

export function randomMessage(rand: Rand, type: MessageType, from: NodeId = 1 + int(rand, 5), to: NodeId = 1 + int(rand, 5)): Message {
  switch (type) {
    case 'prevote':
      return { type, from, to, round: num(rand), commit: num(rand), fresh: rand() < 0.5 };
    case 'prevote-reply':
      return { type, from, to, round: num(rand), granted: rand() < 0.5, fresh: rand() < 0.5 };
    case 'prepare':
      return { type, from, to, ballot: ballot(rand), fromSlot: num(rand) };
    case 'promise':
      return {
        type, from, to, ballot: ballot(rand), fromSlot: num(rand), commit: num(rand),
        entries: list(rand, 5, () => ({ slot: num(rand), ballot: ballot(rand), value: randomValue(rand), chosen: rand() < 0.5 })),
      };
    case 'accept':
      return { type, from, to, ballot: ballot(rand), entries: list(rand, 5, () => ({ slot: num(rand), value: randomValue(rand) })), commit: num(rand) };
    case 'accepted':
      return { type, from, to, ballot: ballot(rand), slots: list(rand, 10, () => num(rand)) };
    case 'nack':
      return { type, from, to, ballot: ballot(rand), promised: ballot(rand) };
    case 'heartbeat':
      return { type, from, to, ballot: ballot(rand), commit: num(rand), readSeq: num(rand), nextSlot: num(rand) };
    case 'heartbeat-ack':
      return { type, from, to, ballot: ballot(rand), readSeq: num(rand), commit: num(rand) };
    case 'catchup':
      return { type, from, to, fromSlot: num(rand), toSlot: num(rand) };
    case 'chosen':
      return { type, from, to, entries: list(rand, 5, () => ({ slot: num(rand), value: randomValue(rand) })), commit: num(rand) };
    case 'forward':
      return { type, from, to, commands: list(rand, 5, () => bytes(rand, 100)) };
    case 'read-index':
      return { type, from, to, id: num(rand) };
    case 'read-index-reply':
      return { type, from, to, id: num(rand), index: rand() < 0.2 ? -1 : Math.min(num(rand), Number.MAX_SAFE_INTEGER - 1) };
    case 'snapshot-offer':
      return { type, from, to, slot: num(rand) };
    case 'snapshot-request':
      return { type, from, to, slot: num(rand), offset: num(rand) };
    case 'snapshot-chunk':
      return { type, from, to, slot: num(rand), offset: num(rand), total: num(rand), digest: bytes(rand, 33), data: bytes(rand, 200) };
    case 'tx-request':
    case 'tx-response':
      return { type, from, to, id: num(rand), payload: bytes(rand, 200) };
    default: {
      const unknown: never = type;
      throw new Error(`no generator for ${String(unknown)}`);
    }
  }
}

export function anyRandomMessage(rand: Rand, from?: NodeId, to?: NodeId): Message {
  return randomMessage(rand, ALL_MESSAGE_TYPES[int(rand, ALL_MESSAGE_TYPES.length)] as MessageType, from, to);
}
