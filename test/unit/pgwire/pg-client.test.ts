// node-postgres (`pg`) against the server and the fake backend.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startServer, type TestServer } from './helpers.js';

let srv: TestServer;

beforeAll(async () => {
  srv = await startServer();
});

afterAll(async () => {
  await srv.close();
});

function config(extra: Partial<pg.ClientConfig> = {}): pg.ClientConfig {
  return { host: '127.0.0.1', port: srv.port, user: 'tester', database: 'paxosql', ...extra };
}

async function withClient<T>(fn: (c: pg.Client) => Promise<T>, extra: Partial<pg.ClientConfig> = {}): Promise<T> {
  const client = new pg.Client(config(extra));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Type parsers that hand back the raw text, so tests see exactly what the server printed. */
const rawText = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

describe('node-postgres', () => {
  it('runs simple, parameterized and named prepared queries', async () => {
    await withClient(async (c) => {
      await c.query('CREATE TABLE people (id int4, name text)');
      const inserted = await c.query('INSERT INTO people (id, name) VALUES ($1, $2), ($3, $4)', [1, 'ann', 2, 'bob']);
      expect(inserted.command).toBe('INSERT');
      expect(inserted.rowCount).toBe(2);
      const all = await c.query('SELECT id, name FROM people ORDER BY id');
      expect(all.rows).toEqual([
        { id: 1, name: 'ann' },
        { id: 2, name: 'bob' },
      ]);
      for (const id of [1, 2, 1]) {
        const r = await c.query({ name: 'person-by-id', text: 'SELECT name FROM people WHERE id = $1::int4', values: [id] });
        expect(r.rows[0].name).toBe(id === 1 ? 'ann' : 'bob');
      }
      const multi = (await c.query('SELECT 1 AS a; SELECT 2 AS b')) as unknown as pg.QueryResult[];
      expect(multi.map((r) => r.rows[0])).toEqual([{ a: 1 }, { b: 2 }]);
    });
  });

  it('prints every supported type in Postgres text format', async () => {
    const cases: [string, unknown, string][] = [
      ['bool', true, 't'],
      ['bool', 'off', 'f'],
      ['int2', -32768, '-32768'],
      ['int4', 2147483647, '2147483647'],
      ['int8', '9223372036854775807', '9223372036854775807'],
      ['float4', 1.5, '1.5'],
      ['float8', Math.PI, '3.141592653589793'],
      ['float8', 1e20, '1e+20'],
      ['float8', 1e-5, '1e-05'],
      ['float8', 0.0001, '0.0001'],
      ['float8', 'Infinity', 'Infinity'],
      ['float8', '-Infinity', '-Infinity'],
      // NaN is left to the codec tests: SQLite (the fake backend) stores NaN as NULL.
      ['numeric', '12345678901234567890.0123456789', '12345678901234567890.0123456789'],
      ['numeric', '-0.000120', '-0.000120'],
      ['text', 'héllo wörld', 'héllo wörld'],
      ['varchar', 'v', 'v'],
      ['bytea', Buffer.from([0, 1, 255]), '\\x0001ff'],
      ['bytea', '\\xdeadbeef', '\\xdeadbeef'],
      ['timestamptz', '2024-01-02 03:04:05.123456+02', '2024-01-02 01:04:05.123456+00'],
      ['timestamptz', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 120)), '2024-01-02 03:04:05.12+00'],
      ['timestamp', '2024-01-02 03:04:05.5', '2024-01-02 03:04:05.5'],
      ['timestamp', '2024-01-02T03:04:05', '2024-01-02 03:04:05'],
      ['date', '2024-02-29', '2024-02-29'],
      ['uuid', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
      ['json', '{"a":[1,2]}', '{"a":[1,2]}'],
      ['jsonb', '{"b":true}', '{"b":true}'],
    ];
    await withClient(
      async (c) => {
        for (const [type, input, expected] of cases) {
          const r = await c.query(`SELECT $1::${type} AS v`, [input]);
          expect(r.rows[0].v, `${type} ${String(input)}`).toBe(expected);
          expect(r.fields[0]!.dataTypeID).toBeGreaterThan(0);
        }
      },
      { types: rawText },
    );
  });

  it('round-trips typed table columns through pg default parsers', async () => {
    await withClient(async (c) => {
      await c.query(
        'CREATE TABLE typed (b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric, t text, by bytea, ts timestamptz, d date, u uuid, j jsonb)',
      );
      const when = new Date(Date.UTC(2023, 5, 7, 8, 9, 10, 11));
      await c.query('INSERT INTO typed (b, i2, i4, i8, f4, f8, n, t, by, ts, d, u, j) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)', [
        false,
        7,
        -8,
        '1234567890123',
        0.25,
        -2.5,
        '99.5',
        'x',
        Buffer.from('bytes'),
        when,
        '2020-01-01',
        '00000000-0000-0000-0000-000000000001',
        JSON.stringify({ k: 'v' }),
      ]);
      const r = await c.query('SELECT * FROM typed');
      expect(r.rows[0]).toEqual({
        b: false,
        i2: 7,
        i4: -8,
        i8: '1234567890123',
        f4: 0.25,
        f8: -2.5,
        n: '99.5',
        t: 'x',
        by: Buffer.from('bytes'),
        ts: when,
        d: expect.any(Date),
        u: '00000000-0000-0000-0000-000000000001',
        j: { k: 'v' },
      });
      expect(r.fields.map((f) => f.dataTypeID)).toEqual([16, 21, 23, 20, 700, 701, 1700, 25, 17, 1184, 1082, 2950, 3802]);
    });
  });

  it('returns binary results to a binary client', async () => {
    // pg-protocol decodes DataRow values as UTF-8 before pg's binary parsers see them,
    // so only values whose encodings are valid UTF-8 survive; raw tests cover the rest.
    await withClient(
      async (c) => {
        const r = await c.query('SELECT $1::int4 AS i, $2::int8 AS l, $3::bool AS b, $4::text AS t, $5::int2 AS s', [42, 7, true, 'plain', 3]);
        expect(r.rows[0]).toEqual({ i: 42, l: '7', b: true, t: 'plain', s: 3 });
        expect(r.fields.map((f) => f.format)).toEqual(['binary', 'binary', 'binary', 'binary', 'binary']);
      },
      { binary: true } as Partial<pg.ClientConfig>,
    );
  });

  it('streams a result larger than the output buffer', async () => {
    await withClient(async (c) => {
      const r = await c.query('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 60000) SELECT x, x AS y FROM c');
      expect(r.rowCount).toBe(60000);
      expect(r.rows[59999]).toEqual({ x: 60000, y: 60000 });
    });
  });

  it('reports errors with their SQLSTATE and keeps the connection usable', async () => {
    await withClient(async (c) => {
      await expect(c.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
      await expect(c.query('SELECT $1::int4 AS v', ['not a number'])).rejects.toMatchObject({ code: '22P02' });
      await expect(c.query('SELECT $1::int2 AS v', [70000])).rejects.toMatchObject({ code: '22003' });
      await c.query('BEGIN');
      await expect(c.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: '42P01' });
      await expect(c.query('SELECT 1 AS one')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    });
  });

  it('delivers notices', async () => {
    await withClient(async (c) => {
      const notices: string[] = [];
      c.on('notice', (n) => notices.push(n.message ?? ''));
      await c.query("SELECT raise_notice('watch out')");
      expect(notices).toEqual(['watch out']);
    });
  });

  it('serves a pool of 20 connections at once', async () => {
    const pool = new pg.Pool({ ...config(), max: 20 });
    try {
      const before = srv.backend.opened;
      const clients = await Promise.all(Array.from({ length: 20 }, () => pool.connect()));
      expect(srv.server.sessionCount).toBeGreaterThanOrEqual(20);
      clients.forEach((c) => c.release());
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => pool.query('SELECT $1::int4 AS n', [i])));
      expect(results.map((r) => r.rows[0].n)).toEqual(Array.from({ length: 200 }, (_, i) => i));
      expect(srv.backend.opened - before).toBe(20);
    } finally {
      await pool.end();
    }
  });
});
