import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig } from '../../../src/cluster/config.js';

const nodes = [
  { id: 1, host: '127.0.0.1', peerPort: 7001, pgPort: 5001 },
  { id: 2, host: '127.0.0.1', peerPort: 7002, pgPort: 5002 },
  { id: 3, host: '127.0.0.1', peerPort: 7003, pgPort: 5003 },
];

describe('cluster configuration', () => {
  it('fills defaults for a minimal config', () => {
    const c = parseConfig({ nodes });
    expect(c.nodes).toHaveLength(3);
    expect(c.auth).toBe('scram-sha-256');
    expect(c.databases).toEqual(['paxosql', 'postgres']);
    expect(c.tickMs).toBeGreaterThan(0);
  });

  it.each([
    [{ nodes: [] }, /"nodes" must be a non-empty list/],
    [{ nodes: nodes.slice(0, 2) }, /use an odd number/],
    [{ nodes: [nodes[0], { ...nodes[1], id: 1 }, nodes[2]] }, /ids must be distinct/],
    [{ nodes: [nodes[0], { ...nodes[1], pgPort: 70000 }, nodes[2]] }, /nodes\[1\]\.pgPort must be a port from 1 to 65535/],
    [{ nodes: [nodes[0], { ...nodes[1], host: '' }, nodes[2]] }, /nodes\[1\]\.host/],
    [{ nodes, tickMs: 0 }, /"tickMs" must be an integer from 1/],
    [{ nodes, electionTicks: 5, heartbeatTicks: 5 }, /"heartbeatTicks" \(5\) must be below "electionTicks" \(5\)/],
    [{ nodes, auth: 'kerberos' }, /"auth" must be one of trust, password, md5, scram-sha-256/],
    [{ nodes, users: [{ name: 'a' }] }, /users\[0\] must be/],
    [{ nodes, colour: 'blue' }, /unknown field "colour"/],
    [{ nodes: [nodes[0], { ...nodes[1], pgPort: 5001 }, nodes[2]] }, /share a host:port/],
  ])('refuses %j naming the field', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(ConfigError);
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('reads a file, resolving the data directory next to it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'paxosql-config-'));
    const path = join(dir, 'c.json');
    writeFileSync(path, JSON.stringify({ nodes, dataDir: 'here' }));
    expect(loadConfig(path).dataDir).toBe(join(dir, 'here'));
    writeFileSync(path, '{ not json');
    expect(() => loadConfig(path)).toThrow(/not valid JSON/);
    expect(() => loadConfig(join(dir, 'missing.json'))).toThrow(/cannot read config file/);
  });

  it('the example config in config/ is valid', () => {
    expect(() => loadConfig(join(import.meta.dirname, '..', '..', '..', 'config', 'cluster.example.json'))).not.toThrow();
  });
});
