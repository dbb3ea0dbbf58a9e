import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, hit, pgAlterTable, pgAtLeast } from './helpers.js';

export const detachPartitionBlocking: Rule = {
  id: 'detach-partition-blocking',
  severity: 'error',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'DETACH PARTITION without CONCURRENTLY',
  why: 'A plain DETACH PARTITION takes ACCESS EXCLUSIVE on the partitioned (parent) table: every query on any partition waits, and queues behind it while it waits for its lock.',
  lock: 'ACCESS EXCLUSIVE on the parent table.',
  fix: 'ALTER TABLE parent DETACH PARTITION child CONCURRENTLY (PostgreSQL 14+; tandem runs it outside a transaction).',
  examples: { bad: [{ sql: 'ALTER TABLE events DETACH PARTITION events_2020;' }], good: [{ sql: 'ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;' }] },
  check(context) {
    const hits: Hit[] = [];
    const alter = pgAlterTable(context);
    if (!alter || alter.isNew) return hits;
    for (const command of alter.commands) {
      if (command.subtype !== 'AT_DetachPartition' || command.cmd.def?.PartitionCmd?.concurrent) continue;
      const fix = pgAtLeast(context, 14) ? undefined : `PostgreSQL ${context.versions.postgres.join('.')} has no DETACH … CONCURRENTLY: detach at a quiet time with a short lock_timeout and retries`;
      hits.push(hit(command.span, `detaches a partition of ${alter.table} under ACCESS EXCLUSIVE on the whole partitioned table`, fix ? { fix } : {}));
    }
    return hits;
  },
};
