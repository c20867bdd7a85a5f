// Killing and restarting nodes during the run: the scheduled failure events.
// A FaultDriver knows how to find the leader and how to kill and restart a
// node, either of the bench's own LocalCluster or, through shell command
// templates (--kill-cmd, --restart-cmd), of an existing deployment.

import { exec } from 'node:child_process';
import pg from 'pg';
import type { Logger } from 'pino';
import type { LocalCluster } from '../cluster/local.js';
import { describeVictim, type KillSpec } from './options.js';

export interface BenchEvent {
  readonly kind: 'kill' | 'restart' | 'elected';
  /** Milliseconds since the start of the load. */
  readonly atMs: number;
  readonly node: number;
  /** For kills: what the schedule asked for (leader, follower, node2). */
  readonly victim?: string;
  /** For kills: the role the node had when it was killed. */
  readonly role?: string;
}

export interface FaultDriver {
  /** Node ids, 1-based, in the order of the URLs. */
  readonly ids: readonly number[];
  /** The node that leads now, or null when none does (or the target is not paxosql). */
  leader(): Promise<number | null>;
  isDown(id: number): boolean;
  /**
   * When the node is gone: right when kill() is called (a signal to a process we own), or only
   * by the time it returns (a shell command that finds the process first, perhaps over ssh).
   */
  readonly killTakesEffect: 'at-call' | 'by-return';
  kill(id: number): Promise<void>;
  restart(id: number): Promise<void>;
}

export class LocalClusterFaults implements FaultDriver {
  readonly ids: readonly number[];
  readonly killTakesEffect = 'at-call';
  constructor(private readonly cluster: LocalCluster) {
    this.ids = cluster.ids;
  }
  async leader(): Promise<number | null> {
    const statuses = await this.cluster.statuses();
    return statuses.find((s) => s.role === 'leader')?.id ?? null;
  }
  isDown(id: number): boolean {
    return !this.cluster.isRunning(id);
  }
  kill(id: number): Promise<void> {
    return this.cluster.kill(id);
  }
  restart(id: number): Promise<void> {
    return this.cluster.startNode(id);
  }
}

/** Nodes of an existing deployment, killed and restarted by shell commands. */
export class CommandFaults implements FaultDriver {
  readonly ids: readonly number[];
  readonly killTakesEffect = 'by-return';
  private readonly down = new Set<number>();
  constructor(
    private readonly urls: readonly string[],
    private readonly killCmd: string | null,
    private readonly restartCmd: string | null,
    private readonly logger: Logger,
  ) {
    this.ids = urls.map((_, i) => i + 1);
  }

  /** Ask every node for its status; a target that is not paxosql has none, and then node 1 (the primary) counts as leader. */
  async leader(): Promise<number | null> {
    const roles = await Promise.all(this.urls.map((url) => paxosqlRole(url)));
    const leaderIndex = roles.findIndex((r) => r === 'leader');
    if (leaderIndex >= 0) return leaderIndex + 1;
    if (roles.every((r) => r === 'not-paxosql' || r === 'down')) return this.down.has(1) ? null : 1;
    return null;
  }
  isDown(id: number): boolean {
    return this.down.has(id);
  }
  async kill(id: number): Promise<void> {
    if (this.killCmd === null) throw new Error('no --kill-cmd to kill a node of the target');
    await runShell(fillTemplate(this.killCmd, id, this.urls[id - 1] as string), this.logger);
    this.down.add(id);
  }
  async restart(id: number): Promise<void> {
    if (this.restartCmd === null) return;
    await runShell(fillTemplate(this.restartCmd, id, this.urls[id - 1] as string), this.logger);
    this.down.delete(id);
  }
}

type Role = 'leader' | 'follower' | 'candidate' | 'down' | 'not-paxosql';

async function paxosqlRole(url: string): Promise<Role> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000, query_timeout: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch {
    await client.end().catch(() => undefined);
    return 'down';
  }
  try {
    const r = await client.query<{ 'paxosql.status': string }>('SHOW paxosql.status');
    const status = JSON.parse(r.rows[0]?.['paxosql.status'] ?? '{}') as { role?: string };
    return status.role === 'leader' ? 'leader' : status.role === 'follower' ? 'follower' : 'candidate';
  } catch (error) {
    // Postgres answers 42704 (unrecognized configuration parameter).
    return (error as { code?: string }).code === '42704' ? 'not-paxosql' : 'down';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Substitute {node}, {host}, {port} and {url} of node `id` into a shell command template. */
export function fillTemplate(template: string, id: number, url: string): string {
  const parsed = new URL(url);
  return template
    .replaceAll('{node}', String(id))
    .replaceAll('{host}', parsed.hostname)
    .replaceAll('{port}', parsed.port || '5432')
    .replaceAll('{url}', url);
}

function runShell(command: string, logger: Logger): Promise<void> {
  return new Promise((done, fail) => {
    exec(command, { timeout: 30_000 }, (error, stdout, stderr) => {
      logger.info({ command, stdout, stderr }, 'ran fault command');
      if (error !== null) fail(new Error(`"${command}" failed: ${error.message}`));
      else done();
    });
  });
}

export interface ScheduleParameters {
  readonly driver: FaultDriver;
  readonly kills: readonly KillSpec[];
  readonly restartAfterMs: number | null;
  readonly endMs: number;
  readonly now: () => number;
  readonly onEvent: (event: BenchEvent) => void;
  readonly logger: Logger;
}

/** How long to look for a leader before giving up on a "leader" kill, and for a new one after it. */
const LEADER_WAIT_MS = 10_000;
const POLL_MS = 50;

/** Carry out the kill schedule (and the restarts) and return every event, in time order. */
export async function runSchedule(p: ScheduleParameters): Promise<BenchEvent[]> {
  const events: BenchEvent[] = [];
  const record = (event: BenchEvent): void => {
    events.push(event);
    p.onEvent(event);
  };
  const pending: Promise<void>[] = [];
  for (const kill of p.kills) {
    await sleepUntil(p.now, kill.atMs);
    const victim = await chooseVictim(p, kill);
    if (victim === null) {
      p.logger.warn({ kill: describeVictim(kill.victim) }, 'no node to kill at this moment; skipped');
      continue;
    }
    const calledAt = p.now();
    await p.driver.kill(victim.id);
    // Measuring the outage from a moment the node may still have been serving would understate it.
    const killedAt = p.driver.killTakesEffect === 'at-call' ? calledAt : p.now();
    record({ kind: 'kill', atMs: killedAt, node: victim.id, victim: describeVictim(kill.victim), role: victim.role });
    if (victim.role === 'leader') pending.push(watchForNewLeader(p, victim.id, record));
    if (p.restartAfterMs !== null && killedAt + p.restartAfterMs < p.endMs) {
      pending.push(restartLater(p, victim.id, killedAt + p.restartAfterMs, record));
    }
  }
  await Promise.all(pending);
  return events.sort((a, b) => a.atMs - b.atMs);
}

async function chooseVictim(p: ScheduleParameters, kill: KillSpec): Promise<{ id: number; role: string } | null> {
  const deadline = p.now() + LEADER_WAIT_MS;
  for (;;) {
    const leader = await p.driver.leader();
    const roleOf = (id: number): string => (id === leader ? 'leader' : 'follower');
    if (kill.victim.role === 'node') return p.driver.isDown(kill.victim.id) ? null : { id: kill.victim.id, role: roleOf(kill.victim.id) };
    if (leader !== null) {
      if (kill.victim.role === 'leader') return { id: leader, role: 'leader' };
      const follower = p.driver.ids.find((id) => id !== leader && !p.driver.isDown(id));
      return follower === undefined ? null : { id: follower, role: 'follower' };
    }
    // No leader right now (an election is under way): wait for one, bounded.
    if (p.now() > deadline || p.now() >= p.endMs) return null;
    await sleep(POLL_MS);
  }
}

async function watchForNewLeader(p: ScheduleParameters, old: number, record: (e: BenchEvent) => void): Promise<void> {
  const deadline = p.now() + LEADER_WAIT_MS;
  while (p.now() < deadline && p.now() < p.endMs) {
    const leader = await p.driver.leader();
    if (leader !== null && leader !== old) {
      record({ kind: 'elected', atMs: p.now(), node: leader });
      return;
    }
    await sleep(POLL_MS);
  }
}

async function restartLater(p: ScheduleParameters, id: number, atMs: number, record: (e: BenchEvent) => void): Promise<void> {
  await sleepUntil(p.now, atMs);
  // Recorded when issued: starting a node takes a while (it waits until the node serves), and the timeline marks the decision.
  record({ kind: 'restart', atMs: p.now(), node: id });
  await p.driver.restart(id);
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

async function sleepUntil(now: () => number, atMs: number): Promise<void> {
  const wait = atMs - now();
  if (wait > 0) await sleep(wait);
}
