import { spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, pg } from './helpers.js';

export const vacuumFull: Rule = {
  id: 'vacuum-full',
  severity: 'error',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'VACUUM FULL rewrites the table under ACCESS EXCLUSIVE',
  why: 'VACUUM FULL copies the whole table and its indexes into new files while holding ACCESS EXCLUSIVE: no reads or writes until it is done. (Plain VACUUM is fine, but cannot run in a transaction.)',
  lock: 'ACCESS EXCLUSIVE for the whole rewrite.',
  fix: 'Use plain VACUUM (ANALYZE), or pg_repack / pg_squeeze to reclaim space online.',
  examples: {
    bad: [{ sql: 'VACUUM FULL events;' }, { sql: 'VACUUM (FULL, ANALYZE) events;' }],
    good: [{ sql: 'VACUUM ANALYZE events;' }],
  },
  check(context) {
    const node = pg(context, 'VacuumStmt');
    if (!node || !(node.options ?? []).some((o: any) => o.DefElem?.defname === 'full')) return [];
    return [hit(spanOf(context.statement.tokens, 0, context.statement.tokens.length - 1), 'VACUUM FULL rewrites the table under ACCESS EXCLUSIVE: no reads or writes until it is done')];
  },
};
