// A cluster of node processes on this machine, started the way users start
// them (`paxosql start --config … --node …` from dist/): used by `paxosql
// dev`, `paxosql bench`, the end-to-end tests and the fault tests. It can kill
// (-9), pause (SIGSTOP), resume, wipe and restart nodes. Ports are free ports
// unless given; files go to a temporary directory unless given.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import pg from 'pg';
import { NODE_ENV, NODE_V8_FLAGS } from './process-settings.js';

/**
 * Node processes, and temporary directories of started clusters, not stopped yet. If
 * this process exits without stop() — an uncaught error, process.exit(), a
 * signal handler that exits, `paxosql bench | head` (EPIPE) — its nodes must
 * not live on as orphans, serving nobody and burning CPU: they are killed and
 * their temporary directories removed in the exit hook (which may only do
 * synchronous work).
 */
const liveNodes = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let exitHookInstalled = false;

function cleanUpOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of liveNodes) child.kill('SIGKILL');
    for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** The compiled CLI, also when this module runs from TypeScript sources (tests). */
export const CLI = (() => {
  const here = import.meta.dirname;
  const root = here.includes('/dist/') ? here.slice(0, here.lastIndexOf('/dist/')) : resolve(here, '..', '..');
  return join(root, 'dist', 'src', 'cli', 'main.js');
})();

export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import('node:net').Server>((done) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => done(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as import('node:net').AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

/** A node process ended while it was being started. */
export class NodeExitedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NodeExitedError';
  }
}

export interface NodeStatus {
  id: number;
  role: string;
  leader: number | null;
  ballot: string;
  commit: number;
  applied: number;
  logFirstSlot: number;
  /** 'yes', or why not (a node that started with no state votes once it has caught up). */
  voting: string;
}

export interface ClusterOptions {
  readonly nodes: number;
  /** Fields of the config file beyond the defaults here (e.g. compactionThreshold). */
  readonly config?: Record<string, unknown>;
  /** Where to keep config, data and logs; default a new temporary directory (removed by stop()). */
  readonly dir?: string;
  /** Postgres port of node 1 (node i: basePort + i - 1); default free ports. */
  readonly basePort?: number;
  /** Peer port of node 1; default basePort + 1000, or free ports. */
  readonly peerBasePort?: number;
  readonly logLevel?: string;
  /** Change the config one node reads (e.g. point its peers at fault-injecting proxies). */
  readonly configFor?: (id: number, config: Record<string, unknown>) => Record<string, unknown>;
  /** Told when a node process exits without kill() or stop() asking it to. */
  readonly onUnexpectedExit?: (id: number, code: number | null, signal: NodeJS.Signals | null) => void;
}

export class LocalCluster {
  readonly dir: string;
  /** The shared config file (`paxosql status --config` reads it). */
  readonly configPath: string;
  readonly ids: number[];
  private readonly ownsDir: boolean;
  private readonly logLevel: string;
  private readonly processes = new Map<number, ChildProcess>();
  private readonly paused = new Set<number>();
  private readonly logs = new Map<number, WriteStream>();
  private readonly expectingExit = new Set<number>();
  private readonly onUnexpectedExit: ClusterOptions['onUnexpectedExit'];

  private constructor(
    readonly pgPorts: number[],
    readonly peerPorts: number[],
    options: ClusterOptions,
  ) {
    this.ownsDir = options.dir === undefined;
    this.dir = options.dir ?? mkdtempSync(join(tmpdir(), 'paxosql-'));
    mkdirSync(this.dir, { recursive: true });
    cleanUpOnExit();
    this.logLevel = options.logLevel ?? 'info';
    this.onUnexpectedExit = options.onUnexpectedExit;
    this.ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
    const config: Record<string, unknown> = {
      // One id per cluster directory: test files run in parallel, and a node
      // dialing a port that another cluster's node took over (a killed node's
      // port, reused) must be refused at the handshake, not join in.
      clusterId: `local-${basename(this.dir)}`,
      dataDir: join(this.dir, 'data'),
      auth: 'trust',
      tickMs: 10,
      // Half a second to a second: elections stay rare on a busy test machine
      // and a lost leader is still replaced well within two seconds.
      electionTicks: 50,
      heartbeatTicks: 2,
      nodes: this.ids.map((id, i) => ({ id, host: '127.0.0.1', pgPort: pgPorts[i], peerPort: peerPorts[i] })),
      ...options.config,
    };
    this.configPath = join(this.dir, 'cluster.json');
    writeFileSync(this.configPath, JSON.stringify(config, null, 2) + '\n');
    for (const id of this.ids) {
      const own = options.configFor?.(id, structuredClone(config));
      if (own !== undefined) writeFileSync(this.ownConfigPath(id), JSON.stringify(own, null, 2) + '\n');
    }
  }

  /**
   * Start a cluster and wait until every node serves Postgres clients and
   * votes. With ports of our choosing, a start that lost a port to another
   * process between choosing and binding it (parallel test files do this) is
   * retried on fresh ports.
   */
  static async start(options: ClusterOptions): Promise<LocalCluster> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    for (let attempt = 1; ; attempt++) {
      try {
        return await LocalCluster.startOnce(options);
      } catch (error) {
        const retry = options.basePort === undefined && options.dir === undefined && error instanceof NodeExitedError && attempt < 3;
        if (!retry) throw error;
      }
    }
  }

  private static async startOnce(options: ClusterOptions): Promise<LocalCluster> {
    let pgPorts: number[];
    let peerPorts: number[];
    if (options.basePort === undefined) {
      const ports = await freePorts(options.nodes * 2);
      pgPorts = ports.slice(0, options.nodes);
      peerPorts = ports.slice(options.nodes);
    } else {
      const base = options.basePort;
      const peerBase = options.peerBasePort ?? base + 1000;
      pgPorts = Array.from({ length: options.nodes }, (_, i) => base + i);
      peerPorts = Array.from({ length: options.nodes }, (_, i) => peerBase + i);
    }
    const cluster = new LocalCluster(pgPorts, peerPorts, options);
    try {
      await Promise.all(cluster.ids.map((id) => cluster.startNode(id)));
      // Every node a voting member before anyone relies on the cluster: a node
      // that came up after the others had chosen a slot (a slow start) votes
      // only once it has caught up, and until then a 5-node cluster with two
      // nodes down would have two voters of five.
      await cluster.waitFor(async () => (await cluster.statuses()).filter((s) => s.voting === 'yes').length === cluster.ids.length, 60_000, 'every node to vote');
    } catch (error) {
      // A port lost to another process is not worth keeping the files for (stop() never removes a directory given to us).
      await cluster.stop({ keepFiles: !(error instanceof NodeExitedError) });
      throw error;
    }
    // Removed at exit unless stopped first; one still starting keeps its logs (a start that hung).
    if (cluster.ownsDir) ownedDirs.add(cluster.dir);
    return cluster;
  }

  /** The config file node `id` runs with (its own, when configFor gave one). */
  nodeConfigPath(id: number): string {
    const own = this.ownConfigPath(id);
    return existsSync(own) ? own : this.configPath;
  }

  private ownConfigPath(id: number): string {
    return join(this.dir, `cluster-node-${id}.json`);
  }

  logPath(id: number): string {
    return join(this.dir, `node-${id}.log`);
  }

  url(id: number, user = 'paxosql'): string {
    return `postgres://${user}@127.0.0.1:${this.pgPorts[id - 1]}/paxosql`;
  }

  async client(id: number): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: this.url(id), connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined); // a killed node drops the connection; the test sees the query fail
    await client.connect();
    return client;
  }

  /** One query on a fresh connection. */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(id: number, sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    const client = await this.client(id);
    try {
      return await client.query<R>(sql, params);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  isRunning(id: number): boolean {
    return this.processes.has(id);
  }

  async startNode(id: number): Promise<void> {
    if (this.processes.has(id)) throw new Error(`node ${id} is already running`);
    let log = this.logs.get(id);
    if (log === undefined) {
      log = createWriteStream(this.logPath(id), { flags: 'a' });
      this.logs.set(id, log);
    }
    const child = spawn(process.execPath, [...NODE_V8_FLAGS, CLI, 'start', '--config', this.nodeConfigPath(id), '--node', String(id), '--log-level', this.logLevel], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...NODE_ENV },
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.processes.set(id, child);
    liveNodes.add(child);
    child.on('exit', (code, signal) => {
      liveNodes.delete(child);
      if (this.processes.get(id) === child) this.processes.delete(id);
      this.paused.delete(id);
      if (!this.expectingExit.delete(id)) this.onUnexpectedExit?.(id, code, signal);
    });
    // Generous: on a loaded two-core machine a node's worker threads take a while to load the SQL parser.
    // A node that exits meanwhile (its port taken, a bad config) fails the start at once.
    await this.waitFor(async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new NodeExitedError(`node ${id} exited (${child.signalCode ?? `code ${child.exitCode}`}) before serving; see ${this.logPath(id)}`);
      }
      return (await this.tryStatus(id)) !== null;
    }, 60_000, `node ${id} to serve`);
  }

  /** kill -9 (or another signal), and wait until the process is gone. */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.processes.get(id);
    if (child === undefined) return;
    const exited = new Promise((done) => child.once('exit', done));
    this.expectingExit.add(id);
    child.kill(signal);
    if (this.paused.has(id)) child.kill('SIGCONT'); // a stopped process only dies of SIGKILL otherwise
    await exited;
  }

  /** SIGSTOP: the process stays, frozen (a long GC pause, a stuck VM). */
  pause(id: number): void {
    const child = this.processes.get(id);
    if (child === undefined || this.paused.has(id)) return;
    child.kill('SIGSTOP');
    this.paused.add(id);
  }

  resume(id: number): void {
    const child = this.processes.get(id);
    if (child === undefined || !this.paused.has(id)) return;
    child.kill('SIGCONT');
    this.paused.delete(id);
  }

  isPaused(id: number): boolean {
    return this.paused.has(id);
  }

  pid(id: number): number | undefined {
    return this.processes.get(id)?.pid;
  }

  /** Delete a (stopped) node's data directory. */
  wipe(id: number): void {
    if (this.processes.has(id)) throw new Error(`stop node ${id} before wiping it`);
    rmSync(join(this.dir, 'data', `node-${id}`), { recursive: true, force: true });
  }

  async tryStatus(id: number): Promise<NodeStatus | null> {
    if (!this.processes.has(id) || this.paused.has(id)) return null;
    try {
      const r = await this.query<{ 'paxosql.status': string }>(id, 'SHOW paxosql.status');
      return JSON.parse(r.rows[0]!['paxosql.status']) as NodeStatus;
    } catch {
      return null;
    }
  }

  async statuses(): Promise<NodeStatus[]> {
    const all = await Promise.all(this.ids.map((id) => this.tryStatus(id)));
    return all.filter((s): s is NodeStatus => s !== null);
  }

  /** The node that says it leads and that the others follow. */
  async waitForLeader(timeoutMs = 10_000): Promise<number> {
    let leader = -1;
    await this.waitFor(async () => {
      const s = await this.statuses();
      const leaders = s.filter((x) => x.role === 'leader');
      if (leaders.length !== 1) return false;
      leader = leaders[0]!.id;
      return true;
    }, timeoutMs, 'a leader');
    return leader;
  }

  async checksum(id: number): Promise<{ applied: number; digest: string; rows: number }> {
    const r = await this.query<{ 'paxosql.checksum': string }>(id, 'SHOW paxosql.checksum');
    return JSON.parse(r.rows[0]!['paxosql.checksum']) as { applied: number; digest: string; rows: number };
  }

  /** Wait until every running node applied the same slot, then return their checksums. */
  async convergedChecksums(timeoutMs = 20_000): Promise<{ applied: number; digest: string; rows: number }[]> {
    let sums: { applied: number; digest: string; rows: number }[] = [];
    await this.waitFor(async () => {
      const running = this.ids.filter((id) => this.isRunning(id));
      const statuses = await Promise.all(running.map((id) => this.tryStatus(id)));
      if (statuses.some((s) => s === null)) return false;
      const top = Math.max(...statuses.map((s) => s!.commit));
      if (!statuses.every((s) => s!.applied === top)) return false;
      sums = await Promise.all(running.map((id) => this.checksum(id)));
      return sums.every((s) => s.applied === top);
    }, timeoutMs, 'replicas to converge');
    return sums;
  }

  /** Poll `check` every 50 ms until it holds; the condition is the event. */
  async waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await check()) return;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (logs in ${this.dir})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop every node (SIGKILL by default; SIGTERM for a clean shutdown) and remove the files we created. */
  async stop(options: { keepFiles?: boolean; signal?: NodeJS.Signals } = {}): Promise<void> {
    await Promise.all([...this.processes.keys()].map((id) => this.kill(id, options.signal ?? 'SIGKILL')));
    for (const log of this.logs.values()) log.end();
    ownedDirs.delete(this.dir);
    if (this.ownsDir && options.keepFiles !== true) rmSync(this.dir, { recursive: true, force: true });
  }
}
