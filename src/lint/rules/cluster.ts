import { spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, pg } from './helpers.js';

export const cluster: Rule = {
  id: 'cluster',
  severity: 'error',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'CLUSTER rewrites the table under ACCESS EXCLUSIVE',
  why: 'CLUSTER rewrites the table in index order, holding ACCESS EXCLUSIVE for the whole rewrite: no reads or writes.',
  lock: 'ACCESS EXCLUSIVE for the whole rewrite.',
  fix: 'Use pg_repack --order-by to reorder online, or skip it: the order decays with new writes anyway.',
  examples: { bad: [{ sql: 'CLUSTER events USING events_created_at_idx;' }], good: [{ sql: 'ANALYZE events;' }] },
  check(context) {
    if (!pg(context, 'ClusterStmt')) return [];
    return [hit(spanOf(context.statement.tokens, 0, context.statement.tokens.length - 1), 'CLUSTER rewrites the table under ACCESS EXCLUSIVE: no reads or writes until it is done')];
  },
};
