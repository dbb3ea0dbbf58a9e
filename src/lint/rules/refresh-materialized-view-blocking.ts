import { spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, pg } from './helpers.js';

export const refreshMaterializedViewBlocking: Rule = {
  id: 'refresh-materialized-view-blocking',
  severity: 'warning',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'REFRESH MATERIALIZED VIEW without CONCURRENTLY',
  why: 'A plain refresh holds ACCESS EXCLUSIVE on the view while its query runs: every read of the view waits.',
  lock: 'ACCESS EXCLUSIVE on the materialized view for the whole refresh.',
  fix: 'REFRESH MATERIALIZED VIEW CONCURRENTLY (needs a unique index on the view).',
  examples: { bad: [{ sql: 'REFRESH MATERIALIZED VIEW daily_totals;' }], good: [{ sql: 'REFRESH MATERIALIZED VIEW CONCURRENTLY daily_totals;' }] },
  check(context) {
    const node = pg(context, 'RefreshMatViewStmt');
    if (!node || node.concurrent || node.skipData) return [];
    return [hit(spanOf(context.statement.tokens, 0, context.statement.tokens.length - 1), `refreshes ${node.relation?.relname} under ACCESS EXCLUSIVE: reads of the view wait for the whole refresh`)];
  },
};
