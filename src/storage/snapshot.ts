// Snapshots of the SQLite state machine (data.db) at a known applied slot, so
// the Paxos log can be compacted and a lagging or new node can be brought up
// to date by copying one file instead of replaying the whole log.
//
// A snapshot is `snapshot-<slot>.db` in a directory. Files appear atomically:
// written under a temporary name, fsynced, renamed, and the directory fsynced,
// so after a crash a snapshot file is either complete or absent.

import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Slot } from '../paxos/types.js';
import { setPageCache } from './page-cache.js';

export interface SnapshotInfo {
  /** Every log entry <= this slot is reflected in the snapshot, none above it. */
  readonly appliedSlot: Slot;
  readonly path: string;
  readonly bytes: number;
}

/** A snapshot that could not be made, read or installed. */
export class SnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotError';
  }
}

const NAME = /^snapshot-(\d{16})\.db$/;
const TEMP_PREFIX = '.snapshot-tmp-';

function snapshotName(slot: Slot): string {
  if (!Number.isSafeInteger(slot) || slot < 0) throw new SnapshotError(`bad applied slot ${slot}`);
  return `snapshot-${String(slot).padStart(16, '0')}.db`;
}

function tempPath(dir: string): string {
  return path.join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Rename a complete, fsynced temp file into place and make the rename itself durable. */
function publish(temp: string, dir: string, slot: Slot): SnapshotInfo {
  const final = path.join(dir, snapshotName(slot));
  fs.renameSync(temp, final);
  fsyncPath(dir);
  return { appliedSlot: slot, path: final, bytes: fs.statSync(final).size };
}

/**
 * Copy `db` into `dir` as a snapshot. VACUUM INTO runs in one read
 * transaction, so the copy is consistent, and in WAL mode it may run on its
 * own connection while another one keeps writing. Which slot the copy
 * reflects is read from the copy itself by `appliedSlotOf` (data.db records
 * its applied slot in the same transaction as each entry's effects).
 */
export function createSnapshot(db: Database.Database, dir: string, appliedSlotOf: (copy: string) => Slot): SnapshotInfo {
  fs.mkdirSync(dir, { recursive: true });
  const temp = tempPath(dir);
  try {
    db.prepare('VACUUM INTO ?').run(temp);
    fsyncPath(temp);
    const slot = appliedSlotOf(temp);
    snapshotName(slot); // validates the slot
    return publish(temp, dir, slot);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/** Complete snapshots in `dir`, oldest first (temporary files are ignored). */
export function listSnapshots(dir: string): SnapshotInfo[] {
  if (!fs.existsSync(dir)) return [];
  const out: SnapshotInfo[] = [];
  for (const name of fs.readdirSync(dir)) {
    const m = NAME.exec(name);
    if (m === null) continue;
    const p = path.join(dir, name);
    out.push({ appliedSlot: Number(m[1]), path: p, bytes: fs.statSync(p).size });
  }
  return out.sort((a, b) => a.appliedSlot - b.appliedSlot);
}

/** Delete all but the newest `keep` snapshots and any temporary files left by a crash. */
export function pruneSnapshots(dir: string, keep: number): void {
  if (!Number.isInteger(keep) || keep < 1) throw new SnapshotError(`keep must be >= 1, got ${keep}`);
  const all = listSnapshots(dir);
  for (const s of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(s.path, { force: true });
  for (const name of fs.readdirSync(dir)) if (name.startsWith(TEMP_PREFIX)) fs.rmSync(path.join(dir, name), { force: true });
}

/** SHA-256 of a snapshot file, hex; sent along with a snapshot so the receiver can verify it. */
export async function snapshotDigest(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of openSnapshotChunks(file, 1 << 20)) hash.update(chunk);
  return hash.digest('hex');
}

/** Read a snapshot file as chunks of at most `chunkSize` bytes (for sending to a peer). */
export async function* openSnapshotChunks(file: string, chunkSize: number): AsyncGenerator<Uint8Array> {
  if (!Number.isInteger(chunkSize) || chunkSize < 1) throw new SnapshotError(`bad chunk size ${chunkSize}`);
  const handle = await fs.promises.open(file, 'r');
  try {
    for (;;) {
      const buf = Buffer.allocUnsafe(chunkSize);
      const { bytesRead } = await handle.read(buf, 0, chunkSize, null);
      if (bytesRead === 0) return;
      yield new Uint8Array(buf.buffer, buf.byteOffset, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

export interface InstallOptions {
  /** Refuse a snapshot larger than this (bounds what a peer can make us write). */
  readonly maxBytes: number;
  /** If given, the SHA-256 (hex) the received bytes must have. */
  readonly sha256?: string;
}

/**
 * Write a received snapshot into `dir` as the snapshot at `appliedSlot`,
 * atomically: it appears only once complete, fsynced, of the expected digest
 * and readable by SQLite; on any failure nothing is left behind.
 */
export async function installSnapshot(
  dir: string,
  appliedSlot: Slot,
  chunks: AsyncIterable<Uint8Array>,
  options: InstallOptions,
): Promise<SnapshotInfo> {
  snapshotName(appliedSlot);
  fs.mkdirSync(dir, { recursive: true });
  const temp = tempPath(dir);
  try {
    const digest = await writeChunks(temp, chunks, options.maxBytes);
    if (options.sha256 !== undefined && digest !== options.sha256) {
      throw new SnapshotError(`snapshot digest ${digest} does not match the expected ${options.sha256}`);
    }
    assertReadableDatabase(temp);
    return publish(temp, dir, appliedSlot);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/** Writes the chunks to `file` and fsyncs it; returns the SHA-256 of what was written. */
async function writeChunks(file: string, chunks: AsyncIterable<Uint8Array>, maxBytes: number): Promise<string> {
  const hash = createHash('sha256');
  const handle = await fs.promises.open(file, 'wx');
  try {
    let total = 0;
    for await (const chunk of chunks) {
      total += chunk.length;
      if (total > maxBytes) throw new SnapshotError(`snapshot exceeds ${maxBytes} bytes`);
      hash.update(chunk);
      await handle.write(chunk);
    }
    await handle.sync();
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

function assertReadableDatabase(file: string): void {
  let db: Database.Database | null = null;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    setPageCache(db, 'copy');
    const result: unknown = db.pragma('quick_check', { simple: true });
    if (result !== 'ok') throw new SnapshotError(`snapshot fails quick_check: ${String(result)}`);
  } catch (err) {
    if (err instanceof SnapshotError) throw err;
    throw new SnapshotError(`snapshot is not a SQLite database: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    db?.close();
  }
}
