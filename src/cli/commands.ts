// The paxosql subcommands. Everything that can go wrong on the command line is
// reported as one line that says what to fix, with a non-zero exit code.

import { join, resolve } from 'node:path';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { ConfigError, loadConfig, type ClusterConfig } from '../cluster/config.js';
import { LocalCluster } from '../cluster/local.js';
import { startNode } from '../cluster/run.js';
import { createScramVerifier } from '../pgwire/auth.js';

function fail(message: string, code = 2): never {
  process.stderr.write(`paxosql: ${message}\n`);
  process.exit(code);
}

function makeLogger(level: string): Logger {
  if (process.stdout.isTTY) {
    return pino({ level }, pino.transport({ target: 'pino-pretty', options: { colorize: true } }));
  }
  return pino({ level });
}

function readConfig(path: string): ClusterConfig {
  try {
    return loadConfig(path);
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
}

export async function startCommand(options: { config: string; node: number; logLevel: string }): Promise<void> {
  const config = readConfig(options.config);
  if (!config.nodes.some((n) => n.id === options.node)) {
    fail(`--node ${options.node} is not in ${options.config} (its nodes are ${config.nodes.map((n) => n.id).join(', ')})`);
  }
  const logger = makeLogger(options.logLevel);
  let running;
  try {
    running = await startNode(config, options.node, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'could not start the node');
    logger.flush();
    fail(`node ${options.node} could not start: ${describeError(error)}`, 1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** Errors from worker threads arrive as plain objects: say what they hold either way. */
function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}

export async function devCommand(options: {
  nodes: string;
  basePort: number;
  peerBasePort?: number;
  data: string;
  logLevel: string;
}): Promise<void> {
  const size = Number(options.nodes);
  const dir = resolve(options.data);
  const peerBasePort = options.peerBasePort ?? options.basePort + 1000;
  if (peerBasePort + size - 1 > 65535 || options.basePort + size - 1 > 65535) fail('ports would go above 65535: choose a lower --base-port');
  process.stdout.write(
    `paxosql dev: ${size} node(s), data in ${dir}, logs in ${dir}/node-<id>.log\n` +
      'authentication: trust on loopback, any user name (like initdb -A trust); use a config file with users for anything else\n',
  );
  let cluster: LocalCluster;
  try {
    cluster = await LocalCluster.start({
      nodes: size,
      dir,
      basePort: options.basePort,
      peerBasePort,
      logLevel: options.logLevel,
      config: { clusterId: 'paxosql-dev' },
      onUnexpectedExit: (id, code, signal) => {
        process.stderr.write(`paxosql dev: node ${id} exited (${signal ?? `code ${code}`}); see ${join(dir, `node-${id}.log`)}\n`);
      },
    });
  } catch (error) {
    fail(`the cluster did not start: ${describeError(error)}`, 1);
  }
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('\npaxosql dev: stopping the nodes\n');
    cluster.stop({ signal: 'SIGTERM' }).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  for (const id of cluster.ids) {
    process.stdout.write(`  node ${id}: psql ${cluster.url(id)}\n`);
  }
  process.stdout.write(`ready. status: npx paxosql status --config ${cluster.configPath}   stop: Ctrl-C\n`);
}

interface StatusRow {
  readonly target: string;
  readonly status: Record<string, unknown> | null;
  readonly error?: string;
}

export async function statusCommand(options: { config?: string; url?: string[] }): Promise<void> {
  const urls = options.url ?? [];
  if (options.config !== undefined) {
    const config = readConfig(options.config);
    for (const n of config.nodes) urls.push(`postgres://paxosql@${n.host}:${n.pgPort}/paxosql`);
  }
  if (urls.length === 0) fail('say which cluster: --config FILE or --url postgres://…');
  const rows = await Promise.all(urls.map(fetchStatus));
  const commits = rows.map((r) => Number(r.status?.['commit'] ?? 0));
  const top = Math.max(0, ...commits);
  const table = [['node', 'address', 'role', 'leader', 'ballot', 'commit', 'applied', 'lag']];
  for (const r of rows) {
    const s = r.status;
    if (s === null) {
      table.push(['?', r.target, `down (${r.error ?? 'no answer'})`, '', '', '', '', '']);
      continue;
    }
    table.push([
      String(s['id']),
      r.target,
      String(s['role']),
      String(s['leader'] ?? '-'),
      String(s['ballot']),
      String(s['commit']),
      String(s['applied']),
      String(top - Number(s['applied'])),
    ]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  for (const row of table) process.stdout.write(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
  if (rows.some((r) => r.status === null)) process.exitCode = 1;
}

async function fetchStatus(url: string): Promise<StatusRow> {
  const target = url.replace(/^postgres(ql)?:\/\/([^@]*@)?/, '').replace(/\/.*$/, '');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const result = await client.query<{ 'paxosql.status': string }>('SHOW paxosql.status');
    const text = result.rows[0]?.['paxosql.status'];
    return { target, status: text === undefined ? null : (JSON.parse(text) as Record<string, unknown>) };
  } catch (error) {
    return { target, status: null, error: (error as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function passwdCommand(password: string): void {
  process.stdout.write(createScramVerifier(password) + '\n');
}
