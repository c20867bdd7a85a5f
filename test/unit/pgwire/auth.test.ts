// Password authentication with node-postgres (cleartext, md5, SCRAM-SHA-256), and TLS.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { createScramVerifier, parseScramVerifier, type AuthConfig, type AuthMethod } from '../../../src/pgwire/auth.js';
import { RawClient, startServer, type TestServer } from './helpers.js';

let srv: TestServer | undefined;

afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

function users(method: AuthMethod): AuthConfig {
  return {
    method,
    users: new Map([
      ['plain', { password: 's3cret' }],
      ['scrammy', { scramVerifier: createScramVerifier('correct horse', { iterations: 4096 }) }],
    ]),
  };
}

async function tryConnect(user: string, password: string): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port: srv!.port, user, password, database: 'paxosql' });
  try {
    await client.connect();
    const r = await client.query('SELECT 1 AS ok');
    return `ok ${String(r.rows[0].ok)}`;
  } catch (err) {
    return `error ${(err as { code?: string }).code ?? String(err)}`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('authentication', () => {
  it('creates SCRAM verifiers in the Postgres format', () => {
    const salt = Buffer.from('0123456789abcdef');
    const v = createScramVerifier('pencil', { iterations: 4096, salt });
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:MDEyMzQ1Njc4OWFiY2RlZg==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/);
    expect(createScramVerifier('pencil', { iterations: 4096, salt })).toBe(v);
    expect(createScramVerifier('pencil2', { iterations: 4096, salt })).not.toBe(v);
    expect(parseScramVerifier(v)?.iterations).toBe(4096);
    expect(parseScramVerifier('md5abc')).toBeUndefined();
  });

  for (const method of ['password', 'md5', 'scram-sha-256'] as const) {
    it(`accepts the right password and refuses a wrong one with 28P01 (${method})`, async () => {
      srv = await startServer({ auth: users(method) });
      expect(await tryConnect('plain', 's3cret')).toBe('ok 1');
      expect(await tryConnect('plain', 'wrong')).toBe('error 28P01');
      expect(await tryConnect('nobody', 's3cret')).toBe('error 28P01');
      if (method !== 'md5') {
        // A stored SCRAM verifier serves SCRAM and cleartext, but cannot answer md5.
        expect(await tryConnect('scrammy', 'correct horse')).toBe('ok 1');
        expect(await tryConnect('scrammy', 'correct horse!')).toBe('error 28P01');
      }
      expect(srv.server.sessionCount).toBe(0);
    });
  }

  it('refuses unknown roles under trust when users are configured', async () => {
    srv = await startServer({ auth: { method: 'trust', users: new Map([['plain', {}]]) } });
    expect(await tryConnect('plain', '')).toBe('ok 1');
    expect(await tryConnect('other', '')).toBe('error 28000');
  });

  it('closes a connection that sends something other than a password response', async () => {
    srv = await startServer({ auth: users('scram-sha-256') });
    const c = await RawClient.connect(srv.port);
    c.write(serialize.startup({ user: 'plain', database: 'paxosql' }));
    await c.until('authenticationSASL');
    c.write(serialize.query('SELECT 1'));
    expect((await c.until('error'))[0]!.code).toBe('08P01');
    await c.closed;
  });
});

describe('TLS', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('upgrades to TLS after SSLRequest when a certificate is configured', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pgwire-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], {
      stdio: 'ignore',
    });
    srv = await startServer({ tls: { key: readFileSync(key), cert: readFileSync(cert) }, auth: users('scram-sha-256') });
    const client = new pg.Client({
      host: '127.0.0.1',
      port: srv.port,
      user: 'plain',
      password: 's3cret',
      database: 'paxosql',
      ssl: { rejectUnauthorized: false },
    });
    await client.connect();
    try {
      const r = await client.query('SELECT $1::text AS v', ['over tls']);
      expect(r.rows[0].v).toBe('over tls');
      expect((client as unknown as { connection: { stream: { encrypted?: boolean } } }).connection.stream.encrypted).toBe(true);
    } finally {
      await client.end();
    }
  });
});
