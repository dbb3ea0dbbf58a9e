import type { Knex } from 'knex';
import type { TandemConfig } from '../config/schema.js';
import type { Dialect } from './url.js';

/** A table named in SQL, split into its parts (schema may be absent). Names are unquoted. */
export interface TableName {
  schema?: string;
  name: string;
}

/**
 * Everything that differs between PostgreSQL and MySQL/MariaDB lives behind this interface, so the
 * runner, the ledger and the backfill are written once.
 */
export interface DialectAdapter {
  readonly dialect: Dialect;
  /** PostgreSQL runs DDL inside transactions; MySQL commits implicitly around each DDL statement. */
  readonly transactionalDdl: boolean;

  quoteIdent(name: string): string;
  quoteTable(table: TableName): string;

  /** Statements run once on the runner's session: lock timeouts and the like. */
  sessionSetup(config: TandemConfig, applicationName: string): string[];
  /** Run at the start of every transaction the runner opens (PostgreSQL: SET LOCAL lock_timeout). */
  transactionSetup(config: TandemConfig): string[];
  /**
   * Run before each statement of a transaction step (PostgreSQL: a DDL that queues app queries
   * behind it while it waits gets the short blockingLockTimeoutMs, anything else lockTimeoutMs).
   */
  statementSetup?(normalizedSql: string, config: TandemConfig): string[];
  /** PostgreSQL: while this statement waits for its lock, the app's queries on the table queue behind it. */
  queuesTrafficWhileWaiting?(normalizedSql: string): boolean;
  /**
   * Marks a backfill batch's transaction, so dual-write shims (tandem's and the user's own) can
   * tell tandem's backfill from app writes: PostgreSQL `tandem.role`, MySQL `@tandem_role`.
   */
  backfillRole: string[];
  /** Clears the mark after a backfill walk (MySQL's variable outlives the transaction). */
  backfillRoleReset: string[];
  /** A statement that must not run inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, …). */
  mustRunOutsideTransaction(normalizedSql: string): boolean;

  /** The error is a lock wait that timed out or a deadlock: retry the step after a pause. */
  isLockConflict(error: unknown): boolean;
  /** The error code for messages (SQLSTATE or MySQL error name). */
  errorCode(error: unknown): string | undefined;

  rows<T = Record<string, unknown>>(result: unknown): T[];
  affectedRows(result: unknown): number;

  /** Primary-key columns in key order, or [] when the table has none. */
  primaryKey(db: Knex | Knex.Transaction, table: TableName): Promise<string[]>;
  /** Rough row count from the catalog (no scan). */
  estimatedRows(db: Knex | Knex.Transaction, table: TableName): Promise<number>;
  /** SQL expression that returns a key column as exact text (for saving keys in the ledger). */
  keyAsText(columnSql: string): string;
  /** `(a, b) > (?, ?)` (or `<=`) with its bindings, in the form this database uses an index for. */
  keyCompare(columnsSql: string[], operator: '>' | '<=', values: string[]): { sql: string; bindings: string[] };

  serverVersion(db: Knex): Promise<string>;
}
