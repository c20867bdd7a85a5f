// Shared by the crash test and its child process: the value written for
// (slot, round) is a pure function of them, so the parent can check that what
// it reads back after kill -9 is intact and not merely present.

import { createRandom } from '../../../src/util/random.js';
import type { Value } from '../../../src/paxos/types.js';

/** A seeded source uniform in [0, 1), from the project's PRNG. */
export function prng(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.next();
}

export function valueFor(slot: number, round: number): Value {
  const rand = prng(slot * 7919 + round * 104729);
  if (rand() < 0.1) return { kind: 'noop' };
  const commands: Uint8Array[] = [];
  const count = 1 + Math.floor(rand() * 4);
  for (let i = 0; i < count; i++) {
    const bytes = new Uint8Array(Math.floor(rand() * 2000));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
    commands.push(bytes);
  }
  return { kind: 'batch', time: slot * 1000 + round, commands };
}

/** Ack lines the child prints after each persist()/compact() returns. */
export type Ack = { readonly kind: 'accept'; readonly round: number; readonly slots: readonly number[] } | { readonly kind: 'compact'; readonly through: number };

export function formatAck(ack: Ack): string {
  return ack.kind === 'accept' ? `a ${ack.round} ${ack.slots.join(',')}\n` : `c ${ack.through}\n`;
}

/** Parses complete lines only: a line cut short by the kill was never acknowledged. */
export function parseAcks(output: string): Ack[] {
  const lines = output.split('\n');
  lines.pop(); // empty after the final newline, or an incomplete line
  return lines.map((line) => {
    const [kind, a, b] = line.split(' ');
    if (kind === 'a' && a !== undefined && b !== undefined) {
      return { kind: 'accept', round: Number(a), slots: b.split(',').map(Number) };
    }
    if (kind === 'c' && a !== undefined) return { kind: 'compact', through: Number(a) };
    throw new Error(`bad ack line: ${JSON.stringify(line)}`);
  });
}
