// Shapes shared by the SQL layer (which executes statements on SQLite) and the
// wire protocol (which encodes them for Postgres clients).

/** A value as it leaves or enters SQL execution; the wire layer encodes it by type OID. */
export type SqlValue = null | boolean | number | bigint | string | Uint8Array;

/** One result column: its name and the Postgres type OID clients should see. */
export interface FieldInfo {
  readonly name: string;
  readonly typeOid: number;
}

/** The outcome of one statement. */
export interface QueryResult {
  /** The Postgres command tag, e.g. `SELECT 3`, `INSERT 0 1`, `UPDATE 2`, `CREATE TABLE`. */
  readonly command: string;
  readonly rowCount: number;
  /** Null for statements that return no rows (the wire layer sends NoData). */
  readonly fields: readonly FieldInfo[] | null;
  readonly rows: readonly (readonly SqlValue[])[];
}

/** An error with a Postgres SQLSTATE; the wire layer turns it into an ErrorResponse. */
export class SqlError extends Error {
  readonly code: string;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  constructor(code: string, message: string, options: { detail?: string; hint?: string } = {}) {
    super(message);
    this.name = 'SqlError';
    this.code = code;
    this.detail = options.detail;
    this.hint = options.hint;
  }
}
