import type { Hit, Rule } from '../types.js';
import { droppedInTransaction } from '../facts.js';
import { FORWARD, hit, isTandemInternalName, mysqlAlterTable, pg } from './helpers.js';
import { spanOf } from '../parse/tokens.js';

export const renameColumn: Rule = {
  id: 'rename-column',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'Renaming a column',
  why: 'No app version works on both sides of a rename: before it, the new app finds no new name; after it, the old app finds no old name. A rename is breaking in every phase. Not reported: an atomic swap in contract (the new name was dropped earlier in the same transaction or ALTER, so it never disappears), renaming tandem\'s own twin columns (`tandem_<hex>_…`), which no app knows, and the contract of a declarative renameColumn with version schemas (PostgreSQL), whose new app already reads the column under its new name through its views.',
  lock: 'ACCESS EXCLUSIVE / metadata lock, briefly (catalog only).',
  fix: 'Add the new column in expand with a trigger keeping both in step, backfill it, switch the app, drop the old column in contract. (Or keep the old name and rename in the app\'s mapping.)',
  examples: {
    bad: [{ sql: 'ALTER TABLE users RENAME COLUMN name TO full_name;' }, { sql: 'ALTER TABLE users RENAME COLUMN name TO full_name;', phase: 'contract' }, { sql: 'ALTER TABLE users CHANGE name full_name VARCHAR(200) NOT NULL;', dialect: 'mysql' }],
    good: [
      { sql: 'ALTER TABLE users ADD COLUMN full_name text;', phase: 'expand' },
      { sql: 'ALTER TABLE orders DROP COLUMN quantity;\nALTER TABLE orders RENAME COLUMN quantity_big TO quantity;', phase: 'contract' },
      { sql: 'ALTER TABLE orders DROP COLUMN quantity, RENAME COLUMN quantity_big TO quantity;', phase: 'contract', dialect: 'mysql' },
    ],
  },
  check(context) {
    const hits: Hit[] = [];
    // In contract only the new app runs: a swap into a name dropped in the same transaction keeps that name alive.
    const contractSwap = (droppedFirst: boolean) => context.phase === 'contract' && droppedFirst;
    const node = pg(context, 'RenameStmt');
    const tokens = context.statement.tokens;
    if (node && node.renameType === 'OBJECT_COLUMN') {
      const table = String(node.relation?.relname ?? '');
      // renameColumn through version schema views: the new app reads the new name through its views since expand.
      const throughViews = context.phase === 'contract' && (context.viewRenames?.has(`${table}.${node.subname}.${node.newname}`) ?? false);
      const breaks = !context.isNewTable(table) && !isTandemInternalName(String(node.subname)) && !contractSwap(droppedInTransaction(context).has(`${table}.${node.newname}`)) && !throughViews;
      if (breaks) hits.push(hit(spanOf(tokens, 0, tokens.length - 1), `renames ${table}.${node.subname} to ${node.newname}: the app version on the other side of the rename breaks`));
    }
    const my = context.dialect === 'mysql' ? mysqlAlterTable(context) : null;
    if (my && !my.isNew) {
      for (const clause of my.clauses) {
        const renames = clause.kind === 'rename-column' || (clause.kind === 'change-column' && clause.value && clause.value !== clause.name);
        if (!renames || isTandemInternalName(clause.name)) continue;
        // One ALTER is atomic: a name renamed away and renamed into within it never disappears.
        const refilled = my.clauses.some((other) => other !== clause && (other.kind === 'rename-column' || other.kind === 'change-column') && other.value === clause.name);
        if (refilled) continue;
        if (contractSwap(my.clauses.some((other) => other.kind === 'drop-column' && other.name === clause.value))) continue;
        hits.push(hit(clause.span, `renames ${my.table}.${clause.name} to ${clause.value}: the app version on the other side of the rename breaks`));
      }
    }
    return hits;
  },
};
