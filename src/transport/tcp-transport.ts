// Node-to-node TCP transport.
//
// Connection scheme: two one-way connections per pair of nodes. Node i dials
// every peer j and uses that outgoing connection only for sending to j; it
// receives from j only on the connection j dialed to it. So each side owns the
// reconnect logic for exactly the direction it sends in, there is no race over
// which of two simultaneous connections to keep, and a receiver never writes.
//
// Each connection starts with a handshake frame from the dialer (cluster id,
// its node id, the node id it meant to reach). The receiver closes the
// connection, logs it and carries on, for a bad handshake, a node outside the
// configuration, a frame that does not decode, or a message whose sender or
// addressee does not match the handshake.
//
// Sending never blocks: each peer has a bounded queue (drop oldest, counted).
// Frames queued during one synchronous burst (e.g. one Ready's messages) are
// written with a single socket.write in a microtask.

import net from 'node:net';
import { pino, type Logger } from 'pino';
import type { Message, NodeId } from '../paxos/types.js';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import { DropOldestQueue } from './bounded-queue.js';
import { DecodeError, decodeMessage, encodeMessage } from './codec.js';
import { decodeHandshake, encodeFrame, encodeHandshake, FrameDecoder, FrameError } from './frames.js';
import { type LinkStats, type MessageHandler, type Transport, TransportError, type TransportStats } from './transport.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export interface TcpTransportOptions {
  readonly self: NodeId;
  /** Every node of the cluster, including self. Connections from other ids are refused. */
  readonly nodes: readonly NodeId[];
  /** Shared by the nodes of one cluster, so a node of another cluster is refused at the handshake. */
  readonly clusterId: string;
  readonly listenHost?: string;
  /** 0 (the default) picks a free port; see address(). */
  readonly listenPort?: number;
  /** Where to dial each peer. Can also be given (or changed) later with setPeerAddress(). */
  readonly peers?: ReadonlyMap<NodeId, PeerAddress>;
  readonly maxFrameBytes?: number;
  /** Per-peer send queue bounds; beyond them the oldest queued message is dropped. */
  readonly maxQueuedMessages?: number;
  readonly maxQueuedBytes?: number;
  readonly backoff?: BackoffOptions;
  /** A connection that lived this long resets the backoff to its first step when it drops. */
  readonly stableConnectionMs?: number;
  readonly connectTimeoutMs?: number;
  readonly handshakeTimeoutMs?: number;
  /** Uniform in [0, 1); jitters reconnect delays. Injected so tests can make it deterministic. */
  readonly random?: () => number;
  readonly logger?: Logger;
}

const DEFAULTS = {
  listenHost: '127.0.0.1',
  maxFrameBytes: 16 * 1024 * 1024,
  maxQueuedMessages: 4096,
  maxQueuedBytes: 64 * 1024 * 1024,
  stableConnectionMs: 1000,
  connectTimeoutMs: 3000,
  handshakeTimeoutMs: 3000,
  keepAliveMs: 5000,
} as const;

interface LinkSettings {
  readonly self: NodeId;
  readonly clusterId: string;
  readonly maxQueuedMessages: number;
  readonly maxQueuedBytes: number;
  readonly backoff: BackoffOptions;
  readonly stableConnectionMs: number;
  readonly connectTimeoutMs: number;
  readonly random: () => number;
  readonly logger: Logger;
}

/** The sending half towards one peer: queue, connection, reconnect. */
class OutboundLink {
  private address: PeerAddress | null = null;
  private socket: net.Socket | null = null;
  private connected = false;
  /** False while the socket's buffer is full: wait for 'drain' before writing more. */
  private writable = true;
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private attempt = 0;
  private connectedAt = 0;
  private closed = false;
  private readonly queue: DropOldestQueue<Buffer>;
  private readonly counters = { sentMessages: 0, sentBytes: 0, writes: 0, connectAttempts: 0, connects: 0, disconnects: 0 };

  constructor(
    readonly peer: NodeId,
    private readonly settings: LinkSettings,
  ) {
    this.queue = new DropOldestQueue<Buffer>(settings.maxQueuedMessages, settings.maxQueuedBytes, (f) => f.length);
  }

  setAddress(address: PeerAddress): void {
    if (this.closed) return;
    if (this.address?.host === address.host && this.address.port === address.port) return;
    this.address = address;
    if (this.socket !== null) {
      this.socket.destroy(); // its 'close' redials the new address
    } else {
      this.clearRetry();
      this.attempt = 0;
      this.dial();
    }
  }

  enqueue(frame: Buffer): void {
    this.queue.push(frame);
    this.scheduleFlush();
  }

  stats(): LinkStats {
    return {
      peer: this.peer,
      connected: this.connected,
      queued: this.queue.length,
      droppedQueueFull: this.queue.dropped,
      lost: 0,
      ...this.counters,
    };
  }

  close(): Promise<void> {
    this.closed = true;
    this.clearRetry();
    this.queue.drain();
    const socket = this.socket;
    if (socket === null) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  private dial(): void {
    const address = this.address;
    if (this.closed || address === null) return;
    this.counters.connectAttempts++;
    const socket = net.connect({ host: address.host, port: address.port });
    this.socket = socket;
    socket.setNoDelay(true);
    const connectTimer = setTimeout(() => {
      socket.destroy(new Error(`connect timeout after ${this.settings.connectTimeoutMs} ms`));
    }, this.settings.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      this.onConnect(socket);
    });
    socket.on('error', (err) => {
      this.settings.logger.debug({ peer: this.peer, err: err.message }, 'outbound connection error');
    });
    socket.once('close', () => {
      clearTimeout(connectTimer);
      this.onClose(socket);
    });
    // Receivers never write on our outgoing connection; discard anything that arrives.
    socket.resume();
  }

  private onConnect(socket: net.Socket): void {
    if (this.socket !== socket) return;
    this.connected = true;
    this.writable = true;
    this.connectedAt = Date.now();
    this.counters.connects++;
    socket.setKeepAlive(true, DEFAULTS.keepAliveMs);
    socket.write(encodeFrame(encodeHandshake({ clusterId: this.settings.clusterId, from: this.settings.self, to: this.peer })));
    this.settings.logger.debug({ peer: this.peer }, 'connected');
    this.scheduleFlush();
  }

  private onClose(socket: net.Socket): void {
    if (this.socket !== socket) return;
    this.socket = null;
    if (this.connected) {
      this.counters.disconnects++;
      if (Date.now() - this.connectedAt >= this.settings.stableConnectionMs) this.attempt = 0;
      this.settings.logger.debug({ peer: this.peer }, 'disconnected');
    }
    this.connected = false;
    this.writable = true;
    if (!this.closed) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    this.clearRetry();
    const delay = backoffDelay(this.attempt, this.settings.backoff, this.settings.random);
    this.attempt++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.dial();
    }, delay);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.connected || !this.writable || this.queue.length === 0) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Write everything queued with one socket.write. */
  flush(): void {
    const socket = this.socket;
    if (socket === null || !this.connected || !this.writable) return;
    const frames = this.queue.drain();
    if (frames.length === 0) return;
    const data = frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames);
    this.counters.sentMessages += frames.length;
    this.counters.sentBytes += data.length;
    this.counters.writes++;
    if (!socket.write(data)) {
      this.writable = false;
      socket.once('drain', () => {
        if (this.socket !== socket) return;
        this.writable = true;
        this.scheduleFlush();
      });
    }
  }
}

/** The receiving side of one accepted connection. */
interface InboundConnection {
  readonly socket: net.Socket;
  readonly decoder: FrameDecoder;
  /** Set once the handshake is accepted. */
  peer: NodeId | null;
  handshakeTimer: NodeJS.Timeout | null;
  closed: boolean;
}

export class TcpTransport implements Transport {
  private readonly server: net.Server;
  private readonly links = new Map<NodeId, OutboundLink>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly inboundByPeer = new Map<NodeId, InboundConnection>();
  private readonly handlers = new Set<MessageHandler>();
  private readonly nodes: ReadonlySet<NodeId>;
  private readonly logger: Logger;
  private readonly maxFrameBytes: number;
  private readonly handshakeTimeoutMs: number;
  private closing: Promise<void> | null = null;
  private readonly counters = {
    receivedMessages: 0,
    receivedBytes: 0,
    droppedUnknownPeer: 0,
    droppedTooLarge: 0,
    droppedNoHandler: 0,
    rejectedConnections: 0,
    protocolErrors: 0,
  };

  /** Create the transport, listen, and start dialing the peers whose addresses are known. */
  static async start(options: TcpTransportOptions): Promise<TcpTransport> {
    const transport = new TcpTransport(options);
    await transport.listen(options.listenHost ?? DEFAULTS.listenHost, options.listenPort ?? 0);
    for (const [node, address] of options.peers ?? []) transport.setPeerAddress(node, address);
    return transport;
  }

  private constructor(private readonly options: TcpTransportOptions) {
    assertValidConfiguration(options);
    this.nodes = new Set(options.nodes);
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ component: 'transport', self: options.self });
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULTS.maxFrameBytes;
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs;
    const settings: LinkSettings = {
      self: options.self,
      clusterId: options.clusterId,
      maxQueuedMessages: options.maxQueuedMessages ?? DEFAULTS.maxQueuedMessages,
      maxQueuedBytes: options.maxQueuedBytes ?? DEFAULTS.maxQueuedBytes,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      stableConnectionMs: options.stableConnectionMs ?? DEFAULTS.stableConnectionMs,
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs,
      random: options.random ?? Math.random,
      logger: this.logger,
    };
    for (const node of options.nodes) if (node !== options.self) this.links.set(node, new OutboundLink(node, settings));
    this.server = net.createServer((socket) => this.accept(socket));
    // Accepted connections beyond this are refused by the kernel side of node's server: a bound on
    // what strangers can make us hold (each peer needs one, plus slack for reconnects in flight).
    this.server.maxConnections = 4 * options.nodes.length + 16;
  }

  /** The address this node listens on (its actual port when started with port 0). */
  address(): PeerAddress {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new TransportError('transport is not listening');
    return { host: a.address, port: a.port };
  }

  /** Tell the transport where `node` listens; (re)dials it. */
  setPeerAddress(node: NodeId, address: PeerAddress): void {
    const link = this.links.get(node);
    if (link === undefined) throw new TransportError(`node ${node} is not a peer in the configuration`);
    link.setAddress(address);
  }

  /**
   * Write what is queued now rather than at the end of this event-loop turn:
   * the runtime sends a leader's Accepts before its own (blocking) fsync, so
   * the followers' disks work while ours does.
   */
  flushNow(): void {
    for (const link of this.links.values()) link.flush();
  }

  send(msg: Message): void {
    if (msg.from !== this.options.self) throw new TransportError(`send of a message from ${msg.from} by node ${this.options.self}`);
    if (this.closing !== null) return;
    if (msg.to === this.options.self) {
      // Loopback, asynchronously like any other delivery.
      setImmediate(() => this.deliver(msg, 0));
      return;
    }
    const link = this.links.get(msg.to);
    if (link === undefined) {
      this.counters.droppedUnknownPeer++;
      return;
    }
    const payload = encodeMessage(msg);
    if (payload.length > this.maxFrameBytes) {
      // Sending it would only make the peer drop the connection (and everything queued behind it).
      this.counters.droppedTooLarge++;
      this.logger.error({ to: msg.to, type: msg.type, bytes: payload.length }, 'message exceeds the maximum frame size; dropped');
      return;
    }
    link.enqueue(encodeFrame(payload));
  }

  onMessage(handler: MessageHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  stats(): TransportStats {
    return {
      ...this.counters,
      links: [...this.links.values()].map((l) => l.stats()),
      inboundConnections: this.inbound.size,
    };
  }

  close(): Promise<void> {
    this.closing ??= this.closeAll();
    return this.closing;
  }

  private async closeAll(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const inboundClosed = [...this.inbound].map(
      (conn) =>
        new Promise<void>((resolve) => {
          // Still in `inbound`, so its 'close' has not fired yet (onInboundClose removes it).
          conn.socket.once('close', () => resolve());
          conn.socket.destroy();
        }),
    );
    await Promise.all([serverClosed, ...inboundClosed, ...[...this.links.values()].map((l) => l.close())]);
    this.handlers.clear();
  }

  private listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.logger.error({ err: err.message }, 'listener error'));
        this.logger.info({ address: this.address() }, 'listening');
        resolve();
      });
    });
  }

  private accept(socket: net.Socket): void {
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, DEFAULTS.keepAliveMs);
    const conn: InboundConnection = {
      socket,
      decoder: new FrameDecoder(this.maxFrameBytes),
      peer: null,
      handshakeTimer: null,
      closed: false,
    };
    conn.handshakeTimer = setTimeout(() => this.reject(conn, 'no handshake in time', 'rejectedConnections'), this.handshakeTimeoutMs);
    this.inbound.add(conn);
    socket.on('data', (chunk: Buffer) => this.onData(conn, chunk));
    socket.on('error', (err) => this.logger.debug({ peer: conn.peer, err: err.message }, 'inbound connection error'));
    socket.once('close', () => this.onInboundClose(conn));
  }

  private onData(conn: InboundConnection, chunk: Buffer): void {
    if (conn.closed) return;
    let frames: Buffer[];
    try {
      frames = conn.decoder.push(chunk);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.reject(conn, err.message, conn.peer === null ? 'rejectedConnections' : 'protocolErrors');
      return;
    }
    for (const frame of frames) {
      if (conn.closed) return;
      if (conn.peer === null) this.onHandshakeFrame(conn, frame);
      else this.onMessageFrame(conn, conn.peer, frame);
    }
  }

  private onHandshakeFrame(conn: InboundConnection, frame: Buffer): void {
    let from: NodeId;
    try {
      const hs = decodeHandshake(frame);
      const problem = this.handshakeProblem(hs.clusterId, hs.from, hs.to);
      if (problem !== null) return this.reject(conn, problem, 'rejectedConnections');
      from = hs.from;
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return this.reject(conn, `bad handshake: ${err.message}`, 'rejectedConnections');
    }
    if (conn.handshakeTimer !== null) clearTimeout(conn.handshakeTimer);
    conn.handshakeTimer = null;
    conn.peer = from;
    // A newer connection from the same peer means it reconnected (restart, or a half-open old socket).
    const previous = this.inboundByPeer.get(from);
    if (previous !== undefined) this.closeInbound(previous);
    this.inboundByPeer.set(from, conn);
    this.logger.debug({ peer: from }, 'peer connected');
  }

  private handshakeProblem(clusterId: string, from: NodeId, to: NodeId): string | null {
    if (clusterId !== this.options.clusterId) return `handshake for cluster ${JSON.stringify(clusterId)}`;
    if (from === this.options.self || !this.nodes.has(from)) return `handshake from node ${from}, not a peer`;
    if (to !== this.options.self) return `handshake from node ${from} addressed to node ${to}`;
    return null;
  }

  private onMessageFrame(conn: InboundConnection, peer: NodeId, frame: Buffer): void {
    let msg: Message;
    try {
      msg = decodeMessage(frame);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      return this.reject(conn, `undecodable frame from node ${peer}: ${err.message}`, 'protocolErrors');
    }
    if (msg.from !== peer || msg.to !== this.options.self) {
      return this.reject(conn, `node ${peer} sent a message from ${msg.from} to ${msg.to}`, 'protocolErrors');
    }
    this.deliver(msg, frame.length + 4);
  }

  private deliver(msg: Message, bytes: number): void {
    if (this.closing !== null) return;
    this.counters.receivedMessages++;
    this.counters.receivedBytes += bytes;
    if (this.handlers.size === 0) {
      this.counters.droppedNoHandler++;
      return;
    }
    for (const handler of this.handlers) handler(msg);
  }

  private reject(conn: InboundConnection, reason: string, counter: 'rejectedConnections' | 'protocolErrors'): void {
    if (conn.closed) return;
    this.counters[counter]++;
    this.logger.warn({ peer: conn.peer, remote: `${conn.socket.remoteAddress}:${conn.socket.remotePort}`, reason }, 'closing inbound connection');
    this.closeInbound(conn);
  }

  private closeInbound(conn: InboundConnection): void {
    conn.closed = true;
    conn.socket.destroy();
  }

  private onInboundClose(conn: InboundConnection): void {
    conn.closed = true;
    if (conn.handshakeTimer !== null) clearTimeout(conn.handshakeTimer);
    this.inbound.delete(conn);
    if (conn.peer !== null && this.inboundByPeer.get(conn.peer) === conn) this.inboundByPeer.delete(conn.peer);
  }
}

function assertValidConfiguration(options: TcpTransportOptions): void {
  const ids = new Set(options.nodes);
  if (ids.size !== options.nodes.length) throw new TransportError('duplicate node ids in the configuration');
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || id < 1) throw new TransportError(`bad node id ${id}`);
  }
  if (!ids.has(options.self)) throw new TransportError(`self ${options.self} is not in the configuration`);
}
