import { spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, pg, pgAtLeast } from './helpers.js';

export const createPartitionOfBlocking: Rule = {
  id: 'create-partition-of-blocking',
  severity: 'warning',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'CREATE TABLE … PARTITION OF an existing partitioned table',
  why: 'CREATE TABLE … PARTITION OF takes ACCESS EXCLUSIVE on the partitioned table: it waits for every query on any partition to finish, and every later query queues behind it while it waits. Checked on PostgreSQL 15: behind a transaction that had only read the table, it ran into its lock_timeout, while ATTACH PARTITION of a table created on its own went through (SHARE UPDATE EXCLUSIVE, PostgreSQL 12+).',
  lock: 'ACCESS EXCLUSIVE on the partitioned (parent) table, briefly once granted.',
  fix: 'CREATE TABLE child (LIKE parent INCLUDING ALL), then ALTER TABLE parent ATTACH PARTITION child FOR VALUES … (give the child a validated CHECK matching the bound first if it holds rows: see attach-partition-scan).',
  examples: {
    bad: [{ sql: "CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');" }],
    good: [
      { sql: "CREATE TABLE events_2027 (LIKE events INCLUDING ALL);\nALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');" },
      { sql: "CREATE TABLE events (id bigint, created_at date NOT NULL) PARTITION BY RANGE (created_at);\nCREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');", note: 'a partitioned table created in the same file has no app traffic yet' },
    ],
  },
  check(context) {
    const node = pg(context, 'CreateStmt');
    const parent = node?.partbound ? String(node.inhRelations?.[0]?.RangeVar?.relname ?? '') : '';
    // Before PostgreSQL 12, ATTACH PARTITION locks the parent as strongly: no better way to offer.
    if (!parent || context.isNewTable(parent) || !pgAtLeast(context, 12)) return [];
    const tokens = context.statement.tokens;
    return [hit(spanOf(tokens, 0, tokens.length - 1), `creates ${node.relation?.relname} as a partition of ${parent}: ACCESS EXCLUSIVE on ${parent}, so every query on it waits, and queues behind the statement while it waits for its lock`)];
  },
};
