import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlEngine } from '../../../src/sql/engine.js';
import { PG_TYPE_OIDS } from '../../../src/sql/pgtypes.js';
import type { SqlValue } from '../../../src/sql/types.js';
import { CTX, openEngine } from './helpers.js';

let engine: SqlEngine;

beforeEach(async () => {
  engine = await openEngine();
  const setup = engine.executeBatch(`
    CREATE TABLE items (id serial PRIMARY KEY, name varchar(20) NOT NULL, price numeric(10,2), qty int DEFAULT 0,
                        active boolean DEFAULT true, big bigint, tags jsonb, created timestamptz DEFAULT now());
    INSERT INTO items (name, price, qty, active, big) VALUES ('apple', 1.5, 10, true, 9007199254740993),
      ('Banana', 0.25, 0, false, NULL), ('cherry', NULL, 5, true, 1);`, CTX);
  expect(setup.error).toBeUndefined();
});
afterEach(() => engine.db.close());

function rows(sql: string, params: SqlValue[] = []): readonly (readonly SqlValue[])[] {
  return engine.execute(sql, params, CTX).rows;
}

// Each row: a statement and the rows Postgres returns for it.
const DIALECT: readonly [string, SqlValue[][]][] = [
  ['SELECT 1 + 2, 7 / 2, 7 % 3, 2 ^ 3', [[3, 3, 1, 8]]],
  ["SELECT 'a' || 'b', lower('ABC'), upper('x'), length('héllo')", [['ab', 'abc', 'X', 5]]],
  ["SELECT '12'::int + 1, CAST('2.5' AS double precision), 'yes'::boolean, 1 < 2", [[13, 2.5, true, true]]],
  ["SELECT '2024-03-04T05:06:07Z'::timestamptz, '2024-03-04'::date", [['2024-03-04 05:06:07+00', '2024-03-04']]],
  ["SELECT 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid", [['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11']]],
  ['SELECT name FROM items WHERE name ILIKE \'b%\'', [['Banana']]],
  ["SELECT name FROM items WHERE name LIKE 'b%'", []], // LIKE is case sensitive
  ["SELECT name FROM items WHERE name ~ '^[ab]' ORDER BY name", [['apple']]],
  ['SELECT name FROM items ORDER BY price LIMIT 2 OFFSET 1', [['apple'], ['cherry']]], // NULLs sort last
  ['SELECT name FROM items ORDER BY price DESC LIMIT 1', [['cherry']]], // ... and first descending
  ['SELECT name FROM items ORDER BY id OFFSET 2', [['cherry']]],
  ['SELECT active, count(*) FROM items GROUP BY active ORDER BY active', [[false, 1n], [true, 2n]]],
  ['SELECT greatest(1, NULL, 3), least(2, NULL), coalesce(NULL, 4), nullif(5, 5)', [[3, 2, 4, null]]],
  ['WITH cheap AS (SELECT name FROM items WHERE price < 1) SELECT upper(name) FROM cheap', [['BANANA']]],
  ['SELECT x FROM generate_series(1, 3) AS g(x)', [[1n], [2n], [3n]]],
  ['SELECT 1 UNION SELECT 2 EXCEPT SELECT 1 ORDER BY 1', [[2]]],
  ['SELECT id FROM items WHERE id IN (SELECT id FROM items WHERE qty > 4) ORDER BY id', [[1], [3]]],
  ['SELECT id FROM items WHERE id = ANY (SELECT 2)', [[2]]],
  ['SELECT big FROM items WHERE id = 1', [[9007199254740993n]]],
  ['SELECT price FROM items WHERE id = 2', [['0.25']]],
  ["SELECT extract(year FROM '2024-05-06 07:08:09'::timestamp), date_trunc('month', '2024-05-06 07:08:09'::timestamp)", [['2024', '2024-05-01 00:00:00']]],
  ["SELECT split_part('a,b,c', ',', 2), left('hello', 2), lpad('7', 3, '0'), position('l' IN 'hello'), substring('hello' FROM 2 FOR 3)", [['b', 'he', '007', 3, 'ell']]],
  ['SELECT now(), current_timestamp, current_date, localtimestamp', [['2024-01-02 03:04:05.678+00', '2024-01-02 03:04:05.678+00', '2024-01-02', '2024-01-02 03:04:05.678']]],
  ["SELECT datetime('now')", [['2024-01-02 03:04:05']]],
  ['SELECT version() LIKE \'PostgreSQL%\', current_database(), current_user, pg_backend_pid()', [[true, 'shop', 'alice', 4242]]],
  ["SELECT current_setting('application_name'), current_setting('TimeZone')", [['psql', 'UTC']]],
  ['SELECT $1::int + $2::int, $3', [[5, 'x']]],
];
const DIALECT_PARAMS: Readonly<Record<string, SqlValue[]>> = { 'SELECT $1::int + $2::int, $3': ['2', 3, 'x'] };

describe('Postgres dialect on SQLite', () => {
  it.each(DIALECT)('%s', (sql, expected) => {
    expect(rows(sql, DIALECT_PARAMS[sql] ?? [])).toEqual(expected);
  });

  it('reports Postgres type OIDs from declared types and expressions', () => {
    const result = engine.execute('SELECT id, name, price, active, big, created, qty > 1 AS many, count(*) OVER () AS n FROM items LIMIT 1', [], CTX);
    expect(result.fields?.map((f) => [f.name, f.typeOid])).toEqual([
      ['id', PG_TYPE_OIDS.int4], ['name', PG_TYPE_OIDS.varchar], ['price', PG_TYPE_OIDS.numeric],
      ['active', PG_TYPE_OIDS.bool], ['big', PG_TYPE_OIDS.int8], ['created', PG_TYPE_OIDS.timestamptz],
      ['many', PG_TYPE_OIDS.bool], ['n', PG_TYPE_OIDS.int8],
    ]);
  });

  it('names columns as Postgres does', () => {
    const result = engine.execute('SELECT count(*), 1 + 1, name::text, now() FROM items GROUP BY name LIMIT 1', [], CTX);
    expect(result.fields?.map((f) => f.name)).toEqual(['count', '?column?', 'name', 'now']);
  });

  it('gives command tags and RETURNING rows', () => {
    const insert = engine.execute("INSERT INTO items (name, qty) VALUES ('date', $1), ('elder', 2) RETURNING id, active, created", ['7'], CTX);
    expect(insert.command).toBe('INSERT 0 2');
    expect(insert.rows).toEqual([[4, true, '2024-01-02 03:04:05.678+00'], [5, true, '2024-01-02 03:04:05.678+00']]);
    expect(engine.execute('UPDATE items SET qty = qty + 1 WHERE qty > 4', [], CTX).command).toBe('UPDATE 3');
    expect(engine.execute('DELETE FROM items WHERE active = false', [], CTX).command).toBe('DELETE 1');
    expect(engine.execute('SELECT * FROM items', [], CTX).command).toBe('SELECT 4');
    expect(engine.execute('TRUNCATE items RESTART IDENTITY', [], CTX).command).toBe('TRUNCATE TABLE');
    expect(engine.execute("INSERT INTO items (name) VALUES ('fig') RETURNING id", [], CTX).rows).toEqual([[1]]);
  });

  it('handles ON CONFLICT DO UPDATE with EXCLUDED and DO NOTHING', () => {
    engine.execute('CREATE UNIQUE INDEX items_name ON items (name)', [], CTX);
    const upsert = engine.execute("INSERT INTO items (name, qty) VALUES ('apple', 99) ON CONFLICT (name) DO UPDATE SET qty = excluded.qty RETURNING qty", [], CTX);
    expect(upsert.rows).toEqual([[99]]);
    expect(engine.execute("INSERT INTO items (name) VALUES ('apple') ON CONFLICT DO NOTHING", [], CTX).command).toBe('INSERT 0 0');
  });

  it('coerces values into typed columns with Postgres input rules', () => {
    engine.execute("INSERT INTO items (name, active, tags) VALUES ('x', 'off', '{\"a\": 1}')", [], CTX);
    expect(rows("SELECT active, tags FROM items WHERE name = 'x'")).toEqual([[false, '{"a":1}']]);
    expect(() => engine.execute("INSERT INTO items (name, qty) VALUES ('y', 'many')", [], CTX)).toThrow(expect.objectContaining({ code: '22P02' }));
    expect(() => engine.execute("INSERT INTO items (name) VALUES ('this name is far too long')", [], CTX)).toThrow(expect.objectContaining({ code: '22001' }));
  });

  it('parses date and timestamp input field by field, as Postgres does', () => {
    const code = (sql: string): string | undefined => {
      try {
        engine.execute(sql, [], CTX);
        return undefined;
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    for (const bad of ['2024-02-30', '2023-02-29', '2024-13-01', '0000-01-01', '2024-05-06 10:61', '2024-05-06 24:00:01']) {
      expect(code(`SELECT '${bad}'::timestamp`), bad).toBe('22008');
    }
    expect(code("SELECT 'May 6'::date")).toBe('22007');
    expect(rows("SELECT '2024-02-29'::date, '0099-01-01'::date, '2024-05-06 24:00'::timestamp")).toEqual([['2024-02-29', '0099-01-01', '2024-05-07 00:00:00']]);
    // date ignores the time and zone; timestamp (without time zone) ignores the zone.
    expect(rows("SELECT '2024-05-06T23:08:09-05:00'::date, '2024-05-06T23:08:09-05:00'::timestamp, '2024-05-06T23:08:09-05:00'::timestamptz"))
      .toEqual([['2024-05-06', '2024-05-06 23:08:09', '2024-05-07 04:08:09+00']]);
  });

  it('reads a string literal compared with a boolean as boolean input, and prints booleans as true/false text', () => {
    expect(rows("SELECT name FROM items WHERE active = 't' ORDER BY name")).toEqual([['apple'], ['cherry']]);
    expect(rows("SELECT name FROM items WHERE active = 'true' AND 'yes' = active ORDER BY name")).toEqual([['apple'], ['cherry']]);
    expect(rows("SELECT name FROM items WHERE active <> 'true'")).toEqual([['Banana']]);
    expect(rows("SELECT name FROM items WHERE active IN ('false', 'off')")).toEqual([['Banana']]);
    expect(rows("SELECT name FROM items WHERE active IS DISTINCT FROM 'on'")).toEqual([['Banana']]);
    expect(rows('SELECT active::text, CAST(active AS varchar) FROM items ORDER BY id')).toEqual([['true', 'true'], ['false', 'false'], ['true', 'true']]);
    expect(() => engine.execute("SELECT name FROM items WHERE active = 'maybe'", [], CTX)).toThrow(expect.objectContaining({ code: '22P02' }));
    expect(rows("SELECT name FROM items WHERE name = 'true'")).toEqual([]); // text compared with text is left alone
  });

  it('runs DDL: views, indexes, ALTER, DROP, DEFAULT in VALUES, transactions', () => {
    expect(engine.execute('CREATE VIEW pricey AS SELECT name FROM items WHERE price > 1', [], CTX).command).toBe('CREATE VIEW');
    expect(rows('SELECT * FROM pricey')).toEqual([['apple']]);
    expect(engine.execute('CREATE INDEX ON items (lower(name))', [], CTX).command).toBe('CREATE INDEX');
    expect(engine.execute('ALTER TABLE items ADD COLUMN note text', [], CTX).command).toBe('ALTER TABLE');
    engine.execute("INSERT INTO items VALUES (DEFAULT, 'grape')", [], CTX);
    expect(rows("SELECT qty, note FROM items WHERE name = 'grape'")).toEqual([[0, null]]);
    expect(engine.execute('BEGIN ISOLATION LEVEL SERIALIZABLE', [], CTX).command).toBe('BEGIN');
    engine.execute('SAVEPOINT s1', [], CTX);
    engine.execute('DELETE FROM items', [], CTX);
    expect(engine.execute('ROLLBACK TO SAVEPOINT s1', [], CTX).command).toBe('ROLLBACK');
    expect(engine.execute('COMMIT', [], CTX).command).toBe('COMMIT');
    expect(rows('SELECT count(*) FROM items')).toEqual([[4n]]);
    expect(engine.execute('DROP VIEW pricey', [], CTX).command).toBe('DROP VIEW');
    expect(engine.execute('DROP TABLE IF EXISTS items, nothing_here', [], CTX).command).toBe('DROP TABLE');
  });

  it('answers SHOW and reports SET as a structured command', () => {
    expect(engine.execute('SHOW application_name', [], CTX).rows).toEqual([['psql']]);
    const [set] = engine.parse("SET search_path = public, other");
    expect(set?.kind).toBe('session');
    expect(set?.session).toEqual({ action: 'set', name: 'search_path', value: 'public, other', local: false });
    expect(engine.execute('SET statement_timeout = 5', [], CTX).command).toBe('SET');
  });

  it('describes parameters and result fields without executing', () => {
    const description = engine.describe('SELECT id, active FROM items WHERE qty = $1 AND name = $2 LIMIT $3');
    expect(description.paramTypeOids).toEqual([PG_TYPE_OIDS.int4, PG_TYPE_OIDS.varchar, PG_TYPE_OIDS.int8]);
    expect(description.fields).toEqual([{ name: 'id', typeOid: PG_TYPE_OIDS.int4 }, { name: 'active', typeOid: PG_TYPE_OIDS.bool }]);
    expect(engine.describe("INSERT INTO items (name, active) VALUES ($1, $2)")).toEqual({ paramTypeOids: [PG_TYPE_OIDS.varchar, PG_TYPE_OIDS.bool], fields: null });
    expect(rows('SELECT count(*) FROM items')).toEqual([[3n]]);
  });
});

describe('column aliases on a subquery', () => {
  it('names the columns of (VALUES …) AS v(n, s) and (SELECT …) AS q(a, b), as Postgres does', async () => {
    const run = (sql: string) => engine.execute(sql, [], CTX);
    engine.executeBatch("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'x'), (2, 'y');", CTX);
    const values = run("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) AS v(n, s) ORDER BY n");
    expect(values.fields).toEqual([{ name: 'n', typeOid: 23 }, { name: 's', typeOid: 25 }]);
    expect(values.rows).toEqual([[1, 'a'], [2, 'b']]);
    expect(run('SELECT a, b FROM (SELECT id, v FROM t) AS q(a, b) ORDER BY a').rows).toEqual([[1, 'x'], [2, 'y']]);
    expect(run('SELECT a FROM (SELECT 1 UNION SELECT 2) AS q(a) ORDER BY a').rows).toEqual([[1n], [2n]]);
    // The bulk-update idiom.
    expect(run("UPDATE t SET v = u.s FROM (VALUES (1, 'new')) AS u(id, s) WHERE t.id = u.id RETURNING t.id, t.v").rows).toEqual([[1, 'new']]);
    expect(() => run('SELECT * FROM (VALUES (1)) AS v(a, b)')).toThrow(expect.objectContaining({ code: '42P10' }));
  });
});

describe('booleans in JSON', () => {
  it('json_build_object, json_build_array and json_agg write a boolean as true/false, not 1/0', async () => {
    const run = (sql: string) => engine.execute(sql, [], CTX);
    engine.executeBatch('CREATE TABLE flags (id int PRIMARY KEY, on_ boolean); INSERT INTO flags VALUES (1, true), (2, false), (3, NULL);', CTX);
    expect(run("SELECT json_build_object('id', id, 'on', on_) AS j FROM flags ORDER BY id").rows).toEqual([['{"id":1,"on":true}'], ['{"id":2,"on":false}'], ['{"id":3,"on":null}']]);
    expect(run('SELECT json_build_array(on_, id > 1) AS j FROM flags WHERE id = 2').rows).toEqual([['[false,true]']]);
    expect(run('SELECT json_agg(on_ ORDER BY id) AS j FROM flags').rows).toEqual([['[true,false,null]']]);
  });
});

describe('array parameters', () => {
  it('x = ANY($1) and x <> ALL($1) compare with each element as x = $1 would, NULLs as in Postgres, through the index', async () => {
    const ids = (sql: string, array: string) => engine.execute(sql, [array], CTX).rows.map((r) => r[0]);
    engine.executeBatch("CREATE TABLE t (id int PRIMARY KEY, ok boolean); INSERT INTO t VALUES (1, true), (2, false), (3, NULL);", CTX);
    expect(ids('SELECT id FROM t WHERE id = ANY($1) ORDER BY id', '{3,1,07}')).toEqual([1, 3]);
    expect(ids('SELECT id FROM t WHERE ok = ANY($1::boolean[])', '{t}')).toEqual([1]);
    expect(ids('SELECT id FROM t WHERE id <> ALL($1) ORDER BY id', '{1}')).toEqual([2, 3]);
    expect(ids('SELECT id FROM t WHERE id <> ALL($1)', '{1,NULL}')).toEqual([]); // unknown for 2 and 3: not true
    expect(engine.describe('SELECT id FROM t WHERE id = ANY($1) AND ok = $2').paramTypeOids).toEqual([1007, 16]);
    const plan = engine.db.prepare("EXPLAIN QUERY PLAN SELECT id FROM t WHERE id IN (SELECT value FROM json_each(pg_array_json('{1}', 'int4')))").all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/SEARCH t USING/);
  });
});

describe('interval arithmetic', () => {
  it('shifts dates and timestamps by an interval literal or parameter, on the calendar as Postgres does', async () => {
    const run = (sql: string, params: SqlValue[] = []) => engine.execute(sql, params, CTX);
    engine.executeBatch("CREATE TABLE ev (id int PRIMARY KEY, at timestamptz, plain timestamp, d date); INSERT INTO ev VALUES (1, '2024-01-31 10:00:00+00', '2024-01-31 10:00:00', '2024-01-31');", CTX);
    const shifted = run("SELECT at + interval '1 month' AS a, plain + '1 day 2 hours'::interval AS b, d + interval '1 month' AS c, interval '1 week' + at AS e FROM ev");
    expect(shifted.fields?.map((f) => f.typeOid)).toEqual([1184, 1114, 1114, 1184]); // date + interval is a timestamp
    expect(shifted.rows).toEqual([['2024-02-29 10:00:00+00', '2024-02-01 12:00:00', '2024-02-29 00:00:00', '2024-02-07 10:00:00+00']]);
    // now() is the statement's time, 2024-01-02 03:04:05.678 here.
    expect(run("SELECT now() - interval '1 hour 30 minutes' AS x").rows).toEqual([['2024-01-02 01:34:05.678+00']]);
    expect(run("SELECT id FROM ev WHERE at > now() + interval '28 days'").rows).toEqual([[1]]);
    expect(run('SELECT at - $1::interval AS x FROM ev', ['90 minutes']).rows).toEqual([['2024-01-31 08:30:00+00']]);
    expect(run("SELECT at + interval '2 days ago' AS x, at + interval '01:30' AS y, at + interval '1.5 days' AS z FROM ev").rows)
      .toEqual([['2024-01-29 10:00:00+00', '2024-01-31 11:30:00+00', '2024-02-01 22:00:00+00']]);
    expect(run("UPDATE ev SET at = at + interval '1 year' RETURNING at").rows).toEqual([['2025-01-31 10:00:00+00']]);
    expect(() => run("SELECT at + interval 'soon' FROM ev")).toThrow(expect.objectContaining({ code: '22007' }));
    expect(() => run("SELECT 1 + interval '1 day'")).toThrow(expect.objectContaining({ code: '0A000' }));
    expect(() => run("SELECT interval '1 day'")).toThrow(expect.objectContaining({ code: '0A000' }));
  });
});

describe('DISTINCT ON', () => {
  it('keeps the first row of each group in ORDER BY order, with *, aliases, positions, joins and LIMIT', async () => {
    engine.executeBatch("CREATE TABLE ev (id int PRIMARY KEY, usr int, at int, what text); INSERT INTO ev VALUES (1, 1, 10, 'a'), (2, 1, 30, 'b'), (3, 2, 20, 'c'), (4, 2, 5, 'd'), (5, 3, 1, 'e');", CTX);
    const latest = engine.execute('SELECT DISTINCT ON (usr) * FROM ev ORDER BY usr, at DESC', [], CTX);
    expect(latest.fields?.map((f) => f.name)).toEqual(['id', 'usr', 'at', 'what']);
    expect(latest.rows).toEqual([[2, 1, 30, 'b'], [3, 2, 20, 'c'], [5, 3, 1, 'e']]);
    expect(rows('SELECT DISTINCT ON (usr) usr, what AS latest FROM ev ORDER BY usr, at DESC LIMIT 2')).toEqual([[1, 'b'], [2, 'c']]);
    expect(rows('SELECT DISTINCT ON (1) usr, at FROM ev ORDER BY 1, 2')).toEqual([[1, 10], [2, 5], [3, 1]]);
    expect(rows('SELECT DISTINCT ON (e.usr) e.id FROM ev e JOIN ev f ON f.id = e.id ORDER BY e.usr, e.at')).toEqual([[1], [4], [5]]);
    expect(rows('SELECT DISTINCT ON (usr) usr FROM ev ORDER BY usr')).toEqual([[1], [2], [3]]);
    expect(rows('SELECT count(*) FROM (SELECT DISTINCT ON (usr) id FROM ev) q')).toEqual([[3n]]); // no ORDER BY: any row of each group
  });
});

describe('timestamp ± untyped text, and round()', () => {
  it("reads an untyped string or parameter added to a timestamp as an interval, as Postgres does (SQLite would add numbers: '2024…' + '1 day' = 2025)", async () => {
    const run = (sql: string, params: SqlValue[] = []) => engine.execute(sql, params, CTX);
    engine.executeBatch("CREATE TABLE ev (id int PRIMARY KEY, at timestamptz); INSERT INTO ev VALUES (1, '2024-01-31 10:00:00+00');", CTX);
    expect(run("SELECT timestamp '2024-01-01' + '1 day' AS x").rows).toEqual([['2024-01-02 00:00:00']]);
    expect(run('SELECT at - $1 AS x FROM ev', ['2 hours']).rows).toEqual([['2024-01-31 08:00:00+00']]);
    expect(engine.describe('SELECT at - $1 FROM ev').paramTypeOids).toEqual([25]);
    expect(run("SELECT id FROM ev WHERE at < now() - '1 hour'").rows).toEqual([]); // now() is 2024-01-02 here
    expect(() => run("SELECT at + 'soon' FROM ev")).toThrow(expect.objectContaining({ code: '22007' }));
  });

  it('round(x, n) rounds half away from zero on the decimal digits (1.005 → 1.01), as Postgres rounds a numeric', async () => {
    expect(engine.execute('SELECT round(1.005, 2), round(2.675, 2), round(2.5), round(-2.5)', [], CTX).rows).toEqual([['1.01', '2.68', '3', '-3']]);
  });
});

describe('array parameters that are not arrays', () => {
  it('refuse a value that is not an array literal (22P02), as Postgres does, instead of reading it as one element', async () => {
    engine.executeBatch('CREATE TABLE flags (id int PRIMARY KEY, ok boolean); INSERT INTO flags VALUES (1, true), (2, false);', CTX);
    expect(() => engine.execute('SELECT id FROM flags WHERE ok = ANY($1)', ['true'], CTX)).toThrow(expect.objectContaining({ code: '22P02' }));
    expect(engine.execute('SELECT id FROM flags WHERE ok = ANY($1)', ['{true}'], CTX).rows).toEqual([[1]]);
  });
});

describe('RETURNING with the target table qualified', () => {
  it('takes alias.column and table.column in UPDATE, DELETE and INSERT … RETURNING', async () => {
    engine.executeBatch("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b');", CTX);
    expect(rows("UPDATE t n SET v = 'x' WHERE n.id = 1 RETURNING n.id, n.v")).toEqual([[1, 'x']]);
    expect(rows('DELETE FROM t AS d WHERE d.id = 2 RETURNING d.id')).toEqual([[2]]);
    expect(rows("INSERT INTO t AS i VALUES (5, 'z') RETURNING i.id, upper(i.v)")).toEqual([[5, 'Z']]);
  });
});

describe('comparing dates and timestamps', () => {
  it('compares a date with a timestamp, a timestamp with a timestamptz and an untyped string with either as Postgres does', async () => {
    const ids = (sql: string) => engine.execute(sql, [], CTX).rows.map((r) => r[0]);
    engine.executeBatch("CREATE TABLE ev (id int PRIMARY KEY, d date, plain timestamp, at timestamptz); INSERT INTO ev VALUES (1, '2024-01-31', '2024-02-29 00:00:00', '2024-02-29 00:00:00+00'), (2, '2024-03-01', '2024-03-01 12:00:00', '2024-03-01 12:00:00+00');", CTX);
    expect(ids("SELECT id FROM ev WHERE d + interval '1 month' = date '2024-02-29'")).toEqual([1]);
    expect(ids('SELECT id FROM ev WHERE plain = at ORDER BY id')).toEqual([1, 2]);
    expect(ids("SELECT id FROM ev WHERE plain = '2024-02-29'")).toEqual([1]);
    expect(ids("SELECT id FROM ev WHERE '2024-03-01' = d")).toEqual([2]);
    expect(ids("SELECT id FROM ev WHERE plain IN ('2024-02-29', '2024-03-02')")).toEqual([1]); // lists and BETWEEN too
    expect(ids('SELECT id FROM ev WHERE d < plain ORDER BY id')).toEqual([1, 2]);
    expect(() => ids("SELECT id FROM ev WHERE plain = 'soon'")).toThrow(expect.objectContaining({ code: '22007' }));
  });
});
