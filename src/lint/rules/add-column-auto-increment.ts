import type { Hit, Rule } from '../types.js';
import { FORWARD, columnConstraints, hit, mysqlAlterTable, mysqlColumnDef, pgAlterTable, spanAt, spanFrom } from './helpers.js';

export const addColumnAutoIncrement: Rule = {
  id: 'add-column-auto-increment',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'Adding a serial, identity or AUTO_INCREMENT column to an existing table',
  why: 'Every existing row needs its own value from the sequence: PostgreSQL rewrites the table under ACCESS EXCLUSIVE (nextval() is volatile), MySQL copies the table (ALGORITHM=COPY).',
  lock: 'PostgreSQL: ACCESS EXCLUSIVE for the rewrite. MySQL: ALGORITHM=COPY (writes blocked).',
  fix: 'Add a nullable bigint column, attach a sequence default with ALTER COLUMN … SET DEFAULT nextval(…) (catalog-only), backfill existing rows in batches, then add the constraints.',
  examples: {
    bad: [{ sql: 'ALTER TABLE events ADD COLUMN seq bigserial;' }, { sql: 'ALTER TABLE events ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;' }, { sql: 'ALTER TABLE events ADD COLUMN seq BIGINT NOT NULL AUTO_INCREMENT UNIQUE;', dialect: 'mysql' }],
    good: [{ sql: 'CREATE TABLE events (id bigserial PRIMARY KEY);' }, { sql: 'ALTER TABLE events ADD COLUMN seq bigint;' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const pg = pgAlterTable(context);
    if (pg && !pg.isNew) {
      for (const command of pg.commands) {
        if (command.subtype !== 'AT_AddColumn') continue;
        const def = command.cmd.def?.ColumnDef;
        const typeName = String(def?.typeName?.names?.[def.typeName.names.length - 1]?.String?.sval ?? '').toLowerCase();
        if (/^(small|big)?serial[248]?$/.test(typeName)) hits.push(hit(spanAt(context, def.typeName.location), `adds ${pg.table}.${def.colname} as ${typeName}: every row gets a nextval(), rewriting the table under ACCESS EXCLUSIVE`));
        for (const identity of columnConstraints(def, 'CONSTR_IDENTITY')) hits.push(hit(spanFrom(context, identity.location, command.last), `adds the identity column ${pg.table}.${def.colname}: every row gets a value, rewriting the table under ACCESS EXCLUSIVE`));
      }
    }
    const my = context.dialect === 'mysql' ? mysqlAlterTable(context) : null;
    if (my && !my.isNew) {
      for (const clause of my.clauses) {
        if (clause.kind !== 'add-column') continue;
        const def = mysqlColumnDef(context.statement.tokens, clause.defStart, clause.last);
        if (def.autoIncrement) hits.push(hit(clause.span, `adds the AUTO_INCREMENT column ${my.table}.${clause.name}: MySQL copies the table (ALGORITHM=COPY), blocking writes`));
      }
    }
    return hits;
  },
};
