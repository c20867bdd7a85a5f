// pg_catalog / information_schema: the exact queries psql 15 sends for its meta-commands
// (captured with `psql -E`, see psql-queries.ts), the type queries postgres.js and pgjdbc
// send at connect time, and what psycopg2 sends, run through SqlEngine on a small schema.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqlEngine } from '../../../src/sql/engine.js';
import { PG_TYPE_OIDS } from '../../../src/sql/pgtypes.js';
import { SqlError, type SqlValue } from '../../../src/sql/types.js';
import { CTX, openEngine } from './helpers.js';
import * as psql from './psql-queries.js';

const SCHEMA = `
  CREATE TABLE items (id serial PRIMARY KEY, name varchar(20) NOT NULL, price numeric(10,2), qty int DEFAULT 0,
                      active boolean DEFAULT true, created timestamptz);
  CREATE TABLE orders (id bigint PRIMARY KEY, item_id int REFERENCES items (id) ON DELETE CASCADE, note text UNIQUE);
  CREATE UNIQUE INDEX items_name_key ON items (name);
  CREATE INDEX orders_item_idx ON orders (item_id);
  CREATE INDEX items_lower ON items (lower(name)) WHERE qty > 0;
  CREATE VIEW cheap AS SELECT name FROM items WHERE price < 1;`;

let engine: SqlEngine;

async function engineWithSchema(): Promise<SqlEngine> {
  const created = await openEngine();
  const setup = created.executeBatch(SCHEMA, CTX);
  expect(setup.error).toBeUndefined();
  // An engine-internal table, as the apply worker keeps: never visible through the catalog.
  created.db.exec('CREATE TABLE _paxosql_applied (slot integer)');
  return created;
}

beforeEach(async () => {
  engine = await engineWithSchema();
});
afterEach(() => engine.db.close());

function rows(sql: string, params: SqlValue[] = []): readonly (readonly SqlValue[])[] {
  return engine.execute(sql, params, CTX).rows;
}

/** Runs \d NAME's lookup; returns the OID psql would substitute into the follow-up queries. */
function lookup(name: string): string {
  const found = rows(psql.psqlLookupRelation(name));
  expect(found).toHaveLength(1);
  expect(found[0]?.slice(1)).toEqual(['public', name]);
  return String(found[0]?.[0]);
}

describe('psql 15 meta-commands', () => {
  it('\\dt lists tables only, without internal tables', () => {
    expect(rows(psql.PSQL_LIST_TABLES)).toEqual([['public', 'items', 'table', 'alice'], ['public', 'orders', 'table', 'alice']]);
  });

  it('\\d lists tables and views', () => {
    expect(rows(psql.PSQL_LIST_RELATIONS)).toEqual([
      ['public', 'cheap', 'view', 'alice'], ['public', 'items', 'table', 'alice'], ['public', 'orders', 'table', 'alice'],
    ]);
  });

  it('\\di lists explicit indexes and the ones behind PRIMARY KEY and UNIQUE, with their tables', () => {
    expect(rows(psql.PSQL_LIST_INDEXES)).toEqual([
      ['public', 'items_lower', 'index', 'alice', 'items'],
      ['public', 'items_name_key', 'index', 'alice', 'items'],
      ['public', 'items_pkey', 'index', 'alice', 'items'],
      ['public', 'orders_item_idx', 'index', 'alice', 'orders'],
      ['public', 'orders_note_key', 'index', 'alice', 'orders'],
      ['public', 'orders_pkey', 'index', 'alice', 'orders'],
    ]);
  });

  it('\\dv lists views', () => {
    expect(rows(psql.PSQL_LIST_VIEWS)).toEqual([['public', 'cheap', 'view', 'alice']]);
  });

  it('\\l lists the session database', () => {
    expect(rows(psql.PSQL_LIST_DATABASES)).toEqual([['shop', 'alice', 'UTF8', 'C', 'C', null, 'libc', null]]);
  });

  it('\\dn lists the public schema', () => {
    expect(rows(psql.PSQL_LIST_SCHEMAS)).toEqual([['public', 'alice']]);
  });

  it('\\du lists the connected role with its attributes and an empty membership array', () => {
    expect(rows(psql.PSQL_LIST_ROLES)).toEqual([['alice', true, true, true, true, true, -1, null, '{}', true, true]]);
  });

  it('\\d TABLE shows columns with formatted types, not-null flags and defaults', () => {
    const [, columns] = psql.psqlDescribeTable(lookup('items'));
    expect(rows(columns ?? '')).toEqual([
      ['id', 'integer', null, true, null, 'd', ''],
      ['name', 'character varying(20)', null, true, null, '', ''],
      ['price', 'numeric(10,2)', null, false, null, '', ''],
      ['qty', 'integer', '0', false, null, '', ''],
      ['active', 'boolean', 'true', false, null, '', ''],
      ['created', 'timestamp with time zone', null, false, null, '', ''],
    ]);
  });

  it('\\d TABLE shows indexes: primary key first, definitions with USING btree', () => {
    const [, , indexes] = psql.psqlDescribeTable(lookup('items'));
    expect(rows(indexes ?? '').map((row) => row.slice(0, 8))).toEqual([
      ['items_pkey', true, true, false, true, 'CREATE UNIQUE INDEX items_pkey ON public.items USING btree (id)', 'PRIMARY KEY (id)', 'p'],
      ['items_lower', false, false, false, true, 'CREATE INDEX items_lower ON public.items USING btree (lower(name)) WHERE (qty > 0)', null, null],
      ['items_name_key', false, true, false, true, 'CREATE UNIQUE INDEX items_name_key ON public.items USING btree (name)', null, null],
    ]);
  });

  it('\\d TABLE shows foreign keys on the referencing table and "Referenced by" on the other', () => {
    const ordersOid = lookup('orders');
    const itemsOid = lookup('items');
    const fk = 'FOREIGN KEY (item_id) REFERENCES items(id) ON DELETE CASCADE';
    // psql only asks for foreign keys when relhastriggers is set (Postgres implements them with triggers).
    expect(rows(psql.psqlDescribeTable(ordersOid)[0] ?? '')[0]?.[4]).toBe(true);
    expect(rows(psql.psqlDescribeTable(ordersOid)[3] ?? '')).toEqual([[true, 'orders_item_id_fkey', fk, 'orders']]);
    expect(rows(psql.psqlDescribeTable(itemsOid)[4] ?? '')).toEqual([['orders_item_id_fkey', 'orders', fk]]);
    const uniqueConstraint = rows(psql.psqlDescribeTable(ordersOid)[2] ?? '').find((row) => row[0] === 'orders_note_key');
    expect(uniqueConstraint?.slice(5, 8)).toEqual(['CREATE UNIQUE INDEX orders_note_key ON public.orders USING btree (note)', 'UNIQUE (note)', 'u']);
  });

  it('\\d TABLE shows CHECK constraints with their names (Postgres-style default names)', () => {
    const setup = engine.executeBatch('CREATE TABLE ck (n int CHECK (n > 0), m int, "Label" text, CONSTRAINT m_pos CHECK (m >= 0 AND m < n), CHECK ("Label" <> \'\'))', CTX);
    expect(setup.error).toBeUndefined();
    const oid = lookup('ck');
    expect(rows(psql.psqlDescribeTable(oid)[0] ?? '')[0]?.[0]).toBe(3); // relchecks: psql asks only when > 0
    expect(rows(psql.psqlCheckConstraints(oid))).toEqual([
      ['ck_check', 'CHECK ("Label" <> \'\')'], ['ck_n_check', 'CHECK (n > 0)'], ['m_pos', 'CHECK (m >= 0 AND m < n)'],
    ]);
  });

  it('every query of \\d TABLE runs (policies, statistics, publications, triggers, inheritance, partitions)', () => {
    for (const sql of psql.psqlDescribeTable(lookup('orders'))) {
      expect(() => engine.execute(sql, [], CTX), sql).not.toThrow();
    }
  });

  it('\\d VIEW shows the view columns with their types', () => {
    const queries = psql.psqlDescribeView(lookup('cheap'));
    expect(rows(queries[0] ?? '')[0]?.slice(0, 2)).toEqual([0, 'v']);
    expect(rows(queries[1] ?? '')).toEqual([['name', 'character varying(20)', null, false, null, '', '']]);
  });

  it('\\d INDEX shows key columns and the table it belongs to', () => {
    const queries = psql.psqlDescribeIndex(lookup('items_name_key'));
    expect(rows(queries[1] ?? '')).toEqual([['name', 'character varying(20)', 'yes', 'name']]);
    expect(rows(queries[2] ?? '')).toEqual([[true, false, false, true, false, false, false, false, 'btree', 'items', null]]);
  });

  it('\\d on a missing name finds nothing (psql then says "Did not find any relation")', () => {
    expect(rows(psql.psqlLookupRelation('nosuch'))).toEqual([]);
  });

  it('reports catalog column types with their real OIDs so psql reads booleans as t/f', () => {
    const fields = engine.execute(psql.psqlLookupRelation('items'), [], CTX).fields?.map((f) => f.typeOid);
    expect(fields).toEqual([26, 19, 19]);
    const columnFields = engine.execute(psql.psqlDescribeTable(lookup('items'))[1] ?? '', [], CTX).fields?.map((f) => f.typeOid);
    expect(columnFields).toEqual([19, 25, 25, PG_TYPE_OIDS.bool, 19, 18, 18]);
  });
});

describe('driver startup queries', () => {
  it('postgres.js array type fetch returns every supported base type with its real array OID', () => {
    const result = engine.execute(
      "select b.oid, b.typarray from pg_catalog.pg_type a left join pg_catalog.pg_type b on b.oid = a.typelem where a.typcategory = 'A' group by b.oid, b.typarray order by b.oid",
      [], CTX);
    expect(result.fields?.map((f) => f.typeOid)).toEqual([26, 26]);
    const pairs = new Map(result.rows.map((row) => [Number(row[0]), Number(row[1])]));
    const expected: [number, number][] = [
      [16, 1000], [17, 1001], [18, 1002], [19, 1003], [20, 1016], [21, 1005], [23, 1007], [24, 1008], [25, 1009], [26, 1028],
      [114, 199], [700, 1021], [701, 1022], [1042, 1014], [1043, 1015], [1082, 1182], [1114, 1115], [1184, 1185],
      [1700, 1231], [2205, 2210], [2950, 2951], [3802, 3807],
    ];
    for (const [oid, array] of expected) expect(pairs.get(oid), `typarray of ${oid}`).toBe(array);
  });

  const JDBC_TYPE_BY_OID = "SELECT typinput='pg_catalog.array_in'::regproc as is_array, typtype, typname, pg_type.oid FROM pg_catalog.pg_type LEFT JOIN (select ns.oid as nspoid, ns.nspname, r.r from pg_namespace as ns join ( select s.r, (current_schemas(false))[s.r] as nspname from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r using ( nspname ) ) as sp ON sp.nspoid = typnamespace WHERE pg_type.oid = $1 ORDER BY sp.r, pg_type.oid DESC";

  it('pgjdbc type lookup by OID tells arrays from base types', () => {
    expect(rows(JDBC_TYPE_BY_OID, [1007])).toEqual([[true, 'b', '_int4', '1007']]);
    expect(rows(JDBC_TYPE_BY_OID, ['23'])).toEqual([[false, 'b', 'int4', '23']]);
    const described = engine.describe(JDBC_TYPE_BY_OID);
    expect(described.fields?.map((f) => f.typeOid)).toEqual([PG_TYPE_OIDS.bool, 18, 19, 26]);
  });

  it('pgjdbc array element and type-by-name lookups', () => {
    expect(rows('SELECT e.typdelim FROM pg_catalog.pg_type t, pg_catalog.pg_type e WHERE t.oid = $1 and t.typelem = e.oid', [1015])).toEqual([[',']]);
    expect(rows('SELECT e.oid, n.nspname = ANY(current_schemas(true)), n.nspname, e.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid JOIN pg_catalog.pg_type e ON t.typelem = e.oid WHERE t.oid = $1', [1007]))
      .toEqual([['23', true, 'pg_catalog', 'int4']]);
    expect(rows("SELECT pg_type.oid, typname FROM pg_catalog.pg_type WHERE typname = $1", ['timestamptz'])).toEqual([['1184', 'timestamptz']]);
  });

  it('pgjdbc DatabaseMetaData.getTables', () => {
    const getTables = "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'  WHEN true THEN CASE  WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TABLE'   WHEN 'v' THEN 'SYSTEM VIEW'   WHEN 'i' THEN 'SYSTEM INDEX'   ELSE NULL   END  WHEN n.nspname = 'pg_toast' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TOAST TABLE'   WHEN 'i' THEN 'SYSTEM TOAST INDEX'   ELSE NULL   END  ELSE CASE c.relkind   WHEN 'r' THEN 'TEMPORARY TABLE'   WHEN 'p' THEN 'TEMPORARY TABLE'   WHEN 'i' THEN 'TEMPORARY INDEX'   WHEN 'S' THEN 'TEMPORARY SEQUENCE'   WHEN 'v' THEN 'TEMPORARY VIEW'   ELSE NULL   END  END  WHEN false THEN CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN 'PARTITIONED TABLE'  WHEN 'i' THEN 'INDEX'  WHEN 'P' then 'PARTITIONED INDEX'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  WHEN 'c' THEN 'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  ELSE NULL  END  ELSE NULL  END  AS TABLE_TYPE, d.description AS REMARKS,  '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0  and d.classoid = 'pg_class'::regclass)  WHERE c.relnamespace = n.oid  AND c.relname LIKE '%'  AND (false  OR ( c.relkind = 'r' AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' )  OR ( c.relkind = 'v' AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' ) ) ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME";
    expect(rows(getTables).map((row) => row.slice(1, 4))).toEqual([
      ['public', 'items', 'TABLE'], ['public', 'orders', 'TABLE'], ['public', 'cheap', 'VIEW'],
    ]);
    expect(rows("SELECT 'pg_class'::regclass::oid, 'pg_catalog.pg_type'::regclass")).toEqual([['1259', 'pg_type']]);
  });

  it('pgjdbc DatabaseMetaData.getColumns', () => {
    const getColumns = "SELECT * FROM (SELECT n.nspname,c.relname,a.attname,a.atttypid,a.attnotnull OR (t.typtype = 'd' AND t.typnotnull) AS attnotnull,a.atttypmod,a.attlen,t.typtypmod,row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) AS attnum, nullif(a.attidentity, '') as attidentity,nullif(a.attgenerated, '') as attgenerated,pg_catalog.pg_get_expr(def.adbin, def.adrelid) AS adsrc,dsc.description,t.typbasetype,t.typtype  FROM pg_catalog.pg_namespace n  JOIN pg_catalog.pg_class c ON (c.relnamespace = n.oid)  JOIN pg_catalog.pg_attribute a ON (a.attrelid=c.oid)  JOIN pg_catalog.pg_type t ON (a.atttypid = t.oid)  LEFT JOIN pg_catalog.pg_attrdef def ON (a.attrelid=def.adrelid AND a.attnum = def.adnum)  LEFT JOIN pg_catalog.pg_description dsc ON (c.oid=dsc.objoid AND a.attnum = dsc.objsubid)  LEFT JOIN pg_catalog.pg_class dc ON (dc.oid=dsc.classoid AND dc.relname='pg_class')  LEFT JOIN pg_catalog.pg_namespace dn ON (dc.relnamespace=dn.oid AND dn.nspname='pg_catalog')  WHERE c.relkind in ('r','p','v','f','m') and a.attnum > 0 AND NOT a.attisdropped  AND c.relname LIKE 'items') c WHERE true  ORDER BY nspname,c.relname,attnum";
    expect(rows(getColumns).map((row) => [row[2], row[3], row[4], row[5], row[9], row[11]])).toEqual([
      ['id', '23', true, -1, 'd', null], ['name', '1043', true, 24, null, null], ['price', '1700', false, 655366, null, null],
      ['qty', '23', false, -1, null, '0'], ['active', '16', false, -1, null, 'true'], ['created', '1184', false, -1, null, null],
    ]);
  });

  it('pgjdbc and psycopg2 session statements and SHOW', () => {
    const batch = engine.executeBatch("SET extra_float_digits = 3; SET application_name = 'PostgreSQL JDBC Driver'; SET DATESTYLE TO 'ISO'; BEGIN; SHOW server_version; SHOW default_transaction_isolation; COMMIT", CTX);
    expect(batch.error).toBeUndefined();
    expect(batch.results.map((r) => r.command)).toEqual(['SET', 'SET', 'SET', 'BEGIN', 'SHOW', 'SHOW', 'COMMIT']);
    expect(batch.results[4]?.rows).toEqual([['16.0']]);
    const all = engine.execute('SHOW ALL', [], CTX);
    expect(all.fields?.map((f) => f.name)).toEqual(['name', 'setting', 'description']);
    expect(all.rows).toContainEqual(['application_name', 'psql', '']);
  });

  it('session functions', () => {
    expect(rows("SELECT current_database(), current_user, session_user, current_schema(), current_schema, pg_backend_pid(), current_setting('application_name'), current_schemas(true)"))
      .toEqual([['shop', 'alice', 'alice', 'public', 'public', 4242, 'psql', '{pg_catalog,public}']]);
    expect(String(rows('SELECT version()')[0]?.[0])).toMatch(/^PostgreSQL 16\.0 /);
  });
});

describe('catalog contents', () => {
  it('hides engine-internal and SQLite tables everywhere', () => {
    const names = [
      ...rows('SELECT relname FROM pg_class'), ...rows('SELECT tablename FROM pg_tables'),
      ...rows('SELECT table_name FROM information_schema.tables'), ...rows('SELECT DISTINCT table_name FROM information_schema.columns'),
    ].map((row) => String(row[0]));
    expect(names).toContain('items');
    expect(names.filter((name) => name.startsWith('_paxosql_') || name.startsWith('sqlite_'))).toEqual([]);
    expect(() => engine.execute("SELECT '_paxosql_applied'::regclass", [], CTX)).toThrow(expect.objectContaining({ code: '42P01' }));
  });

  it('::regclass gives the pg_class OID and prints as the name; OIDs are the same on every connection', async () => {
    const [oid, printed, text] = rows("SELECT 'items'::regclass::oid, 'public.items'::regclass, 'items'::regclass::text")[0] ?? [];
    expect(rows("SELECT oid FROM pg_class WHERE relname = 'items'")).toEqual([[oid]]);
    expect([printed, text]).toEqual(['items', 'items']);
    const other = await engineWithSchema();
    try {
      expect(other.execute("SELECT 'items'::regclass::oid", [], CTX).rows).toEqual([[oid]]);
    } finally {
      other.db.close();
    }
    expect(() => engine.execute("SELECT 'nosuch'::regclass", [], CTX)).toThrow(expect.objectContaining({ code: '42P01' }));
  });

  it('pg_type has the real OIDs, names and categories', () => {
    expect(rows("SELECT oid, typname, typtype, typcategory, typelem, typarray FROM pg_type WHERE typname IN ('bool', 'int4', '_int4', 'varchar', 'numeric', 'regclass') ORDER BY oid"))
      .toEqual([
        ['16', 'bool', 'b', 'B', '0', '1000'], ['23', 'int4', 'b', 'N', '0', '1007'], ['1007', '_int4', 'b', 'A', '23', '0'],
        ['1043', 'varchar', 'b', 'S', '0', '1015'], ['1700', 'numeric', 'b', 'N', '0', '1231'], ['2205', 'regclass', 'b', 'N', '0', '2210'],
      ]);
    expect(rows("SELECT format_type(1015, -1), format_type(1700, 655366), 'character varying'::regtype::oid")).toEqual([['character varying[]', 'numeric(10,2)', '1043']]);
  });

  it('information_schema.columns describes columns as ORMs expect', () => {
    expect(rows("SELECT column_name, data_type, is_nullable, column_default, character_maximum_length, numeric_precision, numeric_scale, udt_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'items' ORDER BY ordinal_position"))
      .toEqual([
        ['id', 'integer', 'NO', null, null, 32, 0, 'int4'],
        ['name', 'character varying', 'NO', null, 20, null, null, 'varchar'],
        ['price', 'numeric', 'YES', null, null, 10, 2, 'numeric'],
        ['qty', 'integer', 'YES', '0', null, 32, 0, 'int4'],
        ['active', 'boolean', 'YES', 'true', null, null, null, 'bool'],
        ['created', 'timestamp with time zone', 'YES', null, null, null, null, 'timestamptz'],
      ]);
    expect(rows("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"))
      .toEqual([['cheap', 'VIEW'], ['items', 'BASE TABLE'], ['orders', 'BASE TABLE']]);
    expect(rows("SELECT constraint_name, constraint_type FROM information_schema.table_constraints WHERE table_name = 'orders' ORDER BY 1"))
      .toEqual([['orders_item_id_fkey', 'FOREIGN KEY'], ['orders_note_key', 'UNIQUE'], ['orders_pkey', 'PRIMARY KEY']]);
  });

  it('follows schema changes, including ones rolled back', () => {
    expect(engine.executeBatch('ALTER TABLE orders ADD COLUMN shipped date', CTX).error).toBeUndefined();
    expect(rows(psql.psqlDescribeTable(lookup('orders'))[1] ?? '').map((row) => row.slice(0, 2))).toContainEqual(['shipped', 'date']);
    const batch = engine.executeBatch('BEGIN; CREATE TABLE scratch (x int); SELECT relname FROM pg_class WHERE relname = \'scratch\'; ROLLBACK', CTX);
    expect(batch.error).toBeUndefined();
    expect(batch.results[2]?.rows).toEqual([['scratch']]);
    expect(rows("SELECT relname FROM pg_class WHERE relname = 'scratch'")).toEqual([]);
  });

  it('recreates its tables when the transaction that first created them rolls back', () => {
    const batch = engine.executeBatch("BEGIN; SELECT relname FROM pg_class WHERE relname = 'items'; ROLLBACK", CTX);
    expect(batch.error).toBeUndefined();
    expect(batch.results[1]?.rows).toEqual([['items']]);
    expect(rows("SELECT relname FROM pg_class WHERE relname = 'items'")).toEqual([['items']]);
  });

  it('psycopg 3 type lookup: to_regtype and oid::regtype::text', () => {
    expect(rows("SELECT typname AS name, oid, typarray AS array_oid, oid::regtype::text AS regtype, typdelim AS delimiter FROM pg_type t WHERE t.oid = to_regtype($1) ORDER BY t.oid", ['uuid']))
      .toEqual([['uuid', '2950', '2951', 'uuid', ',']]);
    expect(rows("SELECT to_regtype('nosuch'), to_regclass('items') IS NOT NULL, to_regtype('int4')")).toEqual([[null, true, 'integer']]);
  });

  it('shows the session user and database of each statement', () => {
    const bob = { ...CTX, session: { user: 'bob', database: 'other', backendPid: 1 } };
    expect(engine.execute(psql.PSQL_LIST_SCHEMAS, [], bob).rows).toEqual([['public', 'bob']]);
    expect(engine.execute(psql.PSQL_LIST_DATABASES, [], bob).rows[0]?.slice(0, 2)).toEqual(['other', 'bob']);
    expect(rows(psql.PSQL_LIST_SCHEMAS)).toEqual([['public', 'alice']]);
  });

  it('catalog relations cannot be written', () => {
    expect(() => engine.execute("INSERT INTO pg_catalog.pg_class (relname) VALUES ('x')", [], CTX)).toThrow(expect.objectContaining({ code: '42501' }));
  });

  it('array support stays limited to catalog queries', () => {
    expect(() => engine.execute('SELECT ARRAY[1, 2] FROM items', [], CTX)).toThrow(SqlError);
    expect(() => engine.execute('SELECT 1 FROM items WHERE id = ANY (ARRAY[1])', [], CTX)).toThrow(expect.objectContaining({ code: '0A000' }));
    expect(rows("SELECT array_to_string(ARRAY(SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY 1), ',')")).toEqual([['items,orders']]);
  });
});

describe('read-only connections', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'paxosql-catalog-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answer catalog queries from the same data.db (the catalog lives in TEMP tables)', async () => {
    const path = join(dir, 'data.db');
    const writer = await SqlEngine.create(new Database(path));
    const reader = await SqlEngine.create(new Database(path, { readonly: true }));
    try {
      expect(writer.executeBatch(SCHEMA, CTX).error).toBeUndefined();
      expect(reader.execute(psql.PSQL_LIST_TABLES, [], CTX).rows.map((row) => row[1])).toEqual(['items', 'orders']);
      expect(writer.executeBatch('CREATE TABLE later (x int)', CTX).error).toBeUndefined();
      expect(reader.execute(psql.PSQL_LIST_TABLES, [], CTX).rows.map((row) => row[1])).toEqual(['items', 'later', 'orders']);
    } finally {
      reader.db.close();
      writer.db.close();
    }
  });
});
