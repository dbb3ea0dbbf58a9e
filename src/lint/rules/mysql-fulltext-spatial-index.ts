import { isWord, readName, findWord, spanOf } from '../parse/tokens.js';
import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, hit, mysqlAlterTable } from './helpers.js';

export const mysqlFulltextSpatialIndex: Rule = {
  id: 'mysql-fulltext-spatial-index',
  severity: 'error',
  dialects: ['mysql'],
  phases: ALL_PHASES,
  summary: 'Adding a FULLTEXT or SPATIAL index to an existing table',
  why: 'InnoDB cannot build FULLTEXT or SPATIAL indexes with LOCK=NONE: writes to the table are blocked (LOCK=SHARED) for the whole build, and the first FULLTEXT index rebuilds the table to add its hidden FTS_DOC_ID column.',
  lock: 'LOCK=SHARED (writes blocked) for the whole build.',
  fix: 'Create the index when the table is created, add an FTS_DOC_ID column up front, or build it with an online schema change tool (gh-ost, pt-online-schema-change).',
  examples: { bad: [{ sql: 'ALTER TABLE posts ADD FULLTEXT INDEX posts_body_ft (body);', dialect: 'mysql' }, { sql: 'CREATE FULLTEXT INDEX posts_body_ft ON posts (body);', dialect: 'mysql' }], good: [{ sql: 'CREATE TABLE posts (id BIGINT PRIMARY KEY, body TEXT, FULLTEXT INDEX posts_body_ft (body));', dialect: 'mysql' }] },
  check(context) {
    const hits: Hit[] = [];
    const tokens = context.statement.tokens;
    const alter = mysqlAlterTable(context);
    if (alter && !alter.isNew) {
      for (const clause of alter.clauses) {
        if (clause.kind === 'add-fulltext' || clause.kind === 'add-spatial') hits.push(hit(clause.span, `adds a ${clause.kind === 'add-fulltext' ? 'FULLTEXT' : 'SPATIAL'} index to ${alter.table}: writes are blocked for the whole build`));
      }
    }
    if (isWord(tokens[0], 'CREATE') && isWord(tokens[1], 'FULLTEXT', 'SPATIAL')) {
      const on = findWord(tokens, 2, ['ON']);
      const table = on > 0 ? readName(tokens, on + 1, 'mysql').name : '';
      if (!context.isNewTable(table)) hits.push(hit(spanOf(tokens, 0, on > 0 ? on - 1 : 2), `builds a ${tokens[1]!.upper} index on ${table}: writes are blocked for the whole build`));
    }
    return hits;
  },
};
