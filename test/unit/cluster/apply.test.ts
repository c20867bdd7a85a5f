// The apply worker's handler, in this thread: a command that fails is undone
// whole and fails alone, whatever failed (a constraint, an error raised
// half-way through a statement, one statement of a transaction), and the other
// commands of its entry stand.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import type { ApplyReply, CommandOutcome, EntryToApply } from '../../../src/cluster/apply-protocol.js';
import { encodeCommand, type Statement } from '../../../src/cluster/command.js';
import handle from '../../../workers/apply.js';

const SELF = 1;
let dir: string;
let path: string;
let slot: number;
let seq: number;

function command(...statements: Statement[]): Uint8Array {
  return encodeCommand({ origin: { node: SELF, session: 7, seq: ++seq }, statements });
}

function sql(text: string, ...params: Statement['params'][number][]): Statement {
  return { sql: text, params };
}

/** Applies one entry of these commands; returns the outcomes, in command order. */
async function apply(...commands: Uint8Array[]): Promise<CommandOutcome[]> {
  const entry: EntryToApply = { slot: ++slot, time: 1_700_000_000_000, commands };
  const reply: ApplyReply = await handle({ op: 'apply', entries: [entry] });
  if (reply.op !== 'apply') throw new Error(`unexpected reply ${reply.op}`);
  expect(reply.applied).toBe(slot);
  return [...reply.outcomes];
}

function rows(): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT id, v FROM t ORDER BY id').raw(true).all();
  } finally {
    db.close();
  }
}

function errorCode(outcome: CommandOutcome | undefined): string | undefined {
  return outcome?.kind === 'error' ? outcome.error.code : undefined;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'paxosql-apply-'));
  path = join(dir, 'data.db');
  slot = 0;
  seq = 0;
  expect((await handle({ op: 'open', path, self: SELF })).op).toBe('open');
  await apply(command(sql('CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)')));
});

afterEach(async () => {
  await handle({ op: 'close' });
  rmSync(dir, { recursive: true, force: true });
});

describe('apply worker: a failed command is undone whole and fails alone', () => {
  it('a multi-row insert that violates a key half-way leaves none of its rows', async () => {
    const outcomes = await apply(
      command(sql('INSERT INTO t (id, v) VALUES (1, 1)')),
      command(sql('INSERT INTO t (id, v) VALUES (2, 2), (1, 9)')),
      command(sql('INSERT INTO t (id, v) VALUES (3, 3)')),
    );
    expect(outcomes.map((o) => o.kind)).toEqual(['ok', 'error', 'ok']);
    expect(errorCode(outcomes[1])).toBe('23505');
    expect(rows()).toEqual([[1, 1], [3, 3]]);
  });

  it('an update that raises on its third row keeps none of the first two', async () => {
    await apply(command(sql('INSERT INTO t (id, v) VALUES (1, 1), (2, 3), (3, 2)')));
    // 10 / (v - 2): rows 1 and 2 divide fine, row 3 divides by zero (22012, raised by a function mid-statement).
    const outcomes = await apply(command(sql('UPDATE t SET v = 10 / (v - 2)')), command(sql('UPDATE t SET v = v + 100 WHERE id = 1')));
    expect(errorCode(outcomes[0])).toBe('22012');
    expect(outcomes[1]?.kind).toBe('ok');
    expect(rows()).toEqual([[1, 101], [2, 3], [3, 2]]);
  });

  it("a transaction's later failure undoes its earlier statements", async () => {
    const outcomes = await apply(
      command(sql('INSERT INTO t (id, v) VALUES (5, 5)'), sql('INSERT INTO t (id, v) VALUES (6, NULL)')),
      command(sql('INSERT INTO t (id, v) VALUES (7, 7)')),
    );
    expect(errorCode(outcomes[0])).toBe('23502');
    expect(rows()).toEqual([[7, 7]]);
  });

  it('a returning insert reports its rows, and its failure leaves no row', async () => {
    const outcomes = await apply(
      command(sql('INSERT INTO t (id, v) VALUES ($1, $2) RETURNING id, v * 2 AS twice', 4, 21)),
      command(sql('INSERT INTO t (id, v) VALUES (8, 8), (4, 0) RETURNING id')),
    );
    const first = outcomes[0];
    expect(first?.kind === 'ok' ? first.results[0]?.rows : null).toEqual([[4, 42]]);
    expect(errorCode(outcomes[1])).toBe('23505');
    expect(rows()).toEqual([[4, 21]]);
  });
});
