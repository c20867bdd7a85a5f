// COPY data in the text and CSV formats: an incremental row parser for
// COPY FROM STDIN (CopyData boundaries are arbitrary: a row, or a UTF-8
// character, may be split across messages), a row encoder for COPY TO STDOUT,
// and a small parser of the COPY statement itself that backends may use to
// decide that a statement is a COPY and with which options.

import { closingParen } from '../sql/catalog-model.js';
import { StringDecoder } from 'node:string_decoder';
import { SqlError } from '../sql/types.js';
import type { CopyFormat } from './backend.js';

export const TEXT_COPY_FORMAT: CopyFormat = {
  format: 'text',
  delimiter: '\t',
  nullString: '\\N',
  header: false,
  quote: '"',
  escape: '"',
};

export const CSV_COPY_FORMAT: CopyFormat = {
  format: 'csv',
  delimiter: ',',
  nullString: '',
  header: false,
  quote: '"',
  escape: '"',
};

/** A COPY statement between a table and the client. */
export interface CopyStatement {
  readonly direction: 'from-stdin' | 'to-stdout';
  /** The table name as written (quotes removed). */
  readonly table: string;
  /** The column list, or null for all columns. */
  readonly columns: readonly string[] | null;
  readonly format: CopyFormat;
  /** `COPY (query) TO STDOUT`: the query whose rows are copied out (table is then ''). */
  readonly query?: string;
}

/**
 * Recognises `COPY table [(cols)] FROM STDIN | TO STDOUT [[WITH] (options) | legacy options]`.
 * Returns undefined for anything else (including COPY from/to a file, and
 * COPY (query) TO STDOUT). Throws 42601 for unsupported options.
 */
export function parseCopyStatement(sql: string): CopyStatement | undefined {
  const query = parseCopyQuery(sql);
  if (query !== undefined) return query;
  const m = /^\s*copy\s+((?:"[^"]+"|[\w$]+)(?:\.(?:"[^"]+"|[\w$]+))?)\s*(?:\(([^)]*)\))?\s*(from\s+stdin|to\s+stdout)\b\s*(.*?)\s*;?\s*$/is.exec(sql);
  if (!m) return undefined;
  const unquote = (s: string): string => s.trim().replace(/^"(.*)"$/s, '$1');
  const table = m[1]!.split('.').map(unquote).join('.');
  const columns = m[2] === undefined ? null : m[2].split(',').map(unquote);
  const direction = /^from/i.test(m[3]!) ? 'from-stdin' : 'to-stdout';
  return { direction, table, columns, format: parseCopyOptions(m[4] ?? '') };
}

/** `COPY (query) TO STDOUT [options]` (psql's `\copy (query) TO …` sends this). */
function parseCopyQuery(sql: string): CopyStatement | undefined {
  const start = /^\s*copy\s*\(/i.exec(sql);
  if (start === null) return undefined;
  const open = start[0].length - 1;
  const close = closingParen(sql, open);
  if (close < 0) return undefined;
  const rest = /^\s*to\s+stdout\b\s*(.*?)\s*;?\s*$/is.exec(sql.slice(close + 1));
  if (rest === null) return undefined;
  return { direction: 'to-stdout', table: '', columns: null, format: parseCopyOptions(rest[1] ?? ''), query: sql.slice(open + 1, close).trim() };
}


function parseCopyOptions(text: string): CopyFormat {
  let format: 'text' | 'csv' = 'text';
  let header = false;
  let delimiter: string | undefined;
  let nullString: string | undefined;
  let quote = '"';
  let escape: string | undefined;
  const tokens = [...text.replace(/^with\b/i, '').matchAll(/'((?:[^']|'')*)'|([A-Za-z_]+)|([(),])/g)].map((t) =>
    t[1] !== undefined ? { literal: t[1].replace(/''/g, "'") } : { word: (t[2] ?? t[3]!).toLowerCase() },
  );
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (!('word' in token) || token.word === '(' || token.word === ')' || token.word === ',') continue;
    const next = tokens[i + 1];
    const literal = next !== undefined && 'literal' in next ? next.literal : undefined;
    const nextWord = next !== undefined && 'word' in next ? next.word : undefined;
    switch (token.word) {
      case 'format':
        if (nextWord === 'csv' || nextWord === 'text') format = nextWord;
        else if (nextWord === 'binary') throw new SqlError('0A000', 'COPY … (FORMAT binary) is not supported', { hint: 'Use FORMAT text or csv.' });
        else throw new SqlError('42601', `COPY format "${nextWord ?? literal ?? ''}" not recognized`);
        i++;
        break;
      case 'csv':
        format = 'csv';
        break;
      case 'header':
        header = nextWord !== 'false' && nextWord !== 'off' && nextWord !== '0';
        if (nextWord === 'true' || nextWord === 'false' || nextWord === 'on' || nextWord === 'off') i++;
        break;
      case 'delimiter':
      case 'null':
      case 'quote':
      case 'escape':
        if (literal === undefined) throw new SqlError('42601', `COPY option ${token.word} needs a quoted value`);
        if (token.word === 'delimiter') delimiter = literal;
        if (token.word === 'null') nullString = literal;
        if (token.word === 'quote') quote = literal;
        if (token.word === 'escape') escape = literal;
        i++;
        break;
      case 'freeze':
        // FREEZE only skips later vacuum work in Postgres (pgbench -i asks for it): no effect on rows.
        if (nextWord === 'true' || nextWord === 'false' || nextWord === 'on' || nextWord === 'off' || literal !== undefined) i++;
        break;
      case 'encoding':
        if (literal === undefined || !/^utf-?8$/i.test(literal)) throw new SqlError('0A000', 'COPY supports only ENCODING \'UTF8\'');
        i++;
        break;
      case 'as':
      case 'binary':
        if (token.word === 'binary') throw new SqlError('0A000', 'COPY BINARY is not supported');
        break;
      default:
        throw new SqlError('42601', `COPY option "${token.word}" not recognized`);
    }
  }
  const base = format === 'csv' ? CSV_COPY_FORMAT : TEXT_COPY_FORMAT;
  const result: CopyFormat = {
    format,
    header,
    delimiter: delimiter ?? base.delimiter,
    nullString: nullString ?? base.nullString,
    quote,
    escape: escape ?? quote,
  };
  if (result.delimiter.length !== 1) throw new SqlError('0A000', 'COPY delimiter must be a single one-byte character');
  if (result.quote.length !== 1 || result.escape.length !== 1) throw new SqlError('0A000', 'COPY quote and escape must be single one-byte characters');
  return result;
}

/** One parsed COPY row: a text field per column, null for NULL. */
export type CopyRow = (string | null)[];

/**
 * Parses COPY FROM STDIN data as it arrives. `push` returns the rows completed
 * by this chunk; `end` returns the final row if the data did not end with a
 * newline. Pending (incomplete) text is bounded by `maxPendingChars` (54000).
 */
export class CopyRowParser {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private headerSkipped: boolean;
  private ended = false;
  private lineNumber = 0;

  constructor(
    private readonly format: CopyFormat,
    private readonly maxPendingChars: number,
  ) {
    this.headerSkipped = !format.header;
  }

  push(chunk: Buffer): CopyRow[] {
    this.pending += this.decoder.write(chunk);
    if (this.pending.length > this.maxPendingChars) {
      throw new SqlError('54000', `COPY row at line ${this.lineNumber + 1} is longer than ${this.maxPendingChars} characters`);
    }
    return this.drain(false);
  }

  end(): CopyRow[] {
    this.pending += this.decoder.end();
    return this.drain(true);
  }

  private drain(atEnd: boolean): CopyRow[] {
    const rows: CopyRow[] = [];
    let offset = 0;
    while (!this.ended && offset < this.pending.length) {
      const parsed = this.format.format === 'csv' ? this.parseCsvRecord(offset, atEnd) : this.parseTextRecord(offset, atEnd);
      if (parsed === undefined) break;
      offset = parsed.next;
      this.lineNumber++;
      if (parsed.endMarker) {
        this.ended = true;
        break;
      }
      if (!this.headerSkipped) {
        this.headerSkipped = true;
        continue;
      }
      rows.push(parsed.row);
    }
    this.pending = this.ended ? '' : this.pending.slice(offset);
    return rows;
  }

  /** A text-format line: tab-separated fields, backslash escapes, `\N` for NULL, `\.` ends the data. */
  private parseTextRecord(start: number, atEnd: boolean): ParsedRecord | undefined {
    let lineEnd = this.pending.indexOf('\n', start);
    if (lineEnd < 0) {
      if (!atEnd) return undefined;
      lineEnd = this.pending.length;
    }
    let line = this.pending.slice(start, lineEnd);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    const next = lineEnd + 1;
    if (line === '\\.') return { row: [], next, endMarker: true };
    const row: CopyRow = line.split(this.format.delimiter).map((raw) => (raw === this.format.nullString ? null : unescapeText(raw)));
    return { row, next, endMarker: false };
  }

  /** A CSV record: quoted fields may hold delimiters and newlines; unquoted empty is NULL. */
  private parseCsvRecord(start: number, atEnd: boolean): ParsedRecord | undefined {
    const { delimiter, quote, escape, nullString } = this.format;
    const text = this.pending;
    const row: CopyRow = [];
    let i = start;
    let field = '';
    let quotedField = false;
    let inQuotes = false;
    const lineStart = start;
    const finishField = (): void => {
      row.push(!quotedField && field === nullString ? null : field);
      field = '';
      quotedField = false;
    };
    while (i < text.length) {
      const ch = text[i]!;
      if (inQuotes) {
        // An escape at the very end of the buffer may be the first half of a doubled quote.
        if (ch === escape && i + 1 >= text.length && !atEnd) return undefined;
        const following = text[i + 1];
        if (ch === escape && (following === quote || (escape !== quote && following === escape))) {
          field += following;
          i += 2;
        } else if (ch === quote) {
          inQuotes = false;
          i++;
        } else {
          field += ch;
          i++;
        }
        continue;
      }
      if (ch === quote) {
        inQuotes = true;
        quotedField = true;
        i++;
      } else if (ch === delimiter) {
        finishField();
        i++;
      } else if (ch === '\n' || ch === '\r') {
        if (row.length === 0 && !quotedField && field === '\\.') return { row: [], next: i + 1, endMarker: true };
        finishField();
        const next = ch === '\r' && text[i + 1] === '\n' ? i + 2 : i + 1;
        if (ch === '\r' && i + 1 >= text.length && !atEnd) return undefined;
        return { row, next, endMarker: false };
      } else {
        field += ch;
        i++;
      }
    }
    // Reached the end of the buffered text without a record terminator.
    if (!atEnd) return undefined;
    if (inQuotes) throw new SqlError('22P04', 'unterminated CSV quoted field');
    if (i === lineStart) return undefined;
    if (row.length === 0 && !quotedField && field === '\\.') return { row: [], next: i, endMarker: true };
    finishField();
    return { row, next: i, endMarker: false };
  }
}

interface ParsedRecord {
  readonly row: CopyRow;
  readonly next: number;
  readonly endMarker: boolean;
}

const TEXT_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function unescapeText(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/gs, (_m, seq: string) => {
    if (seq[0] === 'x' && seq.length > 1) return String.fromCharCode(parseInt(seq.slice(1), 16));
    if (/^[0-7]/.test(seq)) return String.fromCharCode(parseInt(seq, 8));
    return TEXT_ESCAPES[seq] ?? seq;
  });
}

/** Encodes one row for COPY TO STDOUT, with its trailing newline. */
export function encodeCopyRow(values: readonly (string | null)[], format: CopyFormat): string {
  const encoded = values.map((v) => (format.format === 'csv' ? encodeCsvField(v, format) : encodeTextField(v, format)));
  return encoded.join(format.delimiter) + '\n';
}

function encodeTextField(value: string | null, format: CopyFormat): string {
  if (value === null) return format.nullString;
  let out = '';
  for (const ch of value) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === format.delimiter) out += '\\' + ch;
    else out += ch;
  }
  return out;
}

function encodeCsvField(value: string | null, format: CopyFormat): string {
  if (value === null) return format.nullString;
  const needsQuotes =
    value === '' ||
    value === format.nullString ||
    value.includes(format.delimiter) ||
    value.includes(format.quote) ||
    value.includes('\n') ||
    value.includes('\r') ||
    value === '\\.';
  if (!needsQuotes) return value;
  let out = format.quote;
  for (const ch of value) out += ch === format.quote || ch === format.escape ? format.escape + ch : ch;
  return out + format.quote;
}
