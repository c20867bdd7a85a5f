// Static inference over the original (Postgres) AST: the column names Postgres would give
// result columns, and their types where the expression fixes them. SQLite knows declared
// types only for plain column references; everything else would otherwise be guessed
// from runtime values (and `1 < 2` would come back as an integer, not a boolean).

import { asArray, bodyOf, nameList, nodeTypeOf, str, stringNodeValue } from './ast.js';
import { lookupPgType, type PgType } from './pgtypes.js';

/** Result column names follow Postgres' FigureColname rules. */
export function columnNameOf(target: unknown): string {
  const res = bodyOf(target, 'ResTarget');
  const name = str(res?.['name']);
  if (name !== undefined) return name;
  return figureName(res?.['val']) ?? '?column?';
}

const SQL_VALUE_FUNCTION_NAMES: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
  SVFOP_CURRENT_ROLE: 'current_role',
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'current_user',
  SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_catalog',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

function figureName(node: unknown): string | null {
  const type = nodeTypeOf(node);
  const body = type === null ? null : bodyOf(node, type);
  if (type === null || body === null) return null;
  switch (type) {
    case 'ColumnRef': {
      const fields = asArray(body['fields']);
      return stringNodeValue(fields[fields.length - 1]) ?? null;
    }
    case 'FuncCall': {
      const names = nameList(body['funcname']);
      return names[names.length - 1] ?? null;
    }
    case 'TypeCast': {
      const inner = figureName(body['arg']);
      if (inner !== null) return inner;
      const names = nameList(bodyOf({ TypeName: body['typeName'] }, 'TypeName')?.['names']);
      return names[names.length - 1] ?? null;
    }
    case 'CaseExpr': return 'case';
    case 'CoalesceExpr': return 'coalesce';
    case 'MinMaxExpr': return body['op'] === 'IS_LEAST' ? 'least' : 'greatest';
    case 'SQLValueFunction': return SQL_VALUE_FUNCTION_NAMES[str(body['op']) ?? ''] ?? null;
    case 'A_Expr': return body['kind'] === 'AEXPR_NULLIF' ? 'nullif' : null;
    case 'SubLink': {
      if (body['subLinkType'] === 'EXISTS_SUBLINK') return 'exists';
      if (body['subLinkType'] !== 'EXPR_SUBLINK') return null;
      const first = asArray(bodyOf(body['subselect'], 'SelectStmt')?.['targetList'])[0];
      return first === undefined ? null : columnNameOf(first);
    }
    default: return null;
  }
}

// ---------------------------------------------------------------------------
// Types.

const BOOLEAN_OPERATORS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '~', '~*', '!~', '!~*', '~~', '!~~', '~~*', '!~~*']);
const BOOLEAN_EXPR_KINDS = new Set([
  'AEXPR_DISTINCT', 'AEXPR_NOT_DISTINCT', 'AEXPR_IN', 'AEXPR_LIKE', 'AEXPR_ILIKE',
  'AEXPR_BETWEEN', 'AEXPR_NOT_BETWEEN', 'AEXPR_OP_ANY', 'AEXPR_OP_ALL',
]);

const FUNCTION_TYPES: Readonly<Record<string, PgType>> = {
  count: 'int8', now: 'timestamptz', transaction_timestamp: 'timestamptz', statement_timestamp: 'timestamptz',
  to_timestamp: 'timestamptz', gen_random_uuid: 'uuid', uuid_generate_v4: 'uuid',
  random: 'float8', lower: 'text', upper: 'text', concat: 'text', concat_ws: 'text', replace: 'text',
  substring: 'text', substr: 'text', trim: 'text', btrim: 'text', ltrim: 'text', rtrim: 'text',
  left: 'text', right: 'text', lpad: 'text', rpad: 'text', repeat: 'text', reverse: 'text',
  split_part: 'text', initcap: 'text', md5: 'text', string_agg: 'text', translate: 'text', to_hex: 'text',
  regexp_replace: 'text', chr: 'text', version: 'text', current_database: 'text', current_setting: 'text',
  current_schema: 'text', length: 'int4', char_length: 'int4', character_length: 'int4', octet_length: 'int4',
  strpos: 'int4', position: 'int4', ascii: 'int4', pg_backend_pid: 'int4', avg: 'numeric',
  extract: 'numeric', date_part: 'float8', bool_and: 'bool', bool_or: 'bool', every: 'bool',
  starts_with: 'bool', json_build_object: 'json', jsonb_build_object: 'jsonb', json_build_array: 'json',
  jsonb_build_array: 'jsonb', json_agg: 'json', jsonb_agg: 'jsonb', sqrt: 'float8', ln: 'float8',
  exp: 'float8', power: 'float8', pow: 'float8', pi: 'float8', cbrt: 'float8', div: 'numeric',
  clock_timestamp: 'timestamptz',
};
const SAME_AS_FIRST_ARG = new Set(['min', 'max', 'abs', 'coalesce', 'sum', 'round', 'floor', 'ceil', 'ceiling', 'trunc', 'sign', 'mod']);

const SQL_VALUE_FUNCTION_TYPES: Readonly<Record<string, PgType>> = {
  SVFOP_CURRENT_DATE: 'date', SVFOP_CURRENT_TIMESTAMP: 'timestamptz', SVFOP_CURRENT_TIMESTAMP_N: 'timestamptz',
  SVFOP_LOCALTIMESTAMP: 'timestamp', SVFOP_LOCALTIMESTAMP_N: 'timestamp',
};

export interface TypeScope {
  /** The declared type of a column referenced by name, when it can be resolved. */
  columnType(fields: readonly string[]): PgType | null;
  paramType(n: number): PgType | null;
}

/** The Postgres type an expression certainly has, or null when only runtime values can tell. */
export function inferType(node: unknown, scope: TypeScope): PgType | null {
  const type = nodeTypeOf(node);
  const body = type === null ? null : bodyOf(node, type);
  if (type === null || body === null) return null;
  switch (type) {
    case 'A_Const': return constantType(body);
    case 'ResTarget': return inferType(body['val'], scope);
    case 'TypeCast': return typeNameType(body['typeName']);
    case 'ParamRef': return typeof body['number'] === 'number' ? scope.paramType(body['number']) : null;
    case 'ColumnRef': return scope.columnType(asArray(body['fields']).map((f) => stringNodeValue(f) ?? '*'));
    case 'BoolExpr': case 'NullTest': case 'BooleanTest': return 'bool';
    case 'SubLink': return subLinkType(body, scope);
    case 'SQLValueFunction': return SQL_VALUE_FUNCTION_TYPES[str(body['op']) ?? ''] ?? (str(body['op'])?.includes('USER') === true || body['op'] === 'SVFOP_CURRENT_ROLE' || body['op'] === 'SVFOP_CURRENT_CATALOG' || body['op'] === 'SVFOP_CURRENT_SCHEMA' ? 'text' : null);
    case 'A_Expr': return operatorType(body, scope);
    case 'FuncCall': return functionType(body, scope);
    case 'CaseExpr': return commonType(asArray(body['args']).map((w) => bodyOf(w, 'CaseWhen')?.['result']).concat([body['defresult']]), scope);
    case 'CoalesceExpr': case 'MinMaxExpr': return commonType(asArray(body['args']), scope);
    default: return null;
  }
}

function constantType(body: Record<string, unknown>): PgType | null {
  if (body['isnull'] === true) return null;
  if ('ival' in body) return 'int4';
  if ('boolval' in body) return 'bool';
  if ('sval' in body) return 'text';
  const fval = str(bodyOf(body, 'fval')?.['fval']);
  if (fval === undefined) return null;
  if (/^-?\d+$/.test(fval)) return BigInt(fval) <= 9223372036854775807n && BigInt(fval) >= -9223372036854775808n ? 'int8' : 'numeric';
  return 'numeric';
}

/** The supported type a TypeName names, or null. */
export function typeNameType(typeName: unknown): PgType | null {
  if (typeName === null || typeof typeName !== 'object') return null;
  const record = typeName as Record<string, unknown>;
  if (asArray(record['arrayBounds']).length > 0) return null;
  const names = nameList(record['names']);
  return lookupPgType(names[names.length - 1] ?? '');
}

function subLinkType(body: Record<string, unknown>, scope: TypeScope): PgType | null {
  if (body['subLinkType'] === 'ARRAY_SUBLINK') return null; // an array (catalog queries only)
  if (body['subLinkType'] !== 'EXPR_SUBLINK') return 'bool';
  const first = asArray(bodyOf(body['subselect'], 'SelectStmt')?.['targetList'])[0];
  return first === undefined ? null : inferType(first, scope);
}

const ARITHMETIC_RANK: readonly PgType[] = ['int2', 'int4', 'int8', 'numeric', 'float4', 'float8'];

function operatorType(body: Record<string, unknown>, scope: TypeScope): PgType | null {
  const kind = str(body['kind']) ?? '';
  if (BOOLEAN_EXPR_KINDS.has(kind)) return 'bool';
  if (kind === 'AEXPR_NULLIF') return inferType(body['lexpr'], scope);
  if (kind !== 'AEXPR_OP') return null;
  const names = nameList(body['name']);
  const op = names[names.length - 1] ?? '';
  if (BOOLEAN_OPERATORS.has(op)) return 'bool';
  if (op === '||') return 'text';
  if (op === '->>') return 'text';
  if (op === '->') {
    const left = inferType(body['lexpr'], scope);
    return left === 'jsonb' ? 'jsonb' : 'json';
  }
  if (op === '^') return 'float8';
  const shifted = intervalArithmetic(op, body, scope);
  if (shifted !== null) return intervalResultType(inferType(shifted.base, scope));
  const right = inferType(body['rexpr'], scope);
  if (body['lexpr'] === undefined) return right; // unary minus/plus
  const left = inferType(body['lexpr'], scope);
  const dateArithmetic = dateOperatorType(op, left, right);
  if (dateArithmetic !== null) return dateArithmetic;
  if (['+', '-', '*', '/', '%'].includes(op) && left !== null && right !== null) {
    const leftRank = ARITHMETIC_RANK.indexOf(left);
    const rightRank = ARITHMETIC_RANK.indexOf(right);
    if (leftRank < 0 || rightRank < 0) return null;
    const widest = ARITHMETIC_RANK[Math.max(leftRank, rightRank, 1)] ?? null; // int2 arithmetic yields int4
    return widest;
  }
  return null;
}

/** `interval '1 day'`, `'1 day'::interval`, `$1::interval`: the interval's text (a string constant or a parameter), else null. */
export function intervalText(node: unknown): unknown {
  const cast = bodyOf(node, 'TypeCast');
  if (cast === null) return null;
  const typeName = cast['typeName'] as Record<string, unknown> | undefined;
  const names = nameList(typeName?.['names']);
  if (names[names.length - 1] !== 'interval') return null;
  const arg = cast['arg'];
  return nodeTypeOf(arg) === 'A_Const' || nodeTypeOf(arg) === 'ParamRef' ? arg : null;
}

/**
 * `x ± interval` or `interval + x`: x, the interval's text and the sign; null
 * when the expression is not that. With a scope, an untyped string or
 * parameter added to a timestamp is an interval too, as Postgres resolves
 * `timestamp + unknown` (`now() - '1 hour'`): SQLite would add the numbers.
 */
export function intervalArithmetic(
  op: string, body: Record<string, unknown>, scope?: TypeScope,
): { readonly base: unknown; readonly interval: unknown; readonly sign: 1 | -1 } | null {
  if ((op !== '+' && op !== '-') || body['lexpr'] === undefined) return null;
  const right = intervalText(body['rexpr']) ?? (scope !== undefined && isTimestamp(body['lexpr'], scope) ? untypedText(body['rexpr'], scope) : null);
  if (right !== null) return { base: body['lexpr'], interval: right, sign: op === '-' ? -1 : 1 };
  if (op !== '+') return null;
  const left = intervalText(body['lexpr']) ?? (scope !== undefined && isTimestamp(body['rexpr'], scope) ? untypedText(body['lexpr'], scope) : null);
  return left === null ? null : { base: body['rexpr'], interval: left, sign: 1 };
}

function isTimestamp(node: unknown, scope: TypeScope): boolean {
  const type = inferType(node, scope);
  return type === 'timestamp' || type === 'timestamptz';
}

/** A string constant, or a parameter whose type nothing else decided. */
function untypedText(node: unknown, scope: TypeScope): unknown {
  const constant = bodyOf(node, 'A_Const');
  if (constant !== null) return 'sval' in constant ? node : null;
  const param = bodyOf(node, 'ParamRef');
  return param !== null && typeof param['number'] === 'number' && scope.paramType(param['number']) === null ? node : null;
}

/** date ± interval is a timestamp; timestamp ± interval a timestamp; timestamptz (and an untyped value, as now()) a timestamptz. */
export function intervalResultType(base: PgType | null): 'timestamp' | 'timestamptz' {
  return base === 'date' || base === 'timestamp' ? 'timestamp' : 'timestamptz';
}

const INTEGER_TYPES: ReadonlySet<PgType | null> = new Set<PgType | null>(['int2', 'int4', 'int8']);

/** date + int, int + date, date - int: date; date - date: int4 (days). Null for anything else. */
export function dateOperatorType(op: string, left: PgType | null, right: PgType | null): PgType | null {
  if (op === '+' && ((left === 'date' && INTEGER_TYPES.has(right)) || (right === 'date' && INTEGER_TYPES.has(left)))) return 'date';
  if (op === '-' && left === 'date' && INTEGER_TYPES.has(right)) return 'date';
  if (op === '-' && left === 'date' && right === 'date') return 'int4';
  return null;
}

function functionType(body: Record<string, unknown>, scope: TypeScope): PgType | null {
  const names = nameList(body['funcname']);
  const name = (names[names.length - 1] ?? '').toLowerCase();
  const known = FUNCTION_TYPES[name];
  if (known !== undefined) return known;
  // date_trunc(text, timestamp) is a timestamp; with timestamptz (or a date, cast to it) a timestamptz.
  if (name === 'date_trunc') return inferType(asArray(body['args'])[1], scope) === 'timestamp' ? 'timestamp' : 'timestamptz';
  if (SAME_AS_FIRST_ARG.has(name)) {
    const argType = inferType(asArray(body['args'])[0], scope);
    // sum() widens integers: sum(int4) is int8, sum(int8) numeric.
    if (name === 'sum' && (argType === 'int2' || argType === 'int4')) return 'int8';
    if (name === 'sum' && argType === 'int8') return 'numeric';
    return argType;
  }
  return null;
}

/**
 * The type of an expression choosing among several (CASE, COALESCE,
 * GREATEST, LEAST): numbers widen to the widest among them, as Postgres
 * resolves them (greatest(int_column, 2.5) is numeric: typed by its first
 * argument, 2.5 would reach a client as an integer); otherwise the first
 * known type.
 */
function commonType(nodes: readonly unknown[], scope: TypeScope): PgType | null {
  const known = nodes.map((node) => inferType(node, scope)).filter((type): type is PgType => type !== null);
  const first = known[0];
  if (first === undefined) return null;
  if (!known.every((type) => ARITHMETIC_RANK.includes(type))) return first;
  return known.reduce((wide, type) => (ARITHMETIC_RANK.indexOf(type) > ARITHMETIC_RANK.indexOf(wide) ? type : wide), first);
}
