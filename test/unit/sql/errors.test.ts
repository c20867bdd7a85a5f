import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlEngine } from '../../../src/sql/engine.js';
import { SqlError } from '../../../src/sql/types.js';
import { CTX, openEngine } from './helpers.js';

let engine: SqlEngine;

beforeEach(async () => {
  engine = await openEngine();
  const setup = engine.executeBatch(`
    CREATE TABLE parent (id int PRIMARY KEY, code text UNIQUE);
    CREATE TABLE child (id serial PRIMARY KEY, parent_id int NOT NULL REFERENCES parent (id), n int CHECK (n > 0));
    INSERT INTO parent VALUES (1, 'a');`, CTX);
  expect(setup.error).toBeUndefined();
});
afterEach(() => engine.db.close());

function codeOf(sql: string): string {
  try {
    engine.execute(sql, [], CTX);
  } catch (error) {
    expect(error).toBeInstanceOf(SqlError);
    return (error as SqlError).code;
  }
  return 'no error';
}

describe('SQLSTATE mapping', () => {
  it.each([
    ["INSERT INTO parent VALUES (1, 'b')", '23505'],
    ["INSERT INTO parent VALUES (2, 'a')", '23505'],
    ['INSERT INTO parent (code) VALUES (NULL)', '23502'], // a non-serial integer key is not auto-assigned
    ['INSERT INTO child (parent_id, n) VALUES (NULL, 1)', '23502'],
    ['INSERT INTO child (parent_id, n) VALUES (99, 1)', '23503'],
    ['INSERT INTO child (parent_id, n) VALUES (1, 0)', '23514'],
    ['SELECT * FROM missing', '42P01'],
    ['SELECT nope FROM parent', '42703'],
    ['CREATE TABLE parent (x int)', '42P07'],
    ['SELEC 1', '42601'],
    ["SELECT 'abc'::int", '22P02'],
    ["SELECT 'maybe'::boolean", '22P02'],
    ["SELECT 'not-a-uuid'::uuid", '22P02'],
    ['SELECT 1 / 0', '22012'],
    ['SELECT 1.5 % 0', '22012'],
    ['SELECT no_such_function(1)', '42883'],
    ['SELECT * FROM other.parent', '3F000'],
  ])('%s → %s', (sql, code) => {
    expect(codeOf(sql)).toBe(code);
  });

  it.each([
    ['ALTER TABLE parent ADD COLUMN at timestamptz DEFAULT now()', '0A000'],
    ['ALTER TABLE parent ADD COLUMN d text NOT NULL', '23502'], // parent has a row
    ['ALTER TABLE child DROP COLUMN id', '0A000'],
    [`SELECT 1 ${'UNION ALL SELECT 1 '.repeat(1000)}`, '54000'],
    ['CREATE TABLE shaped (LIKE parent)', '0A000'],
    ["SELECT now() - timestamp '2024-01-01'", '0A000'], // an interval: not a type paxosql has
  ])('what SQLite refuses in its own words gets a SQLSTATE: %s → %s', (sql, code) => {
    expect(codeOf(sql)).toBe(code);
  });

  it('a statement nested deeper than the parser recurses fails with 54001 (stack depth limit exceeded)', () => {
    expect(codeOf(`SELECT ${Array(20_000).fill('1').join(' + ')}`)).toBe('54001');
  });

  it('refuses a write to a view with 0A000', () => {
    engine.execute('CREATE VIEW parents AS SELECT id FROM parent', [], CTX);
    expect(codeOf('INSERT INTO parents VALUES (5)')).toBe('0A000');
    expect(codeOf('DELETE FROM parents')).toBe('0A000');
  });

  it('keeps Postgres-like messages and details for unique violations', () => {
    expect(() => engine.execute("INSERT INTO parent VALUES (3, 'a')", [], CTX)).toThrow(
      expect.objectContaining({ message: 'duplicate key value violates unique constraint "parent_code_key"', detail: 'Key (code) already exists.' }));
  });

  it('reports the parser message for syntax errors', () => {
    expect(() => engine.execute('SELECT FROM WHERE', [], CTX)).toThrow(expect.objectContaining({ code: '42601', message: expect.stringContaining('syntax error') }));
  });

  it('rolls back a whole multi-step statement when one step fails', () => {
    expect(codeOf('DROP TABLE child, no_such_table')).toBe('42P01');
    expect(engine.execute('SELECT count(*) FROM child', [], CTX).rows).toEqual([[0n]]);
  });

  it('checks the number of bound parameters', () => {
    expect(() => engine.execute('SELECT $2::int', [1], CTX)).toThrow(expect.objectContaining({ code: '08P01' }));
  });
});

describe('refusals', () => {
  it.each([
    ['SELECT ARRAY[1, 2]', 'ARRAY'],
    ['SELECT 1 = ANY (ARRAY[1])', 'ANY'],
    ["SELECT '1 day'::interval", 'interval'],
    ['LISTEN channel', 'LISTEN'],
    ["SELECT nextval('s')", 'nextval'],
    ['SELECT p.id FROM parent p, LATERAL (SELECT 1 AS one) s', 'LATERAL'],
    ['CREATE TEMP TABLE t (x int)', 'temporary'],
    ['CREATE TABLE t (x int[])', 'int4[]'],
    ['DROP TABLE parent CASCADE', 'CASCADE'],
    ['SELECT x FROM parent, LATERAL (SELECT 1) AS l(x)', 'LATERAL'],
    ["SELECT 'a' SIMILAR TO 'b'", 'SIMILAR'],
    ['CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql', 'CREATEFUNCTION'],
  ])('%s is refused with 0A000 naming %s', (sql, construct) => {
    expect(() => engine.execute(sql, [], CTX)).toThrow(expect.objectContaining({ code: '0A000', message: expect.stringContaining(construct) }));
  });

  it.each([
    'INSERT INTO parent (id, code) VALUES (9, clock_timestamp()::text)',
    'UPDATE parent SET code = clock_timestamp()::text',
    'DELETE FROM parent WHERE pg_sleep(0) IS NULL',
    'SELECT txid_current()',
    'SELECT timeofday()',
  ])('%s is refused before execution as non-deterministic', (sql) => {
    expect(() => engine.translate(sql)).toThrow(expect.objectContaining({ code: '0A000', message: expect.stringContaining('not deterministic') }));
  });

  it('lets a plain read, which runs on one node only, read the wall clock and sleep', () => {
    const r = engine.execute('SELECT clock_timestamp() > now() AS later, pg_sleep(0.01) AS slept', [], CTX);
    expect(r.fields?.map((f) => f.typeOid)).toEqual([16, 25]);
    expect(r.rows).toEqual([[true, '']]);
  });
});
