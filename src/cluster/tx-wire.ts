// JSON payloads of the tx-request / tx-response messages between a follower's
// session and the leader's transactions.

import type { FieldInfo, QueryResult } from '../sql/types.js';
import type { WireError } from './apply-protocol.js';
import { decodeParam, encodeParam, isEncodedParam, type EncodedParam } from './command.js';
import type { TxReply, TxRequest } from './transactions.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

type EncodedRequest =
  | { s: number; op: 'exec'; sql: string; p: EncodedParam[]; f: boolean; r?: number }
  | { s: number; op: 'commit'; seq: number }
  | { s: number; op: 'rollback' };

interface EncodedResult {
  c: string;
  n: number;
  f: FieldInfo[] | null;
  r: EncodedParam[][];
}

type EncodedReply = { ok: true; r: EncodedResult | null } | { ok: false; e: WireError };

export class TxWireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TxWireError';
  }
}

export function encodeTxRequest(session: number, request: TxRequest): Uint8Array {
  const e: EncodedRequest =
    request.op === 'exec'
      ? { s: session, op: 'exec', sql: request.sql, p: request.params.map(encodeParam), f: request.first, ...(request.readSince === undefined ? {} : { r: request.readSince }) }
      : request.op === 'commit'
        ? { s: session, op: 'commit', seq: request.seq }
        : { s: session, op: 'rollback' };
  return encoder.encode(JSON.stringify(e));
}

export function decodeTxRequest(bytes: Uint8Array): { session: number; request: TxRequest } {
  const raw = parse(bytes) as Partial<{ s: unknown; op: unknown; sql: unknown; p: unknown; f: unknown; r: unknown; seq: unknown }>;
  if (!Number.isSafeInteger(raw.s)) throw new TxWireError('tx request without a session');
  const session = raw.s as number;
  if (raw.op === 'exec' && typeof raw.sql === 'string' && typeof raw.f === 'boolean' && Array.isArray(raw.p) && raw.p.every(isEncodedParam)) {
    if (raw.r !== undefined && !Number.isSafeInteger(raw.r)) throw new TxWireError('malformed tx request');
    const readSince = raw.r as number | undefined;
    return { session, request: { op: 'exec', sql: raw.sql, params: (raw.p as EncodedParam[]).map(decodeParam), first: raw.f, ...(readSince === undefined ? {} : { readSince }) } };
  }
  if (raw.op === 'commit' && Number.isSafeInteger(raw.seq)) return { session, request: { op: 'commit', seq: raw.seq as number } };
  if (raw.op === 'rollback') return { session, request: { op: 'rollback' } };
  throw new TxWireError('malformed tx request');
}

export function encodeTxReply(reply: TxReply): Uint8Array {
  const e: EncodedReply = reply.ok
    ? { ok: true, r: reply.result === null ? null : { c: reply.result.command, n: reply.result.rowCount, f: reply.result.fields === null ? null : [...reply.result.fields], r: reply.result.rows.map((row) => row.map(encodeParam)) } }
    : { ok: false, e: reply.error };
  return encoder.encode(JSON.stringify(e));
}

export function decodeTxReply(bytes: Uint8Array): TxReply {
  const raw = parse(bytes) as Partial<{ ok: unknown; r: unknown; e: unknown }>;
  if (raw.ok === false && isWireError(raw.e)) return { ok: false, error: raw.e };
  if (raw.ok !== true) throw new TxWireError('malformed tx reply');
  if (raw.r === null) return { ok: true, result: null };
  const r = raw.r as Partial<EncodedResult>;
  if (typeof r.c !== 'string' || !Number.isSafeInteger(r.n) || !Array.isArray(r.r) || !(r.f === null || Array.isArray(r.f))) {
    throw new TxWireError('malformed tx result');
  }
  const result: QueryResult = { command: r.c, rowCount: r.n as number, fields: r.f ?? null, rows: r.r.map((row) => row.map(decodeParam)) };
  return { ok: true, result };
}

function parse(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown;
  } catch {
    throw new TxWireError('tx payload is not JSON');
  }
}

function isWireError(e: unknown): e is WireError {
  return typeof e === 'object' && e !== null && typeof (e as WireError).code === 'string' && typeof (e as WireError).message === 'string';
}
