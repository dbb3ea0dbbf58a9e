import type { Hit, Rule } from '../types.js';
import { hasValidatedCheck } from '../facts.js';
import { ALL_PHASES, hit, pgAlterTable, pgAtLeast } from './helpers.js';

export const attachPartitionScan: Rule = {
  id: 'attach-partition-scan',
  severity: 'warning',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'ATTACH PARTITION that scans the attached table under lock',
  why: 'ATTACH PARTITION reads every row of the attached table to prove it fits the partition bound, holding ACCESS EXCLUSIVE on that table all along, unless a validated CHECK constraint on it already implies the bound. A default partition of the parent is scanned too, under the same lock, for rows that belong in the new partition. Before PostgreSQL 12 the parent itself is locked ACCESS EXCLUSIVE.',
  lock: 'ACCESS EXCLUSIVE on the attached table (and on a default partition) during the scan; SHARE UPDATE EXCLUSIVE on the parent (PostgreSQL 12+; ACCESS EXCLUSIVE before).',
  fix: 'Give the table a CHECK constraint that matches the bound, NOT VALID, then VALIDATE it (which blocks no reads or writes); ATTACH PARTITION then skips the scan. Drop the CHECK afterwards.',
  examples: {
    bad: [{ sql: "ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');" }],
    good: [
      {
        sql: "ALTER TABLE events_2026 ADD CONSTRAINT events_2026_bound CHECK (created_at >= '2026-01-01' AND created_at < '2027-01-01') NOT VALID;\nALTER TABLE events_2026 VALIDATE CONSTRAINT events_2026_bound;\nALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');\nALTER TABLE events_2026 DROP CONSTRAINT events_2026_bound;",
      },
      { sql: "CREATE TABLE events_2027 (LIKE events INCLUDING ALL);\nALTER TABLE events ATTACH PARTITION events_2027 FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');", note: 'a table created in the same file has no app traffic to block' },
    ],
  },
  check(context) {
    const hits: Hit[] = [];
    const alter = pgAlterTable(context);
    if (!alter || alter.isNew) return hits;
    for (const command of alter.commands) {
      if (command.subtype !== 'AT_AttachPartition') continue;
      const child = String(command.cmd.def?.PartitionCmd?.name?.relname ?? '');
      if (!child || context.isNewTable(child) || hasValidatedCheck(context, child)) continue;
      const parentLock = pgAtLeast(context, 12) ? '' : `; PostgreSQL ${context.versions.postgres.join('.')} also locks ${alter.table} ACCESS EXCLUSIVE`;
      hits.push(
        hit(command.span, `attaches ${child} to ${alter.table}: every row of ${child} is checked against the bound under ACCESS EXCLUSIVE on ${child} (no validated CHECK on it precedes this), and a default partition of ${alter.table}, if it has one, is scanned too${parentLock}`, pgAtLeast(context, 12) ? {} : { severity: 'error' }),
      );
    }
    return hits;
  },
};
