// The final check: every acknowledged write is present on every replica, and
// the replicas are identical. paxosql replicas are compared with
// `SHOW paxosql.checksum` once they have applied the same slot; the workload's
// own check (acknowledged ids, counters, balance sums) runs on each node.

import pg from 'pg';
import type { WorkloadName } from './options.js';
import { classifyError, type LoadOutcome } from './load.js';

export interface ReplicaCheck {
  readonly node: number;
  readonly url: string;
  readonly reachable: boolean;
  /** From SHOW paxosql.checksum (null on a server that is not paxosql). */
  readonly applied: number | null;
  readonly digest: string | null;
  readonly rows: number | null;
  /** Rows of the workload's main table (bench_insert, bench_accounts updates, pgbench_history). */
  readonly workloadRows: number | null;
  /** Acknowledged insert ids that this replica does not have. */
  readonly missingIds: number | null;
  readonly problems: readonly string[];
}

export interface FinalCheck {
  readonly pass: boolean;
  readonly acknowledgedWrites: number;
  readonly acknowledgedIds: number;
  /** True when every replica's checksum is the same; null when the target has no checksum (plain Postgres). */
  readonly checksumsEqual: boolean | null;
  readonly replicas: readonly ReplicaCheck[];
  /** Nodes not checked: killed, and no way to restart them (a --target without --restart-cmd). */
  readonly notChecked: readonly number[];
  readonly problems: readonly string[];
}

export interface CheckedNode {
  readonly node: number;
  readonly url: string;
}

const CONVERGE_TIMEOUT_MS = 30_000;
const POLL_MS = 100;
/** Missing ids listed in the report (the count is always complete). */
const MISSING_SHOWN = 10;

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000, query_timeout: 30_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

interface Status {
  readonly commit: number;
  readonly applied: number;
}

async function paxosqlStatus(url: string): Promise<Status | 'not-paxosql' | null> {
  try {
    return await withClient(url, async (client) => {
      try {
        const r = await client.query<{ 'paxosql.status': string }>('SHOW paxosql.status');
        return JSON.parse(r.rows[0]?.['paxosql.status'] ?? 'null') as Status | null;
      } catch (error) {
        if ((error as { code?: string }).code === '42704') return 'not-paxosql';
        throw error;
      }
    });
  } catch {
    return null;
  }
}

/** Wait until every paxosql node has applied everything any of them committed. Returns false on a plain Postgres target. */
async function waitForConvergence(urls: readonly string[]): Promise<{ paxosql: boolean; converged: boolean }> {
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  for (;;) {
    const statuses = await Promise.all(urls.map(paxosqlStatus));
    if (statuses.every((s) => s === 'not-paxosql')) return { paxosql: false, converged: true };
    const known = statuses.filter((s): s is Status => s !== null && s !== 'not-paxosql');
    if (known.length === urls.length) {
      const top = Math.max(...known.map((s) => s.commit));
      if (known.every((s) => s.applied >= top)) return { paxosql: true, converged: true };
    }
    if (Date.now() > deadline) return { paxosql: true, converged: false };
    await new Promise((done) => setTimeout(done, POLL_MS));
  }
}

export async function finalCheck(nodes: readonly CheckedNode[], notChecked: readonly number[], workload: WorkloadName, outcome: LoadOutcome): Promise<FinalCheck> {
  const problems: string[] = [];
  if (nodes.length === 0) problems.push('no replica is up to check');
  const { paxosql, converged } = await waitForConvergence(nodes.map((n) => n.url));
  if (!converged) problems.push(`replicas did not apply the same slot within ${CONVERGE_TIMEOUT_MS / 1000} s`);
  const acknowledged = new Set(outcome.acknowledgedIds);
  const replicas = await Promise.all(nodes.map((n) => checkReplica(n.node, n.url, paxosql, workload, acknowledged, outcome)));
  for (const r of replicas) for (const p of r.problems) problems.push(`node ${r.node}: ${p}`);
  let checksumsEqual: boolean | null = null;
  if (paxosql) {
    const digests = new Set(replicas.map((r) => `${r.applied}/${r.digest}`));
    checksumsEqual = digests.size === 1 && replicas.every((r) => r.digest !== null);
    if (replicas.some((r) => r.digest === null)) problems.push('checksums could not be compared: not every replica gave one');
    else if (!checksumsEqual) problems.push(`replica checksums differ: ${replicas.map((r) => `node ${r.node} applied ${r.applied} digest ${r.digest?.slice(0, 12)}`).join(', ')}`);
  }
  return {
    pass: problems.length === 0,
    acknowledgedWrites: outcome.acknowledgedWrites,
    acknowledgedIds: acknowledged.size,
    checksumsEqual,
    replicas,
    notChecked,
    problems,
  };
}

async function checkReplica(
  node: number,
  url: string,
  paxosql: boolean,
  workload: WorkloadName,
  acknowledged: ReadonlySet<number>,
  outcome: LoadOutcome,
): Promise<ReplicaCheck> {
  try {
    return await withClient(url, async (client) => {
      const problems: string[] = [];
      const sum = paxosql ? await replicaChecksum(client, problems) : null;
      const w = await checkWorkload(client, workload, acknowledged, outcome, problems);
      return { node, url, reachable: true, applied: sum?.applied ?? null, digest: sum?.digest ?? null, rows: sum?.rows ?? null, ...w, problems };
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { node, url, reachable: false, applied: null, digest: null, rows: null, workloadRows: null, missingIds: null, problems: [`unreachable: ${message}`] };
  }
}

interface Checksum {
  readonly applied: number;
  readonly digest: string;
  readonly rows: number;
}

/** The replica's checksum; a failure is a problem of the check (not of reachability), and the workload check still runs. */
async function replicaChecksum(client: pg.Client, problems: string[]): Promise<Checksum | null> {
  try {
    const r = await client.query<{ 'paxosql.checksum': string }>('SHOW paxosql.checksum');
    return JSON.parse(r.rows[0]?.['paxosql.checksum'] ?? 'null') as Checksum | null;
  } catch (error) {
    const { sqlstate } = classifyError(error);
    problems.push(`SHOW paxosql.checksum failed (${sqlstate}): ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

async function checkWorkload(
  client: pg.Client,
  workload: WorkloadName,
  acknowledged: ReadonlySet<number>,
  outcome: LoadOutcome,
  problems: string[],
): Promise<{ workloadRows: number | null; missingIds: number | null }> {
  switch (workload) {
    case 'insert':
      return checkInserts(client, acknowledged, problems);
    case 'update':
      return checkUpdateCounter(client, outcome, problems);
    case 'tpcb':
      return checkTpcb(client, outcome, problems);
    case 'mixed': {
      const inserts = await checkInserts(client, acknowledged, problems);
      // Acknowledged writes of the mix include the inserts; the counter check only bounds the updates from above.
      await checkUpdateCounter(client, { ...outcome, acknowledgedWrites: 0 }, problems);
      return inserts;
    }
  }
}

async function checkInserts(client: pg.Client, acknowledged: ReadonlySet<number>, problems: string[]): Promise<{ workloadRows: number; missingIds: number }> {
  const r = await client.query<{ id: string }>('SELECT id FROM bench_insert');
  const present = new Set(r.rows.map((row) => Number(row.id)));
  const missing = [...acknowledged].filter((id) => !present.has(id));
  if (missing.length > 0) problems.push(`${missing.length} acknowledged insert(s) missing, e.g. ids ${missing.slice(0, MISSING_SHOWN).join(', ')}`);
  return { workloadRows: present.size, missingIds: missing.length };
}

/** Each acknowledged update added 1 to some row's counter; no more updates can have applied than were sent. */
async function checkUpdateCounter(client: pg.Client, outcome: LoadOutcome, problems: string[]): Promise<{ workloadRows: number; missingIds: null }> {
  const r = await client.query<{ applied: string | null }>('SELECT sum(updates) AS applied FROM bench_accounts');
  const applied = Number(r.rows[0]?.applied ?? 0);
  if (applied < outcome.acknowledgedWrites) problems.push(`${applied} updates applied, fewer than the ${outcome.acknowledgedWrites} acknowledged`);
  if (applied > outcome.writeAttempts) problems.push(`${applied} updates applied, more than the ${outcome.writeAttempts} sent`);
  return { workloadRows: applied, missingIds: null };
}

/** pgbench's consistency rule: branch, teller, account and history balances agree; one history row per committed transaction. */
async function checkTpcb(client: pg.Client, outcome: LoadOutcome, problems: string[]): Promise<{ workloadRows: number; missingIds: null }> {
  const sums = await client.query<{ b: string | null; t: string | null; a: string | null; h: string | null; n: string }>(
    'SELECT (SELECT sum(bbalance) FROM pgbench_branches) AS b, (SELECT sum(tbalance) FROM pgbench_tellers) AS t, ' +
      '(SELECT sum(abalance) FROM pgbench_accounts) AS a, (SELECT sum(delta) FROM pgbench_history) AS h, ' +
      '(SELECT count(*) FROM pgbench_history) AS n',
  );
  const row = sums.rows[0];
  const values = [row?.b, row?.t, row?.a, row?.h].map((v) => Number(v ?? 0));
  if (new Set(values).size !== 1) problems.push(`balances disagree (branches, tellers, accounts, history): ${values.join(', ')}`);
  const committed = Number(row?.n ?? 0);
  if (committed < outcome.acknowledgedWrites) problems.push(`${committed} transactions in pgbench_history, fewer than the ${outcome.acknowledgedWrites} acknowledged`);
  if (committed > outcome.writeAttempts) problems.push(`${committed} transactions in pgbench_history, more than the ${outcome.writeAttempts} sent`);
  return { workloadRows: committed, missingIds: null };
}
