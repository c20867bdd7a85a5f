#!/usr/bin/env node
// The paxosql command. Each subcommand is a thin shell over functions that
// tests call directly (src/cli/commands.ts).

import { Command, InvalidArgumentError, Option } from 'commander';
import { devCommand, passwdCommand, startCommand, statusCommand } from './commands.js';

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

await program.parseAsync();
