// Messages between the runtime and the apply worker (workers/apply.ts).

import type { QueryResult, SqlValue } from '../sql/types.js';

/** A chosen batch, flattened for the worker: slot, the leader's time, the encoded commands. */
export interface EntryToApply {
  readonly slot: number;
  readonly time: number;
  readonly commands: readonly Uint8Array[];
}

export type ApplyTask =
  | { readonly op: 'open'; readonly path: string; readonly self: number }
  | { readonly op: 'apply'; readonly entries: readonly EntryToApply[] }
  /** Replace data.db by the snapshot file at `path` (copied; the file stays for serving peers). */
  | { readonly op: 'install'; readonly path: string }
  | { readonly op: 'checksum' }
  /**
   * Open the leader's speculative transaction (BEGIN IMMEDIATE) on the
   * current state and run its first statement, in one round trip. With
   * `readSince` (the transaction began read-only on a snapshot at that slot),
   * refuse instead if the database changed after it.
   */
  | { readonly op: 'tx-begin'; readonly readSince: number | null; readonly first: TxStatement }
  /** Run one more statement inside it. */
  | ({ readonly op: 'tx-exec' } & TxStatement)
  /** Roll it back: what it wrote goes through the log instead. */
  | { readonly op: 'tx-end' }
  | { readonly op: 'close' };

export type { WireError } from './wire-error.js';
import type { WireError } from './wire-error.js';

/** What happened to a command this node proposed. */
export type CommandOutcome =
  | { readonly session: number; readonly seq: number; readonly slot: number; readonly kind: 'ok'; readonly results: readonly QueryResult[] }
  | { readonly session: number; readonly seq: number; readonly slot: number; readonly kind: 'error'; readonly error: WireError }
  /** Chosen again after it was applied (a retry): applied once, the first time. */
  | { readonly session: number; readonly seq: number; readonly slot: number; readonly kind: 'duplicate' };

/** A statement of the leader's speculative transaction, with the time and seed it runs with everywhere. */
export interface TxStatement {
  readonly sql: string;
  readonly params: readonly SqlValue[];
  readonly time: number;
  readonly seed: number;
}

export type TxExecReply = { readonly op: 'tx-exec'; readonly result: QueryResult } | { readonly op: 'tx-exec'; readonly error: WireError };

export type ApplyReply =
  /** schema: SQLite's schema_version, so the runtime knows when cached statement descriptions go stale. */
  | { readonly op: 'open'; readonly applied: number; readonly schema: number }
  | { readonly op: 'apply'; readonly applied: number; readonly outcomes: readonly CommandOutcome[]; readonly schema: number }
  | { readonly op: 'install'; readonly applied: number }
  | { readonly op: 'checksum'; readonly applied: number; readonly digest: string; readonly rows: number }
  /**
   * basedOn: the applied slot the transaction runs on; first: its first
   * statement's outcome, or null when `readSince` refused the transaction
   * (nothing stays open then).
   */
  | { readonly op: 'tx-begin'; readonly basedOn: number; readonly first: TxExecReply | null }
  | TxExecReply
  | { readonly op: 'tx-end' }
  | { readonly op: 'close' };
