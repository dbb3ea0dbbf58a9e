import type { Knex } from 'knex';
import { blockingLockTimeout, type TandemConfig } from '../../config/schema.js';
import type { DialectAdapter, TableName } from '../dialect-adapter.js';

/** Statements PostgreSQL refuses inside a transaction block. */
const OUTSIDE_TRANSACTION = [
  /^create (unique )?index concurrently\b/i,
  /^drop index concurrently\b/i,
  /^reindex\b.*\bconcurrently\b/i,
  /^vacuum\b/i,
  /^(create|drop) database\b/i,
  /^(create|drop) tablespace\b/i,
  /^alter system\b/i,
  /^alter table\b.*\bdetach partition\b.*\bconcurrently\b/i,
];

/** VALIDATE CONSTRAINT, data statements and function bodies take no lock the app's queries conflict with; DDL does. */
function queuesTrafficWhileWaiting(sql: string): boolean {
  return !/^(alter\s+table\s+.*\bvalidate\s+constraint\b|select|insert|update|delete|with|create\s+(or\s+replace\s+)?function)\b/is.test(sql.trim());
}

export const postgresAdapter: DialectAdapter = {
  dialect: 'postgres',
  transactionalDdl: true,

  quoteIdent: (name) => `"${name.replace(/"/g, '""')}"`,
  quoteTable(table: TableName) {
    return table.schema ? `${this.quoteIdent(table.schema)}.${this.quoteIdent(table.name)}` : this.quoteIdent(table.name);
  },

  sessionSetup(config: TandemConfig, applicationName: string) {
    const setup = [`SET lock_timeout = '${config.lockTimeoutMs}ms'`, `SET application_name = '${applicationName.replace(/'/g, "''").slice(0, 63)}'`];
    // A parallel scan (a NULL check, a backfill's count) or index build otherwise takes a core per
    // worker: on a small server, every core the app has.
    if (config.parallelWorkers !== null) {
      setup.push(`SET max_parallel_workers_per_gather = ${config.parallelWorkers}`, `SET max_parallel_maintenance_workers = ${config.parallelWorkers}`);
    }
    return setup;
  },
  backfillRole: [`SET LOCAL tandem.role = 'backfill'`],
  backfillRoleReset: [],
  transactionSetup: (config) => [`SET LOCAL lock_timeout = '${config.lockTimeoutMs}ms'`],
  // While a DDL waits for its lock, every query on the table queues behind it: those waits must be
  // short (and retried). VALIDATE CONSTRAINT, data statements and function bodies block nobody.
  statementSetup(sql, config) {
    const ms = queuesTrafficWhileWaiting(sql) ? blockingLockTimeout(config) : config.lockTimeoutMs;
    return [`SET LOCAL lock_timeout = '${ms}ms'`];
  },
  queuesTrafficWhileWaiting,
  mustRunOutsideTransaction: (sql) => OUTSIDE_TRANSACTION.some((pattern) => pattern.test(sql)),

  // 55P03 lock_not_available (lock_timeout), 40P01 deadlock_detected.
  isLockConflict: (error) => ['55P03', '40P01'].includes((error as { code?: string })?.code ?? ''),
  errorCode: (error) => (error as { code?: string })?.code,

  rows: <T>(result: unknown) => ((result as { rows?: T[] })?.rows ?? []) as T[],
  affectedRows: (result) => Number((result as { rowCount?: number })?.rowCount ?? 0),

  async primaryKey(db, table) {
    const result = await db.raw(
      `SELECT a.attname AS name
         FROM pg_index i
         JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, position) ON true
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = to_regclass(?) AND i.indisprimary
        ORDER BY k.position`,
      [this.quoteTable(table)],
    );
    return this.rows<{ name: string }>(result).map((row) => row.name);
  },
  async estimatedRows(db, table) {
    const result = await db.raw(`SELECT greatest(reltuples, 0)::bigint AS n FROM pg_class WHERE oid = to_regclass(?)`, [this.quoteTable(table)]);
    return Number(this.rows<{ n: string }>(result)[0]?.n ?? 0);
  },
  keyAsText: (column) => `${column}::text`,
  // Row comparison uses a multi-column index directly on PostgreSQL.
  keyCompare: (columns, operator, values) => ({
    sql: columns.length === 1 ? `${columns[0]} ${operator} ?` : `(${columns.join(', ')}) ${operator} (${columns.map(() => '?').join(', ')})`,
    bindings: values,
  }),

  async serverVersion(db) {
    const result = await db.raw('SHOW server_version');
    return String(this.rows<{ server_version: string }>(result)[0]?.server_version ?? 'unknown');
  },
};
