import type { MysqlClauseKind } from './helpers.js';
import type { Rule } from '../types.js';
import { ALL_PHASES, hit, mysqlAlterTable } from './helpers.js';

/** Clauses that are metadata-only on every supported version: no reason to insist on ALGORITHM/LOCK. */
const HARMLESS = new Set<MysqlClauseKind>(['rename-index', 'alter-column', 'alter-index', 'drop-index', 'table-option', 'table-charset', 'algorithm', 'lock', 'drop-foreign-key', 'drop-check', 'rename-table', 'rename-column']);

export const mysqlUnguardedAlter: Rule = {
  id: 'mysql-unguarded-alter',
  severity: 'warning',
  dialects: ['mysql'],
  phases: ALL_PHASES,
  summary: 'ALTER TABLE without ALGORITHM= or LOCK=',
  why: 'Without ALGORITHM/LOCK, MySQL silently picks the best algorithm it can, which may be COPY (writes blocked for the whole copy) when the operation or the server version does not support better. With ALGORITHM=INSTANT or ALGORITHM=INPLACE, LOCK=NONE it refuses instead, and the migration fails safely.',
  lock: 'Whatever MySQL picks: INSTANT, INPLACE, or COPY.',
  fix: 'State what you expect: `, ALGORITHM=INSTANT` for metadata-only changes, `, ALGORITHM=INPLACE, LOCK=NONE` for online rebuilds and index builds.',
  examples: { bad: [{ sql: 'ALTER TABLE users ADD COLUMN bio TEXT;', dialect: 'mysql' }], good: [{ sql: 'ALTER TABLE users ADD COLUMN bio TEXT, ALGORITHM=INSTANT;', dialect: 'mysql' }, { sql: 'ALTER TABLE users ALTER COLUMN locale SET DEFAULT \'en\';', dialect: 'mysql' }, { sql: 'ALTER TABLE events DROP PARTITION p2020;', dialect: 'mysql', note: 'partition maintenance: MariaDB takes no ALGORITHM or LOCK with it' }] },
  check(context) {
    const alter = mysqlAlterTable(context);
    if (!alter || alter.isNew || alter.algorithm || alter.lock) return [];
    if (alter.clauses.every((c) => HARMLESS.has(c.kind))) return [];
    // Partition maintenance: MariaDB takes no ALGORITHM or LOCK with it (a syntax error), so there is
    // nothing to state; mysql-partition-copy reports the clauses that move rows.
    if (alter.clauses.every((c) => c.kind === 'partition')) return [];
    return [hit(alter.tableSpan, `ALTER TABLE ${alter.table} states neither ALGORITHM nor LOCK: MySQL falls back to copying the table (blocking writes) when it cannot do better`)];
  },
};
