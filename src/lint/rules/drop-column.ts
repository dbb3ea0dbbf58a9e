import type { Hit, Rule } from '../types.js';
import { OLD_APP_PHASES, hit, mysqlAlterTable, pgAlterTable } from './helpers.js';

export const dropColumn: Rule = {
  id: 'drop-column',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: OLD_APP_PHASES,
  summary: 'Dropping a column while the old app version still runs',
  why: 'The running app still reads and writes the column: its SELECTs naming it fail, and ORMs that list every column break on any query of the table. In expand (or a plain migration, which runs before the deploy) the old app is still serving traffic.',
  lock: 'PostgreSQL: ACCESS EXCLUSIVE, briefly (catalog only). MySQL: INSTANT on MySQL 8.0.29+/MariaDB 10.4+, else an in-place rebuild.',
  fix: 'Stop using the column in the app first; drop it in the contract phase (`-- tandem:contract`), after the old version is retired.',
  examples: {
    bad: [{ sql: 'ALTER TABLE users DROP COLUMN nickname;', phase: 'expand' }, { sql: 'ALTER TABLE users DROP COLUMN nickname, ALGORITHM=INSTANT;', dialect: 'mysql' }],
    good: [{ sql: 'ALTER TABLE users DROP COLUMN nickname;', phase: 'contract' }, { sql: 'ALTER TABLE users DROP COLUMN nickname;', dialect: 'mysql', phase: 'contract' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const pg = pgAlterTable(context);
    if (pg && !pg.isNew) {
      for (const command of pg.commands) {
        if (command.subtype === 'AT_DropColumn') hits.push(hit(command.span, `drops column ${pg.table}.${command.cmd.name} while the old app version may still use it`));
      }
    }
    const my = context.dialect === 'mysql' ? mysqlAlterTable(context) : null;
    if (my && !my.isNew) {
      for (const clause of my.clauses) if (clause.kind === 'drop-column') hits.push(hit(clause.span, `drops column ${my.table}.${clause.name} while the old app version may still use it`));
    }
    return hits;
  },
};
