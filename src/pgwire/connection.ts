// One client connection: startup, authentication, then the simple and
// extended query protocols and COPY, against one SessionBackend.
//
// Messages are pulled one at a time (`nextMessage`) and each is handled to
// completion before the next is read, so backend calls never overlap. Replies
// are collected and written with one socket write per flush point (Sync,
// Flush, end of a simple query, or when a large result fills the buffer).

import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { SqlError, type FieldInfo, type QueryResult, type SqlValue } from '../sql/types.js';
import {
  SCRAM_MECHANISM,
  ScramServerExchange,
  scramVerifierFor,
  verifyCleartext,
  verifyMd5,
  type AuthConfig,
} from './auth.js';
import type { CopyFormat, CopyInSink, Notice, PreparedStatement, SessionBackend, StatementOutcome } from './backend.js';
import { CopyRowParser, encodeCopyRow, type CopyRow } from './copy.js';
import * as msg from './messages.js';
import { BodyReader, ChunkReader, ProtocolViolation, type FrontendMessage } from './reader.js';
import { decodeParam, encodeText, encodeValue, type FormatCode } from './types.js';
import type { Backend } from './backend.js';

const SSL_REQUEST_CODE = 80877103;
const GSSENC_REQUEST_CODE = 80877104;
const CANCEL_REQUEST_CODE = 80877102;
const PROTOCOL_MAJOR = 3;
/** Named statements (and, separately, portals) one connection may hold: bounds per-connection memory. */
const MAX_OBJECTS_PER_CONNECTION = 10_000;

/** Limits and settings shared by every connection of a server. */
export interface ConnectionSettings {
  readonly backend: Backend;
  readonly auth: AuthConfig;
  readonly databases: readonly string[];
  readonly superusers: ReadonlySet<string>;
  readonly serverVersion: string;
  readonly maxConnections: number;
  readonly maxMessageBytes: number;
  readonly maxStartupBytes: number;
  /** Input buffered beyond this pauses the socket until the handler catches up. */
  readonly inputHighWaterBytes: number;
  /** Output buffered beyond this is flushed mid-result. */
  readonly outputFlushBytes: number;
  /** COPY FROM rows handed to the backend per call. */
  readonly copyBatchRows: number;
  readonly secureContext: SecureContext | undefined;
}

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly settings: ConnectionSettings;
  /** Claims a session slot; false when the connection limit is reached. */
  tryAdmit(connection: Connection): boolean;
  release(connection: Connection): void;
  cancel(processId: number, secretKey: number): void;
}

type Phase = 'startup' | 'auth' | 'ready' | 'closed';

/** A statement created by Parse. `empty` statements hold no SQL (EmptyQueryResponse). */
interface StatementEntry {
  readonly sql: string;
  readonly prepared: PreparedStatement | null;
}

/** A portal created by Bind; rows are kept after the first Execute for row-limited paging. */
interface PortalEntry {
  readonly statement: StatementEntry;
  readonly params: readonly SqlValue[];
  readonly resultFormats: readonly FormatCode[];
  result: QueryResult | null;
  rowsSent: number;
}

/** Raised to end the connection after the FATAL error has been queued. */
class FatalError extends Error {}

export class Connection {
  readonly processId: number;
  readonly secretKey: number;
  private socket: Socket;
  private readonly reader = new ChunkReader();
  private readonly log: Logger;
  private phase: Phase = 'startup';
  private out: Buffer[] = [];
  private outBytes = 0;
  private waiter: (() => void) | null = null;
  private paused = false;
  private session: SessionBackend | null = null;
  private admitted = false;
  private busy = false;
  private skipTillSync = false;
  private sslNegotiated = false;
  private user = '';
  private database = '';
  private readonly startupParameters = new Map<string, string>();
  private readonly statements = new Map<string, StatementEntry>();
  private readonly portals = new Map<string, PortalEntry>();
  private readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(
    socket: Socket,
    private readonly host: ConnectionHost,
    processId: number,
    logger: Logger,
  ) {
    this.socket = socket;
    this.processId = processId;
    this.secretKey = randomBytes(4).readInt32BE(0);
    this.log = logger.child({ conn: processId });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.setNoDelay(true);
    this.attach(socket);
  }

  /** Runs the connection until it closes; never rejects. */
  async run(): Promise<void> {
    try {
      await this.runStartup();
      while (this.phase === 'ready') {
        const message = await this.nextMessage(this.host.settings.maxMessageBytes);
        if (message === null) break;
        this.busy = true;
        await this.handleMessage(message);
        this.busy = false;
      }
    } catch (err) {
      if (!(err instanceof FatalError)) this.log.error({ err }, 'connection failed');
    } finally {
      await this.flush().catch(() => undefined);
      await this.shutdown();
    }
  }

  /** Asks the running statement to stop (CancelRequest from another connection). */
  cancel(secretKey: number): boolean {
    if (secretKey !== this.secretKey || this.session === null) return false;
    this.log.debug('cancel requested');
    this.session.cancel();
    return true;
  }

  /** Ends the connection from outside (server shutdown), cancelling any running statement. */
  terminate(): void {
    this.socket.destroy();
    this.session?.cancel();
  }

  whenClosed(): Promise<void> {
    return this.closed;
  }

  // ------------------------------------------------------------ socket I/O

  private readonly onData = (chunk: Buffer): void => {
    this.reader.push(chunk);
    if (this.waiter !== null) {
      const w = this.waiter;
      this.waiter = null;
      w();
    } else if (this.reader.bufferedBytes > this.host.settings.inputHighWaterBytes && !this.paused) {
      // The handler is busy: stop reading so one client cannot make us buffer without bound.
      this.paused = true;
      this.socket.pause();
    }
  };

  private readonly onEnd = (): void => {
    this.wake();
  };

  private readonly onError = (err: Error): void => {
    this.log.debug({ err }, 'socket error');
  };

  private readonly onClose = (): void => {
    // Nobody is left to read the running statement's result: stop it now
    // rather than let an abandoned query hold a read thread to its end.
    this.session?.cancel();
    this.wake();
  };

  private attach(socket: Socket): void {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
  }

  private detach(socket: Socket): void {
    socket.off('data', this.onData);
    socket.off('end', this.onEnd);
    socket.off('close', this.onClose);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private socketReadable(): boolean {
    return !this.socket.destroyed && this.socket.readable;
  }

  /**
   * Waits for the next complete message (typed unless in the startup phase).
   * Returns null when the client went away. Framing errors are fatal.
   */
  private async nextMessage(maxBodyBytes: number): Promise<FrontendMessage | null> {
    for (;;) {
      const frame = this.reader.next(this.phase !== 'startup', maxBodyBytes);
      if (frame.kind === 'message') {
        if (this.paused && this.reader.bufferedBytes <= this.host.settings.inputHighWaterBytes) this.resume();
        return frame.message;
      }
      if (frame.kind === 'invalid') this.fatal('08P01', frame.reason);
      if (!this.socketReadable()) return null;
      this.resume();
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  private resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
  }

  private send(message: Buffer): void {
    this.out.push(message);
    this.outBytes += message.length;
  }

  /** Writes everything queued with one socket write; waits for drain under backpressure. */
  private async flush(): Promise<void> {
    if (this.out.length === 0) return;
    const batch = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out, this.outBytes);
    this.out = [];
    this.outBytes = 0;
    if (this.socket.destroyed || !this.socket.writable) return;
    if (this.socket.write(batch)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Mid-result flush; also yields to the event loop so one big result cannot starve other connections. */
  private async flushIfFull(): Promise<void> {
    if (this.outBytes < this.host.settings.outputFlushBytes) return;
    await this.flush();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** Queues a FATAL ErrorResponse and ends the connection. */
  private fatal(code: string, message: string, hint?: string): never {
    this.send(msg.errorResponse({ severity: 'FATAL', code, message, hint }));
    this.log.debug({ code, message }, 'fatal error');
    throw new FatalError(message);
  }

  private async shutdown(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.reader.clear();
    // Ends our side once queued output is written, then destroys the socket even
    // if the client never closes its side.
    if (!this.socket.destroyed) this.socket.destroySoon();
    const session = this.session;
    this.session = null;
    if (this.admitted) this.host.release(this);
    try {
      await session?.close();
    } catch (err) {
      this.log.error({ err }, 'session close failed');
    }
    this.log.debug('connection closed');
    this.resolveClosed();
  }

  // ------------------------------------------------------------ startup and authentication

  private async runStartup(): Promise<void> {
    try {
      await this.negotiateStartup();
    } catch (err) {
      if (err instanceof ProtocolViolation) this.fatal('08P01', err.message);
      throw err;
    }
  }

  private async negotiateStartup(): Promise<void> {
    // SSLRequest and GSSENCRequest may each come once before the startup packet.
    for (let encryptionRequests = 0; ; ) {
      const message = await this.nextMessage(this.host.settings.maxStartupBytes);
      if (message === null) throw new FatalError('client went away during startup');
      const body = new BodyReader(message.body);
      const code = body.int32();
      if (code === SSL_REQUEST_CODE || code === GSSENC_REQUEST_CODE) {
        if (++encryptionRequests > 2) this.fatal('08P01', 'too many encryption requests');
        await this.answerEncryptionRequest(code === SSL_REQUEST_CODE);
        continue;
      }
      if (code === CANCEL_REQUEST_CODE) {
        if (message.body.length !== 12) this.fatal('08P01', 'invalid length of cancel request');
        this.host.cancel(body.int32(), body.int32());
        // No reply: the connection that carried the request just ends.
        throw new FatalError('cancel request handled');
      }
      await this.startSession(code, body);
      return;
    }
  }

  /** SSLRequest → 'S' and a TLS upgrade when a certificate is configured, else 'N'; GSSENCRequest → 'N'. */
  private async answerEncryptionRequest(ssl: boolean): Promise<void> {
    const context = this.host.settings.secureContext;
    if (this.reader.bufferedBytes > 0) this.fatal('08P01', 'received unencrypted data after SSL request');
    if (!ssl || context === undefined || this.sslNegotiated) {
      this.socket.write(Buffer.from('N'));
      return;
    }
    this.sslNegotiated = true;
    const raw = this.socket;
    this.detach(raw);
    raw.write(Buffer.from('S'));
    const secure = new TLSSocket(raw, { isServer: true, secureContext: context });
    this.socket = secure;
    this.attach(secure);
  }

  private async startSession(version: number, body: BodyReader): Promise<void> {
    const major = version >>> 16;
    const minor = version & 0xffff;
    if (major !== PROTOCOL_MAJOR) {
      this.fatal('0A000', `unsupported frontend protocol ${major}.${minor}: server supports 3.0 to 3.0`);
    }
    const unrecognised = this.readStartupParameters(body);
    if (minor > 0 || unrecognised.length > 0) this.send(msg.negotiateProtocolVersion(0, unrecognised));
    this.user = this.startupParameters.get('user') ?? '';
    if (this.user === '') this.fatal('28000', 'no PostgreSQL user name specified in startup packet');
    this.database = this.startupParameters.get('database') ?? this.user;
    if (!this.host.tryAdmit(this)) {
      this.fatal('53300', `too many connections (limit ${this.host.settings.maxConnections})`);
    }
    this.admitted = true;
    this.phase = 'auth';
    await this.authenticate();
    if (!this.host.settings.databases.includes(this.database)) {
      this.fatal('3D000', `database "${this.database}" does not exist`, `This server serves: ${this.host.settings.databases.join(', ')}.`);
    }
    await this.openSession();
  }

  /** Reads name/value pairs; `_pq_.` protocol options are returned as unrecognised. */
  private readStartupParameters(body: BodyReader): string[] {
    const unrecognised: string[] = [];
    for (let count = 0; ; count++) {
      if (count > 1000) this.fatal('08P01', 'too many startup parameters');
      const name = body.cstring();
      if (name === '') break;
      const value = body.cstring();
      if (name.startsWith('_pq_.')) unrecognised.push(name);
      else this.startupParameters.set(name, value);
    }
    body.end();
    return unrecognised;
  }

  private async authenticate(): Promise<void> {
    const { method, users } = this.host.settings.auth;
    const credential = users.get(this.user);
    if (method === 'trust') {
      if (users.size > 0 && credential === undefined) this.fatal('28000', `role "${this.user}" does not exist`);
      return;
    }
    const failed = (): never => this.fatal('28P01', `password authentication failed for user "${this.user}"`);
    if (method === 'password') {
      this.send(msg.authenticationCleartextPassword());
      const password = new BodyReader(await this.passwordMessage()).cstring();
      if (!verifyCleartext(credential, password)) failed();
    } else if (method === 'md5') {
      const salt = randomBytes(4);
      this.send(msg.authenticationMd5Password(salt));
      const response = new BodyReader(await this.passwordMessage()).cstring();
      if (!verifyMd5(credential, this.user, response, salt)) failed();
    } else {
      await this.authenticateScram(credential === undefined ? undefined : scramVerifierFor(credential), failed);
    }
  }

  private async authenticateScram(verifier: ReturnType<typeof scramVerifierFor>, failed: () => never): Promise<void> {
    this.send(msg.authenticationSasl([SCRAM_MECHANISM]));
    const initial = new BodyReader(await this.passwordMessage());
    const mechanism = initial.cstring();
    if (mechanism !== SCRAM_MECHANISM) this.fatal('08P01', 'client selected an invalid SASL authentication mechanism');
    const length = initial.int32();
    const clientFirst = initial.bytes(Math.max(length, 0)).toString('utf8');
    const exchange = new ScramServerExchange(verifier);
    const first = exchange.clientFirst(clientFirst);
    if (first.kind !== 'continue') this.fatal('08P01', first.kind === 'fail' ? first.reason : 'SCRAM failure');
    this.send(msg.authenticationSaslContinue(first.serverFirst));
    const final = exchange.clientFinal((await this.passwordMessage()).toString('utf8'));
    if (final.kind === 'fail') {
      if (final.protocolError) this.fatal('08P01', final.reason);
      failed();
    }
    if (final.kind !== 'final') throw new Error('unreachable SCRAM state');
    this.send(msg.authenticationSaslFinal(final.serverFinal));
  }

  /** Flushes the pending authentication request and reads the client's 'p' reply. */
  private async passwordMessage(): Promise<Buffer> {
    await this.flush();
    const message = await this.nextMessage(this.host.settings.maxStartupBytes);
    if (message === null) throw new FatalError('client went away during authentication');
    if (message.type !== 0x70) {
      this.fatal('08P01', `expected password response, got message type ${describeType(message.type)}`);
    }
    return message.body;
  }

  private async openSession(): Promise<void> {
    this.send(msg.authenticationOk());
    try {
      this.session = await this.host.settings.backend.openSession(
        {
          connectionId: this.processId,
          user: this.user,
          database: this.database,
          startupParameters: this.startupParameters,
          remoteAddress: this.socket.remoteAddress,
        },
        { parameterStatus: (name, value) => this.pushAsync(msg.parameterStatus(name, value)), notice: (n) => this.pushNotice(n) },
      );
    } catch (err) {
      if (err instanceof SqlError) this.fatal(err.code, err.message, err.hint);
      throw err;
    }
    for (const [name, value] of this.initialParameters()) this.send(msg.parameterStatus(name, value));
    this.send(msg.backendKeyData(this.processId, this.secretKey));
    this.phase = 'ready';
    await this.readyForQuery();
    this.log.debug({ user: this.user, database: this.database }, 'session started');
  }

  private initialParameters(): [string, string][] {
    return [
      ['server_version', this.host.settings.serverVersion],
      ['server_encoding', 'UTF8'],
      ['client_encoding', 'UTF8'],
      ['DateStyle', 'ISO, MDY'],
      ['IntervalStyle', 'postgres'],
      ['TimeZone', 'UTC'],
      ['integer_datetimes', 'on'],
      ['standard_conforming_strings', 'on'],
      ['application_name', this.startupParameters.get('application_name') ?? ''],
      ['is_superuser', this.host.settings.superusers.has(this.user) ? 'on' : 'off'],
      ['session_authorization', this.user],
    ];
  }

  /** Queues a message pushed by the backend; sent at once when no command is running. */
  private pushAsync(message: Buffer): void {
    if (this.phase === 'closed') return;
    this.send(message);
    if (!this.busy && this.phase === 'ready') void this.flush();
  }

  private pushNotice(notice: Notice): void {
    this.pushAsync(msg.noticeResponse(notice));
  }

  private async readyForQuery(): Promise<void> {
    this.send(msg.readyForQuery(this.session?.transactionStatus() ?? 'I'));
    await this.flush();
  }

  // ------------------------------------------------------------ dispatch

  private async handleMessage(message: FrontendMessage): Promise<void> {
    const type = String.fromCharCode(message.type);
    if (type === 'X') throw new FatalError('client terminated');
    if (this.skipTillSync && type !== 'S') {
      // Skipped messages do nothing, but Flush must still deliver what is queued, above all the
      // ErrorResponse that started the skip: postgres.js sends Parse/Describe/Flush and waits for
      // the reply before it sends Sync. (Postgres itself writes an ErrorResponse out at once.)
      if (type === 'H') await this.flush();
      return;
    }
    const extended = 'PBDECHS'.includes(type);
    try {
      await this.dispatch(type, message);
    } catch (err) {
      if (err instanceof FatalError) throw err;
      if (err instanceof ProtocolViolation) this.fatal('08P01', err.message);
      this.sendError(err);
      if (extended) {
        this.skipTillSync = true;
        this.session?.statementFailed();
      }
    }
  }

  private async dispatch(type: string, message: FrontendMessage): Promise<void> {
    const body = new BodyReader(message.body);
    switch (type) {
      case 'Q':
        return this.simpleQuery(body);
      case 'P':
        return this.parse(body);
      case 'B':
        return this.bind(body);
      case 'D':
        return this.describe(body);
      case 'E':
        return this.execute(body);
      case 'C':
        return this.closeObject(body);
      case 'S':
        body.end();
        return this.sync();
      case 'H':
        body.end();
        return this.flush();
      case 'd':
      case 'c':
      case 'f':
        // Left over from a COPY that already failed; the protocol says to ignore them.
        return;
      default:
        this.fatal('08P01', `invalid frontend message type ${describeType(message.type)}`);
    }
  }

  /** Encodes a failure as ErrorResponse: SqlErrors keep their SQLSTATE, anything else is XX000. */
  private sendError(err: unknown): void {
    if (err instanceof SqlError) {
      this.send(msg.errorResponse({ severity: 'ERROR', code: err.code, message: err.message, detail: err.detail, hint: err.hint }));
      return;
    }
    this.log.error({ err }, 'internal error');
    const message = err instanceof Error ? err.message : String(err);
    this.send(msg.errorResponse({ severity: 'ERROR', code: 'XX000', message: `internal error: ${message}` }));
  }

  private requireSession(): SessionBackend {
    if (this.session === null) throw new Error('no session');
    return this.session;
  }

  // ------------------------------------------------------------ simple query

  private async simpleQuery(body: BodyReader): Promise<void> {
    const sql = body.cstring();
    body.end();
    // A simple Query drops the unnamed statement and portal, as in Postgres.
    this.portals.delete('');
    this.statements.delete('');
    try {
      await this.runOutcomes(this.requireSession().simpleQuery(sql));
    } catch (err) {
      if (err instanceof FatalError || err instanceof ProtocolViolation) throw err;
      this.sendError(err);
    }
    await this.readyForQuery();
  }

  private async runOutcomes(outcomes: AsyncIterable<StatementOutcome>): Promise<void> {
    let count = 0;
    for await (const outcome of outcomes) {
      if (++count > 100_000) throw new SqlError('54000', 'too many statements in one query');
      switch (outcome.type) {
        case 'result':
          await this.sendResult(outcome.result);
          break;
        case 'empty':
          this.send(msg.emptyQueryResponse());
          break;
        case 'error':
          this.sendError(outcome.error);
          return;
        case 'copyIn':
          if (!(await this.copyIn(outcome.sink))) return;
          break;
        case 'copyOut':
          await this.copyOut(outcome.format, outcome.fields, outcome.rows);
          break;
      }
      await this.flushIfFull();
    }
  }

  /** RowDescription (when the statement returns rows), DataRows in text, CommandComplete. */
  private async sendResult(result: QueryResult): Promise<void> {
    if (result.fields !== null) {
      const formats: FormatCode[] = result.fields.map(() => 0);
      this.send(msg.rowDescription(describeFields(result.fields, formats)));
      await this.sendRows(result.fields, result.rows, 0, result.rows.length, formats);
    }
    this.send(msg.commandComplete(result.command));
  }

  private async sendRows(
    fields: readonly FieldInfo[],
    rows: readonly (readonly SqlValue[])[],
    start: number,
    end: number,
    formats: readonly FormatCode[],
  ): Promise<void> {
    for (let i = start; i < end; i++) {
      const row = rows[i]!;
      if (row.length !== fields.length) {
        throw new Error(`backend returned a row of ${row.length} values for ${fields.length} columns`);
      }
      this.send(msg.dataRow(row.map((v, c) => encodeValue(v, fields[c]!.typeOid, formats[c]!))));
      await this.flushIfFull();
    }
  }

  // ------------------------------------------------------------ COPY

  /** Runs COPY FROM STDIN; returns false when it failed (the rest of the query is skipped). */
  private async copyIn(sink: CopyInSink): Promise<boolean> {
    const settings = this.host.settings;
    this.send(msg.copyResponse('in', sink.columnCount));
    await this.flush();
    const parser = new CopyRowParser(sink.format, settings.maxMessageBytes);
    let batch: CopyRow[] = [];
    // Once finish or abort has run, the sink must not be called again.
    let settled = false;
    const abort = async (reason: string): Promise<void> => {
      if (settled) return;
      settled = true;
      await sink.abort(reason);
    };
    const deliver = async (rows: CopyRow[], force: boolean): Promise<void> => {
      for (const row of rows) {
        if (row.length !== sink.columnCount) {
          throw new SqlError('22P04', row.length < sink.columnCount ? 'missing data for column' : 'extra data after last expected column');
        }
        batch.push(row);
      }
      if (batch.length >= settings.copyBatchRows || (force && batch.length > 0)) {
        const full = batch;
        batch = [];
        await sink.writeRows(full);
      }
    };
    try {
      for (;;) {
        const message = await this.nextMessage(settings.maxMessageBytes);
        if (message === null) {
          await abort('connection closed during COPY');
          return false;
        }
        const type = String.fromCharCode(message.type);
        if (type === 'd') {
          await deliver(parser.push(message.body), false);
        } else if (type === 'c') {
          await deliver(parser.end(), true);
          settled = true;
          const result = await sink.finish();
          this.send(msg.commandComplete(result.command));
          return true;
        } else if (type === 'f') {
          const reason = new BodyReader(message.body).cstring();
          await abort(reason);
          throw new SqlError('57014', `COPY from stdin failed: ${reason}`);
        } else if (type === 'X') {
          await abort('client terminated during COPY');
          throw new FatalError('client terminated');
        } else if (type !== 'H' && type !== 'S') {
          throw new SqlError('08P01', `unexpected message type ${describeType(message.type)} during COPY from stdin`);
        }
      }
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      try {
        await abort(reason);
      } catch (abortError) {
        this.log.error({ err: abortError }, 'COPY abort failed');
      }
      if (err instanceof FatalError || err instanceof ProtocolViolation) throw err;
      this.sendError(err);
      return false;
    }
  }

  private async copyOut(format: CopyFormat, fields: readonly FieldInfo[], rows: readonly (readonly SqlValue[])[]): Promise<void> {
    this.send(msg.copyResponse('out', fields.length));
    if (format.header) this.send(msg.copyData(Buffer.from(encodeCopyRow(fields.map((f) => f.name), format), 'utf8')));
    for (const row of rows) {
      const text = row.map((v, c) => (v === null ? null : encodeText(v, fields[c]?.typeOid ?? 25)));
      this.send(msg.copyData(Buffer.from(encodeCopyRow(text, format), 'utf8')));
      await this.flushIfFull();
    }
    this.send(msg.copyDone());
    this.send(msg.commandComplete(`COPY ${rows.length}`));
  }

  // ------------------------------------------------------------ extended query

  private async parse(body: BodyReader): Promise<void> {
    const name = body.cstring();
    const sql = body.cstring();
    const count = body.int16();
    if (count < 0) throw new ProtocolViolation('invalid parameter count');
    const paramTypes: number[] = [];
    for (let i = 0; i < count; i++) paramTypes.push(body.int32() >>> 0);
    body.end();
    if (name !== '' && this.statements.has(name)) throw new SqlError('42P05', `prepared statement "${name}" already exists`);
    if (this.statements.size >= MAX_OBJECTS_PER_CONNECTION) {
      throw new SqlError('54000', `too many prepared statements (limit ${MAX_OBJECTS_PER_CONNECTION}); close some first`);
    }
    // Re-parsing the unnamed statement drops it first, even if the new Parse fails.
    if (name === '') this.statements.delete('');
    const prepared = isEmptyQuery(sql) ? null : await this.requireSession().prepare(sql, paramTypes);
    if (prepared !== null && prepared.paramTypes.length > 65535) throw new SqlError('54000', 'too many parameters');
    this.statements.set(name, { sql, prepared });
    this.send(msg.parseComplete());
  }

  private async bind(body: BodyReader): Promise<void> {
    const portalName = body.cstring();
    const statementName = body.cstring();
    const paramFormats = readFormatCodes(body);
    const paramCount = body.int16();
    if (paramCount < 0) throw new ProtocolViolation('invalid parameter count');
    const rawParams: (Buffer | null)[] = [];
    for (let i = 0; i < paramCount; i++) {
      const length = body.int32();
      if (length < -1) throw new ProtocolViolation(`invalid parameter length ${length}`);
      rawParams.push(length === -1 ? null : body.bytes(length));
    }
    const resultFormats = readFormatCodes(body);
    body.end();
    const statement = this.statements.get(statementName);
    if (statement === undefined) throw new SqlError('26000', `prepared statement "${statementName}" does not exist`);
    const paramTypes = statement.prepared?.paramTypes ?? [];
    if (paramCount !== paramTypes.length) {
      throw new SqlError('08P01', `bind message supplies ${paramCount} parameters, but prepared statement "${statementName}" requires ${paramTypes.length}`);
    }
    const params = rawParams.map((raw, i) =>
      raw === null ? null : decodeParam(raw, paramTypes[i]!, formatFor(paramFormats, i, paramCount, 'parameter')),
    );
    const columnCount = statement.prepared?.fields?.length ?? 0;
    const formats = Array.from({ length: columnCount }, (_, i) => formatFor(resultFormats, i, columnCount, 'result'));
    if (portalName !== '' && this.portals.has(portalName)) throw new SqlError('42P03', `cursor "${portalName}" already exists`);
    if (this.portals.size >= MAX_OBJECTS_PER_CONNECTION) {
      throw new SqlError('54000', `too many open portals (limit ${MAX_OBJECTS_PER_CONNECTION}); close some first`);
    }
    this.portals.set(portalName, { statement, params, resultFormats: formats, result: null, rowsSent: 0 });
    this.send(msg.bindComplete());
  }

  private describe(body: BodyReader): void {
    const kind = String.fromCharCode(body.int8() & 0xff);
    const name = body.cstring();
    body.end();
    if (kind === 'S') {
      const statement = this.statements.get(name);
      if (statement === undefined) throw new SqlError('26000', `prepared statement "${name}" does not exist`);
      this.send(msg.parameterDescription(statement.prepared?.paramTypes ?? []));
      this.describeFields(statement.prepared?.fields ?? null, null);
    } else if (kind === 'P') {
      const portal = this.portals.get(name);
      if (portal === undefined) throw new SqlError('34000', `portal "${name}" does not exist`);
      this.describeFields(portal.statement.prepared?.fields ?? null, portal.resultFormats);
    } else {
      throw new ProtocolViolation(`invalid DESCRIBE message subtype ${describeType(kind.charCodeAt(0))}`);
    }
  }

  private describeFields(fields: readonly FieldInfo[] | null, formats: readonly FormatCode[] | null): void {
    if (fields === null) {
      this.send(msg.noData());
      return;
    }
    this.send(msg.rowDescription(describeFields(fields, formats ?? fields.map(() => 0))));
  }

  private async execute(body: BodyReader): Promise<void> {
    const name = body.cstring();
    const maxRows = body.int32();
    body.end();
    const portal = this.portals.get(name);
    if (portal === undefined) throw new SqlError('34000', `portal "${name}" does not exist`);
    const prepared = portal.statement.prepared;
    if (prepared === null) {
      this.send(msg.emptyQueryResponse());
      return;
    }
    if (portal.result === null) portal.result = await this.requireSession().execute(prepared, portal.params);
    const result = portal.result;
    // Encode with the types Describe announced: the client decodes by those.
    const fields = prepared.fields;
    if (fields === null || result.fields === null) {
      this.send(msg.commandComplete(result.command));
      return;
    }
    if (fields.length !== result.fields.length) {
      // The table changed under a prepared statement (ALTER TABLE … ADD COLUMN): its rows no longer fit the description.
      throw new SqlError('0A000', 'cached plan must not change result type', { hint: 'Prepare the statement again.' });
    }
    const start = portal.rowsSent;
    const end = maxRows > 0 ? Math.min(result.rows.length, start + maxRows) : result.rows.length;
    await this.sendRows(fields, result.rows, start, end, portal.resultFormats);
    portal.rowsSent = end;
    if (end < result.rows.length) {
      this.send(msg.portalSuspended());
      return;
    }
    // For a paged SELECT the tag counts the rows of this Execute, as Postgres does.
    const tag = /^SELECT \d+$/.test(result.command) ? `SELECT ${end - start}` : result.command;
    this.send(msg.commandComplete(tag));
  }

  private closeObject(body: BodyReader): void {
    const kind = String.fromCharCode(body.int8() & 0xff);
    const name = body.cstring();
    body.end();
    if (kind === 'S') this.statements.delete(name);
    else if (kind === 'P') this.portals.delete(name);
    else throw new ProtocolViolation(`invalid CLOSE message subtype ${describeType(kind.charCodeAt(0))}`);
    this.send(msg.closeComplete());
  }

  private async sync(): Promise<void> {
    this.skipTillSync = false;
    const status = this.session?.transactionStatus() ?? 'I';
    // Portals live until their transaction ends; outside a transaction that is every Sync.
    if (status === 'I') this.portals.clear();
    await this.readyForQuery();
  }
}

function describeFields(fields: readonly FieldInfo[], formats: readonly FormatCode[]): msg.RowDescriptionField[] {
  return fields.map((f, i) => ({ name: f.name, typeOid: f.typeOid, format: formats[i] ?? 0 }));
}

function readFormatCodes(body: BodyReader): number[] {
  const count = body.int16();
  if (count < 0) throw new ProtocolViolation('invalid format code count');
  const codes: number[] = [];
  for (let i = 0; i < count; i++) codes.push(body.int16());
  return codes;
}

/** Format codes: none = all text, one = applies to all, otherwise one per column/parameter. */
function formatFor(codes: readonly number[], index: number, total: number, what: string): FormatCode {
  if (codes.length > 1 && codes.length !== total) {
    throw new SqlError('08P01', `bind message has ${codes.length} ${what} formats but ${total} ${what}s`);
  }
  const code = codes.length === 0 ? 0 : codes.length === 1 ? codes[0]! : codes[index]!;
  if (code !== 0 && code !== 1) throw new SqlError('22023', `unsupported format code: ${code}`);
  return code;
}

function isEmptyQuery(sql: string): boolean {
  return /^[\s;]*$/.test(sql);
}

function describeType(code: number): string {
  return code >= 0x20 && code < 0x7f ? `"${String.fromCharCode(code)}"` : `0x${code.toString(16).padStart(2, '0')}`;
}
