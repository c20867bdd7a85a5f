import Database from 'better-sqlite3';
import { SqlEngine } from '../../../src/sql/engine.js';
import type { ExecContext } from '../../../src/sql/functions.js';

export const CTX: ExecContext = {
  time: Date.UTC(2024, 0, 2, 3, 4, 5, 678),
  seed: 42n,
  session: { user: 'alice', database: 'shop', backendPid: 4242, settings: { application_name: 'psql' } },
};

/** A fresh in-memory engine; close with `engine.db.close()`. */
export async function openEngine(): Promise<SqlEngine> {
  return SqlEngine.create(new Database(':memory:'));
}
