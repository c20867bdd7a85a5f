// psql against a follower of a real cluster: scripted sessions (-c and -f),
// the backslash commands people use to look around, and errors with their
// SQLSTATE and exit codes.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../harness.js';
import { runProgram, startCluster, type ProgramResult } from './tools.js';

describe('psql', () => {
  let cluster: LocalCluster;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'paxosql-psql-'));

  beforeAll(async () => {
    const started = await startCluster();
    cluster = started.cluster;
    url = cluster.url(started.follower);
    const setup = await psql(['-f', script('setup.sql', `
      CREATE TABLE ps_users (id serial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, created timestamptz DEFAULT now());
      CREATE INDEX ps_users_created_idx ON ps_users (created);
      CREATE VIEW ps_emails AS SELECT email FROM ps_users;
      INSERT INTO ps_users (email) VALUES ('a@example.com'), ('b@example.com');
    `)]);
    expect(setup.stderr).toBe('');
    expect(setup.code).toBe(0);
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function script(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  function psql(args: readonly string[]): Promise<ProgramResult> {
    return runProgram('psql', ['-X', '-v', 'ON_ERROR_STOP=1', ...args, url], { timeoutMs: 20_000 });
  }

  it('runs -c commands and a -f script, printing results and command tags', async () => {
    const r = await psql(['-c', "INSERT INTO ps_users (email) VALUES ('c@example.com') RETURNING id", '-c', 'SELECT id, email FROM ps_users ORDER BY id']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(' id \n----\n  3\n(1 row)\n\nINSERT 0 1');
    expect(r.stdout).toMatch(/ 1 \| a@example\.com\s*\n\s*2 \| b@example\.com\s*\n\s*3 \| c@example\.com/);

    // Unaligned, tuples only: what shell scripts parse.
    const file = await psql(['-A', '-t', '-f', script('count.sql', "SELECT count(*) FROM ps_users;\nSELECT 'x' || 'y' AS s, 2 + 2 AS n;\n")]);
    expect(file.code).toBe(0);
    expect(file.stdout).toBe('3\nxy|4\n');
  });

  it('runs BEGIN … COMMIT from a script, and ROLLBACK discards', async () => {
    const r = await psql(['-q', '-A', '-t', '-f', script('tx.sql', `
      BEGIN;
      INSERT INTO ps_users (email) VALUES ('tx@example.com');
      SELECT count(*) FROM ps_users WHERE email = 'tx@example.com';
      ROLLBACK;
      SELECT count(*) FROM ps_users WHERE email = 'tx@example.com';
      BEGIN;
      UPDATE ps_users SET email = 'A@example.com' WHERE id = 1;
      COMMIT;
      SELECT email FROM ps_users WHERE id = 1;
    `)]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1\n0\nA@example.com\n');
  });

  it('\\d TABLE describes columns, types, nullability, defaults and indexes', async () => {
    const r = await psql(['-c', '\\d ps_users']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Table "public.ps_users"');
    expect(r.stdout).toMatch(/ id\s+\| integer\s+\|\s+\| not null \|/);
    expect(r.stdout).toMatch(/ email\s+\| character varying\(100\)\s+\|\s+\| not null \|/);
    expect(r.stdout).toMatch(/ created\s+\| timestamp with time zone\s+\|\s+\|\s+\| now\(\)/);
    expect(r.stdout).toContain('"ps_users_pkey" PRIMARY KEY, btree (id)');
    expect(r.stdout).toContain('"ps_users_created_idx" btree (created)');
    expect(r.stdout).toContain('"ps_users_email_key" UNIQUE CONSTRAINT, btree (email)');
  });

  it('\\d, \\dt, \\di and \\dv list relations of each kind', async () => {
    const all = await psql(['-c', '\\d']);
    expect(all.stdout).toMatch(/ public \| ps_emails \| view\s+\| paxosql/);
    expect(all.stdout).toMatch(/ public \| ps_users\s+\| table \| paxosql/);
    const tables = await psql(['-c', '\\dt']);
    expect(tables.stdout).toMatch(/ public \| ps_users \| table \| paxosql/);
    expect(tables.stdout).not.toContain('ps_emails');
    expect(tables.stdout).toContain('(1 row)');
    const indexes = await psql(['-c', '\\di']);
    for (const index of ['ps_users_created_idx', 'ps_users_email_key', 'ps_users_pkey']) {
      expect(indexes.stdout).toMatch(new RegExp(` public \\| ${index}\\s+\\| index \\| paxosql \\| ps_users`));
    }
    const views = await psql(['-c', '\\dv']);
    expect(views.stdout).toMatch(/ public \| ps_emails \| view \| paxosql/);
    for (const r of [all, tables, indexes, views]) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
  });

  it('\\l, \\dn and \\du show the database, the schema and the role', async () => {
    const r = await psql(['-c', '\\l', '-c', '\\dn', '-c', '\\du']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('List of databases');
    expect(r.stdout).toMatch(/ paxosql \| paxosql \| UTF8/);
    expect(r.stdout).toContain('List of schemas');
    expect(r.stdout).toMatch(/ public \| paxosql/);
    expect(r.stdout).toContain('List of roles');
    expect(r.stdout).toMatch(/ paxosql\s+\| Superuser/);
  });

  it('shows errors with their SQLSTATE and stops a script at the first one (exit code 3)', async () => {
    const r = await psql(['-f', script('error.sql', `
      \\set VERBOSITY verbose
      INSERT INTO ps_users (email) VALUES ('b@example.com');
      SELECT 'not reached';
    `)]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('ERROR:  23505: duplicate key value violates unique constraint "ps_users_email_key"');
    expect(r.stdout).not.toContain('not reached');

    const missing = await psql(['-c', 'SELECT * FROM no_such_table']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('ERROR:  relation "no_such_table" does not exist');

    const refused = await psql(['-c', '\\set VERBOSITY verbose', '-c', 'SELECT nextval(\'s\')']);
    expect(refused.stderr).toMatch(/ERROR: {2}0A000: function nextval\(\) is not supported/);
  });

  it('copies rows in and out with \\copy', async () => {
    const data = script('rows.csv', 'id,email\n10,copy1@example.com\n11,copy2@example.com\n');
    const r = await psql(['-c', `\\copy ps_users (id, email) FROM '${data}' WITH (FORMAT csv, HEADER true)`, '-c', '\\copy (SELECT id, email FROM ps_users WHERE id >= 10 ORDER BY id) TO STDOUT']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('COPY 2\n10\tcopy1@example.com\n11\tcopy2@example.com\n');
  });
});
