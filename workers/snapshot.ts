// A snapshot reader: one thread, one read-only connection to data.db, at most
// one open read transaction. SQLite's WAL gives the transaction a stable
// snapshot from its first read until it ends, whatever the apply worker writes
// meanwhile.

import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { setPageCache } from '../src/storage/page-cache.js';
import type { SnapshotReaderReply, SnapshotReaderTask } from '../src/cluster/snapshot-protocol.js';
import type { ReadWorkerData } from '../src/cluster/read-protocol.js';
import { SqlEngine } from '../src/sql/engine.js';
import { toWire } from '../src/cluster/wire-error.js';

const port = parentPort;
if (port === null) throw new Error('workers/snapshot.ts runs as a worker thread');

const { path } = workerData as ReadWorkerData;
const db = new Database(path, { readonly: true, fileMustExist: true });
setPageCache(db, 'read');
const engine = await SqlEngine.create(db);
const readMarker = db.prepare('SELECT slot, changed FROM _paxosql_applied WHERE id = 1');

function handle(task: SnapshotReaderTask): SnapshotReaderReply {
  try {
    switch (task.op) {
      case 'begin': {
        if (db.inTransaction) db.exec('ROLLBACK');
        db.exec('BEGIN');
        // The first read fixes the snapshot; it also tells which slot it reflects.
        const row = readMarker.get() as { slot: number; changed: number };
        return { op: 'begin', slot: Number(row.slot), changed: Number(row.changed) };
      }
      case 'query':
        if (!db.inTransaction) throw new Error('query outside a snapshot transaction');
        return { op: 'query', result: engine.execute(task.sql, task.params, task.ctx) };
      case 'end':
        if (db.inTransaction) db.exec('ROLLBACK');
        return { op: 'end' };
    }
  } catch (error) {
    return { op: 'error', error: toWire(error) };
  }
}

port.on('message', (task: SnapshotReaderTask) => port.postMessage(handle(task)));
port.postMessage({ op: 'end' } satisfies SnapshotReaderReply); // ready
