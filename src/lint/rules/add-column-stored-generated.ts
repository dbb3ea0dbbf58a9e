import type { Hit, Rule } from '../types.js';
import { FORWARD, columnConstraints, hit, mysqlAddedColumns, pgAddedColumns, spanFrom } from './helpers.js';

export const addColumnStoredGenerated: Rule = {
  id: 'add-column-stored-generated',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'Adding a STORED generated column to an existing table',
  why: 'A stored generated column is computed and written for every existing row: PostgreSQL rewrites the table under ACCESS EXCLUSIVE, MySQL copies it (ALGORITHM=COPY).',
  lock: 'PostgreSQL: ACCESS EXCLUSIVE for the rewrite. MySQL: ALGORITHM=COPY (writes blocked).',
  fix: 'Add a plain nullable column, fill it with a trigger for new writes and a backfill for old rows; or use a VIRTUAL generated column (MySQL, PostgreSQL 18+), which stores nothing.',
  examples: {
    bad: [{ sql: 'ALTER TABLE items ADD COLUMN total numeric GENERATED ALWAYS AS (price * qty) STORED;' }, { sql: 'ALTER TABLE items ADD COLUMN total DECIMAL(12,2) AS (price * qty) STORED;', dialect: 'mysql' }],
    good: [{ sql: 'ALTER TABLE items ADD COLUMN total numeric;' }, { sql: 'ALTER TABLE items ADD COLUMN total DECIMAL(12,2) AS (price * qty) VIRTUAL, ALGORITHM=INSTANT;', dialect: 'mysql' }],
  },
  check(context) {
    const hits: Hit[] = [];
    for (const { alter, command, def } of pgAddedColumns(context)) {
      for (const generated of columnConstraints(def, 'CONSTR_GENERATED')) {
        // PostgreSQL 18 adds VIRTUAL; libpg-query 17 only parses STORED.
        if (/\bvirtual\b/i.test(context.statement.sql.slice(generated.location))) continue;
        hits.push(hit(spanFrom(context, generated.location, command.last), `adds the stored generated column ${alter.table}.${def.colname}: PostgreSQL computes it for every row, rewriting the table under ACCESS EXCLUSIVE`));
      }
    }
    for (const { alter, clause, def } of mysqlAddedColumns(context)) {
      if (def.generated === 'stored') hits.push(hit(clause.span, `adds the stored generated column ${alter.table}.${clause.name}: MySQL copies the table (ALGORITHM=COPY), blocking writes`));
    }
    return hits;
  },
};
