import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, hit, mysqlAlterTable, mysqlGuarded, pg, pgAlterTable, spanFrom } from './helpers.js';
import { spanOf } from '../parse/tokens.js';

export const addCheckValidating: Rule = {
  id: 'add-check-validating',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: ALL_PHASES,
  summary: 'Adding a CHECK constraint that is validated under lock',
  why: 'PostgreSQL checks every existing row while holding ACCESS EXCLUSIVE: no reads or writes during the scan. A domain constraint scans every column of the domain. MySQL 8.0.16+ (and MariaDB) copies the table to add a CHECK.',
  lock: 'PostgreSQL: ACCESS EXCLUSIVE for the scan. MySQL: ALGORITHM=COPY.',
  fix: 'PostgreSQL: ADD CONSTRAINT … CHECK (…) NOT VALID, then VALIDATE CONSTRAINT in a later statement (tandem gives VALIDATE its own transaction). MySQL: enforce the rule in a trigger or the app, or accept the copy in a maintenance window.',
  examples: {
    bad: [{ sql: 'ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0);' }, { sql: 'ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0);', dialect: 'mysql' }],
    good: [{ sql: 'ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT orders_qty_positive;' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const alter = pgAlterTable(context);
    if (alter && !alter.isNew) {
      for (const command of alter.commands) {
        const constraint = command.subtype === 'AT_AddConstraint' ? command.cmd.def?.Constraint : null;
        if (constraint?.contype === 'CONSTR_CHECK' && !constraint.skip_validation) {
          hits.push(hit(spanFrom(context, constraint.location, command.last), `adds CHECK ${constraint.conname ?? ''} on ${alter.table} validated at once: PostgreSQL scans every row under ACCESS EXCLUSIVE`.replace('  ', ' ')));
        }
      }
    }
    const domain = pg(context, 'AlterDomainStmt');
    if (domain && domain.subtype === 'C' && !domain.def?.Constraint?.skip_validation) {
      hits.push(hit(spanOf(context.statement.tokens, 0, context.statement.tokens.length - 1), 'adds a domain constraint validated at once: every column of the domain is scanned under lock', { fix: 'add it NOT VALID, then ALTER DOMAIN … VALIDATE CONSTRAINT' }));
    }
    const my = context.dialect === 'mysql' ? mysqlAlterTable(context) : null;
    if (my && !my.isNew) {
      for (const clause of my.clauses) {
        if (clause.kind === 'add-check') hits.push(hit(clause.span, mysqlGuarded(my) ? `adds a CHECK on ${my.table}: only ALGORITHM=COPY supports that, so the server refuses this statement` : `adds a CHECK on ${my.table}: MySQL copies the table (ALGORITHM=COPY), blocking writes`, mysqlGuarded(my) ? { severity: 'warning' } : {}));
      }
    }
    return hits;
  },
};
