// What real clients needed from the SQL layer: pgbench's DDL (storage
// parameters, VACUUM/ANALYZE, ALTER TABLE … ADD PRIMARY KEY by a table
// rebuild), BIGSERIAL's type, and date arithmetic.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlEngine } from '../../../src/sql/engine.js';
import { SqlError } from '../../../src/sql/types.js';
import { CTX, openEngine } from './helpers.js';

let engine: SqlEngine;
beforeEach(async () => {
  engine = await openEngine();
});
afterEach(() => engine.db.close());

function run(sql: string, params: unknown[] = []) {
  return engine.execute(sql, params as never[], CTX);
}

function fails(sql: string): string {
  try {
    run(sql);
  } catch (error) {
    return error instanceof SqlError ? error.code : 'not a SqlError';
  }
  return 'no error';
}

describe('pgbench DDL', () => {
  it('accepts storage parameters and refuses unknown ones', () => {
    expect(run('CREATE TABLE t (a int NOT NULL, b int) WITH (fillfactor = 100)').command).toBe('CREATE TABLE');
    expect(fails('CREATE TABLE u (a int) WITH (colour = 1)')).toBe('22023');
  });

  it('answers VACUUM, ANALYZE and CHECKPOINT, and refuses VACUUM inside a transaction block', () => {
    run('CREATE TABLE t (a int)');
    expect(run('VACUUM ANALYZE t').command).toBe('VACUUM');
    expect(run('ANALYZE t').command).toBe('ANALYZE');
    expect(run('CHECKPOINT').command).toBe('CHECKPOINT');
    const r = engine.executeBatch('BEGIN; VACUUM t', CTX);
    expect(r.error?.code).toBe('25001');
  });

  it('adds a primary key by rebuilding the table, keeping rows, indexes and views', () => {
    engine.executeBatch(`CREATE TABLE t (a int, b text DEFAULT 'x' CHECK (b <> ''));
      CREATE INDEX t_b ON t (b); CREATE VIEW v AS SELECT a FROM t;
      INSERT INTO t (a) VALUES (1), (2);`, CTX);
    expect(run('ALTER TABLE t ADD PRIMARY KEY (a)').command).toBe('ALTER TABLE');
    expect(run('SELECT a, b FROM v JOIN t USING (a) ORDER BY a').rows).toEqual([[1, 'x'], [2, 'x']]);
    expect(fails('INSERT INTO t (a) VALUES (1)')).toBe('23505');
    expect(fails('INSERT INTO t (a) VALUES (NULL)')).toBe('23502');
    expect(fails("INSERT INTO t (a, b) VALUES (3, '')")).toBe('23514');
    expect(fails('ALTER TABLE t ADD PRIMARY KEY (b)')).toBe('42P16');
    expect(run("SELECT count(*) FROM sqlite_master WHERE name IN ('t_b', 'v')").rows).toEqual([[2n]]);
  });

  it('makes every column of a composite primary key NOT NULL, as the catalog says', () => {
    run('CREATE TABLE comp (a int, b int, v text, PRIMARY KEY (a, b))');
    expect(fails("INSERT INTO comp VALUES (NULL, 1, 'z')")).toBe('23502');
    expect(fails("INSERT INTO comp VALUES (1, NULL, 'z')")).toBe('23502');
    expect(() => run("INSERT INTO comp VALUES (NULL, 1, 'z')")).toThrow('null value in column "a" of relation "comp" violates not-null constraint');
    expect(run("INSERT INTO comp VALUES (1, 1, NULL)").command).toBe('INSERT 0 1');
    expect(run("SELECT attname, attnotnull FROM pg_attribute WHERE attrelid = 'comp'::regclass AND attnum > 0 ORDER BY attnum").rows)
      .toEqual([['a', true], ['b', true], ['v', false]]);
    expect(run("SELECT column_name, is_nullable FROM information_schema.columns WHERE table_name = 'comp' ORDER BY ordinal_position").rows)
      .toEqual([['a', 'NO'], ['b', 'NO'], ['v', 'YES']]);
    run('CREATE TABLE later (a int, b int)');
    run('ALTER TABLE later ADD PRIMARY KEY (a, b)');
    expect(fails('INSERT INTO later VALUES (1, NULL)')).toBe('23502');
  });

  it('refuses to drop a table a foreign key or a view depends on (2BP01), and drops it with its dependents', () => {
    engine.executeBatch(`CREATE TABLE users (id bigserial PRIMARY KEY, email text);
      CREATE TABLE orders (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, user_id bigint REFERENCES users (id));
      INSERT INTO users (email) VALUES ('a');
      CREATE TABLE tree (id int PRIMARY KEY, parent int REFERENCES tree (id)); INSERT INTO tree VALUES (1, NULL), (2, 1);
      CREATE TABLE base (a int); CREATE VIEW over_base AS SELECT b.a FROM base AS b;`, CTX);
    let error: unknown;
    try {
      run('DROP TABLE users');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({
      code: '2BP01', message: 'cannot drop table users because other objects depend on it',
      detail: 'constraint orders_user_id_fkey on table orders depends on table users',
      hint: 'Use DROP ... CASCADE to drop the dependent objects too.',
    });
    // Refused even with no rows referencing it (SQLite would drop it, and break orders).
    expect(run('INSERT INTO orders (user_id) VALUES (1)').command).toBe('INSERT 0 1');
    expect(fails('DROP TABLE base')).toBe('2BP01');
    expect(fails('DROP TABLE users CASCADE')).toBe('0A000');
    expect(run('DROP TABLE tree').command).toBe('DROP TABLE'); // it references only itself
    expect(run('DROP TABLE users, orders').command).toBe('DROP TABLE'); // the child is dropped first
    run('DROP VIEW over_base');
    expect(run('DROP TABLE base').command).toBe('DROP TABLE');
    expect(run("SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name <> 'sqlite_sequence'").rows).toEqual([[0n]]);
  });

  it('checks existing rows against an added constraint, as Postgres does', () => {
    engine.executeBatch('CREATE TABLE t (a int, b int); INSERT INTO t VALUES (1, 1), (1, NULL);', CTX);
    expect(fails('ALTER TABLE t ADD UNIQUE (a)')).toBe('23505');
    expect(fails('ALTER TABLE t ALTER COLUMN b SET NOT NULL')).toBe('23502');
    expect(fails('ALTER TABLE t ADD CONSTRAINT c CHECK (b > 1) NOT VALID')).toBe('0A000');
    // Nothing changed: the failed rebuilds rolled back.
    expect(run('SELECT count(*) FROM t').rows).toEqual([[2n]]);
    run('DELETE FROM t WHERE b IS NULL');
    expect(run('ALTER TABLE t ALTER COLUMN b SET NOT NULL').command).toBe('ALTER TABLE');
    expect(fails('INSERT INTO t VALUES (2, NULL)')).toBe('23502');
  });

  it('keeps an AUTOINCREMENT counter across a rebuild', () => {
    engine.executeBatch("CREATE TABLE s (id serial PRIMARY KEY, v int); INSERT INTO s (v) VALUES (1), (2); DELETE FROM s WHERE id = 2;", CTX);
    run('ALTER TABLE s ADD CONSTRAINT v_positive CHECK (v > 0)');
    expect(run('INSERT INTO s (v) VALUES (5) RETURNING id').rows).toEqual([[3]]);
  });

  it('refuses to rebuild a table other tables reference', () => {
    engine.executeBatch('CREATE TABLE p (id int PRIMARY KEY, n int); CREATE TABLE c (pid int REFERENCES p (id));', CTX);
    expect(fails('ALTER TABLE p ADD UNIQUE (n)')).toBe('0A000');
  });
});

describe('types clients see', () => {
  it('gives BIGSERIAL and SMALLINT identity keys their Postgres types', () => {
    run('CREATE TABLE b (id BIGSERIAL PRIMARY KEY, v text)');
    expect(run("INSERT INTO b (v) VALUES ('x') RETURNING id").fields).toEqual([{ name: 'id', typeOid: 20 }]);
    expect(run('SELECT id FROM b').fields).toEqual([{ name: 'id', typeOid: 20 }]);
    run('CREATE TABLE s (id smallint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v int)');
    expect(run('INSERT INTO s (v) VALUES (1) RETURNING id').fields).toEqual([{ name: 'id', typeOid: 21 }]);
  });

  it('does date arithmetic in days', () => {
    const r = run("SELECT DATE '2024-05-17' + 10, DATE '2024-03-01' - 1, DATE '2024-03-01' - DATE '2024-01-01', 3 + DATE '2024-02-27'");
    expect(r.rows).toEqual([['2024-05-27', '2024-02-29', 60, '2024-03-01']]);
    expect(r.fields?.map((f) => f.typeOid)).toEqual([1082, 1082, 23, 1082]);
    const trunc = run("SELECT date_trunc('month', TIMESTAMP '2024-05-17 10:11:12')");
    expect(trunc.rows).toEqual([['2024-05-01 00:00:00']]);
    expect(trunc.fields?.[0]?.typeOid).toBe(1114);
  });
});

describe('NUMERIC stored as a double', () => {
  it('refuses a value with more significant digits than it can keep, instead of rounding it', async () => {
    const engine = await openEngine();
    engine.execute('CREATE TABLE amounts (v NUMERIC)', [], CTX);
    engine.execute('INSERT INTO amounts VALUES ($1)', ['123456789012345'], CTX);
    expect(() => engine.execute('INSERT INTO amounts VALUES ($1)', ['12345678901234.5678'], CTX)).toThrow(
      expect.objectContaining({ code: '22003' }),
    );
    expect(engine.execute('SELECT v::text AS v FROM amounts', [], CTX).rows).toEqual([['123456789012345']]);
  });

  it('rounds to a numeric(p,s) scale half away from zero on the digits written, and refuses what overflows the precision', () => {
    run('CREATE TABLE money (id int PRIMARY KEY, amt numeric(10,2))');
    // As doubles 1.005 and 2.675 lie just below the half: rounding the double would give 1.00 and 2.67.
    run('INSERT INTO money VALUES (1, 1.005), (2, 2.675), (3, 1.015), (4, 0.285), (5, -1.005), (6, 0.004)');
    run('INSERT INTO money VALUES ($1, $2)', [7, '2.675']);
    run('INSERT INTO money VALUES (8, 99999999.99)');
    expect(run('SELECT amt FROM money ORDER BY id').rows).toEqual([['1.01'], ['2.68'], ['1.02'], ['0.29'], ['-1.01'], ['0.00'], ['2.68'], ['99999999.99']]);
    expect(fails('INSERT INTO money VALUES (9, 99999999999.99)')).toBe('22003');
    expect(fails('INSERT INTO money VALUES (9, 99999999.995)')).toBe('22003'); // rounds up to 10^8
    expect(run("SELECT 1.005::numeric(5,2)::text, 12.5::numeric(3,0)::text").rows).toEqual([['1.01', '13']]);
  });
});

describe('result column types', () => {
  beforeEach(() => {
    engine.executeBatch('CREATE TABLE m (g int, a numeric(10,2)); INSERT INTO m VALUES (1, 10), (2, 2.5), (3, 4);', CTX);
  });
  const oids = (sql: string): number[] => run(sql).fields?.map((f) => f.typeOid) ?? [];

  it('GREATEST, LEAST, COALESCE and CASE take the widest numeric type among their arguments', () => {
    expect(oids('SELECT greatest(g, 2.5), least(2.5, g), coalesce(g, 2.5), CASE WHEN g > 1 THEN g ELSE 2.5 END FROM m')).toEqual([1700, 1700, 1700, 1700]);
    expect(oids('SELECT coalesce(g, 0), greatest(g, 1::bigint) FROM m')).toEqual([23, 20]);
    expect(run('SELECT greatest(g, 2.5) AS x FROM m ORDER BY g').rows).toEqual([['2.5'], ['2.5'], ['3']]);
  });

  it('an integer result beyond its type fails with 22003, as in Postgres, instead of coming back as a double', () => {
    expect(fails('SELECT 9223372036854775807::bigint + 1')).toBe('22003');
    expect(fails('SELECT 2147483647::int * 2')).toBe('22003');
    expect(fails('SELECT g * 2147483647 FROM m')).toBe('22003'); // int4 column × int4: 2 × 2147483647
    expect(run('SELECT 32767::smallint + 1 AS x, 2147483647::bigint * 2 AS y').rows).toEqual([[32768, 4294967294n]]);
  });

  it("a subquery's computed column is typed by all its values, not by the first row's", () => {
    // sum() of 10 is an integer in SQLite, of 2.5 a fraction: int8 would make clients parse '2.5' as an integer.
    expect(oids('SELECT s FROM (SELECT g, sum(a) AS s FROM m GROUP BY g) q ORDER BY g')).toEqual([701]);
    expect(oids('WITH s AS (SELECT g, sum(a) AS s FROM m GROUP BY g) SELECT s FROM s')).toEqual([701]);
    expect(oids("SELECT x FROM (SELECT 1 AS x UNION ALL SELECT 'a') q")).toEqual([25]);
    expect(oids('SELECT x FROM (SELECT g AS x FROM m UNION ALL SELECT 2) q')).toEqual([20]);
  });
});

describe('generated columns', () => {
  beforeEach(() => {
    run('CREATE TABLE gen (a int, b int GENERATED ALWAYS AS (a * 2) STORED)');
  });

  it('RETURNING * includes them, as SELECT * does', () => {
    const inserted = run('INSERT INTO gen (a) VALUES (3) RETURNING *');
    expect(inserted.fields?.map((f) => f.name)).toEqual(['a', 'b']);
    expect(inserted.rows).toEqual([[3, 6]]);
    expect(run('UPDATE gen SET a = 5 RETURNING *').rows).toEqual([[5, 10]]);
    expect(run('INSERT INTO gen VALUES (7, DEFAULT) RETURNING b').rows).toEqual([[14]]);
  });

  it('refuses a value for one with 428C9, as Postgres does', () => {
    expect(fails('INSERT INTO gen VALUES (4, 100)')).toBe('428C9');
    expect(fails('UPDATE gen SET b = 1')).toBe('428C9');
  });
});

describe('ALTER TABLE … IF [NOT] EXISTS', () => {
  it('skips adding a column that exists, dropping one that does not, and altering a table that does not', () => {
    run('CREATE TABLE t (a int, b text)');
    expect(run('ALTER TABLE t ADD COLUMN IF NOT EXISTS b text').command).toBe('ALTER TABLE');
    expect(run('ALTER TABLE t ADD COLUMN IF NOT EXISTS c int').command).toBe('ALTER TABLE');
    expect(run('ALTER TABLE t DROP COLUMN IF EXISTS nope').command).toBe('ALTER TABLE');
    expect(run('ALTER TABLE t DROP COLUMN IF EXISTS a').command).toBe('ALTER TABLE');
    expect(run('ALTER TABLE IF EXISTS missing ADD COLUMN x int').command).toBe('ALTER TABLE');
    expect(run('SELECT * FROM t').fields?.map((f) => f.name)).toEqual(['b', 'c']);
    expect(fails('ALTER TABLE t ADD COLUMN b text')).toBe('42701');
    expect(() => run('ALTER TABLE t DROP COLUMN nope')).toThrow(expect.objectContaining({ code: '42703', message: 'column "nope" does not exist' }));
  });
});

describe('varchar(n) and char(n)', () => {
  it('an explicit cast truncates; storing refuses what is too long, except trailing spaces, which are cut (as Postgres)', () => {
    run('CREATE TABLE vc (v varchar(3), c char(2))');
    expect(run("SELECT 'abcdef'::varchar(3) AS v, 'xyz'::char(2) AS c").rows).toEqual([['abc', 'xy']]);
    run("INSERT INTO vc VALUES ('abc   ', 'ab ')");
    expect(run('SELECT v, c FROM vc').rows).toEqual([['abc', 'ab']]);
    expect(fails("INSERT INTO vc VALUES ('abcd', 'a')")).toBe('22001');
    expect(fails("INSERT INTO vc VALUES ($1, 'a')".replace('$1', "'abc d'"))).toBe('22001');
  });
});

describe('CREATE TABLE AS', () => {
  it("creates a table with the query's names and Postgres types and fills it, atomically; WITH NO DATA, IF NOT EXISTS, column names", () => {
    engine.executeBatch("CREATE TABLE src (id int PRIMARY KEY, v text, n numeric(10,2)); INSERT INTO src VALUES (1, 'a', 1.5), (2, 'b', 2.25), (3, 'c', NULL);", CTX);
    expect(run('CREATE TABLE big AS SELECT id, v AS label, n * 2 AS dbl FROM src WHERE id > 1').command).toBe('SELECT 2');
    expect(run('SELECT * FROM big ORDER BY id').rows).toEqual([[2, 'b', '4.5'], [3, 'c', null]]);
    expect(run("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'big' ORDER BY ordinal_position").rows)
      .toEqual([['id', 'integer'], ['label', 'text'], ['dbl', 'numeric']]);
    expect(run('CREATE TABLE copy AS SELECT * FROM src').command).toBe('SELECT 3');
    expect(run('CREATE TABLE shape (a, b) AS SELECT id, v FROM src WITH NO DATA').command).toBe('SELECT 0');
    expect(run('SELECT * FROM shape').fields?.map((f) => f.name)).toEqual(['a', 'b']);
    expect(run('CREATE TABLE IF NOT EXISTS big AS SELECT 1 AS x').command).toBe('SELECT 0');
    expect(fails('CREATE TABLE big AS SELECT 1 AS x')).toBe('42P07');
    expect(fails('CREATE TABLE untyped AS SELECT NULL AS x')).toBe('0A000');
    expect(fails('CREATE TABLE bad AS SELECT 1 / 0 AS x')).toBe('22012');
    expect(fails('SELECT * FROM bad')).toBe('42P01'); // the failed statement left no table behind
    // SELECT … INTO is the same statement.
    expect(run('SELECT id, v INTO picked FROM src WHERE id = 1').command).toBe('SELECT 1');
    expect(run('SELECT * FROM picked').rows).toEqual([[1, 'a']]);
  });
});
