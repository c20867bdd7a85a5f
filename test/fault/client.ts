// Postgres clients of the fault tests, behaving like an application would:
// one connection at a time to some node, a client-side timeout on every
// statement (a paused node never answers), and, when the connection dies or
// times out, a new connection to the next node.
//
// What an error means for the history (Jepsen's ok / fail / info):
//   fail  the statement definitely did not take effect: SQLSTATE 40001 (the
//         product's contract: "it was not applied"), and errors raised while
//         executing it (constraint, syntax, data errors...);
//   info  it may or may not have: 40003 (completion unknown), a lost
//         connection, a client-side timeout, a shutdown, an internal error.

import pg from 'pg';

export type ErrorOutcome = { readonly type: 'fail' | 'info'; readonly error: string };

/** SQLSTATE classes (first two characters) of errors raised before or while executing, which leave nothing behind. */
const DEFINITE_CLASSES = new Set(['22', '23', '42', '0A', '54']);
/** Single SQLSTATEs that guarantee nothing happened. */
const DEFINITE_CODES = new Set(['40001', '25P02', '25P01', '25001']);

/** Thrown by the client when a statement outlives its timeout. */
export class ClientTimeoutError extends Error {
  constructor(readonly ms: number) {
    super(`no answer within ${ms} ms (client timeout)`);
    this.name = 'ClientTimeoutError';
  }
}

export function sqlState(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Whether the server answered with an error (so the connection itself is still usable). */
export function isServerError(error: unknown): boolean {
  return sqlState(error) !== undefined;
}

export function classifyError(error: unknown): ErrorOutcome {
  const code = sqlState(error);
  if (code === undefined) return { type: 'info', error: describeError(error) };
  const definite = DEFINITE_CODES.has(code) || DEFINITE_CLASSES.has(code.slice(0, 2));
  return { type: definite ? 'fail' : 'info', error: code };
}

export function describeError(error: unknown): string {
  if (error instanceof ClientTimeoutError) return 'timeout';
  const code = sqlState(error);
  if (code !== undefined) return code;
  const message = error instanceof Error ? error.message : String(error);
  return /terminated|ECONNRESET|EPIPE|closed|ECONNREFUSED/i.test(message) ? 'connection-lost' : message.slice(0, 120);
}

export interface NodeClientOptions {
  /** Node ids in the order this client tries them; it starts at the first. */
  readonly nodes: readonly number[];
  readonly url: (node: number) => string;
  readonly statementTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** Run on each new connection (e.g. SET paxosql.read_consistency = local on followers). */
  readonly onConnect?: (client: pg.Client, node: number) => Promise<void>;
}

/**
 * One logical client: a pg connection to one node at a time. `query` throws
 * the driver's error; after a timeout or a lost connection the connection is
 * dropped, and the next `connect` goes to the next node.
 */
export class NodeClient {
  private client: pg.Client | null = null;
  private position = 0;
  private connectedNode: number | null = null;

  constructor(private readonly options: NodeClientOptions) {}

  get node(): number | null {
    return this.connectedNode;
  }

  /** Ensure a connection, trying each node once; false if none accepted one. */
  async connect(): Promise<boolean> {
    if (this.client !== null) return true;
    for (let tries = 0; tries < this.options.nodes.length; tries++) {
      const node = this.options.nodes[this.position % this.options.nodes.length]!;
      const client = new pg.Client({ connectionString: this.options.url(node), connectionTimeoutMillis: this.options.connectTimeoutMs });
      client.on('error', () => undefined); // a dead node drops the socket; the pending query reports it
      try {
        await withTimeout(client.connect(), this.options.connectTimeoutMs);
        await withTimeout(this.options.onConnect?.(client, node) ?? Promise.resolve(), this.options.statementTimeoutMs);
        this.client = client;
        this.connectedNode = node;
        return true;
      } catch {
        destroyClient(client);
        this.position++;
      }
    }
    return false;
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<pg.QueryResult> {
    const client = this.client;
    if (client === null) throw new Error('not connected');
    try {
      return await withTimeout(client.query(sql, params as unknown[]), this.options.statementTimeoutMs);
    } catch (error) {
      // A server error leaves the connection usable; anything else (timeout, socket) does not.
      if (!isServerError(error)) this.abandon();
      throw error;
    }
  }

  /** Drop the connection and move on to the next node. */
  abandon(): void {
    if (this.client !== null) destroyClient(this.client);
    this.client = null;
    this.connectedNode = null;
    this.position++;
  }

  close(): void {
    if (this.client !== null) destroyClient(this.client);
    this.client = null;
    this.connectedNode = null;
  }
}

/** Close the socket without waiting for the server (a paused node would never answer Terminate). */
function destroyClient(client: pg.Client): void {
  client.connection.stream.destroy();
}

export async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ClientTimeoutError(ms)), ms);
  });
  promise.catch(() => undefined); // it may reject after the timeout won; nobody listens then
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
