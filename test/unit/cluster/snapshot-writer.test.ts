import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { workerFile } from '../../../src/cluster/node.js';
import { SnapshotWriter } from '../../../src/cluster/snapshot-writer.js';
import { listSnapshots } from '../../../src/storage/snapshot.js';

// data.db as the apply worker keeps it: each entry's rows and the applied slot in one transaction.
function openData(path: string): { db: Database.Database; apply: (slot: number) => void } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE _paxosql_applied (id INTEGER PRIMARY KEY, slot INTEGER NOT NULL, changed INTEGER NOT NULL);
           INSERT INTO _paxosql_applied VALUES (1, 0, 0);
           CREATE TABLE t (slot INTEGER NOT NULL, body TEXT NOT NULL)`);
  const insert = db.prepare('INSERT INTO t (slot, body) VALUES (?, ?)');
  const mark = db.prepare('UPDATE _paxosql_applied SET slot = ? WHERE id = 1');
  const apply = db.transaction((slot: number) => {
    for (let i = 0; i < 50; i++) insert.run(slot, 'x'.repeat(100));
    mark.run(slot);
  });
  return { db, apply };
}

describe('the snapshot writer thread', () => {
  let dir = '';
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('copies a consistent state while entries keep being applied, named by the slot inside the copy', async () => {
    dir = mkdtempSync(join(tmpdir(), 'paxosql-snapshot-writer-'));
    const { db, apply } = openData(join(dir, 'data.db'));
    let slot = 0;
    while (slot < 2000) apply(++slot);
    const writer = new SnapshotWriter(workerFile('snapshot-writer.js'), { path: join(dir, 'data.db'), dir: join(dir, 'snapshots') });
    try {
      for (let round = 0; round < 3; round++) {
        const written = writer.write();
        let settled = false;
        void written.finally(() => (settled = true));
        // Apply goes on, on this thread, while the writer copies.
        while (!settled) {
          apply(++slot);
          await new Promise((resolve) => setImmediate(resolve));
        }
        const snapshot = await written;
        const copy = new Database(snapshot.path, { readonly: true });
        const inCopy = Number(copy.prepare('SELECT slot FROM _paxosql_applied').pluck().get());
        const rows = Number(copy.prepare('SELECT count(*) FROM t').pluck().get());
        const newest = Number(copy.prepare('SELECT max(slot) FROM t').pluck().get());
        copy.close();
        expect(snapshot.slot).toBe(inCopy);
        expect(rows).toBe(inCopy * 50); // every entry through its slot, nothing after it
        expect(newest).toBe(inCopy);
        expect(inCopy).toBeGreaterThanOrEqual(2000);
        expect(inCopy).toBeLessThanOrEqual(slot);
      }
      expect(listSnapshots(join(dir, 'snapshots'))).toHaveLength(3);
    } finally {
      await writer.close();
      db.close();
    }
  });
});
