import type { NodeId, PaxosConfig } from './types.js';

/**
 * Defaults sized for a LAN cluster driven with a 10 ms tick: heartbeats every
 * 20 ms, elections after 300–600 ms of silence, 64 slots in flight, and slots
 * of up to 1,000 commands or 1 MiB.
 */
export function defaultPaxosConfig(self: NodeId, nodes: readonly NodeId[]): PaxosConfig {
  return {
    self,
    nodes,
    electionTicks: 30,
    heartbeatTicks: 2,
    window: 64,
    maxBatchCommands: 1000,
    maxBatchBytes: 1 << 20,
    maxQueuedCommands: 100_000,
    maxEntriesPerMessage: 512,
    maxPendingReads: 10_000,
  };
}
