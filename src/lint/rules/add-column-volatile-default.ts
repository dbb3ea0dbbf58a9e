import { spanOf } from '../parse/tokens.js';
import type { Hit, Rule } from '../types.js';
import { FORWARD, columnConstraints, defaultVolatility, hit, mysqlAddedColumns, mysqlGuarded, pgAddedColumns, pgAtLeast, spanFrom } from './helpers.js';

export const addColumnVolatileDefault: Rule = {
  id: 'add-column-volatile-default',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'Adding a column whose default must be computed for every row',
  why: 'PostgreSQL 11+ stores a constant (or stable, like now()) default in the catalog and adds the column instantly; a volatile default (random(), gen_random_uuid(), clock_timestamp(), nextval()) must be computed per row, so the whole table is rewritten under ACCESS EXCLUSIVE. Before PostgreSQL 11 any default rewrites. On MySQL an expression default (DEFAULT (…)) cannot be added INSTANT and rebuilds the table.',
  lock: 'PostgreSQL: ACCESS EXCLUSIVE for the whole rewrite. MySQL: table rebuild.',
  fix: 'Add the column without the default (or with a constant), set the default for new rows with ALTER COLUMN … SET DEFAULT (catalog-only), and fill existing rows in the backfill phase.',
  examples: {
    bad: [{ sql: 'ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();' }, { sql: "ALTER TABLE orders ADD COLUMN source text DEFAULT 'web';", versions: { postgres: [10] } }, { sql: 'ALTER TABLE orders ADD COLUMN token CHAR(36) DEFAULT (UUID());', dialect: 'mysql' }],
    good: [{ sql: "ALTER TABLE orders ADD COLUMN source text DEFAULT 'web';" }, { sql: 'ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT now();' }, { sql: "ALTER TABLE orders ADD COLUMN source VARCHAR(10) DEFAULT 'web', ALGORITHM=INSTANT;", dialect: 'mysql' }],
  },
  check(context) {
    const hits: Hit[] = [];
    for (const { alter, command, def } of pgAddedColumns(context)) {
      const constraint = columnConstraints(def, 'CONSTR_DEFAULT')[0];
      if (!constraint) continue;
      const target = `${alter.table}.${def.colname}`;
      const span = spanFrom(context, constraint.location, command.last);
      if (!pgAtLeast(context, 11)) {
        hits.push(hit(span, `adds ${target} with a default: before PostgreSQL 11 this rewrites the whole table under ACCESS EXCLUSIVE (target: PostgreSQL ${context.versions.postgres.join('.')})`));
        continue;
      }
      const volatility = defaultVolatility(constraint.raw_expr);
      if (volatility.kind === 'volatile') {
        hits.push(hit(span, `adds ${target} with the volatile default ${volatility.name}(): PostgreSQL computes it for every row, rewriting the table under ACCESS EXCLUSIVE`));
      } else if (volatility.kind === 'unknown') {
        hits.push(hit(span, `adds ${target} with a default calling ${volatility.name}(): if that function is volatile, PostgreSQL rewrites the table under ACCESS EXCLUSIVE`, { severity: 'warning' }));
      }
    }
    for (const { alter, clause, def } of mysqlAddedColumns(context)) {
      if (def.defaultIsExpression) {
        hits.push(hit(spanOf(context.statement.tokens, clause.first, clause.last), `adds ${alter.table}.${clause.name} with an expression default: not INSTANT, MySQL rebuilds the table`, { severity: mysqlGuarded(alter) ? 'warning' : 'error' }));
      }
    }
    return hits;
  },
};
