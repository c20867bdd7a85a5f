// The parameters of one `paxosql bench` run, and the parsing of the few
// option strings that are not plain numbers (durations, the kill schedule).

export type WorkloadName = 'insert' | 'update' | 'tpcb' | 'mixed';
export type ProtocolName = 'simple' | 'extended' | 'prepared';

export const WORKLOADS: readonly WorkloadName[] = ['insert', 'update', 'tpcb', 'mixed'];
export const PROTOCOLS: readonly ProtocolName[] = ['simple', 'extended', 'prepared'];

/** Which node a scheduled kill hits: the leader or a follower at that moment, or a fixed node id. */
export type KillVictim = { readonly role: 'leader' } | { readonly role: 'follower' } | { readonly role: 'node'; readonly id: number };

export interface KillSpec {
  readonly victim: KillVictim;
  /** Milliseconds after the start of the load. */
  readonly atMs: number;
}

export interface BenchOptions {
  /** Cluster size when the bench starts its own cluster (ignored with targets). */
  readonly nodes: number;
  readonly clients: number;
  readonly durationMs: number;
  readonly workload: WorkloadName;
  readonly protocol: ProtocolName;
  readonly kills: readonly KillSpec[];
  /** Restart a killed node this long after its kill; null: leave it down until the final check. */
  readonly restartAfterMs: number | null;
  /** Existing servers to drive (postgres:// URLs); empty: start a local cluster. */
  readonly targets: readonly string[];
  /** Shell template that kills a node of a target: {node} {host} {port} {url} are substituted. */
  readonly killCmd: string | null;
  /** Shell template that restarts a node of a target (same placeholders). */
  readonly restartCmd: string | null;
  readonly outDir: string;
  /** A client's operation that has not finished after this long is abandoned and retried elsewhere. */
  readonly opTimeoutMs: number;
  /** Seed for the workload's choice of keys and values (printed in results.json). */
  readonly seed: number;
  /** Rows of the accounts table for the update, mixed and tpcb workloads. */
  readonly accounts: number;
}

export const DEFAULT_OPTIONS: Omit<BenchOptions, 'outDir'> = {
  nodes: 3,
  clients: 64,
  durationMs: 60_000,
  workload: 'insert',
  protocol: 'extended',
  kills: [],
  restartAfterMs: null,
  targets: [],
  killCmd: null,
  restartCmd: null,
  opTimeoutMs: 5_000,
  seed: 1,
  accounts: 100_000,
};

export class BenchOptionError extends Error {
  override readonly name = 'BenchOptionError';
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** "20s", "500ms", "1m", or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (match === null) throw new BenchOptionError(`"${text}" is not a duration (examples: 20s, 500ms, 1m, 60)`);
  const value = Number(match[1]);
  const unit = UNIT_MS[match[2] ?? 's'] as number;
  return Math.round(value * unit);
}

/** "leader@20s,follower@40s,node2@30s" → kill specs ordered by time. */
export function parseKills(text: string): KillSpec[] {
  const kills: KillSpec[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p.length > 0)) {
    const at = part.indexOf('@');
    if (at < 0) throw new BenchOptionError(`kill "${part}" needs a time: leader@20s, follower@40s or node2@30s`);
    const who = part.slice(0, at).trim().toLowerCase();
    const atMs = parseDuration(part.slice(at + 1));
    kills.push({ victim: parseVictim(who, part), atMs });
  }
  return kills.sort((a, b) => a.atMs - b.atMs);
}

function parseVictim(who: string, part: string): KillVictim {
  if (who === 'leader' || who === 'follower') return { role: who };
  const node = /^node(\d+)$/.exec(who);
  if (node !== null) return { role: 'node', id: Number(node[1]) };
  throw new BenchOptionError(`kill "${part}": say leader, follower or node<id> before the @`);
}

export function describeVictim(victim: KillVictim): string {
  return victim.role === 'node' ? `node${victim.id}` : victim.role;
}

/** Refuse combinations that cannot run, with a message naming the option to change. */
export function validateOptions(options: BenchOptions): void {
  if (options.targets.length === 0 && ![1, 3, 5, 7].includes(options.nodes)) {
    throw new BenchOptionError(`--nodes ${options.nodes}: a local cluster has 1, 3, 5 or 7 nodes`);
  }
  if (options.clients < 1 || options.clients > 10_000) throw new BenchOptionError('--clients must be from 1 to 10000');
  if (options.durationMs < 1000) throw new BenchOptionError('--duration must be at least 1s');
  for (const kill of options.kills) {
    if (kill.atMs >= options.durationMs) {
      throw new BenchOptionError(`kill ${describeVictim(kill.victim)}@${kill.atMs / 1000}s is not before the end of the run (--duration ${options.durationMs / 1000}s)`);
    }
    const size = options.targets.length > 0 ? options.targets.length : options.nodes;
    if (kill.victim.role === 'node' && (kill.victim.id < 1 || kill.victim.id > size)) {
      throw new BenchOptionError(`kill node${kill.victim.id}: there are nodes 1 to ${size}`);
    }
  }
  if (options.kills.length > 0 && options.targets.length > 0 && options.killCmd === null) {
    throw new BenchOptionError('--kill with --target needs --kill-cmd (a shell command template; {node} {host} {port} {url} are substituted)');
  }
  if (options.accounts < 10 || options.accounts > 10_000_000) throw new BenchOptionError('--accounts must be from 10 to 10000000');
}
