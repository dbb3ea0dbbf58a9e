import { findWord, spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit } from './helpers.js';
import { memoryKeys } from '../facts.js';

export const concurrentlyInTransaction: Rule = {
  id: 'concurrently-in-transaction',
  severity: 'error',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'CONCURRENTLY inside a transaction',
  why: 'CREATE/DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY cannot run in a transaction block: the migration fails. Tools that wrap a file in a transaction (Flyway, dbmate, golang-migrate and Prisma for multi-statement files) or an explicit BEGIN do exactly that. tandem runs such statements alone, outside a transaction.',
  lock: 'None: the statement is refused.',
  fix: 'Put the statement in a migration of its own and turn the tool\'s transaction off (dbmate: `-- migrate:up transaction:false`; Flyway: a separate migration; golang-migrate: one statement per file), or run it with tandem.',
  examples: {
    bad: [{ sql: 'BEGIN;\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\nCOMMIT;', tool: 'sql' }, { sql: 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);\nANALYZE users;', tool: 'flyway' }],
    good: [{ sql: 'CREATE INDEX CONCURRENTLY users_email_idx ON users (email);' }],
  },
  check(context) {
    const node = context.statement.pg;
    if (!node) return [];
    const concurrent =
      (node.type === 'IndexStmt' && node.node.concurrent) ||
      (node.type === 'DropStmt' && node.node.concurrent) ||
      (node.type === 'ReindexStmt' && (node.node.params ?? []).some((p: any) => p.DefElem?.defname === 'concurrently'));
    if (!concurrent) return [];
    const explicit = context.memory.get(memoryKeys.explicitTransaction) === true;
    const wrapped = explicit || (context.tool !== 'tandem' && context.inTransaction);
    if (!wrapped) return [];
    const tokens = context.statement.tokens;
    const at = findWord(tokens, 0, ['CONCURRENTLY']);
    const why = explicit ? 'after an explicit BEGIN' : `${context.tool} runs this file in a transaction`;
    return [hit(spanOf(tokens, at, at), `CONCURRENTLY cannot run inside a transaction block (${why}): the migration fails`)];
  },
};
