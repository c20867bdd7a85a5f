// Messages between the runtime and the read workers (workers/read.ts).

import type { ExecContext } from '../sql/functions.js';
import type { FieldInfo, QueryResult, SqlValue } from '../sql/types.js';
import type { WireError } from './apply-protocol.js';

export type ReadTask =
  | { readonly op: 'query'; readonly sql: string; readonly params: readonly SqlValue[]; readonly ctx: ExecContext }
  | { readonly op: 'describe'; readonly sql: string };

export type ReadReply =
  | { readonly ok: true; readonly op: 'query'; readonly result: QueryResult }
  | { readonly ok: true; readonly op: 'describe'; readonly paramTypeOids: readonly number[]; readonly fields: readonly FieldInfo[] | null }
  | { readonly ok: false; readonly error: WireError };

/** Passed to every read thread as piscina workerData. */
export interface ReadWorkerData {
  readonly path: string;
}
