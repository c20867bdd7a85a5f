// SQLite errors → Postgres SQLSTATEs, with Postgres-like messages so clients and ORMs
// that match on codes (unique violation, undefined table, …) behave as with Postgres.

import { isStackOverflow, stackDepthExceeded } from './parse.js';
import { REBUILD_TABLE_PREFIX } from './rebuild.js';
import { SqlError } from './types.js';

interface SqliteErrorLike {
  readonly message: string;
  readonly code: string;
}

function isSqliteError(error: unknown): error is SqliteErrorLike {
  if (!(error instanceof Error)) return false;
  const code: unknown = (error as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

type Rule = readonly [RegExp, (match: RegExpExecArray) => SqlError];

const UNIQUE_RULE: Rule = [/^UNIQUE constraint failed: (.+)$/, (m) => uniqueViolation(m[1] ?? '', false)];
const PRIMARY_RULE: Rule = [/^PRIMARY KEY constraint failed: (.+)$/, (m) => uniqueViolation(m[1] ?? '', true)];

const MESSAGE_RULES: readonly Rule[] = [
  UNIQUE_RULE,
  PRIMARY_RULE,
  [/^NOT NULL constraint failed: ([^.]+)\.(.+)$/, (m) =>
    new SqlError('23502', `null value in column "${m[2] ?? ''}" of relation "${m[1] ?? ''}" violates not-null constraint`)],
  [/^FOREIGN KEY constraint failed$/, () =>
    new SqlError('23503', 'insert or update or delete violates foreign key constraint')],
  [/^CHECK constraint failed: (.+)$/, (m) => new SqlError('23514', `new row violates check constraint "${m[1] ?? ''}"`)],
  [/^no such table: (?:main\.)?(.+)$/, (m) => new SqlError('42P01', `relation "${m[1] ?? ''}" does not exist`)],
  [/^no such view: (?:main\.)?(.+)$/, (m) => new SqlError('42P01', `view "${m[1] ?? ''}" does not exist`)],
  [/^no such index: (?:main\.)?(.+)$/, (m) => new SqlError('42704', `index "${m[1] ?? ''}" does not exist`)],
  [/^no such column: "*(.+?)"*$/, (m) => new SqlError('42703', `column "${m[1] ?? ''}" does not exist`)],
  [/^table (\S+) has no column named (.+)$/, (m) => new SqlError('42703', `column "${m[2] ?? ''}" of relation "${m[1] ?? ''}" does not exist`)],
  [/^(?:table|view) "?([^"]+)"? already exists$/, (m) => new SqlError('42P07', `relation "${m[1] ?? ''}" already exists`)],
  [/^index (\S+) already exists$/, (m) => new SqlError('42P07', `relation "${m[1] ?? ''}" already exists`)],
  [/^duplicate column name: (.+)$/, (m) => new SqlError('42701', `column "${m[1] ?? ''}" specified more than once`)],
  [/^ambiguous column name: (.+)$/, (m) => new SqlError('42702', `column reference "${m[1] ?? ''}" is ambiguous`)],
  [/^no such function: (.+)$/, (m) => new SqlError('42883', `function ${m[1] ?? ''}() does not exist`)],
  [/^wrong number of arguments to function (.+)\(\)$/, (m) => new SqlError('42883', `function ${m[1] ?? ''} does not exist with these arguments`)],
  [/^no such savepoint: (.+)$/, (m) => new SqlError('3B001', `savepoint "${m[1] ?? ''}" does not exist`)],
  [/^table (\S+) has (\d+) columns but (\d+) values were supplied$/, () => new SqlError('42601', 'INSERT has more expressions than target columns')],
  [/^(\d+) values for (\d+) columns$/, () => new SqlError('42601', 'INSERT has more target columns than expressions')],
  [/syntax error/, (m) => new SqlError('42601', `syntax error: ${m.input}`)],
  [/^attempt to write a readonly database$/, () => new SqlError('25006', 'cannot execute this statement in a read-only transaction')],
  [/^cannot (?:commit|rollback) - no transaction is active$/, () => new SqlError('25P01', 'there is no transaction in progress')],
  [/^cannot start a transaction within a transaction$/, () => new SqlError('25001', 'there is already a transaction in progress')],
  [/^integer overflow$/, () => new SqlError('22003', 'integer out of range')],
  [/^malformed JSON$/, () => new SqlError('22P02', 'invalid input syntax for type json')],
  [/^database is locked$/, () => new SqlError('55P03', 'could not obtain lock: database is locked')],
  // SQLite's own limits and refusals, where Postgres would do the thing: say what is not supported.
  [/^Cannot add a column with non-constant default$/, () => new SqlError('0A000', 'ALTER TABLE ADD COLUMN with a non-constant default (such as now()) is not supported', {
    hint: 'Add the column without a default, then UPDATE it.',
  })],
  [/^Cannot add a NOT NULL column with default value NULL$/, () => new SqlError('23502', 'the column being added contains null values: it is NOT NULL and has no default', {
    hint: 'Give the column a DEFAULT, or add it nullable, fill it, and then SET NOT NULL.',
  })],
  [/^cannot drop PRIMARY KEY column: "?([^"]+)"?$/, (m) => new SqlError('0A000', `dropping primary key column "${m[1] ?? ''}" is not supported`)],
  [/^cannot drop UNIQUE column: "?([^"]+)"?$/, (m) => new SqlError('0A000', `dropping column "${m[1] ?? ''}", which a UNIQUE constraint covers, is not supported`)],
  [/^cannot modify (\S+) because it is a view$/, (m) => new SqlError('0A000', `cannot change view "${m[1] ?? ''}": writing through views is not supported`, {
    hint: 'Write to the view\'s underlying table.',
  })],
  [/^cannot (INSERT into|UPDATE) generated column "?([^"]+)"?$/, (m) =>
    new SqlError('428C9', `${m[1] === 'UPDATE' ? 'column' : 'cannot insert a non-DEFAULT value into column'} "${m[2] ?? ''}"${m[1] === 'UPDATE' ? ' can only be updated to DEFAULT' : ''}`, {
      detail: `Column "${m[2] ?? ''}" is a generated column.`,
    })],
  [/^too many terms in compound SELECT$/, () => new SqlError('54000', 'too many UNION/INTERSECT/EXCEPT terms in one SELECT (at most 500)')],
];

/** "t.a, t.b" → `duplicate key value violates unique constraint "t_a_b_key"` (Postgres' default name). */
function uniqueViolation(columnsText: string, primary: boolean): SqlError {
  const columns = columnsText.split(',').map((c) => c.trim());
  const table = columns[0]?.split('.')[0] ?? '';
  const names = columns.map((c) => c.split('.').slice(1).join('.'));
  const constraint = primary ? `${table}_pkey` : `${table}_${names.join('_')}_key`;
  return new SqlError('23505', `duplicate key value violates unique constraint "${constraint}"`, {
    detail: `Key (${names.join(', ')}) already exists.`,
  });
}

/** Converts any error from execution into a SqlError; SqlErrors pass through unchanged. */
export function toSqlError(error: unknown): SqlError {
  if (error instanceof SqlError) return error;
  if (isSqliteError(error)) {
    if (error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      const match = /: (.+)$/.exec(error.message);
      return uniqueViolation(match?.[1] ?? '', true);
    }
    // A table being rebuilt (ALTER TABLE ADD CONSTRAINT) is the user's table under a temporary name.
    const message = error.message.replaceAll(REBUILD_TABLE_PREFIX, '');
    for (const [pattern, build] of MESSAGE_RULES) {
      const match = pattern.exec(message);
      if (match !== null) return build(match);
    }
    return new SqlError('XX000', error.message, { detail: error.code });
  }
  if (isStackOverflow(error)) return stackDepthExceeded();
  if (error instanceof RangeError) return new SqlError('22003', error.message);
  const message = error instanceof Error ? error.message : String(error);
  return new SqlError('XX000', message);
}

/** Postgres refuses VACUUM inside BEGIN … COMMIT. */
export function maintenanceInTransactionBlock(tag: string): SqlError {
  return new SqlError('25001', `${tag} cannot run inside a transaction block`);
}

export function readOnlyTransaction(command: string): SqlError {
  return new SqlError('25006', `cannot execute ${command} in a read-only transaction`);
}
