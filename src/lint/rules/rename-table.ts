import { isWord, readName, spanOf } from '../parse/tokens.js';
import type { Hit, Rule } from '../types.js';
import { droppedInTransaction } from '../facts.js';
import { FORWARD, hit, isTandemInternalName, mysqlAlterTable, pg } from './helpers.js';

export const renameTable: Rule = {
  id: 'rename-table',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'Renaming a table (or a view)',
  why: 'Queries of one app version name the old table, of the other the new one: whichever side of the rename runs breaks. Not reported: an atomic swap in contract (a view under the new name dropped earlier in the same transaction, or renamed away in the same RENAME TABLE) and tandem\'s own parked objects (`tandem_<hex>_…`).',
  lock: 'ACCESS EXCLUSIVE / metadata lock, briefly.',
  fix: 'Create the new table (or an updatable view under the new name) in expand, keep both in step, move the app, drop the old one in contract.',
  examples: {
    bad: [{ sql: 'ALTER TABLE users RENAME TO accounts;' }, { sql: 'RENAME TABLE users TO accounts;', dialect: 'mysql' }],
    good: [
      { sql: 'CREATE VIEW accounts AS SELECT * FROM users;', phase: 'expand' },
      { sql: 'CREATE TABLE staging (id int);\nALTER TABLE staging RENAME TO staged;' },
      { sql: 'DROP VIEW accounts;\nALTER TABLE users RENAME TO accounts;', phase: 'contract' },
      { sql: 'RENAME TABLE accounts TO accounts_view_parked, users TO accounts;', phase: 'contract', dialect: 'mysql' },
    ],
  },
  check(context) {
    const hits: Hit[] = [];
    const tokens = context.statement.tokens;
    const all = spanOf(tokens, 0, tokens.length - 1);
    const node = pg(context, 'RenameStmt');
    // In contract only the new app runs: a swap into a name vacated in the same transaction keeps that name alive.
    const contractSwap = (vacatedFirst: boolean) => context.phase === 'contract' && vacatedFirst;
    if (node && ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE'].includes(node.renameType)) {
      const name = String(node.relation?.relname ?? '');
      if (!context.isNewTable(name) && !isTandemInternalName(name) && !contractSwap(droppedInTransaction(context).has(String(node.newname)))) hits.push(hit(all, `renames ${name} to ${node.newname}: the app version on the other side of the rename breaks`));
    }
    if (context.dialect !== 'mysql') return hits;
    if (isWord(tokens[0], 'RENAME') && isWord(tokens[1], 'TABLE', 'TABLES')) {
      // One RENAME TABLE is atomic: a name renamed away and renamed into within it never disappears.
      const pairs: Array<{ from: string; to: string; span: ReturnType<typeof spanOf> }> = [];
      let i = 2;
      while (i < tokens.length) {
        const from = readName(tokens, i, 'mysql');
        const to = readName(tokens, from.next + 1, 'mysql');
        pairs.push({ from: from.name, to: to.name, span: spanOf(tokens, from.first, to.next - 1) });
        if (tokens[to.next]?.text !== ',') break;
        i = to.next + 1;
      }
      pairs.forEach((pair, index) => {
        const refilled = pairs.slice(index + 1).some((later) => later.to === pair.from);
        const vacated = pairs.slice(0, index).some((earlier) => earlier.from === pair.to);
        if (context.isNewTable(pair.from) || isTandemInternalName(pair.from) || refilled || contractSwap(vacated)) return;
        hits.push(hit(pair.span, `renames ${pair.from} to ${pair.to}: the app version on the other side of the rename breaks`));
      });
    }
    const my = mysqlAlterTable(context);
    if (my && !my.isNew) for (const clause of my.clauses) if (clause.kind === 'rename-table') hits.push(hit(clause.span, `renames ${my.table} to ${clause.value}: the app version on the other side of the rename breaks`));
    return hits;
  },
};
