// A deterministic simulation of a paxosql cluster's consensus core, in the
// manner of FoundationDB's simulator and TigerBeetle's VOPR: one thread, one
// seeded PRNG, simulated time. The network loses, duplicates, delays and
// reorders messages and is partitioned; nodes crash (losing everything not
// persisted) and restart. Clients propose and read all the time. After every
// event the checker asserts safety; after the faults heal it asserts liveness.

import { PaxosNode } from '../../src/paxos/node.js';
import { compareBallots, formatBallot, ZERO_BALLOT } from '../../src/paxos/ballot.js';
import { vouchesForDurableState } from '../../src/paxos/types.js';
import type {
  AcceptedEntry,
  Ballot,
  ChosenEntry,
  Fetch,
  Message,
  NodeId,
  PaxosConfig,
  PlantedBug,
  Ready,
  Slot,
  Value,
} from '../../src/paxos/types.js';
import { createRandom, type Random } from '../../src/util/random.js';
import { EventQueue } from './event-queue.js';

export interface SimOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly bug?: PlantedBug;
  /** Print every event to this sink (replay a seed with `--seed S --trace`). */
  readonly traceSink?: (line: string) => void;
  /** Simulated milliseconds of faults, then of quiet (healed, majority up). */
  readonly faultMs?: number;
  readonly quietMs?: number;
}

export interface FaultCounts {
  dropped: number;
  duplicated: number;
  crashes: number;
  partitions: number;
  pauses: number;
  snapshots: number;
  wipes: number;
  /** Catch-up served from the durable log (entries released from memory); not a fault, counted to show the path runs. */
  fetches: number;
}

export interface SimResult {
  readonly seed: number;
  readonly nodes: number;
  readonly violations: readonly string[];
  readonly livenessFailures: readonly string[];
  /** Distinct slots chosen. */
  readonly chosen: number;
  readonly ackedWrites: number;
  readonly reads: number;
  readonly faults: FaultCounts;
  /** The last events before the first violation (empty when there was none). */
  readonly traceTail: readonly string[];
}

const TICK_MS = 10;
const CLIENTS = 4;
const CLIENT_TIMEOUT_MS = 400;
const TRACE_TAIL = 300;
const MAX_READY_LOOPS = 10_000;

/** The core configuration the simulator runs: small limits, so batching and windows are exercised. */
export function simConfig(self: NodeId, nodes: readonly NodeId[], bug?: PlantedBug): PaxosConfig {
  return {
    self,
    nodes,
    electionTicks: 10,
    heartbeatTicks: 2,
    window: 8,
    maxBatchCommands: 4,
    maxBatchBytes: 64,
    maxQueuedCommands: 1000,
    maxEntriesPerMessage: 16,
    maxPendingReads: 100,
    ...(bug === undefined ? {} : { unsafeTestingBug: bug }),
  };
}

type SimEvent =
  | { readonly kind: 'deliver'; readonly msg: Message }
  | { readonly kind: 'tick'; readonly node: NodeId; readonly incarnation: number }
  | { readonly kind: 'client'; readonly client: number; readonly op: number }
  | { readonly kind: 'client-timeout'; readonly client: number; readonly op: number }
  | { readonly kind: 'fault' }
  | { readonly kind: 'restart'; readonly node: NodeId }
  | { readonly kind: 'resume'; readonly node: NodeId; readonly incarnation: number }
  | { readonly kind: 'heal-partition'; readonly partition: number }
  | { readonly kind: 'heal-all' }
  | { readonly kind: 'snapshot'; readonly to: NodeId; readonly from: NodeId; readonly incarnation: number }
  | { readonly kind: 'fetch'; readonly node: NodeId; readonly incarnation: number; readonly fetch: Fetch };

/** What survives a crash: exactly what the runtime persisted from Readys, plus the applied state. */
interface Disk {
  promised: Ballot;
  readonly accepted: Map<Slot, AcceptedEntry>;
  applied: Slot;
  /** Slots at or below this are compacted away; the applied state up to here is the snapshot. */
  compacted: Slot;
}

interface SimNode {
  readonly id: NodeId;
  readonly disk: Disk;
  core: PaxosNode | null;
  incarnation: number;
  /** Paused (SIGSTOP, a long GC): no ticks; messages wait in the socket buffer. */
  paused: boolean;
  readonly buffered: Message[];
  /** Simulated time of the last tick handed to the core. */
  lastTickAt: number;
}

interface PendingWrite {
  readonly kind: 'write';
  readonly key: string;
  readonly bytes: Uint8Array;
  readonly startedAt: number;
  origin: NodeId | null;
}

interface PendingRead {
  readonly kind: 'read';
  readonly readId: number;
  readonly node: NodeId;
  /** Highest slot of a write acknowledged before this read started. */
  readonly required: Slot;
}

interface Client {
  readonly id: number;
  seq: number;
  /** Increments per operation, so stale timeouts are recognised. */
  op: number;
  pending: PendingWrite | PendingRead | null;
}

export function runSimulation(options: SimOptions): SimResult {
  return new Simulation(options).run();
}

class Simulation {
  private readonly rng: Random;
  private readonly net: Random;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly ids: NodeId[];
  private readonly clients: Client[] = [];
  private readonly faultMs: number;
  private readonly endMs: number;
  private readonly clientsStopAt: number;
  private now = 0;

  // Network state.
  private lossRate: number;
  private dupRate: number;
  private readonly blocked = new Set<string>();
  private partitionSeq = 0;

  // Checker state.
  private readonly chosen = new Map<Slot, string>();
  /** Wiped nodes until they vote again (caught up). */
  private readonly wiped = new Set<NodeId>();
  /** The highest ballot each node ever sent a Promise for, across crashes. */
  private readonly promisesSent = new Map<NodeId, Ballot>();
  private readonly proposed = new Set<string>();
  private readonly awaiting = new Map<string, number>();
  private readonly readsInFlight = new Map<string, number>();
  private maxAckedSlot: Slot = 0;
  private ackedWrites = 0;
  private reads = 0;
  private nextReadId = 1;
  private readonly violations: string[] = [];
  private readonly livenessFailures: string[] = [];
  private readonly faults: FaultCounts = { dropped: 0, duplicated: 0, crashes: 0, partitions: 0, pauses: 0, snapshots: 0, wipes: 0, fetches: 0 };
  /** Compact every this many applied slots (0: never); half the runs compact. */
  private readonly compactEvery: number;
  /** -1: never release; else release through the applied slot minus up to this many. */
  private readonly releaseLag: number;
  private readonly tail: string[] = [];
  private traceTail: string[] = [];

  constructor(private readonly options: SimOptions) {
    this.rng = createRandom(options.seed);
    this.net = this.rng.fork();
    this.ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
    this.faultMs = options.faultMs ?? 3000;
    const quietMs = options.quietMs ?? 3000;
    this.endMs = this.faultMs + quietMs;
    this.clientsStopAt = this.faultMs + quietMs / 3;
    this.lossRate = this.rng.next() * 0.3;
    this.dupRate = this.rng.next() * 0.1;
    this.compactEvery = this.rng.chance(0.5) ? this.rng.between(5, 40) : 0;
    // A third of the runs never release applied values (the core serves catch-up from memory).
    this.releaseLag = this.rng.chance(1 / 3) ? -1 : this.rng.int(4);
  }

  run(): SimResult {
    for (const id of this.ids) {
      const node: SimNode = {
        id,
        disk: { promised: ZERO_BALLOT, accepted: new Map(), applied: 0, compacted: 0 },
        core: null,
        incarnation: 0,
        paused: false,
        buffered: [],
        lastTickAt: 0,
      };
      this.nodes.set(id, node);
      this.boot(node);
    }
    for (let c = 0; c < CLIENTS; c++) {
      this.clients.push({ id: c + 1, seq: 0, op: 0, pending: null });
      this.queue.push(this.rng.between(0, 50), { kind: 'client', client: c + 1, op: 0 });
    }
    this.queue.push(this.rng.between(100, 300), { kind: 'fault' });
    this.queue.push(this.faultMs, { kind: 'heal-all' });
    this.trace(`seed ${this.options.seed} nodes ${this.ids.length} loss ${this.lossRate.toFixed(3)} dup ${this.dupRate.toFixed(3)} compact every ${this.compactEvery}`);

    for (;;) {
      const next = this.queue.pop();
      if (next === undefined || next.time > this.endMs) break;
      this.now = next.time;
      try {
        this.handle(next.event);
      } catch (error) {
        // A core's invariant failed (or a bug threw): in a node that is a
        // crash, so here it is a violation of this seed, reported with its
        // trace like any other, not the end of the sweep.
        this.violation(`a node threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      }
      if (this.violations.length > 0) break;
    }
    if (this.violations.length === 0) this.checkLiveness();
    return {
      seed: this.options.seed,
      nodes: this.ids.length,
      violations: this.violations,
      livenessFailures: this.livenessFailures,
      chosen: this.chosen.size,
      ackedWrites: this.ackedWrites,
      reads: this.reads,
      faults: this.faults,
      traceTail: this.violations.length + this.livenessFailures.length > 0 ? this.tailSnapshot() : [],
    };
  }

  // -------------------------------------------------------------------------
  // Events.

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'deliver':
        return this.deliver(event.msg);
      case 'tick':
        return this.onTick(event.node, event.incarnation);
      case 'client':
        return this.clientStep(event.client, event.op);
      case 'client-timeout':
        return this.clientTimeout(event.client, event.op);
      case 'fault':
        return this.injectFault();
      case 'restart':
        return this.restart(this.node(event.node));
      case 'resume':
        return this.resume(event.node, event.incarnation);
      case 'heal-partition':
        return this.healPartition(event.partition);
      case 'heal-all':
        return this.healAll();
      case 'snapshot':
        return this.transferSnapshot(event.to, event.from, event.incarnation);
      case 'fetch':
        return this.serveFetch(event.node, event.incarnation, event.fetch);
    }
  }

  private boot(node: SimNode): void {
    node.incarnation++;
    node.lastTickAt = this.now;
    const random = this.rng.fork();
    node.core = new PaxosNode(
      simConfig(node.id, this.ids, this.options.bug),
      { random: () => random.next(), now: () => 1_700_000_000_000 + this.now },
      {
        promised: node.disk.promised,
        accepted: [...node.disk.accepted.values()],
        applied: node.disk.applied,
        compactedThrough: node.disk.compacted,
      },
    );
    this.queue.push(this.now + this.rng.between(1, TICK_MS), { kind: 'tick', node: node.id, incarnation: node.incarnation });
  }

  private onTick(id: NodeId, incarnation: number): void {
    const node = this.node(id);
    if (node.core === null || node.incarnation !== incarnation || node.paused) return;
    this.catchUpTicks(node);
    this.drain(node);
    this.queue.push(this.now + TICK_MS, { kind: 'tick', node: id, incarnation });
  }

  /** Like the runtime: tick by the time that really passed (a paused node wakes up late). */
  private catchUpTicks(node: SimNode): void {
    const elapsed = Math.floor((this.now - node.lastTickAt) / TICK_MS);
    if (elapsed < 1 || node.core === null) return;
    node.core.tick(elapsed);
    node.lastTickAt += elapsed * TICK_MS;
  }

  private deliver(msg: Message): void {
    const node = this.node(msg.to);
    if (node.core === null || this.blocked.has(link(msg.from, msg.to))) {
      this.faults.dropped++;
      return;
    }
    if (node.paused) {
      node.buffered.push(msg);
      return;
    }
    if (this.options.traceSink !== undefined) this.trace(`deliver ${describeMessage(msg)}`);
    node.core.step(msg);
    this.drain(node);
  }

  /** Carry out Readys the way the real runtime does: send requests, persist, send replies, apply, advance. */
  private drain(node: SimNode): void {
    for (let loops = 0; node.core !== null && node.core.hasReady(); loops++) {
      if (loops >= MAX_READY_LOOPS) throw new Error(`n${node.id}: Ready loop did not settle`);
      const core = node.core;
      const before = core.describe();
      const ready = core.ready();
      // As the runtime does: requests first, then the fsync, then the replies
      // that vouch for it. Crash points: before the fsync (requests already
      // out, this Ready's state lost), after it (nothing vouched yet), and
      // after everything was sent — more often when the Ready promises a
      // ballot, the moment a forgotten promise would hurt.
      const promising = ready.messages.some((m) => m.type === 'promise');
      for (const msg of ready.messages) if (!vouchesForDurableState(msg)) this.send(msg);
      if (this.now < this.faultMs && this.rng.chance(0.002)) {
        this.crash(node, 'after sending its requests, before the fsync');
        return;
      }
      this.persist(node, ready);
      if (this.now < this.faultMs && this.rng.chance(0.002)) {
        this.crash(node, 'after persisting a Ready, before sending its replies');
        return;
      }
      for (const msg of ready.messages) {
        if (!vouchesForDurableState(msg)) continue;
        this.checkPromiseKept(msg);
        this.send(msg);
      }
      if (this.now < this.faultMs && this.rng.chance(promising ? 0.15 : 0.002)) {
        this.crash(node, 'after sending a Ready, before applying it');
        return;
      }
      for (const entry of ready.committed) this.apply(node, entry.slot, entry.value);
      for (const rs of ready.readStates) this.onReadState(node.id, rs);
      if (ready.snapshot !== null) {
        this.trace(`n${node.id} wants the snapshot of n${ready.snapshot.from} (through ${ready.snapshot.slot})`);
        this.queue.push(this.now + this.net.between(5, 50), {
          kind: 'snapshot',
          to: node.id,
          from: ready.snapshot.from,
          incarnation: node.incarnation,
        });
      }
      for (const fetch of ready.fetches) {
        this.queue.push(this.now + this.rng.between(0, 3), { kind: 'fetch', node: node.id, incarnation: node.incarnation, fetch });
      }
      core.advance();
      this.maybeRelease(node, core);
      this.maybeCompact(node, core);
      if (this.wiped.has(node.id) && core.status().voting) {
        this.wiped.delete(node.id);
        this.trace(`n${node.id} votes again after its wipe`);
      }
      const after = core.describe();
      if (after !== before) this.trace(`n${node.id} ${before} -> ${after}`);
    }
  }

  /** In runs that release, drop applied values from the core's memory (at once, or a few slots behind). */
  private maybeRelease(node: SimNode, core: PaxosNode): void {
    if (this.releaseLag < 0) return;
    const through = Math.min(node.disk.applied - this.rng.int(this.releaseLag + 1), core.status().handedOut);
    if (through > 0) core.release(through);
  }

  /** A fetch read from the durable log, as the runtime does (here 0-3 time units later, so other events may come first): what is still there, in order. */
  private serveFetch(id: NodeId, incarnation: number, fetch: Fetch): void {
    const node = this.node(id);
    if (node.core === null || node.paused || node.incarnation !== incarnation) return;
    const entries: ChosenEntry[] = [];
    for (let slot = fetch.fromSlot; slot <= fetch.toSlot; slot++) {
      const e = node.disk.accepted.get(slot);
      if (e === undefined) break;
      entries.push({ slot, value: e.value });
    }
    this.faults.fetches++;
    node.core.serveFetched(fetch, entries);
    this.drain(node);
  }

  /** In runs that compact, keep the log short: snapshot and drop entries below the applied slot. */
  private maybeCompact(node: SimNode, core: PaxosNode): void {
    if (this.compactEvery === 0 || node.disk.applied - node.disk.compacted < this.compactEvery) return;
    const through = node.disk.applied - this.rng.int(5);
    if (through <= node.disk.compacted) return;
    core.compact(through);
    for (const slot of [...node.disk.accepted.keys()]) if (slot <= through) node.disk.accepted.delete(slot);
    node.disk.compacted = through;
    this.trace(`n${node.id} compacted through ${through}`);
  }

  /**
   * Copy `from`'s snapshot (its applied state through its compaction point)
   * to `to`, as the runtime streams a data.db copy, if both are up and can talk.
   */
  private transferSnapshot(toId: NodeId, fromId: NodeId, incarnation: number): void {
    const to = this.node(toId);
    const from = this.node(fromId);
    if (to.core === null || to.paused || to.incarnation !== incarnation) return;
    if (from.core === null || this.blocked.has(link(fromId, toId)) || this.blocked.has(link(toId, fromId))) return;
    const slot = from.disk.compacted;
    if (slot <= to.disk.applied) return;
    for (let s = to.disk.applied + 1; s <= slot; s++) {
      if (!this.chosen.has(s)) this.violation(`n${fromId} has a snapshot through ${slot} but slot ${s} was never applied anywhere`);
    }
    to.disk.applied = slot;
    to.disk.compacted = slot;
    for (const s of [...to.disk.accepted.keys()]) if (s <= slot) to.disk.accepted.delete(s);
    const restored = to.core.restoreSnapshot(slot);
    this.faults.snapshots++;
    this.trace(`n${toId} installed the snapshot of n${fromId} through ${slot} (${restored ? 'restored' : 'already known'})`);
    this.drain(to);
  }

  private persist(node: SimNode, ready: Ready): void {
    if (ready.promised !== null) node.disk.promised = ready.promised;
    for (const e of ready.accepted) node.disk.accepted.set(e.slot, e);
  }

  private send(msg: Message): void {
    if (this.net.chance(this.lossRate)) {
      this.faults.dropped++;
      return;
    }
    const copies = this.net.chance(this.dupRate) ? 2 : 1;
    if (copies === 2) this.faults.duplicated++;
    for (let i = 0; i < copies; i++) {
      // Mostly a few ms; a tail of slow ones, and a few very late ones (a TCP
      // retransmission, a reconnect flushing a queue) that arrive after the
      // cluster has moved on to newer ballots.
      const roll = this.net.next();
      const delay = roll < 0.01 ? this.net.between(100, 1000) : roll < 0.06 ? this.net.between(20, 120) : this.net.between(1, 6);
      this.queue.push(this.now + delay, { kind: 'deliver', msg });
    }
  }

  // -------------------------------------------------------------------------
  // Faults.

  private injectFault(): void {
    if (this.now >= this.faultMs) return;
    const roll = this.rng.next();
    if (roll < 0.25) this.crashSomeone();
    else if (roll < 0.5) this.partition();
    else if (roll < 0.75) this.pauseSomeone();
    else if (roll < 0.85) {
      this.lossRate = this.rng.next() * 0.3;
      this.trace(`loss rate ${this.lossRate.toFixed(3)}`);
    }
    this.queue.push(this.now + this.rng.between(50, 300), { kind: 'fault' });
  }

  private crashSomeone(): void {
    const live = this.ids.filter((id) => this.node(id).core !== null);
    if (live.length === 0) return;
    const leader = this.currentLeader();
    const victim = leader !== null && this.rng.chance(0.5) ? leader : this.rng.pick(live);
    this.crash(this.node(victim), victim === leader ? 'leader crash' : 'crash');
    // Sometimes the disk is lost too: one node at a time, of a cluster whose other nodes all vote (losing
    // more loses data in any protocol; a cluster still bootstrapping has nothing to lose yet).
    if (this.ids.length >= 3 && this.rng.chance(0.15) && this.othersVote(victim)) this.wipe(this.node(victim));
  }

  private othersVote(victim: NodeId): boolean {
    return this.ids.every((id) => id === victim || (!this.wiped.has(id) && this.node(id).core?.status().voting === true));
  }

  /** The node's disk is gone: it restarts with nothing, as a new node would. */
  private wipe(node: SimNode): void {
    node.disk.promised = ZERO_BALLOT;
    node.disk.accepted.clear();
    node.disk.applied = 0;
    node.disk.compacted = 0;
    this.wiped.add(node.id);
    // Its promises went with the disk; the promise check judges crashes, not lost disks.
    this.promisesSent.delete(node.id);
    this.faults.wipes++;
    this.trace(`WIPE n${node.id}`);
  }

  /** Stop a node (the leader half the time) for a while; it wakes up to stale messages. */
  private pauseSomeone(): void {
    const live = this.ids.filter((id) => this.node(id).core !== null && !this.node(id).paused);
    if (live.length === 0) return;
    const leader = this.currentLeader();
    const victim = this.node(leader !== null && this.rng.chance(0.5) ? leader : this.rng.pick(live));
    if (victim.core === null || victim.paused) return;
    this.faults.pauses++;
    victim.paused = true;
    this.trace(`PAUSE n${victim.id} at ${victim.core.describe()}`);
    this.queue.push(this.now + this.rng.between(100, 1500), {
      kind: 'resume',
      node: victim.id,
      incarnation: victim.incarnation,
    });
  }

  /** Buffered messages and the next tick arrive in a random order, as on a real event loop. */
  private resume(id: NodeId, incarnation: number): void {
    const node = this.node(id);
    if (!node.paused || node.incarnation !== incarnation) return;
    node.paused = false;
    this.trace(`RESUME n${id} with ${node.buffered.length} buffered messages`);
    for (const msg of node.buffered.splice(0)) {
      this.queue.push(this.now + this.rng.between(0, 3), { kind: 'deliver', msg });
    }
    this.queue.push(this.now + this.rng.between(0, 3), { kind: 'tick', node: id, incarnation });
  }

  private crash(node: SimNode, why: string): void {
    if (node.core === null) return;
    this.faults.crashes++;
    this.trace(`CRASH n${node.id} (${why}) at ${node.core.describe()}`);
    node.core = null;
    node.paused = false;
    node.buffered.length = 0;
    // Some restarts are quick (a process supervisor), most take a while.
    const downtime = this.rng.chance(0.3) ? this.rng.between(1, 30) : this.rng.between(50, 1500);
    this.queue.push(this.now + downtime, { kind: 'restart', node: node.id });
  }

  private restart(node: SimNode): void {
    if (node.core !== null) return;
    this.boot(node);
    this.trace(`RESTART n${node.id} promised ${formatBallot(node.disk.promised)} applied ${node.disk.applied}`);
  }

  private partition(): void {
    this.blocked.clear();
    const kind = this.rng.int(3);
    if (kind === 0) {
      // Symmetric: split the nodes in two.
      const side = new Set(this.ids.filter(() => this.rng.chance(0.5)));
      for (const a of this.ids) for (const b of this.ids) if (side.has(a) !== side.has(b)) this.blocked.add(link(a, b));
      this.trace(`PARTITION split [${[...side].join(',')}] | rest`);
    } else if (kind === 1) {
      // Asymmetric: a few one-way links stop working.
      const count = this.rng.between(1, this.ids.length);
      for (let i = 0; i < count; i++) this.blocked.add(link(this.rng.pick(this.ids), this.rng.pick(this.ids)));
      this.trace(`PARTITION one-way ${[...this.blocked].join(' ')}`);
    } else {
      const leader = this.currentLeader() ?? this.rng.pick(this.ids);
      for (const other of this.ids) {
        if (other === leader) continue;
        this.blocked.add(link(leader, other));
        this.blocked.add(link(other, leader));
      }
      this.trace(`PARTITION isolate n${leader}`);
    }
    this.faults.partitions++;
    const id = ++this.partitionSeq;
    this.queue.push(this.now + this.rng.between(200, 1500), { kind: 'heal-partition', partition: id });
  }

  private healPartition(id: number): void {
    if (id !== this.partitionSeq) return;
    this.blocked.clear();
    this.trace('HEAL partition');
  }

  /** End of the fault phase: the network heals and every node comes back. */
  private healAll(): void {
    this.blocked.clear();
    for (const id of this.ids) this.resume(id, this.node(id).incarnation);
    this.lossRate = 0;
    this.dupRate = 0;
    for (const id of this.ids) this.restart(this.node(id));
    this.trace('HEAL all');
  }

  private currentLeader(): NodeId | null {
    let best: { id: NodeId; round: number } | null = null;
    for (const id of this.ids) {
      const s = this.node(id).core?.status();
      if (s?.role === 'leader' && (best === null || s.ballot.round > best.round)) best = { id, round: s.ballot.round };
    }
    return best?.id ?? null;
  }

  // -------------------------------------------------------------------------
  // Clients.

  private clientStep(clientId: number, op: number): void {
    const client = this.client(clientId);
    if (client.op !== op) return;
    if (client.pending === null) {
      if (this.now >= this.clientsStopAt) return;
      if (this.rng.chance(0.2)) return this.startRead(client);
      client.seq++;
      const key = `${client.id}:${client.seq}`;
      this.proposed.add(key);
      client.pending = { kind: 'write', key, bytes: encodeCommand(client.id, client.seq), startedAt: this.now, origin: null };
    }
    if (client.pending.kind === 'write') this.submitWrite(client, client.pending);
  }

  private submitWrite(client: Client, write: PendingWrite): void {
    const live = this.ids.filter((id) => this.node(id).core !== null);
    if (live.length === 0) return this.retryLater(client, 50);
    const id = this.rng.pick(live);
    const node = this.node(id);
    const outcome = (node.core as PaxosNode).propose([write.bytes]);
    this.trace(`client ${client.id} write ${write.key} at n${id}: ${outcome}`);
    if (outcome !== 'queued' && outcome !== 'forwarded') return this.retryLater(client, 20);
    write.origin = id;
    this.awaiting.set(write.key, client.id);
    this.drain(node);
    this.queue.push(this.now + CLIENT_TIMEOUT_MS, { kind: 'client-timeout', client: client.id, op: client.op });
  }

  private startRead(client: Client): void {
    const live = this.ids.filter((id) => this.node(id).core !== null);
    if (live.length === 0) return this.retryLater(client, 50);
    const id = this.rng.pick(live);
    const readId = this.nextReadId++;
    client.pending = { kind: 'read', readId, node: id, required: this.maxAckedSlot };
    this.readsInFlight.set(`${id}:${readId}`, client.id);
    this.trace(`client ${client.id} read #${readId} at n${id} (acked through ${this.maxAckedSlot})`);
    const node = this.node(id);
    // Some reads ask for a lease read; the runtime catches up its clock first.
    const lease = this.rng.chance(0.4);
    if (lease) this.catchUpTicks(node);
    (node.core as PaxosNode).readIndex(readId, { lease });
    this.drain(node);
    this.queue.push(this.now + CLIENT_TIMEOUT_MS, { kind: 'client-timeout', client: client.id, op: client.op });
  }

  private retryLater(client: Client, ms: number): void {
    this.queue.push(this.now + ms, { kind: 'client', client: client.id, op: client.op });
  }

  /** A write that timed out is re-submitted, unchanged, at another node; a read is abandoned. */
  private clientTimeout(clientId: number, op: number): void {
    const client = this.client(clientId);
    if (client.op !== op || client.pending === null) return;
    if (client.pending.kind === 'read') {
      this.readsInFlight.delete(`${client.pending.node}:${client.pending.readId}`);
      return this.finishOp(client);
    }
    this.submitWrite(client, client.pending);
  }

  private finishOp(client: Client): void {
    client.pending = null;
    client.op++;
    this.queue.push(this.now + this.rng.between(0, 10), { kind: 'client', client: client.id, op: client.op });
  }

  private onReadState(nodeId: NodeId, rs: Ready['readStates'][number]): void {
    const key = `${nodeId}:${rs.id}`;
    const clientId = this.readsInFlight.get(key);
    if (clientId === undefined) return;
    this.readsInFlight.delete(key);
    const client = this.client(clientId);
    const pending = client.pending;
    if (pending?.kind !== 'read' || pending.readId !== rs.id) return;
    if (rs.ok) {
      this.reads++;
      this.trace(`read #${rs.id} at n${nodeId} -> index ${rs.index}`);
      if (rs.index < pending.required) {
        this.violation(
          `stale read index: read #${rs.id} at n${nodeId} got index ${rs.index}, but slot ${pending.required} was acknowledged before it started`,
        );
      }
    }
    this.finishOp(client);
  }

  // -------------------------------------------------------------------------
  // Applying, and the safety checks that run on every applied entry.

  private apply(node: SimNode, slot: Slot, value: Value): void {
    if (slot !== node.disk.applied + 1) {
      this.violation(`n${node.id} applied slot ${slot} after ${node.disk.applied}: gap or repeat`);
      return;
    }
    const key = valueKey(value);
    const earlier = this.chosen.get(slot);
    if (earlier === undefined) {
      this.chosen.set(slot, key);
    } else if (earlier !== key) {
      this.violation(`agreement: slot ${slot} chosen as ${earlier}, but n${node.id} applied ${key}`);
      return;
    }
    this.checkValidity(node.id, slot, value);
    node.disk.applied = slot;
    if (value.kind === 'batch') this.acknowledge(node.id, slot, value);
  }

  /**
   * The acceptor's rule, checked on what leaves each node: after sending a
   * Promise for ballot b it never promises or accepts below b — not even
   * after a crash, which is what persisting the promise is for.
   */
  private checkPromiseKept(msg: Message): void {
    if (msg.type !== 'promise' && msg.type !== 'accepted') return;
    const promised = this.promisesSent.get(msg.from) ?? ZERO_BALLOT;
    if (compareBallots(msg.ballot, promised) < 0) {
      this.violation(
        `promise broken: n${msg.from} sent ${msg.type} at ballot ${formatBallot(msg.ballot)} after promising ${formatBallot(promised)}`,
      );
    }
    if (msg.type === 'promise' && compareBallots(msg.ballot, promised) > 0) this.promisesSent.set(msg.from, msg.ballot);
  }

  private checkValidity(id: NodeId, slot: Slot, value: Value): void {
    if (value.kind === 'noop') return;
    for (const c of value.commands) {
      if (c.byteLength === 0) continue; // a rejoining node's nudge: an empty command, a no-op
      const key = decodeCommand(c);
      if (key === null || !this.proposed.has(key)) {
        this.violation(`validity: n${id} applied slot ${slot} with a command nobody proposed (${key ?? 'garbage'})`);
      }
    }
  }

  /** The origin node applying a client's command is what acknowledges it to the client. */
  private acknowledge(id: NodeId, slot: Slot, value: Value & { kind: 'batch' }): void {
    for (const c of value.commands) {
      const key = decodeCommand(c) as string;
      const clientId = this.awaiting.get(key);
      if (clientId === undefined) continue;
      const client = this.client(clientId);
      const pending = client.pending;
      if (pending?.kind !== 'write' || pending.key !== key || pending.origin !== id) continue;
      this.awaiting.delete(key);
      this.ackedWrites++;
      this.maxAckedSlot = Math.max(this.maxAckedSlot, slot);
      this.trace(`ack ${key} at n${id} slot ${slot}`);
      this.finishOp(client);
    }
  }

  /** After the quiet period: every client finished and every replica holds the same log. */
  private checkLiveness(): void {
    for (const client of this.clients) {
      const p = client.pending;
      if (p?.kind === 'write') {
        this.livenessFailures.push(
          `client ${client.id}: write ${p.key} started at ${p.startedAt} ms still unacknowledged at ${this.now} ms (healed at ${this.faultMs} ms)`,
        );
      }
    }
    const applied = this.ids.map((id) => this.node(id).disk.applied);
    const top = Math.max(...applied);
    for (const id of this.ids) {
      const node = this.node(id);
      if (node.disk.applied < top) {
        this.livenessFailures.push(`n${id} applied ${node.disk.applied} of ${top} slots after the quiet period`);
      }
    }
    if (this.livenessFailures.length > 0) this.traceTail = this.tail.slice();
  }

  private violation(what: string): void {
    this.trace(`VIOLATION ${what}`);
    if (this.violations.length === 0) this.traceTail = this.tail.slice();
    this.violations.push(`t=${this.now}ms ${what}`);
  }

  private tailSnapshot(): string[] {
    return this.traceTail.length > 0 ? this.traceTail : this.tail.slice();
  }

  private trace(line: string): void {
    const stamped = `t=${this.now} ${line}`;
    this.options.traceSink?.(stamped);
    this.tail.push(stamped);
    if (this.tail.length > TRACE_TAIL) this.tail.shift();
  }

  private node(id: NodeId): SimNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  private client(id: number): Client {
    const client = this.clients[id - 1];
    if (client === undefined) throw new Error(`no client ${id}`);
    return client;
  }
}

function link(from: NodeId, to: NodeId): string {
  return `${from}>${to}`;
}

function encodeCommand(client: number, seq: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, client);
  view.setUint32(4, seq);
  return bytes;
}

function decodeCommand(bytes: Uint8Array): string | null {
  if (bytes.byteLength !== 8) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return `${view.getUint32(0)}:${view.getUint32(4)}`;
}

function valueKey(value: Value): string {
  if (value.kind === 'noop') return 'noop';
  return `batch@${value.time}[${value.commands.map((c) => (c.byteLength === 0 ? 'nudge' : (decodeCommand(c) ?? 'garbage'))).join(' ')}]`;
}

export function describeMessage(m: Message): string {
  const head = `n${m.from}->n${m.to} ${m.type}`;
  switch (m.type) {
    case 'prevote':
      return `${head} round ${m.round} commit ${m.commit}${m.fresh ? " fresh" : ""}`;
    case 'prevote-reply':
      return `${head} round ${m.round} ${m.granted ? 'granted' : 'denied'}${m.fresh ? ' fresh' : ''}`;
    case 'prepare':
      return `${head} ${formatBallot(m.ballot)} from ${m.fromSlot}`;
    case 'promise':
      return `${head} ${formatBallot(m.ballot)} commit ${m.commit} entries [${m.entries.map((e) => `${e.slot}@${formatBallot(e.ballot)}${e.chosen ? '*' : ''}=${valueKey(e.value)}`).join(', ')}]`;
    case 'accept':
      return `${head} ${formatBallot(m.ballot)} commit ${m.commit} [${m.entries.map((e) => `${e.slot}=${valueKey(e.value)}`).join(', ')}]`;
    case 'accepted':
      return `${head} ${formatBallot(m.ballot)} slots [${m.slots.join(',')}]`;
    case 'nack':
      return `${head} ${formatBallot(m.ballot)} promised ${formatBallot(m.promised)}`;
    case 'heartbeat':
      return `${head} ${formatBallot(m.ballot)} commit ${m.commit} readSeq ${m.readSeq}`;
    case 'heartbeat-ack':
      return `${head} ${formatBallot(m.ballot)} readSeq ${m.readSeq} commit ${m.commit}`;
    case 'catchup':
      return `${head} [${m.fromSlot}..${m.toSlot}]`;
    case 'chosen':
      return `${head} commit ${m.commit} [${m.entries.map((e) => `${e.slot}=${valueKey(e.value)}`).join(', ')}]`;
    case 'forward':
      return `${head} [${m.commands.map((c) => decodeCommand(c) ?? 'garbage').join(' ')}]`;
    case 'read-index':
      return `${head} #${m.id}`;
    case 'read-index-reply':
      return `${head} #${m.id} index ${m.index}`;
    case 'snapshot-offer':
      return `${head} through ${m.slot}`;
    case 'snapshot-request':
      return `${head} slot ${m.slot} offset ${m.offset}`;
    case 'snapshot-chunk':
      return `${head} slot ${m.slot} bytes ${m.offset}+${m.data.length}/${m.total}`;
    case 'tx-request':
    case 'tx-response':
      return `${head} #${m.id} ${m.payload.length} bytes`;
  }
}
