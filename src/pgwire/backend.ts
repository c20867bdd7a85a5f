// The seam between the wire protocol and whatever executes SQL. The wire layer
// knows nothing about Paxos, the log or SQLite: it turns protocol messages into
// calls on these interfaces and encodes what they return.

import type { FieldInfo, QueryResult, SqlError, SqlValue } from '../sql/types.js';

/** Transaction status byte sent in ReadyForQuery: idle, in a transaction, in a failed transaction. */
export type TransactionStatus = 'I' | 'T' | 'E';

/** A NoticeResponse the backend wants the client to see (e.g. "there is no transaction in progress"). */
export interface Notice {
  readonly severity: 'WARNING' | 'NOTICE' | 'DEBUG' | 'INFO' | 'LOG';
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
}

/** Who connected; handed to the backend when a session opens (after authentication). */
export interface SessionInfo {
  readonly connectionId: number;
  readonly user: string;
  readonly database: string;
  /** Every startup parameter the client sent (application_name, options, ...). */
  readonly startupParameters: ReadonlyMap<string, string>;
  readonly remoteAddress: string | undefined;
}

/**
 * Callbacks the wire layer gives each session so the backend can push
 * asynchronous messages; they are queued and sent with the next flush.
 */
export interface SessionEvents {
  /** A session parameter changed (after SET): sent to the client as ParameterStatus. */
  parameterStatus(name: string, value: string): void;
  notice(notice: Notice): void;
}

/** How COPY rows are framed. The wire layer parses and produces both. */
export interface CopyFormat {
  readonly format: 'text' | 'csv';
  /** Column separator: tab for text, comma for CSV unless the statement says otherwise. */
  readonly delimiter: string;
  /** The string that stands for SQL NULL: `\N` for text, empty unquoted for CSV. */
  readonly nullString: string;
  /** CSV only: the first line is a header (skipped on input, written on output). */
  readonly header: boolean;
  readonly quote: string;
  readonly escape: string;
}

/**
 * The receiving end of COPY ... FROM STDIN. The wire layer parses the client's
 * CopyData into rows of text fields (null for NULL) and hands them over in
 * bounded batches; `finish` runs after CopyDone and returns the command result
 * (`COPY n`); `abort` runs on CopyFail or when the connection drops.
 */
export interface CopyInSink {
  readonly format: CopyFormat;
  /** Number of columns each row must have; rows with another count are rejected (22P04). */
  readonly columnCount: number;
  writeRows(rows: readonly (readonly (string | null)[])[]): Promise<void>;
  finish(): Promise<QueryResult>;
  abort(reason: string): Promise<void>;
}

/**
 * One statement's outcome in a simple Query. The backend yields them in order
 * and stops after the first error (Postgres semantics: the rest of the query
 * string is not executed).
 *  - `result`: a completed statement.
 *  - `empty`: the query string held no statement (EmptyQueryResponse).
 *  - `copyIn`: the statement is COPY ... FROM STDIN; the wire layer runs the
 *    copy sub-protocol against the sink before asking for the next outcome.
 *  - `copyOut`: the statement is COPY ... TO STDOUT; the wire layer encodes
 *    `rows` as CopyData in `format` and completes with `COPY n`.
 *  - `error`: the statement failed.
 */
export type StatementOutcome =
  | { readonly type: 'result'; readonly result: QueryResult }
  | { readonly type: 'empty' }
  | { readonly type: 'copyIn'; readonly sink: CopyInSink }
  | {
      readonly type: 'copyOut';
      readonly format: CopyFormat;
      readonly fields: readonly FieldInfo[];
      readonly rows: readonly (readonly SqlValue[])[];
    }
  | { readonly type: 'error'; readonly error: SqlError };

/** What the backend learned when preparing a statement (extended protocol Parse). */
export interface PreparedStatement {
  /** One type OID per `$n` parameter; 0 would mean "unknown" but backends should resolve it (text = 25). */
  readonly paramTypes: readonly number[];
  /** Result columns, or null when the statement returns no rows (Describe answers NoData). */
  readonly fields: readonly FieldInfo[] | null;
  /** Backend-private state (e.g. the translated statement); the wire layer passes it back untouched. */
  readonly handle: unknown;
}

/**
 * One client connection's view of the database. Calls are never concurrent:
 * the wire layer awaits each one before sending the next, except `cancel`,
 * which may arrive at any time from another connection.
 */
export interface SessionBackend {
  /** Runs a simple-protocol query string, which may hold several statements. */
  simpleQuery(sql: string): AsyncIterable<StatementOutcome>;
  /**
   * Parses and describes one statement (extended protocol). `paramTypes` are the
   * OIDs the client declared (0 = let the server infer). Throws SqlError.
   */
  prepare(sql: string, paramTypes: readonly number[]): Promise<PreparedStatement>;
  /**
   * Executes a prepared statement with decoded parameters and returns every row.
   * The wire layer pages the rows out for Execute row limits (PortalSuspended):
   * like Postgres for writes, the statement runs fully on the first Execute.
   * Throws SqlError.
   */
  execute(statement: PreparedStatement, params: readonly SqlValue[]): Promise<QueryResult>;
  /**
   * Status byte for ReadyForQuery, read right before each one is sent. A
   * statement that fails inside a transaction (in simpleQuery, prepare or
   * execute) should move it to 'E' until ROLLBACK.
   */
  transactionStatus(): TransactionStatus;
  /**
   * A message failed outside prepare and execute (a Bind whose parameters do
   * not decode, a portal that does not exist): as every error does in Postgres,
   * it aborts an open transaction.
   */
  statementFailed(): void;
  /** A CancelRequest arrived for this session: abort the running statement with 57014 if possible. */
  cancel(): void;
  /** The connection ended: roll back any open transaction and release resources. */
  close(): Promise<void>;
}

/** Creates a session per authenticated connection. Throwing a SqlError refuses the connection. */
export interface Backend {
  openSession(info: SessionInfo, events: SessionEvents): Promise<SessionBackend>;
}
