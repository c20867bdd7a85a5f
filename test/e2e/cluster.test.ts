// A cluster started the way users start it: writes go through the log to every
// replica; kill -9 of the leader loses nothing; restarted and wiped nodes
// catch up; replicas end byte-for-byte identical (a checksum over all rows).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCluster } from './harness.js';

/** Inserts rows 0..rows-1 into `notes` through one client on `node`: it waits for each, so each takes a slot of its own. */
async function insertNotesOnePerSlot(cluster: LocalCluster, node: number, rows: number): Promise<void> {
  const client = await cluster.client(node);
  await Promise.all(Array.from({ length: rows }, (_, i) => client.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [i, `note ${i}`])));
  await client.end();
}

async function countNotes(cluster: LocalCluster, node: number): Promise<number> {
  const r = await cluster.query<{ n: string }>(node, 'SELECT count(*) AS n FROM notes');
  return Number(r.rows[0]!.n);
}

describe('a 3-node cluster', () => {
  let cluster: LocalCluster;
  const acknowledged: number[] = [];

  beforeAll(async () => {
    // A small compaction threshold, so the log is compacted and a wiped node must rejoin from a snapshot.
    cluster = await LocalCluster.start({ nodes: 3, config: { compactionThreshold: 20 } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('puts writes from any node through the log and applies them on every replica', async () => {
    await cluster.waitForLeader();
    await cluster.query(1, 'CREATE TABLE items (id INTEGER PRIMARY KEY, origin INTEGER NOT NULL, note TEXT)');
    for (const id of cluster.ids) {
      const r = await cluster.query(id, 'INSERT INTO items (id, origin, note) VALUES ($1, $2, $3)', [id, id, `from node ${id}`]);
      expect(r.rowCount).toBe(1);
      acknowledged.push(id);
    }
    // A linearizable read on every node sees every acknowledged write at once.
    for (const id of cluster.ids) {
      const r = await cluster.query<{ id: number }>(id, 'SELECT id FROM items ORDER BY id');
      expect(r.rows.map((row) => row.id)).toEqual([1, 2, 3]);
    }
    const sums = await cluster.convergedChecksums();
    expect(new Set(sums.map((s) => s.digest)).size).toBe(1);
    expect(sums[0]!.rows).toBeGreaterThanOrEqual(3);
  });

  it('a failed statement fails only itself, the same way on every replica', async () => {
    await expect(cluster.query(2, 'INSERT INTO items (id, origin) VALUES (1, 2)')).rejects.toMatchObject({ code: '23505' });
    await expect(cluster.query(3, 'INSERT INTO items (id) VALUES (99)')).rejects.toMatchObject({ code: '23502' });
    const r = await cluster.query<{ n: string }>(1, 'SELECT count(*) AS n FROM items');
    expect(Number(r.rows[0]!.n)).toBe(3);
  });

  it('kill -9 of the leader elects a new leader within 2 s and loses no acknowledged write', async () => {
    const leader = await cluster.waitForLeader();
    const writer = cluster.ids.find((id) => id !== leader)!;
    const client = await cluster.client(writer);
    let next = 100;
    const writeSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const id = next++;
        try {
          await client.query('INSERT INTO items (id, origin) VALUES ($1, $2)', [id, writer]);
          acknowledged.push(id);
        } catch (error) {
          // During the election a write may fail with a retryable or unknown-outcome error.
          expect(['40001', '40003']).toContain((error as { code?: string }).code);
        }
      }
    };
    await writeSome(50);
    const killedAt = Date.now();
    await cluster.kill(leader);
    let electedAt = 0;
    await cluster.waitFor(async () => {
      const s = await cluster.statuses();
      if (s.some((x) => x.role === 'leader' && x.id !== leader)) electedAt = Date.now();
      return electedAt > 0;
    }, 10_000, 'a new leader');
    expect(electedAt - killedAt).toBeLessThan(2000);
    await writeSome(50);
    await client.end();
    const r = await cluster.query<{ id: number }>(writer, 'SELECT id FROM items');
    const present = new Set(r.rows.map((row) => row.id));
    expect(acknowledged.filter((id) => !present.has(id))).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(90);

    // The old leader comes back and catches up.
    await cluster.startNode(leader);
    const sums = await cluster.convergedChecksums();
    expect(sums).toHaveLength(3);
    expect(new Set(sums.map((s) => s.digest)).size).toBe(1);
  });

  it('a node whose data directory was deleted rejoins through a snapshot and ends identical', async () => {
    const leader = await cluster.waitForLeader();
    const victim = cluster.ids.find((id) => id !== leader)!;
    await cluster.kill(victim);
    cluster.wipe(victim);
    await cluster.query(leader, 'INSERT INTO items (id, origin) VALUES (1000, $1)', [leader]);
    await cluster.startNode(victim);
    const sums = await cluster.convergedChecksums();
    expect(new Set(sums.map((s) => s.digest)).size).toBe(1);
    const r = await cluster.query<{ n: string }>(victim, 'SELECT count(*) AS n FROM items WHERE id = 1000');
    expect(Number(r.rows[0]!.n)).toBe(1);
    // It could not have replayed the log from slot 1: the others compacted it.
    const statuses = await cluster.statuses();
    expect(statuses.find((s) => s.id === leader)!.logFirstSlot).toBeGreaterThan(1);
    expect(statuses.find((s) => s.id === victim)!.logFirstSlot).toBeGreaterThan(1);
  });
});

describe('a 5-node cluster', () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await LocalCluster.start({ nodes: 5 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('keeps serving reads and writes with two nodes down', async () => {
    const leader = await cluster.waitForLeader();
    await cluster.query(leader, 'CREATE TABLE kv (k TEXT PRIMARY KEY, v INTEGER)');
    const downs = [leader, cluster.ids.find((id) => id !== leader)!];
    for (const id of downs) await cluster.kill(id);
    const alive = cluster.ids.filter((id) => !downs.includes(id));
    for (const [i, id] of alive.entries()) {
      await cluster.query(id, 'INSERT INTO kv (k, v) VALUES ($1, $2)', [`k${i}`, i]);
    }
    for (const id of alive) {
      const r = await cluster.query<{ n: string }>(id, 'SELECT count(*) AS n FROM kv');
      expect(Number(r.rows[0]!.n)).toBe(alive.length);
    }
    for (const id of downs) await cluster.startNode(id);
    const sums = await cluster.convergedChecksums();
    expect(sums).toHaveLength(5);
    expect(new Set(sums.map((s) => s.digest)).size).toBe(1);
  });
});

describe('log compaction by size', () => {
  let cluster: LocalCluster;
  beforeAll(async () => {
    // The entry count alone would never compact here: only the bytes can.
    cluster = await LocalCluster.start({ nodes: 1, config: { compactionThreshold: 1_000_000, compactionBytes: 64 << 10 } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('snapshots and compacts once the commands applied since the last snapshot pass compactionBytes', async () => {
    await cluster.waitForLeader();
    await cluster.query(1, 'CREATE TABLE blobs (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const body = 'x'.repeat(4096);
    for (let i = 0; i < 8; i++) await cluster.query(1, 'INSERT INTO blobs (id, body) VALUES ($1, $2)', [i, body]);
    expect((await cluster.statuses())[0]!.logFirstSlot).toBe(1); // 32 KiB: not yet
    for (let i = 8; i < 24; i++) await cluster.query(1, 'INSERT INTO blobs (id, body) VALUES ($1, $2)', [i, body]);
    await cluster.waitFor(async () => ((await cluster.statuses())[0]?.logFirstSlot ?? 1) > 1, 10_000, 'the log to be compacted');
    const r = await cluster.query<{ n: string }>(1, 'SELECT count(*) AS n FROM blobs');
    expect(Number(r.rows[0]!.n)).toBe(24);
  });
});

describe('log compaction of many slots', () => {
  const ROWS = 3000;
  let cluster: LocalCluster;
  beforeAll(async () => {
    cluster = await LocalCluster.start({ nodes: 1, config: { compactionThreshold: 2500 } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('drops more slots than one compaction step while writes go on, and restarts from what it kept', async () => {
    await cluster.waitForLeader();
    await cluster.query(1, 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    // One slot per insert (one client): the snapshot at ~2,500 slots is
    // compacted in steps of 1,024 slots while the last inserts are persisted.
    await insertNotesOnePerSlot(cluster, 1, ROWS);
    await cluster.waitFor(async () => ((await cluster.statuses())[0]?.logFirstSlot ?? 1) > 2048, 20_000, 'the log to be compacted past two steps');
    await cluster.kill(1);
    await cluster.startNode(1);
    await cluster.waitForLeader();
    expect((await cluster.statuses())[0]!.logFirstSlot).toBeGreaterThan(2048);
    expect(await countNotes(cluster, 1)).toBe(ROWS);
  });
});

describe('catch-up from the Paxos log on disk', () => {
  const ROWS = 5000;
  let cluster: LocalCluster;
  beforeAll(async () => {
    // No snapshots: a lagging node can only get the slots it missed as log entries.
    cluster = await LocalCluster.start({ nodes: 3, config: { compactionThreshold: 1_000_000 } });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a restarted follower gets the entries the others applied and dropped from memory, from their paxos.db', async () => {
    const leader = await cluster.waitForLeader();
    await cluster.query(leader, 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
    const follower = cluster.ids.find((id) => id !== leader)!;
    await cluster.kill(follower);
    // One slot per insert (one client): more Accepts than a peer link queues
    // for a dead peer (4,096, oldest dropped), so the restarted follower has a
    // gap that only catch-up fills — several rounds of at most 512 entries.
    await insertNotesOnePerSlot(cluster, leader, ROWS);
    await cluster.startNode(follower);
    const sums = await cluster.convergedChecksums();
    expect(sums).toHaveLength(3);
    expect(new Set(sums.map((s) => s.digest)).size).toBe(1);
    expect(await countNotes(cluster, follower)).toBe(ROWS);
    // Nothing was compacted, so no snapshot carried the rows.
    for (const s of await cluster.statuses()) expect(s.logFirstSlot).toBe(1);
  });
});
