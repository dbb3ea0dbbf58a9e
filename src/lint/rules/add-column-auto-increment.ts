import type { Hit, Rule } from '../types.js';
import { FORWARD, columnConstraints, hit, mysqlAddedColumns, pgAddedColumns, spanAt, spanFrom } from './helpers.js';

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
    for (const { alter, command, def } of pgAddedColumns(context)) {
      const typeName = String(def?.typeName?.names?.[def.typeName.names.length - 1]?.String?.sval ?? '').toLowerCase();
      if (/^(small|big)?serial[248]?$/.test(typeName)) hits.push(hit(spanAt(context, def.typeName.location), `adds ${alter.table}.${def.colname} as ${typeName}: every row gets a nextval(), rewriting the table under ACCESS EXCLUSIVE`));
      for (const identity of columnConstraints(def, 'CONSTR_IDENTITY')) hits.push(hit(spanFrom(context, identity.location, command.last), `adds the identity column ${alter.table}.${def.colname}: every row gets a value, rewriting the table under ACCESS EXCLUSIVE`));
    }
    for (const { alter, clause, def } of mysqlAddedColumns(context)) {
      if (def.autoIncrement) hits.push(hit(clause.span, `adds the AUTO_INCREMENT column ${alter.table}.${clause.name}: MySQL copies the table (ALGORITHM=COPY), blocking writes`));
    }
    return hits;
  },
};
