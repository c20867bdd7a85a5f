// Semantic checks on an incoming message. The transport already decoded it
// into the right shape; this refuses what no correct peer would send, so the
// core never trusts a value it cannot make sense of.

import type { Ballot, Message, NodeId, Value } from './types.js';

export interface ValidationLimits {
  readonly self: NodeId;
  readonly members: ReadonlySet<NodeId>;
  readonly maxEntriesPerMessage: number;
  readonly maxBatchCommands: number;
}

/** Returns null when the message is acceptable, else a short reason. */
export function invalidReason(msg: Message, limits: ValidationLimits): string | null {
  if (!isRecord(msg)) return 'not an object';
  if (!limits.members.has(msg.from)) return `unknown sender ${String(msg.from)}`;
  if (msg.to !== limits.self) return `addressed to ${String(msg.to)}`;
  if (msg.from === limits.self) return 'message from self';
  switch (msg.type) {
    case 'prevote':
      return firstProblem(isCount(msg.round), 'round', isCount(msg.commit), 'commit', typeof msg.fresh === 'boolean', 'fresh');
    case 'prevote-reply':
      return firstProblem(isCount(msg.round), 'round', typeof msg.granted === 'boolean', 'granted', typeof msg.fresh === 'boolean', 'fresh');
    case 'prepare':
      return firstProblem(isLeaderBallot(msg.ballot, limits), 'ballot', isSlot(msg.fromSlot), 'fromSlot');
    case 'promise':
      return (
        firstProblem(
          isLeaderBallot(msg.ballot, limits),
          'ballot',
          isSlot(msg.fromSlot),
          'fromSlot',
          isCount(msg.commit),
          'commit',
        ) ??
        // A Promise must carry every entry at or above fromSlot, so it has no
        // count limit here; the transport's frame limit bounds its size.
        entriesProblem(msg.entries, Number.MAX_SAFE_INTEGER, (e) =>
          isRecord(e) && isSlot(e.slot) && e.slot >= msg.fromSlot && isBallot(e.ballot) && typeof e.chosen === 'boolean'
            ? valueProblem(e.value, limits)
            : 'bad promised entry',
        )
      );
    case 'accept':
      return (
        firstProblem(isLeaderBallot(msg.ballot, limits), 'ballot', isCount(msg.commit), 'commit') ??
        entriesProblem(msg.entries, limits.maxEntriesPerMessage, (e) => (isRecord(e) && isSlot(e.slot) ? valueProblem(e.value, limits) : 'bad entry'))
      );
    case 'accepted':
      return (
        firstProblem(isLeaderBallot(msg.ballot, limits), 'ballot') ??
        entriesProblem(msg.slots, limits.maxEntriesPerMessage, (s) => (isSlot(s) ? null : 'bad slot'))
      );
    case 'nack':
      return firstProblem(isLeaderBallot(msg.ballot, limits), 'ballot', isBallot(msg.promised), 'promised');
    case 'heartbeat':
      return firstProblem(
        isLeaderBallot(msg.ballot, limits),
        'ballot',
        isCount(msg.commit),
        'commit',
        isCount(msg.readSeq),
        'readSeq',
        isSlot(msg.nextSlot),
        'nextSlot',
      );
    case 'heartbeat-ack':
      return firstProblem(
        isLeaderBallot(msg.ballot, limits),
        'ballot',
        isCount(msg.commit),
        'commit',
        isCount(msg.readSeq),
        'readSeq',
      );
    case 'catchup':
      return firstProblem(isSlot(msg.fromSlot), 'fromSlot', isSlot(msg.toSlot) && msg.toSlot >= msg.fromSlot, 'toSlot');
    case 'chosen':
      return (
        firstProblem(isCount(msg.commit), 'commit') ??
        entriesProblem(msg.entries, limits.maxEntriesPerMessage, (e) => (isRecord(e) && isSlot(e.slot) ? valueProblem(e.value, limits) : 'bad entry'))
      );
    case 'forward':
      return Array.isArray(msg.commands) &&
        msg.commands.length > 0 &&
        msg.commands.length <= limits.maxBatchCommands &&
        msg.commands.every((c) => c instanceof Uint8Array)
        ? null
        : 'bad commands';
    case 'read-index':
      return firstProblem(isCount(msg.id), 'id');
    case 'read-index-reply':
      return firstProblem(isCount(msg.id), 'id', msg.index === -1 || isCount(msg.index), 'index');
    case 'snapshot-offer':
      return firstProblem(isSlot(msg.slot), 'slot');
    case 'snapshot-request':
    case 'snapshot-chunk':
    case 'tx-request':
    case 'tx-response':
      return 'a runtime message, not the core\'s';
    default:
      return unknownType(msg);
  }
}

function unknownType(msg: never): string {
  return `unknown message type ${String((msg as { type?: unknown }).type)}`;
}

/** Pairs of (condition, field name): the name of the first false condition. */
function firstProblem(...checks: (boolean | string)[]): string | null {
  for (let i = 0; i < checks.length; i += 2) {
    if (checks[i] !== true) return `bad ${String(checks[i + 1])}`;
  }
  return null;
}

function entriesProblem<T>(items: readonly T[], max: number, check: (item: T) => string | null): string | null {
  if (!Array.isArray(items)) return 'entries not a list';
  if (items.length > max) return `too many entries (${items.length})`;
  for (const item of items) {
    const problem = check(item);
    if (problem !== null) return problem;
  }
  return null;
}

function valueProblem(value: Value, limits: ValidationLimits): string | null {
  if (!isRecord(value)) return 'bad value';
  if (value.kind === 'noop') return null;
  if (value.kind !== 'batch') return 'bad value kind';
  if (!Number.isFinite(value.time)) return 'bad batch time';
  if (!Array.isArray(value.commands) || value.commands.length > limits.maxBatchCommands) return 'bad batch size';
  return value.commands.every((c) => c instanceof Uint8Array) ? null : 'bad command';
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isSlot(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 1;
}

function isRecord(x: unknown): boolean {
  return typeof x === 'object' && x !== null;
}

function isBallot(b: Ballot): boolean {
  return isRecord(b) && isCount(b.round) && isCount(b.node);
}

/** A ballot someone leads with: round >= 1 and a member's id. */
function isLeaderBallot(b: Ballot, limits: ValidationLimits): boolean {
  return isBallot(b) && b.round >= 1 && limits.members.has(b.node);
}
