// Microbenchmark of the Multi-Paxos core: chosen commands per second for a
// cluster running in one process with no I/O (messages passed as objects,
// nothing persisted), proposals in 100-command batches. It shows the core is
// never the bottleneck of a real node. The 1-node cluster (no replication) is
// the baseline measured in the same run; larger clusters are reported as
// absolute figures and as a ratio to it.
//
//   npm run bench -- [--commands N] [--out FILE]

import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import os from 'node:os';
import { PaxosNode } from '../src/paxos/node.js';
import type { Message, NodeId, PaxosConfig } from '../src/paxos/types.js';
import { createRandom } from '../src/util/random.js';

interface Figure {
  nodes: number;
  commands: number;
  seconds: number;
  commandsPerSecond: number;
  slotsPerSecond: number;
  messages: number;
  ratioToBaseline: number;
}

const BATCH = 100;

function config(self: NodeId, nodes: readonly NodeId[]): PaxosConfig {
  return {
    self,
    nodes,
    electionTicks: 10,
    heartbeatTicks: 2,
    window: 64,
    maxBatchCommands: BATCH,
    maxBatchBytes: 1 << 20,
    maxQueuedCommands: 1_000_000,
    maxEntriesPerMessage: 512,
    maxPendingReads: 1000,
  };
}

function run(size: number, totalCommands: number): Omit<Figure, 'ratioToBaseline'> {
  const ids = Array.from({ length: size }, (_, i) => i + 1);
  const rng = createRandom(size);
  const nodes = new Map<NodeId, PaxosNode>();
  for (const id of ids) {
    const r = rng.fork();
    nodes.set(id, new PaxosNode(config(id, ids), { random: () => r.next(), now: () => 0 }));
  }
  let inbox: Message[] = [];
  const applied = new Map<NodeId, number>(ids.map((id) => [id, 0]));
  let messages = 0;
  const pump = (): void => {
    for (const [id, node] of nodes) {
      while (node.hasReady()) {
        const ready = node.ready();
        for (const m of ready.messages) inbox.push(m);
        let n = applied.get(id) as number;
        for (const e of ready.committed) if (e.value.kind === 'batch') n += e.value.commands.length;
        applied.set(id, n);
        node.advance();
      }
    }
  };
  const deliver = (): void => {
    const batch = inbox;
    inbox = [];
    messages += batch.length;
    for (const m of batch) (nodes.get(m.to) as PaxosNode).step(m);
  };
  let leader: PaxosNode | undefined;
  for (let t = 0; t < 1000 && leader === undefined; t++) {
    for (const node of nodes.values()) node.tick();
    pump();
    while (inbox.length > 0) {
      deliver();
      pump();
    }
    leader = [...nodes.values()].find((n) => n.status().role === 'leader');
  }
  if (leader === undefined) throw new Error('no leader elected');

  const command = new Uint8Array(32);
  const batch = Array.from({ length: BATCH }, () => command);
  const allApplied = (): boolean => [...applied.values()].every((n) => n >= totalCommands);
  let proposed = 0;
  let ticks = 0;
  const start = process.hrtime.bigint();
  while (!allApplied()) {
    // Keep the leader's queue topped up: a closed loop with plenty of clients.
    while (proposed < totalCommands && leader.status().queued < 64 * BATCH) {
      leader.propose(batch);
      proposed += BATCH;
    }
    pump();
    if (inbox.length > 0) deliver();
    else {
      // Followers learn the last commit index from a heartbeat.
      for (const node of nodes.values()) node.tick();
      ticks++;
      if (ticks > 100_000) throw new Error('benchmark did not converge');
    }
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    nodes: size,
    commands: totalCommands,
    seconds,
    commandsPerSecond: totalCommands / seconds,
    slotsPerSecond: totalCommands / BATCH / seconds,
    messages,
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const arg = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const total = Number(arg('--commands') ?? 2_000_000);
  const out = arg('--out') ?? 'bench/out/core.json';
  // Warm up the JIT, then take the median of three runs of each size.
  for (const size of [1, 3, 5]) run(size, total / 10);
  const median = (size: number) => {
    const runs = [run(size, total), run(size, total), run(size, total)];
    runs.sort((a, b) => a.commandsPerSecond - b.commandsPerSecond);
    return runs[1] as Omit<Figure, 'ratioToBaseline'>;
  };
  const baseline = median(1);
  const figures: Figure[] = [{ ...baseline, ratioToBaseline: 1 }];
  for (const size of [3, 5]) {
    const f = median(size);
    figures.push({ ...f, ratioToBaseline: f.commandsPerSecond / baseline.commandsPerSecond });
  }
  const report = {
    benchmark: 'paxos-core',
    batch: BATCH,
    node: process.version,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    figures,
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  for (const f of figures) {
    process.stdout.write(
      `${f.nodes} node(s): ${Math.round(f.commandsPerSecond).toLocaleString('en-US')} commands/s ` +
        `(${Math.round(f.slotsPerSecond).toLocaleString('en-US')} slots/s, ${f.seconds.toFixed(2)} s, ` +
        `${f.ratioToBaseline.toFixed(2)}x the 1-node baseline)\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main();
