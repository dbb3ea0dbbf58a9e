import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, hit, mysqlAlterTable, mysqlGuarded } from './helpers.js';

export const mysqlConvertCharset: Rule = {
  id: 'mysql-convert-charset',
  severity: 'error',
  dialects: ['mysql'],
  phases: ALL_PHASES,
  summary: 'CONVERT TO CHARACTER SET copies the table',
  why: 'Converting the character set re-encodes every string column of every row: MySQL copies the table (ALGORITHM=COPY) with writes blocked. (Changing only the table\'s DEFAULT CHARSET is metadata-only.)',
  lock: 'ALGORITHM=COPY: writes blocked for the whole copy.',
  fix: 'Convert column by column through new columns (expand: add utf8mb4 twins + triggers; backfill; contract: drop the old), or use an online schema change tool (gh-ost, pt-online-schema-change).',
  examples: { bad: [{ sql: 'ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci;', dialect: 'mysql' }], good: [{ sql: 'ALTER TABLE users DEFAULT CHARSET = utf8mb4;', dialect: 'mysql' }] },
  check(context) {
    const hits: Hit[] = [];
    const alter = mysqlAlterTable(context);
    if (!alter || alter.isNew) return hits;
    for (const clause of alter.clauses) {
      if (clause.kind !== 'convert-charset') continue;
      hits.push(mysqlGuarded(alter) ? hit(clause.span, `CONVERT TO CHARACTER SET needs ALGORITHM=COPY: with ${alter.lock ? `LOCK=${alter.lock}` : `ALGORITHM=${alter.algorithm}`} the server refuses the statement`, { severity: 'warning' }) : hit(clause.span, `converts every string column of ${alter.table}: MySQL copies the table, blocking writes`));
    }
    return hits;
  },
};
