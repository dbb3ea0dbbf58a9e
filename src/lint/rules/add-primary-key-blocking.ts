import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, columnConstraints, hit, mysqlAlterTable, mysqlGuarded, pgAlterTable, spanFrom } from './helpers.js';

export const addPrimaryKeyBlocking: Rule = {
  id: 'add-primary-key-blocking',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: ALL_PHASES,
  summary: 'Adding a primary key that builds its index (and checks NOT NULL) under lock',
  why: 'PostgreSQL builds the primary key index, and proves its columns NOT NULL by a scan, under ACCESS EXCLUSIVE. MySQL rebuilds the clustered index: the whole table is rewritten (in place, but long).',
  lock: 'PostgreSQL: ACCESS EXCLUSIVE for the build. MySQL: table rebuild (INPLACE; COPY when a column must become NOT NULL without strict mode).',
  fix: 'PostgreSQL: CREATE UNIQUE INDEX CONCURRENTLY, make the columns NOT NULL the safe way (NOT VALID check, VALIDATE, SET NOT NULL), then ADD CONSTRAINT … PRIMARY KEY USING INDEX. MySQL: run it with ALGORITHM=INPLACE, LOCK=NONE so it never blocks writes, at a quiet time.',
  examples: {
    bad: [{ sql: 'ALTER TABLE events ADD PRIMARY KEY (id);' }, { sql: 'ALTER TABLE events ADD PRIMARY KEY (id);', dialect: 'mysql' }],
    good: [{ sql: 'ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_id_idx;' }, { sql: 'ALTER TABLE events ADD PRIMARY KEY (id), ALGORITHM=INPLACE, LOCK=NONE;', dialect: 'mysql' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const alter = pgAlterTable(context);
    if (alter && !alter.isNew) {
      for (const command of alter.commands) {
        const constraints = command.subtype === 'AT_AddConstraint' ? [command.cmd.def?.Constraint] : command.subtype === 'AT_AddColumn' ? columnConstraints(command.cmd.def?.ColumnDef, 'CONSTR_PRIMARY') : [];
        for (const constraint of constraints) {
          if (constraint?.contype === 'CONSTR_PRIMARY' && !constraint.indexname) {
            hits.push(hit(spanFrom(context, constraint.location, command.last), `adds a primary key on ${alter.table}: its index is built (and NOT NULL proven) under ACCESS EXCLUSIVE`));
          }
        }
      }
    }
    const my = context.dialect === 'mysql' ? mysqlAlterTable(context) : null;
    if (my && !my.isNew && !mysqlGuarded(my)) {
      for (const clause of my.clauses) {
        if (clause.kind === 'add-primary-key') hits.push(hit(clause.span, `adds a primary key on ${my.table}: InnoDB rebuilds the whole table; without LOCK=NONE it may block writes`, { severity: 'warning' }));
      }
    }
    return hits;
  },
};
