// In-memory twin of TcpTransport for tests: a MemoryNetwork connects any number
// of MemoryTransports. Delivery is asynchronous (setImmediate, FIFO per link,
// like TCP) and goes through the real codec, so receivers never share objects
// with senders. Optional faults: random loss (from an injected random source)
// and partitions between pairs of nodes.

import type { Message, NodeId } from '../paxos/types.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { type LinkStats, type MessageHandler, type Transport, TransportError, type TransportStats } from './transport.js';

export interface MemoryNetworkOptions {
  /** Probability in [0, 1] that a message is lost. */
  readonly lossRate?: number;
  /** Uniform in [0, 1); decides losses. Required for a reproducible lossRate > 0. */
  readonly random?: () => number;
}

interface MutableLinkStats {
  sentMessages: number;
  sentBytes: number;
  lost: number;
}

export class MemoryNetwork {
  private readonly members = new Map<NodeId, MemoryTransport>();
  private readonly cut = new Set<string>();
  lossRate: number;
  private readonly random: () => number;

  constructor(options: MemoryNetworkOptions = {}) {
    this.lossRate = options.lossRate ?? 0;
    this.random = options.random ?? Math.random;
  }

  /** A transport for `node`; one per node at a time. */
  join(node: NodeId): MemoryTransport {
    if (this.members.has(node)) throw new TransportError(`node ${node} already joined`);
    const t = new MemoryTransport(node, this);
    this.members.set(node, t);
    return t;
  }

  /** Drop every message between a and b, both ways, until heal(). */
  partition(a: NodeId, b: NodeId): void {
    this.cut.add(pairKey(a, b));
  }

  heal(a?: NodeId, b?: NodeId): void {
    if (a === undefined || b === undefined) this.cut.clear();
    else this.cut.delete(pairKey(a, b));
  }

  /** @internal Called by MemoryTransport.send; returns whether the message is on its way. */
  route(msg: Message, bytes: Uint8Array): boolean {
    if (this.cut.has(pairKey(msg.from, msg.to))) return false;
    if (this.lossRate > 0 && this.random() < this.lossRate) return false;
    const target = this.members.get(msg.to);
    if (target === undefined) return false;
    setImmediate(() => target.receive(bytes));
    return true;
  }

  /** @internal */
  leave(node: NodeId, t: MemoryTransport): void {
    if (this.members.get(node) === t) this.members.delete(node);
  }
}

export class MemoryTransport implements Transport {
  private readonly handlers = new Set<MessageHandler>();
  private readonly links = new Map<NodeId, MutableLinkStats>();
  private closed = false;
  private readonly counters = { receivedMessages: 0, receivedBytes: 0, droppedNoHandler: 0 };

  constructor(
    readonly self: NodeId,
    private readonly network: MemoryNetwork,
  ) {}

  send(msg: Message): void {
    if (msg.from !== this.self) throw new TransportError(`send of a message from ${msg.from} by node ${this.self}`);
    if (this.closed) return;
    const bytes = encodeMessage(msg);
    const link = this.linkTo(msg.to);
    if (this.network.route(msg, bytes)) {
      link.sentMessages++;
      link.sentBytes += bytes.length;
    } else {
      link.lost++;
    }
  }

  onMessage(handler: MessageHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  close(): Promise<void> {
    this.closed = true;
    this.handlers.clear();
    this.network.leave(this.self, this);
    return Promise.resolve();
  }

  stats(): TransportStats {
    const links: LinkStats[] = [...this.links].map(([peer, l]) => ({
      peer,
      connected: true,
      queued: 0,
      sentMessages: l.sentMessages,
      sentBytes: l.sentBytes,
      writes: l.sentMessages,
      droppedQueueFull: 0,
      lost: l.lost,
      connectAttempts: 0,
      connects: 0,
      disconnects: 0,
    }));
    return {
      ...this.counters,
      links,
      droppedUnknownPeer: 0,
      droppedTooLarge: 0,
      rejectedConnections: 0,
      protocolErrors: 0,
      inboundConnections: 0,
    };
  }

  /** @internal Delivery from the network. */
  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    const msg = decodeMessage(bytes);
    this.counters.receivedMessages++;
    this.counters.receivedBytes += bytes.length;
    if (this.handlers.size === 0) {
      this.counters.droppedNoHandler++;
      return;
    }
    for (const handler of this.handlers) handler(msg);
  }

  private linkTo(peer: NodeId): MutableLinkStats {
    let link = this.links.get(peer);
    if (link === undefined) {
      link = { sentMessages: 0, sentBytes: 0, lost: 0 };
      this.links.set(peer, link);
    }
    return link;
  }
}

function pairKey(a: NodeId, b: NodeId): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
