// Encoders for backend (server → client) messages. Each returns one Buffer
// holding a complete message; the connection collects them and writes a batch
// with a single socket write.

import type { Notice, TransactionStatus } from './backend.js';

/** One column of a RowDescription. */
export interface RowDescriptionField {
  readonly name: string;
  readonly typeOid: number;
  /** 0 = text, 1 = binary. */
  readonly format: number;
}

/** Fields of an ErrorResponse or NoticeResponse. */
export interface ErrorFields {
  readonly severity: string;
  readonly code: string;
  readonly message: string;
  readonly detail?: string | undefined;
  readonly hint?: string | undefined;
}

/** Builds a message body incrementally, then frames it with type byte and length. */
class MessageBuilder {
  private parts: Buffer[] = [];
  private size = 0;

  int8(v: number): this {
    const b = Buffer.allocUnsafe(1);
    b.writeUInt8(v & 0xff, 0);
    return this.raw(b);
  }

  int16(v: number): this {
    const b = Buffer.allocUnsafe(2);
    b.writeInt16BE(v, 0);
    return this.raw(b);
  }

  int32(v: number): this {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(v | 0, 0);
    return this.raw(b);
  }

  cstring(s: string): this {
    // A NUL inside would truncate the string on the client side; Postgres never sends one.
    this.raw(Buffer.from(s.replace(/\0/g, ''), 'utf8'));
    return this.raw(Buffer.from([0]));
  }

  raw(b: Buffer): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }

  frame(type: string): Buffer {
    const out = Buffer.allocUnsafe(5 + this.size);
    out.write(type, 0, 'latin1');
    out.writeInt32BE(4 + this.size, 1);
    let offset = 5;
    for (const p of this.parts) {
      p.copy(out, offset);
      offset += p.length;
    }
    return out;
  }
}

export function authenticationOk(): Buffer {
  return new MessageBuilder().int32(0).frame('R');
}

export function authenticationCleartextPassword(): Buffer {
  return new MessageBuilder().int32(3).frame('R');
}

export function authenticationMd5Password(salt: Buffer): Buffer {
  return new MessageBuilder().int32(5).raw(salt).frame('R');
}

export function authenticationSasl(mechanisms: readonly string[]): Buffer {
  const b = new MessageBuilder().int32(10);
  for (const m of mechanisms) b.cstring(m);
  return b.raw(Buffer.from([0])).frame('R');
}

export function authenticationSaslContinue(data: string): Buffer {
  return new MessageBuilder().int32(11).raw(Buffer.from(data, 'utf8')).frame('R');
}

export function authenticationSaslFinal(data: string): Buffer {
  return new MessageBuilder().int32(12).raw(Buffer.from(data, 'utf8')).frame('R');
}

export function parameterStatus(name: string, value: string): Buffer {
  return new MessageBuilder().cstring(name).cstring(value).frame('S');
}

export function backendKeyData(processId: number, secretKey: number): Buffer {
  return new MessageBuilder().int32(processId).int32(secretKey).frame('K');
}

export function readyForQuery(status: TransactionStatus): Buffer {
  return new MessageBuilder().raw(Buffer.from(status, 'latin1')).frame('Z');
}

/** NegotiateProtocolVersion: the newest minor version we support and the options we did not recognise. */
export function negotiateProtocolVersion(newestMinor: number, unrecognised: readonly string[]): Buffer {
  const b = new MessageBuilder().int32(newestMinor).int32(unrecognised.length);
  for (const o of unrecognised) b.cstring(o);
  return b.frame('v');
}

export function rowDescription(fields: readonly RowDescriptionField[]): Buffer {
  const b = new MessageBuilder().int16(fields.length);
  for (const f of fields) {
    b.cstring(f.name)
      .int32(0) // table OID: not a real table column
      .int16(0) // column attribute number
      .int32(f.typeOid)
      .int16(typeSize(f.typeOid))
      .int32(-1) // type modifier
      .int16(f.format);
  }
  return b.frame('T');
}

/** pg_type.typlen for the types we know; -1 (variable) otherwise. Clients mostly ignore it. */
function typeSize(oid: number): number {
  switch (oid) {
    case 16:
      return 1;
    case 21:
      return 2;
    case 23:
    case 26:
    case 700:
    case 1082:
      return 4;
    case 20:
    case 701:
    case 1114:
    case 1184:
      return 8;
    case 2950:
      return 16;
    default:
      return -1;
  }
}

/** DataRow from already-encoded column values (null = SQL NULL). */
export function dataRow(values: readonly (Buffer | null)[]): Buffer {
  let size = 2;
  for (const v of values) size += 4 + (v === null ? 0 : v.length);
  const out = Buffer.allocUnsafe(5 + size);
  out.write('D', 0, 'latin1');
  out.writeInt32BE(4 + size, 1);
  out.writeInt16BE(values.length, 5);
  let offset = 7;
  for (const v of values) {
    if (v === null) {
      out.writeInt32BE(-1, offset);
      offset += 4;
    } else {
      out.writeInt32BE(v.length, offset);
      v.copy(out, offset + 4);
      offset += 4 + v.length;
    }
  }
  return out;
}

export function commandComplete(tag: string): Buffer {
  return new MessageBuilder().cstring(tag).frame('C');
}

export function emptyQueryResponse(): Buffer {
  return new MessageBuilder().frame('I');
}

export function parseComplete(): Buffer {
  return new MessageBuilder().frame('1');
}

export function bindComplete(): Buffer {
  return new MessageBuilder().frame('2');
}

export function closeComplete(): Buffer {
  return new MessageBuilder().frame('3');
}

export function noData(): Buffer {
  return new MessageBuilder().frame('n');
}

export function portalSuspended(): Buffer {
  return new MessageBuilder().frame('s');
}

export function parameterDescription(typeOids: readonly number[]): Buffer {
  const b = new MessageBuilder().int16(typeOids.length);
  for (const oid of typeOids) b.int32(oid);
  return b.frame('t');
}

/** CopyInResponse / CopyOutResponse: overall format 0 (text) with every column text. */
export function copyResponse(kind: 'in' | 'out', columnCount: number): Buffer {
  const b = new MessageBuilder().int8(0).int16(columnCount);
  for (let i = 0; i < columnCount; i++) b.int16(0);
  return b.frame(kind === 'in' ? 'G' : 'H');
}

export function copyData(data: Buffer): Buffer {
  return new MessageBuilder().raw(data).frame('d');
}

export function copyDone(): Buffer {
  return new MessageBuilder().frame('c');
}

export function errorResponse(fields: ErrorFields): Buffer {
  return noticeOrError('E', fields);
}

export function noticeResponse(notice: Notice): Buffer {
  return noticeOrError('N', notice);
}

function noticeOrError(type: 'E' | 'N', fields: ErrorFields): Buffer {
  const b = new MessageBuilder();
  const field = (code: string, value: string | undefined): void => {
    if (value === undefined) return;
    b.raw(Buffer.from(code, 'latin1')).cstring(value);
  };
  field('S', fields.severity);
  field('V', fields.severity); // non-localized severity (protocol 9.6+)
  field('C', fields.code);
  field('M', fields.message);
  field('D', fields.detail);
  field('H', fields.hint);
  b.raw(Buffer.from([0]));
  return b.frame(type);
}
