import { findSequence, isWord, spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, mysqlAlterTable } from './helpers.js';

export const mysqlCopyAlgorithm: Rule = {
  id: 'mysql-copy-algorithm',
  severity: 'error',
  dialects: ['mysql'],
  phases: ALL_PHASES,
  summary: 'ALGORITHM=COPY asked for explicitly',
  why: 'ALGORITHM=COPY builds a new copy of the table row by row while writes to it are blocked, for as long as the copy takes.',
  lock: 'Writes blocked (SHARED lock) for the whole copy.',
  fix: 'Use ALGORITHM=INSTANT or ALGORITHM=INPLACE, LOCK=NONE; if the server refuses, the change needs the expand/backfill/contract way (new column or table, trigger, backfill).',
  examples: { bad: [{ sql: 'ALTER TABLE users ADD COLUMN bio TEXT, ALGORITHM=COPY;', dialect: 'mysql' }], good: [{ sql: 'ALTER TABLE users ADD COLUMN bio TEXT, ALGORITHM=INSTANT;', dialect: 'mysql' }] },
  check(context) {
    const tokens = context.statement.tokens;
    const alter = mysqlAlterTable(context);
    if (alter) {
      if (alter.isNew) return [];
      const clause = alter.clauses.find((c) => c.kind === 'algorithm' && c.value === 'COPY');
      return clause ? [hit(clause.span, `ALGORITHM=COPY copies ${alter.table} while blocking writes to it`)] : [];
    }
    if (isWord(tokens[0], 'CREATE', 'DROP')) {
      const at = findSequence(tokens, ['ALGORITHM']);
      if (at >= 0 && tokens.slice(at + 1, at + 3).some((t) => isWord(t, 'COPY'))) return [hit(spanOf(tokens, at, at + 2), 'ALGORITHM=COPY copies the table while blocking writes to it')];
    }
    return [];
  },
};
