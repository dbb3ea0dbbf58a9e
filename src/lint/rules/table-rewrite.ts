import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, hit, pgAlterTable } from './helpers.js';

const REWRITES: Record<string, string> = {
  AT_SetTableSpace: 'moves the table to another tablespace, copying every row',
  AT_SetLogged: 'SET LOGGED rewrites the table into the WAL',
  AT_SetUnLogged: 'SET UNLOGGED rewrites the table',
  AT_SetAccessMethod: 'SET ACCESS METHOD rewrites the table',
  AT_DropOids: 'SET WITHOUT OIDS rewrites the table',
};

export const tableRewrite: Rule = {
  id: 'table-rewrite',
  severity: 'error',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'ALTER TABLE forms that rewrite the whole table',
  why: 'SET TABLESPACE, SET LOGGED/UNLOGGED and SET ACCESS METHOD copy every row and rebuild every index while holding ACCESS EXCLUSIVE: no reads or writes until done.',
  lock: 'ACCESS EXCLUSIVE for the whole rewrite.',
  fix: 'Create the new table as wanted, copy the rows in batches with a trigger keeping it in step, and swap in contract; or use pg_repack (it can move tablespaces online).',
  examples: { bad: [{ sql: 'ALTER TABLE events SET TABLESPACE fast_ssd;' }, { sql: 'ALTER TABLE events SET LOGGED;' }], good: [{ sql: 'ALTER TABLE events SET (fillfactor = 90);' }] },
  check(context) {
    const hits: Hit[] = [];
    const alter = pgAlterTable(context);
    if (!alter || alter.isNew) return hits;
    for (const command of alter.commands) {
      const what = REWRITES[command.subtype];
      if (what) hits.push(hit(command.span, `${what} of ${alter.table} under ACCESS EXCLUSIVE: no reads or writes until done`));
    }
    return hits;
  },
};
