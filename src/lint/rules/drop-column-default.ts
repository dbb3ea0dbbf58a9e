import type { Hit, Rule } from '../types.js';
import { OLD_APP_PHASES, hit, mysqlAlterTable, pgAlterTable } from './helpers.js';
import { isWord } from '../parse/tokens.js';

export const dropColumnDefault: Rule = {
  id: 'drop-column-default',
  severity: 'warning',
  dialects: ['postgres', 'mysql'],
  phases: OLD_APP_PHASES,
  summary: 'Dropping a column default while the old app version still runs',
  why: 'The old app may insert rows without the column and rely on the default; on a NOT NULL column those inserts fail once the default is gone.',
  lock: 'ACCESS EXCLUSIVE / metadata lock, briefly (catalog only).',
  fix: 'Drop the default in contract, once only the new app (which sets the column itself) writes the table.',
  examples: {
    bad: [{ sql: 'ALTER TABLE users ALTER COLUMN locale DROP DEFAULT;', phase: 'expand' }, { sql: 'ALTER TABLE users ALTER COLUMN locale DROP DEFAULT;', dialect: 'mysql' }],
    good: [{ sql: 'ALTER TABLE users ALTER COLUMN locale DROP DEFAULT;', phase: 'contract' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const alter = pgAlterTable(context);
    if (alter && !alter.isNew) {
      for (const command of alter.commands) {
        if (command.subtype === 'AT_ColumnDefault' && !command.cmd.def) hits.push(hit(command.span, `drops the default of ${alter.table}.${command.cmd.name}: inserts of the old app version that rely on it may fail`));
      }
    }
    const my = context.dialect === 'mysql' ? mysqlAlterTable(context) : null;
    if (my && !my.isNew) {
      const tokens = context.statement.tokens;
      for (const clause of my.clauses) {
        if (clause.kind === 'alter-column' && isWord(tokens[clause.last - 1], 'DROP') && isWord(tokens[clause.last], 'DEFAULT')) hits.push(hit(clause.span, `drops the default of ${my.table}.${clause.name}: inserts of the old app version that rely on it may fail`));
      }
    }
    return hits;
  },
};
