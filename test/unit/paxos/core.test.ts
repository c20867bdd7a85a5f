import { describe, expect, it } from 'vitest';
import { compareBallots, nextBallot, ZERO_BALLOT } from '../../../src/paxos/ballot.js';
import { NOOP, PaxosInvariantError, PaxosNode } from '../../../src/paxos/node.js';
import type { AcceptMsg, Message, NodeId, PrepareMsg, PromiseMsg } from '../../../src/paxos/types.js';
import { cmd, TestCluster, testConfig, text } from './harness.js';

const env = { random: () => 0.5, now: () => 1234 };

/**
 * A node of a brand-new cluster: it starts not voting, and votes once every
 * other node tells it they are fresh too.
 */
function freshVotingNode(self: number, nodes: number[]): PaxosNode {
  const n = new PaxosNode(testConfig(self, nodes), env);
  const peers = nodes.filter((id) => id !== self);
  for (const peer of peers) {
    n.step({ type: 'prevote', from: peer, to: self, round: 0, commit: 0, fresh: true });
  }
  n.ready();
  n.advance();
  expect(n.status().voting).toBe(true);
  return n;
}

function drain(node: PaxosNode) {
  const r = node.ready();
  node.advance();
  return r;
}

describe('ballots', () => {
  it('compare by round, then node id', () => {
    expect(compareBallots({ round: 2, node: 1 }, { round: 1, node: 3 })).toBeGreaterThan(0);
    expect(compareBallots({ round: 2, node: 1 }, { round: 2, node: 3 })).toBeLessThan(0);
    expect(compareBallots({ round: 2, node: 3 }, { round: 2, node: 3 })).toBe(0);
    expect(compareBallots(ZERO_BALLOT, nextBallot(0, 1))).toBeLessThan(0);
  });
});

describe('acceptor', () => {
  const prepare = (round: number, from: number, fromSlot = 1): PrepareMsg => ({
    type: 'prepare',
    from,
    to: 1,
    ballot: { round, node: from },
    fromSlot,
  });
  const accept = (round: number, from: number, slot: number, value = 'x', commit = 0): AcceptMsg => ({
    type: 'accept',
    from,
    to: 1,
    ballot: { round, node: from },
    entries: [{ slot, value: { kind: 'batch', time: 1, commands: [cmd(value)] } }],
    commit,
  });

  it('promises a higher ballot, persists the promise in the same Ready, and reports accepted values', () => {
    const a = freshVotingNode(1, [1, 2, 3]);
    a.step(accept(1, 2, 5, 'five'));
    a.step(accept(1, 2, 7, 'seven'));
    drain(a);
    a.step(prepare(2, 3, 6));
    const r = drain(a);
    expect(r.promised).toEqual({ round: 2, node: 3 });
    const promise = r.messages.find((m): m is PromiseMsg => m.type === 'promise')!;
    expect(promise.to).toBe(3);
    expect(promise.entries.map((e) => [e.slot, e.ballot.round])).toEqual([[7, 1]]);
  });

  it('refuses a lower ballot with a nack naming its promise', () => {
    const a = freshVotingNode(1, [1, 2, 3]);
    a.step(prepare(5, 3));
    drain(a);
    a.step(prepare(4, 2));
    a.step(accept(4, 2, 1));
    const r = drain(a);
    expect(r.accepted).toEqual([]);
    expect(r.messages.map((m) => m.type)).toEqual(['nack', 'nack']);
    expect(r.messages[0]).toMatchObject({ to: 2, promised: { round: 5, node: 3 } });
  });

  it('accepts at its promised ballot, persists before acknowledging, and acks duplicates idempotently', () => {
    const a = freshVotingNode(1, [1, 2, 3]);
    a.step(accept(3, 2, 1, 'one'));
    const r1 = drain(a);
    expect(r1.promised).toEqual({ round: 3, node: 2 });
    expect(r1.accepted.map((e) => [e.slot, e.value.kind === 'batch' ? text(e.value.commands[0]!) : '-'])).toEqual([[1, 'one']]);
    expect(r1.messages).toEqual([{ type: 'accepted', from: 1, to: 2, ballot: { round: 3, node: 2 }, slots: [1] }]);
    a.step(accept(3, 2, 1, 'one'));
    const r2 = drain(a);
    expect(r2.messages.map((m) => m.type)).toEqual(['accepted']);
    expect(r2.committed).toEqual([]);
  });

  it('learns chosen slots from the commit index only when it accepted them in that ballot', () => {
    const a = freshVotingNode(1, [1, 2, 3]);
    a.step(accept(1, 2, 1, 'old'));
    drain(a);
    // Ballot 2 says slot 1 is chosen, but we hold slot 1 from ballot 1: ask.
    a.step({ type: 'heartbeat', from: 3, to: 1, ballot: { round: 2, node: 3 }, commit: 1, readSeq: 0, nextSlot: 2 });
    const r = drain(a);
    expect(r.committed).toEqual([]);
    expect(r.messages.map((m) => m.type)).toContain('catchup');
    a.step({ type: 'chosen', from: 3, to: 1, commit: 1, entries: [{ slot: 1, value: NOOP }] });
    const r2 = drain(a);
    expect(r2.committed).toEqual([{ slot: 1, value: NOOP }]);
    // The chosen value is persisted, so it survives a restart as the applied slot's value.
    expect(r2.accepted).toEqual([{ slot: 1, ballot: { round: 1, node: 2 }, value: NOOP }]);
  });

  it('rejects and counts messages no correct peer would send', () => {
    const a = freshVotingNode(1, [1, 2, 3]);
    const bad: unknown[] = [
      { ...prepare(1, 9) },
      { ...prepare(1, 2), to: 3 },
      { type: 'prepare', from: 2, to: 1, ballot: { round: -1, node: 2 }, fromSlot: 1 },
      { type: 'accept', from: 2, to: 1, ballot: { round: 1, node: 2 }, entries: [null], commit: 0 },
      { type: 'accept', from: 2, to: 1, ballot: { round: 1, node: 2 }, entries: [{ slot: 0, value: NOOP }], commit: 0 },
      { type: 'accept', from: 2, to: 1, ballot: { round: 1, node: 2 }, entries: [{ slot: 1, value: { kind: 'weird' } }], commit: 0 },
      { type: 'bogus', from: 2, to: 1 },
      { type: 'forward', from: 2, to: 1, commands: ['not bytes'] },
      { type: 'heartbeat', from: 2, to: 1, ballot: { round: 1, node: 7 }, commit: 0, readSeq: 0, nextSlot: 1 },
    ];
    const promisedBefore = a.status().promised;
    for (const m of bad) a.step(m as Message);
    expect(a.stats.rejectedMessages).toBe(bad.length);
    expect(a.hasReady()).toBe(false);
    expect(a.status().promised).toEqual(promisedBefore);
  });
});

describe('leader', () => {
  it('a single node elects itself and commits proposals', () => {
    const c = new TestCluster(1);
    c.electLeader();
    expect(c.node(1).propose([cmd('a'), cmd('b')])).toBe('queued');
    c.flush();
    expect(c.appliedTexts(1)).toEqual(['a', 'b']);
  });

  it('batches proposals made between Readys into slots of at most maxBatchCommands, within the window', () => {
    const c = new TestCluster(3);
    const leader = c.electLeader();
    const before = c.node(leader).status().nextSlot;
    for (let i = 0; i < 20; i++) c.node(leader).propose([cmd(`c${i}`)]);
    c.flush();
    // window 4 × 3 commands: 12 commands in 4 slots now, the rest queued.
    const s = c.node(leader).status();
    expect(s.nextSlot - before).toBe(4);
    expect(s.queued).toBe(8);
    c.deliverAll();
    c.tickAll(3);
    for (const id of c.ids) expect(c.appliedTexts(id).filter((t) => t !== '-')).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`));
  });

  it('a partial batch waits for the slot in flight, then one slot carries everything that arrived meanwhile', () => {
    const c = new TestCluster(3);
    const leader = c.electLeader();
    const before = c.node(leader).status().nextSlot;
    c.node(leader).propose([cmd('first')]);
    c.flush();
    expect(c.node(leader).status().nextSlot - before).toBe(1); // nothing in flight: cut at once
    c.node(leader).propose([cmd('second')]);
    c.node(leader).propose([cmd('third')]);
    c.flush();
    // Two commands are less than a batch (3): they wait while 'first' is in flight.
    expect(c.node(leader).status().nextSlot - before).toBe(1);
    expect(c.node(leader).status().queued).toBe(2);
    c.deliverAll();
    expect(c.node(leader).status().nextSlot - before).toBe(2);
    c.deliverAll();
    c.tickAll(3);
    for (const id of c.ids) expect(c.appliedTexts(id).filter((t) => t !== '-')).toEqual(['first', 'second', 'third']);
  });

  it('a commit that moves after a heartbeat was queued reaches the followers in the same Ready, not a heartbeat later', () => {
    // A write through a follower is answered when that follower applies it: a
    // heartbeat queued before the commit moved carries the old index and must
    // not count as telling the followers (it cost 20 ms, a heartbeat period).
    const c = new TestCluster(3);
    const leader = c.electLeader();
    c.deliverAll();
    const n = c.node(leader);
    n.propose([cmd('x')]);
    c.flush();
    const accepts = c.pending.splice(0);
    for (const m of accepts) c.node(m.to).step(m);
    c.flush();
    const acks = c.pending.splice(0);
    n.tick(2); // heartbeatTicks: heartbeats with the old commit index are queued
    for (const m of acks) n.step(m);
    expect(n.hasReady()).toBe(true);
    const ready = n.ready();
    n.advance();
    const commit = n.status().commit;
    expect(ready.committed.map((e) => e.slot)).toContain(commit);
    for (const follower of c.ids.filter((id) => id !== leader)) {
      const told = ready.messages.some((m) => m.to === follower && (m.type === 'heartbeat' || m.type === 'accept') && m.commit >= commit);
      expect(told, `follower ${follower} told commit ${commit}`).toBe(true);
    }
  });

  it('followers forward proposals to the leader', () => {
    const c = new TestCluster(3);
    const leader = c.electLeader();
    const follower = c.ids.find((id) => id !== leader)!;
    expect(c.node(follower).propose([cmd('via-follower')])).toBe('forwarded');
    c.deliverAll();
    c.tickAll(3); // followers learn the commit index from the next heartbeat
    for (const id of c.ids) expect(c.appliedTexts(id)).toContain('via-follower');
  });

  it('adopts the highest-ballot accepted value and fills gaps with no-ops', () => {
    // Five nodes, so Phase 1 needs both promises below besides our own.
    const n = freshVotingNode(1, [1, 2, 3, 4, 5]);
    // Become a candidate: pre-vote granted by 2, then Prepare.
    for (let i = 0; i < 40 && n.status().role === 'follower'; i++) n.tick();
    expect(n.status().role).toBe('precandidate');
    const pv = drain(n).messages.find((m) => m.type === 'prevote')!;
    n.step({ type: 'prevote-reply', from: 2, to: 1, round: (pv as { round: number }).round, granted: true, fresh: false });
    n.step({ type: 'prevote-reply', from: 3, to: 1, round: (pv as { round: number }).round, granted: true, fresh: false });
    const prep = drain(n).messages.find((m): m is PrepareMsg => m.type === 'prepare')!;
    const batch = (s: string) => ({ kind: 'batch' as const, time: 1, commands: [cmd(s)] });
    n.step({
      type: 'promise',
      from: 2,
      to: 1,
      ballot: prep.ballot,
      fromSlot: prep.fromSlot,
      commit: 0,
      entries: [
        { slot: 1, ballot: { round: 1, node: 3 }, value: batch('low'), chosen: false },
        { slot: 3, ballot: { round: 1, node: 3 }, value: batch('three'), chosen: false },
      ],
    });
    expect(n.status().role).toBe('candidate');
    // Another acceptor accepted slot 1 in a higher ballot.
    n.step({
      type: 'promise',
      from: 3,
      to: 1,
      ballot: prep.ballot,
      fromSlot: prep.fromSlot,
      commit: 0,
      entries: [{ slot: 1, ballot: { round: 2, node: 2 }, value: batch('high'), chosen: false }],
    });
    expect(n.status().role).toBe('leader');
    const r = drain(n);
    const accepts = r.messages.filter((m): m is AcceptMsg => m.type === 'accept' && m.to === 2);
    const proposed = accepts.flatMap((a) => a.entries).map((e) => [e.slot, e.value.kind === 'noop' ? '-' : text(e.value.commands[0]!)]);
    expect(proposed).toEqual([
      [1, 'high'],
      [2, '-'],
      [3, 'three'],
    ]);
    expect(r.accepted.every((e) => compareBallots(e.ballot, prep.ballot) === 0)).toBe(true);
  });

  /** Node 1 of five, a candidate whose Prepare went out: returns the ballot and a value accepted at an older ballot in slot 1. */
  function candidateWithPrepare() {
    const n = freshVotingNode(1, [1, 2, 3, 4, 5]);
    for (let i = 0; i < 40 && n.status().role === 'follower'; i++) n.tick();
    const pv = drain(n).messages.find((m) => m.type === 'prevote')!;
    for (const from of [2, 3]) n.step({ type: 'prevote-reply', from, to: 1, round: (pv as { round: number }).round, granted: true, fresh: false });
    const prep = drain(n).messages.find((m): m is PrepareMsg => m.type === 'prepare')!;
    const value = { kind: 'batch' as const, time: 1, commands: [cmd('x')] };
    const promise = (from: number) => ({
      type: 'promise' as const, from, to: 1, ballot: prep.ballot, fromSlot: prep.fromSlot, commit: 0,
      entries: [{ slot: 1, ballot: { round: 1, node: 3 }, value, chosen: false }],
    });
    return { n, prep, value, promise };
  }

  it('a slot learned chosen during Phase 1 is not proposed again, and releasing it cannot upset the new leader', () => {
    // Seen by the simulator (7 nodes, seed 300160): the candidate's catch-up
    // answer arrived between its Prepare and the promises; it re-proposed the
    // chosen slot, the runtime applied and released it, and the acks for it
    // found no entry (an invariant failure: a crashed node).
    const { n, prep, value, promise } = candidateWithPrepare();
    n.step({ type: 'chosen', from: 3, to: 1, commit: 1, entries: [{ slot: 1, value }] });
    const learned = drain(n);
    expect(learned.committed.map((e) => e.slot)).toEqual([1]);
    n.step(promise(2));
    n.step(promise(3));
    expect(n.status().role).toBe('leader');
    const r = drain(n);
    const proposedSlots = r.messages.filter((m): m is AcceptMsg => m.type === 'accept').flatMap((a) => a.entries.map((e) => e.slot));
    expect(proposedSlots).not.toContain(1);
    n.release(1);
    for (const from of [2, 3]) n.step({ type: 'accepted', from, to: 1, ballot: prep.ballot, slots: [1] });
    n.propose([cmd('next')]);
    const next = drain(n).accepted.map((e) => e.slot);
    expect(next).toEqual([2]);
  });

  it('an in-flight slot learned chosen from a late catch-up answer is done: released, its acks change nothing', () => {
    const { n, prep, value, promise } = candidateWithPrepare();
    n.step(promise(2));
    n.step(promise(3));
    expect(n.status().role).toBe('leader');
    expect(drain(n).accepted.map((e) => e.slot)).toEqual([1]); // re-proposed: not known chosen yet
    // The answer to a catch-up sent before the election.
    n.step({ type: 'chosen', from: 4, to: 1, commit: 1, entries: [{ slot: 1, value }] });
    expect(drain(n).committed.map((e) => e.slot)).toEqual([1]);
    n.release(1);
    expect(n.status().inFlight).toBe(0);
    for (const from of [2, 3]) n.step({ type: 'accepted', from, to: 1, ballot: prep.ballot, slots: [1] });
    expect(n.status().commit).toBe(1);
  });

  it('ignores a late Promise and a late Accepted from an old ballot', () => {
    const c = new TestCluster(3);
    const leader = c.electLeader();
    const node = c.node(leader);
    const old = { round: node.status().ballot.round - 1, node: leader };
    node.step({ type: 'promise', from: c.ids.find((i) => i !== leader)!, to: leader, ballot: old, fromSlot: 1, commit: 0, entries: [] });
    node.step({ type: 'accepted', from: c.ids.find((i) => i !== leader)!, to: leader, ballot: old, slots: [1] });
    expect(node.stats.staleMessages).toBeGreaterThanOrEqual(1);
    expect(node.status().role).toBe('leader');
  });

  it('survives a leader change in the middle of Phase 2: the accepted value wins, the old leader steps down', () => {
    const c = new TestCluster(3);
    const a = c.electLeader();
    const [b, d] = c.ids.filter((i) => i !== a) as [number, number];
    c.node(a).propose([cmd('mid-flight')]);
    // The Accept reaches only b; nothing from a gets anywhere after that.
    c.deliverAll((m) => m.from !== a || (m.type === 'accept' && m.to === b));
    expect(c.appliedTexts(b)).not.toContain('mid-flight');
    const isolated = (m: Message) => m.from !== a && m.to !== a;
    let next: number | undefined;
    for (let i = 0; i < 200 && next === undefined; i++) {
      c.tickAll(1, isolated);
      next = [b, d].find((id) => c.node(id).status().role === 'leader');
    }
    expect(next).toBeDefined();
    c.node(next!).propose([cmd('after')]);
    c.deliverAll(isolated);
    c.tickAll(3, isolated);
    // The value accepted by one acceptor of the new leader's quorum was recovered.
    expect(c.appliedTexts(b)).toEqual(['mid-flight', 'after']);
    expect(c.appliedTexts(d)).toEqual(['mid-flight', 'after']);
    // Heal: the old leader hears a higher ballot, steps down and catches up.
    c.tickAll(30);
    expect(c.node(a).status().role).toBe('follower');
    expect(c.appliedTexts(a)).toEqual(['mid-flight', 'after']);
  });

  it('check-quorum: a leader cut off from a majority steps down within an election timeout', () => {
    const c = new TestCluster(3);
    const a = c.electLeader();
    c.tickAll(25, (m) => m.from !== a && m.to !== a);
    expect(c.node(a).status().role).not.toBe('leader');
  });

  it('a follower cut off and reconnected does not depose a healthy leader (pre-vote)', () => {
    const c = new TestCluster(3);
    const a = c.electLeader();
    const f = c.ids.find((i) => i !== a)!;
    const ballot = c.node(a).status().ballot;
    c.tickAll(100, (m) => m.from !== f && m.to !== f);
    c.tickAll(20);
    expect(c.node(a).status().role).toBe('leader');
    expect(c.node(a).status().ballot).toEqual(ballot);
  });

  it('catch-up brings a follower that missed Accepts up to date', () => {
    const c = new TestCluster(3);
    const a = c.electLeader();
    const f = c.ids.find((i) => i !== a)!;
    for (let i = 0; i < 6; i++) c.node(a).propose([cmd(`w${i}`)]);
    c.deliverAll((m) => m.to !== f && m.from !== f);
    expect(c.appliedTexts(f)).toEqual([]);
    c.tickAll(10);
    expect(c.appliedTexts(f)).toEqual(c.appliedTexts(a));
    expect(c.node(f).stats.catchupRequests).toBeGreaterThan(0);
  });
});

describe('read index', () => {
  it('the leader answers only after a quorum confirms its ballot', () => {
    const c = new TestCluster(3);
    const a = c.electLeader();
    c.node(a).propose([cmd('w')]);
    c.deliverAll();
    c.node(a).readIndex(7);
    c.flush(); // the confirmation round is sent, not yet answered
    expect(c.pending.filter((m) => m.type === 'heartbeat')).toHaveLength(2);
    expect(c.reads.get(a)).toEqual([]);
    const beforeCommit = c.node(a).status().commit;
    c.deliverAll();
    expect(c.reads.get(a)).toEqual([{ id: 7, ok: true, index: beforeCommit }]);
  });

  it('a follower gets a read index from the leader', () => {
    const c = new TestCluster(3);
    const a = c.electLeader();
    const f = c.ids.find((i) => i !== a)!;
    c.node(a).propose([cmd('w')]);
    c.deliverAll();
    c.node(f).readIndex(1);
    c.deliverAll();
    expect(c.reads.get(f)).toEqual([{ id: 1, ok: true, index: c.node(a).status().commit }]);
  });

  it('fails reads when no leader is known, and times out forwarded reads', () => {
    const c = new TestCluster(3);
    c.node(1).readIndex(1);
    c.flush();
    expect(c.reads.get(1)).toEqual([{ id: 1, ok: false, reason: 'no-leader' }]);
    const a = c.electLeader();
    c.tickAll(3);
    const f = c.ids.find((i) => i !== a)!;
    c.node(f).readIndex(2);
    c.tickAll(21, (m) => m.type !== 'read-index');
    expect(c.reads.get(f)).toContainEqual({ id: 2, ok: false, reason: 'timeout' });
  });
});

describe('the Ready contract and restarts', () => {
  it('refuses a second Ready before advance()', () => {
    const n = new PaxosNode(testConfig(1, [1]), env);
    for (let i = 0; i < 30; i++) n.tick();
    n.ready();
    expect(() => n.ready()).toThrow(PaxosInvariantError);
    expect(n.hasReady()).toBe(false);
  });

  it('restarts from durable state with a higher ballot and the applied prefix known chosen', () => {
    const c = new TestCluster(1);
    c.electLeader();
    c.node(1).propose([cmd('a')]);
    c.flush();
    const disk = c.durable.get(1)!;
    const first = c.node(1).status().ballot;
    const n = new PaxosNode(testConfig(1, [1]), env, {
      promised: disk.promised,
      accepted: [...disk.accepted.values()],
      applied: 1,
    });
    expect(n.status().commit).toBe(1);
    for (let i = 0; i < 30 && n.status().role !== 'leader'; i++) n.tick();
    expect(compareBallots(n.status().ballot, first)).toBeGreaterThan(0);
    n.propose([cmd('b')]);
    const r = drain(n);
    expect(r.committed.map((e) => e.slot)).toEqual([2]);
  });

  it('refuses commands larger than a slot may carry', () => {
    const c = new TestCluster(1, { maxBatchBytes: 8 });
    c.electLeader();
    expect(c.node(1).propose([new Uint8Array(9)])).toBe('too-large');
  });

  it('sheds proposals beyond the queue limit', () => {
    const c = new TestCluster(1, { maxQueuedCommands: 2 });
    c.electLeader();
    expect(c.node(1).propose([cmd('1'), cmd('2')])).toBe('queued');
    expect(c.node(1).propose([cmd('3')])).toBe('overloaded');
  });
});

describe('compaction and snapshots', () => {
  /** A leader `a` and a follower `f` cut off while six writes are chosen and applied by the others. */
  function leaveFollowerBehind(c: TestCluster): { a: NodeId; f: NodeId } {
    const a = c.electLeader();
    c.tickAll(3);
    const f = c.ids.find((i) => i !== a)!;
    const others = (m: Message) => m.to !== f && m.from !== f;
    for (let i = 0; i < 6; i++) c.node(a).propose([cmd(`w${i}`)]);
    c.deliverAll(others);
    c.tickAll(3, others);
    return { a, f };
  }

  it('a follower behind the leader\'s compaction point is offered a snapshot and resumes after restoring it', () => {
    const c = new TestCluster(3);
    const { a, f } = leaveFollowerBehind(c);
    const commit = c.node(a).status().commit;
    for (const id of c.ids) if (id !== f) c.node(id).compact(commit);
    // f reconnects: it cannot get the compacted slots from the log.
    c.tickAll(5);
    const offered = c.node(f);
    expect(offered.status().commit).toBeLessThan(commit);
    expect(c.snapshotsWanted.get(f)).toContainEqual({ from: a, slot: commit });
    // The runtime installs the leader's snapshot, then the log carries on.
    expect(offered.restoreSnapshot(commit)).toBe(true);
    c.node(a).propose([cmd('after')]);
    c.deliverAll();
    c.tickAll(3);
    expect(c.appliedTexts(f)).toEqual(['after']);
    expect(offered.status().commit).toBe(c.node(a).status().commit);
  });

  it('a follower behind what the others released from memory catches up from their durable log', () => {
    const c = new TestCluster(3);
    c.releaseApplied = true;
    const { a, f } = leaveFollowerBehind(c);
    expect(c.appliedTexts(a).filter((t) => t !== '-')).toHaveLength(6);
    expect(c.appliedTexts(f)).toEqual([]);
    // f reconnects: the slots it lacks are only in the others' durable logs now.
    c.tickAll(10);
    expect(c.fetchesServed).toBeGreaterThan(0);
    expect(c.appliedTexts(f)).toEqual(c.appliedTexts(a));
    expect(c.snapshotsWanted.get(f)).toEqual([]);
  });

  it('serves a fetch that compaction overtook with a snapshot offer instead', () => {
    const n = new PaxosNode(testConfig(1, [1, 2, 3]), env, { promised: { round: 0, node: 1 }, accepted: [], applied: 10, compactedThrough: 4 });
    n.step({ type: 'catchup', from: 2, to: 1, fromSlot: 6, toSlot: 20 });
    const r = drain(n);
    expect(r.messages).toEqual([]);
    expect(r.fetches).toEqual([{ to: 2, fromSlot: 6, toSlot: 10 }]);
    n.compact(8);
    n.serveFetched(r.fetches[0]!, []); // the log was compacted before the read
    expect(drain(n).messages).toEqual([{ type: 'snapshot-offer', from: 1, to: 2, slot: 8 }]);
  });

  it('an acceptor refuses to promise below what it released: a candidate that far behind must not lead', () => {
    const n = new PaxosNode(testConfig(1, [1, 2, 3]), env, { promised: { round: 0, node: 1 }, accepted: [], applied: 10, compactedThrough: 0 });
    n.step({ type: 'prepare', from: 2, to: 1, ballot: { round: 3, node: 2 }, fromSlot: 5 });
    expect(n.hasReady()).toBe(false);
    n.step({ type: 'prepare', from: 2, to: 1, ballot: { round: 3, node: 2 }, fromSlot: 11 });
    expect(drain(n).messages.map((m) => m.type)).toEqual(['promise']);
  });

  it('reports the snapshot to fetch in the Ready', () => {
    const n = new PaxosNode(testConfig(1, [1, 2, 3]), env);
    n.step({ type: 'snapshot-offer', from: 2, to: 1, slot: 40 });
    expect(drain(n).snapshot).toEqual({ from: 2, slot: 40 });
    // Stale offers (we know that much already) are ignored.
    expect(n.restoreSnapshot(40)).toBe(true);
    n.step({ type: 'snapshot-offer', from: 2, to: 1, slot: 30 });
    expect(n.hasReady()).toBe(false);
  });

  it('an acceptor refuses to promise below its compaction point and offers its snapshot instead', () => {
    // A voter (its durable promise is at least (0, self)) that compacted through slot 10.
    const n = new PaxosNode(testConfig(1, [1, 2, 3]), env, { promised: { round: 0, node: 1 }, accepted: [], applied: 10, compactedThrough: 10 });
    n.step({ type: 'prepare', from: 2, to: 1, ballot: { round: 3, node: 2 }, fromSlot: 5 });
    const r = drain(n);
    expect(r.promised).toBeNull();
    expect(r.messages).toEqual([{ type: 'snapshot-offer', from: 1, to: 2, slot: 10 }]);
    n.step({ type: 'prepare', from: 2, to: 1, ballot: { round: 3, node: 2 }, fromSlot: 11 });
    expect(drain(n).messages.map((m) => m.type)).toEqual(['promise']);
  });
});

describe('lease reads', () => {
  it('the leader answers a lease read at once while a recent round is confirmed, and needs a round after the lease runs out', () => {
    const c = new TestCluster(3);
    const a = c.electLeader();
    c.tickAll(3); // heartbeat rounds acknowledged: the lease is held
    c.node(a).readIndex(1, { lease: true });
    c.flush();
    expect(c.reads.get(a)).toEqual([{ id: 1, ok: true, index: c.node(a).status().commit }]);
    // Cut the leader off: with no acknowledged round the lease lapses (before check-quorum ends the term).
    for (let i = 0; i < 8; i++) {
      c.node(a).tick();
      c.flush();
      c.pending = [];
    }
    c.node(a).readIndex(2, { lease: true });
    c.flush();
    expect(c.reads.get(a)).toHaveLength(1);
    c.deliverAll();
    expect(c.reads.get(a)!.at(-1)).toMatchObject({ id: 2, ok: true });
  });

  it('a leader that wakes from a pause longer than an election timeout steps down instead of trusting its lease', () => {
    const c = new TestCluster(3);
    const a = c.electLeader();
    c.tickAll(3);
    c.node(a).tick(35); // what a SIGSTOPped process sees when it resumes
    expect(c.node(a).status().role).toBe('follower');
    c.node(a).readIndex(3, { lease: true });
    c.flush();
    expect(c.reads.get(a)!.at(-1)).toMatchObject({ id: 3, ok: false });
  });

  it('a freshly started node grants no pre-vote for an election timeout', () => {
    const n = freshVotingNode(1, [1, 2, 3]);
    n.step({ type: 'prevote', from: 2, to: 1, round: 1, commit: 0, fresh: false });
    expect(drain(n).messages).toEqual([{ type: 'prevote-reply', from: 1, to: 2, round: 1, granted: false, fresh: true }]);
    n.tick(10);
    n.step({ type: 'prevote', from: 2, to: 1, round: 1, commit: 0, fresh: false });
    expect(drain(n).messages.find((m) => m.type === 'prevote-reply')).toMatchObject({ granted: true });
  });
});

describe('holding proposals for a transaction', () => {
  it('cuts what was queued before the hold, keeps later commands waiting, and lets a first command jump ahead', () => {
    const c = new TestCluster(1);
    const leader = c.node(c.electLeader());
    leader.propose([cmd('before')]);
    leader.holdProposals(true);
    leader.propose([cmd('during')]);
    c.flush();
    expect(c.appliedTexts(1)).toEqual(['before']);
    expect(leader.proposalsDrained()).toBe(true);
    leader.propose([cmd('tx')], { first: true });
    leader.holdProposals(false);
    c.flush();
    expect(c.appliedTexts(1)).toEqual(['before', 'tx', 'during']);
  });
});

describe('a node that starts with nothing', () => {
  it('does not promise or accept until every peer says it is fresh too (a new cluster), and then remembers it votes', () => {
    const n = new PaxosNode(testConfig(1, [1, 2, 3]), env);
    expect(n.status().voting).toBe(false);
    n.step({ type: 'prepare', from: 2, to: 1, ballot: { round: 1, node: 2 }, fromSlot: 1 });
    n.step({ type: 'accept', from: 2, to: 1, ballot: { round: 1, node: 2 }, entries: [{ slot: 1, value: NOOP }], commit: 0 });
    expect(n.hasReady()).toBe(false);
    n.step({ type: 'prevote', from: 2, to: 1, round: 0, commit: 0, fresh: true });
    expect(n.status().voting).toBe(false); // node 3 has not said so
    n.step({ type: 'prevote-reply', from: 3, to: 1, round: 0, granted: false, fresh: true });
    expect(n.status().voting).toBe(true);
    // The first promise, (0, self), makes "I vote" durable.
    const r = drain(n);
    expect(r.promised).toEqual({ round: 0, node: 1 });
  });

  it('starts not voting when its promise is gone, even if replica data survived (paxos.db lost, data.db kept)', () => {
    const n = new PaxosNode(testConfig(1, [1, 2, 3]), env, {
      promised: ZERO_BALLOT,
      accepted: [{ slot: 1, ballot: { round: 2, node: 2 }, value: NOOP }],
      applied: 1,
    });
    expect(n.status().voting).toBe(false);
    const voter = new PaxosNode(testConfig(1, [1, 2, 3]), env, { promised: { round: 0, node: 1 }, accepted: [], applied: 0 });
    expect(voter.status().voting).toBe(true);
  });

  it('rejoining a cluster with history, it learns through catch-up and votes once a slot proposed after its return is chosen', () => {
    const n = new PaxosNode(testConfig(1, [1, 2, 3]), env);
    const ballot = { round: 4, node: 2 };
    n.step({ type: 'heartbeat', from: 2, to: 1, ballot, commit: 10, readSeq: 0, nextSlot: 12 });
    const r = drain(n);
    // No acknowledgement (it could vouch for a forgotten promise): a catch-up request.
    expect(r.messages.map((m) => m.type)).toEqual(['catchup']);
    n.step({ type: 'accept', from: 2, to: 1, ballot, entries: [{ slot: 11, value: NOOP }], commit: 10 });
    expect(drain(n).messages.some((m) => m.type === 'accepted')).toBe(false);
    const chosen = Array.from({ length: 12 }, (_, i) => ({ slot: i + 1, value: NOOP }));
    n.step({ type: 'chosen', from: 2, to: 1, entries: chosen.slice(0, 11), commit: 11 });
    expect(n.status().voting).toBe(false); // slot 11 may have been proposed before it came back
    // Caught up with an idle leader: it nudges it with an empty command so a new slot gets chosen.
    n.step({ type: 'heartbeat', from: 2, to: 1, ballot, commit: 11, readSeq: 0, nextSlot: 12 });
    expect(drain(n).messages).toContainEqual({ type: 'forward', from: 1, to: 2, commands: [new Uint8Array(0)] });
    n.step({ type: 'chosen', from: 2, to: 1, entries: chosen.slice(11), commit: 12 });
    expect(n.status().voting).toBe(true);
    // Learned values are persisted as they come; the durable promise (0, self) marks it a voter.
    const last = drain(n);
    expect(last.accepted.map((e) => e.slot)).toEqual([12]);
    expect(last.promised).toEqual({ round: 0, node: 1 });
  });
});

