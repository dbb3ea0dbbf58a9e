import { parseUpdate } from '../../backfill/parse-update.js';
import { normalizeStatement } from '../../migrations/split-statements.js';
import { findWord, isWord, readName, spanOf } from '../parse/tokens.js';
import type { Rule, RuleContext, Token } from '../types.js';
import { ALL_PHASES, hit, pg } from './helpers.js';

export const unbatchedDml: Rule = {
  id: 'unbatched-dml',
  severity: 'warning',
  dialects: ['postgres', 'mysql'],
  phases: ALL_PHASES,
  summary: 'UPDATE or DELETE of many rows in one statement',
  why: 'One statement over a big table runs as one long transaction: it locks every row it touches until it commits (app writes to them wait), bloats (PostgreSQL) or fills the undo log (InnoDB), and lags replicas. tandem runs a single-table `UPDATE t SET … [WHERE …]` in the backfill section in short keyset batches; anywhere else, or in another form, it runs as one statement.',
  lock: 'Row locks on every row touched, until the statement commits.',
  fix: 'Move the UPDATE to the `-- tandem:backfill` section as a single-table `UPDATE t SET … WHERE …` (no joins, CTEs, ORDER BY/LIMIT or RETURNING), which tandem batches; delete old rows in batches from a job.',
  examples: {
    bad: [{ sql: "UPDATE users SET locale = 'en_US' WHERE locale IS NULL;", phase: 'expand' }, { sql: 'DELETE FROM events WHERE created_at < now() - interval \'90 days\';' }, { sql: 'UPDATE users u SET plan = p.name FROM plans p WHERE p.id = u.plan_id;', phase: 'backfill' }],
    good: [{ sql: "UPDATE users SET locale = 'en_US' WHERE locale IS NULL;", phase: 'backfill' }, { sql: "UPDATE settings SET value = 'on' WHERE id = 1;" }, { sql: 'CREATE TABLE t (id int, v int);\nUPDATE t SET v = 1;' }],
  },
  check(context) {
    const tokens = context.statement.tokens;
    const kind = dmlKind(context);
    if (!kind) return [];
    const table = dmlTable(context, tokens, kind);
    if (!table || context.isNewTable(table) || pointLookup(tokens)) return [];
    const where = findWord(tokens, 0, ['WHERE'], 0);
    const span = spanOf(tokens, 0, where > 0 ? where - 1 : tokens.length - 1);
    if (context.phase === 'backfill' && kind === 'UPDATE') {
      const update = parseUpdate(normalizeStatement(context.statement.sql, context.dialect), context.dialect);
      if (!update || update.batchable) return [];
      return [hit(span, `this UPDATE of ${table} cannot be batched (${update.reason}): it runs as one long transaction`)];
    }
    const where_ = where > 0 ? '' : ' without WHERE';
    return [hit(span, `${kind}${where_} of ${table} outside a backfill section runs as one statement: one long transaction holding every row it touches`)];
  },
};

function dmlKind(context: RuleContext): 'UPDATE' | 'DELETE' | null {
  if (context.statement.pg) return context.statement.pg.type === 'UpdateStmt' ? 'UPDATE' : context.statement.pg.type === 'DeleteStmt' ? 'DELETE' : null;
  const first = context.statement.tokens[0];
  return isWord(first, 'UPDATE') ? 'UPDATE' : isWord(first, 'DELETE') ? 'DELETE' : null;
}

function dmlTable(context: RuleContext, tokens: Token[], kind: 'UPDATE' | 'DELETE'): string {
  const node = pg(context, kind === 'UPDATE' ? 'UpdateStmt' : 'DeleteStmt');
  if (node) return String(node.relation?.relname ?? '');
  let i = 1;
  while (isWord(tokens[i], 'LOW_PRIORITY', 'IGNORE', 'QUICK', 'FROM')) i++;
  return readName(tokens, i, 'mysql').name;
}

/** `WHERE id = 42` / `WHERE id IN (1, 2)`: a handful of rows, not a bulk change. */
function pointLookup(tokens: Token[]): boolean {
  const where = findWord(tokens, 0, ['WHERE'], 0);
  if (where < 0) return false;
  const rest = tokens.slice(where + 1).filter((t) => t.depth === 0);
  const isKey = (t: Token | undefined) => t !== undefined && (t.kind === 'word' || t.kind === 'quoted') && /(^|_)id$/i.test(t.upper);
  const isLiteral = (t: Token | undefined) => t !== undefined && (t.kind === 'number' || t.kind === 'string');
  return rest.length >= 3 && isKey(rest[0]) && ((rest[1]?.text === '=' && isLiteral(rest[2]) && rest.length === 3) || (isWord(rest[1], 'IN') && rest.length <= 4));
}
