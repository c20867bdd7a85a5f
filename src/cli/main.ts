#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=2 --heap-growing-percent=25
// The paxosql command. Each subcommand is a thin shell over functions that
// tests call directly (src/cli/commands.ts).

import { Command, InvalidArgumentError, Option } from 'commander';
import { devCommand, passwdCommand, startCommand, statusCommand } from './commands.js';
import { benchCommand } from '../bench/cli.js';

function port(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('expected a port number from 1 to 65535');
  return n;
}

function positive(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const logLevel = new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

const program = new Command()
  .name('paxosql')
  .description('A replicated SQL database: Multi-Paxos over SQLite, speaking the Postgres wire protocol.')
  .showHelpAfterError();

program
  .command('start')
  .description('run one node of a cluster (one per machine in a real deployment)')
  .requiredOption('--config <file>', 'cluster configuration (JSON; see config/cluster.example.json)')
  .requiredOption('--node <id>', 'which node of the configuration this is', positive)
  .addOption(logLevel)
  .action(startCommand);

program
  .command('dev')
  .description('run a local cluster of separate node processes on loopback, with trust authentication')
  .addOption(new Option('--nodes <n>', 'cluster size').choices(['1', '3', '5', '7']).default('3'))
  .option('--base-port <port>', 'node i serves Postgres on base-port + i - 1', port, 5433)
  .option('--peer-base-port <port>', 'node i talks to its peers on peer-base-port + i - 1 (default: base-port + 1000)', port)
  .option('--data <dir>', 'data directory (kept between runs)', './data')
  .addOption(logLevel)
  .action(devCommand);

program
  .command('status')
  .description("show each node's role, ballot, commit and applied slot, and lag")
  .option('--config <file>', 'ask every node of this configuration')
  .option('--url <url...>', 'ask the node(s) at these postgres:// URLs')
  .action(statusCommand);

program
  .command('passwd')
  .description('print a SCRAM-SHA-256 verifier for a password (for "users" in the config)')
  .argument('<password>', 'the password')
  .action(passwdCommand);

program
  .command('bench')
  .description('measure write throughput and latency, with node kills, on a local cluster or --target servers')
  .addOption(new Option('--nodes <n>', 'size of the local cluster').choices(['1', '3', '5', '7']).default('3'))
  .option('--clients <n>', 'concurrent connections (closed loop)', '64')
  .option('--duration <time>', 'length of the load, e.g. 60s', '60s')
  .addOption(new Option('--workload <name>', 'what the clients send').choices(['insert', 'update', 'tpcb', 'mixed']).default('insert'))
  .option('--kill <schedule>', 'nodes to kill -9, e.g. leader@20s,follower@40s,node2@30s')
  .option('--restart-after <time>', 'restart a killed node this long after its kill, e.g. 10s')
  .addOption(new Option('--protocol <mode>', 'simple (values inlined), extended (unnamed), prepared (named)').choices(['simple', 'extended', 'prepared']).default('extended'))
  .option('--target <url...>', 'drive existing servers (paxosql nodes or any Postgres) instead of a local cluster')
  .option('--kill-cmd <template>', 'shell command that kills a --target node; {node} {host} {port} {url} are substituted')
  .option('--restart-cmd <template>', 'shell command that restarts a --target node (same placeholders)')
  .option('--out <dir>', 'where results.json and timeline.svg go (default bench/out/run-<time>)')
  .option('--op-timeout <time>', 'give up on an attempt after this long and retry on another node', '5s')
  .option('--accounts <n>', 'rows of the accounts table (update, mixed, tpcb)', '100000')
  .option('--seed <n>', 'seed of the keys and values the clients choose', '1')
  .addOption(new Option('--log-level <level>', 'log level (to stderr)').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'))
  .action(benchCommand);

await program.parseAsync();
