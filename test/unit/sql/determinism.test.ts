import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqlEngine } from '../../../src/sql/engine.js';
import type { ExecContext } from '../../../src/sql/functions.js';
import type { QueryResult } from '../../../src/sql/types.js';

const LOG = [
  `CREATE TABLE events (id bigserial PRIMARY KEY, at timestamptz DEFAULT now(), token uuid DEFAULT gen_random_uuid(),
                        score double precision DEFAULT random(), note text)`,
  "INSERT INTO events (note) VALUES ('a'), ('b')",
  "INSERT INTO events (note, score) VALUES ('c', random()) RETURNING token, score",
  "UPDATE events SET note = note || '-' || substr(md5(random()::text), 1, 6) WHERE id = 1",
  "INSERT INTO events (note, at) VALUES (datetime('now'), CURRENT_TIMESTAMP)",
  'SELECT id, at, token, score, note, randomblob(4) FROM events ORDER BY id',
];

const opened: Database.Database[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

/** Applies the log as a replica would: one context per entry (slot), seed = slot. */
async function replay(firstSeed: number): Promise<QueryResult[]> {
  const db = new Database(':memory:');
  opened.push(db);
  const engine = await SqlEngine.create(db);
  return LOG.map((sql, slot) => {
    const ctx: ExecContext = { time: Date.UTC(2024, 5, 1, 12, 0, slot), seed: BigInt(firstSeed + slot) };
    return engine.execute(sql, [], ctx);
  });
}

describe('determinism', () => {
  it('two replicas applying the same log compute identical results, including clock and randomness', async () => {
    const first = await replay(1000);
    const second = await replay(1000);
    expect(second).toEqual(first);
    const final = first[first.length - 1];
    expect(final?.rows).toHaveLength(4);
    // Defaults used the entry's time, not the wall clock.
    expect(final?.rows[0]?.[1]).toBe('2024-06-01 12:00:01+00');
    expect(final?.rows[3]?.[4]).toBe('2024-06-01 12:00:04');
  });

  it('a different seed draws different random values', async () => {
    const first = await replay(1000);
    const other = await replay(2000);
    const tokens = (results: QueryResult[]) => results[results.length - 1]?.rows.map((row) => row[2]);
    expect(tokens(other)).not.toEqual(tokens(first));
  });

  it('now() is constant within an entry and random() advances within it', async () => {
    const engine = await SqlEngine.create(new Database(':memory:'));
    opened.push(engine.db);
    const ctx: ExecContext = { time: 0, seed: 7 };
    const result = engine.execute('SELECT now(), now(), random(), random()', [], ctx);
    const row = result.rows[0] ?? [];
    expect(row[0]).toBe('1970-01-01 00:00:00+00');
    expect(row[1]).toBe(row[0]);
    expect(row[2]).not.toBe(row[3]);
  });

  it('rewrites non-deterministic column defaults at CREATE TABLE time', async () => {
    const engine = await SqlEngine.create(new Database(':memory:'));
    opened.push(engine.db);
    engine.execute('CREATE TABLE t (a timestamptz DEFAULT CURRENT_TIMESTAMP, b float8 DEFAULT random())', [], { time: 0, seed: 1 });
    const schema = String(engine.db.prepare("SELECT sql FROM sqlite_master WHERE name = 't'").pluck().get());
    expect(schema).toContain('pg_now()');
    expect(schema).toContain('pg_random()');
    expect(schema).not.toMatch(/CURRENT_TIMESTAMP|[^_]random\(\)/);
  });
});
