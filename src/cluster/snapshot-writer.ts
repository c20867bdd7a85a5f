// The runtime's side of the snapshot writer thread (workers/snapshot-writer.ts),
// which copies data.db so that the apply worker never stops for a snapshot.
// One thread for the node's life, started at the first snapshot: a new thread
// per snapshot cost 30-60 MB more peak memory (measured, bench/README.md).

import { Worker } from 'node:worker_threads';
import type { Slot } from '../paxos/types.js';
import type { SnapshotWriterData, SnapshotWriterReply } from './snapshot-protocol.js';

export class SnapshotWriter {
  private worker: Worker | null = null;
  private waiting: ((reply: SnapshotWriterReply) => void) | null = null;

  constructor(
    private readonly file: string,
    private readonly data: SnapshotWriterData,
  ) {}

  /** Write a snapshot; settles with the applied slot it reflects and its file, once fsynced. One at a time. */
  write(): Promise<{ slot: Slot; path: string }> {
    if (this.waiting !== null) return Promise.reject(new Error('snapshot writer busy'));
    const worker = this.start();
    return new Promise((resolve, reject) => {
      this.waiting = (reply) => (reply.ok ? resolve({ slot: reply.slot, path: reply.path }) : reject(new Error(`snapshot: ${reply.message}`)));
      worker.postMessage('write');
    });
  }

  /** At shutdown: a half-written copy is a temporary file that the next prune removes. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private start(): Worker {
    if (this.worker !== null) return this.worker;
    const worker = new Worker(this.file, { workerData: this.data });
    const answer = (reply: SnapshotWriterReply): void => {
      const waiting = this.waiting;
      this.waiting = null;
      waiting?.(reply);
    };
    worker.on('message', answer);
    worker.on('error', (error) => answer({ ok: false, message: error.message }));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null; // started again at the next snapshot
      answer({ ok: false, message: `snapshot writer exited (code ${code})` });
    });
    this.worker = worker;
    return worker;
  }
}
