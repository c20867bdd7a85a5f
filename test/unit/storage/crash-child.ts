// Child process of crash.test.ts (compiled to JavaScript by that test, then run
// with node): reopens the log, then persists in a loop and prints an ack line
// after every persist()/compact() returns, until the parent SIGKILLs it.
// Usage: node crash-child.js <paxos.db> <seed>

import fs from 'node:fs';
import type { AcceptedEntry } from '../../../src/paxos/types.js';
import { SqlitePaxosLog } from '../../../src/storage/index.js';
import { formatAck, prng, valueFor } from './crash-workload.js';

/** Bounded even if the parent never kills us. */
const MAX_ITERATIONS = 200_000;

function main(): void {
  const [file, seedArg] = process.argv.slice(2);
  if (file === undefined || seedArg === undefined) throw new Error('usage: crash-child <paxos.db> <seed>');
  const rand = prng(Number(seedArg));
  const log = SqlitePaxosLog.open(file);
  const state = log.load();
  let round = state.promised.round;
  let nextSlot = Math.max(log.firstSlot(), ...state.accepted.map((e) => e.slot + 1));
  for (let i = 0; i < MAX_ITERATIONS; i++) {
    round++;
    const ballot = { round, node: 1 };
    const entries: AcceptedEntry[] = [];
    const fresh = 1 + Math.floor(rand() * 8);
    for (let k = 0; k < fresh; k++, nextSlot++) entries.push({ slot: nextSlot, ballot, value: valueFor(nextSlot, round) });
    // Sometimes re-accept an older slot at the new ballot, as a new leader's Phase 2 would.
    if (rand() < 0.3 && nextSlot > log.firstSlot() + fresh) {
      const old = log.firstSlot() + Math.floor(rand() * (nextSlot - fresh - log.firstSlot()));
      entries.push({ slot: old, ballot, value: valueFor(old, round) });
    }
    log.persist(ballot, entries);
    fs.writeSync(1, formatAck({ kind: 'accept', round, slots: entries.map((e) => e.slot) }));
    if (i % 50 === 49 && nextSlot > 200) {
      log.compact(nextSlot - 200);
      fs.writeSync(1, formatAck({ kind: 'compact', through: nextSlot - 200 }));
    }
  }
  log.close();
}

main();
