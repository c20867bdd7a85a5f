import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Message, NodeId, ReadIndexMsg } from '../../../src/paxos/types.js';
import { encodeMessage } from '../../../src/transport/codec.js';
import { encodeFrame, encodeHandshake } from '../../../src/transport/frames.js';
import { TcpTransport, type TcpTransportOptions } from '../../../src/transport/tcp-transport.js';
import { prng } from './random-messages.js';

const CLUSTER = 'test-cluster';
const FAST_BACKOFF = { initialMs: 5, maxMs: 50 };

const open: TcpTransport[] = [];
const rawSockets: net.Socket[] = [];

afterEach(async () => {
  for (const s of rawSockets.splice(0)) s.destroy();
  const closing = open.splice(0);
  await Promise.all(closing.map((t) => t.close()));
  for (const t of closing) {
    expect(t.stats().inboundConnections).toBe(0);
    expect(t.stats().links.every((l) => !l.connected)).toBe(true);
  }
});

async function start(self: NodeId, nodes: NodeId[], extra: Partial<TcpTransportOptions> = {}): Promise<TcpTransport> {
  const t = await TcpTransport.start({ self, nodes, clusterId: CLUSTER, backoff: FAST_BACKOFF, random: prng(self), ...extra });
  open.push(t);
  return t;
}

/** Start every node on a free port, then tell each the others' ports. */
async function startCluster(nodes: NodeId[], extra: Partial<TcpTransportOptions> = {}): Promise<Map<NodeId, TcpTransport>> {
  const ts = new Map<NodeId, TcpTransport>();
  for (const id of nodes) ts.set(id, await start(id, nodes, extra));
  for (const [id, t] of ts) for (const [peer, p] of ts) if (peer !== id) t.setPeerAddress(peer, p.address());
  return ts;
}

/** Records what a transport receives; `until` resolves once a predicate over it holds. */
class Inbox {
  readonly messages: Message[] = [];
  private waiters: { pred: () => boolean; resolve: () => void }[] = [];

  constructor(t: TcpTransport) {
    t.onMessage((m) => {
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => (w.pred() ? (w.resolve(), false) : true));
    });
  }

  /** Resolves once pred() holds; rejects after `timeoutMs` so a lost message fails fast and says so. */
  until(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`condition not met in ${timeoutMs} ms; got ${this.messages.length} messages`)), timeoutMs);
      this.waiters.push({ pred, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  idsFrom(node: NodeId): number[] {
    return this.messages.filter((m): m is ReadIndexMsg => m.type === 'read-index' && m.from === node).map((m) => m.id);
  }
}

const readIndex = (from: NodeId, to: NodeId, id: number): Message => ({ type: 'read-index', from, to, id });

/** Resolves when a raw socket is closed by the other side. */
function closedByPeer(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    s.on('error', () => {});
    s.once('close', () => resolve());
    s.resume();
  });
}

async function rawConnect(port: number): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port });
  rawSockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('error', reject);
  });
  return s;
}

describe('TcpTransport', () => {
  it('delivers thousands of messages between 3 nodes, in order on every link', async () => {
    const nodes = [1, 2, 3];
    const ts = await startCluster(nodes);
    const inboxes = new Map([...ts].map(([id, t]) => [id, new Inbox(t)]));
    const perLink = 3000;
    for (let i = 0; i < perLink; i++) {
      for (const from of nodes) for (const to of nodes) if (from !== to) ts.get(from)?.send(readIndex(from, to, i));
    }
    const expected = Array.from({ length: perLink }, (_, i) => i);
    for (const to of nodes) {
      const inbox = inboxes.get(to) as Inbox;
      await inbox.until(() => inbox.messages.length === perLink * 2);
      for (const from of nodes) if (from !== to) expect(inbox.idsFrom(from)).toEqual(expected);
    }
    const stats = ts.get(1)?.stats();
    expect(stats?.links.map((l) => l.sentMessages)).toEqual([perLink, perLink]);
    expect(stats?.links.every((l) => l.droppedQueueFull === 0)).toBe(true);
    expect(stats?.receivedMessages).toBe(perLink * 2);

    // Coalescing: a burst sent in one event-loop turn on a live connection goes out in one write.
    const one = ts.get(1) as TcpTransport;
    const writesBefore = one.stats().links[0]?.writes ?? 0;
    for (let i = 0; i < 500; i++) one.send(readIndex(1, 2, perLink + i));
    const inbox2 = inboxes.get(2) as Inbox;
    await inbox2.until(() => inbox2.idsFrom(1).length === perLink + 500);
    expect((one.stats().links[0]?.writes ?? 0) - writesBefore).toBe(1);
  });

  it('delivers large messages split across many TCP segments', async () => {
    const ts = await startCluster([1, 2]);
    const inbox = new Inbox(ts.get(2) as TcpTransport);
    const command = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < command.length; i++) command[i] = i % 251;
    ts.get(1)?.send({ type: 'forward', from: 1, to: 2, commands: [command, command.subarray(7)] });
    await inbox.until(() => inbox.messages.length === 1);
    const got = inbox.messages[0];
    if (got?.type !== 'forward') throw new Error(`expected a forward message, got ${got?.type}`);
    // Compared with Buffer.equals: deep equality over millions of elements is very slow.
    expect(got.commands.map((c) => c.length)).toEqual([command.length, command.length - 7]);
    expect(command.equals(got.commands[0] as Uint8Array)).toBe(true);
    expect(command.subarray(7).equals(got.commands[1] as Uint8Array)).toBe(true);
  });

  it('reconnects automatically to a peer that restarts on the same port', async () => {
    const nodes = [1, 2];
    const ts = await startCluster(nodes);
    const one = ts.get(1) as TcpTransport;
    let two = ts.get(2) as TcpTransport;
    let inbox = new Inbox(two);
    one.send(readIndex(1, 2, 1));
    await inbox.until(() => inbox.messages.length === 1);

    const port = two.address().port;
    await two.close();
    two = await start(2, nodes, { listenPort: port, peers: new Map([[1, one.address()]]) });
    inbox = new Inbox(two);
    // Messages written into the dead connection are lost (Paxos retransmits); keep sending until one arrives.
    for (let i = 2; i < 2000 && inbox.messages.length === 0; i++) {
      one.send(readIndex(1, 2, i));
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(inbox.messages.length).toBeGreaterThan(0);
    // The restarted node dials back too; its new connection replaces the dead one.
    const inboxOne = new Inbox(one);
    two.send(readIndex(2, 1, 99));
    await inboxOne.until(() => inboxOne.messages.length === 1);
    expect(one.stats().inboundConnections).toBe(1);
    const link = one.stats().links.find((l) => l.peer === 2);
    expect(link?.connects).toBeGreaterThanOrEqual(2);
    expect(link?.disconnects).toBeGreaterThanOrEqual(1);
  });

  it('closes connections that send garbage or an unknown node id, and keeps working', async () => {
    const ts = await startCluster([1, 2]);
    const one = ts.get(1) as TcpTransport;
    const inbox = new Inbox(one);
    const port = one.address().port;

    const garbage = await rawConnect(port);
    const garbageClosed = closedByPeer(garbage);
    garbage.write(Buffer.from([0, 0, 0, 5, 1, 2, 3, 4, 5]));
    await garbageClosed;

    const stranger = await rawConnect(port);
    const strangerClosed = closedByPeer(stranger);
    stranger.write(encodeFrame(encodeHandshake({ clusterId: CLUSTER, from: 9, to: 1 })));
    await strangerClosed;

    const otherCluster = await rawConnect(port);
    const otherClosed = closedByPeer(otherCluster);
    otherCluster.write(encodeFrame(encodeHandshake({ clusterId: 'another', from: 2, to: 1 })));
    await otherClosed;

    const hugeFrame = await rawConnect(port);
    const hugeClosed = closedByPeer(hugeFrame);
    hugeFrame.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await hugeClosed;

    const misaddressed = await rawConnect(port);
    const misaddressedClosed = closedByPeer(misaddressed);
    misaddressed.write(encodeFrame(encodeHandshake({ clusterId: CLUSTER, from: 2, to: 3 })));
    await misaddressedClosed;

    expect(one.stats().rejectedConnections).toBe(5);
    ts.get(2)?.send(readIndex(2, 1, 42));
    await inbox.until(() => inbox.messages.length === 1);
    expect(inbox.idsFrom(2)).toEqual([42]);
  });

  it('closes a connection after a frame that does not decode or a message with a forged sender', async () => {
    const one = await start(1, [1, 2, 3]);
    const inbox = new Inbox(one);
    const port = one.address().port;

    const bad = await rawConnect(port);
    const badClosed = closedByPeer(bad);
    bad.write(encodeFrame(encodeHandshake({ clusterId: CLUSTER, from: 2, to: 1 })));
    bad.write(encodeFrame(encodeMessage(readIndex(2, 1, 1))));
    bad.write(encodeFrame(Uint8Array.from([1, 250, 0])));
    bad.write(encodeFrame(encodeMessage(readIndex(2, 1, 2)))); // after the bad frame: never delivered
    await badClosed;

    const forger = await rawConnect(port);
    const forgerClosed = closedByPeer(forger);
    forger.write(encodeFrame(encodeHandshake({ clusterId: CLUSTER, from: 2, to: 1 })));
    forger.write(encodeFrame(encodeMessage(readIndex(3, 1, 3))));
    await forgerClosed;

    expect(inbox.idsFrom(2)).toEqual([1]);
    expect(inbox.idsFrom(3)).toEqual([]);
    expect(one.stats().protocolErrors).toBe(2);
  });

  it('closes a connection that sends no handshake in time', async () => {
    const one = await start(1, [1, 2], { handshakeTimeoutMs: 50 });
    const silent = await rawConnect(one.address().port);
    await closedByPeer(silent);
    expect(one.stats().rejectedConnections).toBe(1);
  });

  it('drops the oldest messages when a send queue is full, counts them, and sends the rest once connected', async () => {
    const one = await start(1, [1, 2], { maxQueuedMessages: 10 });
    const two = await start(2, [1, 2]);
    const inbox = new Inbox(two);
    for (let i = 0; i < 25; i++) one.send(readIndex(1, 2, i)); // no address yet: all queue up
    let link = one.stats().links[0];
    expect(link?.queued).toBe(10);
    expect(link?.droppedQueueFull).toBe(15);

    one.setPeerAddress(2, two.address());
    await inbox.until(() => inbox.messages.length === 10);
    expect(inbox.idsFrom(1)).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    link = one.stats().links[0];
    expect(link?.queued).toBe(0);
  });

  it('counts and drops messages for nodes outside the configuration, and loops messages to itself back', async () => {
    const one = await start(1, [1, 2]);
    const inbox = new Inbox(one);
    one.send(readIndex(1, 7, 1));
    one.send(readIndex(1, 1, 2));
    await inbox.until(() => inbox.messages.length === 1);
    expect(inbox.idsFrom(1)).toEqual([2]);
    expect(one.stats().droppedUnknownPeer).toBe(1);
    expect(() => one.send(readIndex(2, 1, 3))).toThrow(/from 2/);
  });

  it('drops and counts a message larger than the maximum frame, and keeps the link working', async () => {
    const ts = await startCluster([1, 2], { maxFrameBytes: 1000 });
    const inbox = new Inbox(ts.get(2) as TcpTransport);
    const one = ts.get(1) as TcpTransport;
    one.send({ type: 'forward', from: 1, to: 2, commands: [new Uint8Array(2000)] });
    one.send(readIndex(1, 2, 5));
    await inbox.until(() => inbox.messages.length === 1);
    expect(inbox.idsFrom(1)).toEqual([5]);
    expect(one.stats().droppedTooLarge).toBe(1);
    expect(ts.get(2)?.stats().protocolErrors).toBe(0);
  });

  it('stops accepting connections once closed', async () => {
    const one = await start(1, [1, 2]);
    const port = one.address().port;
    await one.close();
    const s = net.connect({ host: '127.0.0.1', port });
    rawSockets.push(s);
    const err = await new Promise<Error>((resolve) => s.once('error', resolve));
    expect((err as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});
