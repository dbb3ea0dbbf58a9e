import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, hit, pgAlterTable, spanFrom } from './helpers.js';

export const addExclusionConstraint: Rule = {
  id: 'add-exclusion-constraint',
  severity: 'error',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'Adding an EXCLUDE constraint to an existing table',
  why: 'An exclusion constraint builds its index and checks every row under ACCESS EXCLUSIVE, and unlike CHECK or FOREIGN KEY it cannot be added NOT VALID nor attached from an index built concurrently.',
  lock: 'ACCESS EXCLUSIVE for the build.',
  fix: 'Create the table with the constraint, or add it in a maintenance window; to enforce the rule meanwhile, use a trigger.',
  examples: {
    bad: [{ sql: 'ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);' }],
    good: [{ sql: 'CREATE TABLE bookings (room int, during tstzrange, EXCLUDE USING gist (room WITH =, during WITH &&));' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const alter = pgAlterTable(context);
    if (!alter || alter.isNew) return hits;
    for (const command of alter.commands) {
      const constraint = command.subtype === 'AT_AddConstraint' ? command.cmd.def?.Constraint : null;
      if (constraint?.contype === 'CONSTR_EXCLUSION') hits.push(hit(spanFrom(context, constraint.location, command.last), `adds an exclusion constraint on ${alter.table}: built and checked under ACCESS EXCLUSIVE (no reads or writes until done)`));
    }
    return hits;
  },
};
