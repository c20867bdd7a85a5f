// A SqlError as it crosses a thread or node boundary (structured clone and
// JSON drop its class), and back.

import { toSqlError } from '../sql/errors.js';
import { SqlError } from '../sql/types.js';

export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
}

/** Any error as a WireError: SQLite's mapped to their SQLSTATE, the unexpected as XX000. */
export function toWire(error: unknown): WireError {
  const e = toSqlError(error);
  return { code: e.code, message: e.message, ...(e.detail === undefined ? {} : { detail: e.detail }), ...(e.hint === undefined ? {} : { hint: e.hint }) };
}

export function fromWire(e: WireError): SqlError {
  return new SqlError(e.code, e.message, { ...(e.detail === undefined ? {} : { detail: e.detail }), ...(e.hint === undefined ? {} : { hint: e.hint }) });
}
