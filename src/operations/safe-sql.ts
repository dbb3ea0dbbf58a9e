import type { OperationContext } from './types.js';
import type { ColumnFacts } from './inspect.js';
import { stringLiteral } from '../db/raw-sql.js';

/**
 * The safe forms of common steps, per dialect. Each returns statements; the runner adds lock
 * timeouts and retries to every one of them.
 */
/** `clauses`: more of the same ALTER, on the new column (its settings: one lock, not one each). */
export function addColumn(context: OperationContext, table: string, definition: string, clauses: string[] = []): string {
  const sql = `ALTER TABLE ${context.quote(table)} ADD COLUMN ${[definition, ...clauses].join(', ')}`;
  // MariaDB 10.3+ and MySQL 8 add a column without copying the table; pinning INSTANT makes the server refuse rather than copy.
  return context.dialect === 'mysql' ? `${sql}, ALGORITHM=INSTANT` : sql;
}

/**
 * The definition of a column that will replace `column` (a type change's twin, a rename's new name),
 * placed right after it on MariaDB, which adds a column anywhere instantly (10.4+): once contract
 * drops the old column, the new one stands where the old one stood. MySQL 8 before 8.0.29 adds
 * instantly only at the end, and PostgreSQL always appends.
 */
export function besideColumn(context: OperationContext, definition: string, column: string): string {
  return context.mariadb ? `${definition} AFTER ${context.quote(column)}` : definition;
}

/**
 * End of a backfill that filled a column, PostgreSQL: the planner's statistics for the table, so
 * that the new app (and, after contract, everyone) reads the new column with its real value
 * distribution, and its expression indexes and extended statistics copies are filled, rather than
 * with none or with those of a half-filled column until autovacuum analyzes it. A sample of the
 * table (30,000 rows at the default statistics target), under a lock that lets the app read and
 * write. MySQL/MariaDB: InnoDB recalculates its persistent statistics on its own once a tenth of the
 * rows changed.
 */
export function analyzeFilled(context: OperationContext, table: string): string[] {
  return context.dialect === 'postgres' ? [`ANALYZE ${context.quote(table)}`] : [];
}

/**
 * `with`: MySQL clauses for the same ALTER, such as dropping the indexes that contain the column,
 * which MariaDB would otherwise refuse to drop it from (error 1072) and MySQL 8 would keep without
 * it. Dropping an index is not instant in MariaDB: NOCOPY, still no rebuild.
 */
export function dropColumn(context: OperationContext, table: string, column: string, withClauses: string[] = []): string {
  const sql = `ALTER TABLE ${context.quote(table)} ${[...withClauses, `DROP COLUMN ${context.quote(column)}`].join(', ')}`;
  if (context.dialect !== 'mysql') return sql;
  const algorithm = !context.mariadb ? 'ALGORITHM=INPLACE, LOCK=NONE' : withClauses.length > 0 ? 'ALGORITHM=NOCOPY' : 'ALGORITHM=INSTANT';
  return `${sql}, ${algorithm}`;
}

/**
 * NOT NULL without a long exclusive lock. PostgreSQL: a CHECK added NOT VALID, validated under a
 * lock that lets reads and writes go on, after which SET NOT NULL uses the check instead of
 * scanning (PG 12+). MySQL: MODIFY rebuilds the table online (INPLACE, LOCK=NONE).
 */
export function setNotNull(context: OperationContext, table: string, column: ColumnFacts, checkName: string): string[] {
  const t = context.quote(table);
  const c = context.quote(column.name);
  if (context.dialect === 'postgres') {
    const check = context.quote(checkName);
    return [
      `ALTER TABLE ${t} ADD CONSTRAINT ${check} CHECK (${c} IS NOT NULL) NOT VALID`,
      `ALTER TABLE ${t} VALIDATE CONSTRAINT ${check}`,
      `ALTER TABLE ${t} ALTER COLUMN ${c} SET NOT NULL`,
      `ALTER TABLE ${t} DROP CONSTRAINT ${check}`,
    ];
  }
  return [`ALTER TABLE ${t} MODIFY ${c} ${mysqlType(column)} NOT NULL${mysqlDefault(column)}${mysqlComment(column)}, ALGORITHM=INPLACE, LOCK=NONE`];
}

export function dropNotNull(context: OperationContext, table: string, column: ColumnFacts): string {
  const t = context.quote(table);
  const c = context.quote(column.name);
  if (context.dialect === 'postgres') return `ALTER TABLE ${t} ALTER COLUMN ${c} DROP NOT NULL`;
  return `ALTER TABLE ${t} MODIFY ${c} ${mysqlType(column)} NULL${mysqlDefault(column)}${mysqlComment(column)}, ALGORITHM=INPLACE, LOCK=NONE`;
}

export function setDefault(context: OperationContext, table: string, column: string, expression: string | null): string {
  const action = expression === null ? 'DROP DEFAULT' : `SET DEFAULT ${expression}`;
  return `ALTER TABLE ${context.quote(table)} ALTER COLUMN ${context.quote(column)} ${action}`;
}

export function renameColumn(context: OperationContext, table: string, from: string, to: string): string {
  return `ALTER TABLE ${context.quote(table)} RENAME COLUMN ${context.quote(from)} TO ${context.quote(to)}`;
}

/**
 * MODIFY and CHANGE re-state the whole column, and what they leave out is reset: a string column's
 * character set and collation to the table's (a silent change of how it compares, and a rebuild), its
 * comment to none. The column's type with its character set and collation:
 */
export function mysqlType(column: ColumnFacts): string {
  return `${column.type}${column.mysql?.collation ?? ''}`;
}

/** The column's COMMENT clause, or ''. */
export function mysqlComment(column: ColumnFacts): string {
  return column.mysql?.comment ? ` COMMENT ${stringLiteral(column.mysql.comment, 'mysql')}` : '';
}

/**
 * The column's default expression, or null for none. MariaDB reports defaults as SQL (quoted
 * strings), and a nullable column without one as `NULL`, which is no default to carry.
 */
export function declaredDefault(column: ColumnFacts): string | null {
  return column.default === 'NULL' ? null : column.default;
}

/** MODIFY re-states the whole column: keep its default. */
function mysqlDefault(column: ColumnFacts): string {
  const expression = declaredDefault(column);
  return expression === null ? '' : ` DEFAULT ${expression}`;
}

/** Statement text for index builds that never block writes. */
export function createIndex(context: OperationContext, options: { table: string; name: string; columns: string[]; unique?: boolean; where?: string }): string {
  const columns = options.columns.map((column) => context.quote(column)).join(', ');
  const unique = options.unique ? 'UNIQUE ' : '';
  if (context.dialect === 'postgres') {
    return `CREATE ${unique}INDEX CONCURRENTLY IF NOT EXISTS ${context.quote(options.name)} ON ${context.quote(options.table)} (${columns})${options.where ? ` WHERE ${options.where}` : ''}`;
  }
  return `ALTER TABLE ${context.quote(options.table)} ADD ${unique}INDEX ${context.quote(options.name)} (${columns}), ALGORITHM=INPLACE, LOCK=NONE`;
}

export function dropIndex(context: OperationContext, table: string, name: string): string {
  if (context.dialect === 'postgres') return `DROP INDEX CONCURRENTLY IF EXISTS ${context.quote(name)}`;
  return `ALTER TABLE ${context.quote(table)} DROP INDEX ${context.quote(name)}, ALGORITHM=INPLACE, LOCK=NONE`;
}
