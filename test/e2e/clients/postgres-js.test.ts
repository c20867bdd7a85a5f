// postgres.js (the `postgres` package) with its default options — it fetches
// array types from pg_catalog at connect — against a follower of a real cluster.

import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../harness.js';
import { startCluster } from './tools.js';

describe('postgres.js', () => {
  let cluster: LocalCluster;
  let sql: postgres.Sql;
  let follower: number;

  beforeAll(async () => {
    const started = await startCluster();
    cluster = started.cluster;
    follower = started.follower;
    sql = postgres(cluster.url(started.follower), { max: 4, onnotice: () => undefined });
  });
  afterAll(async () => {
    await sql?.end({ timeout: 5 });
    await cluster?.stop();
  });

  it('connects with type fetching on and runs a query', async () => {
    const rows = await sql`SELECT 1 AS one, 'two' AS two, current_database() AS db`;
    expect([...rows]).toEqual([{ one: 1, two: 'two', db: 'paxosql' }]);
  });

  it('binds parameters and parses result types', async () => {
    await sql`CREATE TABLE pj_items (id serial PRIMARY KEY, name text NOT NULL, price double precision, big bigint, at timestamptz, meta jsonb, ok boolean)`;
    const at = new Date(Date.UTC(2024, 4, 6, 7, 8, 9, 10));
    const inserted = await sql`
      INSERT INTO pj_items (name, price, big, at, meta, ok)
      VALUES (${'widget'}, ${9.75}, ${'9007199254740993'}, ${at}, ${sql.json({ tags: ['a', 'b'] })}, ${true})
      RETURNING id, name`;
    expect([...inserted]).toEqual([{ id: 1, name: 'widget' }]);
    await sql`INSERT INTO pj_items ${sql([{ name: 'gadget', price: 1.5 }, { name: 'doohickey', price: 2.5 }], 'name', 'price')}`;
    const rows = await sql`SELECT name, price, big, at, meta, ok FROM pj_items WHERE price > ${1} ORDER BY price DESC`;
    expect(rows[0]).toEqual({ name: 'widget', price: 9.75, big: '9007199254740993', at, meta: { tags: ['a', 'b'] }, ok: true });
    expect(rows.map((r) => r.name)).toEqual(['widget', 'doohickey', 'gadget']);
    const like = await sql`SELECT name FROM pj_items WHERE name ILIKE ${'%DGET'} ORDER BY name`;
    expect(like.map((r) => r.name)).toEqual(['gadget', 'widget']);
  });

  it('commits sql.begin transactions and rolls them back when the callback throws', async () => {
    await sql`CREATE TABLE pj_ledger (id int PRIMARY KEY, amount int NOT NULL)`;
    const result = await sql.begin(async (tx) => {
      await tx`INSERT INTO pj_ledger VALUES (1, 10)`;
      await tx`INSERT INTO pj_ledger VALUES (2, 20)`;
      const [row] = await tx`SELECT sum(amount)::int AS total FROM pj_ledger`;
      return row?.['total'] as number;
    });
    expect(result).toBe(30);
    await expect(sql.begin(async (tx) => {
      await tx`INSERT INTO pj_ledger VALUES (3, 30)`;
      throw new Error('changed my mind');
    })).rejects.toThrow('changed my mind');
    // A failing statement rolls the whole transaction back too.
    await expect(sql.begin(async (tx) => {
      await tx`INSERT INTO pj_ledger VALUES (4, 40)`;
      await tx`INSERT INTO pj_ledger VALUES (1, 0)`;
    })).rejects.toMatchObject({ code: '23505' });
    const rows = await sql`SELECT id FROM pj_ledger ORDER BY id`;
    expect(rows.map((r) => r.id)).toEqual([1, 2]);
  });

  it('binds a JS array to = ANY(…) and <> ALL(…), the idiom for IN lists', async () => {
    await sql`CREATE TABLE pj_any (id int PRIMARY KEY, tag text)`;
    await sql`INSERT INTO pj_any VALUES (1, 'a'), (2, 'b'), (3, 'c')`;
    expect((await sql`SELECT id FROM pj_any WHERE id = ANY(${[1, 3, 7]}) ORDER BY id`).map((r) => r.id)).toEqual([1, 3]);
    expect((await sql`SELECT id FROM pj_any WHERE tag = ANY(${['b', 'x']})`).map((r) => r.id)).toEqual([2]);
    expect((await sql`SELECT id FROM pj_any WHERE id <> ALL(${[1]}) ORDER BY id`).map((r) => r.id)).toEqual([2, 3]);
    await sql`DELETE FROM pj_any WHERE id = ANY(${[2, 3]})`;
    expect((await sql`SELECT id FROM pj_any`).map((r) => r.id)).toEqual([1]);
  });

  it('reports errors with their SQLSTATE', async () => {
    await expect(sql`SELECT * FROM pj_missing`).rejects.toMatchObject({ code: '42P01' });
    await expect(sql`SELECT ${'abc'}::int`).rejects.toMatchObject({ code: '22P02' });
    const [row] = await sql`SELECT 1 + 1 AS two`;
    expect(row).toEqual({ two: 2 });
  });

  it('rejects a parameterised query refused at Parse or Describe instead of hanging, and the connection stays usable', async () => {
    // For a new parameterised query postgres.js sends Parse/Describe/Flush and waits for the reply
    // before it sends Sync, so the ErrorResponse must come on Flush. One connection, so every
    // query below runs on the connection the errors happened on.
    const one = postgres(cluster.url(follower), { max: 1, onnotice: () => undefined });
    try {
      await one`CREATE TABLE pj_parse (id int PRIMARY KEY, n int)`;
      await expect(one`SELEC ${1}`).rejects.toMatchObject({ code: '42601' });
      await expect(one`SELECT * FROM pj_nope WHERE x = ${1}`).rejects.toMatchObject({ code: '42P01' });
      await expect(one`SELECT id FROM pj_parse WHERE nope = ${1}`).rejects.toMatchObject({ code: '42703' });
      // Unsupported features are refused with 0A000 at Parse/Describe too.
      await expect(one`SELECT id FROM pj_parse WHERE n::text SIMILAR TO ${'1%'}`).rejects.toMatchObject({ code: '0A000' });
      await expect(one`SELECT ${'1 day'}::interval AS i`).rejects.toMatchObject({ code: '0A000' });
      // Inside a transaction the failure rolls it back.
      await expect(one.begin(async (tx) => {
        await tx`INSERT INTO pj_parse VALUES (${1}, ${1})`;
        await tx`SELEC ${1}`;
      })).rejects.toMatchObject({ code: '42601' });
      expect(await one`SELECT count(*)::int AS n FROM pj_parse`).toEqual([{ n: 0 }]);
      await one`INSERT INTO pj_parse VALUES (${2}, ${20})`;
      const [row] = await one`SELECT n FROM pj_parse WHERE id = ${2}`;
      expect(row).toEqual({ n: 20 });
    } finally {
      await one.end({ timeout: 5 });
    }
  }, 20_000);
});
