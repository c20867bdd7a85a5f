// The node runtime: drives the pure Paxos core with real time, durable
// storage and TCP, and owns the apply worker (the only writer of data.db) and
// the read pool. Each Ready is carried out as persist → send → apply → advance.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomInt } from 'node:crypto';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { formatBallot } from '../paxos/ballot.js';
import { PaxosNode, type PaxosStatus } from '../paxos/node.js';
import { vouchesForDurableState, type AcceptedEntry, type Fetch, type Message, type NodeId, type PaxosConfig, type Ready, type Slot, type TxRequestMsg } from '../paxos/types.js';
import { compactInSteps, type PaxosLog } from '../storage/paxos-log.js';
import { listSnapshots, pruneSnapshots, type SnapshotInfo } from '../storage/snapshot.js';
import { SqlitePaxosLog } from '../storage/sqlite-paxos-log.js';
import { SnapshotFetcher, SnapshotServer } from './snapshot-transfer.js';
import { SnapshotReaders, type Snapshot } from './snapshot-readers.js';
import { SnapshotWriter } from './snapshot-writer.js';
import { fromWire } from './wire-error.js';
import { LeaderTransactions, type TransactionHost, type TxReply, type TxRequest } from './transactions.js';
import { decodeTxReply, decodeTxRequest, encodeTxReply, encodeTxRequest } from './tx-wire.js';
import { TcpTransport } from '../transport/tcp-transport.js';
import { createRandom } from '../util/random.js';
import { SqlError, type FieldInfo, type QueryResult, type SqlValue } from '../sql/types.js';
import type { ExecContext } from '../sql/functions.js';
import { initParser } from '../sql/parse.js';
import type { ApplyReply, ApplyTask, CommandOutcome, EntryToApply } from './apply-protocol.js';
import { encodeCommand, type Command, type Statement } from './command.js';
import type { ClusterConfig } from './config.js';
import type { ReadReply, ReadTask, ReadWorkerData } from './read-protocol.js';

export interface NodeStatus extends PaxosStatus {
  readonly applied: Slot;
  readonly logFirstSlot: Slot;
  readonly pendingWrites: number;
}

interface PendingWrite {
  /** Null: proposed by someone else (a transaction's entry, by the leader); only wait for the outcome. */
  readonly bytes: Uint8Array | null;
  readonly deadline: number;
  /** When it was last handed to the core (0: never), and which leader the core knew then. */
  proposedAt: number;
  proposedLeader: NodeId | null;
  readonly resolve: (results: readonly QueryResult[]) => void;
  readonly reject: (error: SqlError) => void;
}

interface PendingRead {
  readonly deadline: number;
  /** The read index, or null when no leader answered (readBarrier asks again). */
  readonly resolve: (index: Slot | null) => void;
  readonly reject: (error: SqlError) => void;
}

interface Description {
  readonly paramTypeOids: readonly number[];
  readonly fields: readonly FieldInfo[] | null;
}

const MAX_CACHED_DESCRIPTIONS = 1000;
/** Read-only transactions open at once on a node (each holds a thread and a snapshot). */
const MAX_SNAPSHOT_READERS = 4;
/** Most entries handed to the apply worker in one task. */
const APPLY_BATCH_ENTRIES = 1000;
/** Slots of paxos.db deleted per event-loop turn when compacting (~2-3 ms of work at ~2 KB per slot). */
const COMPACT_CHUNK_SLOTS = 1024;
/** A write not applied this long after it was proposed is proposed again (deduplicated at apply). */
const REPROPOSE_AFTER_MS = 2000;

/** Where the compiled worker files are: dist/workers/, also when running from TypeScript sources. */
export function workerFile(name: 'apply-entry.cjs' | 'read-entry.cjs' | 'snapshot.js' | 'snapshot-writer.js'): string {
  const here = fileURLToPath(import.meta.url);
  const root = here.includes('/dist/') ? here.slice(0, here.lastIndexOf('/dist/')) : join(here, '..', '..', '..');
  return join(root, 'dist', 'workers', name);
}

export class ClusterNode {
  readonly id: NodeId;
  readonly dataDir: string;
  /** Unique per process start: sessions and read ids never collide with a previous run's. */
  private readonly incarnation = randomInt(1, 2 ** 31);
  private nextSession = 1;
  private nextReadId = 1;
  private core!: PaxosNode;
  /** paxos.db, written on the event loop: see drain(). */
  private log!: PaxosLog;
  /** A compaction of paxos.db is under way, a chunk per event-loop turn. */
  private compacting: Promise<void> | null = null;
  private transport!: TcpTransport;
  private applyPool!: Piscina;
  private readPool!: Piscina;
  private snapshotReaders!: SnapshotReaders;
  private ticker: NodeJS.Timeout | null = null;
  private scheduled = false;
  private stopped = false;
  private applied: Slot = 0;
  /** Bytes of the commands applied since the last snapshot (this run), for compactionBytes. */
  private appliedBytesSinceSnapshot = 0;
  private readonly applyQueue: EntryToApply[] = [];
  private applying = false;
  private readonly pendingWrites = new Map<string, PendingWrite>();
  private readonly pendingReads = new Map<number, PendingRead>();
  private appliedWaiters: { index: Slot; resolve: () => void }[] = [];
  private lastRole = '';
  private lastTickAt = performance.now();
  private snapshotsDir = '';
  private snapshotServer!: SnapshotServer;
  private snapshotFetcher!: SnapshotFetcher;
  /** A snapshot is being written, by its own thread (applying goes on meanwhile). */
  private snapshotting = false;
  private snapshotWriter!: SnapshotWriter;
  /** Settles when the snapshot being written is done (an install waits for it). */
  private snapshotDone: Promise<void> | null = null;
  private installing = false;
  private applyIdle: (() => void)[] = [];
  private schemaVersion = -1;
  private readonly descriptions = new Map<string, { version: number; description: Description }>();
  /** Settles when a running snapshot install is done; reads wait for it. */
  private installDone: Promise<void> | null = null;
  private transactions!: LeaderTransactions;
  /** The apply connection is inside a leader's speculative transaction: no entry may be applied. */
  private txOpen = false;
  private quiesceWaiters: (() => void)[] = [];
  private nextTxRpc = 1;
  private readonly txRpcs = new Map<number, { readonly leader: NodeId; readonly commit: boolean; resolve: (reply: TxReply) => void; timer: NodeJS.Timeout }>();

  private constructor(
    readonly config: ClusterConfig,
    self: NodeId,
    private readonly logger: Logger,
  ) {
    this.id = self;
    this.dataDir = join(config.dataDir, `node-${self}`);
  }

  static async start(config: ClusterConfig, self: NodeId, logger: Logger): Promise<ClusterNode> {
    const node = new ClusterNode(config, self, logger.child({ node: self }));
    await node.open();
    return node;
  }

  private async open(): Promise<void> {
    // Sessions and the leader's transactions classify statements on this thread.
    await initParser();
    mkdirSync(this.dataDir, { recursive: true });
    this.log = SqlitePaxosLog.open(join(this.dataDir, 'paxos.db'), { logger: this.logger });
    const durable = this.log.load();
    this.snapshotsDir = join(this.dataDir, 'snapshots');
    this.snapshotWriter = new SnapshotWriter(workerFile('snapshot-writer.js'), { path: join(this.dataDir, 'data.db'), dir: this.snapshotsDir });
    const dataPath = join(this.dataDir, 'data.db');
    this.applyPool = new Piscina({ filename: workerFile('apply-entry.cjs'), minThreads: 1, maxThreads: 1, idleTimeout: Number.POSITIVE_INFINITY });
    const opened = (await this.applyPool.run({ op: 'open', path: dataPath, self: this.id } satisfies ApplyTask)) as ApplyReply;
    if (opened.op !== 'open') throw new Error('apply worker did not open');
    this.applied = opened.applied;
    this.noteSchema(opened.schema);
    const compactedThrough = this.log.firstSlot() - 1;
    if (this.applied < compactedThrough) await this.recoverFromOwnSnapshot(compactedThrough);
    this.readPool = this.openReadPool();
    this.snapshotReaders = this.openSnapshotReaders();
    const random = createRandom(this.incarnation);
    this.core = new PaxosNode(this.paxosConfig(), { random: () => random.next(), now: () => Date.now() }, {
      promised: durable.promised,
      accepted: durable.accepted,
      applied: this.applied,
      compactedThrough,
    });
    const me = this.config.nodes.find((n) => n.id === this.id);
    if (me === undefined) throw new Error(`node ${this.id} is not in the configuration`);
    this.transport = await TcpTransport.start({
      self: this.id,
      nodes: this.config.nodes.map((n) => n.id),
      clusterId: this.config.clusterId,
      listenPort: me.peerPort,
      listenHost: me.host,
      peers: new Map(this.config.nodes.filter((n) => n.id !== this.id).map((n) => [n.id, { host: n.host, port: n.peerPort }])),
      // An Accept or Chosen carries up to about maxBatchBytes (plus one entry); snapshot chunks are 1 MiB.
      maxFrameBytes: Math.max(16 << 20, 2 * this.config.maxBatchBytes + (1 << 20)),
      logger: this.logger,
    });
    const sendRuntime = (msg: Message) => this.transport.send(msg);
    this.snapshotServer = new SnapshotServer(this.id, this.snapshotsDir, sendRuntime, this.logger);
    this.snapshotFetcher = new SnapshotFetcher(this.id, this.snapshotsDir, sendRuntime);
    this.transport.onMessage((msg: Message) => this.onMessage(msg));
    this.transactions = new LeaderTransactions(this.transactionHost(), {
      writeTimeoutMs: this.config.writeTimeoutMs,
      idleTimeoutMs: this.config.idleTransactionTimeoutMs,
      preemptIdleMs: this.config.idleTransactionPreemptMs,
    }, this.logger);
    this.ticker = setInterval(() => this.onTick(), this.config.tickMs);
    this.logger.info({ applied: this.applied, promised: formatBallot(durable.promised), entries: durable.accepted.length }, 'node started');
  }

  private openReadPool(): Piscina {
    return new Piscina({
      filename: workerFile('read-entry.cjs'),
      minThreads: this.config.readThreads,
      maxThreads: this.config.readThreads,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: { path: join(this.dataDir, 'data.db') } satisfies ReadWorkerData,
    });
  }

  private openSnapshotReaders(): SnapshotReaders {
    return new SnapshotReaders(workerFile('snapshot.js'), { path: join(this.dataDir, 'data.db') }, MAX_SNAPSHOT_READERS, this.logger);
  }

  private onMessage(msg: Message): void {
    if (msg.type === 'snapshot-request') {
      this.snapshotServer.onRequest(msg).catch((error: unknown) => this.logger.warn({ err: error, peer: msg.from }, 'could not serve a snapshot chunk'));
      return;
    }
    if (msg.type === 'snapshot-chunk') return this.snapshotFetcher.onChunk(msg);
    if (msg.type === 'tx-request') return this.onTxRequest(msg);
    if (msg.type === 'tx-response') {
      const rpc = this.txRpcs.get(msg.id);
      if (rpc === undefined) return;
      this.txRpcs.delete(msg.id);
      clearTimeout(rpc.timer);
      let reply: TxReply;
      try {
        reply = decodeTxReply(msg.payload);
      } catch (error) {
        reply = { ok: false, error: { code: '08P01', message: (error as Error).message } };
      }
      rpc.resolve(reply);
      return;
    }
    this.core.step(msg);
    this.schedule();
  }

  private paxosConfig(): PaxosConfig {
    return {
      self: this.id,
      nodes: this.config.nodes.map((n) => n.id),
      electionTicks: this.config.electionTicks,
      heartbeatTicks: this.config.heartbeatTicks,
      window: this.config.window,
      maxBatchCommands: this.config.maxBatchCommands,
      maxBatchBytes: this.config.maxBatchBytes,
      maxQueuedCommands: 100_000,
      maxEntriesPerMessage: 512,
      maxPendingReads: 100_000,
    };
  }

  // -------------------------------------------------------------------------
  // Driving the core.

  private onTick(): void {
    this.catchUpTicks();
    const now = Date.now();
    this.retryPending(now);
    this.transactions.onTick(now);
    this.schedule();
  }

  /**
   * Tick the core by the ticks that really elapsed on the monotonic clock. A
   * timer can fire late (a busy event loop) or not at all (SIGSTOP); the core
   * must still see time pass, or a paused leader would trust a stale lease.
   */
  private catchUpTicks(): void {
    const elapsed = Math.floor((performance.now() - this.lastTickAt) / this.config.tickMs);
    if (elapsed < 1) return;
    this.core.tick(elapsed);
    this.lastTickAt += elapsed * this.config.tickMs;
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  /**
   * Carry out Readys: send the requests, persist (one transaction, one fsync),
   * then send the replies that vouch for it, hand committed entries to the
   * apply worker, advance. One Ready at a time, in order.
   *
   * The fsync blocks the event loop, on purpose. What arrives meanwhile waits
   * in the socket buffers and is batched by the next Ready, as it was when a
   * thread of its own did the fsync; but that thread cost two wake-ups per
   * Ready (0.1-0.2 ms of a ~1.4 ms single-client write on the dev VM), 10-23%
   * more CPU per write, and 10-16 MB of RSS per node for its isolate. And a
   * node whose disk stalls now stops answering heartbeats, so a stalled
   * leader is replaced instead of holding the cluster's writes.
   */
  private drain(): void {
    if (this.stopped) return;
    for (let i = 0; i < 1000 && this.core.hasReady(); i++) {
      const ready = this.core.ready();
      // Requests go out first (and hit the wire now), so peers write while our disk does.
      for (const msg of ready.messages) if (!vouchesForDurableState(msg)) this.transport.send(msg);
      this.transport.flushNow();
      try {
        this.log.persist(ready.promised, ready.accepted);
      } catch (error) {
        this.fatal(error, 'could not persist the Paxos log');
        return;
      }
      this.finishReady(ready);
    }
    if (this.core.hasReady()) this.schedule();
  }

  /** The rest of a Ready, once its state is durable. */
  private finishReady(ready: Ready): void {
    if (this.stopped) return;
    for (const msg of ready.messages) if (vouchesForDurableState(msg)) this.transport.send(msg);
    for (const e of ready.committed) {
      this.applyQueue.push({ slot: e.slot, time: e.value.kind === 'batch' ? e.value.time : 0, commands: e.value.kind === 'batch' ? e.value.commands : [] });
    }
    for (const rs of ready.readStates) this.onReadState(rs);
    for (const fetch of ready.fetches) this.serveFetch(fetch);
    if (ready.snapshot !== null && !this.snapshotFetcher.busy && !this.installing) void this.catchUpFromSnapshot(ready.snapshot.from);
    this.core.advance();
    this.noteRole();
    this.kickApply();
    this.checkQuiesced();
  }

  /**
   * A peer lags behind what this node released from memory: read those
   * entries from paxos.db for the core to send. At most one message's worth
   * (maxBatchBytes) is read, so a catch-up costs the event loop a bounded turn.
   */
  private serveFetch(fetch: Fetch): void {
    let entries: readonly AcceptedEntry[];
    try {
      entries = this.log.read(fetch.fromSlot, fetch.toSlot, this.config.maxBatchBytes);
    } catch (error) {
      this.logger.error({ err: error, peer: fetch.to, from: fetch.fromSlot, to: fetch.toSlot }, 'could not read chosen entries from the Paxos log for a peer');
      return;
    }
    this.core.serveFetched(fetch, entries);
    this.schedule();
  }

  /** A failure the node cannot continue past without risking the log: stop. */
  private fatal(error: unknown, what: string): void {
    if (this.stopped) return;
    this.logger.fatal({ err: error }, `${what}; stopping the node`);
    void this.stop().finally(() => process.exit(70));
  }

  private noteRole(): void {
    const s = this.core.status();
    const label = `${s.role}/${s.leader ?? '-'}/${formatBallot(s.ballot)}`;
    if (label === this.lastRole) return;
    this.lastRole = label;
    this.failTxRpcsNotTo(s.leader);
    this.logger.info({ role: s.role, leader: s.leader, ballot: formatBallot(s.role === 'follower' ? s.promised : s.ballot), commit: s.commit }, 'role');
  }

  // -------------------------------------------------------------------------
  // Applying.

  private kickApply(): void {
    if (this.applying || this.stopped) return;
    if (this.applyQueue.length === 0 || this.installing || this.txOpen) {
      for (const resolve of this.applyIdle.splice(0)) resolve();
      return;
    }
    this.applying = true;
    const entries = this.applyQueue.splice(0, APPLY_BATCH_ENTRIES);
    (this.applyPool.run({ op: 'apply', entries } satisfies ApplyTask) as Promise<ApplyReply>).then(
      (reply) => {
        this.applying = false;
        if (reply.op !== 'apply') throw new Error('apply worker answered the wrong task');
        this.noteSchema(reply.schema);
        for (const e of entries) for (const c of e.commands) this.appliedBytesSinceSnapshot += c.byteLength;
        this.onApplied(reply.applied, reply.outcomes);
        // Applied entries live on in paxos.db (and peers are served from there): not in memory.
        this.core.release(reply.applied);
        this.maybeSnapshot();
        this.kickApply();
        this.checkQuiesced();
      },
      (error: unknown) => {
        this.applying = false;
        if (this.stopped) return;
        // The replica cannot move on without this entry: stop rather than diverge.
        this.fatal(error, 'apply failed');
      },
    );
  }

  private onApplied(applied: Slot, outcomes: readonly CommandOutcome[]): void {
    this.applied = applied;
    for (const outcome of outcomes) this.settleWrite(outcome);
    if (this.appliedWaiters.length > 0) {
      const ready = this.appliedWaiters.filter((w) => w.index <= applied);
      this.appliedWaiters = this.appliedWaiters.filter((w) => w.index > applied);
      for (const w of ready) w.resolve();
    }
  }

  private settleWrite(outcome: CommandOutcome): void {
    const key = `${outcome.session}:${outcome.seq}`;
    const pending = this.pendingWrites.get(key);
    if (pending === undefined) return;
    this.pendingWrites.delete(key);
    if (outcome.kind === 'ok') pending.resolve(outcome.results);
    else if (outcome.kind === 'error') pending.reject(fromWire(outcome.error));
    else pending.reject(new SqlError('40003', 'statement completion unknown', { detail: 'the command was applied earlier, by a copy of it proposed before' }));
  }

  /** Resolves when no apply task is running (and none will start while installing). */
  private whenApplyIdle(): Promise<void> {
    if (!this.applying) return Promise.resolve();
    return new Promise((resolve) => this.applyIdle.push(resolve));
  }

  // -------------------------------------------------------------------------
  // Snapshots and compaction.

  /**
   * When the log holds more than compactionThreshold applied entries, or more
   * than compactionBytes of commands were applied since the last snapshot,
   * snapshot data.db and compact below it.
   */
  private maybeSnapshot(): void {
    const compacted = this.log.firstSlot() - 1;
    const due = this.applied - compacted >= this.config.compactionThreshold || this.appliedBytesSinceSnapshot >= this.config.compactionBytes;
    if (this.snapshotting || this.installing || !due) return;
    this.snapshotting = true;
    this.snapshotDone = this.takeSnapshot().finally(() => {
      this.snapshotting = false;
      this.snapshotDone = null;
    });
  }

  /** Copy data.db on a thread of its own (applying goes on), then compact the log below the copy. */
  private async takeSnapshot(): Promise<void> {
    const bytesBefore = this.appliedBytesSinceSnapshot;
    try {
      const snapshot = await this.snapshotWriter.write();
      // Keep two, so a peer halfway through fetching the older one can finish.
      pruneSnapshots(this.snapshotsDir, 2);
      // What was applied while the copy was written counts toward the next snapshot.
      this.appliedBytesSinceSnapshot = Math.max(0, this.appliedBytesSinceSnapshot - bytesBefore);
      await this.compactLog(snapshot.slot);
      this.core.compact(snapshot.slot);
      this.logger.info({ slot: snapshot.slot, path: snapshot.path }, 'snapshot taken; log compacted');
    } catch (error) {
      if (!this.stopped) this.logger.error({ err: error }, 'snapshot failed; the log stays uncompacted');
    }
  }

  /**
   * Drop paxos.db's entries through `slot`, COMPACT_CHUNK_SLOTS per
   * event-loop turn: deleting a whole snapshot interval at once (16 MB of
   * commands) stalls the loop for tens of milliseconds. Persists interleave
   * with the chunks; entries at or below a chunk are chosen and applied, so
   * nothing they write is lost. One compaction at a time.
   */
  private async compactLog(slot: Slot): Promise<void> {
    while (this.compacting !== null) await this.compacting;
    const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
    this.compacting = compactInSteps(this.log, slot, COMPACT_CHUNK_SLOTS, nextTurn, () => this.stopped).finally(() => {
      this.compacting = null;
    });
    await this.compacting;
  }

  /** A peer compacted past what we have: fetch its snapshot and install it. */
  private async catchUpFromSnapshot(from: NodeId): Promise<void> {
    try {
      this.logger.info({ peer: from, applied: this.applied }, 'fetching a snapshot');
      const info = await this.snapshotFetcher.fetch(from);
      if (info.appliedSlot <= this.applied) return;
      await this.installSnapshot(info);
    } catch (error) {
      if (!this.stopped) this.logger.warn({ err: error, peer: from }, 'snapshot transfer failed; will retry on the next offer');
    }
  }

  private installSnapshot(info: SnapshotInfo): Promise<void> {
    this.installDone = this.replaceDataWith(info).finally(() => {
      this.installDone = null;
    });
    return this.installDone;
  }

  private async replaceDataWith(info: SnapshotInfo): Promise<void> {
    this.installing = true;
    try {
      await this.whenApplyIdle();
      // A snapshot writer still reading data.db would see it replaced underneath.
      await this.snapshotDone;
      // Applying went on while the snapshot travelled: installing an older
      // state now would undo applied entries that are no longer queued.
      if (info.appliedSlot <= this.applied) {
        this.logger.info({ slot: info.appliedSlot, applied: this.applied }, 'snapshot no longer needed');
        return;
      }
      // Read connections would keep the replaced file open: close them first.
      await this.readPool.destroy();
      await this.snapshotReaders.close();
      const reply = (await this.applyPool.run({ op: 'install', path: info.path } satisfies ApplyTask)) as ApplyReply;
      if (reply.op !== 'install' || reply.applied !== info.appliedSlot) throw new Error(`installed snapshot reports slot ${reply.op === 'install' ? reply.applied : '?'}, expected ${info.appliedSlot}`);
      this.readPool = this.openReadPool();
      this.snapshotReaders = this.openSnapshotReaders();
      this.noteSchema(-1); // another database now: forget every description
      await this.compactLog(info.appliedSlot);
      this.core.restoreSnapshot(info.appliedSlot);
      const kept = this.applyQueue.filter((e) => e.slot > info.appliedSlot);
      this.applyQueue.length = 0;
      this.applyQueue.push(...kept);
      this.onApplied(info.appliedSlot, []);
      this.logger.info({ slot: info.appliedSlot }, 'snapshot installed');
    } finally {
      this.installing = false;
      this.kickApply();
      this.schedule();
    }
  }

  /** data.db is behind the log's compaction point (it lost commits to a power failure): start from our own snapshot. */
  private async recoverFromOwnSnapshot(compactedThrough: Slot): Promise<void> {
    const snapshot = listSnapshots(this.snapshotsDir).filter((s) => s.appliedSlot >= compactedThrough).pop();
    if (snapshot === undefined) {
      throw new Error(`data.db is at slot ${this.applied} but the log starts after ${compactedThrough} and no snapshot covers the gap`);
    }
    const reply = (await this.applyPool.run({ op: 'install', path: snapshot.path } satisfies ApplyTask)) as ApplyReply;
    if (reply.op !== 'install') throw new Error('apply worker answered the wrong task');
    this.logger.warn({ from: this.applied, to: reply.applied }, 'data.db was behind the log; restored from the local snapshot');
    this.applied = reply.applied;
  }

  private waitApplied(index: Slot): Promise<void> {
    if (this.applied >= index) return Promise.resolve();
    return new Promise((resolve) => this.appliedWaiters.push({ index, resolve }));
  }

  // -------------------------------------------------------------------------
  // Writes.

  /** A fresh session id, unique across this node's restarts. */
  newSession(): number {
    return this.incarnation * 2 ** 21 + (this.nextSession++ % 2 ** 21);
  }

  /**
   * Put a command through the log and return its results once this node has
   * applied it. While there is no leader the write waits; it is re-proposed
   * (same session and seq, so it applies once) when the leader changes.
   */
  write(session: number, seq: number, statements: readonly Statement[], time?: number): Promise<readonly QueryResult[]> {
    const command: Command = { origin: { node: this.id, session, seq }, statements, ...(time === undefined ? {} : { time }) };
    const bytes = encodeCommand(command);
    if (bytes.byteLength > this.config.maxBatchBytes) {
      return Promise.reject(new SqlError('54000', `statement too large for one log entry (${bytes.byteLength} bytes, limit ${this.config.maxBatchBytes})`));
    }
    return new Promise((resolve, reject) => {
      const key = `${session}:${seq}`;
      this.pendingWrites.set(key, {
        bytes,
        deadline: Date.now() + this.config.writeTimeoutMs,
        proposedAt: 0,
        proposedLeader: null,
        resolve,
        reject,
      });
      this.proposePending(key, Date.now());
      this.schedule();
    });
  }

  private proposePending(key: string, now: number): void {
    const p = this.pendingWrites.get(key);
    if (p === undefined || p.bytes === null) return;
    const outcome = this.core.propose([p.bytes]);
    if (outcome === 'queued' || outcome === 'forwarded') {
      p.proposedAt = now;
      p.proposedLeader = this.core.status().leader;
    } else if (outcome === 'too-large') {
      this.pendingWrites.delete(key);
      p.reject(new SqlError('54000', 'statement too large for one log entry'));
    }
  }

  /** Each tick: time out what waited too long; re-propose what may have been lost. */
  private retryPending(now: number): void {
    const leader = this.core.status().leader;
    for (const [key, p] of this.pendingWrites) {
      if (now >= p.deadline) {
        this.pendingWrites.delete(key);
        p.reject(
          p.proposedAt === 0
            ? new SqlError('40001', 'no leader could take the write in time; it was not applied', { hint: 'Retry the transaction.' })
            : new SqlError('40003', 'statement completion unknown: the write was proposed but its outcome is not known', { hint: 'Check whether it took effect before retrying.' }),
        );
      } else if (p.bytes !== null && leader !== null && (p.proposedAt === 0 || p.proposedLeader !== leader || now - p.proposedAt > REPROPOSE_AFTER_MS)) {
        this.proposePending(key, now);
      }
    }
    for (const [id, r] of this.pendingReads) {
      if (now < r.deadline) continue;
      this.pendingReads.delete(id);
      r.reject(new SqlError('40001', 'no leader confirmed the read in time', { hint: 'Retry the query.' }));
    }
  }

  // -------------------------------------------------------------------------
  // Transactions.

  /**
   * One request of a session's explicit transaction. The leader runs it; a
   * follower sends it there. Null: nothing to return (COMMIT of a transaction
   * that wrote nothing, or ROLLBACK); a COMMIT that proposed an entry returns
   * a result, and its outcome arrives like any write's (awaitOutcome).
   */
  async transaction(session: number, request: TxRequest): Promise<QueryResult | null> {
    const leader = await this.knownLeader(Date.now() + this.config.writeTimeoutMs);
    let reply: TxReply;
    if (leader === this.id) reply = await this.transactions.handle({ node: this.id, session }, request);
    else reply = await this.sendTxRequest(leader, session, request);
    if (!reply.ok) throw fromWire(reply.error);
    return reply.result;
  }

  /** The leader this node knows, waiting through an election (as writes do) until the deadline. */
  private async knownLeader(deadline: number): Promise<NodeId> {
    for (;;) {
      const leader = this.core.status().leader;
      if (leader !== null) return leader;
      if (Date.now() >= deadline || this.stopped) throw new SqlError('40001', 'no leader to run the transaction', { hint: 'Retry the transaction.' });
      // Leaders announce themselves with heartbeats: look again after one interval.
      await new Promise<void>((resolve) => setTimeout(resolve, this.config.tickMs * this.config.heartbeatTicks));
    }
  }

  private sendTxRequest(leader: NodeId, session: number, request: TxRequest): Promise<TxReply> {
    return new Promise((resolve) => {
      const id = this.nextTxRpc++;
      const timer = setTimeout(() => {
        this.txRpcs.delete(id);
        resolve({
          ok: false,
          error: request.op === 'commit'
            ? { code: '40003', message: 'transaction commit outcome unknown: the leader did not answer' }
            : { code: '40001', message: 'the leader did not answer; the transaction was rolled back', hint: 'Retry the transaction.' },
        });
      }, this.config.writeTimeoutMs);
      this.txRpcs.set(id, { leader, commit: request.op === 'commit', resolve, timer });
      this.transport.send({ type: 'tx-request', from: this.id, to: leader, id, payload: encodeTxRequest(session, request) });
    });
  }

  /** A transaction lives on its leader: when the leader changes, requests to the old one cannot succeed. */
  private failTxRpcsNotTo(leader: NodeId | null): void {
    for (const [id, rpc] of this.txRpcs) {
      if (rpc.leader === leader) continue;
      this.txRpcs.delete(id);
      clearTimeout(rpc.timer);
      rpc.resolve({
        ok: false,
        error: rpc.commit
          ? { code: '40003', message: 'transaction commit outcome unknown: the leader changed while committing' }
          : { code: '40001', message: 'the transaction was rolled back: the leader changed', hint: 'Retry the transaction.' },
      });
    }
  }

  private onTxRequest(msg: TxRequestMsg): void {
    let decoded;
    try {
      decoded = decodeTxRequest(msg.payload);
    } catch (error) {
      this.logger.warn({ peer: msg.from, err: error }, 'malformed transaction request dropped');
      return;
    }
    void this.transactions.handle({ node: msg.from, session: decoded.session }, decoded.request).then((reply) => {
      this.transport.send({ type: 'tx-response', from: this.id, to: msg.from, id: msg.id, payload: encodeTxReply(reply) });
    });
  }

  /** Wait for the outcome of a command someone else proposes for this session (a transaction's entry). */
  awaitOutcome(session: number, seq: number): Promise<readonly QueryResult[]> {
    return new Promise((resolve, reject) => {
      this.pendingWrites.set(`${session}:${seq}`, {
        bytes: null,
        deadline: Date.now() + this.config.writeTimeoutMs,
        proposedAt: Date.now(),
        proposedLeader: null,
        resolve,
        reject,
      });
    });
  }

  /** Stop waiting: the transaction wrote nothing, so no entry will come. */
  cancelOutcome(session: number, seq: number): void {
    this.pendingWrites.delete(`${session}:${seq}`);
  }

  private transactionHost(): TransactionHost {
    return {
      self: this.id,
      isLeader: () => this.core.status().role === 'leader',
      quiesce: (deadline) => this.quiesce(deadline),
      resume: () => {
        this.txOpen = false;
        this.core.holdProposals(false);
        this.schedule();
        this.kickApply();
      },
      apply: async (task) => (await this.applyPool.run(task)) as ApplyReply,
      proposeFirst: (bytes) => {
        const outcome = this.core.propose([bytes], { first: true });
        if (outcome === 'too-large') {
          throw new SqlError('54000', `the transaction's writes (${bytes.byteLength} bytes) exceed one log entry (maxBatchBytes ${this.config.maxBatchBytes})`, {
            hint: 'Split it into smaller transactions, or raise maxBatchBytes in the cluster config.',
          });
        }
        if (outcome !== 'queued') throw new SqlError('40001', `the transaction could not be proposed (${outcome})`, { hint: 'Retry the transaction.' });
        this.schedule();
      },
      writesWaiting: () => this.core.status().queued > 0,
    };
  }

  /**
   * Make the apply connection ready for a transaction: hold proposals, let
   * everything queued before reach the replica, confirm leadership with a
   * quorum, and keep the apply pipeline closed until resume().
   */
  private async quiesce(deadline: number): Promise<void> {
    this.core.holdProposals(true);
    this.schedule();
    for (;;) {
      if (this.core.status().role !== 'leader') throw new SqlError('40001', 'leadership moved while the transaction started', { hint: 'Retry the transaction.' });
      if (this.isQuiet()) {
        // Still the leader? The lease answers at once; without one, a quorum round.
        await this.readBarrier({ lease: true });
        if (this.isQuiet()) {
          this.txOpen = true;
          return;
        }
      }
      if (Date.now() >= deadline) throw new SqlError('40001', 'could not start the transaction in time', { hint: 'Retry the transaction.' });
      await new Promise<void>((resolve) => {
        this.quiesceWaiters.push(resolve);
        setTimeout(resolve, this.config.tickMs);
      });
    }
  }

  private isQuiet(): boolean {
    const s = this.core.status();
    return (
      this.core.proposalsDrained() &&
      s.inFlight === 0 &&
      s.handedOut === s.commit &&
      this.applyQueue.length === 0 &&
      !this.applying &&
      !this.installing &&
      this.applied === s.commit
    );
  }

  private checkQuiesced(): void {
    if (this.quiesceWaiters.length === 0) return;
    for (const resolve of this.quiesceWaiters.splice(0)) resolve();
  }

  // -------------------------------------------------------------------------
  // Reads.

  /**
   * Wait until this replica reflects every write acknowledged before the call
   * (linearizable). With `lease`, the leader may answer from its lease instead
   * of a quorum round.
   */
  async readBarrier(options: { lease?: boolean } = {}): Promise<void> {
    const deadline = Date.now() + this.config.writeTimeoutMs;
    for (;;) {
      const index = await this.requestReadIndex(deadline, options.lease === true);
      if (index !== null) return this.waitApplied(index);
      // No leader answered: wait for an election, then ask again.
      if (Date.now() >= deadline) throw new SqlError('40001', 'no leader confirmed the read in time', { hint: 'Retry the query.' });
      await new Promise((r) => setTimeout(r, this.config.tickMs * this.config.heartbeatTicks));
    }
  }

  private requestReadIndex(deadline: number, lease: boolean): Promise<Slot | null> {
    return new Promise((resolve, reject) => {
      const id = this.nextReadId++;
      this.pendingReads.set(id, { deadline, resolve, reject });
      if (lease) this.catchUpTicks();
      this.core.readIndex(id, { lease });
      this.schedule();
    });
  }

  private onReadState(rs: Ready['readStates'][number]): void {
    const pending = this.pendingReads.get(rs.id);
    if (pending === undefined) return;
    this.pendingReads.delete(rs.id);
    // A failed read index is retried by readBarrier (null) until its deadline.
    pending.resolve(rs.ok ? rs.index : null);
  }

  /**
   * Open a read-only transaction's snapshot: linearizable at its start (it
   * reflects every write acknowledged before the call), stable until released.
   */
  async openSnapshot(): Promise<Snapshot> {
    await this.readBarrier();
    if (this.installDone !== null) await this.installDone;
    return this.snapshotReaders.open(Date.now() + this.config.writeTimeoutMs);
  }

  /** Run a read-only statement on the read pool. */
  async query(sql: string, params: readonly SqlValue[], ctx: ExecContext, signal?: AbortSignal): Promise<QueryResult> {
    if (this.installDone !== null) await this.installDone;
    const task: ReadTask = { op: 'query', sql, params, ctx };
    // Aborting (a CancelRequest) ends the read thread mid-query; piscina starts a fresh one.
    const reply = (await (signal === undefined ? this.readPool.run(task) : this.readPool.run(task, { signal }))) as ReadReply;
    if (!reply.ok) throw fromWire(reply.error);
    if (reply.op !== 'query') throw new Error('read worker answered the wrong task');
    return reply.result;
  }

  /**
   * Parameter and result types of a statement (the extended protocol's Parse).
   * Cached by text while the schema is unchanged: drivers Parse the same
   * statement over and over, and each read-pool round trip costs.
   */
  async describe(sql: string): Promise<Description> {
    const version = this.schemaVersion;
    const cached = this.descriptions.get(sql);
    if (cached !== undefined && cached.version === version) return cached.description;
    if (this.installDone !== null) await this.installDone;
    const reply = (await this.readPool.run({ op: 'describe', sql } satisfies ReadTask)) as ReadReply;
    if (!reply.ok) throw fromWire(reply.error);
    if (reply.op !== 'describe') throw new Error('read worker answered the wrong task');
    const description = { paramTypeOids: reply.paramTypeOids, fields: reply.fields };
    if (this.descriptions.size >= MAX_CACHED_DESCRIPTIONS) this.descriptions.clear();
    this.descriptions.set(sql, { version, description });
    return description;
  }

  /** A new schema version (DDL applied, or a snapshot installed) makes every cached description stale. */
  private noteSchema(version: number): void {
    if (version === this.schemaVersion) return;
    this.schemaVersion = version;
    this.descriptions.clear();
  }

  // -------------------------------------------------------------------------
  // Introspection and shutdown.

  status(): NodeStatus {
    return { ...this.core.status(), applied: this.applied, logFirstSlot: this.log.firstSlot(), pendingWrites: this.pendingWrites.size };
  }

  /** The status as plain JSON values (ballots formatted as round.node). */
  statusReport(): Record<string, string | number | null> {
    const s = this.status();
    return {
      id: s.id,
      role: s.role,
      leader: s.leader,
      ballot: formatBallot(s.role === 'follower' ? s.promised : s.ballot),
      commit: s.commit,
      applied: s.applied,
      logFirstSlot: s.logFirstSlot,
      pendingWrites: s.pendingWrites,
      voting: s.voting ? 'yes' : 'no (rebuilding after starting with no state)',
    };
  }

  /** A digest of every row of data.db, for comparing replicas in tests. */
  async checksum(): Promise<{ applied: Slot; digest: string; rows: number }> {
    const reply = (await this.applyPool.run({ op: 'checksum' } satisfies ApplyTask)) as ApplyReply;
    if (reply.op !== 'checksum') throw new Error('apply worker answered the wrong task');
    return { applied: reply.applied, digest: reply.digest, rows: reply.rows };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker !== null) clearInterval(this.ticker);
    const closed = new SqlError('57P01', 'terminating connection due to administrator command');
    for (const p of this.pendingWrites.values()) p.reject(closed);
    for (const r of this.pendingReads.values()) r.reject(closed);
    for (const rpc of this.txRpcs.values()) {
      clearTimeout(rpc.timer);
      rpc.resolve({ ok: false, error: { code: closed.code, message: closed.message } });
    }
    this.txRpcs.clear();
    this.pendingWrites.clear();
    this.pendingReads.clear();
    await this.transport.close();
    await this.snapshotWriter?.close();
    await this.applyPool.run({ op: 'close' } satisfies ApplyTask).catch(() => undefined);
    await Promise.all([this.applyPool.destroy(), this.readPool.destroy(), this.snapshotReaders.close()]);
    // A compaction that failed was reported by the snapshot that started it.
    await this.compacting?.catch(() => undefined);
    this.log.close();
    this.logger.info('node stopped');
  }
}


