// npm run sim -- --seeds N [--from S] [--nodes 3|5|7] [--inject-bug NAME] [--seed S --trace]
//
// Runs the deterministic cluster simulator over many seeds and prints one
// final JSON line. On a violation it prints the seed and the events leading
// up to it; `--seed S --trace` replays that run and prints every event.

import { Command, InvalidArgumentError, Option } from 'commander';
import type { PlantedBug } from '../../src/paxos/types.js';
import { runSeeds, type SweepSummary } from './sweep.js';
import { runSimulation } from './simulation.js';

const BUGS: readonly PlantedBug[] = ['no-persist-promise', 'ignore-accepted', 'commit-without-quorum', 'read-without-quorum', 'vote-after-wipe', 'promise-without-released'];

function positiveInt(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

const program = new Command()
  .name('sim')
  .description('Deterministic simulation of the Multi-Paxos core under message loss, partitions and crashes.')
  .option('--seeds <n>', 'how many seeds to run', positiveInt, 200)
  .option('--from <seed>', 'first seed', positiveInt, 1)
  .addOption(new Option('--nodes <n>', 'cluster size').choices(['1', '3', '5', '7']).default('3'))
  .addOption(new Option('--inject-bug <name>', 'plant a known bug to prove the checker catches it').choices(BUGS))
  .option('--seed <seed>', 'run this one seed', positiveInt)
  .option('--trace', 'with --seed: print every event of the run')
  .option('--quiet', 'print only the final JSON line')
  .parse();

interface Options {
  seeds: number;
  from: number;
  nodes: string;
  injectBug?: PlantedBug;
  seed?: number;
  trace?: boolean;
  quiet?: boolean;
}

const opts = program.opts<Options>();
const nodes = Number(opts.nodes);
const bug = opts.injectBug;
const write = (line: string) => process.stdout.write(line + '\n');

if (opts.seed !== undefined) {
  const result = runSimulation({
    seed: opts.seed,
    nodes,
    ...(bug === undefined ? {} : { bug }),
    ...(opts.trace === true ? { traceSink: write } : {}),
  });
  for (const v of result.violations) write(`VIOLATION seed ${result.seed}: ${v}`);
  for (const l of result.livenessFailures) write(`LIVENESS seed ${result.seed}: ${l}`);
  const summary: SweepSummary = {
    seeds: 1,
    violations: result.violations.length > 0 ? 1 : 0,
    liveness_failures: result.livenessFailures.length > 0 ? 1 : 0,
    chosen: result.chosen,
    faults: result.faults,
    first_failing_seed: result.violations.length + result.livenessFailures.length > 0 ? result.seed : null,
    first_violating_seed: result.violations.length > 0 ? result.seed : null,
  };
  write(JSON.stringify(summary));
  process.exitCode = summary.violations + summary.liveness_failures > 0 ? 1 : 0;
} else {
  const summary = runSeeds({
    from: opts.from,
    count: opts.seeds,
    nodes,
    ...(bug === undefined ? {} : { bug }),
    onFailure: (result) => {
      if (opts.quiet === true) return;
      write(`seed ${result.seed} failed (replay: npm run sim -- --nodes ${nodes} --seed ${result.seed}${bug === undefined ? '' : ` --inject-bug ${bug}`} --trace)`);
      for (const v of result.violations) write(`  VIOLATION ${v}`);
      for (const l of result.livenessFailures) write(`  LIVENESS ${l}`);
      write('  last events:');
      for (const line of result.traceTail.slice(-60)) write(`    ${line}`);
    },
  });
  write(JSON.stringify(summary));
  process.exitCode = summary.violations + summary.liveness_failures > 0 ? 1 : 0;
}
