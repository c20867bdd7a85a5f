// What the node runtime needs from the network: best-effort, per-link FIFO
// delivery of Paxos messages. Paxos tolerates loss, duplication and delay, so a
// transport may drop (and counts what it drops) rather than block or grow.

import type { Message, NodeId } from '../paxos/types.js';

export type MessageHandler = (msg: Message) => void;

/** Counters for one outgoing link (this node to `peer`). */
export interface LinkStats {
  readonly peer: NodeId;
  readonly connected: boolean;
  /** Messages waiting to be written. */
  readonly queued: number;
  readonly sentMessages: number;
  readonly sentBytes: number;
  /** socket.write calls: frames queued in one event-loop turn share one write. */
  readonly writes: number;
  /** Messages dropped because the send queue was full. */
  readonly droppedQueueFull: number;
  /** Messages dropped by simulated loss or partition (MemoryTransport only; always 0 over TCP). */
  readonly lost: number;
  readonly connectAttempts: number;
  readonly connects: number;
  readonly disconnects: number;
}

export interface TransportStats {
  readonly links: readonly LinkStats[];
  readonly receivedMessages: number;
  readonly receivedBytes: number;
  /** Messages handed to send() for a node outside the configuration. */
  readonly droppedUnknownPeer: number;
  /** Messages whose encoding exceeds the maximum frame size (the receiver would refuse them). */
  readonly droppedTooLarge: number;
  /** Received messages that arrived while no handler was registered. */
  readonly droppedNoHandler: number;
  /** Inbound connections closed for a bad handshake or an unknown or misaddressed node. */
  readonly rejectedConnections: number;
  /** Inbound connections closed for a frame that did not decode or a misaddressed message. */
  readonly protocolErrors: number;
  readonly inboundConnections: number;
}

export interface Transport {
  /** Queue `msg` for msg.to; never blocks, may drop. msg.from must be this node. */
  send(msg: Message): void;
  /** Register a receiver of every incoming message; returns a function that unregisters it. */
  onMessage(handler: MessageHandler): () => void;
  /** Close every connection and listener; resolves when all are closed. */
  close(): Promise<void>;
  stats(): TransportStats;
}

/** Misuse of a transport (a programming error in the caller). */
export class TransportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransportError';
  }
}
