// What a log entry's command carries: who proposed it (for exactly-once and
// for routing the result back) and the Postgres-dialect statements to run.
//
// The log holds the statements as the client wrote them, with parameters
// bound, not the SQLite translation: translation reads the schema, and every
// replica translates at the same point of the log, against the same schema, so
// replaying the text is deterministic and never uses a schema the log has
// already moved past.

import type { SqlValue } from '../sql/types.js';

export interface CommandOrigin {
  readonly node: number;
  /** Unique per node incarnation and connection. */
  readonly session: number;
  /** Increases by one per command of the session; the apply worker applies each (session, seq) once. */
  readonly seq: number;
}

export interface Statement {
  readonly sql: string;
  readonly params: readonly SqlValue[];
  /** Seeds random() for this statement; set for transactions, whose statements ran first on the leader. */
  readonly seed?: number;
}

export interface Command {
  readonly origin: CommandOrigin;
  /** One statement, or a whole transaction's writes in order (applied atomically). */
  readonly statements: readonly Statement[];
  /** For a transaction: the time it began (now() is constant within it); else the entry's time is used. */
  readonly time?: number;
  /**
   * For a transaction: the applied slot it executed on, on the leader. It
   * applies only as the first command of slot basedOn + 1, i.e. on exactly
   * the state it saw; otherwise it fails everywhere with 40001.
   */
  readonly basedOn?: number;
}

export type EncodedParam = null | boolean | number | string | { b: string } | { x: string } | { f: string };

interface EncodedCommand {
  o: [number, number, number];
  s: ([string, EncodedParam[]] | [string, EncodedParam[], number])[];
  t?: number;
  b?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(command: Command): Uint8Array {
  const encoded: EncodedCommand = {
    o: [command.origin.node, command.origin.session, command.origin.seq],
    s: command.statements.map((s) => (s.seed === undefined ? [s.sql, s.params.map(encodeParam)] : [s.sql, s.params.map(encodeParam), s.seed])),
  };
  if (command.time !== undefined) encoded.t = command.time;
  if (command.basedOn !== undefined) encoded.b = command.basedOn;
  return encoder.encode(JSON.stringify(encoded));
}

export class CommandDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandDecodeError';
  }
}

export function decodeCommand(bytes: Uint8Array): Command {
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch (error) {
    throw new CommandDecodeError(`command is not JSON: ${(error as Error).message}`);
  }
  if (!isEncodedCommand(raw)) throw new CommandDecodeError('command has the wrong shape');
  const [node, session, seq] = raw.o;
  const command: Command = {
    origin: { node, session, seq },
    statements: raw.s.map(([sql, params, seed]) => ({ sql, params: params.map(decodeParam), ...(seed === undefined ? {} : { seed }) })),
    ...(raw.t === undefined ? {} : { time: raw.t }),
    ...(raw.b === undefined ? {} : { basedOn: raw.b }),
  };
  return command;
}

export function encodeParam(value: SqlValue): EncodedParam {
  if (typeof value === 'bigint') return { b: value.toString() };
  if (value instanceof Uint8Array) return { x: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  if (typeof value === 'number' && !Number.isFinite(value)) return { f: String(value) };
  return value;
}

export function decodeParam(value: EncodedParam): SqlValue {
  if (value === null || typeof value !== 'object') return value;
  if ('b' in value) return BigInt(value.b);
  if ('x' in value) return new Uint8Array(Buffer.from(value.x, 'base64'));
  return Number(value.f);
}

function isEncodedCommand(raw: unknown): raw is EncodedCommand {
  if (typeof raw !== 'object' || raw === null) return false;
  const r = raw as { o?: unknown; s?: unknown; t?: unknown };
  const origin = r.o;
  if (!Array.isArray(origin) || origin.length !== 3 || !origin.every((n) => Number.isSafeInteger(n))) return false;
  if (r.t !== undefined && typeof r.t !== 'number') return false;
  const b = (raw as { b?: unknown }).b;
  if (b !== undefined && !Number.isSafeInteger(b)) return false;
  if (!Array.isArray(r.s)) return false;
  return r.s.every(
    (s) =>
      Array.isArray(s) &&
      (s.length === 2 || (s.length === 3 && Number.isSafeInteger(s[2]))) &&
      typeof s[0] === 'string' &&
      Array.isArray(s[1]) &&
      s[1].every(isEncodedParam),
  );
}

export function isEncodedParam(p: unknown): p is EncodedParam {
  if (p === null || typeof p === 'boolean' || typeof p === 'number' || typeof p === 'string') return true;
  if (typeof p !== 'object') return false;
  const keys = Object.keys(p);
  if (keys.length !== 1) return false;
  const v = (p as Record<string, unknown>)[keys[0] as string];
  return (keys[0] === 'b' || keys[0] === 'x' || keys[0] === 'f') && typeof v === 'string';
}
