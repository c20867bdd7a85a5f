// Streaming a snapshot of data.db between nodes over the peer transport, one
// chunk per request (stop-and-wait: a slow follower never floods the link that
// also carries heartbeats).

import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { NodeId, SnapshotChunkMsg, SnapshotRequestMsg } from '../paxos/types.js';
import { installSnapshot, listSnapshots, snapshotDigest, type SnapshotInfo } from '../storage/snapshot.js';

export const SNAPSHOT_CHUNK_BYTES = 1 << 20;
/** A fetch with no chunk for this long is abandoned; the next snapshot offer starts a new one. */
const CHUNK_TIMEOUT_MS = 5000;
const MAX_SNAPSHOT_BYTES = 64 * 1024 ** 3;

type Send = (msg: SnapshotRequestMsg | SnapshotChunkMsg) => void;

/** Answers peers' snapshot requests from the snapshots in `dir`. */
export class SnapshotServer {
  private readonly digests = new Map<string, Uint8Array>();

  constructor(
    private readonly self: NodeId,
    private readonly dir: string,
    private readonly send: Send,
    private readonly logger: Logger,
  ) {}

  async onRequest(msg: SnapshotRequestMsg): Promise<void> {
    const all = listSnapshots(this.dir);
    const snapshot = msg.slot === 0 ? all[all.length - 1] : all.find((s) => s.appliedSlot === msg.slot);
    if (snapshot === undefined) {
      this.logger.warn({ peer: msg.from, slot: msg.slot }, 'snapshot requested but not here');
      return;
    }
    const digest = await this.digestOf(snapshot);
    const data = await readChunk(snapshot.path, msg.offset, SNAPSHOT_CHUNK_BYTES);
    this.send({
      type: 'snapshot-chunk',
      from: this.self,
      to: msg.from,
      slot: snapshot.appliedSlot,
      offset: msg.offset,
      total: snapshot.bytes,
      digest,
      data,
    });
  }

  private async digestOf(snapshot: SnapshotInfo): Promise<Uint8Array> {
    let digest = this.digests.get(snapshot.path);
    if (digest === undefined) {
      digest = Buffer.from(await snapshotDigest(snapshot.path), 'hex');
      this.digests.set(snapshot.path, digest);
    }
    return digest;
  }
}

async function readChunk(path: string, offset: number, length: number): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

interface Waiter {
  readonly offset: number;
  readonly resolve: (chunk: SnapshotChunkMsg) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/** Fetches a peer's latest snapshot into `dir`, verified against the digest the peer sends. */
export class SnapshotFetcher {
  private waiter: Waiter | null = null;
  private active: NodeId | null = null;

  constructor(
    private readonly self: NodeId,
    private readonly dir: string,
    private readonly send: Send,
  ) {}

  get busy(): boolean {
    return this.active !== null;
  }

  async fetch(from: NodeId): Promise<SnapshotInfo> {
    if (this.active !== null) throw new Error('a snapshot fetch is already running');
    this.active = from;
    try {
      const first = await this.request(from, 0, 0);
      const slot = first.slot;
      const chunks = this.chunks(from, first);
      return await installSnapshot(this.dir, slot, chunks, {
        maxBytes: MAX_SNAPSHOT_BYTES,
        sha256: Buffer.from(first.digest).toString('hex'),
      });
    } finally {
      this.active = null;
      if (this.waiter !== null) {
        clearTimeout(this.waiter.timer);
        this.waiter = null;
      }
    }
  }

  private async *chunks(from: NodeId, first: SnapshotChunkMsg): AsyncGenerator<Uint8Array> {
    let chunk = first;
    for (;;) {
      if (chunk.slot !== first.slot || chunk.total !== first.total) throw new Error('the peer\'s snapshot changed during the transfer');
      yield chunk.data;
      const next = chunk.offset + chunk.data.length;
      if (next >= chunk.total) return;
      if (chunk.data.length === 0) throw new Error('the peer sent an empty chunk before the end');
      chunk = await this.request(from, first.slot, next);
    }
  }

  private request(from: NodeId, slot: number, offset: number): Promise<SnapshotChunkMsg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no snapshot chunk from node ${from} within ${CHUNK_TIMEOUT_MS} ms`));
      }, CHUNK_TIMEOUT_MS);
      this.waiter = { offset, resolve, reject, timer };
      this.send({ type: 'snapshot-request', from: this.self, to: from, slot, offset });
    });
  }

  onChunk(msg: SnapshotChunkMsg): void {
    const w = this.waiter;
    if (w === null || msg.from !== this.active || msg.offset !== w.offset) return; // late or duplicate
    this.waiter = null;
    clearTimeout(w.timer);
    w.resolve(msg);
  }
}
