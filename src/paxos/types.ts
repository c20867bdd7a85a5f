// Types of the Multi-Paxos core. Everything here is plain data: the core never
// does I/O, so every input and every output of it is one of these values.

/** Node ids are small positive integers, fixed by the cluster configuration. */
export type NodeId = number;

/** Log positions start at 1; 0 means "none" (e.g. nothing chosen yet). */
export type Slot = number;

/**
 * A ballot (round, node), compared lexicographically. A node only ever leads
 * with its own id in the ballot and bumps the round above every round it has
 * seen, so no two leaders ever share a ballot and a node never reuses one.
 */
export interface Ballot {
  readonly round: number;
  readonly node: NodeId;
}

/**
 * What a slot holds. Commands are opaque bytes to the core (the SQL layer
 * encodes them). A batch carries the leader's wall-clock time when it was cut,
 * so every replica applies it with the same notion of "now".
 */
export type Value =
  | { readonly kind: 'noop' }
  | { readonly kind: 'batch'; readonly time: number; readonly commands: readonly Uint8Array[] };

/** An accepted (slot, ballot, value), as an acceptor stores it. */
export interface AcceptedEntry {
  readonly slot: Slot;
  readonly ballot: Ballot;
  readonly value: Value;
}

/** A slot whose value is known to be chosen. */
export interface ChosenEntry {
  readonly slot: Slot;
  readonly value: Value;
}

/** A value the leader proposes for a slot in its ballot (Phase 2a payload). */
export interface ProposedEntry {
  readonly slot: Slot;
  readonly value: Value;
}

/** An entry reported in a Promise: what the acceptor accepted, and whether it knows it chosen. */
export interface PromisedEntry {
  readonly slot: Slot;
  readonly ballot: Ballot;
  readonly value: Value;
  readonly chosen: boolean;
}

// ---------------------------------------------------------------------------
// Messages. Every message names its sender and addressee; `step` refuses one
// whose sender is not in the configuration or whose addressee is not us.

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
}

/** Pre-vote: "would you support an election?" Sent before any ballot is bumped. */
export interface PreVoteMsg extends Envelope {
  readonly type: 'prevote';
  readonly round: number;
  readonly commit: Slot;
  /** The sender has never held any state (see PaxosNode's non-voting start). */
  readonly fresh: boolean;
}
export interface PreVoteReplyMsg extends Envelope {
  readonly type: 'prevote-reply';
  readonly round: number;
  readonly granted: boolean;
  readonly fresh: boolean;
}

/** Phase 1a over every slot from `fromSlot` on. */
export interface PrepareMsg extends Envelope {
  readonly type: 'prepare';
  readonly ballot: Ballot;
  readonly fromSlot: Slot;
}
/** Phase 1b: every accepted entry at slots >= fromSlot. */
export interface PromiseMsg extends Envelope {
  readonly type: 'promise';
  readonly ballot: Ballot;
  readonly fromSlot: Slot;
  readonly commit: Slot;
  readonly entries: readonly PromisedEntry[];
}
/** Phase 2a for one or more slots, with the leader's commit index piggybacked. */
export interface AcceptMsg extends Envelope {
  readonly type: 'accept';
  readonly ballot: Ballot;
  readonly entries: readonly ProposedEntry[];
  readonly commit: Slot;
}
/** Phase 2b for the listed slots. */
export interface AcceptedMsg extends Envelope {
  readonly type: 'accepted';
  readonly ballot: Ballot;
  readonly slots: readonly Slot[];
}
/** Refusal of a Prepare, Accept or Heartbeat at `ballot`: the acceptor promised `promised`. */
export interface NackMsg extends Envelope {
  readonly type: 'nack';
  readonly ballot: Ballot;
  readonly promised: Ballot;
}
/** Leader liveness, commit index, and read-index confirmation rounds (`readSeq`). */
export interface HeartbeatMsg extends Envelope {
  readonly type: 'heartbeat';
  readonly ballot: Ballot;
  readonly commit: Slot;
  readonly readSeq: number;
  /** The next slot the leader will propose: a rejoining node knows every later slot was proposed after it. */
  readonly nextSlot: Slot;
}
export interface HeartbeatAckMsg extends Envelope {
  readonly type: 'heartbeat-ack';
  readonly ballot: Ballot;
  readonly readSeq: number;
  readonly commit: Slot;
}
/** A learner asks for chosen values of slots [fromSlot, toSlot]. */
export interface CatchupMsg extends Envelope {
  readonly type: 'catchup';
  readonly fromSlot: Slot;
  readonly toSlot: Slot;
}
/** Chosen values, in answer to a Catchup. */
export interface ChosenMsg extends Envelope {
  readonly type: 'chosen';
  readonly entries: readonly ChosenEntry[];
  readonly commit: Slot;
}
/** A follower hands client commands to the leader it knows. */
export interface ForwardMsg extends Envelope {
  readonly type: 'forward';
  readonly commands: readonly Uint8Array[];
}
/** A follower asks the leader for a read index. */
export interface ReadIndexMsg extends Envelope {
  readonly type: 'read-index';
  readonly id: number;
}
export interface ReadIndexReplyMsg extends Envelope {
  readonly type: 'read-index-reply';
  readonly id: number;
  /** The read index, or -1 when the addressee could not serve it (not the leader). */
  readonly index: Slot;
}

/**
 * "I compacted my log through `slot`: what you asked for is in my snapshot."
 * Sent instead of a Promise or Chosen when the asked-for slots are gone.
 */
export interface SnapshotOfferMsg extends Envelope {
  readonly type: 'snapshot-offer';
  readonly slot: Slot;
}
/** Runtime-level: ask a peer for a chunk of its snapshot at `slot` (0: its latest). */
export interface SnapshotRequestMsg extends Envelope {
  readonly type: 'snapshot-request';
  readonly slot: Slot;
  readonly offset: number;
}
/** Runtime-level: a chunk of a snapshot file; `digest` is the SHA-256 of the whole file. */
export interface SnapshotChunkMsg extends Envelope {
  readonly type: 'snapshot-chunk';
  readonly slot: Slot;
  readonly offset: number;
  readonly total: number;
  readonly digest: Uint8Array;
  readonly data: Uint8Array;
}

/** Runtime-level: a transaction request from a follower's session to the leader (JSON payload). */
export interface TxRequestMsg extends Envelope {
  readonly type: 'tx-request';
  readonly id: number;
  readonly payload: Uint8Array;
}
/** Runtime-level: the leader's answer to a TxRequest with the same id. */
export interface TxResponseMsg extends Envelope {
  readonly type: 'tx-response';
  readonly id: number;
  readonly payload: Uint8Array;
}

export type Message =
  | PreVoteMsg
  | PreVoteReplyMsg
  | PrepareMsg
  | PromiseMsg
  | AcceptMsg
  | AcceptedMsg
  | NackMsg
  | HeartbeatMsg
  | HeartbeatAckMsg
  | CatchupMsg
  | ChosenMsg
  | ForwardMsg
  | ReadIndexMsg
  | ReadIndexReplyMsg
  | SnapshotOfferMsg
  | SnapshotRequestMsg
  | SnapshotChunkMsg
  | TxRequestMsg
  | TxResponseMsg;

export type MessageType = Message['type'];

/** A reply that promises this node's durable state: sent only after the Ready that made it is persisted. */
export function vouchesForDurableState(msg: Message): boolean {
  return msg.type === 'promise' || msg.type === 'accepted' || msg.type === 'heartbeat-ack';
}

// ---------------------------------------------------------------------------
// Outputs.

export type ReadFailure = 'not-leader' | 'no-leader' | 'timeout' | 'overloaded' | 'leadership-lost';

/** The answer to a `readIndex(id)` call on this node. */
export type ReadState =
  | { readonly id: number; readonly ok: true; readonly index: Slot }
  | { readonly id: number; readonly ok: false; readonly reason: ReadFailure };

/**
 * What the runtime must do next, in this order:
 *  1. persist `promised` (if not null) and `accepted` durably (one fsync);
 *  2. only then send the messages that vouch for that state (`vouchesForDurableState`:
 *     Promise, Accepted, HeartbeatAck); the others may go out before step 1 — a
 *     leader's Accepts, for one, so followers write while it does; its own
 *     acceptance counts only through replies handled after its fsync returned;
 *  3. apply `committed` in slot order, and hand out `readStates`;
 *  4. call `advance()`.
 * No new Ready is produced until `advance()`: persisting Ready N+1 before
 * Ready N is durable would break the rule of step 2.
 */
export interface Ready {
  readonly promised: Ballot | null;
  readonly accepted: readonly AcceptedEntry[];
  readonly messages: readonly Message[];
  readonly committed: readonly ChosenEntry[];
  readonly readStates: readonly ReadState[];
  /** Commands proposed here that this node will never put in a slot (leadership lost). */
  readonly dropped: readonly Uint8Array[];
  /**
   * This node is behind a peer's compaction point: fetch that peer's snapshot
   * (at `slot` or later), install it, then call restoreSnapshot().
   */
  readonly snapshot: { readonly from: NodeId; readonly slot: Slot } | null;
  /**
   * Peers asked for chosen entries this node applied and released from memory:
   * read each range from the durable log (it may have been compacted since)
   * and pass what was found to serveFetched().
   */
  readonly fetches: readonly Fetch[];
}

/** Chosen entries fromSlot..toSlot, to read from the durable log and send to `to`. */
export interface Fetch {
  readonly to: NodeId;
  readonly fromSlot: Slot;
  readonly toSlot: Slot;
}

export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';

/** Why `propose` did or did not take the commands. */
export type ProposeOutcome = 'queued' | 'forwarded' | 'no-leader' | 'overloaded' | 'too-large';

/** Non-deterministic inputs, injected so the simulator can make them deterministic. */
export interface Environment {
  /** Uniform in [0, 1). The simulator passes a seeded PRNG. */
  random(): number;
  /** Wall-clock milliseconds, stamped into each batch the leader cuts. */
  now(): number;
}

export interface PaxosConfig {
  readonly self: NodeId;
  readonly nodes: readonly NodeId[];
  /** Ticks without hearing from a leader before a follower starts an election; randomized in [t, 2t). */
  readonly electionTicks: number;
  /** Ticks between leader heartbeats (and Accept retransmissions). */
  readonly heartbeatTicks: number;
  /** Most slots in Phase 2 at once beyond the commit index (pipelining). */
  readonly window: number;
  /** Most commands in one slot. */
  readonly maxBatchCommands: number;
  /** Most command bytes in one slot. A single larger command is refused. */
  readonly maxBatchBytes: number;
  /** Most commands waiting for a slot on the leader; beyond it propose() answers 'overloaded'. */
  readonly maxQueuedCommands: number;
  /** Most entries in one Accept, Promise or Chosen message. */
  readonly maxEntriesPerMessage: number;
  /** Most read-index requests waiting at once. */
  readonly maxPendingReads: number;
  /** Planted bugs, for proving that the simulator catches them. Never set outside tests. */
  readonly unsafeTestingBug?: PlantedBug;
}

export type PlantedBug =
  | 'no-persist-promise'
  | 'ignore-accepted'
  | 'commit-without-quorum'
  | 'read-without-quorum'
  /** A node that lost its disk votes at once, with its promises and accepts forgotten. */
  | 'vote-after-wipe'
  /** An acceptor promises a candidate behind its released slots, reporting only the entries still in memory. */
  | 'promise-without-released';

/** What survives a crash: written by the runtime from each Ready, handed back at restart. */
export interface DurableState {
  readonly promised: Ballot;
  readonly accepted: readonly AcceptedEntry[];
  /** The highest slot whose value the state machine has durably applied. */
  readonly applied: Slot;
  /** Entries at or below this slot were compacted away (they are in the snapshot the state came from). */
  readonly compactedThrough?: Slot;
}

/** Counters that the runtime exports as metrics. */
export interface PaxosStats {
  rejectedMessages: number;
  staleMessages: number;
  elections: number;
  leaderTerms: number;
  retransmits: number;
  catchupRequests: number;
}
