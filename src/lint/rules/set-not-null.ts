import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, OLD_APP_PHASES, hit, mysqlAlterTable, mysqlColumnDef, mysqlGuarded, pgAlterTable, pgAtLeast } from './helpers.js';
import { hasValidatedNotNullCheck, nullabilityKey } from '../facts.js';

export const setNotNull: Rule = {
  id: 'set-not-null',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: ALL_PHASES,
  summary: 'Making an existing column NOT NULL with a scan under lock',
  why: 'PostgreSQL scans the whole table under ACCESS EXCLUSIVE to prove no NULL is left, unless (12+) a validated CHECK (col IS NOT NULL) already proves it. MySQL rebuilds the table. In expand the old app may still write NULLs, which now fail.',
  lock: 'PostgreSQL: ACCESS EXCLUSIVE during the scan. MySQL: in-place rebuild.',
  fix: 'PostgreSQL: ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c; ALTER COLUMN col SET NOT NULL; DROP CONSTRAINT c — in contract. MySQL: MODIFY … NOT NULL with ALGORITHM=INPLACE, LOCK=NONE, in contract.',
  examples: {
    bad: [{ sql: '-- tandem:expand\nALTER TABLE users ADD COLUMN country CHAR(2) NULL, ALGORITHM=INSTANT;\n-- tandem:contract\nALTER TABLE users MODIFY country CHAR(2) NOT NULL;', dialect: 'mysql' }, { sql: 'ALTER TABLE users ALTER COLUMN country SET NOT NULL;', phase: 'contract' }, { sql: 'ALTER TABLE users ADD CONSTRAINT c CHECK (country IS NOT NULL) NOT VALID;\nALTER TABLE users ALTER COLUMN country SET NOT NULL;', phase: 'contract', note: 'the check is never validated' }],
    good: [
      { sql: 'ALTER TABLE users ADD CONSTRAINT users_country_nn CHECK (country IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT users_country_nn;\nALTER TABLE users ALTER COLUMN country SET NOT NULL;\nALTER TABLE users DROP CONSTRAINT users_country_nn;', phase: 'contract' },
      { sql: '-- tandem:expand\nALTER TABLE users ADD COLUMN country CHAR(2) NULL, ALGORITHM=INSTANT;\n-- tandem:contract\nALTER TABLE users MODIFY country CHAR(2) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;', dialect: 'mysql' },
    ],
  },
  check(context) {
    const hits: Hit[] = [];
    const alter = pgAlterTable(context);
    if (alter && !alter.isNew) {
      for (const command of alter.commands) {
        if (command.subtype !== 'AT_SetNotNull') continue;
        const column = String(command.cmd.name);
        const target = `${alter.table}.${column}`;
        const proven = pgAtLeast(context, 12) && hasValidatedNotNullCheck(context, alter.table, column);
        if (!proven) {
          const reason = pgAtLeast(context, 12) ? 'no validated CHECK (… IS NOT NULL) precedes it in this file' : `PostgreSQL ${context.versions.postgres.join('.')} cannot use a CHECK to skip it`;
          hits.push(hit(command.span, `sets ${target} NOT NULL: PostgreSQL scans every row under ACCESS EXCLUSIVE (${reason})`));
        } else if (OLD_APP_PHASES.includes(context.phase)) {
          hits.push(hit(command.span, `sets ${target} NOT NULL while the old app version may still write NULL into it`, { severity: 'warning', fix: 'tighten the column in contract, once only the new app writes it' }));
        }
      }
    }
    const my = context.dialect === 'mysql' ? mysqlAlterTable(context) : null;
    if (my && !my.isNew) {
      for (const clause of my.clauses) {
        if (clause.kind !== 'modify-column' && clause.kind !== 'change-column') continue;
        const def = mysqlColumnDef(context.statement.tokens, clause.defStart, clause.last);
        // Only a column known to be nullable now is being tightened (a MODIFY restates the whole definition).
        if (!def.notNull || context.schema.get(my.table)?.get(nullabilityKey(clause.name)) !== 'null') continue;
        if (OLD_APP_PHASES.includes(context.phase)) {
          hits.push(hit(clause.span, `makes ${my.table}.${clause.name} NOT NULL while the old app version may still write NULL into it`, def.hasDefault ? { severity: 'warning', fix: 'tighten the column in contract, once only the new app writes it' } : { fix: 'tighten the column in contract, once only the new app writes it' }));
        }
        if (!mysqlGuarded(my)) hits.push(hit(clause.span, `makes ${my.table}.${clause.name} NOT NULL: InnoDB rebuilds the table; without LOCK=NONE it may block writes`, { severity: 'warning' }));
      }
    }
    return hits;
  },
};
