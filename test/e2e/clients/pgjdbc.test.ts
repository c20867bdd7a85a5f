// pgjdbc (Java) against a follower of a real cluster. JdbcClient.java holds
// the checks; it is compiled with javac into a temporary directory (no Maven).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../harness.js';
import { PGJDBC_JAR, requireFile, runProgram, startCluster } from './tools.js';

describe('pgjdbc', () => {
  let cluster: LocalCluster;
  let follower: number;
  const classes = mkdtempSync(join(tmpdir(), 'paxosql-jdbc-'));

  beforeAll(async () => {
    requireFile(PGJDBC_JAR, 'pgjdbc');
    const [compiled, started] = await Promise.all([
      runProgram('javac', ['-d', classes, join(import.meta.dirname, 'JdbcClient.java')], { timeoutMs: 60_000 }),
      startCluster(),
    ]);
    ({ cluster, follower } = started);
    expect(compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);
  });
  afterAll(async () => {
    await cluster?.stop();
    rmSync(classes, { recursive: true, force: true });
  });

  it('runs prepared statements, batches and transactions, and reads every ResultSet type', async () => {
    const url = `jdbc:postgresql://127.0.0.1:${cluster.pgPorts[follower - 1]}/paxosql?user=paxosql`;
    const r = await runProgram('java', ['-cp', `${classes}:${PGJDBC_JAR}`, 'JdbcClient', url], { timeoutMs: 60_000 });
    expect(r.stdout).not.toContain('FAIL');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ok getObject uuid');
    expect(r.stdout).toContain('ok batch counts');
    expect(r.stdout.trimEnd().endsWith('done')).toBe(true);
  });
});
