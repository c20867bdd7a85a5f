// Versioned binary codec for the Paxos core's data: ballots, values (also used
// by src/storage/ for the log on disk) and every message type.
//
// Layout of an encoded message: [format version u8][type code u8][from][to][fields...]
// Integers that are slots, rounds, counts or ids are LEB128 varints of safe
// integers (compact for small numbers, exact up to 2^53); the batch time is a
// float64. Decoding is strict: unknown versions or types, trailing bytes,
// overlong varints and lengths beyond the input are all DecodeErrors.
//
// Adding a message type to src/paxos/types.ts makes `MESSAGE_TYPE_CODES`
// below fail to compile until the new type gets a code, and the `never`
// checks in writeBody/readBody fail until it gets an encoding.

import type {
  AcceptedEntry,
  Ballot,
  ChosenEntry,
  Message,
  MessageType,
  PromisedEntry,
  ProposedEntry,
  Slot,
  Value,
} from '../paxos/types.js';
import { ByteReader, ByteWriter, DecodeError, EncodeError } from './bytes.js';

export { DecodeError, EncodeError } from './bytes.js';

/** Bumped whenever the encoding of any message changes incompatibly. */
export const MESSAGE_FORMAT_VERSION = 1;
/** Leading byte of a standalone encoded value (as stored in the Paxos log). */
export const VALUE_FORMAT_VERSION = 1;

/** Wire code of each message type. Never reuse or renumber a code. */
export const MESSAGE_TYPE_CODES: { readonly [T in MessageType]: number } = {
  prevote: 1,
  'prevote-reply': 2,
  prepare: 3,
  promise: 4,
  accept: 5,
  accepted: 6,
  nack: 7,
  heartbeat: 8,
  'heartbeat-ack': 9,
  catchup: 10,
  chosen: 11,
  forward: 12,
  'read-index': 13,
  'read-index-reply': 14,
  'snapshot-offer': 15,
  'snapshot-request': 16,
  'snapshot-chunk': 17,
  'tx-request': 18,
  'tx-response': 19,
};

const TYPE_BY_CODE: ReadonlyMap<number, MessageType> = new Map(
  (Object.entries(MESSAGE_TYPE_CODES) as [MessageType, number][]).map(([type, code]) => [code, type]),
);

const VALUE_NOOP = 0;
const VALUE_BATCH = 1;

// Smallest encodings, used to bound counts before allocating arrays.
const MIN_VALUE_BYTES = 1;
const MIN_BALLOT_BYTES = 2;
const MIN_SLOT_BYTES = 1;
const MIN_COMMAND_BYTES = 1;
const MIN_PROPOSED_ENTRY_BYTES = MIN_SLOT_BYTES + MIN_VALUE_BYTES;
const MIN_PROMISED_ENTRY_BYTES = MIN_SLOT_BYTES + MIN_BALLOT_BYTES + MIN_VALUE_BYTES + 1;

function assertNever(x: never, what: string): never {
  throw new EncodeError(`unknown ${what}: ${JSON.stringify(x)}`);
}

// ---------------------------------------------------------------------------
// Ballots and values

export function writeBallot(w: ByteWriter, b: Ballot): void {
  w.uvarint(b.round);
  w.uvarint(b.node);
}

export function readBallot(r: ByteReader): Ballot {
  const round = r.uvarint();
  const node = r.uvarint();
  return { round, node };
}

export function writeValue(w: ByteWriter, v: Value): void {
  switch (v.kind) {
    case 'noop':
      w.u8(VALUE_NOOP);
      return;
    case 'batch':
      w.u8(VALUE_BATCH);
      w.f64(v.time);
      w.uvarint(v.commands.length);
      for (const c of v.commands) w.bytes(c);
      return;
    default:
      assertNever(v, 'value kind');
  }
}

export function readValue(r: ByteReader): Value {
  const kind = r.u8();
  switch (kind) {
    case VALUE_NOOP:
      return { kind: 'noop' };
    case VALUE_BATCH: {
      const time = r.f64();
      const n = r.count(MIN_COMMAND_BYTES, 'batch commands');
      const commands: Uint8Array[] = [];
      for (let i = 0; i < n; i++) commands.push(r.bytes());
      return { kind: 'batch', time, commands };
    }
    default:
      throw new DecodeError(`unknown value kind ${kind}`);
  }
}

/** A value as a self-describing byte string (used by the Paxos log on disk). */
export function encodeValue(v: Value): Uint8Array {
  const w = new ByteWriter(64 + valueSizeHint(v));
  w.u8(VALUE_FORMAT_VERSION);
  writeValue(w, v);
  return w.finish();
}

export function decodeValue(bytes: Uint8Array): Value {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== VALUE_FORMAT_VERSION) throw new DecodeError(`unsupported value format version ${version}`);
  const v = readValue(r);
  r.expectEnd('value');
  return v;
}

function valueSizeHint(v: Value): number {
  if (v.kind === 'noop') return 1;
  let n = 16;
  for (const c of v.commands) n += c.length + 4;
  return n;
}

// ---------------------------------------------------------------------------
// Entries

function writeSlot(w: ByteWriter, s: Slot): void {
  w.uvarint(s);
}

function writeProposed(w: ByteWriter, e: ProposedEntry | ChosenEntry): void {
  writeSlot(w, e.slot);
  writeValue(w, e.value);
}

function readProposed(r: ByteReader): ProposedEntry {
  const slot = r.uvarint();
  const value = readValue(r);
  return { slot, value };
}

function writePromised(w: ByteWriter, e: PromisedEntry): void {
  writeSlot(w, e.slot);
  writeBallot(w, e.ballot);
  writeValue(w, e.value);
  w.bool(e.chosen);
}

function readPromised(r: ByteReader): PromisedEntry {
  const slot = r.uvarint();
  const ballot = readBallot(r);
  const value = readValue(r);
  const chosen = r.bool();
  return { slot, ballot, value, chosen };
}

function writeList<T>(w: ByteWriter, items: readonly T[], writeItem: (w: ByteWriter, item: T) => void): void {
  w.uvarint(items.length);
  for (const item of items) writeItem(w, item);
}

function readList<T>(r: ByteReader, minItemBytes: number, what: string, readItem: (r: ByteReader) => T): T[] {
  const n = r.count(minItemBytes, what);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(readItem(r));
  return out;
}

/** read-index-reply carries -1 for "cannot serve"; shifted by one so it fits a uvarint. */
function writeReadIndex(w: ByteWriter, index: number): void {
  if (!Number.isSafeInteger(index) || index < -1) throw new EncodeError(`bad read index ${index}`);
  w.uvarint(index + 1);
}

function readReadIndex(r: ByteReader): number {
  return r.uvarint() - 1;
}

// ---------------------------------------------------------------------------
// Messages

export function encodeMessage(msg: Message): Uint8Array {
  const w = new ByteWriter(64 + messageSizeHint(msg));
  w.u8(MESSAGE_FORMAT_VERSION);
  w.u8(MESSAGE_TYPE_CODES[msg.type]);
  w.uvarint(msg.from);
  w.uvarint(msg.to);
  writeBody(w, msg);
  return w.finish();
}

function writeBody(w: ByteWriter, msg: Message): void {
  switch (msg.type) {
    case 'prevote':
      w.uvarint(msg.round);
      w.uvarint(msg.commit);
      w.bool(msg.fresh);
      return;
    case 'prevote-reply':
      w.uvarint(msg.round);
      w.bool(msg.granted);
      w.bool(msg.fresh);
      return;
    case 'prepare':
      writeBallot(w, msg.ballot);
      w.uvarint(msg.fromSlot);
      return;
    case 'promise':
      writeBallot(w, msg.ballot);
      w.uvarint(msg.fromSlot);
      w.uvarint(msg.commit);
      writeList(w, msg.entries, writePromised);
      return;
    case 'accept':
      writeBallot(w, msg.ballot);
      writeList(w, msg.entries, writeProposed);
      w.uvarint(msg.commit);
      return;
    case 'accepted':
      writeBallot(w, msg.ballot);
      writeList(w, msg.slots, writeSlot);
      return;
    case 'nack':
      writeBallot(w, msg.ballot);
      writeBallot(w, msg.promised);
      return;
    case 'heartbeat':
      writeBallot(w, msg.ballot);
      w.uvarint(msg.commit);
      w.uvarint(msg.readSeq);
      w.uvarint(msg.nextSlot);
      return;
    case 'heartbeat-ack':
      writeBallot(w, msg.ballot);
      w.uvarint(msg.readSeq);
      w.uvarint(msg.commit);
      return;
    case 'catchup':
      w.uvarint(msg.fromSlot);
      w.uvarint(msg.toSlot);
      return;
    case 'chosen':
      writeList(w, msg.entries, writeProposed);
      w.uvarint(msg.commit);
      return;
    case 'forward':
      writeList(w, msg.commands, (w2, c) => w2.bytes(c));
      return;
    case 'read-index':
      w.uvarint(msg.id);
      return;
    case 'read-index-reply':
      w.uvarint(msg.id);
      writeReadIndex(w, msg.index);
      return;
    case 'snapshot-offer':
      w.uvarint(msg.slot);
      return;
    case 'snapshot-request':
      w.uvarint(msg.slot);
      w.uvarint(msg.offset);
      return;
    case 'snapshot-chunk':
      w.uvarint(msg.slot);
      w.uvarint(msg.offset);
      w.uvarint(msg.total);
      w.bytes(msg.digest);
      w.bytes(msg.data);
      return;
    case 'tx-request':
    case 'tx-response':
      w.uvarint(msg.id);
      w.bytes(msg.payload);
      return;
    default:
      assertNever(msg, 'message type');
  }
}

/** Decode one message; throws only DecodeError. */
export function decodeMessage(bytes: Uint8Array): Message {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== MESSAGE_FORMAT_VERSION) throw new DecodeError(`unsupported message format version ${version}`);
  const code = r.u8();
  const type = TYPE_BY_CODE.get(code);
  if (type === undefined) throw new DecodeError(`unknown message type code ${code}`);
  const from = r.uvarint();
  const to = r.uvarint();
  const msg = readBody(r, type, from, to);
  r.expectEnd(`${type} message`);
  return msg;
}

function readBody(r: ByteReader, type: MessageType, from: number, to: number): Message {
  switch (type) {
    case 'prevote': {
      const round = r.uvarint();
      const commit = r.uvarint();
      const fresh = r.bool();
      return { type, from, to, round, commit, fresh };
    }
    case 'prevote-reply': {
      const round = r.uvarint();
      const granted = r.bool();
      const fresh = r.bool();
      return { type, from, to, round, granted, fresh };
    }
    case 'prepare': {
      const ballot = readBallot(r);
      const fromSlot = r.uvarint();
      return { type, from, to, ballot, fromSlot };
    }
    case 'promise': {
      const ballot = readBallot(r);
      const fromSlot = r.uvarint();
      const commit = r.uvarint();
      const entries = readList(r, MIN_PROMISED_ENTRY_BYTES, 'promise entries', readPromised);
      return { type, from, to, ballot, fromSlot, commit, entries };
    }
    case 'accept': {
      const ballot = readBallot(r);
      const entries = readList(r, MIN_PROPOSED_ENTRY_BYTES, 'accept entries', readProposed);
      const commit = r.uvarint();
      return { type, from, to, ballot, entries, commit };
    }
    case 'accepted': {
      const ballot = readBallot(r);
      const slots = readList(r, MIN_SLOT_BYTES, 'accepted slots', (r2) => r2.uvarint());
      return { type, from, to, ballot, slots };
    }
    case 'nack': {
      const ballot = readBallot(r);
      const promised = readBallot(r);
      return { type, from, to, ballot, promised };
    }
    case 'heartbeat': {
      const ballot = readBallot(r);
      const commit = r.uvarint();
      const readSeq = r.uvarint();
      const nextSlot = r.uvarint();
      return { type, from, to, ballot, commit, readSeq, nextSlot };
    }
    case 'heartbeat-ack': {
      const ballot = readBallot(r);
      const readSeq = r.uvarint();
      const commit = r.uvarint();
      return { type, from, to, ballot, readSeq, commit };
    }
    case 'catchup': {
      const fromSlot = r.uvarint();
      const toSlot = r.uvarint();
      return { type, from, to, fromSlot, toSlot };
    }
    case 'chosen': {
      const entries = readList(r, MIN_PROPOSED_ENTRY_BYTES, 'chosen entries', readProposed);
      const commit = r.uvarint();
      return { type, from, to, entries, commit };
    }
    case 'forward': {
      const commands = readList(r, MIN_COMMAND_BYTES, 'forwarded commands', (r2) => r2.bytes());
      return { type, from, to, commands };
    }
    case 'read-index': {
      const id = r.uvarint();
      return { type, from, to, id };
    }
    case 'read-index-reply': {
      const id = r.uvarint();
      const index = readReadIndex(r);
      return { type, from, to, id, index };
    }
    case 'snapshot-offer': {
      const slot = r.uvarint();
      return { type, from, to, slot };
    }
    case 'snapshot-request': {
      const slot = r.uvarint();
      const offset = r.uvarint();
      return { type, from, to, slot, offset };
    }
    case 'snapshot-chunk': {
      const slot = r.uvarint();
      const offset = r.uvarint();
      const total = r.uvarint();
      const digest = r.bytes();
      const data = r.bytes();
      return { type, from, to, slot, offset, total, digest, data };
    }
    case 'tx-request':
    case 'tx-response': {
      const id = r.uvarint();
      const payload = r.bytes();
      return { type, from, to, id, payload };
    }
    default: {
      const unknown: never = type;
      throw new DecodeError(`no decoder for message type ${String(unknown)}`);
    }
  }
}

/** A rough size so the writer rarely has to grow for big Accept/Promise/Chosen messages. */
function messageSizeHint(msg: Message): number {
  switch (msg.type) {
    case 'accept':
    case 'chosen':
    case 'promise': {
      let n = 0;
      for (const e of msg.entries) n += 24 + valueSizeHint(e.value);
      return n;
    }
    case 'forward': {
      let n = 0;
      for (const c of msg.commands) n += c.length + 4;
      return n;
    }
    case 'snapshot-chunk':
      return msg.data.length + msg.digest.length + 16;
    case 'tx-request':
    case 'tx-response':
      return msg.payload.length + 16;
    default:
      return 32;
  }
}

/** Deep copy of an accepted entry through the codec (so callers cannot alias stored bytes). */
export function copyAcceptedEntry(e: AcceptedEntry): AcceptedEntry {
  return { slot: e.slot, ballot: { round: e.ballot.round, node: e.ballot.node }, value: decodeValue(encodeValue(e.value)) };
}
