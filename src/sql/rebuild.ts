// ALTER TABLE … ADD CONSTRAINT and ALTER COLUMN SET NOT NULL on SQLite, which
// cannot add a constraint to an existing table. The table is rebuilt the way
// SQLite documents it (create the new shape, copy the rows, drop the old
// table, rename the new one, recreate its indexes, triggers and the views),
// inside the statement's savepoint, so the change is atomic and existing rows
// are checked against the new constraint exactly as Postgres checks them
// (a duplicate key fails with 23505, a NULL key with 23502).
//
// The steps are computed from the schema at translation time; every replica
// translates the statement at the same point of the log, so they are the same.

import { quoteIdent, quoteLiteral, unsupported } from './ast.js';
import { closingParen, INTERNAL_TABLE_PREFIX, maskQuoted, splitTopLevel, unquoteIdentifier } from './catalog-model.js';
import type { TranslatedStep } from './translate.js';
import { SqlError } from './types.js';

/** What a rebuild needs to know about the table, read from sqlite_master. */
export interface TableSchema {
  /** The CREATE TABLE text SQLite keeps. */
  readonly createSql: string;
  /** CREATE INDEX / CREATE TRIGGER texts on the table (not the automatic indexes of constraints). */
  readonly indexesAndTriggers: readonly string[];
  /** Every view of the database in creation order (a view over the table must be recreated after it). */
  readonly views: readonly { readonly name: string; readonly sql: string }[];
  readonly hasPrimaryKey: boolean;
  /** Other tables whose foreign keys reference this one. */
  readonly referencedBy: readonly string[];
}

export interface TableChange {
  /** Table constraints to add, as SQLite text (`CONSTRAINT "t_pkey" PRIMARY KEY ("id")`). */
  readonly constraints: readonly string[];
  /** Columns that become NOT NULL (primary key columns, SET NOT NULL). */
  readonly notNull: ReadonlySet<string>;
  readonly addsPrimaryKey: boolean;
}

/** Prefix of the table holding the new shape while the rows are copied; never visible to clients. */
export const REBUILD_TABLE_PREFIX = `${INTERNAL_TABLE_PREFIX}rebuild_`;

const TABLE_CONSTRAINT_START = /^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)\b/i;
const GENERATED = /\bGENERATED\s+ALWAYS\s+AS\s*\(/i;

interface Element {
  readonly text: string;
  /** The column name, or null for a table constraint. */
  readonly column: string | null;
  readonly generated: boolean;
}

/** The SQLite steps that give `table` its new constraints, keeping its rows, indexes and views. */
export function rebuildSteps(table: string, schema: TableSchema, change: TableChange): TranslatedStep[] {
  const others = schema.referencedBy.filter((name) => name !== table);
  if (others.length > 0) {
    throw unsupported(`ALTER TABLE ADD CONSTRAINT or SET NOT NULL on "${table}", which foreign keys of "${others[0] ?? ''}" reference`);
  }
  if (change.addsPrimaryKey && schema.hasPrimaryKey) {
    throw new SqlError('42P16', `multiple primary keys for table "${table}" are not allowed`);
  }
  const elements = tableElements(schema.createSql);
  for (const column of change.notNull) {
    if (!elements.some((e) => e.column === column)) throw new SqlError('42703', `column "${column}" of relation "${table}" does not exist`);
  }
  const newTable = `${REBUILD_TABLE_PREFIX}${table}`;
  const body = [
    ...elements.map((e) => (e.column !== null && change.notNull.has(e.column) && !hasNotNull(e.text) ? `${e.text} NOT NULL` : e.text)),
    ...change.constraints,
  ];
  // Generated columns are computed again in the new table; only stored values are copied.
  const copied = elements.filter((e) => e.column !== null && !e.generated).map((e) => quoteIdent(e.column as string)).join(', ');
  const steps: TranslatedStep[] = [
    { sql: `CREATE TABLE ${quoteIdent(newTable)} (${body.join(', ')})` },
    { sql: `INSERT INTO ${quoteIdent(newTable)} (${copied}) SELECT ${copied} FROM ${quoteIdent(table)}` },
  ];
  if (/\bAUTOINCREMENT\b/i.test(maskQuoted(schema.createSql))) steps.push(...keepSequence(table, newTable));
  // Views are dropped and recreated: SQLite refuses to rename a table while a view names a missing one.
  steps.push(...schema.views.map((view) => ({ sql: `DROP VIEW ${quoteIdent(view.name)}` })));
  steps.push({ sql: `DROP TABLE ${quoteIdent(table)}` });
  steps.push({ sql: `ALTER TABLE ${quoteIdent(newTable)} RENAME TO ${quoteIdent(table)}` });
  steps.push(...schema.indexesAndTriggers.map((sql) => ({ sql })));
  steps.push(...schema.views.map((view) => ({ sql: view.sql })));
  return steps;
}

/** A sequence never goes back: the new table's AUTOINCREMENT counter continues the old one's. */
function keepSequence(table: string, newTable: string): TranslatedStep[] {
  const oldName = quoteLiteral(table);
  const newName = quoteLiteral(newTable);
  return [
    {
      sql: `INSERT INTO sqlite_sequence (name, seq) SELECT ${newName}, seq FROM sqlite_sequence WHERE name = ${oldName} ` +
        `AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ${newName})`,
      onlyIfTableExists: 'sqlite_sequence',
    },
    {
      sql: `UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = ${oldName}), 0)) WHERE name = ${newName}`,
      onlyIfTableExists: 'sqlite_sequence',
    },
  ];
}

/** The column definitions and table constraints of a CREATE TABLE text, as written. */
export function tableElements(createSql: string): Element[] {
  const open = maskQuoted(createSql).indexOf('(');
  const close = open < 0 ? -1 : closingParen(createSql, open);
  if (close < 0) throw new SqlError('XX000', 'cannot read the table definition to rebuild it');
  return splitTopLevel(createSql.slice(open + 1, close)).map((text) => {
    const masked = maskQuoted(text).trim();
    if (TABLE_CONSTRAINT_START.test(masked)) return { text, column: null, generated: false };
    const name = /^\s*("(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[^\s]+)/.exec(text)?.[1] ?? '';
    const column = /^[`[]/.test(name) ? name.slice(1, -1) : unquoteIdentifier(name);
    return { text, column, generated: GENERATED.test(maskQuoted(text)) };
  });
}

/** A column definition says NOT NULL itself (not inside a CHECK or DEFAULT expression). */
function hasNotNull(definition: string): boolean {
  let text = maskQuoted(definition);
  for (let i = 0; i < 100 && /\([^()]*\)/.test(text); i++) text = text.replace(/\([^()]*\)/g, ' ');
  return /\bNOT\s+NULL\b/i.test(text);
}
