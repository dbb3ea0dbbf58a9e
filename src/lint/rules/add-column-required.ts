import type { Hit, Rule } from '../types.js';
import { FORWARD, OLD_APP_PHASES, columnConstraints, hit, mysqlAddedColumns, pgAddedColumns } from './helpers.js';

export const addColumnRequired: Rule = {
  id: 'add-column-required',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'Adding a NOT NULL column without a default',
  why: 'The old app inserts rows without the new column, and every such insert now fails. On PostgreSQL the ALTER itself fails as soon as the table holds a row.',
  lock: 'ACCESS EXCLUSIVE (PostgreSQL) / in-place rebuild (MySQL).',
  fix: 'Add the column nullable (or with a constant DEFAULT) in expand, backfill it, and make it NOT NULL in contract (NOT VALID check + VALIDATE + SET NOT NULL on PostgreSQL).',
  examples: {
    bad: [{ sql: 'ALTER TABLE users ADD COLUMN country char(2) NOT NULL;' }, { sql: 'ALTER TABLE users ADD COLUMN country CHAR(2) NOT NULL, ALGORITHM=INSTANT;', dialect: 'mysql' }],
    good: [{ sql: "ALTER TABLE users ADD COLUMN country char(2) NOT NULL DEFAULT 'US';" }, { sql: 'ALTER TABLE users ADD COLUMN country char(2);' }, { sql: "ALTER TABLE users ADD COLUMN country CHAR(2) NULL DEFAULT 'US', ALGORITHM=INSTANT;", dialect: 'mysql' }],
  },
  check(context) {
    const hits: Hit[] = [];
    for (const { alter, command, def } of pgAddedColumns(context)) {
      const notNull = columnConstraints(def, 'CONSTR_NOTNULL').length > 0 || columnConstraints(def, 'CONSTR_PRIMARY').length > 0;
      const filled = columnConstraints(def, 'CONSTR_DEFAULT').length > 0 || columnConstraints(def, 'CONSTR_IDENTITY').length > 0 || columnConstraints(def, 'CONSTR_GENERATED').length > 0 || /serial/.test(String(def?.typeName?.names?.[0]?.String?.sval ?? ''));
      if (notNull && !filled) hits.push(hit(command.span, `adds ${alter.table}.${def.colname} NOT NULL without a default: the ALTER fails on a non-empty table, and inserts of the old app version (which omit it) fail`));
    }
    // MySQL accepts the ALTER (it fills the implicit default); only the old app's inserts fail.
    const added = OLD_APP_PHASES.includes(context.phase) ? mysqlAddedColumns(context) : [];
    for (const { alter, clause, def } of added) {
      if (def.notNull && !def.hasDefault && !def.autoIncrement && !def.generated) {
        hits.push(hit(clause.span, `adds ${alter.table}.${clause.name} NOT NULL without a default: inserts of the old app version, which omit it, fail under strict sql_mode`));
      }
    }
    return hits;
  },
};
