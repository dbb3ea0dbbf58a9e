import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, hit, mysqlAlterTable } from './helpers.js';

export const mysqlDropPrimaryKey: Rule = {
  id: 'mysql-drop-primary-key',
  severity: 'error',
  dialects: ['mysql'],
  phases: ALL_PHASES,
  summary: 'Dropping a primary key without adding another in the same ALTER',
  why: 'InnoDB clusters rows by the primary key. Dropping it without a replacement in the same statement forces ALGORITHM=COPY (writes blocked); the app may also rely on it for lookups and replication.',
  lock: 'ALGORITHM=COPY: writes blocked for the whole copy.',
  fix: 'Drop and add in one statement: ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (…), ALGORITHM=INPLACE, LOCK=NONE.',
  examples: { bad: [{ sql: 'ALTER TABLE events DROP PRIMARY KEY;', dialect: 'mysql' }], good: [{ sql: 'ALTER TABLE events DROP PRIMARY KEY, ADD PRIMARY KEY (id, created_at), ALGORITHM=INPLACE, LOCK=NONE;', dialect: 'mysql' }] },
  check(context) {
    const hits: Hit[] = [];
    const alter = mysqlAlterTable(context);
    if (!alter || alter.isNew) return hits;
    const adds = alter.clauses.some((c) => c.kind === 'add-primary-key');
    for (const clause of alter.clauses) {
      if (clause.kind === 'drop-primary-key' && !adds) hits.push(hit(clause.span, `drops the primary key of ${alter.table} without a replacement: MySQL copies the table (ALGORITHM=COPY), blocking writes`));
    }
    return hits;
  },
};
