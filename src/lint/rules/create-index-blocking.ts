import { findWord, spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, pg, pgRelName } from './helpers.js';

export const createIndexBlocking: Rule = {
  id: 'create-index-blocking',
  severity: 'error',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'CREATE INDEX without CONCURRENTLY on an existing table',
  why: 'A plain CREATE INDEX holds a SHARE lock for the whole build: reads go on, but every INSERT, UPDATE and DELETE on the table waits until the index is built, which takes minutes on a big table.',
  lock: 'SHARE (blocks writes) for the whole build.',
  fix: 'Use CREATE INDEX CONCURRENTLY (tandem runs it outside a transaction and drops the INVALID index a failed build leaves).',
  examples: {
    bad: [{ sql: 'CREATE INDEX users_email_idx ON users (email);' }, { sql: 'CREATE UNIQUE INDEX users_email_key ON users (lower(email));' }],
    good: [{ sql: 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);' }, { sql: 'CREATE TABLE tags (id int, name text);\nCREATE INDEX tags_name_idx ON tags (name);' }],
  },
  check(context) {
    const node = pg(context, 'IndexStmt');
    if (!node || node.concurrent) return [];
    const table = pgRelName(node.relation);
    if (context.isNewTable(table)) return [];
    const tokens = context.statement.tokens;
    const on = findWord(tokens, 0, ['ON']);
    return [hit(spanOf(tokens, 0, on > 0 ? on - 1 : 1), `builds an index on ${table} without CONCURRENTLY: writes to ${table} wait for the whole build`)];
  },
};
