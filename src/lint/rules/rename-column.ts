import type { Hit, Rule } from '../types.js';
import { FORWARD, hit, mysqlAlterTable, pg } from './helpers.js';
import { spanOf } from '../parse/tokens.js';

export const renameColumn: Rule = {
  id: 'rename-column',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'Renaming a column',
  why: 'No app version works on both sides of a rename: before it, the new app finds no new name; after it, the old app finds no old name. A rename is breaking in every phase.',
  lock: 'ACCESS EXCLUSIVE / metadata lock, briefly (catalog only).',
  fix: 'Add the new column in expand with a trigger keeping both in step, backfill it, switch the app, drop the old column in contract. (Or keep the old name and rename in the app\'s mapping.)',
  examples: {
    bad: [{ sql: 'ALTER TABLE users RENAME COLUMN name TO full_name;' }, { sql: 'ALTER TABLE users RENAME COLUMN name TO full_name;', phase: 'contract' }, { sql: 'ALTER TABLE users CHANGE name full_name VARCHAR(200) NOT NULL;', dialect: 'mysql' }],
    good: [{ sql: 'ALTER TABLE users ADD COLUMN full_name text;', phase: 'expand' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const node = pg(context, 'RenameStmt');
    const tokens = context.statement.tokens;
    if (node && node.renameType === 'OBJECT_COLUMN' && !context.isNewTable(String(node.relation?.relname ?? ''))) {
      hits.push(hit(spanOf(tokens, 0, tokens.length - 1), `renames ${node.relation?.relname}.${node.subname} to ${node.newname}: the app version on the other side of the rename breaks`));
    }
    const my = context.dialect === 'mysql' ? mysqlAlterTable(context) : null;
    if (my && !my.isNew) {
      for (const clause of my.clauses) {
        if (clause.kind === 'rename-column' || (clause.kind === 'change-column' && clause.value && clause.value !== clause.name)) {
          hits.push(hit(clause.span, `renames ${my.table}.${clause.name} to ${clause.value}: the app version on the other side of the rename breaks`));
        }
      }
    }
    return hits;
  },
};
