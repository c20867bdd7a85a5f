import { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { serialize } from 'pg-protocol';
import { int32, names, rawMessage, RawClient, startServer, startupPacket, type Message, type TestServer } from './helpers.js';

let srv: TestServer;
const clients: RawClient[] = [];

async function ready(params: Record<string, string> = {}): Promise<RawClient> {
  const c = await RawClient.ready(srv.port, params);
  clients.push(c);
  return c;
}

async function raw(): Promise<RawClient> {
  const c = await RawClient.connect(srv.port);
  clients.push(c);
  return c;
}

beforeEach(async () => {
  srv = await startServer();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await srv.close();
});

function field(m: Message, key: string): unknown {
  return m[key];
}

describe('startup', () => {
  it('sends AuthenticationOk, the ParameterStatus set, BackendKeyData and ReadyForQuery', async () => {
    const c = await raw();
    c.write(serialize.startup({ user: 'alice', database: 'paxosql', application_name: 'rawtest' }));
    const msgs = await c.until('readyForQuery');
    expect(msgs[0]!.name).toBe('authenticationOk');
    const params = new Map(msgs.filter((m) => m.name === 'parameterStatus').map((m) => [m.parameterName as string, m.parameterValue as string]));
    expect(params.get('server_version')).toMatch(/^15\.\d+$/);
    expect(params.get('client_encoding')).toBe('UTF8');
    expect(params.get('server_encoding')).toBe('UTF8');
    expect(params.get('DateStyle')).toBe('ISO, MDY');
    expect(params.get('TimeZone')).toBe('UTC');
    expect(params.get('integer_datetimes')).toBe('on');
    expect(params.get('standard_conforming_strings')).toBe('on');
    expect(params.get('application_name')).toBe('rawtest');
    expect(params.get('session_authorization')).toBe('alice');
    const key = msgs.find((m) => m.name === 'backendKeyData')!;
    expect(key.processID).toBeGreaterThan(0);
    expect(msgs.at(-1)!.status).toBe('I');
  });

  it('answers SSLRequest and GSSENCRequest with N, then accepts the startup', async () => {
    const c = await raw();
    c.write(serialize.requestSsl());
    expect(await c.rawByte()).toBe('N');
    c.write(startupPacket(int32(80877104)));
    expect(await c.rawByte()).toBe('N');
    c.write(serialize.startup({ user: 'u', database: 'postgres' }));
    await c.until('readyForQuery');
  });

  it('rejects an unknown database with 3D000 and a hint listing the served names', async () => {
    const c = await raw();
    c.write(serialize.startup({ user: 'u', database: 'nope' }));
    const [err] = await c.until('error');
    expect(err!.code).toBe('3D000');
    expect(err!.hint).toContain('paxosql');
    expect(err!.hint).toContain('postgres');
    await c.closed;
  });

  it('rejects protocol 2.0 with a clear error and closes', async () => {
    const c = await raw();
    c.write(startupPacket(Buffer.concat([int32(2 << 16), Buffer.from('user\0u\0\0')])));
    const [err] = await c.until('error');
    expect(err!.code).toBe('0A000');
    expect(err!.message).toMatch(/unsupported frontend protocol 2\.0/);
    await c.closed;
  });

  it('answers protocol 3.1 with NegotiateProtocolVersion and serves 3.0', async () => {
    const c = await raw();
    c.write(startupPacket(Buffer.concat([int32((3 << 16) | 1), Buffer.from('user\0u\0database\0paxosql\0_pq_.opt\0x\0\0')])));
    await c.until('readyForQuery');
    const negotiate = c.frames.find((f) => f.type === 'v')!;
    expect(negotiate.body.readInt32BE(0)).toBe(0);
    expect(negotiate.body.readInt32BE(4)).toBe(1);
    expect(negotiate.body.toString('utf8', 8)).toBe('_pq_.opt\0');
  });

  it('refuses sessions beyond maxConnections with 53300 and admits again after one leaves', async () => {
    await srv.close();
    srv = await startServer({ maxConnections: 2 });
    const a = await ready();
    await ready();
    const third = await raw();
    third.write(serialize.startup({ user: 'u', database: 'paxosql' }));
    const [err] = await third.until('error');
    expect(err!.code).toBe('53300');
    expect(err!.message).toMatch(/too many connections/);
    await third.closed;
    await a.end();
    await waitFor(() => srv.server.sessionCount === 1);
    const again = await ready();
    again.write(serialize.query('SELECT 1 AS one'));
    expect(names(await again.until('readyForQuery'))).toEqual(['rowDescription', 'dataRow', 'commandComplete', 'readyForQuery']);
  });

  it('rejects a startup packet larger than 10000 bytes', async () => {
    const c = await raw();
    c.write(startupPacket(Buffer.concat([int32(3 << 16), Buffer.from(`user\0${'x'.repeat(20_000)}\0\0`)])));
    const [err] = await c.until('error');
    expect(err!.code).toBe('08P01');
    await c.closed;
  });
});

describe('simple query', () => {
  it('runs several statements with a result per statement', async () => {
    const c = await ready();
    c.write(serialize.query("CREATE TABLE t (a int4, b text); INSERT INTO t VALUES (1, 'x'), (2, 'y'); SELECT a, b FROM t ORDER BY a"));
    const msgs = await c.until('readyForQuery');
    expect(names(msgs)).toEqual(['commandComplete', 'commandComplete', 'rowDescription', 'dataRow', 'dataRow', 'commandComplete', 'readyForQuery']);
    expect(msgs.map((m) => field(m, 'text')).filter(Boolean)).toEqual(['CREATE TABLE', 'INSERT 0 2', 'SELECT 2']);
    expect(msgs[3]!.fields).toEqual(['1', 'x']);
  });

  it('answers an empty query with EmptyQueryResponse', async () => {
    const c = await ready();
    c.write(serialize.query('  ;  '));
    expect(names(await c.until('readyForQuery'))).toEqual(['emptyQuery', 'readyForQuery']);
  });

  it('stops at the first error of a multi-statement query', async () => {
    const c = await ready();
    c.write(serialize.query('SELECT 1 AS a; SELECT * FROM missing; SELECT 2 AS b'));
    const msgs = await c.until('readyForQuery');
    expect(names(msgs)).toEqual(['rowDescription', 'dataRow', 'commandComplete', 'error', 'readyForQuery']);
    expect(msgs[3]!.code).toBe('42P01');
  });

  it('reports the transaction status in ReadyForQuery', async () => {
    const c = await ready();
    c.write(serialize.query('BEGIN'));
    expect((await c.until('readyForQuery')).at(-1)!.status).toBe('T');
    c.write(serialize.query('SELECT * FROM missing'));
    expect((await c.until('readyForQuery')).at(-1)!.status).toBe('E');
    c.write(serialize.query('ROLLBACK'));
    expect((await c.until('readyForQuery')).at(-1)!.status).toBe('I');
  });

  it('turns a non-SqlError from the backend into XX000 and keeps the connection', async () => {
    const c = await ready();
    c.write(serialize.query('SELECT boom()'));
    const msgs = await c.until('readyForQuery');
    expect(msgs.find((m) => m.name === 'error')!.code).toBe('XX000');
    c.write(serialize.query('SELECT 7 AS seven'));
    expect((await c.until('readyForQuery'))[1]!.fields).toEqual(['7']);
  });

  it('sends ParameterStatus after SET of a reported parameter, and notices', async () => {
    const c = await ready();
    c.write(serialize.query("SET application_name = 'renamed'"));
    const msgs = await c.until('readyForQuery');
    const status = msgs.find((m) => m.name === 'parameterStatus')!;
    expect([status.parameterName, status.parameterValue]).toEqual(['application_name', 'renamed']);
    c.write(serialize.query("SELECT raise_notice('hello')"));
    const notice = (await c.until('readyForQuery')).find((m) => m.name === 'notice')!;
    expect(notice.message).toBe('hello');
  });

  it('reassembles a message split into single bytes', async () => {
    const c = await ready();
    const bytes = serialize.query('SELECT 42 AS answer');
    for (const b of bytes) c.socket.write(Buffer.from([b]));
    expect((await c.until('readyForQuery'))[1]!.fields).toEqual(['42']);
  });
});

describe('extended query', () => {
  it('runs a pipelined Parse/Bind/Describe/Execute/Sync batch', async () => {
    const c = await ready();
    c.write(serialize.query("CREATE TABLE p (id int4, name text); INSERT INTO p VALUES (1, 'one'), (2, 'two')"));
    await c.until('readyForQuery');
    c.write(
      serialize.parse({ name: 'byid', text: 'SELECT name FROM p WHERE id = $1', types: [23] }),
      serialize.describe({ type: 'S', name: 'byid' }),
      serialize.bind({ statement: 'byid', values: ['2'] }),
      serialize.describe({ type: 'P' }),
      serialize.execute(),
      serialize.bind({ statement: 'byid', portal: 'p1', values: ['1'] }),
      serialize.execute({ portal: 'p1' }),
      serialize.parse({ text: "INSERT INTO p VALUES (3, 'three')" }),
      serialize.bind(),
      serialize.describe({ type: 'P' }),
      serialize.execute(),
      serialize.sync(),
    );
    const msgs = await c.until('readyForQuery');
    expect(msgs.find((m) => m.name === 'error')?.message).toBeUndefined();
    expect(names(msgs)).toEqual([
      'parseComplete',
      'parameterDescription',
      'rowDescription',
      'bindComplete',
      'rowDescription',
      'dataRow',
      'commandComplete',
      'bindComplete',
      'dataRow',
      'commandComplete',
      'parseComplete',
      'bindComplete',
      'noData',
      'commandComplete',
      'readyForQuery',
    ]);
    expect(msgs[1]!.dataTypeIDs).toEqual([23]);
    expect(msgs[5]!.fields).toEqual(['two']);
    expect(msgs[8]!.fields).toEqual(['one']);
    expect(msgs[13]!.text).toBe('INSERT 0 1');
  });

  it('answers a pipelined batch with a single socket write', async () => {
    // One write per flush point avoids the Nagle / delayed-ACK 40 ms stall.
    const c = await ready();
    const write = vi.spyOn(Socket.prototype, 'write');
    try {
      c.write(
        serialize.parse({ text: 'SELECT $1::int4 AS v', types: [23] }),
        serialize.bind({ values: ['1'] }),
        serialize.describe({ type: 'P' }),
        serialize.execute(),
        serialize.bind({ values: ['2'] }),
        serialize.execute(),
        serialize.sync(),
      );
      const msgs = await c.until('readyForQuery');
      expect(msgs.filter((m) => m.name === 'dataRow')).toHaveLength(2);
      const serverWrites = write.mock.contexts.filter((socket) => (socket as Socket).remotePort === c.socket.localPort);
      expect(serverWrites).toHaveLength(1);
    } finally {
      write.mockRestore();
    }
  });

  it('suspends a portal at the row limit and resumes it', async () => {
    const c = await ready();
    c.write(serialize.query('CREATE TABLE r (n int4); INSERT INTO r VALUES (1), (2), (3), (4), (5)'));
    await c.until('readyForQuery');
    c.write(
      serialize.parse({ text: 'SELECT n FROM r ORDER BY n' }),
      serialize.bind({ portal: 'cur' }),
      serialize.execute({ portal: 'cur', rows: 2 }),
      serialize.execute({ portal: 'cur', rows: 2 }),
      serialize.flush(),
    );
    const first = await c.until('portalSuspended');
    expect(names(first)).toEqual(['parseComplete', 'bindComplete', 'dataRow', 'dataRow', 'portalSuspended']);
    expect(names(await c.until('portalSuspended'))).toEqual(['dataRow', 'dataRow', 'portalSuspended']);
    c.write(serialize.execute({ portal: 'cur', rows: 2 }), serialize.sync());
    const last = await c.until('readyForQuery');
    expect(names(last)).toEqual(['dataRow', 'commandComplete', 'readyForQuery']);
    expect(last[0]!.fields).toEqual(['5']);
    expect(last[1]!.text).toBe('SELECT 1');
  });

  it('skips to Sync after an error, then serves normally', async () => {
    const c = await ready();
    c.write(
      serialize.parse({ text: 'SELEKT nonsense' }),
      serialize.bind(),
      serialize.execute(),
      serialize.query('SELECT 1 AS ignored'),
      serialize.sync(),
      serialize.query('SELECT 2 AS two'),
    );
    const msgs = await c.untilReady(2);
    expect(names(msgs)).toEqual(['error', 'readyForQuery', 'rowDescription', 'dataRow', 'commandComplete', 'readyForQuery']);
    expect(msgs[0]!.code).toBe('42601');
    expect(msgs[3]!.fields).toEqual(['2']);
  });

  it('sends a Parse error on Flush, before any Sync, and still skips to the Sync', async () => {
    // postgres.js sends Parse/Describe/Flush for a new query and waits for the reply before Sync.
    const c = await ready();
    c.write(serialize.parse({ text: 'SELEC $1' }), serialize.describe({ type: 'S' }), serialize.flush());
    const [err] = await soon(c.until('error'), 'the ErrorResponse after Flush');
    expect(err!.code).toBe('42601');
    // Still skipping: these are ignored, the Flush sends nothing, and Sync answers ReadyForQuery.
    c.write(serialize.bind(), serialize.execute(), serialize.flush(), serialize.sync());
    const rest = await c.until('readyForQuery');
    expect(names(rest)).toEqual(['readyForQuery']);
    expect(rest[0]!.status).toBe('I');
    c.write(serialize.parse({ text: 'SELECT $1::int4 AS v' }), serialize.bind({ values: ['7'] }), serialize.execute(), serialize.sync());
    const after = await c.until('readyForQuery');
    expect(names(after)).toEqual(['parseComplete', 'bindComplete', 'dataRow', 'commandComplete', 'readyForQuery']);
    expect(after[2]!.fields).toEqual(['7']);
  });

  it('sends an Execute error on Flush with the replies before it in one socket write', async () => {
    const c = await ready();
    c.write(serialize.query('CREATE TABLE fx (id int4 PRIMARY KEY); INSERT INTO fx VALUES (1)'));
    await c.until('readyForQuery');
    const write = vi.spyOn(Socket.prototype, 'write');
    try {
      c.write(serialize.parse({ text: 'INSERT INTO fx VALUES ($1)', types: [23] }), serialize.bind({ values: ['1'] }), serialize.execute(), serialize.flush());
      const msgs = await soon(c.until('error'), 'the ErrorResponse after Flush');
      expect(names(msgs)).toEqual(['parseComplete', 'bindComplete', 'error']);
      expect(msgs[2]!.code).toBe('23505');
      const serverWrites = write.mock.contexts.filter((socket) => (socket as Socket).remotePort === c.socket.localPort);
      expect(serverWrites).toHaveLength(1);
    } finally {
      write.mockRestore();
    }
    c.write(serialize.sync());
    expect(names(await c.until('readyForQuery'))).toEqual(['readyForQuery']);
  });

  it('rejects redefining a named statement with 42P05 but allows re-parsing the unnamed one', async () => {
    const c = await ready();
    c.write(
      serialize.parse({ text: 'SELECT 1 AS a' }),
      serialize.parse({ text: 'SELECT 2 AS a' }),
      serialize.bind(),
      serialize.execute(),
      serialize.parse({ name: 's1', text: 'SELECT 1 AS a' }),
      serialize.parse({ name: 's1', text: 'SELECT 2 AS a' }),
      serialize.sync(),
    );
    const msgs = await c.until('readyForQuery');
    expect(names(msgs)).toEqual(['parseComplete', 'parseComplete', 'bindComplete', 'dataRow', 'commandComplete', 'parseComplete', 'error', 'readyForQuery']);
    expect(msgs[3]!.fields).toEqual(['2']);
    expect(msgs[6]!.code).toBe('42P05');
    // After Close the name is free again.
    c.write(serialize.close({ type: 'S', name: 's1' }), serialize.parse({ name: 's1', text: 'SELECT 3 AS a' }), serialize.sync());
    expect(names(await c.until('readyForQuery'))).toEqual(['closeComplete', 'parseComplete', 'readyForQuery']);
  });

  it('reports missing statements and portals with 26000 and 34000', async () => {
    const c = await ready();
    c.write(serialize.bind({ statement: 'nope' }), serialize.sync(), serialize.execute({ portal: 'nope' }), serialize.sync());
    const msgs = await c.untilReady(2);
    expect(msgs.filter((m) => m.name === 'error').map((m) => m.code)).toEqual(['26000', '34000']);
  });

  it('rejects a Bind with the wrong parameter count', async () => {
    const c = await ready();
    c.write(serialize.parse({ text: 'SELECT $1::int4 AS v' }), serialize.bind({ values: [] }), serialize.sync());
    const msgs = await c.until('readyForQuery');
    expect(msgs.find((m) => m.name === 'error')!.code).toBe('08P01');
  });

  it('answers an empty statement with EmptyQueryResponse', async () => {
    const c = await ready();
    c.write(serialize.parse({ text: '' }), serialize.bind(), serialize.describe({ type: 'P' }), serialize.execute(), serialize.sync());
    expect(names(await c.until('readyForQuery'))).toEqual(['parseComplete', 'bindComplete', 'noData', 'emptyQuery', 'readyForQuery']);
  });
});

describe('binary parameters and results', () => {
  // [type, OID, binary encoding (hex), text output]
  const cases: [string, number, string, string][] = [
    ['bool', 16, '01', 't'],
    ['int2', 21, 'fffe', '-2'],
    ['int4', 23, '7fffffff', '2147483647'],
    ['int8', 20, '8000000000000000', '-9223372036854775808'],
    ['float4', 700, '3fc00000', '1.5'],
    ['float8', 701, '400921fb54442d18', '3.141592653589793'],
    ['float8', 701, 'fff0000000000000', '-Infinity'],
    ['numeric', 1700, '000300014000000300010929' + '1a7c', '-12345.678'],
    ['numeric', 1700, '0001fffe000000080001', '0.00000001'],
    ['text', 25, Buffer.from('héllo').toString('hex'), 'héllo'],
    ['varchar', 1043, '76', 'v'],
    ['bytea', 17, '00ff10', '\\x00ff10'],
    ['timestamp', 1114, '00000000000f4240', '2000-01-01 00:00:01'],
    ['timestamptz', 1184, 'ffffffffffffffff', '1999-12-31 23:59:59.999999+00'],
    ['date', 1082, '00000001', '2000-01-02'],
    ['uuid', 2950, 'a0eebc999c0b4ef8bb6d6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
    ['json', 114, '7b7d', '{}'],
    ['jsonb', 3802, '017b7d', '{}'],
  ];

  it('decodes each binary parameter and encodes it back in binary and in text', async () => {
    const c = await ready();
    for (const [type, oid, hex, text] of cases) {
      const before = c.dataRows().length;
      const value = Buffer.from(hex, 'hex');
      c.write(
        serialize.parse({ text: `SELECT $1::${type} AS v`, types: [oid] }),
        serialize.bind({ values: [value], binary: true }),
        serialize.describe({ type: 'P' }),
        serialize.execute(),
        serialize.bind({ values: [value] }),
        serialize.execute(),
        serialize.sync(),
      );
      const msgs = await c.until('readyForQuery');
      expect(msgs.find((m) => m.name === 'error')?.message, type).toBeUndefined();
      const description = msgs.find((m) => m.name === 'rowDescription')!;
      expect((description.fields as { dataTypeID: number; format: string }[])[0]).toMatchObject({ dataTypeID: oid, format: 'binary' });
      const [binaryRow, textRow] = c.dataRows().slice(before);
      expect(binaryRow![0]!.toString('hex'), type).toBe(hex);
      expect(textRow![0]!.toString('utf8'), type).toBe(text);
    }
  });
});

describe('cancel', () => {
  it('cancels a running statement through CancelRequest and closes the cancelling connection silently', async () => {
    const victim = await RawClient.connect(srv.port);
    clients.push(victim);
    victim.write(serialize.startup({ user: 'u', database: 'paxosql' }));
    const key = (await victim.until('readyForQuery')).find((m) => m.name === 'backendKeyData')!;
    victim.write(serialize.query('SELECT pg_sleep(30)'));
    await waitFor(() => [...srv.backend.sessions].some((s) => s.sleeping));
    const canceller = await raw();
    // A wrong secret must not cancel anything.
    canceller.write(serialize.cancel(key.processID as number, (key.secretKey as number) ^ 1));
    await canceller.closed;
    const second = await raw();
    second.write(serialize.cancel(key.processID as number, key.secretKey as number));
    await second.closed;
    expect(second.received).toEqual([]);
    const msgs = await victim.until('readyForQuery');
    expect(msgs.find((m) => m.name === 'error')!.code).toBe('57014');
    victim.write(serialize.query('SELECT 1 AS still'));
    expect((await victim.until('readyForQuery'))[1]!.fields).toEqual(['1']);
  });

  it('cancels the running statement of a client that disconnects', async () => {
    const victim = await ready();
    victim.write(serialize.query('SELECT pg_sleep(30)'));
    await waitFor(() => [...srv.backend.sessions].some((s) => s.sleeping));
    victim.destroy();
    await waitFor(() => ![...srv.backend.sessions].some((s) => s.sleeping));
  });
});

describe('protocol violations', () => {
  it('rejects an oversized message with 08P01, closes, and keeps serving others', async () => {
    await srv.close();
    srv = await startServer({ maxMessageBytes: 1024 });
    const c = await ready();
    c.write(serialize.query(`SELECT '${'x'.repeat(5000)}'`));
    const [err] = await c.until('error');
    expect(err!.code).toBe('08P01');
    await c.closed;
    const other = await ready();
    other.write(serialize.query('SELECT 1 AS ok'));
    expect((await other.until('readyForQuery'))[1]!.fields).toEqual(['1']);
  });

  it('rejects a length below 4 and an unknown message type', async () => {
    const a = await ready();
    a.write(Buffer.from([0x51, 0, 0, 0, 2]));
    expect((await a.until('error'))[0]!.code).toBe('08P01');
    await a.closed;
    const b = await ready();
    b.write(rawMessage('!', Buffer.alloc(3)));
    const [err] = await b.until('error');
    expect(err!.code).toBe('08P01');
    expect(err!.message).toMatch(/invalid frontend message type/);
    await b.closed;
  });

  it('rejects a malformed message body', async () => {
    const c = await ready();
    c.write(rawMessage('Q', Buffer.from('no terminator')));
    expect((await c.until('error'))[0]!.code).toBe('08P01');
    await c.closed;
  });
});

describe('COPY', () => {
  it('loads text and CSV data split across CopyData messages and copies it back out', async () => {
    const c = await ready();
    c.write(serialize.query('CREATE TABLE cp (id int4, name text, note text)'));
    await c.until('readyForQuery');
    c.write(serialize.query('COPY cp FROM STDIN'));
    const response = (await c.until('copyInResponse'))[0]!;
    expect((response.columnTypes as unknown[]).length).toBe(3);
    c.write(serialize.copyData(Buffer.from('1\tal')), serialize.copyData(Buffer.from('ice\t\\N\n2\tb\\tob\tx\n')), serialize.copyDone());
    const done = await c.until('readyForQuery');
    expect(done[0]!.text).toBe('COPY 2');
    c.write(serialize.query("COPY cp (id, name, note) FROM STDIN WITH (FORMAT csv, HEADER true)"));
    await c.until('copyInResponse');
    c.write(serialize.copyData(Buffer.from('id,name,note\n3,"carol, ""c""",\n4,"multi\nline","')), serialize.copyData(Buffer.from('"\n')), serialize.copyDone());
    expect((await c.until('readyForQuery'))[0]!.text).toBe('COPY 2');
    c.write(serialize.query('SELECT id, name, note FROM cp ORDER BY id'));
    const rows = (await c.until('readyForQuery')).filter((m) => m.name === 'dataRow').map((m) => m.fields);
    expect(rows).toEqual([
      ['1', 'alice', null],
      ['2', 'b\tob', 'x'],
      ['3', 'carol, "c"', null],
      ['4', 'multi\nline', ''],
    ]);
    c.write(serialize.query('COPY cp TO STDOUT WITH (FORMAT csv)'));
    const out = await c.until('readyForQuery');
    expect(names(out)).toEqual(['copyOutResponse', 'copyData', 'copyData', 'copyData', 'copyData', 'copyDone', 'commandComplete', 'readyForQuery']);
    const text = out.filter((m) => m.name === 'copyData').map((m) => (m.chunk as Buffer).toString()).join('');
    expect(text).toBe('1,alice,\n2,b\tob,x\n3,"carol, ""c""",\n4,"multi\nline",""\n');
  });

  it('loads a COPY larger than the input high-water mark sent in one burst', async () => {
    const c = await ready();
    c.write(serialize.query('CREATE TABLE big (n int4, s text)'));
    await c.until('readyForQuery');
    const rows = 150_000;
    const lines = Array.from({ length: rows }, (_, i) => `${i}\tvalue-${i}\n`).join('');
    const data = Buffer.from(lines);
    const messages: Buffer[] = [];
    for (let i = 0; i < data.length; i += 8192) messages.push(serialize.copyData(data.subarray(i, i + 8192)));
    // Everything, including the COPY statement itself, goes out before any reply is read.
    c.write(serialize.query('COPY big FROM STDIN'), ...messages, serialize.copyDone(), serialize.query('SELECT count(*) AS n, max(s) AS m FROM big'));
    expect(data.length).toBeGreaterThan(2 * 1024 * 1024);
    const msgs = await c.untilReady(2);
    expect(msgs.find((m) => m.name === 'commandComplete')!.text).toBe(`COPY ${rows}`);
    expect(msgs.find((m) => m.name === 'dataRow')!.fields).toEqual([String(rows), 'value-99999']);
  });

  it('aborts on CopyFail with 57014 and on a wrong column count with 22P04', async () => {
    const c = await ready();
    c.write(serialize.query('CREATE TABLE cf (a int4, b text)'));
    await c.until('readyForQuery');
    c.write(serialize.query('COPY cf FROM STDIN'));
    await c.until('copyInResponse');
    c.write(serialize.copyData(Buffer.from('1\tx\n')), serialize.copyFail('client gave up'));
    const failed = await c.until('readyForQuery');
    expect(failed[0]!.code).toBe('57014');
    c.write(serialize.query('COPY cf FROM STDIN'));
    await c.until('copyInResponse');
    c.write(serialize.copyData(Buffer.from('1\tx\textra\n')), serialize.copyDone());
    const wrong = await c.until('readyForQuery');
    expect(wrong[0]!.code).toBe('22P04');
    c.write(serialize.query('SELECT count(*) AS n FROM cf'));
    expect((await c.until('readyForQuery'))[1]!.fields).toEqual(['0']);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}

/** Fails with a clear message instead of hanging when a reply never comes. */
async function soon<T>(promise: Promise<T>, what: string, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
