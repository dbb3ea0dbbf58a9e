import { spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { FORWARD, hit, pg, pgAtLeast } from './helpers.js';

export const enumChange: Rule = {
  id: 'enum-change',
  severity: 'error',
  dialects: ['postgres'],
  phases: FORWARD,
  summary: 'Renaming an enum value, or adding one inside a transaction',
  why: 'RENAME VALUE breaks the app version that still sends the old label. ADD VALUE cannot run in a transaction block before PostgreSQL 12, and from 12 on the new value cannot be used in the same transaction.',
  lock: 'ACCESS EXCLUSIVE on the type (catalog only).',
  fix: 'Add the new value in expand (alone, or in a migration of its own before PostgreSQL 12), move rows and the app to it, and stop using the old label; never rename a label in use.',
  examples: {
    bad: [{ sql: "ALTER TYPE order_status RENAME VALUE 'done' TO 'completed';" }, { sql: "ALTER TYPE order_status ADD VALUE 'refunded';\nUPDATE orders SET status = 'refunded' WHERE id = 1;", versions: { postgres: [11] } }],
    good: [{ sql: "ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'refunded';" }],
  },
  check(context) {
    const node = pg(context, 'AlterEnumStmt');
    if (!node) return [];
    const span = spanOf(context.statement.tokens, 0, context.statement.tokens.length - 1);
    if (node.oldVal) return [hit(span, `renames the enum value '${node.oldVal}' to '${node.newVal}': the app version that still sends '${node.oldVal}' fails`)];
    if (!pgAtLeast(context, 12) && context.inTransaction) {
      return [hit(span, `ALTER TYPE … ADD VALUE cannot run inside a transaction block on PostgreSQL ${context.versions.postgres.join('.')}: the migration fails`, { severity: 'warning' })];
    }
    return [];
  },
};
