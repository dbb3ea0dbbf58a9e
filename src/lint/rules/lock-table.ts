import { isWord, spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, pg } from './helpers.js';

export const lockTable: Rule = {
  id: 'lock-table',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: ALL_PHASES,
  summary: 'An explicit LOCK TABLE(S)',
  why: 'An explicit lock holds the table for the rest of the transaction (PostgreSQL) or until UNLOCK TABLES (MySQL); in the default ACCESS EXCLUSIVE / WRITE mode nothing else reads or writes it meanwhile, and lock_timeout does not bound how long it is held.',
  lock: 'What it names: ACCESS EXCLUSIVE by default on PostgreSQL, READ/WRITE on MySQL.',
  fix: 'Let each statement take the lock it needs for as short as possible; serialize with an advisory lock (pg_advisory_xact_lock / GET_LOCK) instead of a table lock.',
  examples: { bad: [{ sql: 'LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;' }, { sql: 'LOCK TABLES accounts WRITE;', dialect: 'mysql' }], good: [{ sql: 'SELECT pg_advisory_xact_lock(42);' }] },
  check(context) {
    const tokens = context.statement.tokens;
    const all = spanOf(tokens, 0, tokens.length - 1);
    const node = pg(context, 'LockStmt');
    if (node) {
      const tables = (node.relations ?? []).map((r: any) => r.RangeVar?.relname).filter((t: string) => !context.isNewTable(t));
      return tables.length > 0 ? [hit(all, `locks ${tables.join(', ')} explicitly until the transaction ends`)] : [];
    }
    if (context.dialect === 'mysql' && isWord(tokens[0], 'LOCK') && isWord(tokens[1], 'TABLE', 'TABLES')) return [hit(all, 'locks tables explicitly until UNLOCK TABLES')];
    return [];
  },
};
