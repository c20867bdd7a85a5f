// The runtime's side of the Paxos log thread: calls answered in order.

import { Worker } from 'node:worker_threads';
import type { AcceptedEntry, Ballot, Slot } from '../paxos/types.js';
import type { LogReply, LogTask } from './log-protocol.js';

export interface LoadedLog {
  readonly promised: Ballot;
  readonly accepted: readonly AcceptedEntry[];
}

export class LogThread {
  private readonly waiting: ((reply: LogReply) => void)[] = [];
  private first: Slot = 1;
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: LogReply) => this.waiting.shift()?.(reply));
    worker.on('error', (error) => {
      this.failure = error;
      for (const w of this.waiting.splice(0)) w({ op: 'error', message: error.message });
    });
  }

  static async open(file: string, path: string): Promise<{ log: LogThread; state: LoadedLog }> {
    const log = new LogThread(new Worker(file));
    const reply = await log.call({ op: 'open', path });
    if (reply.op !== 'open') throw new Error('paxos log thread answered the wrong request');
    log.first = reply.firstSlot;
    return { log, state: { promised: reply.promised, accepted: reply.accepted } };
  }

  /** The lowest slot still in the log (1 until the first compaction). */
  firstSlot(): Slot {
    return this.first;
  }

  /** Durable when the promise resolves: one transaction, one fsync. */
  async persist(promised: Ballot | null, accepted: readonly AcceptedEntry[]): Promise<void> {
    await this.call({ op: 'persist', promised, accepted });
  }

  async compact(through: Slot): Promise<void> {
    const reply = await this.call({ op: 'compact', through });
    if (reply.op === 'compact') this.first = reply.firstSlot;
  }

  /** Durable entries fromSlot..toSlot, in order, up to the first missing slot. */
  async read(fromSlot: Slot, toSlot: Slot): Promise<readonly AcceptedEntry[]> {
    const reply = await this.call({ op: 'read', fromSlot, toSlot });
    if (reply.op !== 'read') throw new Error('paxos log thread answered the wrong request');
    return reply.entries;
  }

  async close(): Promise<void> {
    await this.call({ op: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }

  private call(task: LogTask): Promise<LogReply> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push((reply) => (reply.op === 'error' ? reject(new Error(`paxos log: ${reply.message}`)) : resolve(reply)));
      this.worker.postMessage(task);
    });
  }
}
