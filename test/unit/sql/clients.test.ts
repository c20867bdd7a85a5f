// End to end with real clients: a PgServer (src/pgwire) in front of one SqlEngine.
// psql's own rendering of \dt, \d TABLE, \di, \l, \du (skipped when psql is not
// installed), and postgres.js, whose connect-time array type fetch reads pg_type.

import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgServer, type Backend, type PreparedStatement, type SessionBackend, type StatementOutcome } from '../../../src/pgwire/index.js';
import type { SqlEngine } from '../../../src/sql/engine.js';
import { toSqlError } from '../../../src/sql/errors.js';
import type { ExecContext } from '../../../src/sql/functions.js';
import { CTX, openEngine } from './helpers.js';

const runFile = promisify(execFile);

/** psql is a test dependency (.ci/run installs postgresql-client-15): its absence is a failure, not a skip. */
function psqlInstalled(): boolean {
  try {
    execFileSync('psql', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The smallest Backend over one engine: autocommit statements, no cluster. */
function engineBackend(engine: SqlEngine): Backend {
  return {
    async openSession(info): Promise<SessionBackend> {
      const ctx: ExecContext = { ...CTX, session: { user: info.user, database: info.database, backendPid: info.connectionId } };
      return {
        async *simpleQuery(sql: string): AsyncIterable<StatementOutcome> {
          const batch = engine.executeBatch(sql, ctx);
          for (const result of batch.results) yield { type: 'result', result };
          if (batch.error !== undefined) yield { type: 'error', error: batch.error };
        },
        async prepare(sql: string): Promise<PreparedStatement> {
          const described = engine.describe(sql);
          return { paramTypes: described.paramTypeOids, fields: described.fields, handle: sql };
        },
        async execute(statement, params) {
          try {
            return engine.execute(String(statement.handle), params, ctx);
          } catch (error) {
            throw toSqlError(error);
          }
        },
        transactionStatus: () => 'I',
        statementFailed: () => undefined,
        cancel: () => undefined,
        close: async () => undefined,
      };
    },
  };
}

async function serve(schema: string): Promise<{ engine: SqlEngine; server: PgServer; port: number }> {
  const engine = await openEngine();
  const setup = engine.executeBatch(schema, CTX);
  expect(setup.error).toBeUndefined();
  const server = new PgServer({ backend: engineBackend(engine) });
  const { port } = await server.listen(0, '127.0.0.1');
  return { engine, server, port };
}

describe('postgres.js against SqlEngine', () => {
  it('connects (fetching array types from pg_type) and runs queries', async () => {
    const { engine, server, port } = await serve('CREATE TABLE t (id int PRIMARY KEY, label text); INSERT INTO t VALUES (1, \'one\');');
    const sql = postgres({ host: '127.0.0.1', port, user: 'carol', database: 'paxosql', max: 1, fetch_types: true, connect_timeout: 10, onnotice: () => undefined });
    try {
      expect(await sql`SELECT id, label FROM t WHERE id = ${1}`).toEqual([{ id: 1, label: 'one' }]);
      const tables = await sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`;
      expect(tables.map((row) => row['table_name'])).toEqual(['t']);
    } finally {
      await sql.end({ timeout: 5 });
      await server.close();
      engine.db.close();
    }
  });
});

describe('date and timestamp parameters from node-postgres and postgres.js', () => {
  let engine: SqlEngine;
  let server: PgServer;
  let client: pg.Client;
  let sql: postgres.Sql;

  beforeAll(async () => {
    let port: number;
    ({ engine, server, port } = await serve('CREATE TABLE dd (id serial PRIMARY KEY, d date, ts timestamp, tz timestamptz);'));
    client = new pg.Client({ host: '127.0.0.1', port, user: 'dave', database: 'paxosql' });
    await client.connect();
    sql = postgres({ host: '127.0.0.1', port, user: 'dave', database: 'paxosql', max: 1, fetch_types: false, connect_timeout: 10, onnotice: () => undefined });
  });
  afterAll(async () => {
    await client.end();
    await sql.end({ timeout: 5 });
    await server.close();
    engine.db.close();
  });

  async function sqlstate(text: string, values: unknown[]): Promise<string | undefined> {
    return client.query(text, values).then(() => undefined, (e: unknown) => (e as { code?: string }).code);
  }

  it('refuses an invalid date or timestamp parameter with 22008, as it refuses the literal', async () => {
    expect(await sqlstate('INSERT INTO dd (d) VALUES ($1) RETURNING d::text', ['2024-02-30'])).toBe('22008');
    expect(await sqlstate('SELECT $1::date AS x', ['2024-13-01'])).toBe('22008');
    expect(await sqlstate('INSERT INTO dd (d) VALUES ($1)', ['2023-02-29'])).toBe('22008');
    expect(await sqlstate('INSERT INTO dd (tz) VALUES ($1)', ['2024-02-30 10:00'])).toBe('22008');
    expect(await sqlstate('INSERT INTO dd (ts) VALUES ($1)', ['2024-05-06 10:61'])).toBe('22008');
    expect(await sqlstate("SELECT '2024-02-30'::date", [])).toBe('22008');
    expect((await client.query('SELECT count(*)::int AS n FROM dd')).rows).toEqual([{ n: 0 }]);
    const leap = await client.query({ text: 'INSERT INTO dd (d) VALUES ($1) RETURNING d::text', values: ['2024-02-29'] });
    expect(leap.rows).toEqual([{ d: '2024-02-29' }]);
  });

  it('takes a JavaScript Date for a date column (the date part), and now/today/epoch as the statement time', async () => {
    // Noon UTC: the same calendar day wherever the test runs (node-postgres sends local time with an offset).
    const noon = new Date(Date.UTC(2024, 4, 6, 12, 0, 0, 10));
    const viaPg = await client.query('INSERT INTO dd (d, ts, tz) VALUES ($1, $2, $3) RETURNING d::text, tz::text', [noon, noon, noon]);
    expect(viaPg.rows).toEqual([{ d: '2024-05-06', tz: '2024-05-06 12:00:00.01+00' }]);
    const viaPostgresJs = await sql`INSERT INTO dd (d) VALUES (${noon}) RETURNING d::text`;
    expect(viaPostgresJs).toEqual([{ d: '2024-05-06' }]);
    expect((await client.query('SELECT $1::date::text AS d', ['2024-05-06T07:08:09.010Z'])).rows).toEqual([{ d: '2024-05-06' }]);
    // CTX's time: 2024-01-02 03:04:05.678 UTC, fixed per statement by the leader.
    const words = await client.query('INSERT INTO dd (d, ts, tz) VALUES ($1, $2, $3) RETURNING d::text, ts::text, tz::text', ['today', 'now', 'epoch']);
    expect(words.rows).toEqual([{ d: '2024-01-02', ts: '2024-01-02 03:04:05.678', tz: '1970-01-01 00:00:00+00' }]);
    expect((await client.query("SELECT count(*)::int AS n FROM dd WHERE d = $1", ['today'])).rows).toEqual([{ n: 1 }]);
    expect(await sqlstate('INSERT INTO dd (d) VALUES ($1)', ['infinity'])).toBe('0A000');
  });
});

describe('psql against SqlEngine', () => {
  let engine: SqlEngine;
  let server: PgServer;
  let port = 0;

  beforeAll(async () => {
    if (!psqlInstalled()) throw new Error('psql is not installed: apt-get install -y postgresql-client-15 (.ci/run does)');
    ({ engine, server, port } = await serve(`
      CREATE TABLE items (id serial PRIMARY KEY, name varchar(20) NOT NULL, qty int DEFAULT 0 CHECK (qty >= 0), created timestamptz);
      CREATE TABLE orders (id bigint PRIMARY KEY, item_id int REFERENCES items (id));
      CREATE UNIQUE INDEX items_name_key ON items (name);`));
  });
  afterAll(async () => {
    await server.close();
    engine.db.close();
  });

  async function meta(command: string): Promise<string> {
    const { stdout } = await runFile('psql', ['-X', '-h', '127.0.0.1', '-p', String(port), '-U', 'bob', '-d', 'paxosql', '-c', command],
      { encoding: 'utf8', timeout: 15_000, env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
    return stdout;
  }

  it('\\dt', async () => {
    const out = await meta('\\dt');
    expect(out).toMatch(/public \| items\s+\| table \| bob/);
    expect(out).toMatch(/public \| orders \| table \| bob/);
    expect(out).toContain('(2 rows)');
  });

  it('\\d TABLE', async () => {
    const out = await meta('\\d items');
    expect(out).toContain('Table "public.items"');
    expect(out).toMatch(/id\s+\| integer\s+\|\s+\| not null \| generated by default as identity/);
    expect(out).toMatch(/name\s+\| character varying\(20\)\s+\|\s+\| not null \|/);
    expect(out).toMatch(/qty\s+\| integer\s+\|\s+\|\s+\| 0/);
    expect(out).toMatch(/created \| timestamp with time zone \|/);
    expect(out).toContain('"items_pkey" PRIMARY KEY, btree (id)');
    expect(out).toContain('"items_name_key" UNIQUE, btree (name)');
    expect(out).toMatch(/Check constraints:\n\s+"items_qty_check" CHECK \(qty >= 0\)/);
    expect(out).toContain('TABLE "orders" CONSTRAINT "orders_item_id_fkey" FOREIGN KEY (item_id) REFERENCES items(id)');
    expect(await meta('\\d orders')).toContain('"orders_item_id_fkey" FOREIGN KEY (item_id) REFERENCES items(id)');
  });

  it('\\di, \\l, \\dn, \\du', async () => {
    expect(await meta('\\di')).toMatch(/items_name_key \| index \| bob\s+\| items/);
    expect(await meta('\\l')).toMatch(/paxosql \| bob\s+\| UTF8/);
    expect(await meta('\\dn')).toMatch(/public \| bob/);
    expect(await meta('\\du')).toMatch(/bob\s+\| Superuser/);
  });
});
