// Messages between the runtime and a snapshot reader thread (workers/snapshot.ts),
// which holds one read-only transaction open for a session's read-only
// BEGIN … COMMIT: every statement of it reads the same snapshot; and those of
// the snapshot writer thread (workers/snapshot-writer.ts), which copies data.db.

import type { ExecContext } from '../sql/functions.js';
import type { QueryResult, SqlValue } from '../sql/types.js';
import type { WireError } from './apply-protocol.js';

export type SnapshotReaderTask =
  | { readonly op: 'begin' }
  | { readonly op: 'query'; readonly sql: string; readonly params: readonly SqlValue[]; readonly ctx: ExecContext }
  | { readonly op: 'end' };

/** What the snapshot writer thread (workers/snapshot-writer.ts) answers to each request, in order. */
export type SnapshotWriterReply =
  | { readonly ok: true; readonly slot: number; readonly path: string }
  | { readonly ok: false; readonly message: string };

/** workerData of the snapshot writer: data.db, and the directory the snapshot goes to. */
export interface SnapshotWriterData {
  readonly path: string;
  readonly dir: string;
}

export type SnapshotReaderReply =
  /** slot: the applied slot the snapshot reflects; changed: the last slot that changed the database. */
  | { readonly op: 'begin'; readonly slot: number; readonly changed: number }
  | { readonly op: 'query'; readonly result: QueryResult }
  | { readonly op: 'end' }
  | { readonly op: 'error'; readonly error: WireError };
