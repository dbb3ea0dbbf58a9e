/**
 * pgroll/reshape-style harness for declarative operations: one migration of operations on top of a
 * plain S0 schema, driven phase by phase, with an old-version and a new-version app client.
 *
 *   const h = await openOperationHarness(db, {
 *     setup: { postgres: 'CREATE TABLE users (id int PRIMARY KEY, nickname text); INSERT …', mysql: '…' },
 *     operations: [{ renameColumn: { table: 'users', from: 'nickname', to: 'handle' } }],
 *   });
 *   const s0 = await h.schemaSnapshot();
 *   await h.expand();
 *   await h.oldClient.insert('users', { id: 10, nickname: 'a' });
 *   expect(await h.newClient.select('users', { id: 10 })).toEqual([{ id: 10, nickname: 'a', handle: 'a' }]);
 *   await h.rollback();
 *   expect(await h.schemaSnapshot()).toEqual(s0);
 *   await h.close();
 *
 * Give every harness a FRESH database (createTestDatabase per test): the ledger remembers the
 * migration ids. S0 is written as `20260101000000_s0.sql` and taken through all phases when the
 * harness opens; the operations are `20260102000000_op.json`, which the phase methods then drive.
 *
 * The clients do not set any session marker (no tandem.role): each app version simply uses the
 * column names it knows, as the default shims promise. On PostgreSQL and MySQL each client has its
 * own connection; PGlite has a single one, so there both clients (and schemaSnapshot) use tandem's
 * session between phases, which is the same traffic since nothing runs concurrently.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';
import { collectingReporter, connect, type Tandem, type TandemConfigInput } from '../../src/index.js';
import type { TestContext } from 'vitest';
import { rowsOf } from './app-traffic.js';
import { createTestDatabase, type TestDatabase, type TestDbKind } from './databases.js';

export type Dialect = 'postgres' | 'mysql';
export type Row = Record<string, unknown>;
export type PhaseSummaryLike = Awaited<ReturnType<Tandem['expand']>>;

/** S0 setup SQL: one script for both dialects, or one per dialect (PGlite uses `postgres`). */
export type SetupSql = string | { postgres: string; mysql: string };

export interface OperationHarnessSpec {
  setup: SetupSql;
  /** The operations in their JSON form, e.g. `{ renameColumn: { table, from, to } }`. */
  operations: unknown[];
  /** Overrides of the harness config (small backfill batches, short lock timeouts). */
  config?: TandemConfigInput;
}

/** An app version's view of the database: only the tables and columns the test hands it. */
export interface AppClient {
  readonly name: 'old' | 'new';
  readonly knex: Knex;
  insert(table: string, row: Row): Promise<void>;
  /** Rows matching `where` (all rows when omitted), ordered by `orderBy` (default `id`). */
  select(table: string, where?: Row, orderBy?: string): Promise<Row[]>;
  /** Number of rows updated. */
  update(table: string, set: Row, where: Row): Promise<number>;
  /** Column names of the table as this client sees them, in table order. */
  columns(table: string): Promise<string[]>;
  raw<T = Row>(sql: string, bindings?: readonly unknown[]): Promise<T[]>;
}

/** The schema outside tandem's ledger, as sorted readable lines, so `toEqual` diffs show what changed. */
export interface SchemaSnapshot {
  columns: string[];
  indexes: string[];
  constraints: string[];
  triggers: string[];
  views: string[];
  functions: string[];
}

export interface OperationHarness {
  db: TestDatabase;
  dialect: Dialect;
  tandem: Tandem;
  dir: string;
  /** Id of the operations migration (`20260102000000_op`). */
  migrationId: string;
  reporter: ReturnType<typeof collectingReporter>;
  expand(): Promise<PhaseSummaryLike>;
  backfill(): Promise<PhaseSummaryLike>;
  contract(): Promise<PhaseSummaryLike>;
  /** Rolls back the operations migration. */
  rollback(): Promise<PhaseSummaryLike>;
  oldClient: AppClient;
  newClient: AppClient;
  schemaSnapshot(): Promise<SchemaSnapshot>;
  /** Ends the clients and tandem's session and removes the migrations dir (does not drop the database). */
  close(): Promise<void>;
}

export const S0_ID = '20260101000000_s0';
export const OP_ID = '20260102000000_op';

/** Small batches so a few dozen rows take several backfill batches. */
export const HARNESS_CONFIG: TandemConfigInput = {
  waitSeconds: 5,
  lockTimeoutMs: 2000,
  retries: { count: 5, initialDelayMs: 50, maxDelayMs: 400 },
  backfill: { targetBatchMs: 50, initialBatchSize: 10, minBatchSize: 5, maxBatchSize: 20, pauseMs: 0 },
};

export function dialectOf(db: TestDatabase): Dialect {
  return db.kind === 'mysql' ? 'mysql' : 'postgres';
}

/**
 * A harness on a fresh database of `kind` (the test is skipped, as reported, when there is none):
 * runs `body`, then closes the harness and drops the database.
 */
export async function withOperationHarness(ctx: TestContext, kind: TestDbKind, label: string, spec: OperationHarnessSpec, body: (h: OperationHarness) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(kind, label);
  if (!db) return ctx.skip(`${kind} unavailable`);
  const h = await openOperationHarness(db, spec);
  try {
    await body(h);
  } finally {
    await h.close();
    await db.drop();
  }
}

export async function openOperationHarness(db: TestDatabase, spec: OperationHarnessSpec): Promise<OperationHarness> {
  const dialect = dialectOf(db);
  const dir = await mkdtemp(join(tmpdir(), 'tandem-ops-'));
  const setup = typeof spec.setup === 'string' ? spec.setup : spec.setup[dialect];
  await writeFile(join(dir, `${S0_ID}.sql`), `${setup.trim()}\n`);
  const reporter = collectingReporter();
  const tandem = await connect({ url: db.url, dir, config: { ...HARNESS_CONFIG, ...spec.config }, reporter });
  try {
    // S0 is history: fully applied before the operations file appears.
    await tandem.expand();
    await tandem.backfill();
    await tandem.contract();
    await writeFile(join(dir, `${OP_ID}.json`), `${JSON.stringify({ operations: spec.operations }, null, 2)}\n`);
  } catch (error) {
    await tandem.close();
    throw error;
  }
  const separate = db.kind !== 'pglite';
  const oldKnex = separate ? serverKnex(db) : tandem.session.db;
  const newKnex = separate ? serverKnex(db) : tandem.session.db;
  return {
    db,
    dialect,
    tandem,
    dir,
    migrationId: OP_ID,
    reporter,
    expand: () => tandem.expand(),
    backfill: () => tandem.backfill(),
    contract: () => tandem.contract(),
    rollback: () => tandem.rollback(OP_ID),
    oldClient: appClient('old', oldKnex, dialect),
    newClient: appClient('new', newKnex, dialect),
    schemaSnapshot: () => schemaSnapshot(tandem.session.db, dialect),
    async close() {
      if (separate) await Promise.all([oldKnex.destroy(), newKnex.destroy()]);
      await tandem.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function serverKnex(db: TestDatabase): Knex {
  const client = db.kind === 'mysql' ? 'mysql2' : 'pg';
  return knex({ client, connection: db.url, pool: { min: 0, max: 1 } });
}

export function appClient(name: 'old' | 'new', k: Knex, dialect: Dialect): AppClient {
  const raw = async <T>(sql: string, bindings: readonly unknown[] = []) => rowsOf<T>(await k.raw(sql, bindings as Knex.RawBinding[]));
  return {
    name,
    knex: k,
    async insert(table, row) {
      await k(table).insert(row);
    },
    async select(table, where = {}, orderBy = 'id') {
      return (await k(table).where(where).orderBy(orderBy)) as Row[];
    },
    async update(table, set, where) {
      return k(table).where(where).update(set);
    },
    async columns(table) {
      const sql =
        dialect === 'postgres'
          ? 'SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position'
          : 'SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION';
      return (await raw<{ name: string }>(sql, [table])).map((r) => r.name);
    },
    raw,
  };
}

// ---------------------------------------------------------------------------------------------
// schema snapshot

const MYSQL_LEDGER = ['tandem_migrations', 'tandem_events', 'tandem_backfills', 'tandem_runners', 'tandem_meta'];

const POSTGRES_SNAPSHOT: Record<keyof SchemaSnapshot, string> = {
  columns: `SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                   || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END
                   || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') AS line
              FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
              LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
             WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v') AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY c.relname, a.attnum`,
  indexes: `SELECT i.indexrelid::regclass::text || ' ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END AS line
              FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema()`,
  constraints: `SELECT c.relname || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' NOT VALID' END AS line
              FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema()`,
  triggers: `SELECT pg_get_triggerdef(t.oid) AS line
              FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND NOT t.tgisinternal`,
  views: `SELECT viewname || ': ' || definition AS line FROM pg_views WHERE schemaname = current_schema()`,
  functions: `SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS line
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()`,
};

const notLedger = (column: string) => `${column} NOT IN (${MYSQL_LEDGER.map((t) => `'${t}'`).join(', ')})`;

const MYSQL_SNAPSHOT: Record<keyof SchemaSnapshot, string> = {
  columns: `SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME, ' ', COLUMN_TYPE, IF(IS_NULLABLE = 'YES', ' NULL', ' NOT NULL'),
                          COALESCE(CONCAT(' DEFAULT ', NULLIF(COLUMN_DEFAULT, 'NULL')), ''), IF(EXTRA = '', '', CONCAT(' ', EXTRA))) AS line
              FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND ${notLedger('TABLE_NAME')}
             ORDER BY TABLE_NAME, ORDINAL_POSITION`,
  indexes: `SELECT CONCAT(TABLE_NAME, ' ', INDEX_NAME, IF(NON_UNIQUE = 0, ' UNIQUE', ''), ' (',
                          GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ', '), ')') AS line
              FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND ${notLedger('TABLE_NAME')}
             GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE`,
  constraints: `SELECT CONCAT(tc.TABLE_NAME, ' ', tc.CONSTRAINT_NAME, ' ', tc.CONSTRAINT_TYPE,
                          COALESCE(CONCAT(' ', cc.CHECK_CLAUSE), ''),
                          COALESCE(CONCAT(' -> ', rc.REFERENCED_TABLE_NAME, ' ON DELETE ', rc.DELETE_RULE), '')) AS line
              FROM information_schema.TABLE_CONSTRAINTS tc
              LEFT JOIN information_schema.CHECK_CONSTRAINTS cc ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'CHECK'
              LEFT JOIN information_schema.REFERENTIAL_CONSTRAINTS rc ON rc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND rc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME AND tc.CONSTRAINT_TYPE = 'FOREIGN KEY'
             WHERE tc.TABLE_SCHEMA = DATABASE() AND ${notLedger('tc.TABLE_NAME')}`,
  triggers: `SELECT CONCAT(EVENT_OBJECT_TABLE, ' ', TRIGGER_NAME, ' ', ACTION_TIMING, ' ', EVENT_MANIPULATION) AS line
              FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND ${notLedger('EVENT_OBJECT_TABLE')}`,
  views: `SELECT CONCAT(TABLE_NAME, ': ', VIEW_DEFINITION) AS line FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()`,
  functions: `SELECT CONCAT(ROUTINE_TYPE, ' ', ROUTINE_NAME) AS line FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()`,
};

/**
 * Columns (type, nullability, default), indexes, constraints, triggers, views and functions of the
 * app's schema. MariaDB's `DEFAULT NULL` of a nullable column counts as no default.
 */
export async function schemaSnapshot(k: Knex, dialect: Dialect): Promise<SchemaSnapshot> {
  const queries = dialect === 'postgres' ? POSTGRES_SNAPSHOT : MYSQL_SNAPSHOT;
  const snapshot = {} as SchemaSnapshot;
  for (const key of Object.keys(queries) as Array<keyof SchemaSnapshot>) {
    const lines = rowsOf<{ line: string }>(await k.raw(queries[key])).map((r) => String(r.line));
    // Column order is meaningful; the rest is a set.
    snapshot[key] = key === 'columns' ? lines : lines.sort();
  }
  return snapshot;
}
