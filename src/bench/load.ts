// The load: closed-loop clients on real Postgres connections (node-postgres),
// spread over every node. A failed operation is retried the way an application
// with a list of hosts retries: the same operation again, on a fresh connection
// to the next node, after a short backoff, until it succeeds or the run ends.

import pg from 'pg';
import type { Logger } from 'pino';
import type { ProtocolName } from './options.js';
import type { Recorder } from './stats.js';
import { queryConfig, type Operation, type Workload } from './workloads.js';
import type { Random } from '../util/random.js';

/** What the load learned that the final check needs, and operation-level counts. */
export interface LoadOutcome {
  /** Ids of inserts the server acknowledged (insert and mixed workloads). */
  readonly acknowledgedIds: number[];
  /** Acknowledged write operations (updates, tpcb transactions, inserts). */
  acknowledgedWrites: number;
  /** Write attempts sent, acknowledged or not: an upper bound on what may have been applied. */
  writeAttempts: number;
  /** Inserts whose retry found the row already there (an earlier attempt's outcome was unknown but it had applied). */
  duplicateOnRetry: number;
  /** Operations that failed with an error that retrying cannot fix (counted, not retried). */
  failedOperations: number;
  /** Operations still unfinished when the run ended. */
  abandonedOperations: number;
}

export interface LoadParameters {
  readonly urls: readonly string[];
  readonly clients: number;
  readonly protocol: ProtocolName;
  readonly workload: Workload;
  readonly recorder: Recorder;
  /** Milliseconds (recorder time) at which clients stop starting operations. */
  readonly endMs: number;
  readonly opTimeoutMs: number;
  readonly random: Random;
  readonly logger: Logger;
}

/** SQLSTATEs after which the same operation is retried (on another node). */
const RETRYABLE_SQLSTATE = /^(08...|40001|40003|40P01|53300|57P0[1-3]|57014|55006|25P02)$/;
/** The label for a failure with no SQLSTATE: the connection broke (08006 connection_failure). */
const CONNECTION_FAILURE = '08006';
/** The label for a client-side timeout (57014 query_canceled is what a statement_timeout gives). */
const CLIENT_TIMEOUT = '57014';
/** A client that keeps getting non-retryable errors is stopped: the workload cannot run here. */
const MAX_CONSECUTIVE_FAILURES = 200;

export interface Classified {
  readonly sqlstate: string;
  readonly retry: boolean;
}

/** The SQLSTATE of a pg error; network failures and client timeouts get the codes Postgres would use. */
export function classifyError(error: unknown): Classified {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return { sqlstate: code, retry: RETRYABLE_SQLSTATE.test(code) };
  const message = error instanceof Error ? error.message : String(error);
  if (/timeout/i.test(message)) return { sqlstate: CLIENT_TIMEOUT, retry: true };
  return { sqlstate: CONNECTION_FAILURE, retry: true };
}

export function emptyOutcome(): LoadOutcome {
  return { acknowledgedIds: [], acknowledgedWrites: 0, writeAttempts: 0, duplicateOnRetry: 0, failedOperations: 0, abandonedOperations: 0 };
}

/** Run every client until endMs and return what they saw (the recorder holds the timings). */
export async function runLoad(parameters: LoadParameters): Promise<LoadOutcome> {
  const outcome = emptyOutcome();
  const clients = Array.from({ length: parameters.clients }, (_, i) => new LoadClient(i, parameters, outcome, parameters.random.fork()));
  await Promise.all(clients.map((c) => c.run()));
  return outcome;
}

class LoadClient {
  private nodeIndex: number;
  private connection: pg.Client | null = null;
  private consecutiveFailures = 0;

  constructor(
    private readonly index: number,
    private readonly p: LoadParameters,
    private readonly outcome: LoadOutcome,
    private readonly random: Random,
  ) {
    this.nodeIndex = index % p.urls.length;
  }

  async run(): Promise<void> {
    try {
      while (this.p.recorder.now() < this.p.endMs) {
        await this.perform(this.p.workload.next(this.random));
        if (this.consecutiveFailures >= MAX_CONSECUTIVE_FAILURES) {
          this.p.logger.error({ client: this.index }, 'client stopped: every operation fails with a non-retryable error');
          return;
        }
      }
    } finally {
      await this.disconnect();
    }
  }

  /** One operation, retried until it succeeds, fails for good, or the run ends. */
  private async perform(operation: Operation): Promise<void> {
    const recorder = this.p.recorder;
    const opStart = recorder.now();
    for (let attempt = 0; ; attempt++) {
      if (recorder.now() >= this.p.endMs && attempt > 0) {
        this.outcome.abandonedOperations++;
        return;
      }
      const attemptStart = recorder.now();
      try {
        const client = await this.connect();
        if (operation.kind === 'write') this.outcome.writeAttempts++;
        await this.execute(client, operation);
        this.acknowledge(operation, opStart, attemptStart);
        return;
      } catch (error) {
        const { sqlstate, retry } = classifyError(error);
        recorder.error(sqlstate, recorder.now());
        if (sqlstate === '23505' && attempt > 0 && operation.insertId !== null) {
          // An earlier attempt's outcome was unknown and it did apply: the row is there, as the application wanted.
          this.outcome.duplicateOnRetry++;
          this.acknowledge(operation, opStart, attemptStart);
          return;
        }
        if (!retry) {
          this.outcome.failedOperations++;
          this.consecutiveFailures++;
          return;
        }
        await this.moveToNextNode();
        await this.backoff(attempt);
      }
    }
  }

  private acknowledge(operation: Operation, opStart: number, attemptStart: number): void {
    this.consecutiveFailures = 0;
    this.p.recorder.success(operation.kind, opStart, attemptStart, this.p.recorder.now());
    if (operation.kind !== 'write') return;
    this.outcome.acknowledgedWrites++;
    if (operation.insertId !== null) this.outcome.acknowledgedIds.push(operation.insertId);
  }

  private async execute(client: pg.Client, operation: Operation): Promise<void> {
    if (!operation.transaction) {
      for (const statement of operation.statements) await client.query(queryConfig(statement, this.p.protocol));
      return;
    }
    await client.query('BEGIN');
    try {
      for (const statement of operation.statements) await client.query(queryConfig(statement, this.p.protocol));
    } catch (error) {
      // Leave the session usable; if even ROLLBACK fails the connection is dropped by the retry path.
      await client.query('ROLLBACK').catch(() => this.disconnect());
      throw error;
    }
    await client.query('COMMIT');
  }

  private async connect(): Promise<pg.Client> {
    if (this.connection !== null) return this.connection;
    const client = new pg.Client({
      connectionString: this.p.urls[this.nodeIndex],
      connectionTimeoutMillis: Math.min(this.p.opTimeoutMs, 3000),
      query_timeout: this.p.opTimeoutMs,
    });
    // A killed node drops the connection: the pending query rejects, which is where the failure is counted.
    client.on('error', () => undefined);
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.connection = client;
    return client;
  }

  private async moveToNextNode(): Promise<void> {
    await this.disconnect();
    this.nodeIndex = (this.nodeIndex + 1) % this.p.urls.length;
  }

  private async disconnect(): Promise<void> {
    const client = this.connection;
    this.connection = null;
    // Ending a connection to a dead node fails; the connection is gone either way.
    if (client !== null) await client.end().catch(() => undefined);
  }

  /** 10, 20, 40, 80, 160, 200 ms …, jittered, and never past the end of the run. */
  private async backoff(attempt: number): Promise<void> {
    const base = Math.min(200, 10 * 2 ** Math.min(attempt, 5));
    const wait = base / 2 + this.random.int(Math.ceil(base / 2) + 1);
    const left = this.p.endMs - this.p.recorder.now();
    if (left <= 0) return;
    await new Promise((done) => setTimeout(done, Math.min(wait, left)));
  }
}
