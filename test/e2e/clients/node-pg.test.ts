// node-postgres (`pg`) against a follower of a real cluster: the simple and
// extended protocols, named prepared statements, every common type in text and
// binary, errors with SQLSTATEs, a pool of 20 connections and transactions
// through the pool.

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../harness.js';
import { startCluster } from './tools.js';

describe('node-postgres', () => {
  let cluster: LocalCluster;
  let url: string;
  let client: pg.Client;

  beforeAll(async () => {
    const started = await startCluster();
    cluster = started.cluster;
    url = cluster.url(started.follower);
    client = await cluster.client(started.follower);
  });
  afterAll(async () => {
    await client?.end().catch(() => undefined);
    await cluster?.stop();
  });

  it('runs simple-protocol queries, several statements in one message', async () => {
    const results = (await client.query("CREATE TABLE pg_simple (id int PRIMARY KEY, s text); INSERT INTO pg_simple VALUES (1, 'a'), (2, 'b'); SELECT s FROM pg_simple ORDER BY id")) as unknown as pg.QueryResult[];
    expect(results.map((r) => r.command)).toEqual(['CREATE', 'INSERT', 'SELECT']);
    expect(results[1]!.rowCount).toBe(2);
    expect(results[2]!.rows).toEqual([{ s: 'a' }, { s: 'b' }]);
  });

  it('runs parameterised queries and named prepared statements', async () => {
    await client.query('CREATE TABLE pg_params (id int PRIMARY KEY, name text, score double precision)');
    for (let i = 1; i <= 5; i++) {
      const r = await client.query('INSERT INTO pg_params (id, name, score) VALUES ($1, $2, $3) RETURNING id, name', [i, `n${i}`, i / 2]);
      expect(r.rows).toEqual([{ id: i, name: `n${i}` }]);
    }
    // A named statement is parsed once and bound many times.
    for (const id of [2, 4]) {
      const r = await client.query({ name: 'pg-by-id', text: 'SELECT name, score FROM pg_params WHERE id = $1', values: [id] });
      expect(r.rows).toEqual([{ name: `n${id}`, score: id / 2 }]);
    }
    const range = await client.query({ name: 'pg-range', text: 'SELECT id FROM pg_params WHERE score BETWEEN $1 AND $2 ORDER BY id', values: [1, 2] });
    expect(range.rows.map((r) => r.id)).toEqual([2, 3, 4]);
    const nulls = await client.query('SELECT $1::text IS NULL AS is_null, coalesce($2::int, 7) AS fallback', [null, null]);
    expect(nulls.rows).toEqual([{ is_null: true, fallback: 7 }]);
  });

  it('round-trips every common type through a table in text format', async () => {
    await client.query(`CREATE TABLE pg_types (id serial PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 real, f8 double precision,
      t text, vc varchar(10), by bytea, ts timestamp, tz timestamptz, d date, u uuid, j json, jb jsonb, n numeric(20, 4))`);
    // numeric is kept to double precision (about 15 significant digits), so the value stays within it.
    const at = new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789));
    const values = [true, -32768, 2147483647, '-9223372036854775808', 1.5, -0.125, "it's ünïcode", 'short', Buffer.from([0, 1, 0x7f, 0x80, 0xff]),
      '2024-03-04 05:06:07.25', at, '2024-12-31', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, 2]}', { x: null, y: 'z' }, '1234567890.1234'];
    await client.query('INSERT INTO pg_types (b, i2, i4, i8, f4, f8, t, vc, by, ts, tz, d, u, j, jb, n) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)', values);
    const r = await client.query('SELECT b, i2, i4, i8, f4, f8, t, vc, by, ts::text AS ts_text, tz, d::text AS d_text, u, j, jb, n FROM pg_types');
    expect(r.rows[0]).toEqual({
      b: true, i2: -32768, i4: 2147483647, i8: '-9223372036854775808', f4: 1.5, f8: -0.125, t: "it's ünïcode", vc: 'short',
      by: Buffer.from([0, 1, 0x7f, 0x80, 0xff]), ts_text: '2024-03-04 05:06:07.25', tz: at, d_text: '2024-12-31',
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', j: { k: [1, 2] }, jb: { x: null, y: 'z' }, n: '1234567890.1234',
    });
    const oids = await client.query('SELECT b, i2, i4, i8, f4, f8, t, vc, by, ts, tz, d, u, j, jb, n FROM pg_types');
    expect(oids.fields.map((f) => f.dataTypeID)).toEqual([16, 21, 23, 20, 700, 701, 25, 1043, 17, 1114, 1184, 1082, 2950, 114, 3802, 1700]);
    await expect(client.query("INSERT INTO pg_types (vc) VALUES ('much too long')")).rejects.toMatchObject({ code: '22001' });
  });

  it('returns every common type in binary format', async () => {
    // pg decodes every DataRow field as UTF-8 before its binary parsers see it, so
    // the values are chosen to have binary encodings of ASCII bytes only; types pg
    // has no binary parser for arrive as the raw bytes, which are checked as such.
    const cases: [string, unknown, unknown][] = [
      ['bool', true, true],
      ['int2', 7, 7],
      ['int4', 42, 42],
      ['int8', '9007199254740993', '9007199254740993'],
      ['float4', 2.5, 2.5],
      ['float8', 2.5, 2.5],
      ['numeric', '12.5', 12.5],
      ['text', 'plain', 'plain'],
      ['varchar', 'v', 'v'],
      ['bytea', Buffer.from('AB'), 'AB'],
      ['timestamp', '2000-01-01 00:00:00.000001', new Date(Date.UTC(2000, 0, 1))],
      ['timestamptz', '2000-01-01 00:00:01+00', new Date(Date.UTC(2000, 0, 1, 0, 0, 1))],
      ['date', '2000-01-02', '\u0000\u0000\u0000\u0001'], // days since 2000-01-01
      ['uuid', '00000000-0000-0000-0000-00000000002a', `${'\u0000'.repeat(15)}*`],
      ['json', '{"a":1}', '{"a":1}'],
      ['jsonb', '{"a":1}', '\u0001{"a":1}'], // version byte, then the text
    ];
    for (const [type, input, expected] of cases) {
      const r = await client.query({ text: `SELECT $1::${type} AS v`, values: [input], binary: true } as pg.QueryConfig);
      expect(r.fields[0]!.format, type).toBe('binary');
      expect(r.rows[0].v, type).toEqual(expected);
    }
  });

  it('reports errors with their SQLSTATE and keeps the connection usable', async () => {
    await client.query('CREATE TABLE pg_errors (k int PRIMARY KEY, v int NOT NULL CHECK (v > 0))');
    await client.query('INSERT INTO pg_errors VALUES (1, 1)');
    const cases: [string, unknown[], string][] = [
      ['INSERT INTO pg_errors VALUES (1, 2)', [], '23505'],
      ['INSERT INTO pg_errors VALUES (2, NULL)', [], '23502'],
      ['INSERT INTO pg_errors VALUES ($1, $2)', [3, -1], '23514'],
      ['SELECT * FROM pg_missing', [], '42P01'],
      ['SELECT nope FROM pg_errors', [], '42703'],
      ['SELECT $1::int', ['x'], '22P02'],
      ['SELECT 1 / 0', [], '22012'],
      ['SELEKT 1', [], '42601'],
      ['SELECT txid_current()', [], '0A000'],
    ];
    for (const [sql, params, code] of cases) {
      await expect(client.query(sql, params), sql).rejects.toMatchObject({ code });
    }
    expect((await client.query('SELECT count(*)::int AS n FROM pg_errors')).rows).toEqual([{ n: 1 }]);
  });

  it('refuses a prepared statement whose table gained a column (0A000, as Postgres), and stays usable', async () => {
    await client.query('CREATE TABLE pg_changing (id int PRIMARY KEY)');
    await client.query('INSERT INTO pg_changing VALUES (1)');
    const prepared = { name: 'pg-changing', text: 'SELECT * FROM pg_changing' };
    expect((await client.query(prepared)).rows).toEqual([{ id: 1 }]);
    await client.query('ALTER TABLE pg_changing ADD COLUMN note text');
    await expect(client.query(prepared)).rejects.toMatchObject({ code: '0A000', message: 'cached plan must not change result type' });
    expect((await client.query({ name: 'pg-changing-2', text: 'SELECT * FROM pg_changing' })).rows).toEqual([{ id: 1, note: null }]);
  });

  it('a statement that fails at Parse inside a transaction aborts it (25P02 until ROLLBACK), as in Postgres', async () => {
    await client.query('CREATE TABLE pg_parse_abort (id int PRIMARY KEY)');
    await client.query('BEGIN');
    await client.query('INSERT INTO pg_parse_abort VALUES ($1)', [1]);
    await expect(client.query('SELEC $1', [1])).rejects.toMatchObject({ code: '42601' });
    await expect(client.query('INSERT INTO pg_parse_abort VALUES ($1)', [2])).rejects.toMatchObject({ code: '25P02' });
    await expect(client.query('COMMIT')).resolves.toMatchObject({ command: 'ROLLBACK' });
    expect((await client.query('SELECT count(*)::int AS n FROM pg_parse_abort')).rows).toEqual([{ n: 0 }]);
  });

  it('binds a JS array to = ANY($1) and <> ALL($1), the idiom for IN lists', async () => {
    await client.query('CREATE TABLE pg_any (id bigint PRIMARY KEY, tag text, ok boolean)');
    await client.query("INSERT INTO pg_any VALUES (1, 'a', true), (2, 'b', false), (9007199254740993, 'big', NULL)");
    const ids = async (text: string, values: unknown[]) => (await client.query(text, values)).rows.map((r: { id: string }) => r.id);
    expect(await ids('SELECT id FROM pg_any WHERE id = ANY($1) ORDER BY id', [[1, 5]])).toEqual(['1']);
    expect(await ids('SELECT id FROM pg_any WHERE id = ANY($1) ORDER BY id', [['9007199254740993']])).toEqual(['9007199254740993']);
    expect(await ids('SELECT id FROM pg_any WHERE tag = ANY($1::text[]) ORDER BY id', [['b', 'big']])).toEqual(['2', '9007199254740993']);
    expect(await ids('SELECT id FROM pg_any WHERE ok = ANY($1) ORDER BY id', [[true]])).toEqual(['1']);
    expect(await ids('SELECT id FROM pg_any WHERE id <> ALL($1) ORDER BY id', [[1, 2]])).toEqual(['9007199254740993']);
    expect(await ids('SELECT id FROM pg_any WHERE id = ANY($1)', [[]])).toEqual([]);
    await expect(client.query('SELECT id FROM pg_any WHERE id = ANY($1)', [['x']])).rejects.toMatchObject({ code: '22P02' });
  });

  it('any error inside a transaction aborts it — a parameter that does not decode, a cursor that does not exist — and COMMIT rolls back', async () => {
    await client.query('CREATE TABLE pg_any_error (id int PRIMARY KEY)');
    for (const failing of [
      () => client.query('INSERT INTO pg_any_error VALUES ($1)', ['notint']), // fails at Bind, in the wire layer
      () => client.query('SELECT $1::date', ['2024-02-30']),
      () => client.query('FETCH nosuch'),
    ]) {
      await client.query('BEGIN');
      await client.query('INSERT INTO pg_any_error VALUES (1)');
      await expect(failing()).rejects.toMatchObject({ code: expect.stringMatching(/^(22P02|22008|34000)$/) });
      await expect(client.query('INSERT INTO pg_any_error VALUES (2)')).rejects.toMatchObject({ code: '25P02' });
      await expect(client.query('BEGIN')).rejects.toMatchObject({ code: '25P02' });
      await expect(client.query('COMMIT')).resolves.toMatchObject({ command: 'ROLLBACK' });
    }
    expect((await client.query('SELECT count(*)::int AS n FROM pg_any_error')).rows).toEqual([{ n: 0 }]);
  });

  it('serves a pool of 20 connections at once', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 20 });
    try {
      const clients = await Promise.all(Array.from({ length: 20 }, () => pool.connect()));
      const pids = await Promise.all(clients.map(async (c) => (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number));
      expect(new Set(pids).size).toBe(20);
      clients.forEach((c) => c.release());
      await pool.query('CREATE TABLE pg_pool (id int PRIMARY KEY)');
      await Promise.all(Array.from({ length: 100 }, (_, i) => pool.query('INSERT INTO pg_pool VALUES ($1)', [i])));
      const r = await pool.query('SELECT count(*)::int AS n, sum(id)::int AS total FROM pg_pool');
      expect(r.rows).toEqual([{ n: 100, total: 4950 }]);
      expect(pool.totalCount).toBe(20);
    } finally {
      await pool.end();
    }
  });

  it('runs BEGIN/COMMIT/ROLLBACK transactions through the pool, concurrently, keeping the total', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 8 });
    try {
      await pool.query('CREATE TABLE pg_bank (id int PRIMARY KEY, balance int NOT NULL CHECK (balance >= 0))');
      await pool.query('INSERT INTO pg_bank SELECT x, 100 FROM generate_series(1, 4) AS g(x)');
      let rolledBack = 0;
      await Promise.all(Array.from({ length: 8 }, async (_, k) => {
        for (let i = 0; i < 5; i++) {
          const c = await pool.connect();
          try {
            await c.query('BEGIN');
            await c.query('UPDATE pg_bank SET balance = balance - 10 WHERE id = $1', [(k % 4) + 1]);
            await c.query('UPDATE pg_bank SET balance = balance + 10 WHERE id = $1', [((k + 1) % 4) + 1]);
            // Every third transfer changes its mind: its writes must vanish.
            if (i % 3 === 2) {
              await c.query('ROLLBACK');
              rolledBack++;
            } else {
              await c.query('COMMIT');
            }
          } finally {
            c.release();
          }
        }
      }));
      expect(rolledBack).toBe(8);
      const r = await pool.query('SELECT sum(balance)::int AS total, count(*)::int AS n FROM pg_bank');
      expect(r.rows).toEqual([{ total: 400, n: 4 }]);
      // A failed statement aborts the transaction (25P02) until ROLLBACK.
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await expect(c.query('UPDATE pg_bank SET balance = -1 WHERE id = 1')).rejects.toMatchObject({ code: '23514' });
        await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
        await c.query('ROLLBACK');
        expect((await c.query('SELECT balance FROM pg_bank WHERE id = 1')).rows[0].balance).toBeGreaterThanOrEqual(0);
      } finally {
        c.release();
      }
    } finally {
      await pool.end();
    }
  });
});
