import { isWord, readName, spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { FORWARD, hit, pg } from './helpers.js';

export const truncate: Rule = {
  id: 'truncate',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'TRUNCATE of a table in use',
  why: 'TRUNCATE empties the table for every app version at once, takes ACCESS EXCLUSIVE (PostgreSQL) / an exclusive metadata lock (MySQL), and the rows are not coming back on rollback of the deploy.',
  lock: 'ACCESS EXCLUSIVE / exclusive metadata lock.',
  fix: 'Delete the rows that must go in batches in the backfill phase, or drop the table in contract once no app uses it.',
  examples: { bad: [{ sql: 'TRUNCATE sessions;' }, { sql: 'TRUNCATE TABLE sessions;', dialect: 'mysql' }], good: [{ sql: 'CREATE TABLE import_buffer (id int);\nTRUNCATE import_buffer;' }] },
  check(context) {
    const tokens = context.statement.tokens;
    const all = spanOf(tokens, 0, tokens.length - 1);
    const node = pg(context, 'TruncateStmt');
    if (node) {
      const tables = (node.relations ?? []).map((r: any) => r.RangeVar?.relname).filter((t: string) => !context.isNewTable(t));
      return tables.length > 0 ? [hit(all, `empties ${tables.join(', ')} for every app version under ACCESS EXCLUSIVE`)] : [];
    }
    if (context.dialect === 'mysql' && isWord(tokens[0], 'TRUNCATE')) {
      const name = readName(tokens, isWord(tokens[1], 'TABLE') ? 2 : 1, 'mysql');
      return context.isNewTable(name.name) ? [] : [hit(all, `empties ${name.name} for every app version`)];
    }
    return [];
  },
};
