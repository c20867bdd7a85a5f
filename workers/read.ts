// A read worker: one read-only connection to the node's data.db per thread of
// the read pool. It runs queries that the runtime has already made safe to run
// (a linearizable read waits for its read index to be applied first) and
// describes statements for the extended protocol's Parse.

import { workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { setPageCache } from '../src/storage/page-cache.js';
import type { ReadReply, ReadTask, ReadWorkerData } from '../src/cluster/read-protocol.js';
import { SqlEngine } from '../src/sql/engine.js';
import { toSqlError } from '../src/sql/errors.js';
import { toWire } from '../src/cluster/wire-error.js';
import { SqlError } from '../src/sql/types.js';

let engine: Promise<SqlEngine> | null = null;

function openEngine(): Promise<SqlEngine> {
  const { path } = workerData as ReadWorkerData;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  setPageCache(db, 'read');
  return SqlEngine.create(db);
}

export default async function handle(task: ReadTask): Promise<ReadReply> {
  engine ??= openEngine();
  try {
    const e = await engine;
    if (task.op === 'describe') {
      const d = e.describe(task.sql);
      return { ok: true, op: 'describe', paramTypeOids: d.paramTypeOids, fields: d.fields };
    }
    if (e.db.inTransaction) e.db.exec('ROLLBACK');
    return { ok: true, op: 'query', result: e.execute(task.sql, task.params, task.ctx) };
  } catch (error) {
    return { ok: false, error: toWire(readOnlyError(toSqlError(error))) };
  }
}

/** A write that reached a read connection is the runtime's bug, but say so plainly. */
function readOnlyError(error: SqlError): SqlError {
  if (/readonly|read-only/i.test(error.message)) return new SqlError('25006', 'cannot execute a write in a read-only context');
  return error;
}
