import type { Ballot, NodeId } from './types.js';

/** The ballot every acceptor starts with: lower than any ballot a node leads with. */
export const ZERO_BALLOT: Ballot = Object.freeze({ round: 0, node: 0 });

/** Negative if a < b, zero if equal, positive if a > b: round first, then node id. */
export function compareBallots(a: Ballot, b: Ballot): number {
  if (a.round !== b.round) return a.round - b.round;
  return a.node - b.node;
}

export function ballotsEqual(a: Ballot, b: Ballot): boolean {
  return a.round === b.round && a.node === b.node;
}

export function maxBallot(a: Ballot, b: Ballot): Ballot {
  return compareBallots(a, b) >= 0 ? a : b;
}

/** The smallest ballot of `node` above every round it has seen. */
export function nextBallot(highestRoundSeen: number, node: NodeId): Ballot {
  return { round: highestRoundSeen + 1, node };
}

export function formatBallot(b: Ballot): string {
  return `${b.round}.${b.node}`;
}
