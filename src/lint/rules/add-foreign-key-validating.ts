import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, columnConstraints, hit, mysqlAlterTable, mysqlGuarded, pgAlterTable, spanFrom } from './helpers.js';
import { memoryKeys } from '../facts.js';

export const addForeignKeyValidating: Rule = {
  id: 'add-foreign-key-validating',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: ALL_PHASES,
  summary: 'Adding a foreign key that is validated under lock',
  why: 'PostgreSQL checks every existing row while holding SHARE ROW EXCLUSIVE on both tables: writes to both wait for the whole scan. MySQL with foreign_key_checks=1 copies the table (ALGORITHM=COPY).',
  lock: 'PostgreSQL: SHARE ROW EXCLUSIVE on both tables during the scan. MySQL: ALGORITHM=COPY.',
  fix: 'PostgreSQL: ADD CONSTRAINT … FOREIGN KEY … NOT VALID, then ALTER TABLE … VALIDATE CONSTRAINT … (which scans under a lock that lets reads and writes go on). MySQL: SET foreign_key_checks = 0 before the ALTER (INPLACE, no copy) and check orphans yourself.',
  examples: {
    bad: [{ sql: 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);' }, { sql: 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);', dialect: 'mysql' }],
    good: [{ sql: 'ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;' }, { sql: 'SET foreign_key_checks = 0;\nALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id), ALGORITHM=INPLACE, LOCK=NONE;\nSET foreign_key_checks = 1;', dialect: 'mysql' }, { sql: 'SET STATEMENT foreign_key_checks = 0 FOR ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id), ALGORITHM=INPLACE, LOCK=NONE;', dialect: 'mysql', note: 'MariaDB: the setting for this statement only' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const pg = pgAlterTable(context);
    if (pg && !pg.isNew) {
      for (const command of pg.commands) {
        if (command.subtype === 'AT_AddConstraint') {
          const constraint = command.cmd.def?.Constraint;
          if (constraint?.contype === 'CONSTR_FOREIGN' && !constraint.skip_validation) {
            hits.push(hit(spanFrom(context, constraint.location, command.last), `adds foreign key ${constraint.conname ?? ''} on ${pg.table} validated at once: writes to ${pg.table} and ${constraint.pktable?.relname ?? 'the referenced table'} wait for the scan of every row`.replace('  ', ' ')));
          }
        }
        if (command.subtype === 'AT_AddColumn') {
          for (const constraint of columnConstraints(command.cmd.def?.ColumnDef, 'CONSTR_FOREIGN')) {
            hits.push(hit(spanFrom(context, constraint.location, command.last), `adds column ${command.cmd.def.ColumnDef.colname} with REFERENCES: the new column is empty, but PostgreSQL still scans ${pg.table} under SHARE ROW EXCLUSIVE on ${constraint.pktable?.relname ?? 'the referenced table'}`, { severity: 'warning', fix: 'add the column first, then the foreign key NOT VALID and VALIDATE it' }));
          }
        }
      }
    }
    const my = context.dialect === 'mysql' ? mysqlAlterTable(context) : null;
    const checksOff = context.memory.get(memoryKeys.fkChecksOff) === true || ['0', 'OFF', 'FALSE'].includes(context.statement.statementSettings?.get('FOREIGN_KEY_CHECKS') ?? '');
    if (my && !my.isNew && !checksOff) {
      for (const clause of my.clauses) {
        if (clause.kind !== 'add-foreign-key') continue;
        hits.push(hit(clause.span, mysqlGuarded(my) ? `adds a foreign key on ${my.table} with foreign_key_checks=1: only ALGORITHM=COPY supports that, so the server refuses this statement` : `adds a foreign key on ${my.table} with foreign_key_checks=1: MySQL copies the table (ALGORITHM=COPY), blocking writes`, mysqlGuarded(my) ? { severity: 'warning' } : {}));
      }
    }
    return hits;
  },
};
