import { spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, pg } from './helpers.js';

export const dropIndexBlocking: Rule = {
  id: 'drop-index-blocking',
  severity: 'warning',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'DROP INDEX without CONCURRENTLY',
  why: 'DROP INDEX takes ACCESS EXCLUSIVE on the index\'s table. The drop itself is quick, but it waits for every running query on the table, and all queries queue behind it meanwhile.',
  lock: 'ACCESS EXCLUSIVE on the table (briefly, once granted).',
  fix: 'Use DROP INDEX CONCURRENTLY (tandem runs it outside a transaction).',
  examples: {
    bad: [{ sql: 'DROP INDEX users_email_idx;' }],
    good: [{ sql: 'DROP INDEX CONCURRENTLY users_email_idx;' }],
  },
  check(context) {
    const node = pg(context, 'DropStmt');
    if (!node || node.removeType !== 'OBJECT_INDEX' || node.concurrent) return [];
    const tokens = context.statement.tokens;
    return [hit(spanOf(tokens, 0, tokens.length - 1), 'drops an index without CONCURRENTLY: it waits for all queries on the table while blocking new ones')];
  },
};
