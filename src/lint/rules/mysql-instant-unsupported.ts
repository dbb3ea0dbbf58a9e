import { atLeast } from '../config.js';
import { nullabilityKey } from '../facts.js';
import type { Hit, Rule, Version } from '../types.js';
import { ALL_PHASES, hit, mysqlAlterTable, mysqlCanonicalType, mysqlColumnDef, mysqlTarget, type MysqlClause } from './helpers.js';
import type { RuleContext } from '../types.js';

export const mysqlInstantUnsupported: Rule = {
  id: 'mysql-instant-unsupported',
  severity: 'warning',
  dialects: ['mysql'],
  phases: ALL_PHASES,
  summary: 'ALGORITHM=INSTANT for an operation the target version cannot do instantly',
  why: 'INSTANT support grew version by version: ADD COLUMN (last position) from MySQL 8.0.12 / MariaDB 10.3, at any position and DROP COLUMN from MySQL 8.0.29 / MariaDB 10.4, RENAME COLUMN from MySQL 8.0.28 / MariaDB 10.4. Index builds, stored generated columns, type changes and nullability changes are never instant; a CHANGE that keeps the type and nullability (a rename, a new default) is. The server refuses such a statement: the migration fails (nothing is blocked).',
  lock: 'None: the statement is refused.',
  fix: 'Use ALGORITHM=INPLACE, LOCK=NONE where the operation supports it, or target the version you run (--mysql-version / --mariadb-version).',
  examples: {
    bad: [{ sql: 'ALTER TABLE users DROP COLUMN bio, ALGORITHM=INSTANT;', dialect: 'mysql', phase: 'contract', versions: { mysql: [8, 0, 20] } }, { sql: 'ALTER TABLE users ADD INDEX users_email_idx (email), ALGORITHM=INSTANT;', dialect: 'mysql' }],
    good: [{ sql: 'ALTER TABLE users DROP COLUMN bio, ALGORITHM=INSTANT;', dialect: 'mysql', phase: 'contract' }, { sql: 'ALTER TABLE users ADD COLUMN bio TEXT, ALGORITHM=INSTANT;', dialect: 'mysql', versions: { mariadb: [10, 3] } }],
  },
  check(context) {
    const alter = mysqlAlterTable(context);
    if (!alter || alter.isNew || alter.algorithm !== 'INSTANT') return [];
    const hits: Hit[] = [];
    const target = mysqlTarget(context);
    for (const clause of alter.clauses) {
      const needed = instantSince(context, clause, target.mariadb);
      if (needed === true) continue;
      const message = needed === false ? `this operation is never INSTANT on ${target.mariadb ? 'MariaDB' : 'MySQL'}: the server refuses the statement` : `INSTANT needs ${target.mariadb ? 'MariaDB' : 'MySQL'} ${needed.join('.')}+ for this operation (target: ${target.name}): the server refuses the statement`;
      if (needed === false || !atLeast(target.version, needed)) hits.push(hit(clause.span, message));
    }
    return hits;
  },
};

/** true: always instant; false: never; a version: instant from that version. */
function instantSince(context: RuleContext, clause: MysqlClause, mariadb: boolean): Version | boolean {
  switch (clause.kind) {
    case 'algorithm':
    case 'lock':
    case 'rename-index':
    case 'alter-column':
    case 'table-option':
    case 'table-charset':
    case 'drop-index':
      return true;
    case 'add-column': {
      const def = mysqlColumnDef(context.statement.tokens, clause.defStart, clause.last);
      if (def.generated === 'stored' || def.autoIncrement || def.inlineKey) return false;
      if (def.position) return mariadb ? [10, 4] : [8, 0, 29];
      return mariadb ? [10, 3] : [8, 0, 12];
    }
    case 'drop-column':
      return mariadb ? [10, 4] : [8, 0, 29];
    case 'rename-column':
    case 'rename-table':
      return mariadb ? [10, 4] : [8, 0, 28];
    case 'modify-column':
    case 'change-column': {
      // Only appending ENUM/SET values or metadata-only changes (name, default, comment) are instant;
      // the old definition decides. A new type or nullability rewrites the rows (InnoDB's null bitmap).
      const columns = context.schema.get(clauseTable(context));
      const old = columns?.get(clause.name);
      if (old === undefined) return true;
      const def = mysqlColumnDef(context.statement.tokens, clause.defStart, clause.last);
      if (/^(ENUM|SET)\(/.test(old) && def.fullType.startsWith(old.slice(0, -1))) return true;
      if (mysqlCanonicalType(old) !== mysqlCanonicalType(def.fullType)) return false;
      const wasNotNull = columns?.get(nullabilityKey(clause.name));
      if ((wasNotNull === undefined && def.notNull) || (wasNotNull !== undefined && (wasNotNull === 'not null') !== def.notNull)) return false;
      const renamed = clause.kind === 'change-column' && clause.value !== clause.name;
      return renamed ? (mariadb ? [10, 4] : [8, 0, 28]) : true;
    }
    default:
      return false;
  }
}

function clauseTable(context: RuleContext): string {
  return mysqlAlterTable(context)?.table ?? '';
}
