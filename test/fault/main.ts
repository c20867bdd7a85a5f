// `npm run fault -- --workload register --nemesis kill,pause,partition,wipe
//  --duration 60 --seed 7 --nodes 3 [--unsafe-reads] [--out DIR]`
// Runs one fault test against a real local cluster, prints progress and the
// checkers' summary, writes history.jsonl and result.json to the output
// directory. Exit code: 0 valid, 1 invalid, 2 unknown (or the run broke).

import { Command, InvalidArgumentError } from 'commander';
import { NEMESIS_KINDS, type NemesisKind } from './nemesis.js';
import { runFaultTest } from './run.js';
import { WORKLOAD_NAMES, type WorkloadName } from './workloads.js';

function parseWorkload(value: string): WorkloadName {
  if ((WORKLOAD_NAMES as readonly string[]).includes(value)) return value as WorkloadName;
  throw new InvalidArgumentError(`expected one of ${WORKLOAD_NAMES.join(', ')}`);
}

export function parseNemeses(value: string): NemesisKind[] {
  if (value === 'none' || value === '') return [];
  const kinds = value === 'all' ? [...NEMESIS_KINDS] : value.split(',').map((s) => s.trim());
  for (const kind of kinds) {
    if (!(NEMESIS_KINDS as readonly string[]).includes(kind)) {
      throw new InvalidArgumentError(`unknown nemesis "${kind}"; expected a comma-separated list of ${NEMESIS_KINDS.join(', ')}, or all, or none`);
    }
  }
  return [...new Set(kinds)] as NemesisKind[];
}

function parseIntegerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

function parseNodes(value: string): number {
  const n = parseIntegerIn(1, 9)(value);
  if (n % 2 === 0) throw new InvalidArgumentError('expected an odd number of nodes (2f+1)');
  return n;
}

async function main(argv: readonly string[]): Promise<number> {
  const program = new Command()
    .name('npm run fault --')
    .description('Jepsen-style fault test of a local paxosql cluster: real nodes, real Postgres clients, seeded faults, checked histories.')
    .option('--workload <name>', `workload: ${WORKLOAD_NAMES.join(', ')}`, parseWorkload, 'register' as WorkloadName)
    .option('--nemesis <list>', `comma-separated faults: ${NEMESIS_KINDS.join(', ')} (or all, none)`, parseNemeses, [...NEMESIS_KINDS])
    .option('--duration <seconds>', 'client time including the quiet period at the end', parseIntegerIn(5, 86_400), 60)
    .option('--seed <n>', 'seed of the fault schedule and the clients\' choices (default: random, printed)', parseIntegerIn(0, 2 ** 32 - 1))
    .option('--nodes <n>', 'cluster size (odd)', parseNodes, 3)
    .option('--clients-per-node <n>', 'client processes per node', parseIntegerIn(1, 64), 2)
    .option('--unsafe-reads', 'clients on followers read local state (SET paxosql.read_consistency = local): the checker must catch it', false)
    .option('--out <dir>', 'where history.jsonl, result.json and the node logs go (default: a new temporary directory)')
    .option('--quiet', 'print only the summary', false)
    .exitOverride();
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    const code = (error as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<{
    workload: WorkloadName;
    nemesis: NemesisKind[];
    duration: number;
    seed?: number;
    nodes: number;
    clientsPerNode: number;
    unsafeReads: boolean;
    out?: string;
    quiet: boolean;
  }>();
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const print = (line: string): void => void process.stdout.write(`${line}\n`);
  const result = await runFaultTest({
    workload: o.workload,
    nemeses: o.nemesis,
    durationMs: o.duration * 1000,
    seed,
    nodes: o.nodes,
    clientsPerNode: o.clientsPerNode,
    unsafeReads: o.unsafeReads,
    ...(o.out === undefined ? {} : { outDir: o.out }),
    ...(o.quiet ? {} : { progress: print }),
  });
  print('');
  print(result.text);
  print(`result file: ${result.resultPath}`);
  return result.valid === true ? 0 : result.valid === false ? 1 : 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`fault run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 2;
  },
);
