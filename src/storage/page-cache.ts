// SQLite's page cache, per connection. better-sqlite3 builds SQLite with a
// 16 MB default (cache_size -16000) and a node opens five or more connections
// (apply, Paxos log, read pool, snapshot readers, snapshot writer): left at the
// default, each cache filled under load, and VACUUM INTO — its source and its
// copy — took 32 MB more per snapshot. Each connection gets what its access
// pattern can use; the operating system's page cache still holds the files.

import type Database from 'better-sqlite3';

export const PAGE_CACHE_KIB = {
  /** data.db, the apply worker: the b-tree pages each write touches, and the hot part of a large table. */
  apply: 8_192,
  /** data.db, read workers and snapshot readers: several connections, each serving point and range reads. */
  read: 2_048,
  /** paxos.db: appends at the right edge of one b-tree; reads only at start-up and for a lagging peer. */
  log: 1_024,
  /**
   * Whole-database passes (VACUUM INTO, quick_check): every page is read once,
   * so a larger cache only costs memory (VACUUM INTO at a million rows: peak
   * +49 MB and 300 ms with the default, +16 MB and 265 ms with this).
   */
  copy: 256,
} as const;

export function setPageCache(db: Database.Database, role: keyof typeof PAGE_CACHE_KIB): void {
  db.pragma(`cache_size = -${PAGE_CACHE_KIB[role]}`);
}
