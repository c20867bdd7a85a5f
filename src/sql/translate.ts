// Translation of one parsed Postgres statement into SQLite statements with the same
// meaning. The AST is rewritten (casts, operators, functions, determinism) and then
// deparsed; DDL is emitted directly because SQLite's CREATE TABLE grammar differs too much.
// Anything without a faithful SQLite equivalent is refused with SQLSTATE 0A000.

import {
  asArray, bodyOf, constStringValue, deparseNode, isObject, makeColumnRef, makeFuncCall, makeIntConst, makeNot,
  makeString, makeStringConst, nameList, nodeTypeOf, str, stringNodeValue, unsupported, type JsonObject,
} from './ast.js';
import { CATALOG_ARRAY_FUNCTIONS, CATALOG_FUNCTION_NAMES } from './catalog-functions.js';
import { findCatalogTable, type CatalogTableDef } from './catalog-tables.js';
import { resolveTypeName } from './catalog-types.js';
import { emitDdl, type TableDependents } from './ddl.js';
import { columnNameOf, dateOperatorType, inferType, intervalArithmetic, intervalResultType, typeNameType, type TypeScope } from './infer.js';
import type { ParsedStatement, SessionCommand, StatementKind, TransactionCommand } from './parse.js';
import { ARRAY_TYPE_OIDS, coerceToPgType, lookupPgType, type PgType } from './pgtypes.js';
import type { TableSchema } from './rebuild.js';
import { SqlError } from './types.js';

export interface ColumnInfo {
  readonly name: string;
  readonly pgType: PgType | null;
  readonly typmods: readonly number[];
  /** The declared type text in the SQLite schema. */
  readonly declared: string;
}

/** What the translator may know about the current schema (for typed INSERT/UPDATE values). */
export interface SchemaLookup {
  columnsOf(table: string): readonly ColumnInfo[] | null;
  /** The table's definition in SQLite, for statements that rebuild it (ALTER TABLE ADD CONSTRAINT). */
  tableSchema?(table: string): TableSchema | null;
  /** What would break if the table were dropped (DROP TABLE refuses then, as Postgres does without CASCADE). */
  dependentsOf?(table: string): TableDependents;
}

export interface TranslatedStep {
  readonly sql: string;
  /** Skip the step when this table does not exist (e.g. sqlite_sequence). */
  readonly onlyIfTableExists?: string;
}

export type CommandTagSpec =
  | { readonly type: 'rows'; readonly verb: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' }
  | { readonly type: 'fixed'; readonly tag: string };

export interface ResultColumnHint {
  readonly name: string;
  readonly pgType: PgType | null;
  /** The exact type OID, when it is a catalog type (name, oid, regclass, text[], ...) that PgType cannot name. */
  readonly typeOid?: number;
}

/** A statement ready for SQLite; plain data, so it can be cached or sent to another thread. */
export interface TranslatedStatement {
  readonly source: string;
  readonly kind: StatementKind;
  readonly steps: readonly TranslatedStep[];
  readonly tag: CommandTagSpec;
  /** The last step returns rows (SELECT, VALUES, or RETURNING). */
  readonly returnsRows: boolean;
  readonly paramCount: number;
  /** Inferred parameter types, index n-1 for `$n`; null when unknown. */
  readonly paramTypes: readonly (PgType | null)[];
  /** Array parameters (`x = ANY ($n)`): their array type OIDs, by number; their paramTypes entry is null. */
  readonly arrayParamOids?: ReadonlyMap<number, number>;
  /** Result column names and statically known types; null when a `*` leaves the shape to SQLite. */
  readonly resultColumns: readonly ResultColumnHint[] | null;
  readonly transaction?: TransactionCommand;
  readonly session?: SessionCommand;
  /** Reads pg_catalog / information_schema (or catalog functions): the engine refreshes the catalog first. */
  readonly readsCatalog?: boolean;
}

/** Functions whose results differ between replicas: refused before execution. */
const NONDETERMINISTIC_FUNCTIONS = new Set([
  'clock_timestamp', 'timeofday', 'pg_sleep', 'pg_sleep_for', 'pg_sleep_until', 'txid_current',
  'txid_current_if_assigned', 'txid_current_snapshot', 'pg_current_xact_id', 'pg_current_xact_id_if_assigned',
  'setseed', 'pg_postmaster_start_time', 'pg_conf_load_time', 'inet_client_addr', 'inet_client_port',
  'inet_server_addr', 'inet_server_port', 'pg_notify',
]);

/** Postgres functions SQLite cannot run with the same meaning. */
const UNSUPPORTED_FUNCTIONS = new Set([
  'nextval', 'currval', 'setval', 'lastval', 'array_agg', 'unnest', 'array_length', 'string_to_array',
  'array_to_string', 'array_position', 'cardinality', 'to_char', 'to_date', 'to_number', 'age', 'make_interval',
  'justify_days', 'justify_hours', 'justify_interval', 'generate_subscripts', 'set_config',
  'pg_advisory_lock', 'pg_advisory_unlock', 'pg_try_advisory_lock', 'pg_advisory_xact_lock', 'regexp_matches',
  'regexp_split_to_table', 'regexp_split_to_array', 'overlay', 'row_to_json', 'to_json', 'to_jsonb',
  'jsonb_set', 'jsonb_insert', 'json_populate_record', 'format', 'quote_ident', 'quote_literal', 'similar_to_escape',
]);

/** Nondeterministic functions a plain read may use, and what runs them. */
const READ_ONLY_FUNCTIONS: Readonly<Record<string, string>> = {
  clock_timestamp: 'pg_clock_timestamp', pg_sleep: 'pg_sleep',
};

/** Postgres function → SQLite (or registered) function with the same meaning. */
const FUNCTION_RENAMES: Readonly<Record<string, string>> = {
  now: 'pg_now', transaction_timestamp: 'pg_now', statement_timestamp: 'pg_now',
  random: 'pg_random', randomblob: 'pg_randomblob',
  gen_random_uuid: 'pg_gen_random_uuid', uuid_generate_v4: 'pg_gen_random_uuid',
  btrim: 'trim', strpos: 'instr', position: 'instr', char_length: 'length', character_length: 'length',
  substring: 'pg_substring', substr: 'pg_substring', extract: 'pg_date_part', date_part: 'pg_date_part',
  json_build_object: 'json_object', jsonb_build_object: 'json_object', json_build_array: 'json_array',
  jsonb_build_array: 'json_array', json_agg: 'json_group_array', jsonb_agg: 'json_group_array',
  json_object_agg: 'json_group_object', jsonb_object_agg: 'json_group_object',
  bool_and: 'min', every: 'min', bool_or: 'max', chr: 'char', ascii: 'unicode', mod: 'pg_mod',
  trunc: 'pg_trunc', pow: 'power', ceiling: 'ceil', div: 'pg_div_int',
};

/** Functions that build JSON out of SQL values (after FUNCTION_RENAMES they are SQLite's json_*). */
const JSON_BUILDERS = new Set([
  'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array',
  'json_agg', 'jsonb_agg', 'json_object_agg', 'jsonb_object_agg',
]);

/** SQLite's own date functions accept 'now', which reads the wall clock: route it to the entry's time. */
const SQLITE_DATE_FUNCTIONS = new Set(['date', 'time', 'datetime', 'julianday', 'unixepoch', 'strftime', 'timediff']);

const PASSTHROUGH_OPERATORS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '||', '->', '->>', '&', '|', '<<', '>>']);

/** Expression kinds and operators that compare their operands (an untyped literal takes the other side's type). */
const COMPARISON_KINDS = new Set(['AEXPR_OP', 'AEXPR_IN', 'AEXPR_DISTINCT', 'AEXPR_NOT_DISTINCT', 'AEXPR_NULLIF', 'AEXPR_BETWEEN', 'AEXPR_NOT_BETWEEN']);
const COMPARISON_OPERATORS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

const SQL_VALUE_FUNCTIONS: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: 'pg_current_date',
  SVFOP_CURRENT_TIMESTAMP: 'pg_now', SVFOP_CURRENT_TIMESTAMP_N: 'pg_now',
  SVFOP_LOCALTIMESTAMP: 'pg_localtimestamp', SVFOP_LOCALTIMESTAMP_N: 'pg_localtimestamp',
  SVFOP_CURRENT_ROLE: 'pg_current_user', SVFOP_CURRENT_USER: 'pg_current_user', SVFOP_USER: 'pg_current_user',
  SVFOP_SESSION_USER: 'pg_current_user', SVFOP_CURRENT_CATALOG: 'current_database',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

/** Node types that pass through after their children are rewritten. */
const STRUCTURAL_NODES = new Set([
  'BoolExpr', 'NullTest', 'BooleanTest', 'CaseExpr', 'CaseWhen', 'CoalesceExpr', 'ResTarget', 'List',
  'JoinExpr', 'Alias', 'WithClause', 'CommonTableExpr', 'WindowDef', 'IndexElem',
]);
const LEAF_NODES = new Set(['A_Const', 'String', 'Integer', 'Float', 'Boolean', 'A_Star']);

const FRIENDLY_NODE_NAMES: Readonly<Record<string, string>> = {
  A_ArrayExpr: 'ARRAY constructors', A_Indirection: 'array subscripts and field selection',
  GroupingSet: 'GROUPING SETS, ROLLUP and CUBE', CollateClause: 'COLLATE', RowExpr: 'row constructors',
  MultiAssignRef: 'multiple-column assignment in UPDATE', CurrentOfExpr: 'WHERE CURRENT OF',
  RangeTableSample: 'TABLESAMPLE', XmlExpr: 'XML functions', SetToDefault: 'DEFAULT in this position',
  InsertStmt: 'INSERT inside WITH', UpdateStmt: 'UPDATE inside WITH', DeleteStmt: 'DELETE inside WITH',
};

const SETOP_KEYWORDS: Readonly<Record<string, string>> = {
  SETOP_UNION: 'UNION', SETOP_INTERSECT: 'INTERSECT', SETOP_EXCEPT: 'EXCEPT',
};

const EMPTY_SCHEMA: SchemaLookup = { columnsOf: () => null };

/** Translates one parsed statement. Throws SqlError (0A000, 42601, …) for what cannot be translated. */
export function translateStatement(parsed: ParsedStatement, schema: SchemaLookup = EMPTY_SCHEMA): TranslatedStatement {
  return new StatementTranslator(parsed, schema).translate();
}

let placeholderCounter = 0;

/** Rewrites one statement. Holds per-statement state: parameter types and referenced tables. */
export class StatementTranslator implements TypeScope {
  private readonly paramTypesByNumber = new Map<number, PgType>();
  /** Parameters compared with `= ANY`: the array type OID to describe them with. */
  private readonly arrayParamOids = new Map<number, number>();
  private readonly tablesInScope: string[] = [];
  /**
   * The statement reads the catalog. Catalog queries get narrow extra support that user
   * queries do not (arrays as text literals, COLLATE, subscripts, = ANY (array)), because
   * psql and drivers send them and their values come from the catalog's own tables.
   */
  private catalogMode = false;

  constructor(private readonly parsed: ParsedStatement, readonly schema: SchemaLookup) {}

  translate(): TranslatedStatement {
    const { parsed } = this;
    const ast = structuredClone(parsed.ast);
    const type = parsed.nodeType;
    const body = bodyOf(ast, type) ?? {};
    collectTables(ast, this.tablesInScope);
    this.catalogMode = referencesCatalog(ast);
    switch (type) {
      case 'SelectStmt':
        if (body['intoClause'] !== undefined) return this.translateSelectInto(body);
        return this.translateSelect(ast, body);
      case 'InsertStmt': return this.translateInsert(body);
      case 'UpdateStmt': return this.translateUpdate(body);
      case 'DeleteStmt': return this.translateDelete(body);
      case 'TransactionStmt': return this.translateTransaction();
      case 'VariableSetStmt': case 'VariableShowStmt': case 'VacuumStmt': case 'CheckPointStmt': return this.translateSession();
      default: {
        const ddl = emitDdl(type, body, this);
        if (ddl === null) throw unsupported(`statement ${type.replace(/Stmt$/, '').toUpperCase()}`);
        const tag: CommandTagSpec = ddl.countsRows === true ? { type: 'rows', verb: 'SELECT' } : { type: 'fixed', tag: ddl.tag };
        return this.result({ steps: ddl.steps, tag, returnsRows: false, resultColumns: null });
      }
    }
  }

  private result(parts: Pick<TranslatedStatement, 'steps' | 'tag' | 'returnsRows' | 'resultColumns'>): TranslatedStatement {
    const paramTypes: (PgType | null)[] = [];
    for (let n = 1; n <= this.parsed.paramCount; n++) paramTypes.push(this.arrayParamOids.has(n) ? null : this.paramTypesByNumber.get(n) ?? null);
    return {
      source: this.parsed.text,
      kind: this.parsed.kind,
      paramCount: this.parsed.paramCount,
      paramTypes,
      ...(this.arrayParamOids.size > 0 ? { arrayParamOids: this.arrayParamOids } : {}),
      ...parts,
      ...(this.parsed.transaction !== undefined ? { transaction: this.parsed.transaction } : {}),
      ...(this.parsed.session !== undefined ? { session: this.parsed.session } : {}),
      ...(this.catalogMode ? { readsCatalog: true } : {}),
    };
  }

  // -------------------------------------------------------------------------
  // TypeScope: what inference may know about columns and parameters.

  columnType(fields: readonly string[]): PgType | null {
    return this.findColumn(fields)?.pgType ?? null;
  }

  paramType(n: number): PgType | null {
    return this.paramTypesByNumber.get(n) ?? null;
  }

  private findColumn(fields: readonly string[]): ColumnInfo | null {
    const column = fields[fields.length - 1];
    if (column === undefined || column === '*') return null;
    const qualifier = fields.length >= 2 ? fields[fields.length - 2] : undefined;
    const tables = qualifier !== undefined && this.tablesInScope.includes(qualifier) ? [qualifier] : this.tablesInScope;
    for (const table of tables) {
      const found = this.schema.columnsOf(table)?.find((c) => c.name === column);
      if (found !== undefined) return found;
    }
    return null;
  }

  private noteParamType(node: unknown, pgType: PgType | null): void {
    const param = bodyOf(node, 'ParamRef');
    if (param === null || pgType === null || typeof param['number'] !== 'number') return;
    if (!this.paramTypesByNumber.has(param['number'])) this.paramTypesByNumber.set(param['number'], pgType);
  }

  // -------------------------------------------------------------------------
  // Statements.

  /** SELECT … INTO t: CREATE TABLE t AS SELECT … (without the INTO). */
  private translateSelectInto(body: JsonObject): TranslatedStatement {
    const { intoClause: into, ...select } = body;
    const ddl = emitDdl('CreateTableAsStmt', { query: { SelectStmt: select }, into, objtype: 'OBJECT_TABLE' }, this);
    if (ddl === null) throw unsupported('SELECT INTO');
    return this.result({ steps: ddl.steps, tag: { type: 'rows', verb: 'SELECT' }, returnsRows: false, resultColumns: null });
  }

  private translateSelect(ast: JsonObject, body: JsonObject): TranslatedStatement {
    const resultColumns = this.resultColumnsOfSelect(body);
    const rewritten = this.rewrite(ast);
    if (resultColumns !== null) {
      this.nameTargets(rewritten, resultColumns);
      printOidAliasColumns(bodyOf(rewritten, 'SelectStmt'), resultColumns);
    }
    return this.result({ steps: [{ sql: this.emit(rewritten) }], tag: { type: 'rows', verb: 'SELECT' }, returnsRows: true, resultColumns });
  }

  /** Column names and types of a query (a SelectStmt node), or null when they cannot be told before running it. */
  selectColumns(query: unknown): ResultColumnHint[] | null {
    const body = selectBody(query);
    if (body === null) return null;
    if (isSetOperation(body) || asArray(body['valuesLists']).length > 0) return this.resultColumnsOfSelect(body);
    return this.hintsOfTargets(this.targetsWithStarSpelledOut(body, 'CREATE TABLE AS'));
  }

  /** Column names and types of a SELECT, from its leftmost simple branch. */
  private resultColumnsOfSelect(body: JsonObject): ResultColumnHint[] | null {
    let branch = body;
    while (isSetOperation(branch)) branch = selectBody(branch['larg']) ?? {};
    const values = asArray(branch['valuesLists']);
    if (values.length > 0) {
      const firstRow = asArray(bodyOf(values[0], 'List')?.['items']);
      return firstRow.map((item, i) => ({ name: `column${i + 1}`, pgType: inferType(item, this) }));
    }
    return this.hintsOfTargets(asArray(branch['targetList'])) ?? this.hintsThroughStar(branch);
  }

  /** `SELECT * FROM (subquery) alias` has the subquery's columns (drivers wrap catalog queries so). */
  private hintsThroughStar(branch: JsonObject): ResultColumnHint[] | null {
    const targets = asArray(branch['targetList']);
    const from = asArray(branch['fromClause']);
    if (targets.length !== 1 || !isStarTarget(targets[0]) || from.length !== 1) return null;
    const range = bodyOf(from[0], 'RangeSubselect');
    const subquery = selectBody(range?.['subquery']);
    const hints = subquery === null ? null : this.resultColumnsOfSelect(subquery);
    // `AS v(n, s)` renames them.
    const names = aliasColumnNames(range);
    return hints?.map((hint, i) => (names[i] === undefined ? hint : { ...hint, name: names[i] })) ?? null;
  }

  private hintsOfTargets(targets: readonly unknown[]): ResultColumnHint[] | null {
    if (targets.some(isStarTarget)) return null;
    return targets.map((target) => {
      const typeOid = this.catalogMode ? catalogExpressionOid(target) : null;
      return { name: columnNameOf(target), pgType: inferType(target, this), ...(typeOid !== null ? { typeOid } : {}) };
    });
  }

  /** Gives every top-level target an explicit alias so SQLite names columns as Postgres does. */
  private nameTargets(ast: unknown, columns: readonly ResultColumnHint[]): void {
    let branch = bodyOf(ast, 'SelectStmt');
    while (branch !== null && isSetOperation(branch)) branch = selectBody(branch['larg']);
    asArray(branch?.['targetList']).forEach((target, i) => {
      const res = bodyOf(target, 'ResTarget');
      const column = columns[i];
      if (res !== null && column !== undefined && !isStarTarget(target)) res['name'] = column.name;
    });
  }

  private translateInsert(body: JsonObject): TranslatedStatement {
    const table = this.relationName(body['relation']);
    if (str(body['override']) !== undefined && body['override'] !== 'OVERRIDING_NOT_SET') throw unsupported('OVERRIDING');
    if (body['withClause'] !== undefined) body['withClause'] = this.rewriteChildren(body['withClause']);
    const tableColumns = this.schema.columnsOf(table);
    let targetNames = asArray(body['cols']).map((col) => {
      const res = bodyOf(col, 'ResTarget');
      if (res?.['indirection'] !== undefined) throw unsupported('INSERT into array elements or fields');
      return str(res?.['name']) ?? '';
    });
    const select = bodyOf(body['selectStmt'], 'SelectStmt');
    const rows = asArray(select?.['valuesLists']).map((list) => asArray(bodyOf(list, 'List')?.['items']));
    const isPlainValues = select !== null && rows.length > 0 && (select['op'] === undefined || select['op'] === 'SETOP_NONE');
    if (isPlainValues) {
      const width = rows[0]?.length ?? 0;
      if (targetNames.length === 0 && tableColumns !== null) targetNames = tableColumns.slice(0, width).map((c) => c.name);
      const kept = this.dropDefaultColumns(rows, targetNames);
      targetNames = kept.names;
      if (targetNames.length === 0) {
        delete body['selectStmt'];
      } else {
        const typed = kept.rows.map((row) => row.map((value, i) => this.coerceToColumn(this.rewrite(value), this.columnInfo(tableColumns, targetNames[i]))));
        select['valuesLists'] = typed.map((items) => ({ List: { items } }));
      }
      if (targetNames.length > 0 || asArray(body['cols']).length > 0) body['cols'] = targetNames.map((name) => ({ ResTarget: { name } }));
      if (targetNames.length === 0) delete body['cols'];
    } else if (body['selectStmt'] !== undefined) {
      body['selectStmt'] = this.rewrite(body['selectStmt']);
    }
    this.rewriteOnConflict(body, tableColumns);
    const resultColumns = this.rewriteReturning(body, tableColumns);
    return this.result({
      steps: [{ sql: this.emit({ InsertStmt: body }) }],
      tag: { type: 'rows', verb: 'INSERT' },
      returnsRows: resultColumns !== null,
      resultColumns,
    });
  }

  /** SQLite has no DEFAULT inside VALUES: a column that is DEFAULT in every row is left out instead. */
  private dropDefaultColumns(rows: unknown[][], names: string[]): { rows: unknown[][]; names: string[] } {
    const width = rows[0]?.length ?? 0;
    if (rows.some((row) => row.length !== width)) throw new SqlError('42601', 'VALUES lists must all be the same length');
    const keep: number[] = [];
    for (let i = 0; i < width; i++) {
      const defaults = rows.filter((row) => nodeTypeOf(row[i]) === 'SetToDefault').length;
      if (defaults === 0) keep.push(i);
      else if (defaults !== rows.length) throw unsupported('DEFAULT mixed with values in the same column of a multi-row VALUES');
    }
    return {
      rows: rows.map((row) => keep.map((i) => row[i])),
      names: names.length === 0 ? [] : keep.map((i) => names[i] ?? ''),
    };
  }

  private columnInfo(columns: readonly ColumnInfo[] | null, name: string | undefined): ColumnInfo | null {
    return columns?.find((c) => c.name === name) ?? null;
  }

  private rewriteOnConflict(body: JsonObject, tableColumns: readonly ColumnInfo[] | null): void {
    const conflict = body['onConflictClause'];
    if (!isObject(conflict)) return;
    const infer = conflict['infer'];
    if (isObject(infer) && infer['conname'] !== undefined) throw unsupported('ON CONFLICT ON CONSTRAINT');
    if (isObject(infer)) conflict['infer'] = this.rewriteChildren(infer);
    conflict['targetList'] = this.rewriteAssignments(asArray(conflict['targetList']), tableColumns);
    if (conflict['whereClause'] !== undefined) conflict['whereClause'] = this.rewrite(conflict['whereClause']);
  }

  private rewriteAssignments(targets: unknown[], tableColumns: readonly ColumnInfo[] | null): unknown[] {
    return targets.map((target) => {
      const res = bodyOf(target, 'ResTarget');
      if (res === null) return this.rewrite(target); // MultiAssignRef etc. are refused here
      if (res['indirection'] !== undefined) throw unsupported('assignment to array elements or fields');
      const column = this.columnInfo(tableColumns, str(res['name']));
      return { ResTarget: { ...res, val: this.coerceToColumn(this.rewrite(res['val']), column, res['val']) } };
    });
  }

  /** Rewrites RETURNING; `*` is expanded so each column keeps its declared type. */
  private rewriteReturning(body: JsonObject, tableColumns: readonly ColumnInfo[] | null): ResultColumnHint[] | null {
    // Postgres 18's parser nests RETURNING as returningClause.exprs (older: returningList).
    const clause = body['returningClause'] as JsonObject | undefined;
    const list = asArray(clause?.['exprs'] ?? body['returningList']);
    if (list.length === 0) return null;
    const expanded = (tableColumns === null ? list : list.flatMap((target) =>
      isStarTarget(target) ? tableColumns.map((c) => ({ ResTarget: { val: makeColumnRef(c.name) } })) : [target]))
      .map((target) => unqualifyTarget(target, body['relation']));
    const hints = this.hintsOfTargets(expanded);
    const rewritten = expanded.map((target) => this.rewrite(target));
    if (hints !== null) {
      rewritten.forEach((target, i) => {
        const res = bodyOf(target, 'ResTarget');
        const hint = hints[i];
        if (res !== null && hint !== undefined) res['name'] = hint.name;
      });
    }
    if (clause !== undefined) clause['exprs'] = rewritten;
    else body['returningList'] = rewritten;
    return hints ?? [];
  }

  private translateUpdate(body: JsonObject): TranslatedStatement {
    const table = this.relationName(body['relation']);
    const tableColumns = this.schema.columnsOf(table);
    if (body['withClause'] !== undefined) body['withClause'] = this.rewriteChildren(body['withClause']);
    body['targetList'] = this.rewriteAssignments(asArray(body['targetList']), tableColumns);
    for (const key of ['whereClause', 'fromClause'] as const) {
      if (body[key] !== undefined) body[key] = this.rewrite(body[key]);
    }
    const resultColumns = this.rewriteReturning(body, tableColumns);
    return this.result({
      steps: [{ sql: this.emit({ UpdateStmt: body }) }],
      tag: { type: 'rows', verb: 'UPDATE' },
      returnsRows: resultColumns !== null,
      resultColumns,
    });
  }

  private translateDelete(body: JsonObject): TranslatedStatement {
    const table = this.relationName(body['relation']);
    if (asArray(body['usingClause']).length > 0) throw unsupported('DELETE ... USING');
    if (body['withClause'] !== undefined) body['withClause'] = this.rewriteChildren(body['withClause']);
    if (body['whereClause'] !== undefined) body['whereClause'] = this.rewrite(body['whereClause']);
    const resultColumns = this.rewriteReturning(body, this.schema.columnsOf(table));
    return this.result({
      steps: [{ sql: this.emit({ DeleteStmt: body }) }],
      tag: { type: 'rows', verb: 'DELETE' },
      returnsRows: resultColumns !== null,
      resultColumns,
    });
  }

  private translateTransaction(): TranslatedStatement {
    const command = this.parsed.transaction;
    if (command === undefined) throw unsupported('this transaction command');
    const savepoint = command.savepoint === undefined ? '' : ` "${command.savepoint.replace(/"/g, '""')}"`;
    const isStart = (bodyOf(this.parsed.ast, 'TransactionStmt')?.['kind']) === 'TRANS_STMT_START';
    const forms: Record<TransactionCommand['action'], { sql: string; tag: string }> = {
      begin: { sql: 'BEGIN', tag: isStart ? 'START TRANSACTION' : 'BEGIN' },
      commit: { sql: 'COMMIT', tag: 'COMMIT' },
      rollback: { sql: 'ROLLBACK', tag: 'ROLLBACK' },
      savepoint: { sql: `SAVEPOINT${savepoint}`, tag: 'SAVEPOINT' },
      release: { sql: `RELEASE${savepoint}`, tag: 'RELEASE' },
      rollback_to: { sql: `ROLLBACK TO${savepoint}`, tag: 'ROLLBACK' },
    };
    const form = forms[command.action];
    return this.result({ steps: [{ sql: form.sql }], tag: { type: 'fixed', tag: form.tag }, returnsRows: false, resultColumns: null });
  }

  private translateSession(): TranslatedStatement {
    const command = this.parsed.session;
    if (command === undefined) throw unsupported('this SET form');
    const tag = command.action === 'maintenance' ? command.tag : command.action.toUpperCase();
    const resultColumns = command.action === 'show' ? [{ name: command.name, pgType: 'text' as const }] : null;
    return this.result({ steps: [], tag: { type: 'fixed', tag }, returnsRows: command.action === 'show', resultColumns });
  }

  // -------------------------------------------------------------------------
  // Relations.

  /** The SQLite table name of a RangeVar body; only the `public` schema exists. */
  relationName(relation: unknown): string {
    if (!isObject(relation)) throw new SqlError('42601', 'missing relation');
    const schemaName = str(relation['schemaname']);
    if (relation['catalogname'] !== undefined) throw unsupported('cross-database references');
    if (schemaName === 'pg_catalog' || schemaName === 'information_schema') {
      throw new SqlError('42501', `permission denied for table ${str(relation['relname']) ?? ''}`);
    }
    if (schemaName !== undefined && schemaName !== 'public') {
      throw new SqlError('3F000', `schema "${schemaName}" does not exist`);
    }
    delete relation['schemaname'];
    if (relation['relpersistence'] === 't') throw unsupported('temporary tables');
    return str(relation['relname']) ?? '';
  }

  // -------------------------------------------------------------------------
  // Expressions and query bodies.

  /** Rewrites any node (or list or plain struct) recursively. */
  rewrite(node: unknown): unknown {
    if (Array.isArray(node)) return node.map((item) => this.rewrite(item));
    if (!isObject(node)) return node;
    const type = nodeTypeOf(node);
    if (type === null || !/^[A-Z]/.test(type)) return this.rewriteChildren(node);
    const body = bodyOf(node, type);
    if (body === null) return node;
    if (LEAF_NODES.has(type)) return node;
    if (STRUCTURAL_NODES.has(type)) return { [type]: this.rewriteChildren(body) };
    switch (type) {
      case 'ParamRef': return node;
      case 'ColumnRef': return this.rewriteColumnRef(body);
      case 'SelectStmt': return { SelectStmt: this.rewriteSelectBody(body) };
      case 'TypeCast': return this.rewriteCast(body);
      case 'A_Expr': return this.rewriteExpr(body);
      case 'FuncCall': return this.rewriteFunction(body);
      case 'SQLValueFunction': return this.rewriteSqlValueFunction(body);
      case 'MinMaxExpr': return makeFuncCall(body['op'] === 'IS_LEAST' ? 'pg_least' : 'pg_greatest', asArray(this.rewrite(body['args'])));
      case 'SubLink': return this.rewriteSubLink(body);
      case 'RangeSubselect':
        if (body['lateral'] === true) throw unsupported('LATERAL');
        return { RangeSubselect: this.rewriteChildren(withColumnAliases(body)) };
      case 'SortBy': return this.rewriteSortBy(body);
      case 'RangeVar': {
        const catalogTable = findCatalogTable(str(body['schemaname']), str(body['relname']) ?? '');
        if (catalogTable !== null) return catalogRangeVar(body, catalogTable);
        this.relationName(body);
        return node;
      }
      case 'CollateClause':
        // Catalog queries ask for COLLATE pg_catalog.default: comparisons are bytewise either way.
        if (!this.catalogMode) throw unsupported('COLLATE');
        return this.rewrite(body['arg']);
      case 'A_Indirection': return this.rewriteIndirection(body);
      case 'A_ArrayExpr':
        if (!this.catalogMode) throw unsupported('ARRAY constructors');
        return makeFuncCall('pg_array_of', asArray(this.rewrite(body['elements'])));
      case 'RangeFunction': return this.rewriteRangeFunction(body);
      default: throw unsupported(FRIENDLY_NODE_NAMES[type] ?? type);
    }
  }

  rewriteChildren(body: unknown): JsonObject {
    if (!isObject(body)) return {};
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(body)) out[key] = this.rewrite(value);
    return out;
  }

  private rewriteColumnRef(body: JsonObject): JsonObject {
    const fields = asArray(body['fields']);
    // public.t.c → t.c: SQLite would read `public` as a database name.
    const schemaName = stringNodeValue(fields[0]);
    if (fields.length === 3 && schemaName === 'public') return { ColumnRef: { ...body, fields: fields.slice(1) } };
    if (fields.length === 3 && (schemaName === 'pg_catalog' || schemaName === 'information_schema')) return { ColumnRef: { ...body, fields: fields.slice(1) } };
    if (fields.length > 3 || (fields.length === 3 && nodeTypeOf(fields[2]) !== 'A_Star')) throw unsupported('column references with schema and database');
    return { ColumnRef: body };
  }

  private rewriteSelectBody(body: JsonObject): JsonObject {
    if (body['intoClause'] !== undefined) throw unsupported('SELECT INTO');
    const distinct = asArray(body['distinctClause']);
    if (distinct.length > 0 && !(distinct.length === 1 && isObject(distinct[0]) && Object.keys(distinct[0]).length === 0)) {
      return this.rewriteSelectBody(this.distinctOnAsWindow(body, distinct));
    }
    if (body['limitOption'] === 'LIMIT_OPTION_WITH_TIES') throw unsupported('FETCH ... WITH TIES');
    // Row locks (FOR UPDATE/SHARE) are implied: all writes are serialized through the log.
    delete body['lockingClause'];
    const limit = bodyOf(body['limitCount'], 'A_Const');
    if (limit !== null && limit['isnull'] === true) delete body['limitCount']; // LIMIT ALL
    // SQLite only accepts OFFSET after a LIMIT; -1 means no limit.
    if (body['limitOffset'] !== undefined && body['limitCount'] === undefined) body['limitCount'] = makeIntConst(-1);
    for (const param of [body['limitCount'], body['limitOffset']]) this.noteParamType(param, 'int8');
    const out = this.rewriteChildren({ ...body, larg: undefined, rarg: undefined });
    for (const side of ['larg', 'rarg'] as const) {
      const branch = selectBody(body[side]);
      if (branch !== null) out[side] = this.rewriteSelectBody(branch);
      else delete out[side];
    }
    return out;
  }

  /**
   * SELECT DISTINCT ON (keys) … ORDER BY … keeps the first row of each group of
   * equal keys in ORDER BY's order. SQLite has no DISTINCT ON, so: number the
   * rows of each group in that order (row_number() OVER (PARTITION BY keys
   * ORDER BY …)) in a subquery, keep number 1, and sort and limit outside.
   */
  private distinctOnAsWindow(body: JsonObject, keys: readonly unknown[]): JsonObject {
    const targets = this.targetsWithStarSpelledOut(body, 'DISTINCT ON');
    const names = targets.map((t) => columnNameOf(t));
    if (new Set(names).size !== names.length) throw unsupported('DISTINCT ON with two output columns of the same name');
    // ORDER BY and DISTINCT ON may name an output column by position or alias; the subquery needs the expression.
    const expressionOf = (node: unknown): unknown => {
      const position = bodyOf(node, 'A_Const');
      const ival = position === null ? undefined : bodyOf(position, 'ival')?.['ival'];
      if (typeof ival === 'number') return bodyOf(targets[ival - 1], 'ResTarget')?.['val'] ?? node;
      const fields = asArray(bodyOf(node, 'ColumnRef')?.['fields']).map((f) => stringNodeValue(f));
      const alias = fields.length === 1 ? targets.find((t) => str(bodyOf(t, 'ResTarget')?.['name']) === fields[0]) : undefined;
      return alias === undefined ? node : bodyOf(alias, 'ResTarget')?.['val'];
    };
    const sorts = asArray(body['sortClause']).map((sort) => bodyOf(sort, 'SortBy') ?? {});
    const orderClause = sorts.map((sort) => ({ SortBy: { ...sort, node: expressionOf(sort['node']) } }));
    const rowNumber = {
      FuncCall: {
        funcname: [makeString('row_number')],
        over: { partitionClause: keys.map(expressionOf), ...(orderClause.length > 0 ? { orderClause } : {}), frameOptions: 1058 },
        funcformat: 'COERCE_EXPLICIT_CALL',
      },
    };
    const inner: JsonObject = {
      ...body,
      distinctClause: undefined,
      sortClause: undefined,
      limitCount: undefined,
      limitOffset: undefined,
      limitOption: 'LIMIT_OPTION_DEFAULT',
      targetList: [
        ...targets.map((t, i) => ({ ResTarget: { name: names[i], val: bodyOf(t, 'ResTarget')?.['val'] } })),
        { ResTarget: { name: '__paxosql_rn', val: rowNumber } },
        ...orderClause.map((sort, i) => ({ ResTarget: { name: `__paxosql_o${i}`, val: sort.SortBy.node } })),
      ],
    };
    return {
      targetList: names.map((name) => ({ ResTarget: { name, val: makeColumnRef(name) } })),
      fromClause: [{ RangeSubselect: { subquery: { SelectStmt: inner }, alias: { aliasname: '__paxosql_distinct' } } }],
      whereClause: { A_Expr: { kind: 'AEXPR_OP', name: [makeString('=')], lexpr: makeColumnRef('__paxosql_rn'), rexpr: makeIntConst(1) } },
      ...(orderClause.length > 0 ? { sortClause: orderClause.map((sort, i) => ({ SortBy: { ...sort.SortBy, node: makeColumnRef(`__paxosql_o${i}`) } })) } : {}),
      limitCount: body['limitCount'],
      limitOffset: body['limitOffset'],
      limitOption: body['limitOption'] ?? 'LIMIT_OPTION_DEFAULT',
      op: 'SETOP_NONE',
    };
  }

  /** The SELECT list, with `*` over one table spelled out (where every column must be named: DISTINCT ON, CREATE TABLE AS). */
  private targetsWithStarSpelledOut(body: JsonObject, construct: string): unknown[] {
    const targets = asArray(body['targetList']);
    if (!targets.some(isStarTarget)) return targets;
    const from = asArray(body['fromClause']);
    const table = from.length === 1 && targets.length === 1 ? bodyOf(from[0], 'RangeVar') : null;
    const columns = table === null ? null : this.schema.columnsOf(this.relationName(table));
    if (columns === null) throw unsupported(`${construct} with * over anything but one table`);
    return columns.map((c) => ({ ResTarget: { val: makeColumnRef(c.name) } }));
  }

  private rewriteSortBy(body: JsonObject): JsonObject {
    if (body['sortby_dir'] === 'SORTBY_USING') throw unsupported('ORDER BY ... USING');
    // Postgres sorts NULLs as larger than every value; SQLite as smaller. Make it explicit.
    if (body['sortby_nulls'] === undefined || body['sortby_nulls'] === 'SORTBY_NULLS_DEFAULT') {
      body['sortby_nulls'] = body['sortby_dir'] === 'SORTBY_DESC' ? 'SORTBY_NULLS_FIRST' : 'SORTBY_NULLS_LAST';
    }
    return { SortBy: this.rewriteChildren(body) };
  }

  private rewriteCast(body: JsonObject): JsonObject {
    const typeName = body['typeName'];
    const catalogCast = this.rewriteCatalogCast(body);
    if (catalogCast !== null) return catalogCast;
    const pgType = typeNameType(typeName);
    if (pgType === null) throw unsupported(`type ${describeTypeName(typeName)}`);
    this.noteParamType(body['arg'], pgType);
    const typmods = typeModifiers(typeName);
    let arg = this.rewrite(body['arg']);
    // A boolean is stored as 1/0; its text is 'true'/'false'.
    if ((pgType === 'text' || pgType === 'varchar' || pgType === 'bpchar') && inferType(body['arg'], this) === 'bool') {
      arg = makeFuncCall('pg_bool_text', [arg]);
    }
    // An explicit cast to varchar(n)/char(n) truncates, where storing into such a column refuses (22001).
    const cast = (pgType === 'varchar' || pgType === 'bpchar') && typmods.length > 0 ? 'pg_cast_truncating' : 'pg_cast';
    return makeFuncCall(cast, [arg, makeStringConst(pgType), ...typmods.map(makeIntConst)]);
  }

  /** Wraps a value stored into a typed column so it gets Postgres' input conversion. */
  coerceToColumn(value: unknown, column: ColumnInfo | null, original: unknown = value): unknown {
    if (column === null || column.pgType === null) return value;
    this.noteParamType(original, column.pgType);
    this.noteParamType(value, column.pgType);
    if (isAlreadyOfType(value, column)) return value;
    return makeFuncCall('pg_cast', [value, makeStringConst(column.pgType), ...column.typmods.map(makeIntConst)]);
  }

  private rewriteExpr(body: JsonObject): unknown {
    const kind = str(body['kind']) ?? '';
    const names = nameList(body['name']);
    const op = names[names.length - 1] ?? '';
    // `ts - $1` makes $1 an interval, not a timestamp like ts (see intervalArithmetic).
    if (kind !== 'AEXPR_OP' || intervalArithmetic(op, body, this) === null) this.inferComparedParams(body);
    if (COMPARISON_KINDS.has(kind) && (kind !== 'AEXPR_OP' || COMPARISON_OPERATORS.has(op))) this.coerceUntypedLiterals(body);
    switch (kind) {
      case 'AEXPR_OP': return this.rewriteOperator(op, body);
      case 'AEXPR_LIKE': case 'AEXPR_ILIKE': return this.rewriteLike(body, kind === 'AEXPR_ILIKE', op.startsWith('!'));
      case 'AEXPR_DISTINCT': case 'AEXPR_NOT_DISTINCT': case 'AEXPR_NULLIF': case 'AEXPR_IN':
      case 'AEXPR_BETWEEN': case 'AEXPR_NOT_BETWEEN':
        return { A_Expr: this.rewriteChildren(body) };
      case 'AEXPR_OP_ANY': case 'AEXPR_OP_ALL': return this.rewriteArrayComparison(op, kind, body);
      case 'AEXPR_SIMILAR': throw unsupported('SIMILAR TO');
      default: throw unsupported(`operator form ${kind}`);
    }
  }

  /** `col = $1` tells the parameter's type: the column's. */
  private inferComparedParams(body: JsonObject): void {
    if (body['kind'] === 'AEXPR_OP_ANY' || body['kind'] === 'AEXPR_OP_ALL') return; // an array, typed where it is rewritten
    const sides = [body['lexpr'], body['rexpr']];
    const items = asArray(bodyOf(body['rexpr'], 'List')?.['items']);
    for (const [param, other] of [[sides[0], sides[1]], [sides[1], sides[0]], ...items.map((item) => [item, sides[0]])]) {
      if (bodyOf(param, 'ParamRef') !== null) this.noteParamType(param, inferType(other, this));
    }
  }

  /**
   * An untyped literal compared with a typed value takes its type, as in
   * Postgres; two types need it here. Booleans are stored as 1/0, so
   * `bo = 'true'` would compare 1 with a string: the literal becomes boolean
   * input ('t', 'yes', 'on', …; anything else 22P02). Dates and timestamps are
   * stored as text of a fixed form, so `created_at = '2024-02-29'` would
   * compare texts: the literal is cast to the column's type.
   */
  private coerceUntypedLiterals(body: JsonObject): void {
    const list = bodyOf(body['rexpr'], 'List');
    const others = list !== null ? asArray(list['items']) : [body['rexpr']];
    const leftType = inferType(body['lexpr'], this);
    const rightType = list === null && others.length === 1 ? inferType(body['rexpr'], this) : null;
    if (UNTYPED_LITERAL_TARGETS.has(leftType)) {
      if (list !== null) list['items'] = others.map((node) => typedLiteral(node, leftType));
      else body['rexpr'] = typedLiteral(body['rexpr'], leftType);
    } else if (UNTYPED_LITERAL_TARGETS.has(rightType)) {
      body['lexpr'] = typedLiteral(body['lexpr'], rightType);
    }
  }

  private rewriteOperator(op: string, body: JsonObject): unknown {
    const shifted = intervalArithmetic(op, body, this);
    if (shifted !== null) return this.rewriteIntervalArithmetic(shifted);
    const left = body['lexpr'] === undefined ? undefined : this.rewrite(body['lexpr']);
    const right = this.rewrite(body['rexpr']);
    if (left !== undefined && (op === '+' || op === '-')) {
      const date = this.rewriteDateArithmetic(op, body, left, right);
      if (date !== null) return date;
    }
    if (left !== undefined && COMPARISON_OPERATORS.has(op)) {
      const aligned = this.alignDateTimes(body, left, right);
      return { A_Expr: { ...body, lexpr: aligned.left, rexpr: aligned.right } };
    }
    if (PASSTHROUGH_OPERATORS.has(op)) return { A_Expr: { ...body, lexpr: left, rexpr: right } };
    if (left === undefined) throw unsupported(`prefix operator ${op}`);
    switch (op) {
      // SQLite yields NULL for division by zero; Postgres raises 22012.
      case '/': return makeFuncCall('pg_div', [left, right]);
      case '%': return makeFuncCall('pg_mod', [left, right]);
      case '^': return makeFuncCall('power', [left, right]);
      case '~': case '~*': case '!~': case '!~*': {
        const match = makeFuncCall('pg_regex_match', [left, right, makeIntConst(op.includes('*') ? 1 : 0)]);
        return op.startsWith('!') ? makeNot(match) : match;
      }
      case '~~': case '~~*': case '!~~': case '!~~*':
        return this.rewriteLike({ ...body, lexpr: body['lexpr'] }, op.includes('*'), op.startsWith('!'));
      default: throw unsupported(`operator ${op}`);
    }
  }

  /** `x ± interval '…'`: x shifted on the calendar (interval.ts); paxosql has no interval values otherwise. */
  private rewriteIntervalArithmetic(shifted: { readonly base: unknown; readonly interval: unknown; readonly sign: 1 | -1 }): unknown {
    const baseType = inferType(shifted.base, this);
    if (baseType !== null && baseType !== 'date' && baseType !== 'timestamp' && baseType !== 'timestamptz') {
      throw unsupported(`${baseType} ± interval (only dates and timestamps take an interval)`);
    }
    if (bodyOf(shifted.interval, 'ParamRef') !== null) this.noteParamType(shifted.interval, 'text');
    const resultType = intervalResultType(baseType);
    return makeFuncCall('pg_add_interval', [this.rewrite(shifted.base), this.rewrite(shifted.interval), makeIntConst(shifted.sign), makeStringConst(resultType)]);
  }

  /**
   * A date compared with a timestamp, or a timestamp with a timestamptz: their
   * stored texts differ in form ('2024-02-29' vs '2024-02-29 00:00:00'), so
   * both become the wider type first, as Postgres compares them. (An untyped
   * literal already took its side's type: coerceUntypedLiterals.)
   */
  private alignDateTimes(body: JsonObject, left: unknown, right: unknown): { left: unknown; right: unknown } {
    const rank = (t: PgType | null): number => (t === 'date' ? 0 : t === 'timestamp' ? 1 : t === 'timestamptz' ? 2 : -1);
    const leftType = inferType(body['lexpr'], this);
    const rightType = inferType(body['rexpr'], this);
    if (rank(leftType) < 0 || rank(rightType) < 0 || leftType === rightType) return { left, right };
    const wider = rank(leftType) > rank(rightType) ? leftType : rightType;
    const widen = (node: unknown, type: PgType | null): unknown => (type === wider ? node : makeFuncCall('pg_cast', [node, makeStringConst(wider ?? 'timestamptz')]));
    return { left: widen(left, leftType), right: widen(right, rightType) };
  }

  /** date ± integer and date - date, which SQLite would compute on the leading year. */
  private rewriteDateArithmetic(op: '+' | '-', body: JsonObject, left: unknown, right: unknown): unknown {
    const leftType = inferType(body['lexpr'], this);
    const rightType = inferType(body['rexpr'], this);
    const isTimestamp = (t: PgType | null): boolean => t === 'timestamp' || t === 'timestamptz';
    if (op === '-' && (isTimestamp(leftType) || isTimestamp(rightType)) && (isTimestamp(leftType) || leftType === 'date') && (isTimestamp(rightType) || rightType === 'date')) {
      throw unsupported('timestamp − timestamp (its result is an interval; compare the timestamps, or use extract(epoch from …))');
    }
    const result = dateOperatorType(op, leftType, rightType);
    if (result === null) return null;
    if (result === 'int4') return makeFuncCall('pg_date_diff_days', [left, right]);
    if (op === '-') return makeFuncCall('pg_date_add_days', [left, { A_Expr: { kind: 'AEXPR_OP', name: [makeString('-')], rexpr: right } }]);
    return leftType === 'date' ? makeFuncCall('pg_date_add_days', [left, right]) : makeFuncCall('pg_date_add_days', [right, left]);
  }

  /**
   * LIKE becomes SQLite's like(pattern, value, escape): the connection runs with
   * case_sensitive_like (Postgres LIKE is case sensitive) and Postgres' default escape is `\`.
   */
  private rewriteLike(body: JsonObject, caseInsensitive: boolean, negated: boolean): unknown {
    let pattern: unknown = body['rexpr'];
    let escape: unknown = makeStringConst('\\');
    const escapeCall = bodyOf(pattern, 'FuncCall');
    if (escapeCall !== null && nameList(escapeCall['funcname']).includes('like_escape')) {
      const args = asArray(escapeCall['args']);
      pattern = args[0];
      escape = args[1];
    }
    let value = this.rewrite(body['lexpr']);
    pattern = this.rewrite(pattern);
    if (caseInsensitive) {
      value = makeFuncCall('lower', [value]);
      pattern = makeFuncCall('lower', [pattern]);
    }
    const noEscape = constStringValue(escape) === ''; // ESCAPE '' turns escaping off
    const like = makeFuncCall('like', noEscape ? [pattern, value] : [pattern, value, this.rewrite(escape)]);
    return negated ? makeNot(like) : like;
  }

  private rewriteFunction(body: JsonObject): unknown {
    const names = nameList(body['funcname']);
    const name = (names[names.length - 1] ?? '').toLowerCase();
    const schemaName = names.length > 1 ? names[0] : undefined;
    if (schemaName !== undefined && schemaName !== 'pg_catalog' && schemaName !== 'public') {
      throw new SqlError('42883', `function ${names.join('.')} does not exist`);
    }
    if (NONDETERMINISTIC_FUNCTIONS.has(name)) {
      // A plain read runs on one node and is not replicated: the wall clock and sleeping are fine there.
      const forReads = READ_ONLY_FUNCTIONS[name];
      if (forReads !== undefined && this.parsed.kind === 'read') return makeFuncCall(forReads, asArray(this.rewrite(body['args'])));
      throw new SqlError('0A000', `function ${name}() is not deterministic and cannot be used in a replicated statement`);
    }
    const catalogArrayFunction = CATALOG_ARRAY_FUNCTIONS[name];
    if (this.catalogMode && catalogArrayFunction !== undefined) {
      return makeFuncCall(catalogArrayFunction, asArray(this.rewrite(body['args'])));
    }
    if (UNSUPPORTED_FUNCTIONS.has(name)) throw unsupported(`function ${name}()`);
    if (body['func_variadic'] === true) throw unsupported('VARIADIC arguments');
    if (name === 'generate_series') throw unsupported('generate_series() outside FROM');
    const out: JsonObject = { ...this.rewriteChildren(body), funcname: [makeString(FUNCTION_RENAMES[name] ?? name)], funcformat: 'COERCE_EXPLICIT_CALL' };
    if (SQLITE_DATE_FUNCTIONS.has(name)) out['args'] = asArray(out['args']).map(pinNow);
    if (JSON_BUILDERS.has(name)) out['args'] = this.jsonBooleans(asArray(body['args']), asArray(out['args']));
    return { FuncCall: out };
  }

  /**
   * A boolean is stored as 0/1, which SQLite's JSON builders would write as a
   * number: give them JSON true/false instead, as Postgres writes them.
   */
  private jsonBooleans(original: readonly unknown[], rewritten: readonly unknown[]): unknown[] {
    return rewritten.map((arg, i) => {
      if (inferType(original[i], this) !== 'bool') return arg;
      const asJsonWord = {
        CaseExpr: {
          args: [
            { CaseWhen: { expr: arg, result: makeStringConst('true') } },
            { CaseWhen: { expr: makeNot(arg), result: makeStringConst('false') } },
          ],
        },
      };
      return makeFuncCall('json', [asJsonWord]); // NULL stays NULL (JSON null)
    });
  }

  private rewriteSqlValueFunction(body: JsonObject): unknown {
    const op = str(body['op']) ?? '';
    const replacement = SQL_VALUE_FUNCTIONS[op];
    if (replacement === undefined) throw unsupported(`${op.replace('SVFOP_', '')} (the time type)`);
    return makeFuncCall(replacement, []);
  }

  private rewriteSubLink(body: JsonObject): unknown {
    const type = str(body['subLinkType']);
    const operator = nameList(body['operName']).join('');
    const rewritten: JsonObject = { ...this.rewriteChildren(body) };
    if (type === 'EXISTS_SUBLINK' || type === 'EXPR_SUBLINK') return { SubLink: rewritten };
    if (type === 'ARRAY_SUBLINK' && this.catalogMode) return arraySubquery(rewritten['subselect']);
    // x = ANY (subquery) is x IN (subquery); x <> ALL (subquery) is NOT (x IN (subquery)), NULLs included.
    if (type === 'ANY_SUBLINK' && (operator === '' || operator === '=')) {
      delete rewritten['operName'];
      return { SubLink: rewritten };
    }
    if (type === 'ALL_SUBLINK' && (operator === '<>' || operator === '!=')) {
      delete rewritten['operName'];
      return makeNot({ SubLink: { ...rewritten, subLinkType: 'ANY_SUBLINK' } });
    }
    throw unsupported(`${operator} ${type?.replace('_SUBLINK', '')} (subquery)`);
  }

  /** generate_series(a, b[, step]) in FROM reads from the registered table-valued function. */
  private rewriteRangeFunction(body: JsonObject): unknown {
    const catalogCall = this.catalogMode ? this.rewriteCatalogRangeFunction(body) : null;
    if (catalogCall !== null) return catalogCall;
    if (body['ordinality'] === true) throw unsupported('WITH ORDINALITY');
    if (body['lateral'] === true) throw unsupported('LATERAL');
    const items = asArray(bodyOf(asArray(body['functions'])[0], 'List')?.['items']);
    const call = bodyOf(items[0], 'FuncCall');
    const names = nameList(call?.['funcname']);
    if (asArray(body['functions']).length !== 1 || call === null || names[names.length - 1] !== 'generate_series') {
      throw unsupported(`set-returning function ${names.join('.') || 'call'} in FROM`);
    }
    const alias = isObject(body['alias']) ? body['alias'] : {};
    const tableAlias = str(alias['aliasname']) ?? 'generate_series';
    const columnName = stringNodeValue(asArray(alias['colnames'])[0]) ?? str(alias['aliasname']) ?? 'generate_series';
    const series = makeFuncCall('pg_generate_series', asArray(this.rewrite(call['args'])));
    // A subquery gives the column the name Postgres gives it (the alias), which a bare
    // table-valued function cannot.
    return {
      RangeSubselect: {
        subquery: {
          SelectStmt: {
            targetList: [{ ResTarget: { name: columnName, val: makeColumnRef('value') } }],
            fromClause: [{ RangeFunction: { functions: [{ List: { items: [series, {}] } }] } }],
            limitOption: 'LIMIT_OPTION_DEFAULT',
            op: 'SETOP_NONE',
          },
        },
        alias: { aliasname: tableAlias },
      },
    };
  }

  // -------------------------------------------------------------------------
  // Catalog-query forms.

  /**
   * Casts to the OID alias types (regclass, regtype, ...), oid, name, "char" and arrays.
   * OID aliases hold the OID; only printing them gives the name (printOidAliasColumns).
   */
  private rewriteCatalogCast(body: JsonObject): JsonObject | null {
    const typeName = isObject(body['typeName']) ? body['typeName'] : {};
    const names = nameList(typeName['names']);
    const last = (names[names.length - 1] ?? '').toLowerCase();
    if (asArray(typeName['arrayBounds']).length > 0) {
      if (!this.catalogMode) return null;
      return { FuncCall: { funcname: [makeString('pg_cast')], args: [this.rewrite(body['arg']), makeStringConst('text')], funcformat: 'COERCE_EXPLICIT_CALL' } };
    }
    const input = OID_ALIAS_INPUT[last];
    if (input !== undefined) return makeFuncCall(input, [this.rewrite(body['arg'])]);
    if (last === 'oid') return makeFuncCall('pg_oid', [this.rewrite(body['arg'])]);
    const isText = last === 'text' || last === 'name' || last === 'varchar' || (last === 'char' && names.length === 1);
    if (!isText) return null;
    // regclass::text is the name, not the number.
    const innerCast = bodyOf(body['arg'], 'TypeCast');
    const innerNames = nameList(isObject(innerCast?.['typeName']) ? innerCast['typeName']['names'] : undefined);
    const output = OID_ALIAS_OUTPUT[(innerNames[innerNames.length - 1] ?? '').toLowerCase()];
    if (output !== undefined) return makeFuncCall(output, [this.rewrite(body['arg'])]);
    if (last === 'name' || last === 'char') return makeFuncCall('pg_cast', [this.rewrite(body['arg']), makeStringConst('text')]);
    return null;
  }

  /**
   * A catalog set-returning function in FROM (pg_partition_ancestors(x) WITH ORDINALITY AS
   * a(relid, depth)): without partitions each returns exactly one row, its argument.
   */
  private rewriteCatalogRangeFunction(body: JsonObject): unknown {
    const functions = asArray(body['functions']);
    const call = bodyOf(asArray(bodyOf(functions[0], 'List')?.['items'])[0], 'FuncCall');
    const names = nameList(call?.['funcname']);
    const name = names[names.length - 1] ?? '';
    if (functions.length !== 1 || call === null) return null;
    const alias = isObject(body['alias']) ? body['alias'] : {};
    const columns = asArray(alias['colnames']).map((c) => stringNodeValue(c) ?? '');
    if (name === 'unnest' && body['ordinality'] !== true && asArray(call['args']).length === 1) {
      // Arrays are text literals in catalog queries; pg_unnest yields their elements.
      const column = columns[0] ?? str(alias['aliasname']) ?? 'unnest';
      const elements = makeFuncCall('pg_unnest', asArray(this.rewrite(call['args'])));
      return {
        RangeSubselect: {
          subquery: {
            SelectStmt: {
              targetList: [{ ResTarget: { name: column, val: makeColumnRef('value') } }],
              fromClause: [{ RangeFunction: { functions: [{ List: { items: [elements, {}] } }] } }],
              limitOption: 'LIMIT_OPTION_DEFAULT',
              op: 'SETOP_NONE',
            },
          },
          alias: { aliasname: str(alias['aliasname']) ?? 'unnest' },
        },
      };
    }
    if (!SINGLE_ROW_CATALOG_FUNCTIONS.has(name)) return null;
    const targets = [{ ResTarget: { name: columns[0] ?? str(alias['aliasname']) ?? name, val: this.rewrite({ FuncCall: call }) } }];
    if (body['ordinality'] === true) targets.push({ ResTarget: { name: columns[1] ?? 'ordinality', val: makeIntConst(1) } });
    return {
      RangeSubselect: {
        subquery: { SelectStmt: { targetList: targets, limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } },
        alias: { aliasname: str(alias['aliasname']) ?? name },
      },
    };
  }

  /** `arr[i]` in catalog queries (arrays are text literals there). */
  private rewriteIndirection(body: JsonObject): unknown {
    if (!this.catalogMode) throw unsupported('array subscripts and field selection');
    let value = this.rewrite(body['arg']);
    for (const step of asArray(body['indirection'])) {
      const indices = bodyOf(step, 'A_Indices');
      if (indices === null || indices['is_slice'] === true || indices['uidx'] === undefined) throw unsupported('array slices and field selection');
      value = makeFuncCall('pg_array_get', [value, this.rewrite(indices['uidx'])]);
    }
    return value;
  }

  /** `x = ANY (array)` and `x <> ALL (array)`: an array parameter anywhere, array literals in catalog queries. */
  private rewriteArrayComparison(op: string, kind: string, body: JsonObject): unknown {
    const isAny = kind === 'AEXPR_OP_ANY';
    if (!((isAny && op === '=') || (!isAny && (op === '<>' || op === '!=')))) throw unsupported(`${op} ${isAny ? 'ANY' : 'ALL'} (array)`);
    const param = arrayParameter(body['rexpr']);
    if (param !== null) return this.inArrayParameter(body['lexpr'], param, isAny);
    if (!this.catalogMode) throw unsupported(`${op} ${isAny ? 'ANY' : 'ALL'} (array)`);
    const contains = makeFuncCall('pg_array_contains', [this.rewrite(body['rexpr']), this.rewrite(body['lexpr'])]);
    return isAny ? contains : makeNot(contains);
  }

  /**
   * `x = ANY ($1)` is `x IN (SELECT value FROM json_each(pg_array_json($1, type)))`
   * (`<> ALL` its NOT IN): SQLite can look x up in an index, and NULLs behave
   * as Postgres's (not found among NULLs is NULL). The parameter is described
   * to clients as an array of x's type, so they send a JS array as one.
   */
  private inArrayParameter(subject: unknown, param: { readonly node: JsonObject; readonly number: number; readonly elementType: PgType | null }, isAny: boolean): unknown {
    const elementType = param.elementType ?? inferType(subject, this) ?? 'text';
    const arrayOid = ARRAY_TYPE_OIDS[elementType];
    if (arrayOid === undefined) throw unsupported(`${elementType}[] parameters`);
    if (!this.arrayParamOids.has(param.number)) this.arrayParamOids.set(param.number, arrayOid);
    const elements = makeFuncCall('pg_array_json', [param.node, makeStringConst(elementType)]);
    const subselect = {
      SelectStmt: {
        targetList: [{ ResTarget: { val: makeColumnRef('value') } }],
        fromClause: [{ RangeFunction: { functions: [{ List: { items: [makeFuncCall('json_each', [elements]), {}] } }] } }],
        limitOption: 'LIMIT_OPTION_DEFAULT',
        op: 'SETOP_NONE',
      },
    };
    const inList = { SubLink: { subLinkType: 'ANY_SUBLINK', testexpr: this.rewrite(subject), subselect } };
    return isAny ? inList : makeNot(inList);
  }

  // -------------------------------------------------------------------------
  // Emission.

  /**
   * Deparses a rewritten statement. The deparser writes set operations with parenthesized
   * branches, which SQLite rejects, so every UNION/INTERSECT/EXCEPT is emitted here and
   * spliced in through a placeholder.
   */
  emit(node: unknown): string {
    const root = bodyOf(node, 'SelectStmt');
    if (root !== null && isSetOperation(root)) return this.emitSetOperation(root);
    const placeholders = new Map<string, string>();
    const replaced = this.replaceSetOperations(node, placeholders);
    let sql = deparseNode(replaced);
    for (const [token, text] of placeholders) {
      const marker = `SELECT ${token}`;
      if (!sql.includes(marker)) throw new SqlError('XX000', 'internal error: lost a set operation while translating');
      sql = sql.replace(marker, text);
    }
    return sql;
  }

  private replaceSetOperations(node: unknown, placeholders: Map<string, string>): unknown {
    if (Array.isArray(node)) return node.map((item) => this.replaceSetOperations(item, placeholders));
    if (!isObject(node)) return node;
    const select = bodyOf(node, 'SelectStmt');
    if (select !== null && isSetOperation(select)) return placeholderSelect(this.emitSetOperation(select), placeholders);
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) out[key] = this.replaceSetOperations(value, placeholders);
    return out;
  }

  private emitSetOperation(body: JsonObject): string {
    const keyword = SETOP_KEYWORDS[str(body['op']) ?? ''];
    if (keyword === undefined) throw unsupported(`set operation ${String(body['op'])}`);
    const left = this.emitBranch(body['larg'], true);
    const right = this.emitBranch(body['rarg'], false);
    const core = `${left} ${keyword}${body['all'] === true ? ' ALL' : ''} ${right}`;
    if (!hasOrderingOrWith(body)) return core;
    // ORDER BY / LIMIT / WITH of the whole compound go on a wrapping SELECT.
    const placeholders = new Map<string, string>();
    const wrapper = {
      SelectStmt: {
        targetList: [{ ResTarget: { val: { ColumnRef: { fields: [{ A_Star: {} }] } } } }],
        fromClause: [{ RangeSubselect: { subquery: placeholderSelect(core, placeholders), alias: { aliasname: '__paxosql_setop' } } }],
        ...pick(body, ['sortClause', 'limitCount', 'limitOffset', 'withClause', 'limitOption']),
        op: 'SETOP_NONE',
      },
    };
    let sql = deparseNode(this.replaceSetOperations(wrapper, placeholders));
    for (const [token, text] of placeholders) sql = sql.replace(`SELECT ${token}`, text);
    return sql;
  }

  private emitBranch(branch: unknown, isLeft: boolean): string {
    const body = selectBody(branch) ?? {};
    const simple = !hasOrderingOrWith(body);
    // SQLite evaluates compounds left to right with no grouping, so only a left branch
    // may stay inline; a right compound branch (e.g. INTERSECT binding tighter) is wrapped.
    if (isSetOperation(body)) {
      const text = this.emitSetOperation(body);
      return simple && isLeft ? text : `SELECT * FROM (${text})`;
    }
    const text = this.emit({ SelectStmt: body });
    return simple ? text : `SELECT * FROM (${text})`;
  }
}

/** Set-operation branches (larg/rarg) are bare SelectStmt bodies in the JSON AST. */
/**
 * `(VALUES …) AS v(n, s)` and `(SELECT …) AS q(a, b)`: SQLite has no column
 * list on a subquery's alias, so the names go into the subquery itself — onto
 * its (leftmost) SELECT's targets, or onto VALUES' column1, column2, … through
 * a SELECT around it.
 */
function aliasColumnNames(range: JsonObject | null): string[] {
  const alias = range !== null && isObject(range['alias']) ? range['alias'] : null;
  return asArray(alias?.['colnames']).map((c) => stringNodeValue(c) ?? '');
}

function withColumnAliases(body: JsonObject): JsonObject {
  const alias = isObject(body['alias']) ? body['alias'] : null;
  const names = aliasColumnNames(body);
  const select = selectBody(body['subquery']);
  if (alias === null || names.length === 0 || select === null) return body;
  const { colnames: _named, ...bareAlias } = alias;
  return { ...body, subquery: { SelectStmt: namedColumns(select, names) }, alias: bareAlias };
}

function namedColumns(select: JsonObject, names: readonly string[]): JsonObject {
  const rows = asArray(select['valuesLists']);
  if (rows.length > 0) {
    const width = asArray(bodyOf(rows[0], 'List')?.['items']).length;
    if (names.length > width) throw new SqlError('42P10', `VALUES list has ${width} columns available but ${names.length} columns specified`);
    const targetList = Array.from({ length: width }, (_, i) => ({ ResTarget: { name: names[i] ?? `column${i + 1}`, val: makeColumnRef(`column${i + 1}`) } }));
    const values = { RangeSubselect: { subquery: { SelectStmt: select }, alias: { aliasname: '__paxosql_values' } } };
    return { targetList, fromClause: [values], limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' };
  }
  if (select['op'] !== undefined && select['op'] !== 'SETOP_NONE') {
    // UNION and friends take their column names from the leftmost SELECT.
    const left = selectBody(select['larg']);
    return left === null ? select : { ...select, larg: namedColumns(left, names) };
  }
  const targets = asArray(select['targetList']);
  if (targets.some((t) => isStarTarget(t))) throw unsupported('column aliases on a subquery that selects *');
  if (names.length > targets.length) throw new SqlError('42P10', `table has ${targets.length} columns available but ${names.length} columns specified`);
  const renamed = targets.map((target, i) => {
    const res = bodyOf(target, 'ResTarget');
    return res === null || names[i] === undefined ? target : { ResTarget: { ...res, name: names[i] } };
  });
  return { ...select, targetList: renamed };
}

/** Types an untyped string literal compared with them must take (coerceUntypedLiterals). */
const UNTYPED_LITERAL_TARGETS: ReadonlySet<PgType | null> = new Set<PgType | null>(['bool', 'date', 'timestamp', 'timestamptz']);

/** A string constant as a value of `type`; any other node unchanged. */
function typedLiteral(node: unknown, type: PgType | null): unknown {
  const text = constStringValue(node);
  if (text === undefined || type === null) return node;
  if (type === 'bool') return makeIntConst(Number(coerceToPgType(text, 'bool')));
  return { TypeCast: { arg: node, typeName: { names: [makeString(type)], typemod: -1 } } };
}

/** `$n` or `$n::type[]` on the right of `= ANY (…)`: the parameter, and the element type a cast names. */
function arrayParameter(node: unknown): { readonly node: JsonObject; readonly number: number; readonly elementType: PgType | null } | null {
  const cast = bodyOf(node, 'TypeCast');
  const inner = cast === null ? node : cast['arg'];
  const param = bodyOf(inner, 'ParamRef');
  if (param === null || typeof param['number'] !== 'number') return null;
  let elementType: PgType | null = null;
  if (cast !== null) {
    const typeName = isObject(cast['typeName']) ? cast['typeName'] : {};
    if (asArray(typeName['arrayBounds']).length === 0) return null;
    elementType = typeNameType({ ...typeName, arrayBounds: undefined });
    if (elementType === null) throw unsupported('this array type');
  }
  return { node: inner as JsonObject, number: param['number'], elementType };
}

/**
 * SQLite's RETURNING takes the target table's columns unqualified: `UPDATE t AS
 * n … RETURNING n.id` (or `t.id`) becomes `RETURNING id`. Other qualified names
 * (a FROM table's) are left to fail as they do in SQLite.
 */
function unqualifyTarget(node: unknown, relation: unknown): unknown {
  const rel = isObject(relation) ? relation : {};
  const alias = isObject(rel['alias']) ? str(rel['alias']['aliasname']) : undefined;
  const names = new Set([alias ?? str(rel['relname']) ?? ''].map((n) => n.toLowerCase()));
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (!isObject(value)) return value;
    const ref = bodyOf(value, 'ColumnRef');
    const fields = asArray(ref?.['fields']);
    if (ref !== null && fields.length === 2 && names.has((stringNodeValue(fields[0]) ?? '').toLowerCase())) {
      return { ColumnRef: { ...ref, fields: fields.slice(1) } };
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
  };
  return visit(node);
}

function selectBody(node: unknown): JsonObject | null {
  const wrapped = bodyOf(node, 'SelectStmt');
  if (wrapped !== null) return wrapped;
  return isObject(node) && ('op' in node || 'targetList' in node || 'valuesLists' in node) ? node : null;
}

function isSetOperation(body: JsonObject): boolean {
  return body['op'] !== undefined && body['op'] !== 'SETOP_NONE';
}

function hasOrderingOrWith(body: JsonObject): boolean {
  return asArray(body['sortClause']).length > 0 || body['limitCount'] !== undefined ||
    body['limitOffset'] !== undefined || body['withClause'] !== undefined;
}

function placeholderSelect(text: string, placeholders: Map<string, string>): JsonObject {
  placeholderCounter = (placeholderCounter + 1) % Number.MAX_SAFE_INTEGER;
  const token = `__paxosql_setop_${placeholderCounter}`;
  placeholders.set(token, text);
  return {
    SelectStmt: {
      targetList: [{ ResTarget: { val: makeColumnRef(token) } }],
      limitOption: 'LIMIT_OPTION_DEFAULT',
      op: 'SETOP_NONE',
    },
  };
}

function pick(body: JsonObject, keys: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const key of keys) if (body[key] !== undefined) out[key] = body[key];
  return out;
}

function isStarTarget(target: unknown): boolean {
  const fields = asArray(bodyOf(bodyOf(target, 'ResTarget')?.['val'], 'ColumnRef')?.['fields']);
  return fields.some((field) => nodeTypeOf(field) === 'A_Star');
}

/** A constant that already has the column's type needs no conversion. */
function isAlreadyOfType(value: unknown, column: ColumnInfo): boolean {
  const constant = bodyOf(value, 'A_Const');
  if (constant === null) return false;
  if (constant['isnull'] === true) return true;
  const type = column.pgType;
  if ('ival' in constant) return type === 'int4' || type === 'int8' || type === 'float8' || type === 'float4' || (type === 'numeric' && column.typmods.length === 0);
  if ('boolval' in constant) return type === 'bool';
  if ('sval' in constant) return type === 'text' || (type === 'varchar' && column.typmods.length === 0);
  return false;
}

/** Typmods of a TypeName (`varchar(20)` → [20]). */
export function typeModifiers(typeName: unknown): number[] {
  if (!isObject(typeName)) return [];
  return asArray(typeName['typmods']).map((mod) => {
    const ival = bodyOf(bodyOf(mod, 'A_Const'), 'ival');
    if (ival === null) throw unsupported('non-integer type modifiers');
    return typeof ival['ival'] === 'number' ? ival['ival'] : 0;
  });
}

export function describeTypeName(typeName: unknown): string {
  if (!isObject(typeName)) return 'unknown';
  const names = nameList(typeName['names']).filter((n) => n !== 'pg_catalog');
  return `${names.join('.')}${asArray(typeName['arrayBounds']).length > 0 ? '[]' : ''}`;
}

/** Date-function arguments: the literal 'now' becomes the entry's time; other values pass pg_pin_now. */
function pinNow(arg: unknown): unknown {
  const text = constStringValue(arg);
  if (text !== undefined) return text.toLowerCase() === 'now' ? makeFuncCall('pg_sqlite_now', []) : arg;
  if (bodyOf(arg, 'A_Const') !== null) return arg;
  return makeFuncCall('pg_pin_now', [arg]);
}

/** Collects every table name the statement reads or writes (for parameter type inference). */
function collectTables(node: unknown, into: string[]): void {
  if (Array.isArray(node)) {
    for (const item of node) collectTables(item, into);
    return;
  }
  if (!isObject(node)) return;
  const relname = str(node['relname']);
  const key = relname !== undefined && node['schemaname'] === 'information_schema' ? `information_schema.${relname}` : relname;
  if (key !== undefined && !into.includes(key)) into.push(key);
  for (const value of Object.values(node)) collectTables(value, into);
}


// ---------------------------------------------------------------------------
// Catalog queries.

/** Casts to OID alias types: the function that reads a name (or number) into an OID. */
const OID_ALIAS_INPUT: Readonly<Record<string, string>> = {
  regclass: 'pg_regclass', regtype: 'pg_regtype', regproc: 'pg_regproc', regprocedure: 'pg_regproc',
  regnamespace: 'pg_regnamespace', regrole: 'pg_regrole',
};

/** The function that prints an OID alias value (regproc is stored as its name already). */
const OID_ALIAS_OUTPUT: Readonly<Record<string, string>> = {
  regclass: 'pg_regclass_name', regtype: 'pg_regtype_name', regnamespace: 'pg_regnamespace_name', regrole: 'pg_regrole_name',
};

const OID_ALIAS_TYPE_OIDS: Readonly<Record<string, number>> = {
  regclass: 2205, regtype: 2206, regproc: 24, regprocedure: 24, regnamespace: 4089, regrole: 4096, oid: 26, name: 19,
};

const OUTPUT_BY_TYPE_OID: ReadonlyMap<number, string> = new Map([
  [2205, 'pg_regclass_name'], [2206, 'pg_regtype_name'], [4089, 'pg_regnamespace_name'], [4096, 'pg_regrole_name'],
]);

/** Result types of catalog functions that PgType cannot name or the general inference does not know. */
const CATALOG_FUNCTION_OIDS: Readonly<Record<string, number>> = {
  pg_get_userbyid: 19, format_type: 25, pg_get_indexdef: 25, pg_get_constraintdef: 25, pg_get_expr: 25,
  pg_get_viewdef: 25, pg_encoding_to_char: 19, current_schemas: 1003, array_to_string: 25, array_upper: 23,
  array_lower: 23, array_length: 23, cardinality: 23, pg_table_is_visible: 16, pg_type_is_visible: 16,
  has_table_privilege: 16, has_schema_privilege: 16, has_database_privilege: 16, has_column_privilege: 16,
  pg_has_role: 16, pg_is_in_recovery: 16, obj_description: 25, col_description: 25, shobj_description: 25,
  pg_size_pretty: 25, pg_table_size: 20, pg_relation_size: 20, pg_total_relation_size: 20, pg_indexes_size: 20,
  pg_get_serial_sequence: 25, pg_get_triggerdef: 25, pg_get_statisticsobjdef_columns: 25, pg_partition_root: 2205,
  to_regclass: 2205, to_regtype: 2206, to_regnamespace: 4089,
};

/** The type OID of a catalog-query result expression, when it is one the general inference cannot give. */
function catalogExpressionOid(node: unknown): number | null {
  const res = bodyOf(node, 'ResTarget');
  if (res !== null) return catalogExpressionOid(res['val']);
  const cast = bodyOf(node, 'TypeCast');
  if (cast !== null) {
    const typeName = isObject(cast['typeName']) ? cast['typeName'] : {};
    const names = nameList(typeName['names']);
    const last = (names[names.length - 1] ?? '').toLowerCase();
    if (asArray(typeName['arrayBounds']).length > 0) return resolveTypeName(`${last}[]`)?.oid ?? 1009;
    if (last === 'char' && names.length === 1) return 18;
    return OID_ALIAS_TYPE_OIDS[last] ?? null;
  }
  const call = bodyOf(node, 'FuncCall');
  if (call !== null) {
    const names = nameList(call['funcname']);
    return CATALOG_FUNCTION_OIDS[(names[names.length - 1] ?? '').toLowerCase()] ?? null;
  }
  const subLink = bodyOf(node, 'SubLink');
  if (subLink !== null && subLink['subLinkType'] === 'ARRAY_SUBLINK') return 1009;
  if (bodyOf(node, 'A_ArrayExpr') !== null) return 1009;
  if (bodyOf(node, 'A_Indirection') !== null) return 25;
  return null;
}

/** A FROM-clause reference to a catalog relation reads its TEMP table, keeping the name as the alias. */
function catalogRangeVar(body: JsonObject, def: CatalogTableDef): JsonObject {
  const alias = isObject(body['alias']) ? body['alias'] : { aliasname: def.name };
  return { RangeVar: { schemaname: 'temp', relname: def.table, inh: true, relpersistence: 'p', alias } };
}

/** ARRAY(subquery) → the subquery's values aggregated, in order, into an array text literal. */
function arraySubquery(subselect: unknown): JsonObject {
  const element = '__paxosql_element';
  let branch = bodyOf(subselect, 'SelectStmt');
  while (branch !== null && isSetOperation(branch)) branch = selectBody(branch['larg']);
  const targets = asArray(branch?.['targetList']);
  const first = bodyOf(targets[0], 'ResTarget');
  if (first === null || targets.length !== 1) throw new SqlError('42601', 'subquery must return only one column');
  first['name'] = element;
  return {
    SubLink: {
      subLinkType: 'EXPR_SUBLINK',
      subselect: {
        SelectStmt: {
          targetList: [{ ResTarget: { val: makeFuncCall('pg_array_agg', [makeColumnRef(element)]) } }],
          fromClause: [{ RangeSubselect: { subquery: subselect, alias: { aliasname: '__paxosql_array' } } }],
          limitOption: 'LIMIT_OPTION_DEFAULT',
          op: 'SETOP_NONE',
        },
      },
    },
  };
}

/** Result columns of OID alias types (x::regclass) print as names, as Postgres' output functions do. */
function printOidAliasColumns(select: JsonObject | null, columns: readonly ResultColumnHint[]): void {
  if (select === null) return;
  if (isSetOperation(select)) {
    printOidAliasColumns(selectBody(select['larg']), columns);
    printOidAliasColumns(selectBody(select['rarg']), columns);
    return;
  }
  asArray(select['targetList']).forEach((target, i) => {
    const res = bodyOf(target, 'ResTarget');
    const oid = columns[i]?.typeOid;
    const output = oid === undefined ? undefined : OUTPUT_BY_TYPE_OID.get(oid);
    if (res !== null && output !== undefined && !isStarTarget(target)) res['val'] = makeFuncCall(output, [res['val']]);
  });
}

const SINGLE_ROW_CATALOG_FUNCTIONS = new Set(['pg_partition_ancestors', 'pg_partition_root']);

const OID_ALIAS_NAMES = new Set([...Object.keys(OID_ALIAS_INPUT)]);

/** Whether a statement reads catalog relations, calls catalog functions or casts to OID alias types. */
export function referencesCatalog(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(referencesCatalog);
  if (!isObject(node)) return false;
  const range = bodyOf(node, 'RangeVar');
  if (range !== null && findCatalogTable(str(range['schemaname']), str(range['relname']) ?? '') !== null) return true;
  const call = bodyOf(node, 'FuncCall');
  if (call !== null) {
    const names = nameList(call['funcname']);
    if (CATALOG_FUNCTION_NAMES.has((names[names.length - 1] ?? '').toLowerCase())) return true;
  }
  const cast = bodyOf(node, 'TypeCast');
  if (cast !== null && isObject(cast['typeName'])) {
    const names = nameList(cast['typeName']['names']);
    if (OID_ALIAS_NAMES.has((names[names.length - 1] ?? '').toLowerCase())) return true;
  }
  return Object.values(node).some(referencesCatalog);
}
