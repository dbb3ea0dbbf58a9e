import type { TableName } from '../db/dialect-adapter.js';
import type { SqlDialect } from '../migrations/split-statements.js';
import type { BatchableUpdate, UnbatchableUpdate } from './parse-update.js';
import { identifierOf, isKeyword, tokenize, type Token } from './tokenize.js';

/** Where a locking or conflict clause starts, which the batch's key range must come before. */
const TAIL_START = ['LOCK', 'FOR', 'ON'];
/** What starts a join after the source table. */
const JOINS = ['JOIN', 'INNER', 'LEFT', 'RIGHT', 'STRAIGHT_JOIN', 'CROSS', 'NATURAL', 'FULL'];

/**
 * Recognise `INSERT [IGNORE] INTO target [(columns)] SELECT … FROM source [AS a] [WHERE …]
 * [LOCK IN SHARE MODE | FOR SHARE | FOR UPDATE] [ON DUPLICATE KEY UPDATE … | ON CONFLICT …]`, a copy
 * from one table, which tandem runs in keyset batches over the source's primary key, as it does a
 * single-table UPDATE. The batch's key range joins the WHERE; the clauses after it stay after it.
 * Anything that a batch would change the meaning of (a join, DISTINCT, GROUP BY, ORDER BY, LIMIT, a
 * set operation, RETURNING) is reported with the reason, and the runner runs it as one statement.
 * Null: not an INSERT … SELECT.
 */
export function parseInsertSelect(sql: string, dialect: SqlDialect): BatchableUpdate | UnbatchableUpdate | null {
  const tokens = tokenize(sql, dialect);
  if (!isKeyword(tokens[0], 'INSERT')) return null;
  const select = tokens.findIndex((token) => token.depth === 0 && isKeyword(token, 'SELECT'));
  if (select < 0 || tokens.slice(1, select).some((token) => token.depth === 0 && isKeyword(token, 'VALUES', 'VALUE', 'SET'))) return null;
  if (tokens.slice(1, select).some((token) => token.depth === 0 && isKeyword(token, 'WITH'))) return { batchable: false, reason: 'it has a WITH clause' };

  const topLevel = tokens.slice(select + 1).filter((token) => token.depth === 0);
  const from = topLevel.findIndex((token, k) => isKeyword(token, 'FROM') && !isKeyword(topLevel[k - 1], 'DISTINCT'));
  if (from < 0) return { batchable: false, reason: 'its SELECT reads no table' };
  if (isKeyword(topLevel[0], 'DISTINCT', 'DISTINCTROW')) return { batchable: false, reason: 'it selects DISTINCT rows' };
  const blocker = topLevel.find((token) => isKeyword(token, 'UNION', 'INTERSECT', 'EXCEPT', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'WINDOW', 'RETURNING', 'INTO'));
  if (blocker) return { batchable: false, reason: `its SELECT has a ${blocker.text.toUpperCase()} clause` };

  // The source: one table, perhaps schema-qualified, perhaps with an alias.
  const after = topLevel.slice(from + 1);
  let i = 0;
  const parts: Token[] = [];
  while (after[i] && (after[i]!.kind === 'word' || after[i]!.kind === 'quoted')) {
    parts.push(after[i]!);
    if (after[i + 1]?.text === '.') i += 2;
    else {
      i++;
      break;
    }
  }
  if (parts.length === 0 || parts.length > 2 || isKeyword(parts[0], 'ONLY', 'LATERAL')) return { batchable: false, reason: 'its source table could not be read' };
  const tableSql = sql.slice(parts[0]!.start, parts.at(-1)!.end);
  let alias: string | null = null;
  if (isKeyword(after[i], 'AS')) i++;
  if (after[i] && (after[i]!.kind === 'quoted' || (after[i]!.kind === 'word' && !isKeyword(after[i], 'WHERE', ...TAIL_START, ...JOINS, 'USE', 'FORCE', 'IGNORE', 'PARTITION', 'TABLESAMPLE')))) {
    alias = after[i]!.text;
    i++;
  }
  const where = isKeyword(after[i], 'WHERE') ? after[i]! : null;
  if (where) i++;
  const rest = after.slice(i);
  const tail = rest.find((token) => isKeyword(token, ...TAIL_START));
  if (!where && rest[0] !== undefined && rest[0] !== tail) return { batchable: false, reason: rest[0].text === ',' || isKeyword(rest[0], ...JOINS) ? 'it reads several tables' : `"${rest[0].text}" follows its source table` };
  if (where && rest.slice(0, tail ? rest.indexOf(tail) : rest.length).some((token) => isKeyword(token, 'JOIN', 'STRAIGHT_JOIN'))) return { batchable: false, reason: 'it reads several tables' };

  // The locking clause: from the tail's start to its conflict clause, if it starts with one.
  const conflict = tail ? rest.slice(rest.indexOf(tail) + 1).find((token) => isKeyword(token, 'ON')) : undefined;
  const lockRows = tail && !isKeyword(tail, 'ON') ? sql.slice(tail.start, conflict ? conflict.start : sql.length).trim() : '';
  const table: TableName = parts.length === 2 ? { schema: identifierOf(parts[0]!, dialect), name: identifierOf(parts[1]!, dialect) } : { name: identifierOf(parts[0]!, dialect) };
  const headEnd = where ? where.start : tail ? tail.start : sql.length;
  return {
    batchable: true,
    table,
    qualifier: alias ?? tableSql,
    head: sql.slice(0, headEnd).trim(),
    condition: where ? sql.slice(where.end, tail ? tail.start : sql.length).trim() || null : null,
    fromSql: alias ? `${tableSql} AS ${alias}` : tableSql,
    tail: tail ? sql.slice(tail.start).trim() : '',
    ...(lockRows ? { lockRows } : {}),
  };
}
