// The cluster configuration file (JSON), validated field by field: a bad file
// is refused with a message that names the field and what is allowed.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface NodeAddress {
  readonly id: number;
  readonly host: string;
  readonly peerPort: number;
  readonly pgPort: number;
}

export interface UserConfig {
  readonly name: string;
  /** A SCRAM-SHA-256 verifier (`paxosql passwd` makes one), an md5 hash, or a plain password. */
  readonly password: string;
}

export interface ClusterConfig {
  readonly clusterId: string;
  readonly nodes: readonly NodeAddress[];
  /** Each node keeps its files in `<dataDir>/node-<id>`. */
  readonly dataDir: string;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly window: number;
  readonly maxBatchCommands: number;
  readonly maxBatchBytes: number;
  /** Compact the Paxos log below a snapshot when it holds more entries than this... */
  readonly compactionThreshold: number;
  /**
   * ...or when the commands applied since the last snapshot add up to more
   * bytes than this: every node keeps its uncompacted log in memory too, so
   * this bounds its memory under a steady write load.
   */
  readonly compactionBytes: number;
  /** How long a write waits for a leader and for its result before failing. */
  readonly writeTimeoutMs: number;
  /** An open transaction idle this long is rolled back (25P03). */
  readonly idleTransactionTimeoutMs: number;
  /**
   * An open transaction idle this long while other writes wait for it is
   * rolled back (40001): the cluster has one writer, and one idle session must
   * not hold up every other for the idle timeout.
   */
  readonly idleTransactionPreemptMs: number;
  readonly readThreads: number;
  readonly auth: 'trust' | 'password' | 'md5' | 'scram-sha-256';
  readonly users: readonly UserConfig[];
  readonly databases: readonly string[];
  readonly maxConnections: number;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const CONFIG_DEFAULTS = {
  clusterId: 'paxosql',
  dataDir: './data',
  tickMs: 10,
  electionTicks: 30,
  heartbeatTicks: 2,
  window: 64,
  maxBatchCommands: 1000,
  maxBatchBytes: 8 << 20,
  compactionThreshold: 50_000,
  compactionBytes: 16 << 20,
  writeTimeoutMs: 10_000,
  idleTransactionTimeoutMs: 60_000,
  idleTransactionPreemptMs: 1_000,
  readThreads: 1,
  auth: 'scram-sha-256',
  users: [],
  databases: ['paxosql', 'postgres'],
  maxConnections: 200,
} as const;

export function loadConfig(path: string): ClusterConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const config = parseConfig(raw);
  // A relative data directory is relative to the config file, not the shell.
  return { ...config, dataDir: resolve(dirname(path), config.dataDir) };
}

/** Validates a parsed JSON value; throws ConfigError naming the first bad field. */
export function parseConfig(raw: unknown): ClusterConfig {
  if (!isObject(raw)) throw new ConfigError('config: expected a JSON object');
  const known = new Set([...Object.keys(CONFIG_DEFAULTS), 'nodes']);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) throw new ConfigError(`config: unknown field "${key}" (allowed: ${[...known].sort().join(', ')})`);
  }
  const nodes = parseNodes(raw['nodes']);
  const int = (field: keyof typeof CONFIG_DEFAULTS, min: number, max: number): number => {
    const value = raw[field] ?? CONFIG_DEFAULTS[field];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`config: "${field}" must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const str = (field: 'clusterId' | 'dataDir'): string => {
    const value = raw[field] ?? CONFIG_DEFAULTS[field];
    if (typeof value !== 'string' || value.length === 0) throw new ConfigError(`config: "${field}" must be a non-empty string`);
    return value;
  };
  const electionTicks = int('electionTicks', 3, 100_000);
  const heartbeatTicks = int('heartbeatTicks', 1, 100_000);
  if (heartbeatTicks >= electionTicks) {
    throw new ConfigError(`config: "heartbeatTicks" (${heartbeatTicks}) must be below "electionTicks" (${electionTicks})`);
  }
  return {
    clusterId: str('clusterId'),
    nodes,
    dataDir: str('dataDir'),
    tickMs: int('tickMs', 1, 10_000),
    electionTicks,
    heartbeatTicks,
    window: int('window', 1, 100_000),
    maxBatchCommands: int('maxBatchCommands', 1, 1_000_000),
    maxBatchBytes: int('maxBatchBytes', 1024, 256 << 20),
    compactionThreshold: int('compactionThreshold', 10, 100_000_000),
    compactionBytes: int('compactionBytes', 1 << 16, 2 ** 40),
    writeTimeoutMs: int('writeTimeoutMs', 10, 3_600_000),
    idleTransactionTimeoutMs: int('idleTransactionTimeoutMs', 100, 86_400_000),
    idleTransactionPreemptMs: int('idleTransactionPreemptMs', 10, 86_400_000),
    readThreads: int('readThreads', 1, 64),
    auth: parseAuth(raw['auth']),
    users: parseUsers(raw['users']),
    databases: parseDatabases(raw['databases']),
    maxConnections: int('maxConnections', 1, 100_000),
  };
}

function parseNodes(value: unknown): NodeAddress[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError('config: "nodes" must be a non-empty list of {id, host, peerPort, pgPort}');
  }
  if (value.length % 2 === 0) {
    throw new ConfigError(`config: "nodes" has ${value.length} entries; use an odd number (2f+1) so a majority survives f failures`);
  }
  const nodes = value.map((n: unknown, i: number): NodeAddress => {
    const where = `config: nodes[${i}]`;
    if (!isObject(n)) throw new ConfigError(`${where} must be an object {id, host, peerPort, pgPort}`);
    const { id, host, peerPort, pgPort } = n;
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > 1_000_000) throw new ConfigError(`${where}.id must be an integer from 1 to 1000000`);
    if (typeof host !== 'string' || host.length === 0) throw new ConfigError(`${where}.host must be a host name or IP address`);
    for (const [name, port] of [['peerPort', peerPort], ['pgPort', pgPort]] as const) {
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new ConfigError(`${where}.${name} must be a port from 1 to 65535`);
      }
    }
    return { id, host, peerPort: peerPort as number, pgPort: pgPort as number };
  });
  const ids = new Set(nodes.map((n) => n.id));
  if (ids.size !== nodes.length) throw new ConfigError('config: "nodes" ids must be distinct');
  const endpoints = nodes.flatMap((n) => [`${n.host}:${n.peerPort}`, `${n.host}:${n.pgPort}`]);
  if (new Set(endpoints).size !== endpoints.length) throw new ConfigError('config: two nodes (or one node\'s two ports) share a host:port');
  return nodes;
}

function parseAuth(value: unknown): ClusterConfig['auth'] {
  const v = value ?? CONFIG_DEFAULTS.auth;
  if (v === 'trust' || v === 'password' || v === 'md5' || v === 'scram-sha-256') return v;
  throw new ConfigError(`config: "auth" must be one of trust, password, md5, scram-sha-256; got ${JSON.stringify(v)}`);
}

function parseUsers(value: unknown): UserConfig[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError('config: "users" must be a list of {name, password}');
  return value.map((u: unknown, i: number) => {
    if (!isObject(u) || typeof u['name'] !== 'string' || u['name'] === '' || typeof u['password'] !== 'string') {
      throw new ConfigError(`config: users[${i}] must be {"name": string, "password": string}`);
    }
    return { name: u['name'], password: u['password'] };
  });
}

function parseDatabases(value: unknown): string[] {
  if (value === undefined) return [...CONFIG_DEFAULTS.databases];
  if (!Array.isArray(value) || value.length === 0 || !value.every((d) => typeof d === 'string' && d.length > 0)) {
    throw new ConfigError('config: "databases" must be a non-empty list of names');
  }
  return value as string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
