import { spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, pg, pgAtLeast } from './helpers.js';

export const reindexBlocking: Rule = {
  id: 'reindex-blocking',
  severity: 'error',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'REINDEX without CONCURRENTLY',
  why: 'REINDEX locks out writes to the table (and reads that would use the index) for the whole rebuild.',
  lock: 'SHARE on the table and ACCESS EXCLUSIVE on the index, for the rebuild.',
  fix: 'REINDEX … CONCURRENTLY (PostgreSQL 12+); before 12, CREATE INDEX CONCURRENTLY a twin, then drop the old one.',
  examples: { bad: [{ sql: 'REINDEX INDEX users_email_idx;' }, { sql: 'REINDEX TABLE users;' }], good: [{ sql: 'REINDEX INDEX CONCURRENTLY users_email_idx;' }] },
  check(context) {
    const node = pg(context, 'ReindexStmt');
    if (!node || (node.params ?? []).some((p: any) => p.DefElem?.defname === 'concurrently')) return [];
    const fix = pgAtLeast(context, 12) ? undefined : 'PostgreSQL before 12 has no REINDEX CONCURRENTLY: build a twin with CREATE INDEX CONCURRENTLY and drop the old index';
    return [hit(spanOf(context.statement.tokens, 0, context.statement.tokens.length - 1), 'REINDEX without CONCURRENTLY blocks writes to the table for the whole rebuild', fix ? { fix } : {})];
  },
};
