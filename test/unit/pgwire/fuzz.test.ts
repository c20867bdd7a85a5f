// Protocol fuzzing: many connections each send a startup (usually valid) and
// then a burst of random, mutated, truncated, out-of-order and garbage
// messages. Afterwards the server must still serve normal clients, hold no
// leaked sessions, and the process must not have crashed (an uncaught error
// or unhandled rejection fails the vitest run).
//
// Seeded: FUZZ_SEED=<n> reproduces a run; the seed is in every failure message.

import { connect } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { pino } from 'pino';
import { serialize } from 'pg-protocol';
import { createRandom } from '../../../src/util/random.js';
import { startServer, type TestServer } from './helpers.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed1234);
const TARGET_MESSAGES = 100_000;
const PARALLEL = 8;
const TIME_BUDGET_MS = 40_000;
const MAX_MESSAGE_BYTES = 64 * 1024;

function prng(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.next();
}

class Gen {
  constructor(private readonly rand: () => number) {}
  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

const SQL = [
  'SELECT 1 AS a',
  'SELECT $1::int4 AS v',
  'SELECT $1::text AS t, $2::bytea AS b',
  'SELECT $1::numeric AS n',
  'SELECT $1::timestamptz AS ts',
  'SELECT a, b FROM fz ORDER BY a',
  'INSERT INTO fz (a, b) VALUES ($1, $2)',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'COPY fz FROM STDIN',
  'COPY fz (a, b) FROM STDIN WITH (FORMAT csv, HEADER true)',
  'COPY fz TO STDOUT',
  "SET application_name = 'fuzz'",
  'SELECT boom()',
  'SELEKT garbage',
  '',
  ';;',
  'SELECT 1 AS a; SELECT 2 AS b; SELEKT 3',
];
const NAMES = ['', '', 's1', 's2', 'p1'];
const TYPES = [0, 16, 17, 20, 21, 23, 25, 700, 701, 1082, 1114, 1184, 1700, 2950, 3802, 999999];

/** A structurally valid frontend message with random content. */
function validMessage(g: Gen): Buffer {
  switch (g.int(13)) {
    case 0:
      return serialize.query(g.pick(SQL));
    case 1:
    case 2: {
      const count = g.int(3);
      return serialize.parse({ name: g.pick(NAMES), text: g.pick(SQL), types: Array.from({ length: count }, () => g.pick(TYPES)) });
    }
    case 3:
    case 4: {
      const values = Array.from({ length: g.int(4) }, () =>
        g.pick<unknown>([null, String(g.int(1000)), g.bytes(g.int(12)), '2024-01-01 00:00:00+00', 'not-a-number', '\\x00ff']),
      );
      return serialize.bind({ portal: g.pick(NAMES), statement: g.pick(NAMES), values, binary: g.chance(0.5) });
    }
    case 5:
      return serialize.describe({ type: g.pick(['S', 'P'] as const), name: g.pick(NAMES) });
    case 6:
      return serialize.execute({ portal: g.pick(NAMES), rows: g.pick([0, 1, 2, 100]) });
    case 7:
      return serialize.close({ type: g.pick(['S', 'P'] as const), name: g.pick(NAMES) });
    case 8:
      return serialize.sync();
    case 9:
      return serialize.flush();
    case 10:
      return serialize.copyData(Buffer.from(g.pick(['1\tx\n', '2\t\\N\n', 'a,b\n3,"q"\n', '\\.\n', 'bad\trow\twith\textra\n', '4\tpartial'])));
    case 11:
      return serialize.copyDone();
    default:
      return serialize.copyFail('fuzz');
  }
}

/** A valid message broken in one of several ways. */
function mutatedMessage(g: Gen): Buffer {
  const m = Buffer.from(validMessage(g));
  switch (g.int(5)) {
    case 0: {
      // Flip a few bytes anywhere (type, length or body).
      for (let i = 0; i < 1 + g.int(3); i++) m[g.int(m.length)] = g.int(256);
      return m;
    }
    case 1: {
      // Truncate the body but keep the length consistent: a malformed body.
      const cut = 5 + g.int(Math.max(1, m.length - 5));
      const t = Buffer.from(m.subarray(0, cut));
      t.writeInt32BE(cut - 1, 1);
      return t;
    }
    case 2:
      // A length far larger than the limit, or negative.
      m.writeInt32BE(g.pick([MAX_MESSAGE_BYTES * 4, 0x7fffffff, -1, 0, 3]), 1);
      return m;
    case 3:
      // Unknown type byte.
      m[0] = g.pick([0, 0x21, 0x7a, 0xff, 0x70]);
      return m;
    default:
      // Only the first part of the message (the rest never comes).
      return m.subarray(0, g.int(m.length));
  }
}

function startup(g: Gen): Buffer {
  const roll = g.int(40);
  const packet = (body: Buffer): Buffer => {
    const h = Buffer.alloc(4);
    h.writeInt32BE(body.length + 4);
    return Buffer.concat([h, body]);
  };
  const code = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  if (roll === 0) return packet(Buffer.concat([code(80877103)])); // SSLRequest (answered 'N', then garbage follows)
  if (roll === 1) return packet(Buffer.concat([code(80877102), g.bytes(8)])); // CancelRequest with a random key
  if (roll === 2) return packet(Buffer.concat([code(g.int(0x7fffffff)), g.bytes(g.int(40))]));
  if (roll === 3) return g.bytes(g.int(64));
  if (roll === 4) return packet(Buffer.from('user\0x\0')); // no protocol version, no terminator
  return serialize.startup({ user: 'fuzzer', database: g.chance(0.05) ? 'nope' : g.pick(['paxosql', 'postgres']) });
}

/** One fuzzing connection; resolves with the number of messages it sent once the server closed it. */
async function fuzzConnection(port: number, g: Gen): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('data', () => undefined); // drain replies so the server never blocks on us
  await once(socket, 'connect');
  const closed = once(socket, 'close');
  const parts: Buffer[] = [startup(g)];
  const count = 50 + g.int(350);
  const broken = (): Buffer => (g.chance(0.8) ? mutatedMessage(g) : g.bytes(1 + g.int(32)));
  // Mostly valid messages (in random order) so a connection gets deep into the
  // protocol before a fatal mutation ends it; broken ones are rare inside the
  // burst and common at its end.
  for (let i = 0; i < count; i++) parts.push(g.chance(0.005) ? broken() : validMessage(g));
  const tail = g.chance(0.7) ? 1 + g.int(3) : 0;
  for (let i = 0; i < tail; i++) parts.push(broken());
  // Send in random-sized pieces so messages straddle TCP chunks.
  const all = Buffer.concat(parts);
  for (let offset = 0; offset < all.length; ) {
    const n = 1 + g.int(4096);
    socket.write(all.subarray(offset, offset + n));
    offset += n;
  }
  socket.end();
  await closed;
  return count + tail + 1;
}

let srv: TestServer;

/** Error-level log lines from the server: anything but the fake backend's deliberate boom() is a bug. */
const errorLogs: string[] = [];
let expectedBoomLogs = 0;
const errorSink = {
  write(line: string): void {
    const entry = JSON.parse(line) as { level: number; msg: string; err?: { message?: string } };
    if (entry.level < 50) return;
    if ((entry.err?.message ?? '').startsWith('boom')) expectedBoomLogs++;
    else errorLogs.push(line);
  },
};

beforeAll(async () => {
  srv = await startServer({ maxMessageBytes: MAX_MESSAGE_BYTES, maxConnections: 64, logger: pino({ level: 'error' }, errorSink) });
  const setup = new pg.Client({ host: '127.0.0.1', port: srv.port, user: 'setup', database: 'paxosql' });
  await setup.connect();
  await setup.query('CREATE TABLE fz (a int4, b text)');
  await setup.end();
});

afterAll(async () => {
  await srv.close();
});

describe('protocol fuzz', () => {
  it(`survives ${TARGET_MESSAGES} random and mutated messages (seed ${SEED})`, async () => {
    const started = Date.now();
    let sent = 0;
    let connections = 0;
    const worker = async (index: number): Promise<void> => {
      const g = new Gen(prng(SEED + index * 7919));
      while (sent < TARGET_MESSAGES && Date.now() - started < TIME_BUDGET_MS) {
        sent += await fuzzConnection(srv.port, g);
        connections++;
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, (_, i) => worker(i)));
    expect(sent, `seed ${SEED}: only ${sent} messages in ${TIME_BUDGET_MS} ms`).toBeGreaterThanOrEqual(TARGET_MESSAGES);

    // Every fuzzing session was released.
    for (let i = 0; i < 200 && srv.server.sessionCount > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(srv.server.sessionCount, `seed ${SEED}: leaked sessions`).toBe(0);

    // Normal clients still work.
    const pool = new pg.Pool({ host: '127.0.0.1', port: srv.port, user: 'after', database: 'paxosql', max: 4 });
    try {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.query('SELECT $1::int4 AS n', [i])));
      expect(results.map((r) => r.rows[0].n), `seed ${SEED}`).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      await pool.end();
    }
    expect(errorLogs.slice(0, 5), `seed ${SEED}: unexpected server errors`).toEqual([]);
    expect(expectedBoomLogs, 'the error log sink saw the deliberate failures').toBeGreaterThan(0);
    // The backend really was driven, not just the framing layer.
    expect(srv.backend.recorded, `seed ${SEED}`).toBeGreaterThan(TARGET_MESSAGES / 10);
    console.info(
      `pgwire fuzz: seed ${SEED}, ${sent} messages over ${connections} connections in ${Date.now() - started} ms; ` +
        `${srv.backend.recorded} statements reached the backend`,
    );
  }, 60_000);
});
