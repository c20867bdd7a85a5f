import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createSnapshot,
  installSnapshot,
  listSnapshots,
  openSnapshotChunks,
  pruneSnapshots,
  SnapshotError,
  snapshotDigest,
} from '../../../src/storage/index.js';

let root: string;
let db: Database.Database;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'paxos-snap-'));
  db = new Database(path.join(root, 'data.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) ins.run(`row ${i}`);
  })();
});

afterEach(() => {
  db.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function* fromArray(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield c;
}

function rowCount(file: string): number {
  const s = new Database(file, { readonly: true });
  try {
    return (s.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
  } finally {
    s.close();
  }
}

function filesIn(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

describe('snapshots', () => {
  it('creates a consistent copy at an applied slot, unaffected by later writes', () => {
    const dir = path.join(root, 'snapshots');
    const snap = createSnapshot(db, dir, () => 42);
    db.exec("INSERT INTO t (v) VALUES ('later')");
    expect(snap.appliedSlot).toBe(42);
    expect(listSnapshots(dir)).toEqual([snap]);
    expect(rowCount(snap.path)).toBe(2000);
    expect(filesIn(dir)).toEqual(['snapshot-0000000000000042.db']);
  });

  it('streams a snapshot in chunks and installs it atomically elsewhere, verified by digest', async () => {
    const snap = createSnapshot(db, path.join(root, 'a'), () => 7);
    const digest = await snapshotDigest(snap.path);
    const chunks: Uint8Array[] = [];
    for await (const c of openSnapshotChunks(snap.path, 1000)) chunks.push(Uint8Array.from(c));
    expect(chunks.every((c) => c.length <= 1000)).toBe(true);
    const installed = await installSnapshot(path.join(root, 'b'), 7, fromArray(chunks), { maxBytes: 1 << 24, sha256: digest });
    expect(fs.readFileSync(installed.path).equals(fs.readFileSync(snap.path))).toBe(true);
    expect(rowCount(installed.path)).toBe(2000);
  });

  it('leaves nothing behind when the digest, size or content is wrong', async () => {
    const snap = createSnapshot(db, path.join(root, 'a'), () => 7);
    const bytes = fs.readFileSync(snap.path);
    const dir = path.join(root, 'b');
    await expect(installSnapshot(dir, 7, fromArray([bytes]), { maxBytes: 1 << 24, sha256: '00' })).rejects.toThrow(SnapshotError);
    await expect(installSnapshot(dir, 7, fromArray([bytes]), { maxBytes: 100 })).rejects.toThrow(/exceeds/);
    const garbage = Buffer.alloc(8192, 0x5a);
    await expect(installSnapshot(dir, 7, fromArray([garbage]), { maxBytes: 1 << 24 })).rejects.toThrow(/not a SQLite database|quick_check/);
    expect(filesIn(dir)).toEqual([]);
    expect(listSnapshots(dir)).toEqual([]);
  });

  it('prunes all but the newest snapshots and leftover temporary files', () => {
    const dir = path.join(root, 'snapshots');
    for (const slot of [5, 100, 30]) createSnapshot(db, dir, () => slot);
    fs.writeFileSync(path.join(dir, '.snapshot-tmp-1-abc'), 'partial');
    expect(listSnapshots(dir).map((s) => s.appliedSlot)).toEqual([5, 30, 100]);
    pruneSnapshots(dir, 2);
    expect(filesIn(dir)).toEqual(['snapshot-0000000000000030.db', 'snapshot-0000000000000100.db']);
  });
});
