import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NODE_ENV, NODE_V8_FLAGS } from '../../../src/cluster/process-settings.js';

describe('node process settings', () => {
  it('the paxosql executable starts nodes with the same memory settings as LocalCluster', () => {
    // `paxosql start` run through the installed bin gets its flags from the
    // shebang; a node started by LocalCluster gets them from process-settings.
    const shebang = readFileSync(join(import.meta.dirname, '../../../src/cli/main.ts'), 'utf8').split('\n')[0] as string;
    const env = Object.entries(NODE_ENV).map(([k, v]) => `${k}=${v}`);
    expect(shebang).toBe(['#!/usr/bin/env -S', ...env, 'node', ...NODE_V8_FLAGS].join(' '));
  });
});
