// Parsing with the real Postgres parser (libpg-query), splitting into statements and
// classifying each one. Parse results are pure functions of the text, so they are cached.

import { loadModule, parseSync } from 'libpg-query';
import { asArray, bodyOf, deparseNode, isObject, nodeTypeOf, str, type JsonObject } from './ast.js';
import { LruMap } from './lru.js';
import { SqlError } from './types.js';

/** How the cluster must route a statement. */
export type StatementKind = 'read' | 'write' | 'ddl' | 'transaction' | 'session' | 'cursor' | 'unsupported';

export type TransactionAction = 'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'rollback_to';

export interface TransactionCommand {
  readonly action: TransactionAction;
  readonly savepoint?: string;
  /** e.g. `serializable`; accepted and ignored (paxosql is always serializable). */
  readonly isolationLevel?: string;
  readonly readOnly?: boolean;
}

/** SET/RESET/SHOW: the wire layer owns session state and applies these. */
export type SessionCommand =
  | { readonly action: 'set'; readonly name: string; readonly value: string | null; readonly local: boolean }
  | { readonly action: 'reset'; readonly name: string | null }
  | { readonly action: 'show'; readonly name: string }
  /**
   * VACUUM, ANALYZE, CHECKPOINT: physical maintenance that changes no row. SQLite
   * needs none of it per statement (and running it would not be part of the log), so
   * it is answered with its tag. `inTransactionBlock`: whether Postgres allows it
   * inside BEGIN … COMMIT (VACUUM is refused there with 25001).
   */
  | { readonly action: 'maintenance'; readonly tag: string; readonly inTransactionBlock: boolean };

/**
 * DECLARE … CURSOR FOR <query>, FETCH/MOVE (forward), CLOSE: the session
 * keeps a cursor's rows (psycopg2's named cursors, Django's iterator()).
 */
export type CursorCommand =
  | { readonly action: 'declare'; readonly name: string; readonly query: string; readonly hold: boolean }
  | { readonly action: 'fetch'; readonly name: string; readonly count: number; readonly move: boolean }
  /** `name` null: CLOSE ALL. */
  | { readonly action: 'close'; readonly name: string | null };

/** SHOW names its column as Postgres spells the parameter (SHOW timezone → "TimeZone"). */
const MIXED_CASE_SETTINGS: Readonly<Record<string, string>> = { timezone: 'TimeZone', datestyle: 'DateStyle', intervalstyle: 'IntervalStyle' };

export function showColumnName(name: string): string {
  return MIXED_CASE_SETTINGS[name.toLowerCase()] ?? name;
}

export interface ParsedStatement {
  /** The statement's own text, sliced from the input. */
  readonly text: string;
  /** The statement node, e.g. `{ SelectStmt: {...} }`. Treat as immutable (it is cached). */
  readonly ast: JsonObject;
  readonly nodeType: string;
  readonly kind: StatementKind;
  /** The highest `$n` used. */
  readonly paramCount: number;
  readonly transaction?: TransactionCommand;
  readonly session?: SessionCommand;
  readonly cursor?: CursorCommand;
}

let parserReady: Promise<void> | null = null;
let parserLoaded = false;

/** Loads the parser's WebAssembly module; must complete before parsing. Idempotent. */
export function initParser(): Promise<void> {
  parserReady ??= loadModule().then(() => {
    parserLoaded = true;
  });
  return parserReady;
}

const DEFAULT_PARSE_CACHE_SIZE = 1024;
const parseCache = new LruMap<string, readonly ParsedStatement[]>(DEFAULT_PARSE_CACHE_SIZE);

/** Statistics of the shared parse cache (for tests and benchmarks). */
export function parseCacheStats(): { size: number; hits: number; misses: number } {
  return { size: parseCache.size, hits: parseCache.hits, misses: parseCache.misses };
}

export function clearParseCache(): void {
  parseCache.clear();
}

/** Parses a string of one or more statements; cached by text. Throws SqlError 42601 on syntax errors. */
export function parseSql(sql: string, options: { useCache?: boolean } = {}): readonly ParsedStatement[] {
  const useCache = options.useCache ?? true;
  const cached = useCache ? parseCache.get(sql) : undefined;
  if (cached !== undefined) return cached;
  const statements = parseUncached(sql);
  if (useCache) parseCache.set(sql, statements);
  return statements;
}

function parseUncached(sql: string): readonly ParsedStatement[] {
  if (!parserLoaded) throw new Error('initParser() must complete before parsing');
  let result: unknown;
  try {
    result = parseSync(sql);
  } catch (error) {
    throw syntaxError(error);
  }
  const bytes = Buffer.from(sql, 'utf8');
  const statements: ParsedStatement[] = [];
  for (const raw of asArray(isObject(result) ? result['stmts'] : undefined)) {
    if (!isObject(raw) || !isObject(raw['stmt'])) continue;
    // Locations are byte offsets into the UTF-8 text.
    const start = typeof raw['stmt_location'] === 'number' ? raw['stmt_location'] : 0;
    const length = typeof raw['stmt_len'] === 'number' && raw['stmt_len'] > 0 ? raw['stmt_len'] : bytes.length - start;
    const text = bytes.subarray(start, start + length).toString('utf8').trim();
    statements.push(Object.freeze(classifyStatement(raw['stmt'], text)));
  }
  return Object.freeze(statements);
}

function syntaxError(error: unknown): SqlError {
  const message = error instanceof Error ? error.message : String(error);
  if (isStackOverflow(error)) return stackDepthExceeded();
  return new SqlError('42601', message);
}

/** A statement nested too deeply for the parser or the translator to recurse through (Postgres: 54001). */
export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError && /call stack size exceeded/i.test(error.message);
}

export function stackDepthExceeded(): SqlError {
  return new SqlError('54001', 'stack depth limit exceeded', { hint: 'The statement nests too deeply: simplify it (e.g. a long chain of operators).' });
}

// ---------------------------------------------------------------------------
// Classification.

const DDL_NODES = new Set([
  'CreateStmt', 'CreateTableAsStmt', 'AlterTableStmt', 'DropStmt', 'IndexStmt', 'ViewStmt', 'TruncateStmt', 'RenameStmt',
]);
const WRITE_NODES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt']);

export function classifyStatement(ast: JsonObject, text: string): ParsedStatement {
  const nodeType = nodeTypeOf(ast) ?? 'unknown';
  const paramCount = highestParam(ast);
  const base = { text, ast, nodeType, paramCount };
  if (nodeType === 'SelectStmt') {
    // SELECT … INTO new_table is CREATE TABLE new_table AS SELECT ….
    if (bodyOf(ast, nodeType)?.['intoClause'] !== undefined) return { ...base, kind: 'ddl' };
    return { ...base, kind: containsWrite(ast) ? 'write' : 'read' };
  }
  if (WRITE_NODES.has(nodeType)) return { ...base, kind: 'write' };
  if (DDL_NODES.has(nodeType)) return { ...base, kind: 'ddl' };
  if (nodeType === 'TransactionStmt') {
    const transaction = transactionCommand(bodyOf(ast, nodeType) ?? {});
    return transaction === null ? { ...base, kind: 'unsupported' } : { ...base, kind: 'transaction', transaction };
  }
  if (nodeType === 'VacuumStmt' || nodeType === 'CheckPointStmt') {
    return { ...base, kind: 'session', session: maintenanceCommand(nodeType, bodyOf(ast, nodeType) ?? {}) };
  }
  if (CURSOR_NODES.has(nodeType)) {
    const cursor = cursorCommand(nodeType, bodyOf(ast, nodeType) ?? {});
    return cursor === null ? { ...base, kind: 'unsupported' } : { ...base, kind: 'cursor', cursor };
  }
  if (nodeType === 'VariableSetStmt' || nodeType === 'VariableShowStmt') {
    const session = sessionCommand(nodeType, bodyOf(ast, nodeType) ?? {});
    return session === null ? { ...base, kind: 'unsupported' } : { ...base, kind: 'session', session };
  }
  return { ...base, kind: 'unsupported' };
}

const CURSOR_NODES = new Set(['DeclareCursorStmt', 'FetchStmt', 'ClosePortalStmt']);
const CURSOR_OPT_BINARY = 0x1;
const CURSOR_OPT_HOLD = 0x20;

/** A cursor command paxosql runs, or null (refused as unsupported): binary cursors, cursors over writes, fetching backwards. */
function cursorCommand(nodeType: string, body: JsonObject): CursorCommand | null {
  if (nodeType === 'ClosePortalStmt') return { action: 'close', name: str(body['portalname']) ?? null };
  const name = str(body['portalname']) ?? '';
  if (nodeType === 'FetchStmt') {
    const howMany = typeof body['howMany'] === 'number' ? body['howMany'] : 1;
    if (body['direction'] !== 'FETCH_FORWARD' || howMany < 1) return null;
    return { action: 'fetch', name, count: howMany, move: body['ismove'] === true };
  }
  const options = typeof body['options'] === 'number' ? body['options'] : 0;
  const query = body['query'];
  if ((options & CURSOR_OPT_BINARY) !== 0 || nodeTypeOf(query) !== 'SelectStmt' || containsWrite(query)) return null;
  return { action: 'declare', name, query: deparseNode(query), hold: (options & CURSOR_OPT_HOLD) !== 0 };
}

/** The highest ParamRef number anywhere in the tree. */
function highestParam(node: unknown): number {
  let highest = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
    } else if (isObject(value)) {
      const param = bodyOf(value, 'ParamRef');
      if (param !== null && typeof param['number'] === 'number') highest = Math.max(highest, param['number']);
      for (const child of Object.values(value)) visit(child);
    }
  };
  visit(node);
  return highest;
}

/** A SELECT writes when a CTE holds INSERT/UPDATE/DELETE. */
function containsWrite(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(containsWrite);
  if (!isObject(node)) return false;
  const type = nodeTypeOf(node);
  if (type !== null && WRITE_NODES.has(type)) return true;
  return Object.values(node).some(containsWrite);
}

const TRANSACTION_ACTIONS: Readonly<Record<string, TransactionAction>> = {
  TRANS_STMT_BEGIN: 'begin',
  TRANS_STMT_START: 'begin',
  TRANS_STMT_COMMIT: 'commit',
  TRANS_STMT_ROLLBACK: 'rollback',
  TRANS_STMT_SAVEPOINT: 'savepoint',
  TRANS_STMT_RELEASE: 'release',
  TRANS_STMT_ROLLBACK_TO: 'rollback_to',
};

function transactionCommand(body: JsonObject): TransactionCommand | null {
  const action = TRANSACTION_ACTIONS[str(body['kind']) ?? ''];
  if (action === undefined) return null; // PREPARE TRANSACTION, COMMIT PREPARED, ...
  if (body['chain'] === true) return null; // COMMIT AND CHAIN
  let isolationLevel: string | undefined;
  for (const option of asArray(body['options'])) {
    const def = bodyOf(option, 'DefElem');
    const value = constantText(def?.['arg']);
    if (def?.['defname'] === 'transaction_isolation' && value !== null) isolationLevel = value;
  }
  const readOnly = readOnlyOption(body['options']);
  const savepoint = str(body['savepoint_name']);
  return {
    action,
    ...(savepoint !== undefined ? { savepoint } : {}),
    ...(isolationLevel !== undefined ? { isolationLevel } : {}),
    ...(readOnly !== undefined ? { readOnly } : {}),
  };
}

function sessionCommand(nodeType: string, body: JsonObject): SessionCommand | null {
  if (nodeType === 'VariableShowStmt') return { action: 'show', name: (str(body['name']) ?? '').toLowerCase() };
  const name = (str(body['name']) ?? '').toLowerCase();
  switch (str(body['kind'])) {
    case 'VAR_SET_VALUE': {
      const values = asArray(body['args']).map(constantText);
      if (values.some((v) => v === null)) return null;
      return { action: 'set', name, value: values.join(', '), local: body['is_local'] === true };
    }
    case 'VAR_SET_DEFAULT':
      return { action: 'set', name, value: null, local: body['is_local'] === true };
    case 'VAR_RESET':
      return { action: 'reset', name };
    case 'VAR_RESET_ALL':
      return { action: 'reset', name: null };
    case 'VAR_SET_MULTI': {
      // SET TRANSACTION … / SET SESSION CHARACTERISTICS AS TRANSACTION …: the isolation
      // level is accepted and ignored (always serializable); READ ONLY / READ WRITE sets
      // the setting Postgres maps it to, for this transaction or for the session.
      const readOnly = readOnlyOption(body['args']);
      if (readOnly === undefined) return { action: 'set', name, value: null, local: true };
      const forTransaction = name === 'transaction';
      const setting = forTransaction ? 'transaction_read_only' : 'default_transaction_read_only';
      return { action: 'set', name: setting, value: readOnly ? 'on' : 'off', local: forTransaction };
    }
    default:
      return null;
  }
}

/** READ ONLY (true) or READ WRITE (false) among the options of BEGIN or SET TRANSACTION, if either is there. */
function readOnlyOption(options: unknown): boolean | undefined {
  let readOnly: boolean | undefined;
  for (const option of asArray(options)) {
    const def = bodyOf(option, 'DefElem');
    if (def?.['defname'] === 'transaction_read_only') readOnly = constantText(def['arg']) === '1';
  }
  return readOnly;
}

/** The command a statement runs, as Postgres names it in "cannot execute … in a read-only transaction". */
export function commandName(statement: ParsedStatement): string {
  const body = bodyOf(statement.ast, statement.nodeType) ?? {};
  switch (statement.nodeType) {
    case 'InsertStmt': return 'INSERT';
    case 'UpdateStmt': return 'UPDATE';
    case 'DeleteStmt': return 'DELETE';
    case 'SelectStmt': return 'SELECT';
    case 'CreateStmt': return 'CREATE TABLE';
    case 'IndexStmt': return 'CREATE INDEX';
    case 'ViewStmt': return 'CREATE VIEW';
    case 'TruncateStmt': return 'TRUNCATE TABLE';
    case 'AlterTableStmt': case 'RenameStmt': return 'ALTER TABLE';
    case 'DropStmt': return `DROP ${(str(body['removeType']) ?? 'OBJECT_TABLE').replace('OBJECT_', '')}`;
    default: return statement.nodeType.replace(/Stmt$/, '').toUpperCase();
  }
}

function maintenanceCommand(nodeType: string, body: JsonObject): SessionCommand {
  if (nodeType === 'CheckPointStmt') return { action: 'maintenance', tag: 'CHECKPOINT', inTransactionBlock: true };
  // `VACUUM ANALYZE t` is a VACUUM (tag and transaction rule); `ANALYZE t` alone is allowed in a block.
  const isVacuum = body['is_vacuumcmd'] === true;
  return { action: 'maintenance', tag: isVacuum ? 'VACUUM' : 'ANALYZE', inTransactionBlock: !isVacuum };
}

/** The text of a constant (`A_Const` or a `TypeCast` of one), or null. */
export function constantText(node: unknown): string | null {
  const cast = bodyOf(node, 'TypeCast');
  if (cast !== null) return constantText(cast['arg']);
  const constant = bodyOf(node, 'A_Const');
  if (constant === null) return null;
  if (constant['isnull'] === true) return null;
  const sval = bodyOf(constant, 'sval');
  if (sval !== null) return str(sval['sval']) ?? '';
  const ival = bodyOf(constant, 'ival');
  if (ival !== null) return String(typeof ival['ival'] === 'number' ? ival['ival'] : 0);
  const fval = bodyOf(constant, 'fval');
  if (fval !== null) return str(fval['fval']) ?? '0';
  const boolval = bodyOf(constant, 'boolval');
  if (boolval !== null) return boolval['boolval'] === true ? 'on' : 'off';
  return null;
}
