// Shared test plumbing: a server on a free port backed by the fake backend,
// and a raw protocol client built on pg-protocol's serializer and parser.

import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { serialize } from 'pg-protocol';
import { Parser } from 'pg-protocol/dist/parser.js';
import type { BackendMessage } from 'pg-protocol/dist/messages.js';
import { pino } from 'pino';
import { PgServer, type PgServerOptions } from '../../../src/pgwire/server.js';
import { FakeBackend } from './fake-backend.js';

export interface TestServer {
  readonly server: PgServer;
  readonly backend: FakeBackend;
  readonly port: number;
  close(): Promise<void>;
}

export async function startServer(options: Partial<PgServerOptions> = {}): Promise<TestServer> {
  const backend = new FakeBackend();
  const server = new PgServer({ backend, logger: pino({ level: 'silent' }), ...options });
  const { port } = await server.listen(0);
  return {
    server,
    backend,
    port,
    close: async () => {
      await server.close();
      backend.close();
    },
  };
}

/** A message as pg-protocol parses it; `name` tells which one. */
export type Message = BackendMessage & Record<string, unknown>;

/**
 * A protocol-level client: write serialized messages, then await replies by
 * name. Everything received is kept in order so tests can assert sequences.
 */
export class RawClient {
  readonly received: Message[] = [];
  /** Every backend message as raw bytes (pg-protocol decodes DataRow values as UTF-8, losing binary data). */
  readonly frames: { type: string; body: Buffer }[] = [];
  private frameBuffer = Buffer.alloc(0);
  private cursor = 0;
  private readonly parser = new Parser();
  private wake: (() => void) | null = null;
  private rawBytes: Buffer[] = [];
  private parsing = true;
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.parsing) this.parseChunk(chunk);
      else this.rawBytes.push(chunk);
      this.notify();
    });
    socket.on('error', () => undefined);
    this.closed = once(socket, 'close').then(() => {
      this.isClosed = true;
      this.notify();
    });
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new RawClient(socket);
  }

  /** Connects and completes a trust startup. */
  static async ready(port: number, params: Record<string, string> = {}): Promise<RawClient> {
    const client = await RawClient.connect(port);
    client.write(serialize.startup({ user: 'tester', database: 'paxosql', ...params }));
    await client.until('readyForQuery');
    return client;
  }

  write(...buffers: Buffer[]): void {
    this.socket.write(Buffer.concat(buffers));
  }

  /** Reads one raw byte (answers to SSLRequest / GSSENCRequest come unframed). */
  async rawByte(): Promise<string> {
    this.parsing = false;
    while (this.rawBytes.length === 0) {
      if (this.isClosed) throw new Error('closed before the raw byte arrived');
      await this.waitForData();
    }
    const all = Buffer.concat(this.rawBytes);
    this.rawBytes = [];
    this.parsing = true;
    if (all.length > 1) this.parseChunk(all.subarray(1));
    return all.toString('latin1', 0, 1);
  }

  /** Returns the messages received since the last call, up to and including the first named `name`. */
  async until(name: string): Promise<Message[]> {
    for (;;) {
      const index = this.received.findIndex((m, i) => i >= this.cursor && m.name === name);
      if (index >= 0) {
        const batch = this.received.slice(this.cursor, index + 1);
        this.cursor = index + 1;
        return batch;
      }
      if (this.isClosed) {
        const names = this.received.slice(this.cursor).map((m) => m.name);
        throw new Error(`connection closed while waiting for ${name}; got ${names.join(', ')}`);
      }
      await this.waitForData();
    }
  }

  /** Collects messages until `count` ReadyForQuery have arrived. */
  async untilReady(count: number): Promise<Message[]> {
    const all: Message[] = [];
    for (let i = 0; i < count; i++) all.push(...(await this.until('readyForQuery')));
    return all;
  }

  async end(): Promise<void> {
    if (!this.isClosed) {
      this.socket.end(serialize.end());
      await this.closed;
    }
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Binary DataRow values received so far, as raw Buffers (null for NULL). */
  dataRows(): (Buffer | null)[][] {
    return this.frames
      .filter((f) => f.type === 'D')
      .map(({ body }) => {
        const values: (Buffer | null)[] = [];
        let offset = 2;
        for (let i = 0; i < body.readInt16BE(0); i++) {
          const length = body.readInt32BE(offset);
          offset += 4;
          values.push(length < 0 ? null : body.subarray(offset, offset + length));
          offset += Math.max(length, 0);
        }
        return values;
      });
  }

  private parseChunk(chunk: Buffer): void {
    this.parser.parse(chunk, (m) => this.received.push(m as Message));
    this.frameBuffer = Buffer.concat([this.frameBuffer, chunk]);
    while (this.frameBuffer.length >= 5) {
      const length = this.frameBuffer.readInt32BE(1);
      if (this.frameBuffer.length < 1 + length) break;
      this.frames.push({ type: this.frameBuffer.toString('latin1', 0, 1), body: this.frameBuffer.subarray(5, 1 + length) });
      this.frameBuffer = this.frameBuffer.subarray(1 + length);
    }
  }

  private waitForData(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

export function names(messages: readonly Message[]): string[] {
  return messages.map((m) => m.name);
}

/** A message with an explicit type byte and body, for crafting what the serializer cannot. */
export function rawMessage(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** An untyped startup-phase packet (length + body). */
export function startupPacket(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeInt32BE(body.length + 4, 0);
  return Buffer.concat([header, body]);
}

export function int32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeInt32BE(v, i * 4));
  return b;
}
