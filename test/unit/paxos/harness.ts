// A tiny hand-driven cluster for unit tests: messages wait in a queue until
// the test delivers them (all, or only those a filter lets through).

import { PaxosNode } from '../../../src/paxos/node.js';
import type { ChosenEntry, DurableState, Message, NodeId, PaxosConfig, ReadState, Ready } from '../../../src/paxos/types.js';
import { createRandom } from '../../../src/util/random.js';

export function testConfig(self: NodeId, nodes: readonly NodeId[], overrides: Partial<PaxosConfig> = {}): PaxosConfig {
  return {
    self,
    nodes,
    electionTicks: 10,
    heartbeatTicks: 2,
    window: 4,
    maxBatchCommands: 3,
    maxBatchBytes: 1024,
    maxQueuedCommands: 100,
    maxEntriesPerMessage: 50,
    maxPendingReads: 10,
    ...overrides,
  };
}

export function cmd(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

export function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** The commands of applied entries as strings, no-ops as '-'. */
export function appliedTexts(entries: readonly ChosenEntry[]): string[] {
  return entries.flatMap((e) => (e.value.kind === 'noop' ? ['-'] : e.value.commands.map(text)));
}

export class TestCluster {
  readonly nodes = new Map<NodeId, PaxosNode>();
  readonly applied = new Map<NodeId, ChosenEntry[]>();
  readonly reads = new Map<NodeId, ReadState[]>();
  readonly snapshotsWanted = new Map<NodeId, NonNullable<Ready['snapshot']>[]>();
  readonly durable = new Map<NodeId, { promised: DurableState['promised']; accepted: Map<number, DurableState['accepted'][number]> }>();
  pending: Message[] = [];
  readonly ids: NodeId[];
  /** Release applied entries from each core's memory after every Ready, as the runtime does. */
  releaseApplied = false;
  fetchesServed = 0;

  constructor(size: number, private readonly overrides: Partial<PaxosConfig> = {}, seed = 1) {
    this.ids = Array.from({ length: size }, (_, i) => i + 1);
    const rng = createRandom(seed);
    for (const id of this.ids) {
      const r = rng.fork();
      this.nodes.set(id, new PaxosNode(testConfig(id, this.ids, overrides), { random: () => r.next(), now: () => 1000 }));
      this.applied.set(id, []);
      this.reads.set(id, []);
      this.snapshotsWanted.set(id, []);
      this.durable.set(id, { promised: { round: 0, node: 0 }, accepted: new Map() });
    }
  }

  node(id: NodeId): PaxosNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Run every pending Ready of every node: persist, queue messages, apply. */
  flush(): void {
    for (const id of this.ids) {
      const node = this.node(id);
      while (node.hasReady()) this.handle(id, node.ready());
    }
  }

  private handle(id: NodeId, ready: Ready): void {
    const disk = this.durable.get(id)!;
    if (ready.promised !== null) disk.promised = ready.promised;
    for (const e of ready.accepted) disk.accepted.set(e.slot, e);
    this.pending.push(...ready.messages);
    this.applied.get(id)!.push(...ready.committed);
    this.reads.get(id)!.push(...ready.readStates);
    if (ready.snapshot !== null) this.snapshotsWanted.get(id)!.push(ready.snapshot);
    const node = this.node(id);
    node.advance();
    // The runtime's part of a fetch: read the released entries from the durable log.
    for (const f of ready.fetches) {
      const entries = [];
      for (let slot = f.fromSlot; slot <= f.toSlot && disk.accepted.has(slot); slot++) entries.push({ slot, value: disk.accepted.get(slot)!.value });
      this.fetchesServed++;
      node.serveFetched(f, entries);
    }
    if (this.releaseApplied) node.release(node.status().handedOut);
  }

  /** Deliver queued messages (and those they cause) until quiet; `allow` drops the rest. */
  deliverAll(allow: (m: Message) => boolean = () => true, maxRounds = 100): void {
    this.flush();
    for (let round = 0; round < maxRounds && this.pending.length > 0; round++) {
      const batch = this.pending;
      this.pending = [];
      for (const m of batch) if (allow(m)) this.node(m.to).step(m);
      this.flush();
    }
  }

  tickAll(times = 1, allow: (m: Message) => boolean = () => true): void {
    for (let i = 0; i < times; i++) {
      for (const id of this.ids) this.node(id).tick();
      this.deliverAll(allow);
    }
  }

  /** Tick until some node leads; returns it. */
  electLeader(allow: (m: Message) => boolean = () => true, maxTicks = 200): NodeId {
    for (let i = 0; i < maxTicks; i++) {
      const leader = this.ids.find((id) => this.node(id).status().role === 'leader');
      if (leader !== undefined) return leader;
      this.tickAll(1, allow);
    }
    throw new Error('no leader elected');
  }

  appliedTexts(id: NodeId): string[] {
    return appliedTexts(this.applied.get(id)!);
  }
}
