export * from './types.js';
export * from './ballot.js';
export { PaxosNode, PaxosInvariantError, NOOP, type PaxosStatus } from './node.js';
export { invalidReason } from './validate.js';
