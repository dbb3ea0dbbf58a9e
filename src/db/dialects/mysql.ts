import type { Knex } from 'knex';
import type { TandemConfig } from '../../config/schema.js';
import type { DialectAdapter, TableName } from '../dialect-adapter.js';

type MysqlError = { code?: string; errno?: number };

export const mysqlAdapter: DialectAdapter = {
  dialect: 'mysql',
  transactionalDdl: false,

  quoteIdent: (name) => `\`${name.replace(/`/g, '``')}\``,
  quoteTable(table: TableName) {
    return table.schema ? `${this.quoteIdent(table.schema)}.${this.quoteIdent(table.name)}` : this.quoteIdent(table.name);
  },

  sessionSetup(config: TandemConfig) {
    // lock_wait_timeout bounds metadata-lock waits (DDL); innodb_lock_wait_timeout bounds row-lock waits (backfill batches).
    const seconds = config.mysqlLockWaitTimeoutSeconds;
    return [`SET SESSION lock_wait_timeout = ${seconds}`, `SET SESSION innodb_lock_wait_timeout = ${seconds}`];
  },
  backfillRole: [`SET @tandem_role = 'backfill'`],
  backfillRoleReset: [`SET @tandem_role = NULL`],
  transactionSetup: () => [],
  mustRunOutsideTransaction: () => false,

  // 1205 lock wait timeout, 1213 deadlock.
  isLockConflict: (error) => {
    const err = error as MysqlError;
    return err?.errno === 1205 || err?.errno === 1213 || err?.code === 'ER_LOCK_WAIT_TIMEOUT' || err?.code === 'ER_LOCK_DEADLOCK';
  },
  errorCode: (error) => (error as MysqlError)?.code,

  rows: <T>(result: unknown) => {
    const first = Array.isArray(result) ? result[0] : result;
    return (Array.isArray(first) ? first : []) as T[];
  },
  affectedRows: (result) => {
    const first = (Array.isArray(result) ? result[0] : result) as { affectedRows?: number };
    return Number(first?.affectedRows ?? 0);
  },

  async primaryKey(db, table) {
    const result = await db.raw(
      `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'
        ORDER BY ORDINAL_POSITION`,
      [table.schema ?? null, table.name],
    );
    return this.rows<{ name: string }>(result).map((row) => row.name);
  },
  async estimatedRows(db, table) {
    const result = await db.raw(
      `SELECT TABLE_ROWS AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?`,
      [table.schema ?? null, table.name],
    );
    return Number(this.rows<{ n: number }>(result)[0]?.n ?? 0);
  },
  keyAsText: (column) => column,
  // MySQL and MariaDB do not always use an index range for row constructors; the expanded form they do.
  keyCompare(columns, operator, values) {
    if (columns.length === 1) return { sql: `${columns[0]} ${operator} ?`, bindings: values };
    const strict = operator === '>' ? '>' : '<';
    const terms = columns.map((column, i) => {
      const equal = columns.slice(0, i).map((prefix) => `${prefix} = ?`);
      const last = i === columns.length - 1 && operator === '<=' ? '<=' : strict;
      return `(${[...equal, `${column} ${last} ?`].join(' AND ')})`;
    });
    // (a > ?) OR (a = ? AND b > ?) …: each term repeats the values of the columns before it.
    return { sql: `(${terms.join(' OR ')})`, bindings: values.flatMap((_, i) => values.slice(0, i + 1)) };
  },

  async serverVersion(db) {
    const result = await db.raw('SELECT VERSION() AS version');
    return String(this.rows<{ version: string }>(result)[0]?.version ?? 'unknown');
  },
};


/**
 * MariaDB (10.3+) takes lock_wait_timeout = 0 (NOWAIT), where MySQL and the session setting only
 * take whole seconds: a metadata-only DDL that meets a long transaction fails at once (error 1205,
 * retried with backoff) instead of queueing every app query behind it for a second or more. Only
 * for statements that hold the exclusive lock briefly (triggers, INSTANT changes, renames, defaults,
 * NOCOPY changes that add nothing, such as dropping an index): an INPLACE or COPY rebuild also
 * upgrades its lock at the end, and failing there would throw the whole rebuild away, so those keep
 * the session's timeout.
 */
export function mariadbNowait(sql: string): string {
  // tandem's own `SET STATEMENT foreign_key_checks = 0 FOR ALTER TABLE …` (mysql-table-copy.ts) is
  // judged by the ALTER, and the timeout joins its settings.
  const prefix = /^\s*SET\s+STATEMENT\s+([\s\S]+?)\s+FOR\s+(?=ALTER\s+TABLE\b)/i.exec(sql);
  const trimmed = prefix ? sql.slice(prefix[0].length) : sql.trimStart();
  const trigger = /^(CREATE\s+(OR\s+REPLACE\s+)?(DEFINER\s*=\s*\S+\s+)?TRIGGER|DROP\s+TRIGGER)\b/i.test(trimmed);
  const alter = /^ALTER\s+TABLE\b/i.test(trimmed);
  // A table copy's swap (mysql-table-copy.ts): renaming is instant.
  const rename = /^RENAME\s+TABLES?\b/i.test(trimmed);
  const unquoted = trimmed.replace(/`[^`]*`/g, '');
  // NOCOPY adds a foreign key only with foreign_key_checks off, and then as metadata (with them on it refuses).
  const addsOnlyForeignKeys = (unquoted.match(/\bADD\b/gi) ?? []).length === (unquoted.match(/\bADD\s+(CONSTRAINT\s+(\S+\s+)?)?FOREIGN\s+KEY\b/gi) ?? []).length;
  const instant = /ALGORITHM\s*=\s*INSTANT/i.test(trimmed) || (/ALGORITHM\s*=\s*NOCOPY/i.test(trimmed) && addsOnlyForeignKeys) || (!/ALGORITHM\s*=/i.test(trimmed) && !/\b(ADD|MODIFY|CHANGE|DROP|CONVERT|FORCE|ENGINE|ORDER|PARTITION)\b/i.test(unquoted));
  if (!trigger && !rename && !(alter && instant)) return sql;
  return `SET STATEMENT lock_wait_timeout = 0${prefix ? `, ${prefix[1]}` : ''} FOR ${trimmed}`;
}

/**
 * A NOWAIT statement fails as soon as anyone holds the table's metadata lock, which under traffic
 * is mostly an app statement that ends within milliseconds. Failing queues nobody, so try again a
 * few times right away (about 0.3 s in all) before the caller's slower backoff takes over, which is
 * meant for a long transaction.
 */
export async function retryNowaitConflicts<T>(step: () => Promise<T>, isLockConflict: (error: unknown) => boolean, attempts = 20): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!isLockConflict(error) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
    }
  }
}
