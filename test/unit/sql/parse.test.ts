import { beforeAll, describe, expect, it } from 'vitest';
import { LruMap } from '../../../src/sql/lru.js';
import { clearParseCache, initParser, parseCacheStats, parseSql } from '../../../src/sql/parse.js';

beforeAll(async () => {
  await initParser();
});

describe('parse and classify', () => {
  it('splits a multi-statement string and classifies each statement', () => {
    const statements = parseSql(`
      SELECT 1; INSERT INTO t VALUES (1) RETURNING *; WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x;
      CREATE TABLE u (a int); TRUNCATE u; BEGIN ISOLATION LEVEL REPEATABLE READ; COMMIT; ROLLBACK TO SAVEPOINT s;
      SET LOCAL search_path TO public; RESET ALL; SHOW TimeZone; LISTEN c`);
    expect(statements.map((s) => s.kind)).toEqual([
      'read', 'write', 'write', 'ddl', 'ddl', 'transaction', 'transaction', 'transaction',
      'session', 'session', 'session', 'unsupported',
    ]);
    expect(statements[0]?.text).toBe('SELECT 1');
    expect(statements[5]?.transaction).toEqual({ action: 'begin', isolationLevel: 'repeatable read' });
    expect(statements[7]?.transaction).toEqual({ action: 'rollback_to', savepoint: 's' });
    expect(statements[8]?.session).toEqual({ action: 'set', name: 'search_path', value: 'public', local: true });
    expect(statements[9]?.session).toEqual({ action: 'reset', name: null });
    expect(statements[10]?.session).toEqual({ action: 'show', name: 'timezone' });
  });

  it('reads READ ONLY / READ WRITE from BEGIN, SET TRANSACTION and SET SESSION CHARACTERISTICS', () => {
    const [begin, beginRw, setTx, setSession] = parseSql(`BEGIN READ ONLY; START TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE;
      SET TRANSACTION READ ONLY; SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE`);
    expect(begin?.transaction).toEqual({ action: 'begin', readOnly: true });
    expect(beginRw?.transaction).toEqual({ action: 'begin', isolationLevel: 'serializable', readOnly: false });
    expect(setTx?.session).toEqual({ action: 'set', name: 'transaction_read_only', value: 'on', local: true });
    expect(setSession?.session).toEqual({ action: 'set', name: 'default_transaction_read_only', value: 'off', local: false });
  });

  it('slices statement text correctly after multi-byte characters', () => {
    const statements = parseSql("SELECT 'héllo'; SELECT 'ok'");
    expect(statements.map((s) => s.text)).toEqual(["SELECT 'héllo'", "SELECT 'ok'"]);
  });

  it('counts $n parameters', () => {
    expect(parseSql('SELECT $1, $3 FROM t WHERE a = $2')[0]?.paramCount).toBe(3);
    expect(parseSql('SELECT 1')[0]?.paramCount).toBe(0);
  });

  it('caches parse results by text', () => {
    clearParseCache();
    const sql = 'SELECT a FROM t WHERE b = $1';
    const first = parseSql(sql);
    const before = parseCacheStats();
    const second = parseSql(sql);
    expect(second).toBe(first);
    expect(parseCacheStats().hits).toBe(before.hits + 1);
    expect(parseSql(sql, { useCache: false })).not.toBe(first);
  });
});

describe('LruMap', () => {
  it('evicts the least recently used entry at capacity', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.size).toBe(2);
  });
});

describe('LruMap (second chance)', () => {
  it('keeps entries used since they were last passed over, and stays within capacity', () => {
    const lru = new LruMap<number, number>(3);
    for (const k of [1, 2, 3]) lru.set(k, k * 10);
    lru.get(1);
    lru.get(3);
    lru.set(4, 40); // 1 gets a second chance, 2 (unused) goes
    expect([1, 2, 3, 4].map((k) => lru.get(k))).toEqual([10, undefined, 30, 40]);
    // Every entry is now flagged: the walk clears them all and evicts the oldest of them, never the new one.
    lru.set(5, 50);
    expect(lru.size).toBe(3);
    expect([3, 4, 1, 5].map((k) => lru.get(k))).toEqual([undefined, 40, 10, 50]);
  });

  it('evicts at capacity even when every entry is in use', () => {
    const lru = new LruMap<number, number>(100);
    for (let k = 0; k < 10_000; k++) {
      lru.set(k, k);
      lru.get(k);
      expect(lru.size).toBeLessThanOrEqual(100);
    }
    expect(lru.get(9_999)).toBe(9_999);
  });
});

describe('cursor commands', () => {
  it('parses DECLARE, forward FETCH/MOVE and CLOSE; refuses binary cursors, cursors over writes and backward fetches', async () => {
    await initParser();
    const one = (sql: string) => parseSql(sql)[0];
    expect(one('DECLARE "c1" CURSOR WITHOUT HOLD FOR SELECT id FROM t WHERE id > $1')).toMatchObject({
      kind: 'cursor', paramCount: 1, cursor: { action: 'declare', name: 'c1', query: 'SELECT id FROM t WHERE id > $1', hold: false },
    });
    expect(one('DECLARE c CURSOR WITH HOLD FOR SELECT 1')?.cursor).toMatchObject({ action: 'declare', hold: true });
    expect(one('FETCH FORWARD 2000 FROM "c1"')?.cursor).toEqual({ action: 'fetch', name: 'c1', count: 2000, move: false });
    expect(one('MOVE 5 IN c')?.cursor).toEqual({ action: 'fetch', name: 'c', count: 5, move: true });
    expect(one('CLOSE ALL')?.cursor).toEqual({ action: 'close', name: null });
    for (const refused of ['DECLARE b BINARY CURSOR FOR SELECT 1', 'FETCH BACKWARD 1 FROM c', 'FETCH ABSOLUTE 3 FROM c', 'DECLARE w CURSOR FOR WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x']) {
      expect(one(refused)?.kind).toBe('unsupported');
    }
  });
});
