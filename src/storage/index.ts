export * from './paxos-log.js';
export { MemoryDisk, MemoryPaxosLog } from './memory-paxos-log.js';
export { SqlitePaxosLog, type SqlitePaxosLogOptions } from './sqlite-paxos-log.js';
export {
  createSnapshot,
  type InstallOptions,
  installSnapshot,
  listSnapshots,
  openSnapshotChunks,
  pruneSnapshots,
  SnapshotError,
  type SnapshotInfo,
  snapshotDigest,
} from './snapshot.js';
