// kill -9 at a random moment never loses a promise or an acknowledged accept.
//
// How the child runs: Node 20 cannot run TypeScript, so beforeAll compiles
// crash-child.ts (and the src/ files it imports) with the project's own tsc
// into a temporary directory that has a package.json saying "type": "module"
// and a node_modules symlink to this checkout's, then runs it with `node`.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlitePaxosLog } from '../../../src/storage/index.js';
import { encodeValue } from '../../../src/transport/codec.js';
import { type Ack, parseAcks, prng, valueFor } from './crash-workload.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const BASE_SEED = Number(process.env['CRASH_SEED'] ?? 20240607);
const RESTARTS = 10;

let buildDir: string;
let childScript: string;

beforeAll(() => {
  buildDir = fs.mkdtempSync(path.join(os.tmpdir(), 'paxos-crash-'));
  fs.writeFileSync(path.join(buildDir, 'package.json'), '{"type":"module"}\n');
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(buildDir, 'node_modules'), 'dir');
  const tsc = path.join(repo, 'node_modules/typescript/bin/tsc');
  const childSource = path.join(here, 'crash-child.ts');
  execFileSync(
    process.execPath,
    [tsc, '--outDir', path.join(buildDir, 'out'), '--rootDir', repo, '--module', 'nodenext', '--moduleResolution', 'nodenext',
      '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(repo, 'node_modules/@types'), childSource],
    { cwd: buildDir, stdio: 'pipe' },
  );
  childScript = path.join(buildDir, 'out', path.relative(repo, childSource).replace(/\.ts$/, '.js'));
});

afterAll(() => {
  if (buildDir) fs.rmSync(buildDir, { recursive: true, force: true });
});

/** Runs the child until it has printed at least `acksBeforeKill` acks (plus a random extra delay), then SIGKILLs it. */
function runAndKill(file: string, seed: number, acksBeforeKill: number, extraDelayMs: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, file, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let lines = 0;
    let killScheduled = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      lines += chunk.split('\n').length - 1;
      if (!killScheduled && lines >= acksBeforeKill) {
        killScheduled = true;
        setTimeout(() => child.kill('SIGKILL'), extraDelayMs);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited early (code ${code}, signal ${signal}): ${err}`));
      else resolve(parseAcks(out));
    });
  });
}

/** What every acknowledged write promises to be on disk. */
class Expectation {
  promisedRound = 0;
  compactedThrough = 0;
  readonly slotRound = new Map<number, number>();

  add(acks: readonly Ack[]): void {
    for (const ack of acks) {
      if (ack.kind === 'compact') {
        this.compactedThrough = Math.max(this.compactedThrough, ack.through);
        continue;
      }
      this.promisedRound = Math.max(this.promisedRound, ack.round);
      for (const slot of ack.slots) this.slotRound.set(slot, Math.max(this.slotRound.get(slot) ?? 0, ack.round));
    }
  }
}

function verify(file: string, expected: Expectation, seed: number): void {
  const log = SqlitePaxosLog.open(file);
  try {
    const state = log.load();
    const ctx = `seed ${seed}`;
    expect(state.promised.round, ctx).toBeGreaterThanOrEqual(expected.promisedRound);
    expect(log.firstSlot(), ctx).toBeGreaterThanOrEqual(expected.compactedThrough + 1);
    const bySlot = new Map(state.accepted.map((e) => [e.slot, e]));
    for (const [slot, round] of expected.slotRound) {
      if (slot < log.firstSlot()) continue;
      const got = bySlot.get(slot);
      expect(got, `${ctx}: acknowledged slot ${slot} missing`).toBeDefined();
      expect(got?.ballot.round, `${ctx}: slot ${slot}`).toBeGreaterThanOrEqual(round);
    }
    // Every entry on disk, acknowledged or not, is exactly what was written at its ballot.
    // (Compared as encoded bytes: deep equality on thousands of byte arrays is slow.)
    for (const e of state.accepted) {
      const same = Buffer.from(encodeValue(e.value)).equals(encodeValue(valueFor(e.slot, e.ballot.round)));
      expect(same, `${ctx}: slot ${e.slot} round ${e.ballot.round} damaged`).toBe(true);
    }
  } finally {
    log.close();
  }
}

describe('SqlitePaxosLog under kill -9', () => {
  it(`loses no acknowledged promise or accept across ${RESTARTS} random kills (CRASH_SEED=${BASE_SEED})`, async () => {
    const file = path.join(buildDir, 'paxos.db');
    const rand = prng(BASE_SEED);
    const expected = new Expectation();
    let totalAcks = 0;
    for (let run = 0; run < RESTARTS; run++) {
      const seed = BASE_SEED + run;
      const acks = await runAndKill(file, seed, 20 + Math.floor(rand() * 300), Math.floor(rand() * 20));
      expect(acks.length, `seed ${seed}`).toBeGreaterThan(0);
      totalAcks += acks.length;
      expected.add(acks);
      verify(file, expected, seed);
    }
    expect(totalAcks).toBeGreaterThan(RESTARTS * 20);
  });
});

describe('SqlitePaxosLog with a damaged write-ahead log tail', () => {
  it(`discards a torn or overwritten WAL tail at open, never reading it as data (CRASH_SEED=${BASE_SEED})`, async () => {
    const original = path.join(buildDir, 'torn', 'paxos.db');
    fs.mkdirSync(path.dirname(original), { recursive: true });
    const rand = prng(BASE_SEED + 1000);
    await runAndKill(original, BASE_SEED + 1000, 100, 0);
    const wal = fs.readFileSync(`${original}-wal`);
    expect(wal.length).toBeGreaterThan(0); // the kill left uncheckpointed commits behind
    for (let variant = 0; variant < 8; variant++) {
      const ctx = `seed ${BASE_SEED} variant ${variant}`;
      const dir = path.join(buildDir, `torn-${variant}`);
      fs.mkdirSync(dir);
      const copy = path.join(dir, 'paxos.db');
      fs.copyFileSync(original, copy);
      const damaged = Buffer.from(wal);
      const cut = 1 + Math.floor(rand() * Math.min(20000, damaged.length - 1));
      if (variant % 2 === 0) {
        fs.writeFileSync(`${copy}-wal`, damaged.subarray(0, damaged.length - cut)); // torn final write
      } else {
        for (let i = damaged.length - cut; i < damaged.length; i++) damaged[i] = Math.floor(rand() * 256);
        fs.writeFileSync(`${copy}-wal`, damaged); // garbage where the last frames were
      }
      const log = SqlitePaxosLog.open(copy);
      try {
        const state = log.load();
        for (const e of state.accepted) {
          const intact = Buffer.from(encodeValue(e.value)).equals(encodeValue(valueFor(e.slot, e.ballot.round)));
          expect(intact, `${ctx}: slot ${e.slot} damaged`).toBe(true);
          // Each persist wrote its promise and entries in one transaction: never an entry without its promise.
          expect(e.ballot.round, `${ctx}: slot ${e.slot}`).toBeLessThanOrEqual(state.promised.round);
        }
      } finally {
        log.close();
      }
    }
  });
});
