import { isWord, spanOf } from '../parse/tokens.js';
import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, hit, mysqlAlterTable } from './helpers.js';

export const mysqlTableRebuild: Rule = {
  id: 'mysql-table-rebuild',
  severity: 'warning',
  dialects: ['mysql'],
  phases: ALL_PHASES,
  summary: 'Rebuilding a table (FORCE, ENGINE=, ROW_FORMAT=, OPTIMIZE TABLE)',
  why: 'These rewrite the whole table. For InnoDB the rebuild is online (INPLACE, writes go on), but it takes I/O, doubles disk space for a while, and lags replicas by its duration. Changing the engine to something other than InnoDB copies the table with writes blocked.',
  lock: 'InnoDB: INPLACE rebuild, brief exclusive metadata locks at start and end. Engine change: ALGORITHM=COPY.',
  fix: 'Run rebuilds outside migrations (a maintenance job), or with an online schema change tool; never change the engine of a live table in a migration.',
  examples: { bad: [{ sql: 'OPTIMIZE TABLE events;', dialect: 'mysql' }, { sql: 'ALTER TABLE events ENGINE=MyISAM;', dialect: 'mysql' }], good: [{ sql: 'ANALYZE TABLE events;', dialect: 'mysql' }] },
  check(context) {
    const hits: Hit[] = [];
    const tokens = context.statement.tokens;
    if (isWord(tokens[0], 'OPTIMIZE')) {
      hits.push(hit(spanOf(tokens, 0, tokens.length - 1), 'OPTIMIZE TABLE rebuilds the whole table (online for InnoDB, but long and replica-lagging)'));
      return hits;
    }
    const alter = mysqlAlterTable(context);
    if (!alter || alter.isNew) return hits;
    for (const clause of alter.clauses) {
      if (clause.kind === 'engine' && clause.value !== 'INNODB') hits.push(hit(clause.span, `changes the engine of ${alter.table} to ${clause.value}: MySQL copies the table, blocking writes`, { severity: 'error' }));
      else if (clause.kind === 'engine' || clause.kind === 'force' || clause.kind === 'row-format') hits.push(hit(clause.span, `rebuilds ${alter.table} (online for InnoDB, but long and replica-lagging)`));
    }
    return hits;
  },
};
