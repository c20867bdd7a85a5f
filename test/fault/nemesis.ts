// The fault injector ("nemesis"): a schedule of faults drawn from the seed,
// carried out one at a time against real node processes and the proxies on
// their peer links, each recorded in the history (process -1) when it starts
// and when it is healed.
//
//   kill       kill -9 a node (the leader, or any node), restart it later
//   pause      SIGSTOP a node (the leader, a follower or any), SIGCONT later
//   partition  cut peer links through the proxies: a majority/minority split,
//              the leader isolated, a follower isolated, a bridge (two sides
//              that only one node joins), a ring (5+ nodes: each node hears
//              only its neighbours), or the leader's outgoing links only;
//              clients keep their Postgres connections throughout
//   wipe       kill -9 a node, delete its data directory, restart it: it must
//              rejoin through a snapshot (compaction keeps the log short)
//
// One fault at a time, healed before the next. A wipe also waits until the
// wiped node has caught up before the next fault: the node comes back with no
// promises and no accepted values, so a second failure before it has
// re-replicated would be a double fault that no majority-quorum protocol
// survives, not a bug this test should report.

import type { LocalCluster, NodeStatus } from '../../src/cluster/local.js';
import { createRandom, type Random } from '../../src/util/random.js';
import type { HistoryRecorder, JsonValue } from './checker/index.js';
import { linksBetweenGroups, type CutMode, type Link, type ProxyMesh } from './proxy.js';

export const NEMESIS_KINDS = ['kill', 'pause', 'partition', 'wipe'] as const;
export type NemesisKind = (typeof NEMESIS_KINDS)[number];

export type TargetRole = 'leader' | 'follower' | 'any';
export const PARTITION_SHAPES = ['majority-minority', 'isolate-leader', 'isolate-follower', 'bridge', 'ring', 'leader-cannot-send'] as const;
export type PartitionShape = (typeof PARTITION_SHAPES)[number];

export type FaultPlan =
  | { readonly kind: 'kill'; readonly target: TargetRole; readonly holdMs: number; readonly gapMs: number }
  | { readonly kind: 'pause'; readonly target: TargetRole; readonly holdMs: number; readonly gapMs: number }
  | { readonly kind: 'partition'; readonly shape: PartitionShape; readonly mode: CutMode; readonly holdMs: number; readonly gapMs: number }
  | { readonly kind: 'wipe'; readonly target: TargetRole; readonly holdMs: number; readonly gapMs: number };

/** Process number of nemesis events in the history. */
export const NEMESIS_PROCESS = -1;

/** Most faults planned for one run (a 60 s run uses about a dozen). */
const MAX_PLANNED_FAULTS = 10_000;
/** How long a wiped node may take to catch up before the run reports it. */
const CATCH_UP_TIMEOUT_MS = 30_000;

export interface PlanOptions {
  readonly seed: number;
  readonly kinds: readonly NemesisKind[];
  readonly windowMs: number;
  readonly nodes: number;
  /** Favour faults that leave a follower behind the majority (where stale local reads show). */
  readonly unsafeReads?: boolean;
}

/**
 * The run's faults, from the seed alone. The first ones cover every enabled
 * kind once (in a seeded order), so even a short run sees each kind.
 */
export function planFaults(options: PlanOptions): FaultPlan[] {
  if (options.kinds.length === 0) return [];
  const random = createRandom(options.seed ^ 0x6e656d65); // its own stream: client choices do not shift it
  const shapes = PARTITION_SHAPES.filter((s) => s !== 'ring' || options.nodes >= 5);
  const firstRound = shuffle([...options.kinds], random);
  const plans: FaultPlan[] = [];
  let plannedMs = 0;
  while (plannedMs < options.windowMs && plans.length < MAX_PLANNED_FAULTS) {
    const kind = plans.length < firstRound.length ? firstRound[plans.length]! : pickKind(options, random);
    const plan = planOne(kind, random, shapes, options.unsafeReads === true);
    plans.push(plan);
    plannedMs += plan.holdMs + plan.gapMs;
  }
  return plans;
}

function pickKind(options: PlanOptions, random: Random): NemesisKind {
  // In unsafe-read mode partitions and pauses come twice as often: they make followers lag.
  const weighted = options.kinds.flatMap((k) => (options.unsafeReads === true && (k === 'partition' || k === 'pause') ? [k, k] : [k]));
  return random.pick(weighted);
}

function planOne(kind: NemesisKind, random: Random, shapes: readonly PartitionShape[], unsafeReads: boolean): FaultPlan {
  const gapMs = random.between(500, 2000);
  const target = (): TargetRole => {
    const roll = random.next();
    return roll < 0.4 ? 'leader' : roll < 0.7 ? 'follower' : 'any';
  };
  switch (kind) {
    case 'kill':
      return { kind, target: target(), holdMs: random.between(500, 3000), gapMs };
    case 'pause':
      return { kind, target: unsafeReads && random.chance(0.5) ? 'follower' : target(), holdMs: random.between(1000, 4000), gapMs };
    case 'partition': {
      const shape = unsafeReads && random.chance(0.6) ? 'isolate-follower' : random.pick(shapes);
      return { kind, shape, mode: random.chance(0.7) ? 'drop' : 'reset', holdMs: random.between(2000, 5000), gapMs };
    }
    case 'wipe':
      return { kind, target: target(), holdMs: random.between(300, 1500), gapMs };
  }
}

function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = random.int(i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The directed links a shape cuts, given the nodes and the current leader. */
export function partitionLinks(shape: PartitionShape, ids: readonly number[], leader: number, random: Random): { groups: number[][]; links: Link[] } {
  const others = ids.filter((id) => id !== leader);
  switch (shape) {
    case 'majority-minority': {
      const shuffled = shuffle([...ids], random);
      const minority = random.between(1, Math.floor(ids.length / 2));
      const groups = [shuffled.slice(0, minority), shuffled.slice(minority)];
      return { groups, links: linksBetweenGroups(groups) };
    }
    case 'isolate-leader': {
      const groups = [[leader], others];
      return { groups, links: linksBetweenGroups(groups) };
    }
    case 'isolate-follower': {
      const follower = random.pick(others);
      const groups = [[follower], ids.filter((id) => id !== follower)];
      return { groups, links: linksBetweenGroups(groups) };
    }
    case 'bridge': {
      // Two sides that cannot talk to each other; one node (not the leader, so the leader's side must find out) talks to both.
      const bridge = random.pick(others);
      const rest = shuffle(ids.filter((id) => id !== bridge), random);
      const half = Math.floor(rest.length / 2);
      const sides = [rest.slice(0, half), rest.slice(half)];
      return { groups: [[...sides[0]!, bridge], [...sides[1]!, bridge]], links: linksBetweenGroups(sides) };
    }
    case 'ring': {
      const order = shuffle([...ids], random);
      const position = new Map(order.map((id, i) => [id, i]));
      const n = ids.length;
      const links: Link[] = [];
      for (const from of ids) {
        for (const to of ids) {
          const d = Math.abs(position.get(from)! - position.get(to)!);
          if (from !== to && d !== 1 && d !== n - 1) links.push({ from, to });
        }
      }
      return { groups: [order], links };
    }
    case 'leader-cannot-send':
      return { groups: [[leader], others], links: others.map((to) => ({ from: leader, to })) };
  }
}

export interface NemesisOptions {
  readonly cluster: LocalCluster;
  readonly mesh: ProxyMesh;
  readonly recorder: HistoryRecorder;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export class Nemesis {
  private readonly random: Random;
  private readonly counts = new Map<string, number>();
  private readonly problems: string[] = [];

  constructor(private readonly options: NemesisOptions) {
    this.random = createRandom(options.seed ^ 0x74617267); // targets and shapes: a stream of their own
  }

  /** Nemesis events recorded so far, by f. */
  eventCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  /** Things the cluster failed to do (a node that did not restart or catch up). */
  failures(): readonly string[] {
    return this.problems;
  }

  /** Carry out the plans in order until the deadline (performance.now() ms); the fault under way is healed. */
  async run(plans: readonly FaultPlan[], deadline: number, stopped: () => boolean): Promise<void> {
    for (const plan of plans) {
      if (stopped() || performance.now() >= deadline) return;
      await this.execute(plan, deadline);
      await sleep(Math.min(plan.gapMs, Math.max(0, deadline - performance.now())));
    }
  }

  /** Undo everything: heal links, resume paused nodes, start stopped ones. */
  async healAll(): Promise<void> {
    const { cluster, mesh } = this.options;
    mesh.healAll();
    for (const id of cluster.ids) if (cluster.isPaused(id)) cluster.resume(id);
    for (const id of cluster.ids) if (!cluster.isRunning(id)) await this.start(id);
    this.record('heal-all', null);
  }

  private async execute(plan: FaultPlan, deadline: number): Promise<void> {
    const holdUntil = Math.min(performance.now() + plan.holdMs, deadline);
    switch (plan.kind) {
      case 'kill':
        return this.kill(await this.pickTarget(plan.target), holdUntil);
      case 'pause':
        return this.pause(await this.pickTarget(plan.target), holdUntil);
      case 'partition':
        return this.partition(plan.shape, plan.mode, holdUntil);
      case 'wipe':
        return this.wipe(await this.pickTarget(plan.target), holdUntil);
    }
  }

  private async kill(target: { id: number; role: string }, holdUntil: number): Promise<void> {
    await this.options.cluster.kill(target.id);
    this.record('kill', { node: target.id, role: target.role });
    await sleep(holdUntil - performance.now());
    await this.start(target.id);
  }

  private async pause(target: { id: number; role: string }, holdUntil: number): Promise<void> {
    const { cluster } = this.options;
    if (!cluster.isRunning(target.id)) return;
    cluster.pause(target.id);
    this.record('pause', { node: target.id, role: target.role });
    await sleep(holdUntil - performance.now());
    cluster.resume(target.id);
    this.record('resume', { node: target.id });
  }

  private async partition(shape: PartitionShape, mode: CutMode, holdUntil: number): Promise<void> {
    const { cluster, mesh } = this.options;
    const leader = (await this.leader()) ?? this.random.pick(cluster.ids);
    const { groups, links } = partitionLinks(shape, cluster.ids, leader, this.random);
    mesh.partition(links, mode);
    this.record('partition', { shape, mode, leader, groups, cut: links.map((l) => `${l.from}->${l.to}`) });
    await sleep(holdUntil - performance.now());
    mesh.healAll();
    this.record('heal', { shape });
  }

  private async wipe(target: { id: number; role: string }, holdUntil: number): Promise<void> {
    const { cluster } = this.options;
    await cluster.kill(target.id);
    cluster.wipe(target.id);
    this.record('wipe', { node: target.id, role: target.role });
    await sleep(holdUntil - performance.now());
    if (!(await this.start(target.id))) return;
    await this.awaitCatchUp(target.id);
  }

  /** Restart a node; false (recorded, and reported as a failure) when it does not come up. */
  private async start(id: number): Promise<boolean> {
    const { cluster } = this.options;
    if (cluster.isRunning(id)) return true;
    try {
      await cluster.startNode(id);
      this.record('start', { node: id });
      return true;
    } catch (error) {
      const message = `node ${id} did not restart: ${error instanceof Error ? error.message : String(error)}`;
      this.problems.push(message);
      this.record('start-failed', { node: id, error: message });
      // A process that never served is still ours: kill it so healAll can try once more.
      await cluster.kill(id);
      return false;
    }
  }

  /** Wait until the node applied everything the cluster had committed when it came back. */
  private async awaitCatchUp(id: number): Promise<void> {
    const { cluster } = this.options;
    const started = performance.now();
    const target = Math.max(0, ...(await cluster.statuses()).filter((s) => s.id !== id).map((s) => s.commit));
    try {
      await cluster.waitFor(async () => ((await cluster.tryStatus(id))?.applied ?? -1) >= target, CATCH_UP_TIMEOUT_MS, `node ${id} to catch up to slot ${target}`);
      this.record('caught-up', { node: id, slot: target, ms: Math.round(performance.now() - started) });
    } catch {
      const message = `wiped node ${id} did not catch up to slot ${target} within ${CATCH_UP_TIMEOUT_MS} ms`;
      this.problems.push(message);
      this.record('catch-up-timeout', { node: id, slot: target });
    }
  }

  private async pickTarget(role: TargetRole): Promise<{ id: number; role: string }> {
    const ids = this.options.cluster.ids.filter((id) => this.options.cluster.isRunning(id));
    const leader = await this.leader();
    if (role === 'leader' && leader !== null) return { id: leader, role: 'leader' };
    const candidates = role === 'follower' && leader !== null ? ids.filter((id) => id !== leader) : ids;
    const id = this.random.pick(candidates.length > 0 ? candidates : this.options.cluster.ids);
    return { id, role: id === leader ? 'leader' : leader === null ? 'unknown' : 'follower' };
  }

  /** The leader most running nodes name (a deposed leader may still think it leads). */
  private async leader(): Promise<number | null> {
    const statuses: NodeStatus[] = await this.options.cluster.statuses();
    const votes = new Map<number, number>();
    for (const s of statuses) if (s.leader !== null) votes.set(s.leader, (votes.get(s.leader) ?? 0) + 1);
    let best: number | null = null;
    for (const [id, n] of votes) if (best === null || n > (votes.get(best) ?? 0)) best = id;
    return best;
  }

  private record(f: string, value: JsonValue): void {
    this.counts.set(f, (this.counts.get(f) ?? 0) + 1);
    this.options.recorder.nemesis(NEMESIS_PROCESS, f, value);
    this.options.log(`nemesis ${f}${value === null ? '' : ` ${JSON.stringify(value)}`}`);
  }

  /** Report a node process that exited without the nemesis asking (a crash of the product). */
  recordCrash(id: number, code: number | null, signal: string | null): void {
    this.problems.push(`node ${id} exited on its own (code ${code}, signal ${signal})`);
    this.record('crash', { node: id, code, signal });
  }
}

export function sleep(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}
