import { isWord, readName, spanOf } from '../parse/tokens.js';
import type { Hit, Rule } from '../types.js';
import { FORWARD, hit, mysqlAlterTable, pg } from './helpers.js';

export const renameTable: Rule = {
  id: 'rename-table',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'Renaming a table (or a view)',
  why: 'Queries of one app version name the old table, of the other the new one: whichever side of the rename runs breaks.',
  lock: 'ACCESS EXCLUSIVE / metadata lock, briefly.',
  fix: 'Create the new table (or an updatable view under the new name) in expand, keep both in step, move the app, drop the old one in contract.',
  examples: {
    bad: [{ sql: 'ALTER TABLE users RENAME TO accounts;' }, { sql: 'RENAME TABLE users TO accounts;', dialect: 'mysql' }],
    good: [{ sql: 'CREATE VIEW accounts AS SELECT * FROM users;', phase: 'expand' }, { sql: 'CREATE TABLE staging (id int);\nALTER TABLE staging RENAME TO staged;' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const tokens = context.statement.tokens;
    const all = spanOf(tokens, 0, tokens.length - 1);
    const node = pg(context, 'RenameStmt');
    if (node && ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE'].includes(node.renameType)) {
      const name = String(node.relation?.relname ?? '');
      if (!context.isNewTable(name)) hits.push(hit(all, `renames ${name} to ${node.newname}: the app version on the other side of the rename breaks`));
    }
    if (context.dialect !== 'mysql') return hits;
    if (isWord(tokens[0], 'RENAME') && isWord(tokens[1], 'TABLE', 'TABLES')) {
      let i = 2;
      while (i < tokens.length) {
        const from = readName(tokens, i, 'mysql');
        const to = readName(tokens, from.next + 1, 'mysql');
        if (!context.isNewTable(from.name)) hits.push(hit(spanOf(tokens, from.first, to.next - 1), `renames ${from.name} to ${to.name}: the app version on the other side of the rename breaks`));
        if (tokens[to.next]?.text !== ',') break;
        i = to.next + 1;
      }
    }
    const my = mysqlAlterTable(context);
    if (my && !my.isNew) for (const clause of my.clauses) if (clause.kind === 'rename-table') hits.push(hit(clause.span, `renames ${my.table} to ${clause.value}: the app version on the other side of the rename breaks`));
    return hits;
  },
};
