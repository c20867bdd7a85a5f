import { describe, expect, it } from 'vitest';
import type { Message, ReadIndexMsg } from '../../../src/paxos/types.js';
import { MemoryNetwork, type MemoryTransport } from '../../../src/transport/memory-transport.js';
import { prng } from './random-messages.js';

const readIndex = (from: number, to: number, id: number): Message => ({ type: 'read-index', from, to, id });

function inbox(t: MemoryTransport): ReadIndexMsg[] {
  const got: ReadIndexMsg[] = [];
  t.onMessage((m) => {
    if (m.type === 'read-index') got.push(m);
  });
  return got;
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('MemoryTransport', () => {
  it('delivers asynchronously, in order, and without sharing objects', async () => {
    const net = new MemoryNetwork();
    const a = net.join(1);
    const b = net.join(2);
    const got: Message[] = [];
    b.onMessage((m) => got.push(m));
    const cmd = Uint8Array.from([1, 2]);
    const sent: Message = { type: 'forward', from: 1, to: 2, commands: [cmd] };
    a.send(sent);
    for (let i = 0; i < 100; i++) a.send(readIndex(1, 2, i));
    expect(got).toEqual([]);
    await settle();
    expect(got[0]).toEqual(sent);
    expect(got[0]).not.toBe(sent);
    expect(got.slice(1).map((m) => (m.type === 'read-index' ? m.id : -1))).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await Promise.all([a.close(), b.close()]);
  });

  it('drops and counts messages across a partition until healed', async () => {
    const net = new MemoryNetwork();
    const a = net.join(1);
    const b = net.join(2);
    const got = inbox(b);
    net.partition(1, 2);
    a.send(readIndex(1, 2, 1));
    net.heal();
    a.send(readIndex(1, 2, 2));
    await settle();
    expect(got.map((m) => m.id)).toEqual([2]);
    expect(a.stats().links[0]?.lost).toBe(1);
  });

  it('loses messages at the configured rate, reproducibly for a seed', async () => {
    const run = async (): Promise<number[]> => {
      const net = new MemoryNetwork({ lossRate: 0.3, random: prng(7) });
      const a = net.join(1);
      const got = inbox(net.join(2));
      for (let i = 0; i < 1000; i++) a.send(readIndex(1, 2, i));
      await settle();
      return got.map((m) => m.id);
    };
    const first = await run();
    expect(first.length).toBeGreaterThan(600);
    expect(first.length).toBeLessThan(800);
    expect(await run()).toEqual(first);
  });

  it('drops messages to a node that left, and lets it rejoin', async () => {
    const net = new MemoryNetwork();
    const a = net.join(1);
    const b = net.join(2);
    const gotOld = inbox(b);
    a.send(readIndex(1, 2, 1));
    await b.close();
    await settle();
    expect(gotOld).toEqual([]);
    const gotNew = inbox(net.join(2));
    a.send(readIndex(1, 2, 2));
    await settle();
    expect(gotNew.map((m) => m.id)).toEqual([2]);
  });
});
