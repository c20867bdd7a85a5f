// A small pool of snapshot reader threads (workers/snapshot.ts). A read-only
// transaction borrows one for its whole life, so all its statements read one
// snapshot; it gives it back at COMMIT or ROLLBACK. Threads start on demand,
// up to a limit; beyond it a transaction waits for one.

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { SqlError, type QueryResult, type SqlValue } from '../sql/types.js';
import type { ExecContext } from '../sql/functions.js';
import type { ReadWorkerData } from './read-protocol.js';
import type { SnapshotReaderReply, SnapshotReaderTask } from './snapshot-protocol.js';
import { fromWire } from './wire-error.js';

interface Reader {
  readonly worker: Worker;
  /** The reply to the one request in flight (a reader serves one transaction, one statement at a time). */
  waiting: ((reply: SnapshotReaderReply) => void) | null;
  ready: Promise<void>;
  failed: Error | null;
}

/** One open read-only transaction. */
export interface Snapshot {
  /** The applied slot it reflects, and the last slot before it that changed the database. */
  readonly slot: number;
  readonly changed: number;
  /** `signal`: cancel the statement (statement_timeout, CancelRequest); that ends the snapshot's reader thread, and with it the snapshot. */
  query(sql: string, params: readonly SqlValue[], ctx: ExecContext, signal?: AbortSignal): Promise<QueryResult>;
  release(): Promise<void>;
}

export class SnapshotReaders {
  private readonly idle: Reader[] = [];
  private readonly all = new Set<Reader>();
  private readonly waiters: ((reader: Reader) => void)[] = [];
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly data: ReadWorkerData,
    private readonly max: number,
    private readonly logger: Logger,
  ) {}

  /** Open a snapshot: the caller has already waited for its read index to be applied. */
  async open(deadline: number): Promise<Snapshot> {
    const reader = await this.borrow(deadline);
    try {
      const begun = await this.call(reader, { op: 'begin' });
      if (begun.op !== 'begin') throw new Error('snapshot reader answered the wrong task');
      return this.snapshot(reader, begun.slot, begun.changed);
    } catch (error) {
      this.giveBack(reader);
      throw error;
    }
  }

  private snapshot(reader: Reader, slot: number, changed: number): Snapshot {
    let released = false;
    return {
      slot,
      changed,
      query: async (sql, params, ctx, signal) => {
        if (released) throw new SqlError('XX000', 'query on a released snapshot');
        // SQLite cannot be interrupted from here: a cancelled statement ends its thread.
        const cancel = (): void => this.discard(reader);
        signal?.addEventListener('abort', cancel, { once: true });
        try {
          const reply = await this.call(reader, { op: 'query', sql, params, ctx });
          if (reply.op !== 'query') throw new Error('snapshot reader answered the wrong task');
          return reply.result;
        } finally {
          signal?.removeEventListener('abort', cancel);
        }
      },
      release: async () => {
        if (released) return;
        released = true;
        try {
          if (reader.failed === null) await this.call(reader, { op: 'end' });
        } finally {
          this.giveBack(reader);
        }
      },
    };
  }

  /** End a reader whose statement was cancelled: its request fails with 57014, and the thread is gone. */
  private discard(reader: Reader): void {
    if (reader.failed !== null) return;
    reader.failed = new Error('its statement was cancelled');
    this.all.delete(reader);
    void reader.worker.terminate();
    const waiting = reader.waiting;
    reader.waiting = null;
    waiting?.({ op: 'error', error: { code: '57014', message: 'canceling statement due to user request' } });
  }

  private async call(reader: Reader, task: SnapshotReaderTask): Promise<SnapshotReaderReply> {
    await reader.ready;
    if (reader.failed !== null) throw new SqlError('XX000', `snapshot reader failed: ${reader.failed.message}`);
    if (reader.waiting !== null) throw new Error('a snapshot reader got two requests at once');
    const reply = await new Promise<SnapshotReaderReply>((resolve) => {
      reader.waiting = resolve;
      reader.worker.postMessage(task);
    });
    if (reply.op === 'error') throw fromWire(reply.error);
    return reply;
  }

  private borrow(deadline: number): Promise<Reader> {
    if (this.closed) return Promise.reject(new SqlError('57P01', 'the node is shutting down'));
    const reader = this.idle.pop() ?? (this.all.size < this.max ? this.spawn() : undefined);
    if (reader !== undefined) return Promise.resolve(reader);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(take);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new SqlError('53300', `all ${this.max} snapshot readers are busy with open read-only transactions`, { hint: 'Retry, or keep read-only transactions short.' }));
      }, Math.max(0, deadline - Date.now()));
      const take = (r: Reader) => {
        clearTimeout(timer);
        resolve(r);
      };
      this.waiters.push(take);
    });
  }

  private giveBack(reader: Reader): void {
    if (reader.failed !== null || this.closed) return;
    const next = this.waiters.shift();
    if (next !== undefined) next(reader);
    else this.idle.push(reader);
  }

  private spawn(): Reader {
    const worker = new Worker(this.file, { workerData: this.data });
    let signalReady: () => void = () => undefined;
    const reader: Reader = { worker, waiting: null, ready: new Promise((r) => (signalReady = r)), failed: null };
    let started = false;
    worker.on('message', (reply: SnapshotReaderReply) => {
      if (!started) {
        started = true;
        signalReady();
        return;
      }
      const waiting = reader.waiting;
      reader.waiting = null;
      waiting?.(reply);
    });
    worker.on('error', (error) => {
      this.logger.error({ err: error }, 'snapshot reader failed');
      reader.failed = error;
      signalReady();
      this.all.delete(reader);
      const i = this.idle.indexOf(reader);
      if (i >= 0) this.idle.splice(i, 1);
      reader.waiting?.({ op: 'error', error: { code: 'XX000', message: `snapshot reader failed: ${error.message}` } });
      reader.waiting = null;
    });
    this.all.add(reader);
    return reader;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((r) => r.worker.terminate()));
    this.all.clear();
    this.idle.length = 0;
  }
}
