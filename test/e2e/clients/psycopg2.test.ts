// psycopg2 (Python) against a follower of a real cluster. The checks live in
// psycopg2_client.py; this runs it with the system Python, which has psycopg2.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../harness.js';
import { requireFile, runProgram, startCluster, SYSTEM_PYTHON } from './tools.js';

describe('psycopg2', () => {
  let cluster: LocalCluster;
  let follower: number;

  beforeAll(async () => {
    requireFile(SYSTEM_PYTHON, 'python3');
    ({ cluster, follower } = await startCluster());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('passes parameters and types, commits and rolls back, and reports pgcode', async () => {
    const script = join(import.meta.dirname, 'psycopg2_client.py');
    const r = await runProgram(SYSTEM_PYTHON, [script, `${cluster.url(follower)}?application_name=psycopg2-e2e`], { timeoutMs: 40_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toContain('FAIL');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ok unique violation pgcode');
    expect(r.stdout.trimEnd().endsWith('done')).toBe(true);
  });
});
