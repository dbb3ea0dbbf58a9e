import { findSequence, isWord, spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, mysqlAlterTable } from './helpers.js';

export const mysqlBlockingLock: Rule = {
  id: 'mysql-blocking-lock',
  severity: 'error',
  dialects: ['mysql'],
  phases: ALL_PHASES,
  summary: 'LOCK=SHARED or LOCK=EXCLUSIVE on an ALTER',
  why: 'LOCK=SHARED blocks every write, LOCK=EXCLUSIVE every read and write, for the whole ALTER.',
  lock: 'What it names, for the whole operation.',
  fix: 'Use LOCK=NONE (with ALGORITHM=INPLACE or INSTANT); if the server refuses, the change needs the expand/backfill/contract way.',
  examples: { bad: [{ sql: 'ALTER TABLE users ADD INDEX users_email_idx (email), LOCK=SHARED;', dialect: 'mysql' }, { sql: 'CREATE INDEX users_email_idx ON users (email) LOCK=EXCLUSIVE;', dialect: 'mysql' }], good: [{ sql: 'ALTER TABLE users ADD INDEX users_email_idx (email), ALGORITHM=INPLACE, LOCK=NONE;', dialect: 'mysql' }] },
  check(context) {
    const tokens = context.statement.tokens;
    const alter = mysqlAlterTable(context);
    if (alter) {
      if (alter.isNew) return [];
      const clause = alter.clauses.find((c) => c.kind === 'lock' && (c.value === 'SHARED' || c.value === 'EXCLUSIVE'));
      return clause ? [hit(clause.span, `LOCK=${clause.value} blocks ${clause.value === 'SHARED' ? 'writes to' : 'reads and writes of'} ${alter.table} for the whole ALTER`)] : [];
    }
    if (isWord(tokens[0], 'CREATE', 'DROP')) {
      const at = findSequence(tokens, ['LOCK']);
      const value = tokens.slice(at + 1, at + 3).find((t) => isWord(t, 'SHARED', 'EXCLUSIVE'));
      if (at >= 0 && value) return [hit(spanOf(tokens, at, at + 2), `LOCK=${value.upper} blocks ${value.upper === 'SHARED' ? 'writes' : 'reads and writes'} for the whole operation`)];
    }
    return [];
  },
};
