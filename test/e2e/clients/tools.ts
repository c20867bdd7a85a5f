// Shared by the real-client tests: a 3-node cluster whose followers the
// clients talk to, and a bounded way to run an external client program
// (psql, pgbench, python3, javac, java) and collect what it printed.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LocalCluster } from '../harness.js';

/** psycopg2 is installed for the system Python, not for a pyenv one that may come first on PATH. */
export const SYSTEM_PYTHON = '/usr/bin/python3';
export const PGJDBC_JAR = '/usr/share/java/postgresql.jar';

export interface ProgramResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a program to completion, killing it (SIGKILL) after `timeoutMs`. Never
 * rejects for a non-zero exit: the test asserts on the result. Rejects when the
 * program cannot be started (not installed), with the install hint.
 */
export function runProgram(
  command: string,
  args: readonly string[],
  options: { timeoutMs: number; input?: string; env?: Record<string, string> },
): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command}: ${error.message} (CI installs it: apt-get install -y postgresql-15 python3-psycopg2 libpostgresql-jdbc-java default-jdk-headless)`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Fails at once, naming the package, when a client this suite drives is not installed. */
export function requireFile(path: string, what: string): void {
  if (!existsSync(path)) throw new Error(`${what} is missing at ${path} (apt-get install -y postgresql-15 python3-psycopg2 libpostgresql-jdbc-java)`);
}

/** A started 3-node cluster with a leader, and one of its followers (clients connect there: every request is forwarded). */
export async function startCluster(config: Record<string, unknown> = {}): Promise<{ cluster: LocalCluster; follower: number; leader: number }> {
  const cluster = await LocalCluster.start({ nodes: 3, config, logLevel: 'warn' });
  try {
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader) as number;
    return { cluster, follower, leader };
  } catch (error) {
    await cluster.stop();
    throw error;
  }
}
