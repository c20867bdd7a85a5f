// A real cluster for end-to-end tests: node processes started the way users
// start them (`paxosql start --config … --node …` from dist/), on free ports,
// in a temporary directory. Every process is killed on teardown.

import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');

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

export interface NodeStatus {
  id: number;
  role: string;
  leader: number | null;
  ballot: string;
  commit: number;
  applied: number;
  logFirstSlot: number;
}

export interface ClusterOptions {
  readonly nodes: number;
  readonly config?: Record<string, unknown>;
}

export class LocalCluster {
  readonly dir: string;
  readonly configPath: string;
  readonly ids: number[];
  private readonly processes = new Map<number, ChildProcess>();
  private readonly logs = new Map<number, WriteStream>();

  private constructor(
    readonly pgPorts: number[],
    peerPorts: number[],
    options: ClusterOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'paxosql-e2e-'));
    this.ids = Array.from({ length: options.nodes }, (_, i) => i + 1);
    const config = {
      clusterId: 'e2e',
      dataDir: join(this.dir, 'data'),
      auth: 'trust',
      tickMs: 10,
      electionTicks: 30,
      heartbeatTicks: 2,
      nodes: this.ids.map((id, i) => ({ id, host: '127.0.0.1', pgPort: pgPorts[i], peerPort: peerPorts[i] })),
      ...options.config,
    };
    this.configPath = join(this.dir, 'cluster.json');
    writeFileSync(this.configPath, JSON.stringify(config, null, 2));
  }

  static async start(options: ClusterOptions): Promise<LocalCluster> {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
    const ports = await freePorts(options.nodes * 2);
    const cluster = new LocalCluster(ports.slice(0, options.nodes), ports.slice(options.nodes), options);
    await Promise.all(cluster.ids.map((id) => cluster.startNode(id)));
    return cluster;
  }

  url(id: number): string {
    return `postgres://tester@127.0.0.1:${this.pgPorts[id - 1]}/paxosql`;
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
      log = createWriteStream(join(this.dir, `node-${id}.log`), { flags: 'a' });
      this.logs.set(id, log);
    }
    const child = spawn(process.execPath, [CLI, 'start', '--config', this.configPath, '--node', String(id), '--log-level', 'info'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.processes.set(id, child);
    child.on('exit', () => {
      if (this.processes.get(id) === child) this.processes.delete(id);
    });
    await this.waitFor(async () => (await this.tryStatus(id)) !== null, 30_000, `node ${id} to serve`);
  }

  /** kill -9 (or another signal), and wait until the process is gone. */
  async kill(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.processes.get(id);
    if (child === undefined) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill(signal);
    await exited;
  }

  /** Delete a (stopped) node's data directory. */
  wipe(id: number): void {
    if (this.processes.has(id)) throw new Error(`stop node ${id} before wiping it`);
    rmSync(join(this.dir, 'data', `node-${id}`), { recursive: true, force: true });
  }

  async tryStatus(id: number): Promise<NodeStatus | null> {
    if (!this.processes.has(id)) return null;
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

  async stop(options: { keepFiles?: boolean } = {}): Promise<void> {
    await Promise.all([...this.processes.keys()].map((id) => this.kill(id)));
    for (const log of this.logs.values()) log.end();
    if (options.keepFiles !== true) rmSync(this.dir, { recursive: true, force: true });
  }
}
