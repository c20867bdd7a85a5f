// The listening side: accepts TCP connections, assigns each a process id and
// secret key (for CancelRequest), enforces the connection limit and runs a
// Connection per socket.

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import { pino, type Logger } from 'pino';
import type { AuthConfig } from './auth.js';
import type { Backend } from './backend.js';
import { Connection, type ConnectionHost, type ConnectionSettings } from './connection.js';

export interface PgServerOptions {
  readonly backend: Backend;
  /** Default: trust, any user. */
  readonly auth?: AuthConfig;
  /** Database names accepted in the startup packet. Default: paxosql, postgres. */
  readonly databases?: readonly string[];
  /** Users reported with is_superuser = on. */
  readonly superusers?: readonly string[];
  /** Reported as server_version; clients parse it, so keep it a plain 15.x. Default 15.4. */
  readonly serverVersion?: string;
  /** Sessions served at once; the next gets 53300. Default 100. */
  readonly maxConnections?: number;
  /** Largest message body after startup (Query, Bind, CopyData...). Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Largest startup/authentication packet. Default 10000 bytes, as Postgres. */
  readonly maxStartupBytes?: number;
  /** PEM key and certificate: SSLRequest is then answered 'S' and the socket upgraded to TLS. */
  readonly tls?: { readonly key: string | Buffer; readonly cert: string | Buffer };
  readonly logger?: Logger;
}

export const DEFAULT_DATABASES: readonly string[] = ['paxosql', 'postgres'];

export class PgServer implements ConnectionHost {
  readonly settings: ConnectionSettings;
  private readonly server: Server;
  private readonly log: Logger;
  /** Every live connection by process id (including ones still in startup). */
  private readonly connections = new Map<number, Connection>();
  private sessions = 0;
  private nextProcessId = 1;

  constructor(options: PgServerOptions) {
    this.log = options.logger ?? pino({ level: 'silent' });
    const maxConnections = options.maxConnections ?? 100;
    if (!(maxConnections >= 1)) throw new Error('maxConnections must be at least 1');
    this.settings = {
      backend: options.backend,
      auth: options.auth ?? { method: 'trust', users: new Map() },
      databases: options.databases ?? DEFAULT_DATABASES,
      superusers: new Set(options.superusers ?? []),
      serverVersion: options.serverVersion ?? '15.4',
      maxConnections,
      maxMessageBytes: options.maxMessageBytes ?? 64 * 1024 * 1024,
      maxStartupBytes: options.maxStartupBytes ?? 10_000,
      inputHighWaterBytes: 1024 * 1024,
      outputFlushBytes: 256 * 1024,
      copyBatchRows: 1000,
      secureContext: options.tls === undefined ? undefined : createSecureContext({ key: options.tls.key, cert: options.tls.cert }),
    };
    this.server = createServer((socket) => this.accept(socket));
    // Sockets still in startup (or sending cancels) are not sessions, but must be bounded too.
    this.server.maxConnections = maxConnections * 2 + 16;
    this.server.on('error', (err) => this.log.error({ err }, 'server error'));
  }

  /** Starts listening; port 0 picks a free port. */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        const address = this.server.address() as AddressInfo;
        this.log.info({ port: address.port, host }, 'pgwire listening');
        resolve(address);
      });
    });
  }

  /** Stops accepting, ends every connection and waits for their sessions to close. */
  async close(): Promise<void> {
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const live = [...this.connections.values()];
    for (const c of live) c.terminate();
    await Promise.all(live.map((c) => c.whenClosed()));
    await closing;
  }

  /** Number of sessions past startup (counted against maxConnections). */
  get sessionCount(): number {
    return this.sessions;
  }

  /** Number of open sockets, in any phase. */
  get connectionCount(): number {
    return this.connections.size;
  }

  tryAdmit(_connection: Connection): boolean {
    if (this.sessions >= this.settings.maxConnections) return false;
    this.sessions++;
    return true;
  }

  release(_connection: Connection): void {
    this.sessions--;
    if (this.sessions < 0) throw new Error('session count went negative');
  }

  cancel(processId: number, secretKey: number): void {
    const target = this.connections.get(processId);
    const done = target?.cancel(secretKey) ?? false;
    this.log.debug({ processId, done }, 'cancel request');
  }

  private accept(socket: Socket): void {
    const processId = this.allocateProcessId();
    const connection = new Connection(socket, this, processId, this.log);
    this.connections.set(processId, connection);
    void connection.run().finally(() => this.connections.delete(processId));
  }

  /** Positive Int32 ids, skipping ones still in use after wrap-around. */
  private allocateProcessId(): number {
    for (let attempts = 0; attempts < 1_000_000; attempts++) {
      const id = this.nextProcessId;
      this.nextProcessId = id >= 0x7fffffff ? 1 : id + 1;
      if (!this.connections.has(id)) return id;
    }
    throw new Error('no free process id');
  }
}
