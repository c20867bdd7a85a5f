// postgres.js with default options. At connect it runs (extended protocol)
//   select b.oid, b.typarray from pg_catalog.pg_type a
//   left join pg_catalog.pg_type b on b.oid = a.typelem
//   where a.typcategory = 'A' group by b.oid, b.typarray order by b.oid
// to learn array types; the fake backend answers it with two rows.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { startServer, type TestServer } from './helpers.js';

let srv: TestServer;
let sql: postgres.Sql;

beforeAll(async () => {
  srv = await startServer();
  sql = postgres({ host: '127.0.0.1', port: srv.port, user: 'tester', database: 'paxosql', onnotice: () => undefined });
});

afterAll(async () => {
  await sql.end({ timeout: 5 });
  await srv.close();
});

describe('postgres.js', () => {
  it('connects with default options and runs parameterized queries', async () => {
    await sql`CREATE TABLE items (id int4, label text, price numeric)`;
    await sql`INSERT INTO items (id, label, price) VALUES (${1}, ${'apple'}, ${'1.25'})`;
    await sql`INSERT INTO items (id, label, price) VALUES (${2}, ${'pear'}, ${'2.50'})`;
    const rows = await sql`SELECT id, label, price FROM items WHERE id >= ${1} ORDER BY id`;
    expect(rows.map((r) => ({ ...r }))).toEqual([
      { id: 1, label: 'apple', price: '1.25' },
      { id: 2, label: 'pear', price: '2.5' },
    ]);
    expect(rows.count).toBe(2);
    expect(rows.command).toBe('SELECT');
    expect(srv.backend.seen.some((q) => q.includes('pg_catalog.pg_type'))).toBe(true);
  });

  it('reports errors with their SQLSTATE', async () => {
    await expect(sql`SELECT * FROM does_not_exist`).rejects.toMatchObject({ code: '42P01' });
    const [row] = await sql`SELECT ${5}::int4 AS five`;
    expect(row!.five).toBe(5);
  });

  it('runs a transaction and a multi-statement simple query', async () => {
    const result = await sql.begin(async (tx) => {
      await tx`INSERT INTO items (id, label, price) VALUES (${3}, ${'plum'}, ${'3'})`;
      return tx`SELECT count(*) AS n FROM items`;
    });
    expect(Number(result[0]!.n)).toBe(3);
    const multi = await sql.unsafe('SELECT 1 AS a; SELECT 2 AS b');
    expect(multi.length).toBe(2);
  });
});
