// The paxosql command as users run it: `dev` starts a local cluster of
// separate processes and prints psql URLs, `status` reports every node, bad
// input gets a message that says what to fix.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, freePorts } from './harness.js';

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A port p such that p, p+1, p+2 and p+1000, p+1001, p+1002 are all free now (`paxosql dev` uses them). */
async function freeDevBasePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const [base] = await freePorts(1);
    if (base === undefined || base > 60_000) continue;
    const wanted = [0, 1, 2, 1000, 1001, 1002].map((d) => base + d);
    if ((await Promise.all(wanted.map(canBind))).every(Boolean)) return base;
  }
  throw new Error('no free port range for paxosql dev');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** Resolves with everything printed up to (and including) the line matching `pattern`. */
function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; got:\n${out}\nstderr:\n${err}`)), timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}; got:\n${out}\nstderr:\n${err}`));
    });
  });
}

describe('paxosql dev', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paxosql-dev-'));
  let child: ChildProcess | null = null;
  afterAll(() => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts a 3-node cluster, prints a psql URL per node, serves them, and stops cleanly on SIGTERM', async () => {
    const base = await freeDevBasePort();
    child = spawn(process.execPath, [CLI, 'dev', '--data', join(dir, 'data'), '--base-port', String(base)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = await waitForOutput(child, /^ready\./m, 90_000);
    const urls = [...out.matchAll(/psql (postgres:\/\/\S+)/g)].map((m) => m[1]!);
    expect(urls).toEqual([1, 2, 3].map((i) => `postgres://paxosql@127.0.0.1:${base + i - 1}/paxosql`));
    expect(out).toMatch(/trust/);

    const first = new pg.Client(urls[0]);
    await first.connect();
    await first.query('CREATE TABLE hello (id INTEGER PRIMARY KEY, word TEXT)');
    await first.query("INSERT INTO hello VALUES (1, 'world')");
    await first.end();
    const last = new pg.Client(urls[2]);
    await last.connect();
    expect((await last.query('SELECT word FROM hello')).rows).toEqual([{ word: 'world' }]);
    await last.end();

    const status = run(['status', '--config', join(dir, 'data', 'cluster.json')]);
    expect(status.status).toBe(0);
    const lines = status.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^node\s+address\s+role\s+leader\s+ballot\s+commit\s+applied\s+lag$/);
    expect(lines.slice(1).filter((l) => /\bleader\b/.test(l.split(/\s+/)[2] ?? ''))).toHaveLength(1);

    const exited = new Promise<number | null>((done) => child!.on('exit', (code) => done(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    child = null;
  });
});

/** Pids of the processes whose command line mentions `text` (here: a cluster's directory). */
function pidsMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('paxosql bench, interrupted', () => {
  const out = mkdtempSync(join(tmpdir(), 'paxosql-bench-cli-'));
  const leftovers: number[] = [];
  afterAll(() => {
    for (const pid of leftovers) if (alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(out, { recursive: true, force: true });
  });

  /** Starts a 30 s bench, waits for its first progress line; returns it, its cluster directory and its nodes' pids. */
  async function startBench(name: string): Promise<{ child: ChildProcess; dir: string; nodes: number[] }> {
    const child = spawn(process.execPath, [CLI, 'bench', '--duration', '30s', '--clients', '4', '--out', join(out, name)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const printed = await waitForOutput(child, /^\s+1s\s+writes\/s/m, 90_000);
    const dir = /cluster in (\S+)/.exec(printed)?.[1];
    expect(dir).toBeDefined();
    const nodes = pidsMentioning(dir!);
    leftovers.push(...nodes);
    expect(nodes).toHaveLength(3);
    return { child, dir: dir!, nodes };
  }

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s stops the run and its nodes, and removes the cluster directory', async (signal, code) => {
    const { child, dir, nodes } = await startBench(signal);
    const exited = new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    child.kill(signal);
    expect(await exited).toBe(code);
    await waitUntil(() => nodes.every((pid) => !alive(pid)), 10_000, 'the nodes to be gone');
    expect(existsSync(dir)).toBe(false);
  });

  it('a reader that stops reading (paxosql bench | head) ends the run and its nodes too', async () => {
    const { child, nodes } = await startBench('epipe');
    const exited = new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    child.stdout?.destroy(); // the next progress line meets a closed pipe
    expect(await exited).toBe(141);
    await waitUntil(() => nodes.every((pid) => !alive(pid)), 10_000, 'the nodes to be gone');
  });
});

describe('paxosql command line', () => {
  it('every command has --help', () => {
    for (const args of [['--help'], ['start', '--help'], ['dev', '--help'], ['status', '--help'], ['passwd', '--help']]) {
      const r = run(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/Usage: paxosql/);
    }
  });

  it('says what to fix for a bad config or node id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'paxosql-cli-'));
    try {
      const path = join(dir, 'c.json');
      writeFileSync(path, JSON.stringify({ nodes: [{ id: 1, host: '127.0.0.1', peerPort: 1, pgPort: 0 }] }));
      let r = run(['start', '--config', path, '--node', '1']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/nodes\[0\]\.pgPort must be a port from 1 to 65535/);
      writeFileSync(path, JSON.stringify({ nodes: [{ id: 1, host: '127.0.0.1', peerPort: 7001, pgPort: 5001 }] }));
      r = run(['start', '--config', path, '--node', '4']);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--node 4 is not in .* \(its nodes are 1\)/);
      r = run(['dev', '--nodes', '4']);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/Allowed choices are 1, 3, 5, 7/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('dev on a port that is taken fails at once and says which node and where its log is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paxosql-cli-'));
    const base = await freeDevBasePort();
    const squatter = createServer();
    await new Promise<void>((done) => squatter.listen(base, '127.0.0.1', () => done()));
    try {
      const r = spawnSync(process.execPath, [CLI, 'dev', '--data', join(dir, 'data'), '--base-port', String(base)], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(1);
      // Noticed when the node exits, not after the 60 s a start gives a slow node.
      expect(r.stderr).toMatch(/the cluster did not start: node 1 exited \(code \d+\) before serving; see .*node-1\.log/);
    } finally {
      squatter.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('passwd prints a SCRAM-SHA-256 verifier', () => {
    const r = run(['passwd', 'secret']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  });
});
