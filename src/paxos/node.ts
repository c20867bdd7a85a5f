// Multi-Paxos as a pure state machine (in the manner of etcd's raft).
//
// Inputs: step(message), tick(), propose(commands), readIndex(id).
// Output: a Ready (persist → send → apply), then advance().
//
// One class plays every role: acceptor (promises, accepts), learner (commit
// index, catch-up), proposer/leader (pre-vote, Phase 1 over all open slots,
// pipelined and batched Phase 2, read index). It never does I/O, never reads a
// clock and draws randomness only from the injected Environment, so a whole
// cluster of them runs deterministically inside the simulator.

import { ballotsEqual, compareBallots, formatBallot, nextBallot, ZERO_BALLOT } from './ballot.js';
import type {
  AcceptedEntry,
  AcceptedMsg,
  AcceptMsg,
  Ballot,
  CatchupMsg,
  ChosenEntry,
  ChosenMsg,
  DurableState,
  Environment,
  Fetch,
  ForwardMsg,
  HeartbeatAckMsg,
  HeartbeatMsg,
  Message,
  NackMsg,
  NodeId,
  PaxosConfig,
  PaxosStats,
  PreVoteMsg,
  PreVoteReplyMsg,
  PrepareMsg,
  PromisedEntry,
  PromiseMsg,
  ProposedEntry,
  ProposeOutcome,
  ReadFailure,
  ReadIndexMsg,
  ReadIndexReplyMsg,
  ReadState,
  Ready,
  SnapshotOfferMsg,
  Role,
  Slot,
  Value,
} from './types.js';
import { invalidReason, type ValidationLimits } from './validate.js';

export const NOOP: Value = Object.freeze({ kind: 'noop' });

/** Of an election timeout, how long a confirmed round's lease lasts (the rest is margin for clock drift). */
const LEASE_FRACTION = 0.75;

/** An invariant of the core does not hold: a bug, never a condition to handle. */
export class PaxosInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PaxosInvariantError';
  }
}

function invariant(condition: boolean, message: string): asserts condition {
  if (!condition) throw new PaxosInvariantError(message);
}

/** An acceptor's record of one slot, plus what the learner knows of it. */
interface LogEntry {
  ballot: Ballot;
  value: Value;
  /** Known chosen; `value` is then the chosen value. */
  chosen: boolean;
}

/** A slot the leader has proposed in its ballot and not yet seen chosen. */
interface InFlight {
  readonly value: Value;
  readonly acks: Set<NodeId>;
  sentAtTick: number;
}

interface PendingRead {
  readonly id: number;
  /** Who asked: this node (answer in Ready.readStates) or a follower (answer by message). */
  readonly origin: NodeId;
  /** The confirmation round that must complete; it started after the request arrived. */
  readonly seq: number;
}

/** Outputs gathered since the last Ready. */
class Outbox {
  promised: Ballot | null = null;
  readonly accepted = new Map<Slot, AcceptedEntry>();
  messages: Message[] = [];
  readStates: ReadState[] = [];
  dropped: Uint8Array[] = [];
  snapshot: { from: NodeId; slot: Slot } | null = null;
  /** At most one per peer: a peer asks again if it still lags. */
  readonly fetches = new Map<NodeId, Fetch>();

  isEmpty(): boolean {
    return (
      this.promised === null &&
      this.accepted.size === 0 &&
      this.messages.length === 0 &&
      this.readStates.length === 0 &&
      this.dropped.length === 0 &&
      this.snapshot === null &&
      this.fetches.size === 0
    );
  }
}

export interface PaxosStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly promised: Ballot;
  /** The ballot this node leads (or tries to lead) with; ZERO when a follower. */
  readonly ballot: Ballot;
  readonly commit: Slot;
  readonly handedOut: Slot;
  readonly compactedThrough: Slot;
  readonly nextSlot: Slot;
  readonly queued: number;
  readonly inFlight: number;
  /** False while rebuilding after starting with no state (learns, never promises or accepts). */
  readonly voting: boolean;
}

export class PaxosNode {
  readonly id: NodeId;
  readonly stats: PaxosStats = {
    rejectedMessages: 0,
    staleMessages: 0,
    elections: 0,
    leaderTerms: 0,
    retransmits: 0,
    catchupRequests: 0,
  };

  private readonly config: PaxosConfig;
  private readonly env: Environment;
  private readonly peers: readonly NodeId[];
  private readonly quorum: number;
  private readonly limits: ValidationLimits;
  private readonly retransmitTicks: number;
  private readonly readTimeoutTicks: number;

  // Acceptor.
  private promised: Ballot;
  private readonly log = new Map<Slot, LogEntry>();

  // Learner: every slot <= commit is chosen; its value is in `log` unless released.
  private commit: Slot;
  /** Committed entries up to here were handed to the runtime in a Ready. */
  private handedOut: Slot;
  /**
   * Entries at or below this slot are applied and no longer held in memory:
   * their chosen values are in the durable log, and a peer that asks for them
   * is served from there (Ready.fetches). Keeping every applied command in
   * memory until a snapshot cost a node tens of MB under steady writes.
   */
  private releasedThrough: Slot;
  /** Entries at or below this slot are compacted away (chosen, applied, in a snapshot). */
  private compactedThrough: Slot;
  private catchupAllowedAtTick = 0;

  // Roles and time.
  private role: Role = 'follower';
  private leader: NodeId | null = null;
  private highestRound: number;
  private ticks = 0;
  private electionElapsed = 0;
  private electionTimeout: number;
  private heartbeatElapsed = 0;

  // Pre-vote and Phase 1.
  private preVoteRound = 0;
  private readonly preVotes = new Set<NodeId>();
  private ballot: Ballot = ZERO_BALLOT;
  private readonly promises = new Map<NodeId, PromiseMsg>();
  private prepareFrom: Slot = 1;

  // Leader.
  private nextSlot: Slot;
  private readonly inflight = new Map<Slot, InFlight>();
  private queue: Uint8Array[] = [];
  /**
   * How many queued commands may still be cut into slots: all of them
   * normally; while the runtime holds proposals (a transaction is running and
   * its entry must come next), only those queued before the hold.
   */
  private cuttable = Number.POSITIVE_INFINITY;
  /** Phase 1 recovered slots up to here; reads wait until they are chosen. */
  private recoveredThrough: Slot = 0;
  private readonly recentlyActive = new Set<NodeId>();
  private readSeq = 0;
  private readRoundNeeded = false;
  private readonly ackedReadSeq = new Map<NodeId, number>();
  /** When each recent round started (ticks); rounds older than the confirmed one are forgotten. */
  private readonly roundStartTick = new Map<number, number>();
  private leaseUntilTick = 0;
  /** The commit index followers were last told about. */
  private announcedCommit = 0;
  private pendingReads: PendingRead[] = [];

  /**
   * A node that starts with no state at all may be a new cluster's member, or
   * one whose disk was lost: then it forgot promises and accepts that other
   * nodes counted on. Until it knows which, it learns but never promises or
   * accepts (as in "Paxos Made Live"): it starts voting once every other node
   * has said, since we started, that it holds nothing either (a new cluster:
   * nobody can depend on what we might have forgotten), or once it has seen
   * chosen a slot that was proposed after it came back. A majority saying
   * "fresh" would not do: a node that was down all along and a wiped one are a
   * majority of three, and the third knows the history.
   */
  private voting: boolean;
  private readonly freshPeers = new Set<NodeId>();
  /** While not voting: slots above this were proposed after we came back. */
  private rejoinHorizon: Slot | null = null;
  private nudgedAtTick = Number.NEGATIVE_INFINITY;
  private announceElapsed = 0;

  // Follower reads forwarded to the leader: id → tick when they time out.
  private readonly forwardedReads = new Map<number, number>();

  private out = new Outbox();
  private readyOutstanding = false;

  constructor(config: PaxosConfig, env: Environment, durable?: DurableState) {
    validateConfig(config);
    this.config = config;
    this.env = env;
    this.id = config.self;
    this.peers = config.nodes.filter((n) => n !== config.self);
    this.quorum = Math.floor(config.nodes.length / 2) + 1;
    this.limits = {
      self: config.self,
      members: new Set(config.nodes),
      maxEntriesPerMessage: config.maxEntriesPerMessage,
      maxBatchCommands: config.maxBatchCommands,
    };
    this.retransmitTicks = Math.max(2, 2 * config.heartbeatTicks);
    this.readTimeoutTicks = 2 * config.electionTicks;
    this.promised = durable?.promised ?? ZERO_BALLOT;
    this.highestRound = this.promised.round;
    const applied = durable?.applied ?? 0;
    this.compactedThrough = durable?.compactedThrough ?? 0;
    invariant(this.compactedThrough <= applied, 'compacted beyond the applied slot');
    for (const e of durable?.accepted ?? []) {
      this.highestRound = Math.max(this.highestRound, e.ballot.round);
      // Applied: released at once. The runtime persists learned chosen values
      // too, so at and below the applied slot the durable value is the chosen one.
      if (e.slot <= applied) continue;
      this.log.set(e.slot, { ballot: e.ballot, value: e.value, chosen: false });
    }
    this.releasedThrough = applied;
    this.commit = applied;
    this.handedOut = applied;
    this.nextSlot = applied + 1;
    this.electionTimeout = this.randomElectionTimeout();
    // Every node that ever voted holds a durable promise (at least (0, self)). Without one, its
    // acceptor state is new or lost — even if data.db or values learned while rebuilding survived.
    const neverVoted = ballotsEqual(this.promised, ZERO_BALLOT);
    this.voting = config.nodes.length === 1 || !neverVoted || config.unsafeTestingBug === 'vote-after-wipe';
  }

  /**
   * Nothing accepted, nothing chosen: what we report as "fresh". Promises do
   * not count: a value can only be chosen once acceptors accepted it, so while
   * every node reports fresh nothing was ever chosen, whatever was promised.
   */
  private isFresh(): boolean {
    return this.log.size === 0 && this.commit === 0 && this.compactedThrough === 0;
  }

  // -------------------------------------------------------------------------
  // Inputs.

  /**
   * Advance logical time. The runtime passes how many ticks really elapsed
   * (by a monotonic clock), so a node that was paused — SIGSTOP, a long GC —
   * learns at once that its timeouts and its read lease ran out meanwhile.
   */
  tick(elapsed = 1): void {
    invariant(Number.isSafeInteger(elapsed) && elapsed >= 1, 'tick by a positive whole number');
    this.ticks += elapsed;
    if (this.role === 'leader') {
      this.tickLeader(elapsed);
    } else {
      this.electionElapsed += elapsed;
      if (!this.voting && this.isFresh()) this.announceWhileFresh(elapsed);
      else if (this.electionElapsed >= this.electionTimeout) this.startPreVote();
    }
    this.expireForwardedReads();
  }

  /** Feed one message from a peer. Invalid messages are counted and dropped. */
  step(msg: Message): void {
    const problem = invalidReason(msg, this.limits);
    if (problem !== null) {
      this.stats.rejectedMessages++;
      return;
    }
    switch (msg.type) {
      case 'prevote':
        return this.onPreVote(msg);
      case 'prevote-reply':
        return this.onPreVoteReply(msg);
      case 'prepare':
        return this.onPrepare(msg);
      case 'promise':
        return this.onPromise(msg);
      case 'accept':
        return this.onAccept(msg);
      case 'accepted':
        return this.onAccepted(msg);
      case 'nack':
        return this.onNack(msg);
      case 'heartbeat':
        return this.onHeartbeat(msg);
      case 'heartbeat-ack':
        return this.onHeartbeatAck(msg);
      case 'catchup':
        return this.onCatchup(msg);
      case 'chosen':
        return this.onChosen(msg);
      case 'forward':
        return this.onForward(msg);
      case 'read-index':
        return this.onReadIndex(msg);
      case 'read-index-reply':
        return this.onReadIndexReply(msg);
      case 'snapshot-offer':
        return this.onSnapshotOffer(msg);
      case 'snapshot-request':
      case 'snapshot-chunk':
      case 'tx-request':
      case 'tx-response':
        return; // refused by validation: the runtime handles these
    }
  }

  /**
   * Ask for commands to be chosen. On the leader they wait for the next Ready,
   * where they are cut into batches; a follower forwards them to the leader it
   * knows. Either way the caller learns the outcome when the commands come out
   * of `committed` (or never: a forward can be lost, so callers time out).
   */
  propose(commands: readonly Uint8Array[], options: { first?: boolean } = {}): ProposeOutcome {
    invariant(commands.length > 0, 'propose of no commands');
    for (const c of commands) {
      if (c.byteLength > this.config.maxBatchBytes) return 'too-large';
    }
    if (this.role === 'leader') return this.enqueue(commands, options.first === true);
    if (this.leader === null) return 'no-leader';
    for (let i = 0; i < commands.length; i += this.config.maxBatchCommands) {
      const chunk = commands.slice(i, i + this.config.maxBatchCommands);
      this.send({ type: 'forward', from: this.id, to: this.leader, commands: chunk });
    }
    return 'forwarded';
  }

  /**
   * Ask for a read index. The answer comes in Ready.readStates: an index such
   * that every write acknowledged before this call is at or below it. The
   * caller waits until it has applied that index, then reads.
   */
  readIndex(id: number, options: { lease?: boolean } = {}): void {
    invariant(Number.isSafeInteger(id) && id >= 0, 'read ids are non-negative integers');
    if (this.role === 'leader' && options.lease === true && this.holdsLease()) {
      this.answerRead(id, this.commit);
    } else if (this.role === 'leader') {
      this.registerRead(id, this.id);
    } else if (this.leader !== null) {
      if (this.forwardedReads.size >= this.config.maxPendingReads) return this.failRead(id, 'overloaded');
      this.forwardedReads.set(id, this.ticks + this.readTimeoutTicks);
      this.send({ type: 'read-index', from: this.id, to: this.leader, id });
    } else {
      this.failRead(id, 'no-leader');
    }
  }

  // -------------------------------------------------------------------------
  // Output.

  hasReady(): boolean {
    if (this.readyOutstanding) return false;
    return (
      !this.out.isEmpty() ||
      this.handedOut < this.commit ||
      this.readRoundNeeded ||
      this.canCutBatch() ||
      (this.role === 'leader' && this.commit > this.announcedCommit)
    );
  }

  /** Everything to persist, send and apply since the last Ready. Call advance() when done. */
  ready(): Ready {
    invariant(!this.readyOutstanding, 'ready() called again before advance()');
    this.cutBatches();
    this.startReadRound();
    this.announceCommit();
    const committed: ChosenEntry[] = [];
    while (this.handedOut < this.commit) {
      const slot = this.handedOut + 1;
      const entry = this.log.get(slot);
      invariant(entry !== undefined && entry.chosen, `committed slot ${slot} missing from the log`);
      committed.push({ slot, value: entry.value });
      this.handedOut = slot;
    }
    const out = this.out;
    this.out = new Outbox();
    this.readyOutstanding = true;
    return {
      promised: out.promised,
      accepted: [...out.accepted.values()],
      messages: out.messages,
      committed,
      readStates: out.readStates,
      dropped: out.dropped,
      snapshot: out.snapshot,
      fetches: [...out.fetches.values()],
    };
  }

  /** The runtime has persisted, sent and applied the last Ready. */
  advance(): void {
    invariant(this.readyOutstanding, 'advance() without a Ready');
    this.readyOutstanding = false;
  }

  /**
   * The runtime applied every entry through `slot` (and persisted it: it was
   * handed out only after its Ready was durable). Drop their values from
   * memory; the durable log serves them to peers until compact().
   */
  release(slot: Slot): void {
    invariant(slot <= this.handedOut, `release through ${slot} beyond the handed-out slot ${this.handedOut}`);
    invariant(slot <= this.commit, `release through ${slot} beyond the commit index ${this.commit}`);
    for (const inFlight of this.inflight.keys()) invariant(inFlight > slot, `release through ${slot} of slot ${inFlight}, still in flight`);
    if (slot <= this.releasedThrough) return;
    for (let s = this.releasedThrough + 1; s <= slot; s++) this.log.delete(s);
    this.releasedThrough = slot;
  }

  /**
   * Forget entries through `slot`: the runtime has applied them and holds a
   * snapshot at or beyond it. Peers that need them get a snapshot offer.
   */
  compact(slot: Slot): void {
    invariant(slot <= this.handedOut, `compact through ${slot} beyond the handed-out slot ${this.handedOut}`);
    if (slot <= this.compactedThrough) return;
    this.release(slot);
    this.compactedThrough = slot;
  }

  /**
   * The chosen entries a Ready's fetch asked for, read from the durable log:
   * send them to the peer that asked. Fewer (or none) when compaction removed
   * some meanwhile; then the peer needs a snapshot.
   */
  serveFetched(fetch: Fetch, entries: readonly ChosenEntry[]): void {
    if (entries.length === 0 || entries[0]?.slot !== fetch.fromSlot) {
      if (fetch.fromSlot <= this.compactedThrough) this.send({ type: 'snapshot-offer', from: this.id, to: fetch.to, slot: this.compactedThrough });
      return;
    }
    entries.forEach((e, i) => {
      invariant(e.slot === fetch.fromSlot + i && e.slot <= fetch.toSlot && e.slot <= this.releasedThrough, `fetched slot ${e.slot} outside ${fetch.fromSlot}..${fetch.toSlot}`);
    });
    this.send({ type: 'chosen', from: this.id, to: fetch.to, entries: this.withinBatchBytes(entries), commit: this.commit });
  }

  /**
   * The runtime installed a snapshot that reflects every slot through `slot`.
   * Returns false (and changes nothing) when we already know that much.
   */
  restoreSnapshot(slot: Slot): boolean {
    if (slot <= this.commit) return false;
    for (const s of [...this.log.keys()]) if (s <= slot) this.log.delete(s);
    this.compactedThrough = slot;
    this.releasedThrough = Math.max(this.releasedThrough, slot);
    this.commit = slot;
    this.handedOut = slot;
    if (this.nextSlot <= slot) this.nextSlot = slot + 1;
    this.advanceCommit();
    this.maybeStartVoting();
    return true;
  }

  status(): PaxosStatus {
    return {
      id: this.id,
      role: this.role,
      leader: this.leader,
      promised: this.promised,
      ballot: this.ballot,
      commit: this.commit,
      handedOut: this.handedOut,
      compactedThrough: this.compactedThrough,
      nextSlot: this.nextSlot,
      queued: this.queue.length,
      inFlight: this.inflight.size,
      voting: this.voting,
    };
  }

  /** A short label for logs: `n2 leader 7.2 commit 104`. */
  describe(): string {
    return `n${this.id} ${this.role} ${formatBallot(this.role === 'follower' ? this.promised : this.ballot)} commit ${this.commit}`;
  }

  // -------------------------------------------------------------------------
  // Elections: pre-vote, then Phase 1.

  private startPreVote(): void {
    if (!this.voting) return this.announceFresh();
    this.becomeFollower(null);
    this.role = 'precandidate';
    this.preVoteRound = Math.max(this.highestRound, this.promised.round) + 1;
    this.preVotes.clear();
    this.preVotes.add(this.id);
    if (this.preVotes.size >= this.quorum) return this.startElection();
    for (const peer of this.peers) {
      this.send({ type: 'prevote', from: this.id, to: peer, round: this.preVoteRound, commit: this.commit, fresh: this.isFresh() });
    }
  }

  /** Not voting: tell the others (a pre-vote of round 0, never granted) whether we hold nothing. */
  private announceFresh(): void {
    this.becomeFollower(this.leader);
    const fresh = this.isFresh();
    for (const peer of this.peers) {
      this.send({ type: 'prevote', from: this.id, to: peer, round: 0, commit: this.commit, fresh });
    }
  }

  /**
   * A fresh node that does not vote yet says so every heartbeat interval, so
   * that at a new cluster's start every node hears every other while all
   * still hold nothing — before the first election, which waits an election
   * timeout. (A node that missed that moment rejoins by catching up instead.)
   */
  private announceWhileFresh(elapsed: number): void {
    this.announceElapsed += elapsed;
    if (this.announceElapsed < this.config.heartbeatTicks) return;
    this.announceElapsed = 0;
    this.announceFresh();
  }

  private noteFreshness(from: NodeId, fresh: boolean): void {
    if (!fresh) return;
    this.freshPeers.add(from);
    if (!this.voting && this.isFresh() && this.freshPeers.size === this.peers.length) this.startVoting();
  }

  /**
   * From now on this node promises and accepts. Its first promise, of the
   * ballot (0, self) — below every ballot a leader uses — makes that durable:
   * after a restart it remembers something, so it votes at once.
   */
  private startVoting(): void {
    this.voting = true;
    if (ballotsEqual(this.promised, ZERO_BALLOT)) this.setPromised({ round: 0, node: this.id });
  }

  /** Not voting yet: vote once a slot proposed after we came back is known chosen. */
  private maybeStartVoting(): void {
    if (this.voting || this.rejoinHorizon === null || this.commit <= this.rejoinHorizon) return;
    this.startVoting();
  }

  /**
   * Grant a pre-vote only when we have not heard from a leader for an election
   * timeout and the candidate knows at least as much of the log as we do. A
   * node cut off from a healthy leader therefore cannot bump ballots and
   * depose it when it comes back.
   */
  private onPreVote(msg: PreVoteMsg): void {
    this.noteFreshness(msg.from, msg.fresh);
    const leaderSilent = this.leader === null || this.electionElapsed >= this.config.electionTicks;
    // A node that just started may have heard from a leader right before it
    // went down; the leader's lease counts on it not helping elect another
    // for an election timeout, so it waits that long before granting.
    const settled = this.ticks >= this.config.electionTicks;
    const candidate = msg.round > 0; // round 0 only announces a node that does not vote yet
    const granted = candidate && this.voting && this.role !== 'leader' && settled && leaderSilent && msg.commit >= this.commit;
    const fresh = this.isFresh();
    this.send({ type: 'prevote-reply', from: this.id, to: msg.from, round: msg.round, granted, fresh });
  }

  private onPreVoteReply(msg: PreVoteReplyMsg): void {
    this.noteFreshness(msg.from, msg.fresh);
    if (this.role !== 'precandidate' || msg.round !== this.preVoteRound || !msg.granted) return;
    this.preVotes.add(msg.from);
    if (this.preVotes.size >= this.quorum) this.startElection();
  }

  private startElection(): void {
    this.stats.elections++;
    this.role = 'candidate';
    this.ballot = nextBallot(Math.max(this.highestRound, this.promised.round), this.id);
    this.highestRound = this.ballot.round;
    this.setPromised(this.ballot);
    this.prepareFrom = this.commit + 1;
    this.promises.clear();
    this.electionElapsed = 0;
    this.electionTimeout = this.randomElectionTimeout();
    this.promises.set(this.id, this.promiseFor(this.ballot, this.prepareFrom, this.id));
    if (this.promises.size >= this.quorum) return this.becomeLeader();
    for (const peer of this.peers) {
      this.send({ type: 'prepare', from: this.id, to: peer, ballot: this.ballot, fromSlot: this.prepareFrom });
    }
  }

  private onPrepare(msg: PrepareMsg): void {
    this.observeRound(msg.ballot.round);
    if (!this.voting) {
      this.stats.staleMessages++;
      return;
    }
    if (msg.fromSlot <= this.compactedThrough) {
      // We cannot report slots we compacted; promising without them would let
      // the candidate fill chosen slots with no-ops. It must catch up first.
      this.send({ type: 'snapshot-offer', from: this.id, to: msg.from, slot: this.compactedThrough });
      return;
    }
    if (msg.fromSlot <= this.releasedThrough && this.config.unsafeTestingBug !== 'promise-without-released') {
      // Nor slots we applied and released: the candidate is behind what we
      // applied. No promise (nodes ahead of it refuse its pre-vote too); a
      // node at least as current as a majority leads instead.
      this.stats.staleMessages++;
      return;
    }
    if (compareBallots(msg.ballot, this.promised) < 0) return this.nack(msg.from, msg.ballot);
    if (compareBallots(msg.ballot, this.promised) > 0) {
      this.setPromised(msg.ballot);
      // Whoever we followed or led is superseded; the preparer is not leader yet.
      this.becomeFollower(null);
    }
    this.send(this.promiseFor(msg.ballot, msg.fromSlot, msg.from));
  }

  /** Phase 1b: every entry we hold at slots >= fromSlot. */
  private promiseFor(ballot: Ballot, fromSlot: Slot, to: NodeId): PromiseMsg {
    const entries: PromisedEntry[] = [];
    for (const [slot, e] of this.log) {
      if (slot >= fromSlot) entries.push({ slot, ballot: e.ballot, value: e.value, chosen: e.chosen });
    }
    entries.sort((a, b) => a.slot - b.slot);
    return { type: 'promise', from: this.id, to, ballot, fromSlot, commit: this.commit, entries };
  }

  private onPromise(msg: PromiseMsg): void {
    if (this.role !== 'candidate' || !ballotsEqual(msg.ballot, this.ballot)) {
      this.stats.staleMessages++;
      return;
    }
    this.promises.set(msg.from, msg);
    if (this.promises.size >= this.quorum) this.becomeLeader();
  }

  /**
   * Phase 1 done. For every slot from prepareFrom to the highest slot any
   * promiser reported, re-propose in our ballot the value it must have: one
   * known chosen, else the one accepted in the highest ballot, else a no-op.
   */
  private becomeLeader(): void {
    this.stats.leaderTerms++;
    this.role = 'leader';
    this.leader = this.id;
    const recovered = this.recoverFromPromises();
    let maxSlot = Math.max(this.prepareFrom - 1, this.commit);
    for (const slot of recovered.keys()) maxSlot = Math.max(maxSlot, slot);
    this.nextSlot = maxSlot + 1;
    this.recoveredThrough = maxSlot;
    this.inflight.clear();
    this.queue = [];
    this.cuttable = Number.POSITIVE_INFINITY;
    this.promises.clear();
    this.recentlyActive.clear();
    this.ackedReadSeq.clear();
    this.roundStartTick.clear();
    this.leaseUntilTick = 0;
    this.heartbeatElapsed = 0;
    this.electionElapsed = 0;
    const entries: ProposedEntry[] = [];
    // Slots up to the commit index are chosen already: a catch-up answer can
    // arrive between our Prepare and the promises. They need no Phase 2, and
    // the runtime may have applied and released them meanwhile.
    for (let slot = Math.max(this.prepareFrom, this.commit + 1); slot <= maxSlot; slot++) {
      const value = recovered.get(slot)?.value ?? NOOP;
      this.acceptOwn(slot, value);
      entries.push({ slot, value });
    }
    // Announce the new ballot at once, so followers learn where to forward.
    if (entries.length > 0) this.broadcastAccept(entries);
    else for (const peer of this.peers) this.sendHeartbeat(peer);
    this.afterAcks();
  }

  private recoverFromPromises(): Map<Slot, PromisedEntry> {
    const recovered = new Map<Slot, PromisedEntry>();
    for (const promise of this.promises.values()) {
      for (const e of promise.entries) {
        if (e.slot < this.prepareFrom) continue;
        const current = recovered.get(e.slot);
        if (current === undefined || preferForRecovery(e, current)) recovered.set(e.slot, e);
      }
    }
    if (this.config.unsafeTestingBug === 'ignore-accepted') {
      // Planted bug: keep the slot numbers, forget what was accepted in them.
      for (const [slot, e] of recovered) recovered.set(slot, { ...e, value: NOOP, chosen: false });
    }
    return recovered;
  }

  // -------------------------------------------------------------------------
  // Phase 2, leader side.

  private enqueue(commands: readonly Uint8Array[], first = false): ProposeOutcome {
    if (this.queue.length + commands.length > this.config.maxQueuedCommands) return 'overloaded';
    if (first) {
      this.queue.unshift(...commands);
      this.cuttable += commands.length;
    } else {
      for (const c of commands) this.queue.push(c);
    }
    return 'queued';
  }

  /**
   * Hold (or release) proposals on the leader. While held, commands queued
   * before the hold still get slots; later ones wait, except those proposed
   * with `first`, which go ahead of them. The runtime holds proposals while a
   * transaction runs, so that its entry comes right after the state it saw.
   */
  holdProposals(held: boolean): void {
    this.cuttable = held ? this.queue.length : Number.POSITIVE_INFINITY;
  }

  /** Held, and every command queued before the hold has a slot. */
  proposalsDrained(): boolean {
    return this.cuttable === 0;
  }

  /**
   * A leader cuts a batch when the pipeline window has room and either no
   * slot is in flight or a full batch is queued. A partial batch waits for the
   * slots in flight: commands keep arriving meanwhile, so the next slot
   * carries what one round trip brought in (group commit, clocked by the round
   * trip rather than a timer). Measured on the dev machine, this cut CPU per
   * write by about 11% against cutting every Ready (bench/README.md). Full
   * batches still pipeline, up to `window` slots.
   */
  private canCutBatch(): boolean {
    if (this.role !== 'leader' || this.cuttable <= 0 || this.queue.length === 0 || !this.windowOpen()) return false;
    return this.inFlight() === 0 || this.fullBatchQueued();
  }

  /** Slots proposed and not yet known chosen. */
  private inFlight(): number {
    return this.nextSlot - this.commit - 1;
  }

  private windowOpen(): boolean {
    return this.inFlight() < this.config.window;
  }

  /** At least one full batch (by count or bytes) of cuttable commands is queued. Bounded by maxBatchCommands. */
  private fullBatchQueued(): boolean {
    const n = Math.min(this.queue.length, this.cuttable);
    if (n >= this.config.maxBatchCommands) return true;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      bytes += (this.queue[i] as Uint8Array).byteLength;
      if (bytes > this.config.maxBatchBytes) return true;
    }
    return false;
  }

  /** Cut queued commands into slots (see canCutBatch for when). */
  private cutBatches(): void {
    if (!this.canCutBatch()) return;
    const entries: ProposedEntry[] = [];
    const now = this.env.now();
    let taken = 0;
    const limit = Math.min(this.queue.length, this.cuttable);
    while (taken < limit && this.windowOpen()) {
      const commands: Uint8Array[] = [];
      let bytes = 0;
      let full = false;
      let next = taken;
      while (next < limit) {
        const c = this.queue[next] as Uint8Array;
        if (commands.length === this.config.maxBatchCommands || (commands.length > 0 && bytes + c.byteLength > this.config.maxBatchBytes)) {
          full = true;
          break;
        }
        commands.push(c);
        bytes += c.byteLength;
        next++;
      }
      full ||= commands.length === this.config.maxBatchCommands;
      if (!full && this.inFlight() > 0) break; // a partial batch waits for the slots in flight
      taken = next;
      const slot = this.nextSlot++;
      const value: Value = { kind: 'batch', time: now, commands };
      this.acceptOwn(slot, value);
      entries.push({ slot, value });
    }
    this.queue = taken === this.queue.length ? [] : this.queue.slice(taken);
    this.cuttable -= taken;
    this.broadcastAccept(entries);
    this.afterAcks();
  }

  /** The leader's own acceptor accepts its proposal (persisted in this Ready). */
  private acceptOwn(slot: Slot, value: Value): void {
    this.log.set(slot, { ballot: this.ballot, value, chosen: false });
    this.out.accepted.set(slot, { slot, ballot: this.ballot, value });
    this.inflight.set(slot, { value, acks: new Set([this.id]), sentAtTick: this.ticks });
  }

  private broadcastAccept(entries: readonly ProposedEntry[]): void {
    if (entries.length === 0) return;
    for (const peer of this.peers) this.sendAccepts(peer, entries);
  }

  /** Accepts of at most maxEntriesPerMessage entries and about maxBatchBytes, so a frame never grows unbounded. */
  private sendAccepts(peer: NodeId, entries: readonly ProposedEntry[]): void {
    this.announcedCommit = Math.max(this.announcedCommit, this.commit);
    for (const chunk of this.chunkEntries(entries)) {
      this.send({ type: 'accept', from: this.id, to: peer, ballot: this.ballot, entries: chunk, commit: this.commit });
    }
  }

  private chunkEntries<T extends { readonly value: Value }>(entries: readonly T[]): T[][] {
    const chunks: T[][] = [];
    let chunk: T[] = [];
    let bytes = 0;
    for (const e of entries) {
      const size = valueBytes(e.value);
      if (chunk.length > 0 && (chunk.length >= this.config.maxEntriesPerMessage || bytes + size > this.config.maxBatchBytes)) {
        chunks.push(chunk);
        chunk = [];
        bytes = 0;
      }
      chunk.push(e);
      bytes += size;
    }
    if (chunk.length > 0) chunks.push(chunk);
    return chunks;
  }

  private onAccepted(msg: AcceptedMsg): void {
    if (this.role !== 'leader' || !ballotsEqual(msg.ballot, this.ballot)) {
      this.stats.staleMessages++;
      return;
    }
    this.recentlyActive.add(msg.from);
    for (const slot of msg.slots) {
      const f = this.inflight.get(slot);
      if (f !== undefined) f.acks.add(msg.from);
    }
    this.afterAcks();
  }

  /** Mark chosen every in-flight slot with a quorum of acks, then move the commit index. */
  private afterAcks(): void {
    const needed = this.config.unsafeTestingBug === 'commit-without-quorum' ? 1 : this.quorum;
    for (const [slot, f] of this.inflight) {
      if (f.acks.size < needed) continue;
      const entry = this.log.get(slot);
      invariant(entry !== undefined && ballotsEqual(entry.ballot, this.ballot), `in-flight slot ${slot} not ours`);
      entry.chosen = true;
      this.inflight.delete(slot);
    }
    this.advanceCommit();
    this.confirmReads();
  }

  private advanceCommit(): void {
    const before = this.commit;
    for (;;) {
      const next = this.log.get(this.commit + 1);
      if (next === undefined || !next.chosen) break;
      this.commit++;
    }
    if (this.commit === before) return;
    // A slot we proposed can be learned chosen from a peer (a late catch-up
    // answer) before our own quorum of acks: it is done, and once applied the
    // runtime may release its entry, so it must leave the in-flight set now.
    for (const slot of this.inflight.keys()) if (slot <= this.commit) this.inflight.delete(slot);
  }

  /**
   * Tell followers at once when the commit index moved, rather than at the
   * next heartbeat: a write proposed through a follower is answered when that
   * follower applies it. Peers getting an Accept or Heartbeat in this Ready
   * learn it there — only if that message carries the new index: one queued
   * before the commit moved (a tick's heartbeat) tells them nothing new.
   */
  private announceCommit(): void {
    if (this.role !== 'leader' || this.commit <= this.announcedCommit) return;
    this.announcedCommit = this.commit;
    const informed = new Set<NodeId>();
    for (const m of this.out.messages) {
      if ((m.type === 'accept' || m.type === 'heartbeat') && m.commit >= this.commit) informed.add(m.to);
    }
    for (const peer of this.peers) if (!informed.has(peer)) this.sendHeartbeat(peer);
  }

  private tickLeader(elapsed: number): void {
    this.electionElapsed += elapsed;
    if (this.electionElapsed >= this.config.electionTicks) {
      // Check-quorum: a leader that has not heard from a majority for an
      // election timeout steps down rather than serve a partitioned minority.
      // Whole windows that passed while we were paused had no activity at all.
      const windows = Math.floor(this.electionElapsed / this.config.electionTicks);
      this.electionElapsed %= this.config.electionTicks;
      const silentWindows = windows > 1 && this.quorum > 1;
      if (silentWindows || this.recentlyActive.size + 1 < this.quorum) return this.becomeFollower(null);
      this.recentlyActive.clear();
    }
    this.heartbeatElapsed += elapsed;
    if (this.heartbeatElapsed >= this.config.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.heartbeatOrRetransmit();
    }
  }

  /** To each peer: the in-flight slots it has not acknowledged for a while, else a heartbeat (a new round). */
  private heartbeatOrRetransmit(): void {
    this.startRound();
    const due: Slot[] = [];
    for (const [slot, f] of this.inflight) {
      if (this.ticks - f.sentAtTick >= this.retransmitTicks) due.push(slot);
    }
    due.sort((a, b) => a - b);
    for (const peer of this.peers) {
      const entries: ProposedEntry[] = [];
      for (const slot of due) {
        const f = this.inflight.get(slot) as InFlight;
        if (!f.acks.has(peer)) entries.push({ slot, value: f.value });
        if (entries.length >= this.config.maxEntriesPerMessage) break;
      }
      if (entries.length > 0) {
        this.stats.retransmits += entries.length;
        this.sendAccepts(peer, entries);
      } else {
        this.sendHeartbeat(peer);
      }
    }
    for (const slot of due) (this.inflight.get(slot) as InFlight).sentAtTick = this.ticks;
  }

  private sendHeartbeat(peer: NodeId): void {
    this.announcedCommit = this.commit;
    this.send({
      type: 'heartbeat',
      from: this.id,
      to: peer,
      ballot: this.ballot,
      commit: this.commit,
      readSeq: this.readSeq,
      nextSlot: this.nextSlot,
    });
  }

  private onForward(msg: ForwardMsg): void {
    if (this.role !== 'leader') {
      // Not re-forwarded: a chain of stale leaders could bounce it forever.
      this.stats.staleMessages++;
      return;
    }
    // A peer with a larger maxBatchBytes could forward a command no batch here can hold.
    this.enqueue(msg.commands.filter((c) => c.byteLength <= this.config.maxBatchBytes));
  }

  // -------------------------------------------------------------------------
  // Phase 2, acceptor and learner side.

  private onAccept(msg: AcceptMsg): void {
    if (!this.followBallot(msg.from, msg.ballot)) return;
    // Not voting: accept nothing; learn chosen values through catch-up (which persists them).
    if (!this.voting) return this.learnCommit(msg.commit, msg.ballot);
    const slots: Slot[] = [];
    for (const e of msg.entries) {
      slots.push(e.slot);
      const existing = this.log.get(e.slot);
      // A slot known chosen keeps its value: by Paxos it equals the proposal.
      if (e.slot <= this.commit || existing?.chosen === true) continue;
      this.log.set(e.slot, { ballot: msg.ballot, value: e.value, chosen: false });
      this.out.accepted.set(e.slot, { slot: e.slot, ballot: msg.ballot, value: e.value });
    }
    this.send({ type: 'accepted', from: this.id, to: msg.from, ballot: msg.ballot, slots });
    this.learnCommit(msg.commit, msg.ballot);
  }

  private onHeartbeat(msg: HeartbeatMsg): void {
    if (!this.followBallot(msg.from, msg.ballot)) return;
    if (!this.voting) return this.learnWhileRejoining(msg);
    this.send({
      type: 'heartbeat-ack',
      from: this.id,
      to: msg.from,
      ballot: msg.ballot,
      readSeq: msg.readSeq,
      commit: this.commit,
    });
    this.learnCommit(msg.commit, msg.ballot);
  }

  /**
   * A leader's Accept or Heartbeat at `ballot`: refuse it if we promised a
   * higher ballot; else raise our promise to it and follow its sender.
   */
  private followBallot(from: NodeId, ballot: Ballot): boolean {
    this.observeRound(ballot.round);
    const order = compareBallots(ballot, this.promised);
    if (order < 0) {
      if (this.voting) this.nack(from, ballot);
      return false;
    }
    if (order > 0 && this.voting) this.setPromised(ballot);
    if (this.role !== 'follower' || this.leader !== from) this.becomeFollower(from);
    this.electionElapsed = 0;
    return true;
  }

  /**
   * Not voting: no acknowledgement (it would vouch for a promise we may have
   * forgotten). Note where the leader was when we came back, catch up, and
   * nudge the leader with an empty command so a slot gets proposed even when
   * no client writes.
   */
  private learnWhileRejoining(msg: HeartbeatMsg): void {
    this.rejoinHorizon ??= msg.nextSlot - 1;
    this.learnCommit(msg.commit, msg.ballot);
    const caughtUp = this.commit >= msg.commit;
    if (!this.voting && caughtUp && this.ticks - this.nudgedAtTick >= this.config.electionTicks) {
      this.nudgedAtTick = this.ticks;
      this.send({ type: 'forward', from: this.id, to: msg.from, commands: [new Uint8Array(0)] });
    }
  }

  /**
   * The leader of `ballot` says slots <= leaderCommit are chosen. Our entry at
   * a slot is the chosen one if we accepted it in that same ballot (a leader
   * proposes one value per slot per ballot); otherwise we must ask.
   */
  private learnCommit(leaderCommit: Slot, ballot: Ballot): void {
    while (this.commit < leaderCommit) {
      const entry = this.log.get(this.commit + 1);
      if (entry === undefined || !(entry.chosen || ballotsEqual(entry.ballot, ballot))) break;
      entry.chosen = true;
      this.commit++;
    }
    if (this.commit < leaderCommit) this.requestCatchup(leaderCommit);
    this.maybeStartVoting();
  }

  private requestCatchup(target: Slot): void {
    if (this.leader === null || this.leader === this.id || this.ticks < this.catchupAllowedAtTick) return;
    this.catchupAllowedAtTick = this.ticks + this.retransmitTicks;
    this.stats.catchupRequests++;
    const fromSlot = this.commit + 1;
    const toSlot = Math.min(target, this.commit + this.config.maxEntriesPerMessage);
    this.send({ type: 'catchup', from: this.id, to: this.leader, fromSlot, toSlot });
  }

  /** Any node answers with what it knows chosen; learners never trust anything else. */
  private onCatchup(msg: CatchupMsg): void {
    if (msg.fromSlot <= this.compactedThrough) {
      this.send({ type: 'snapshot-offer', from: this.id, to: msg.from, slot: this.compactedThrough });
      return;
    }
    const last = Math.min(msg.toSlot, this.commit, msg.fromSlot + this.config.maxEntriesPerMessage - 1);
    if (msg.fromSlot <= this.releasedThrough) {
      // Applied and released: the runtime reads them from the durable log (serveFetched).
      if (msg.fromSlot <= last) this.out.fetches.set(msg.from, { to: msg.from, fromSlot: msg.fromSlot, toSlot: Math.min(last, this.releasedThrough) });
      return;
    }
    const entries: ChosenEntry[] = [];
    for (let slot = msg.fromSlot; slot <= last; slot++) {
      const e = this.log.get(slot);
      if (e === undefined || !e.chosen) break;
      entries.push({ slot, value: e.value });
    }
    this.send({ type: 'chosen', from: this.id, to: msg.from, entries: this.withinBatchBytes(entries), commit: this.commit });
  }

  /** A prefix of `entries` of at most maxBatchBytes (at least one entry): the rest goes in the next round. */
  private withinBatchBytes(entries: readonly ChosenEntry[]): ChosenEntry[] {
    const kept: ChosenEntry[] = [];
    let bytes = 0;
    for (const e of entries) {
      bytes += valueBytes(e.value);
      if (kept.length > 0 && bytes > this.config.maxBatchBytes) break;
      kept.push(e);
    }
    return kept;
  }

  /**
   * Learn chosen values. They are persisted too (keeping the slot's accepted
   * ballot): replacing an older accepted value by the chosen one is safe, since
   * any ballot that could outrank it in a later Phase 1 carries the chosen
   * value already, and it keeps "the durable value of an applied slot is the
   * chosen one" true across restarts.
   */
  private onChosen(msg: ChosenMsg): void {
    for (const e of msg.entries) {
      if (e.slot <= this.commit) continue;
      const existing = this.log.get(e.slot);
      if (existing?.chosen === true) continue;
      const ballot = existing?.ballot ?? ZERO_BALLOT;
      this.log.set(e.slot, { ballot, value: e.value, chosen: true });
      this.out.accepted.set(e.slot, { slot: e.slot, ballot, value: e.value });
    }
    this.advanceCommit();
    if (this.commit < msg.commit) {
      this.catchupAllowedAtTick = 0;
      this.requestCatchup(msg.commit);
    }
    this.maybeStartVoting();
  }

  /** A peer compacted past what we need: give up any candidacy and ask the runtime to fetch its snapshot. */
  private onSnapshotOffer(msg: SnapshotOfferMsg): void {
    if (msg.slot <= this.commit || this.role === 'leader') {
      this.stats.staleMessages++;
      return;
    }
    if (this.role !== 'follower') this.becomeFollower(null);
    this.out.snapshot = { from: msg.from, slot: msg.slot };
  }

  private onNack(msg: NackMsg): void {
    this.observeRound(msg.promised.round);
    const contending = this.role === 'candidate' || this.role === 'leader';
    if (!contending || !ballotsEqual(msg.ballot, this.ballot) || compareBallots(msg.promised, this.ballot) <= 0) {
      this.stats.staleMessages++;
      return;
    }
    // Pre-empted by a higher ballot: back off with a fresh random timeout.
    this.becomeFollower(null);
  }

  // -------------------------------------------------------------------------
  // Read index.

  private registerRead(id: number, origin: NodeId): void {
    if (this.pendingReads.length >= this.config.maxPendingReads) {
      return origin === this.id ? this.failRead(id, 'overloaded') : this.replyRead(origin, id, -1);
    }
    if (this.config.unsafeTestingBug === 'read-without-quorum') {
      // Planted bug: answer from our own commit index, with no confirmation round.
      return origin === this.id ? this.answerRead(id, this.commit) : this.replyRead(origin, id, this.commit);
    }
    this.pendingReads.push({ id, origin, seq: this.readSeq + 1 });
    this.readRoundNeeded = true;
    this.confirmReads();
  }

  /** Start a confirmation round for reads that arrived since the last one. */
  private startReadRound(): void {
    if (!this.readRoundNeeded || this.role !== 'leader') return;
    this.startRound();
    for (const peer of this.peers) this.sendHeartbeat(peer);
    this.confirmReads();
  }

  /**
   * Every heartbeat round has a sequence number: reads wait for a round that
   * started after them, and the lease runs from the start of the latest round
   * a quorum acknowledged.
   */
  private startRound(): void {
    this.readRoundNeeded = false;
    this.readSeq++;
    this.roundStartTick.set(this.readSeq, this.ticks);
  }

  /**
   * The leader holds a lease until an election timeout (less a margin for
   * clock-rate differences) after the start of the latest round a quorum
   * acknowledged: each acknowledging follower heard from us after that start,
   * and refuses pre-votes until an election timeout after it last heard from
   * us, so no other leader can exist before then. Recovered slots must be
   * chosen first, as for a read index.
   */
  private holdsLease(): boolean {
    return this.commit >= this.recoveredThrough && this.ticks < this.leaseUntilTick;
  }

  private confirmedRound(): number {
    const seqs = [this.readSeq];
    for (const peer of this.peers) seqs.push(this.ackedReadSeq.get(peer) ?? 0);
    seqs.sort((a, b) => b - a);
    return seqs[this.quorum - 1] as number;
  }

  private extendLease(confirmed: number): void {
    const start = this.roundStartTick.get(confirmed);
    if (start === undefined) return;
    const until = start + Math.floor(this.config.electionTicks * LEASE_FRACTION);
    if (until > this.leaseUntilTick) this.leaseUntilTick = until;
    for (const seq of this.roundStartTick.keys()) {
      if (seq >= confirmed) break;
      this.roundStartTick.delete(seq);
    }
  }

  private onHeartbeatAck(msg: HeartbeatAckMsg): void {
    if (this.role !== 'leader' || !ballotsEqual(msg.ballot, this.ballot)) {
      this.stats.staleMessages++;
      return;
    }
    this.recentlyActive.add(msg.from);
    if (msg.readSeq > (this.ackedReadSeq.get(msg.from) ?? 0)) this.ackedReadSeq.set(msg.from, msg.readSeq);
    this.confirmReads();
  }

  /**
   * Reads whose round a quorum (counting us) acknowledged are answered with
   * the commit index — but only once every slot recovered in Phase 1 is
   * chosen, since before that our commit index may lag a predecessor's.
   */
  private confirmReads(): void {
    if (this.role !== 'leader') return;
    const confirmed = this.confirmedRound();
    this.extendLease(confirmed);
    if (this.pendingReads.length === 0 || this.commit < this.recoveredThrough) return;
    const waiting: PendingRead[] = [];
    for (const read of this.pendingReads) {
      if (read.seq > confirmed) waiting.push(read);
      else if (read.origin === this.id) this.answerRead(read.id, this.commit);
      else this.replyRead(read.origin, read.id, this.commit);
    }
    this.pendingReads = waiting;
  }

  private onReadIndex(msg: ReadIndexMsg): void {
    if (this.role !== 'leader') return this.replyRead(msg.from, msg.id, -1);
    this.registerRead(msg.id, msg.from);
  }

  private onReadIndexReply(msg: ReadIndexReplyMsg): void {
    if (!this.forwardedReads.delete(msg.id)) {
      this.stats.staleMessages++;
      return;
    }
    if (msg.index < 0) this.failRead(msg.id, 'not-leader');
    else this.answerRead(msg.id, msg.index);
  }

  private expireForwardedReads(): void {
    for (const [id, deadline] of this.forwardedReads) {
      if (this.ticks < deadline) continue;
      this.forwardedReads.delete(id);
      this.failRead(id, 'timeout');
    }
  }

  private replyRead(to: NodeId, id: number, index: Slot): void {
    this.send({ type: 'read-index-reply', from: this.id, to, id, index });
  }

  private answerRead(id: number, index: Slot): void {
    this.out.readStates.push({ id, ok: true, index });
  }

  private failRead(id: number, reason: ReadFailure): void {
    this.out.readStates.push({ id, ok: false, reason });
  }

  // -------------------------------------------------------------------------
  // Shared helpers.

  /**
   * Become a follower of `leader` (null: none known). A leader stepping down
   * drops its queue (reported in Ready.dropped) and fails its local reads; its
   * in-flight slots are left to the next leader's Phase 1.
   */
  private becomeFollower(leader: NodeId | null): void {
    if (this.role === 'leader') {
      for (const c of this.queue) this.out.dropped.push(c);
      this.queue = [];
      this.cuttable = Number.POSITIVE_INFINITY;
      this.inflight.clear();
      for (const read of this.pendingReads) {
        if (read.origin === this.id) this.failRead(read.id, 'leadership-lost');
        else this.replyRead(read.origin, read.id, -1);
      }
      this.pendingReads = [];
      this.readRoundNeeded = false;
    }
    this.role = 'follower';
    this.leader = leader;
    this.ballot = ZERO_BALLOT;
    this.promises.clear();
    this.preVotes.clear();
    this.electionElapsed = 0;
    this.electionTimeout = this.randomElectionTimeout();
  }

  private setPromised(ballot: Ballot): void {
    this.promised = ballot;
    // Planted bug: the promise is never handed to the runtime to persist.
    if (this.config.unsafeTestingBug !== 'no-persist-promise') this.out.promised = ballot;
  }

  private nack(to: NodeId, ballot: Ballot): void {
    this.send({ type: 'nack', from: this.id, to, ballot, promised: this.promised });
  }

  private observeRound(round: number): void {
    if (round > this.highestRound) this.highestRound = round;
  }

  private send(msg: Message): void {
    this.out.messages.push(msg);
  }

  private randomElectionTimeout(): number {
    const e = this.config.electionTicks;
    return e + Math.floor(this.env.random() * e);
  }
}

function valueBytes(value: Value): number {
  if (value.kind === 'noop') return 0;
  let bytes = 0;
  for (const c of value.commands) bytes += c.byteLength;
  return bytes;
}

/** Recovery order in Phase 1: a value known chosen wins; else the higher ballot. */
function preferForRecovery(candidate: PromisedEntry, current: PromisedEntry): boolean {
  if (candidate.chosen !== current.chosen) return candidate.chosen;
  return compareBallots(candidate.ballot, current.ballot) > 0;
}

function validateConfig(c: PaxosConfig): void {
  const positive = (n: number) => Number.isSafeInteger(n) && n >= 1;
  invariant(c.nodes.length >= 1 && new Set(c.nodes).size === c.nodes.length, 'node ids must be distinct');
  invariant(c.nodes.every(positive), 'node ids are positive integers');
  invariant(c.nodes.includes(c.self), `self ${c.self} is not a member`);
  for (const key of [
    'electionTicks',
    'heartbeatTicks',
    'window',
    'maxBatchCommands',
    'maxBatchBytes',
    'maxQueuedCommands',
    'maxEntriesPerMessage',
    'maxPendingReads',
  ] as const) {
    invariant(positive(c[key]), `${key} must be a positive integer`);
  }
  invariant(c.heartbeatTicks < c.electionTicks, 'heartbeatTicks must be below electionTicks');
}
