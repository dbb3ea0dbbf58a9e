import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, columnConstraints, hit, pgAlterTable, spanFrom } from './helpers.js';

export const addUniqueBlocking: Rule = {
  id: 'add-unique-blocking',
  severity: 'error',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'Adding a UNIQUE constraint that builds its index under lock',
  why: 'ADD CONSTRAINT … UNIQUE (or a new column declared UNIQUE) builds the unique index while holding ACCESS EXCLUSIVE: no reads or writes for the whole build.',
  lock: 'ACCESS EXCLUSIVE for the index build.',
  fix: 'CREATE UNIQUE INDEX CONCURRENTLY first, then ALTER TABLE … ADD CONSTRAINT … UNIQUE USING INDEX … (catalog-only).',
  examples: {
    bad: [{ sql: 'ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);' }, { sql: 'ALTER TABLE users ADD COLUMN handle text UNIQUE;' }],
    good: [{ sql: 'CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);\nALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const alter = pgAlterTable(context);
    if (!alter || alter.isNew) return hits;
    for (const command of alter.commands) {
      const constraints = command.subtype === 'AT_AddConstraint' ? [command.cmd.def?.Constraint] : command.subtype === 'AT_AddColumn' ? columnConstraints(command.cmd.def?.ColumnDef, 'CONSTR_UNIQUE') : [];
      for (const constraint of constraints) {
        if (constraint?.contype === 'CONSTR_UNIQUE' && !constraint.indexname) {
          hits.push(hit(spanFrom(context, constraint.location, command.last), `adds a UNIQUE constraint on ${alter.table}: its index is built under ACCESS EXCLUSIVE (no reads or writes until done)`));
        }
      }
    }
    return hits;
  },
};
