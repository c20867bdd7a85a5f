// Helpers over the libpg-query JSON AST. The AST is handled as plain JSON (each node is
// an object with exactly one key, its node type) so rewriting can walk it generically.

import { deparseSync } from 'pgsql-deparser';
import { SqlError } from './types.js';

type DeparseInput = Parameters<typeof deparseSync>[0];

export type JsonObject = { [key: string]: unknown };

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The node type of a wrapped node (`{ SelectStmt: {...} }` → `SelectStmt`), or null. */
export function nodeTypeOf(node: unknown): string | null {
  if (!isObject(node)) return null;
  const keys = Object.keys(node);
  return keys.length === 1 ? (keys[0] ?? null) : null;
}

/** The body of a wrapped node of the given type, or null. */
export function bodyOf(node: unknown, type: string): JsonObject | null {
  if (!isObject(node)) return null;
  const body = node[type];
  return isObject(body) ? body : null;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The `sval` of a `{String: {sval}}` node. */
export function stringNodeValue(node: unknown): string | undefined {
  return str(bodyOf(node, 'String')?.['sval']);
}

/** The names of a name list (`[{String}, ...]`). */
export function nameList(list: unknown): string[] {
  return asArray(list).map((item) => stringNodeValue(item) ?? '');
}

/** The text of a string constant (`{A_Const: {sval: {sval}}}`); '' is stored without `sval`. */
export function constStringValue(node: unknown): string | undefined {
  const sval = bodyOf(bodyOf(node, 'A_Const'), 'sval');
  return sval === null ? undefined : (str(sval['sval']) ?? '');
}

export function unsupported(what: string): SqlError {
  return new SqlError('0A000', `${what} is not supported`);
}

// ---------------------------------------------------------------------------
// Node constructors used by rewrites.

export function makeString(sval: string): JsonObject {
  return { String: { sval } };
}

export function makeStringConst(sval: string): JsonObject {
  return { A_Const: { sval: { sval } } };
}

export function makeIntConst(ival: number): JsonObject {
  return { A_Const: { ival: ival === 0 ? {} : { ival } } };
}

export function makeFuncCall(name: string, args: unknown[]): JsonObject {
  return { FuncCall: { funcname: [makeString(name)], args, funcformat: 'COERCE_EXPLICIT_CALL' } };
}

export function makeColumnRef(...names: string[]): JsonObject {
  return { ColumnRef: { fields: names.map(makeString) } };
}

export function makeNot(arg: unknown): JsonObject {
  return { BoolExpr: { boolop: 'NOT_EXPR', args: [arg] } };
}

// ---------------------------------------------------------------------------
// Text output.

/** Quotes an identifier for SQLite (always quoted, so reserved words and case are safe). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * Rewrites Postgres escape-string literals (E'...') that the deparser emits for text with
 * backslashes into standard literals, which is the only kind SQLite reads. Scans the SQL
 * so that quoted identifiers and ordinary literals are left untouched.
 */
export function toStandardStrings(sql: string): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === '"' || ch === "'") {
      const end = skipQuoted(sql, i, ch);
      out += sql.slice(i, end);
      i = end;
    } else if ((ch === 'E' || ch === 'e') && sql[i + 1] === "'" && !isIdentChar(sql[i - 1])) {
      const { text, end } = readEscapeString(sql, i + 2);
      out += quoteLiteral(text);
      i = end;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

function isIdentChar(ch: string | undefined): boolean {
  return ch !== undefined && /[A-Za-z0-9_$]/.test(ch);
}

function skipQuoted(sql: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return i;
}

// The deparser's E-strings only double backslashes and quotes; other escapes never occur
// because it writes the characters themselves.
function readEscapeString(sql: string, start: number): { text: string; end: number } {
  let text = '';
  let i = start;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === '\\') {
      text += sql[i + 1] ?? '';
      i += 2;
    } else if (ch === "'") {
      if (sql[i + 1] === "'") {
        text += "'";
        i += 2;
      } else return { text, end: i + 1 };
    } else {
      text += ch;
      i++;
    }
  }
  throw new SqlError('XX000', 'unterminated string literal in translated SQL');
}

/** Deparses a (rewritten) node to SQLite-readable text. */
export function deparseNode(node: unknown): string {
  return toStandardStrings(deparseSync(node as DeparseInput, { pretty: false }));
}
