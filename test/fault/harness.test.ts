// The fault harness's own pieces, without a cluster: the link proxies cut and
// heal real TCP connections, the fault schedule is a function of the seed, and
// partition shapes cut the links they claim to.

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/util/random.js';
import { classifyError, ClientTimeoutError } from './client.js';
import { NEMESIS_KINDS, partitionLinks, planFaults } from './nemesis.js';
import { LinkProxy, linkName } from './proxy.js';

/** A target that echoes and remembers everything it received. */
async function echoServer(): Promise<{ server: net.Server; port: number; received: () => string }> {
  let received = '';
  const server = net.createServer((socket) => {
    socket.on('data', (chunk) => {
      received += chunk.toString();
      socket.write(chunk);
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port, received: () => received };
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return socket;
}

function nextData(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString())));
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

describe('LinkProxy', () => {
  const cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });

  async function setup() {
    const echo = await echoServer();
    cleanup.push(() => new Promise<void>((resolve) => echo.server.close(() => resolve())));
    const proxy = await LinkProxy.listen({ from: 1, to: 2 });
    cleanup.push(() => proxy.close());
    proxy.setTarget(echo.port);
    return { echo, proxy };
  }

  it('forwards both ways, drops bytes while cut, and resets the connection at heal', async () => {
    const { echo, proxy } = await setup();
    const socket = await connect(proxy.port);
    cleanup.push(() => void socket.destroy());
    socket.write('hello');
    expect(await nextData(socket)).toBe('hello');

    proxy.cut('drop');
    socket.write('lost');
    // The sender sees an open connection; only healing ends it (the bytes are gone).
    expect(socket.destroyed).toBe(false);
    const ended = closed(socket);
    proxy.heal();
    await ended;

    const again = await connect(proxy.port);
    cleanup.push(() => void again.destroy());
    again.write('after');
    expect(await nextData(again)).toBe('after');
    expect(echo.received()).toBe('helloafter');
  });

  it('in reset mode closes open connections and refuses new ones until healed', async () => {
    const { proxy } = await setup();
    const socket = await connect(proxy.port);
    cleanup.push(() => void socket.destroy());
    const ended = closed(socket);
    proxy.cut('reset');
    await ended;

    const refused = await connect(proxy.port);
    cleanup.push(() => void refused.destroy());
    await closed(refused);

    proxy.heal();
    const healed = await connect(proxy.port);
    cleanup.push(() => void healed.destroy());
    healed.write('ok');
    expect(await nextData(healed)).toBe('ok');
  });
});

describe('fault schedule', () => {
  it('is a function of the seed and covers every enabled kind first', () => {
    const options = { seed: 42, kinds: NEMESIS_KINDS, windowMs: 45_000, nodes: 3 };
    const a = planFaults(options);
    expect(planFaults(options)).toEqual(a);
    expect(planFaults({ ...options, seed: 43 })).not.toEqual(a);
    expect(new Set(a.slice(0, NEMESIS_KINDS.length).map((p) => p.kind))).toEqual(new Set(NEMESIS_KINDS));
    expect(a.some((p) => p.kind === 'partition' && p.shape === 'ring')).toBe(false); // no ring with 3 nodes
  });

  it('plans nothing without nemeses', () => {
    expect(planFaults({ seed: 1, kinds: [], windowMs: 60_000, nodes: 3 })).toEqual([]);
  });

  it('favours partitions and pauses in unsafe-read mode', () => {
    const count = (unsafeReads: boolean) =>
      planFaults({ seed: 7, kinds: NEMESIS_KINDS, windowMs: 3_600_000, nodes: 3, unsafeReads }).filter((p) => p.kind === 'partition' || p.kind === 'pause').length;
    expect(count(true)).toBeGreaterThan(count(false));
  });
});

describe('partition shapes', () => {
  const five = [1, 2, 3, 4, 5];
  const random = createRandom(9);

  it('isolating the leader cuts exactly its links, both ways', () => {
    const { links } = partitionLinks('isolate-leader', five, 3, random);
    expect(links).toHaveLength(8);
    expect(links.every((l) => l.from === 3 || l.to === 3)).toBe(true);
  });

  it('a majority/minority split leaves a connected majority', () => {
    for (let i = 0; i < 20; i++) {
      const { groups, links } = partitionLinks('majority-minority', five, 1, random);
      const sizes = groups.map((g) => g.length).sort();
      expect(sizes[1]).toBeGreaterThanOrEqual(3);
      const cut = new Set(links.map(linkName));
      const majority = groups.find((g) => g.length >= 3)!;
      for (const a of majority) for (const b of majority) if (a !== b) expect(cut.has(`${a}->${b}`)).toBe(false);
    }
  });

  it('a bridge node keeps every link while the two sides lose theirs', () => {
    const { groups, links } = partitionLinks('bridge', five, 1, random);
    const bridge = groups[0]!.find((id) => groups[1]!.includes(id))!;
    expect(bridge).not.toBe(1);
    expect(links.some((l) => l.from === bridge || l.to === bridge)).toBe(false);
    expect(links.length).toBeGreaterThan(0);
  });

  it('in a ring every node still sends to exactly two neighbours', () => {
    const { links } = partitionLinks('ring', five, 1, random);
    for (const id of five) expect(4 - links.filter((l) => l.from === id).length).toBe(2);
  });

  it('the leader-cannot-send shape is one-way', () => {
    const { links } = partitionLinks('leader-cannot-send', five, 2, random);
    expect(links.map(linkName).sort()).toEqual(['2->1', '2->3', '2->4', '2->5']);
  });
});

describe('error classification', () => {
  it('maps SQLSTATEs and lost connections to fail or info', () => {
    expect(classifyError({ code: '40001' })).toEqual({ type: 'fail', error: '40001' });
    expect(classifyError({ code: '23505' })).toEqual({ type: 'fail', error: '23505' });
    expect(classifyError({ code: '40003' })).toEqual({ type: 'info', error: '40003' });
    expect(classifyError({ code: '57P01' })).toEqual({ type: 'info', error: '57P01' });
    expect(classifyError(new ClientTimeoutError(5000))).toEqual({ type: 'info', error: 'timeout' });
    expect(classifyError(new Error('Connection terminated unexpectedly'))).toEqual({ type: 'info', error: 'connection-lost' });
  });
});
