import nodeSqlParser from 'node-sql-parser';
import type { Token } from '../types.js';
import { findWord, isWord, splitClauses, tokenIndexAt } from './tokens.js';

const parser = new nodeSqlParser.Parser();

export type MysqlParse = { ok: true; ast: any } | { ok: false; message: string; offset: number };

/**
 * node-sql-parser's MySQL grammar misses valid statements a migration commonly holds: stored
 * program bodies (triggers, procedures, MariaDB's anonymous blocks), table maintenance, and some
 * ALTER TABLE clauses. Those
 * are accepted here and analysed from their tokens; a rejection anywhere else is a parse error.
 */
const ALTER_CLAUSES_OUTSIDE_GRAMMAR = new Set(['ALTER', 'PARTITION', 'FORCE', 'RENAME', 'DISCARD', 'IMPORT', 'CONVERT', 'REMOVE', 'REORGANIZE', 'EXCHANGE', 'REBUILD', 'OPTIMIZE', 'ANALYZE', 'CHECK', 'REPAIR', 'ORDER', 'WITH', 'WITHOUT', 'SECONDARY_ENGINE', 'PAGE_COMPRESSED', 'ENCRYPTED', 'STATS_PERSISTENT', 'STATS_AUTO_RECALC', 'TABLESPACE', 'UNION', 'INSERT_METHOD', 'PACK_KEYS', 'PASSWORD']);
const ROUTINES = ['TRIGGER', 'PROCEDURE', 'FUNCTION', 'EVENT', 'VIEW'];
const MAINTENANCE = ['OPTIMIZE', 'ANALYZE', 'REPAIR', 'CHECK', 'CHECKSUM', 'FLUSH', 'DELIMITER', 'GRANT', 'REVOKE', 'DO', 'CALL', 'HANDLER', 'INSTALL', 'UNINSTALL', 'XA', 'PURGE', 'KILL', 'LOAD'];

/**
 * What the grammar lacks, rewritten to something of the same length so that error offsets still
 * point into the original text: `<=>` (NULL-safe equality) becomes ` = `, and MariaDB's
 * `ALGORITHM=NOCOPY` becomes `ALGORITHM=COPY  ` (the rules read the algorithm from the tokens).
 */
function forGrammar(sql: string, tokens: Token[]): string {
  let text = sql;
  for (let i = 2; i < tokens.length; i++) {
    const [a, b, c] = [tokens[i - 2]!, tokens[i - 1]!, tokens[i]!];
    if (isWord(a, 'ALGORITHM') && b.text === '=' && isWord(c, 'NOCOPY')) text = `${text.slice(0, c.start)}COPY  ${text.slice(c.end)}`;
  }
  for (let i = 0; i + 2 < tokens.length; i++) {
    const [a, b, c] = [tokens[i]!, tokens[i + 1]!, tokens[i + 2]!];
    if (a.text === '<' && b.text === '=' && c.text === '>' && b.start === a.end && c.start === b.end) {
      text = `${text.slice(0, a.start)} = ${text.slice(c.end)}`;
    }
  }
  return text;
}

export function parseMysql(sql: string, tokens: Token[]): MysqlParse {
  try {
    const ast = parser.astify(forGrammar(sql, tokens), { database: 'mysql' });
    return { ok: true, ast: Array.isArray(ast) ? ast[0] : ast };
  } catch (error) {
    const location = (error as { location?: { start?: { offset?: number } } }).location;
    const offset = location?.start?.offset ?? 0;
    if (outsideGrammar(tokens, offset)) return { ok: true, ast: null };
    const message = String((error as Error).message).replace(/^Expected .* but (.*) found\.$/s, 'syntax error: unexpected $1');
    return { ok: false, message, offset };
  }
}

function outsideGrammar(tokens: Token[], errorOffset: number): boolean {
  const first = tokens[0];
  if (!first) return true;
  if (isWord(first, ...MAINTENANCE)) return true;
  // MariaDB's anonymous block, a stored program body of its own: BEGIN NOT ATOMIC … END.
  if (isWord(first, 'BEGIN') && isWord(tokens[1], 'NOT') && isWord(tokens[2], 'ATOMIC')) return true;
  if (isWord(first, 'CREATE', 'ALTER', 'DROP')) {
    // CREATE [OR REPLACE] [DEFINER = x] [SQL SECURITY y] [ALGORITHM = z] TRIGGER|PROCEDURE|…
    const routine = findWord(tokens, 1, [...ROUTINES, 'TABLE', 'INDEX', 'DATABASE', 'SCHEMA']);
    if (routine > 0 && ROUTINES.includes(tokens[routine]!.upper)) return true;
  }
  if (isWord(first, 'ALTER')) {
    const table = findWord(tokens, 1, ['TABLE']);
    if (table < 0 || table > 3) return false;
    // ALTER ONLINE|IGNORE TABLE (MariaDB / old MySQL) and IF [NOT] EXISTS are valid but unknown to the grammar.
    if (table > 1) return true;
    if (tokens.some((token) => isWord(token, 'EXISTS'))) return true;
    const clauses = splitClauses(tokens, table + 2);
    const at = tokenIndexAt(tokens, errorOffset);
    const clause = clauses.find((c) => at >= c.first && at <= c.last + 1) ?? clauses[clauses.length - 1];
    if (clause === undefined) return false;
    // ADD PARTITION PARTITIONS n (HASH/KEY partitions) is valid too; ADD PARTITION (…) the grammar knows.
    if (isWord(tokens[clause.first], 'ADD') && isWord(tokens[clause.first + 1], 'PARTITION')) return true;
    return ALTER_CLAUSES_OUTSIDE_GRAMMAR.has(tokens[clause.first]!.upper);
  }
  return false;
}
