// Public surface of the Postgres wire protocol server.
//
// Usage:
//   const server = new PgServer({ backend, auth: { method: 'scram-sha-256', users }, logger });
//   const { port } = await server.listen(5432, '0.0.0.0');
//   ...
//   await server.close();
// `backend` implements Backend (see backend.ts): one SessionBackend per
// connection, which runs SQL and returns QueryResults / SqlErrors.
export type {
  Backend,
  CopyFormat,
  CopyInSink,
  Notice,
  PreparedStatement,
  SessionBackend,
  SessionEvents,
  SessionInfo,
  StatementOutcome,
  TransactionStatus,
} from './backend.js';
export { PgServer, DEFAULT_DATABASES, type PgServerOptions } from './server.js';
export {
  createScramVerifier,
  md5PasswordHash,
  parseScramVerifier,
  type AuthConfig,
  type AuthMethod,
  type UserCredential,
} from './auth.js';
export { parseCopyStatement, CSV_COPY_FORMAT, TEXT_COPY_FORMAT, type CopyStatement } from './copy.js';
export { TypeOid, decodeText, encodeText, formatFloat, formatTimestamp, parseTimestamp } from './types.js';
