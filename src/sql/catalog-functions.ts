// Functions that catalog queries call (format_type, pg_get_indexdef, pg_table_is_visible,
// regclass conversions, ...) and the narrow array support catalog queries need. Arrays
// exist only in catalog queries and are Postgres array text literals (`{a,b}`): that is
// what the client would receive anyway, and SQLite can compare and store them as text.
// These run inside SQLite statements, so they read the CatalogModel (kept in memory by
// Catalog) and never query the database themselves.

import type Database from 'better-sqlite3';
import {
  CATALOG_NAMESPACE_OID, INFORMATION_SCHEMA_NAMESPACE_OID, PUBLIC_NAMESPACE_OID, ROLE_OID, quoteIdentifier, type CatalogModel,
} from './catalog-model.js';
import { formatType, resolveTypeName } from './catalog-types.js';
import { SqlError } from './types.js';

export interface CatalogFunctionEnvironment {
  /** The model as of the last refresh (the engine refreshes before every catalog statement). */
  model(): CatalogModel;
  /** The connected user's name. */
  user(): string;
}

type Arg = unknown;
type Fn = (...args: Arg[]) => unknown;

/** Arrays longer than this are refused rather than built (bounds every array loop). */
const MAX_ARRAY_ELEMENTS = 1_000_000;

function toText(value: Arg): string {
  return value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : String(value);
}

function toInt(value: Arg): number {
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'number') return Math.trunc(value);
  const text = toText(value).trim();
  if (!/^[+-]?\d+$/.test(text)) throw new SqlError('22P02', `invalid input syntax for type oid: "${text}"`);
  return Number(text);
}

function isIntegerValue(value: Arg): boolean {
  return typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^\s*\d+\s*$/.test(value));
}

function bool(value: boolean): bigint {
  return value ? 1n : 0n;
}

// ---------------------------------------------------------------------------
// Array text literals.

/** Parses `{a,"b c",NULL}` (or an int2vector/oidvector's `1 2 3`) into elements. */
export function parseArrayLiteral(text: string): (string | null)[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed === '' ? [] : trimmed.split(/\s+/);
  const body = trimmed.replace(/^\{/, '').replace(/\}$/, '');
  const elements: (string | null)[] = [];
  let i = 0;
  while (i < body.length) {
    if (elements.length >= MAX_ARRAY_ELEMENTS) throw new SqlError('54000', 'array too large');
    if (body[i] === '"') {
      let value = '';
      i++;
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i++;
        value += body[i] ?? '';
        i++;
      }
      elements.push(value);
      i += 2; // closing quote and comma
    } else {
      const end = body.indexOf(',', i);
      const raw = (end < 0 ? body.slice(i) : body.slice(i, end)).trim();
      elements.push(raw.toUpperCase() === 'NULL' ? null : raw);
      i = end < 0 ? body.length : end + 1;
    }
  }
  return elements;
}

/** Formats elements as a Postgres array literal, quoting where Postgres would. */
export function formatArrayLiteral(elements: readonly (string | null)[]): string {
  const parts = elements.map((element) => {
    if (element === null) return 'NULL';
    if (element === '' || /[{},"\\\s]/.test(element) || element.toUpperCase() === 'NULL') {
      return `"${element.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    }
    return element;
  });
  return `{${parts.join(',')}}`;
}

function arrayElements(value: Arg): (string | null)[] | null {
  return value === null || value === undefined ? null : parseArrayLiteral(toText(value));
}

/** Postgres `=` between an element (text) and a value of any SQLite type. */
function elementEquals(element: string, value: Arg): boolean {
  if (typeof value === 'bigint' || typeof value === 'number') return /^\s*[+-]?\d+(\.\d+)?\s*$/.test(element) && Number(element) === Number(value);
  return element === toText(value);
}

// ---------------------------------------------------------------------------
// Names and OIDs.

/** Splits `schema.name` / `"Quoted"` the way Postgres reads a qualified name (unquoted parts fold to lower case). */
function parseQualifiedName(text: string): { schema: string | undefined; name: string } {
  const parts: string[] = [];
  const pattern = /\s*(?:"((?:[^"]|"")*)"|([^."]+))\s*(\.|$)/gy;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null && parts.length < 4) {
    parts.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : (match[2] ?? '').trim().toLowerCase());
    if (match[3] === '') break;
  }
  const name = parts[parts.length - 1] ?? '';
  return { schema: parts.length > 1 ? parts[parts.length - 2] : undefined, name };
}

const NAMESPACES: ReadonlyMap<string, number> = new Map([
  ['pg_catalog', CATALOG_NAMESPACE_OID], ['public', PUBLIC_NAMESPACE_OID], ['information_schema', INFORMATION_SCHEMA_NAMESPACE_OID],
]);

/**
 * Postgres' own OIDs of the system catalogs, for `'pg_class'::regclass` (drivers use it
 * as pg_description.classoid). Catalog relations are not rows of our pg_class.
 */
const SYSTEM_CATALOG_OIDS: ReadonlyMap<string, number> = new Map([
  ['pg_type', 1247], ['pg_attribute', 1249], ['pg_proc', 1255], ['pg_class', 1259], ['pg_authid', 1260],
  ['pg_auth_members', 1261], ['pg_database', 1262], ['pg_tablespace', 1213], ['pg_sequence', 2224],
  ['pg_shdescription', 2396], ['pg_am', 2601], ['pg_attrdef', 2604], ['pg_constraint', 2606], ['pg_description', 2609],
  ['pg_index', 2610], ['pg_inherits', 2611], ['pg_namespace', 2615], ['pg_rewrite', 2618], ['pg_trigger', 2620],
  ['pg_policy', 3256], ['pg_statistic_ext', 3381], ['pg_collation', 3456], ['pg_enum', 3501], ['pg_range', 3541],
  ['pg_extension', 3079], ['pg_publication', 6104], ['pg_publication_rel', 6106], ['pg_publication_namespace', 6237],
]);

function regclassIn(env: CatalogFunctionEnvironment, value: Arg): bigint {
  if (isIntegerValue(value)) return BigInt(toInt(value));
  const { schema, name } = parseQualifiedName(toText(value));
  // pg_catalog comes first in Postgres' search path.
  const system = schema === undefined || schema === 'pg_catalog' ? SYSTEM_CATALOG_OIDS.get(name) : undefined;
  if (system !== undefined) return BigInt(system);
  const relation = schema === undefined || schema === 'public' ? env.model().relationByName(name) : undefined;
  if (relation === undefined) throw new SqlError('42P01', `relation "${toText(value)}" does not exist`);
  return BigInt(relation.oid);
}

function regclassOut(env: CatalogFunctionEnvironment, value: Arg): string {
  const oid = toInt(value);
  const relation = env.model().relationByOid(oid);
  if (relation !== undefined) return quoteIdentifier(relation.name);
  for (const [name, systemOid] of SYSTEM_CATALOG_OIDS) if (systemOid === oid) return name;
  return String(oid);
}

function regtypeIn(value: Arg): bigint {
  if (isIntegerValue(value)) return BigInt(toInt(value));
  const type = resolveTypeName(toText(value));
  if (type === undefined) throw new SqlError('42704', `type "${toText(value)}" does not exist`);
  return BigInt(type.oid);
}

function regtypeOut(value: Arg): string {
  const oid = toInt(value);
  const text = formatType(oid, -1);
  return text === '???' ? String(oid) : text;
}

/** regproc values are function names (typinput = 'array_in'); they only need comparing and printing. */
function regprocIn(value: Arg): string {
  if (isIntegerValue(value)) return toInt(value) === 0 ? '-' : String(toInt(value));
  return parseQualifiedName(toText(value)).name;
}

function regnamespaceIn(value: Arg): bigint {
  if (isIntegerValue(value)) return BigInt(toInt(value));
  const oid = NAMESPACES.get(parseQualifiedName(toText(value)).name);
  if (oid === undefined) throw new SqlError('3F000', `schema "${toText(value)}" does not exist`);
  return BigInt(oid);
}

function regnamespaceOut(value: Arg): string {
  const oid = toInt(value);
  for (const [name, nspOid] of NAMESPACES) if (nspOid === oid) return name;
  return String(oid);
}

function regroleIn(env: CatalogFunctionEnvironment, value: Arg): bigint {
  if (isIntegerValue(value)) return BigInt(toInt(value));
  if (parseQualifiedName(toText(value)).name !== env.user()) throw new SqlError('42704', `role "${toText(value)}" does not exist`);
  return BigInt(ROLE_OID);
}

function userById(env: CatalogFunctionEnvironment, value: Arg): string {
  const oid = toInt(value);
  return oid === ROLE_OID ? env.user() : `unknown (OID=${oid})`;
}

// ---------------------------------------------------------------------------
// Definitions.

function indexDefinition(env: CatalogFunctionEnvironment, oid: Arg, column: Arg): string | null {
  const index = env.model().indexByOid(toInt(oid));
  if (index === undefined) return null;
  const columnNumber = column === undefined || column === null ? 0 : toInt(column);
  if (columnNumber === 0) return index.definition;
  return index.keys[columnNumber - 1]?.replace(/ DESC$/, '') ?? '';
}

function viewDefinition(env: CatalogFunctionEnvironment, view: Arg): string | null {
  const model = env.model();
  const relation = isIntegerValue(view) ? model.relationByOid(toInt(view)) : model.relationByName(parseQualifiedName(toText(view)).name);
  return relation?.viewDefinition ?? null;
}

function sizePretty(value: Arg): string {
  let size = Number(value);
  for (const unit of ['bytes', 'kB', 'MB', 'GB', 'TB']) {
    if (Math.abs(size) < 10 * 1024 || unit === 'TB') return `${Math.round(size)} ${unit}`;
    size /= 1024;
  }
  return `${Math.round(size)} PB`;
}

/** The value, or null when the name does not resolve (42P01 / 42704 / 3F000); other errors propagate. */
function orNull(read: () => bigint): bigint | null {
  try {
    return read();
  } catch (error) {
    if (error instanceof SqlError && ['42P01', '42704', '3F000'].includes(error.code)) return null;
    throw error;
  }
}

function nullSafe(fn: Fn): Fn {
  const wrapper: Fn = (...args) => (args.some((a) => a === null) ? null : fn(...args));
  Object.defineProperty(wrapper, 'length', { value: fn.length });
  return wrapper;
}

interface Spec {
  readonly fn: Fn;
  readonly varargs?: boolean;
}

/** Function names the translator treats as catalog access (their statements refresh the catalog first). */
export const CATALOG_FUNCTION_NAMES: ReadonlySet<string> = new Set([
  'pg_get_userbyid', 'format_type', 'pg_get_indexdef', 'pg_get_constraintdef', 'pg_get_expr', 'pg_get_viewdef',
  'pg_table_is_visible', 'pg_type_is_visible', 'pg_function_is_visible', 'obj_description', 'col_description',
  'shobj_description', 'pg_encoding_to_char', 'pg_char_to_encoding', 'current_schemas', 'pg_relation_is_publishable',
  'pg_partition_ancestors', 'pg_partition_root', 'pg_get_statisticsobjdef_columns', 'pg_get_triggerdef',
  'pg_get_serial_sequence', 'pg_get_partkeydef', 'pg_table_size', 'pg_relation_size', 'pg_total_relation_size',
  'pg_indexes_size', 'pg_size_pretty', 'has_table_privilege', 'has_schema_privilege', 'has_database_privilege',
  'has_column_privilege', 'pg_has_role', 'pg_is_in_recovery', 'pg_my_temp_schema', 'pg_is_other_temp_schema',
  'pg_get_function_result', 'pg_get_function_arguments', 'pg_get_function_identity_arguments', 'pg_get_ruledef',
  'to_regclass', 'to_regtype', 'to_regnamespace',
]);

/** Array functions that only catalog queries may use; the translator renames them to these. */
export const CATALOG_ARRAY_FUNCTIONS: Readonly<Record<string, string>> = {
  array_to_string: 'pg_array_to_string', array_upper: 'pg_array_upper', array_lower: 'pg_array_lower',
  array_length: 'pg_array_length', cardinality: 'pg_cardinality',
};

export function registerCatalogFunctions(db: Database.Database, env: CatalogFunctionEnvironment): void {
  const always = (value: unknown): Fn => () => value;
  const specs: Record<string, Spec> = {
    pg_get_userbyid: { fn: nullSafe((oid) => userById(env, oid)) },
    format_type: { fn: (oid, typmod) => (oid === null ? null : formatType(toInt(oid), typmod === null || typmod === undefined ? null : toInt(typmod))) },
    pg_get_indexdef: { fn: nullSafe((oid, column) => indexDefinition(env, oid, column)), varargs: true },
    pg_get_constraintdef: { fn: nullSafe((oid) => env.model().constraintByOid(toInt(oid))?.definition ?? null), varargs: true },
    pg_get_expr: { fn: (expr) => (expr === null || expr === undefined ? null : toText(expr)), varargs: true },
    pg_get_viewdef: { fn: nullSafe((view) => viewDefinition(env, view)), varargs: true },
    pg_table_is_visible: { fn: nullSafe((oid) => bool(env.model().relationByOid(toInt(oid)) !== undefined)) },
    pg_type_is_visible: { fn: nullSafe(always(1n)) },
    pg_function_is_visible: { fn: nullSafe(always(1n)) },
    obj_description: { fn: always(null), varargs: true },
    col_description: { fn: always(null), varargs: true },
    shobj_description: { fn: always(null), varargs: true },
    pg_encoding_to_char: { fn: nullSafe((encoding) => (toInt(encoding) === 6 ? 'UTF8' : '')) },
    pg_char_to_encoding: { fn: nullSafe((name) => (toText(name).toUpperCase().replace('-', '') === 'UTF8' ? 6n : -1n)) },
    current_schemas: { fn: nullSafe((implicit) => (Number(implicit) !== 0 ? '{pg_catalog,public}' : '{public}')) },
    pg_relation_is_publishable: { fn: nullSafe(always(0n)) },
    pg_partition_ancestors: { fn: (oid) => oid },
    pg_partition_root: { fn: (oid) => oid },
    pg_get_statisticsobjdef_columns: { fn: always(null) },
    pg_get_triggerdef: { fn: always(null), varargs: true },
    pg_get_serial_sequence: { fn: always(null), varargs: true },
    pg_get_partkeydef: { fn: always(null) },
    // pg_proc is empty: there are no user-defined functions to describe.
    pg_get_function_result: { fn: always(null) },
    pg_get_function_arguments: { fn: always(null) },
    pg_get_function_identity_arguments: { fn: always(null) },
    pg_get_ruledef: { fn: always(null) },
    // Sizes are not replicated state; reporting 0 keeps \dt+ working without leaking file layout.
    pg_table_size: { fn: nullSafe(always(0n)) },
    pg_relation_size: { fn: nullSafe(always(0n)), varargs: true },
    pg_total_relation_size: { fn: nullSafe(always(0n)) },
    pg_indexes_size: { fn: nullSafe(always(0n)) },
    pg_size_pretty: { fn: nullSafe(sizePretty) },
    has_table_privilege: { fn: always(1n), varargs: true },
    has_schema_privilege: { fn: always(1n), varargs: true },
    has_database_privilege: { fn: always(1n), varargs: true },
    has_column_privilege: { fn: always(1n), varargs: true },
    pg_has_role: { fn: always(1n), varargs: true },
    pg_is_in_recovery: { fn: always(0n) },
    pg_my_temp_schema: { fn: always(0n) },
    pg_is_other_temp_schema: { fn: always(0n) },
    // Casts to the OID alias types.
    pg_oid: { fn: nullSafe((value) => BigInt(toInt(value))) },
    pg_regclass: { fn: nullSafe((value) => regclassIn(env, value)) },
    pg_regclass_name: { fn: nullSafe((value) => regclassOut(env, value)) },
    pg_regtype: { fn: nullSafe(regtypeIn) },
    pg_regtype_name: { fn: nullSafe(regtypeOut) },
    pg_regproc: { fn: nullSafe(regprocIn) },
    pg_regnamespace: { fn: nullSafe(regnamespaceIn) },
    pg_regnamespace_name: { fn: nullSafe(regnamespaceOut) },
    pg_regrole: { fn: nullSafe((value) => regroleIn(env, value)) },
    pg_regrole_name: { fn: nullSafe((value) => userById(env, value)) },
    // to_regclass('x') and friends: like the casts, but NULL instead of an error for a missing name.
    to_regclass: { fn: nullSafe((value) => orNull(() => regclassIn(env, toText(value)))) },
    to_regtype: { fn: nullSafe((value) => orNull(() => regtypeIn(toText(value)))) },
    to_regnamespace: { fn: nullSafe((value) => orNull(() => regnamespaceIn(toText(value)))) },
    // Arrays (text literals).
    pg_array_to_string: {
      fn: (array, separator, nullText) => {
        const elements = arrayElements(array);
        if (elements === null || separator === null) return null;
        const replaced = elements.flatMap((e) => (e !== null ? [e] : nullText === undefined || nullText === null ? [] : [toText(nullText)]));
        return replaced.join(toText(separator));
      },
      varargs: true,
    },
    pg_array_upper: { fn: nullSafe((array, dim) => { const n = arrayElements(array)?.length ?? 0; return n === 0 || toInt(dim) !== 1 ? null : BigInt(n); }) },
    pg_array_lower: { fn: nullSafe((array, dim) => ((arrayElements(array)?.length ?? 0) === 0 || toInt(dim) !== 1 ? null : 1n)) },
    pg_array_length: { fn: nullSafe((array, dim) => { const n = arrayElements(array)?.length ?? 0; return n === 0 || toInt(dim) !== 1 ? null : BigInt(n); }) },
    pg_array_of: { fn: (...elements) => formatArrayLiteral(elements.map((e) => (e === null ? null : toText(e)))), varargs: true },
    pg_cardinality: { fn: nullSafe((array) => BigInt(arrayElements(array)?.length ?? 0)) },
    pg_array_get: { fn: nullSafe((array, index) => arrayElements(array)?.[toInt(index) - 1] ?? null) },
    // value = ANY (array): true, false, or NULL when not found but the array holds a NULL.
    pg_array_contains: {
      fn: (array, value) => {
        const elements = arrayElements(array);
        if (elements === null || value === null) return null;
        if (elements.some((e) => e !== null && elementEquals(e, value))) return 1n;
        return elements.includes(null) ? null : 0n;
      },
    },
  };
  for (const [name, spec] of Object.entries(specs)) {
    // A constant answer ignores its arguments: let SQLite pass any number of them.
    const varargs = spec.varargs ?? spec.fn.length === 0;
    db.function(name, { safeIntegers: true, deterministic: false, varargs }, spec.fn as (...params: unknown[]) => unknown);
  }
  // unnest(array) in FROM.
  db.table('pg_unnest', {
    columns: ['value'],
    parameters: ['array'],
    *rows(...args: unknown[]) {
      const elements = arrayElements(args[0]);
      if (elements === null) return;
      for (const element of elements) yield [element];
    },
  });
  // ARRAY(subquery): the elements, in the subquery's order, as an array literal.
  db.aggregate('pg_array_agg', {
    start: () => [] as (string | null)[],
    step: (elements: (string | null)[], value: unknown) => {
      if (elements.length >= MAX_ARRAY_ELEMENTS) throw new SqlError('54000', 'array too large');
      elements.push(value === null || value === undefined ? null : toText(value));
      return elements;
    },
    result: (elements: (string | null)[]) => formatArrayLiteral(elements),
  });
}
