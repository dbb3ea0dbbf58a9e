import type { TableName } from '../db/dialect-adapter.js';
import type { SqlDialect } from '../migrations/split-statements.js';
import { parseInsertSelect } from './parse-insert-select.js';
import { identifierOf, isKeyword, tokenize, type Token } from './tokenize.js';

/** A backfill statement tandem runs in keyset batches: a single-table UPDATE, or an INSERT … SELECT from one table (parse-insert-select.ts). */
export interface BatchableUpdate {
  batchable: true;
  table: TableName;
  /** How the statement refers to the table in its SET and WHERE: the alias, else the table as written. */
  qualifier: string;
  /** `UPDATE … SET …`: everything before WHERE. */
  head: string;
  /** The WHERE condition, or null when the statement updates every row. */
  condition: string | null;
  /** The table reference as written, with its alias (for SELECTs over the same rows). */
  fromSql: string;
  /** What follows the WHERE condition (an INSERT … SELECT's locking or conflict clause), or ''. */
  tail: string;
  /** An INSERT … SELECT's locking clause (`LOCK IN SHARE MODE`, `FOR SHARE`, `FOR UPDATE`), or '': the rows it locks. */
  lockRows?: string;
}

export interface UnbatchableUpdate {
  batchable: false;
  reason: string;
}

/**
 * Recognise a single-table `UPDATE t [AS a] SET … [WHERE …]`, the form tandem runs in keyset
 * batches. Anything else (UPDATE … FROM, joins, RETURNING, ORDER BY/LIMIT, CTEs) is reported with
 * the reason, and the runner runs it as one statement.
 */
export function parseUpdate(sql: string, dialect: SqlDialect): BatchableUpdate | UnbatchableUpdate | null {
  const tokens = tokenize(sql, dialect);
  if (isKeyword(tokens[0], 'WITH')) return { batchable: false, reason: 'it starts with a WITH clause' };
  if (!isKeyword(tokens[0], 'UPDATE')) return null;

  let i = 1;
  while (isKeyword(tokens[i], 'ONLY', 'LOW_PRIORITY', 'IGNORE')) i++;
  const tableStart = tokens[i];
  const parts: Token[] = [];
  while (tokens[i] && (tokens[i]!.kind === 'word' || tokens[i]!.kind === 'quoted') && !isKeyword(tokens[i], 'SET')) {
    parts.push(tokens[i]!);
    if (tokens[i + 1]?.text === '.') i += 2;
    else {
      i++;
      break;
    }
  }
  if (!tableStart || parts.length === 0 || parts.length > 2) return { batchable: false, reason: 'its table name could not be read' };
  if (tokens[i]?.text === '*') i++;
  const tableEnd = tokens[i - 1]!.end;

  let alias: string | null = null;
  if (isKeyword(tokens[i], 'AS')) i++;
  if (tokens[i] && (tokens[i]!.kind === 'word' || tokens[i]!.kind === 'quoted') && !isKeyword(tokens[i], 'SET')) {
    alias = tokens[i]!.text;
    i++;
  }
  if (tokens[i]?.text === ',' || isKeyword(tokens[i], 'JOIN', 'INNER', 'LEFT', 'RIGHT', 'STRAIGHT_JOIN', 'CROSS', 'NATURAL')) {
    return { batchable: false, reason: 'it updates several tables' };
  }
  if (!isKeyword(tokens[i], 'SET')) return { batchable: false, reason: 'no SET clause follows the table' };

  const topLevel = tokens.slice(i + 1).filter((token) => token.depth === 0);
  // `a IS [NOT] DISTINCT FROM b` in SET or WHERE is a comparison, not an UPDATE … FROM clause.
  const blocker = topLevel.find((token, k) => isKeyword(token, 'FROM', 'RETURNING', 'ORDER', 'LIMIT') && !(isKeyword(token, 'FROM') && isKeyword(topLevel[k - 1], 'DISTINCT')));
  if (blocker) return { batchable: false, reason: `it has a ${blocker.text.toUpperCase()} clause` };
  const where = topLevel.find((token) => isKeyword(token, 'WHERE'));
  if (where && isKeyword(tokens[tokens.indexOf(where) + 1], 'CURRENT')) return { batchable: false, reason: 'it uses WHERE CURRENT OF' };

  const table: TableName =
    parts.length === 2 ? { schema: identifierOf(parts[0]!, dialect), name: identifierOf(parts[1]!, dialect) } : { name: identifierOf(parts[0]!, dialect) };
  const tableSql = sql.slice(tableStart.start, tableEnd);
  return {
    batchable: true,
    table,
    qualifier: alias ?? tableSql,
    head: sql.slice(0, where ? where.start : sql.length).trim(),
    condition: where ? sql.slice(where.end).trim() : null,
    fromSql: alias ? `${tableSql} AS ${alias}` : tableSql,
    tail: '',
  };
}

/** A backfill statement tandem batches: an UPDATE (parseUpdate) or an INSERT … SELECT (parseInsertSelect); null: neither. */
export function parseBatchable(sql: string, dialect: SqlDialect): BatchableUpdate | UnbatchableUpdate | null {
  return parseUpdate(sql, dialect) ?? parseInsertSelect(sql, dialect);
}

/**
 * The columns the SET clause of an `UPDATE … SET …` assigns, as the database names them (PostgreSQL
 * bare names folded). PostgreSQL's `SET (a, b) = …` counts both; a dotted target is `alias.column`
 * on MySQL and `column.field` (a composite field) on PostgreSQL.
 */
export function assignedColumns(sql: string, dialect: SqlDialect): string[] {
  const tokens = tokenize(sql, dialect);
  const set = tokens.findIndex((token) => token.depth === 0 && isKeyword(token, 'SET'));
  if (set < 0) return [];
  const columns: string[] = [];
  let inTarget = true; // left of the assignment's `=`
  let brackets = 0; // tokenize counts only parentheses; ARRAY[a, b] has commas too
  for (let i = set + 1; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.text === '[') brackets++;
    else if (token.text === ']') brackets = Math.max(0, brackets - 1);
    const topLevel = token.depth === 0 && brackets === 0;
    if (topLevel && isKeyword(token, 'WHERE')) break;
    if (topLevel && token.text === ',') inTarget = true;
    else if (topLevel && token.text === '=') inTarget = false;
    else if (inTarget && (token.kind === 'word' || token.kind === 'quoted')) {
      const dotted = dialect === 'postgres' ? tokens[i - 1]?.text === '.' : tokens[i + 1]?.text === '.';
      if (!dotted) columns.push(identifierOf(token, dialect));
    }
  }
  return columns;
}
