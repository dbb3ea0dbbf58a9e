import type { Dialect } from '../db/url.js';

/**
 * The ledger's own tables. PostgreSQL keeps them in the `tandem` schema; MySQL has no schemas
 * inside a database, so there they are `tandem_`-prefixed tables beside the app's.
 * The database enforces what it can: known states only, a failure always names its phase, and the
 * event log refuses UPDATE and DELETE.
 * The migrations table is created last: readers that run without the runner lock (status) take its
 * presence to mean the whole ledger exists (MySQL DDL cannot be made atomic).
 */
export const LEDGER_VERSION = 3;

/**
 * Columns added after version 1, added to an older ledger by Ledger.ensure() (checked against the
 * catalog first: MySQL 8 has no ADD COLUMN IF NOT EXISTS).
 * Version 2, started_statement / started_fingerprint: the statement that was sent outside a
 * transaction and the schema's fingerprint just before it, so a rerun after a crash can tell whether it ran.
 * Version 3, backfills.paused_for / paused_since: why a running backfill waits before its next batch
 * and since when, for `tandem status` in another process.
 */
export function ledgerUpgrades(dialect: Dialect): Array<{ table: string; column: string; sql: string }> {
  if (dialect === 'postgres') {
    return [
      { table: 'migrations', column: 'started_statement', sql: `ALTER TABLE "tandem"."migrations" ADD COLUMN IF NOT EXISTS "started_statement" integer` },
      { table: 'migrations', column: 'started_fingerprint', sql: `ALTER TABLE "tandem"."migrations" ADD COLUMN IF NOT EXISTS "started_fingerprint" text` },
      { table: 'backfills', column: 'paused_for', sql: `ALTER TABLE "tandem"."backfills" ADD COLUMN IF NOT EXISTS "paused_for" text` },
      { table: 'backfills', column: 'paused_since', sql: `ALTER TABLE "tandem"."backfills" ADD COLUMN IF NOT EXISTS "paused_since" timestamptz` },
    ];
  }
  return [
    { table: 'tandem_migrations', column: 'started_statement', sql: 'ALTER TABLE `tandem_migrations` ADD COLUMN `started_statement` INT NULL' },
    { table: 'tandem_migrations', column: 'started_fingerprint', sql: 'ALTER TABLE `tandem_migrations` ADD COLUMN `started_fingerprint` CHAR(64) NULL' },
    { table: 'tandem_backfills', column: 'paused_for', sql: 'ALTER TABLE `tandem_backfills` ADD COLUMN `paused_for` TEXT NULL' },
    { table: 'tandem_backfills', column: 'paused_since', sql: 'ALTER TABLE `tandem_backfills` ADD COLUMN `paused_since` DATETIME(3) NULL' },
  ];
}

export interface LedgerTables {
  migrations: string;
  events: string;
  backfills: string;
  runners: string;
  meta: string;
  /** knex withSchema() argument, or undefined on MySQL. */
  schema: string | undefined;
}

export function ledgerTables(dialect: Dialect): LedgerTables {
  return dialect === 'postgres'
    ? { schema: 'tandem', migrations: 'migrations', events: 'events', backfills: 'backfills', runners: 'runners', meta: 'meta' }
    : { schema: undefined, migrations: 'tandem_migrations', events: 'tandem_events', backfills: 'tandem_backfills', runners: 'tandem_runners', meta: 'tandem_meta' };
}

const STATES = `'pending', 'expanded', 'backfilled', 'contracted', 'rolled_back'`;
const PHASES = `'expand', 'backfill', 'contract', 'rollback'`;

export function ledgerDdl(dialect: Dialect): string[] {
  return dialect === 'postgres' ? postgresDdl() : mysqlDdl();
}

function postgresDdl(): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS "tandem"`,
    `CREATE TABLE IF NOT EXISTS "tandem"."meta" ("key" text PRIMARY KEY, "value" text NOT NULL)`,
    `CREATE TABLE IF NOT EXISTS "tandem"."events" (
       "id" bigserial PRIMARY KEY,
       "migration_id" text NOT NULL,
       "phase" text NOT NULL CHECK ("phase" IN (${PHASES})),
       "outcome" text NOT NULL CHECK ("outcome" IN ('succeeded', 'failed', 'interrupted')),
       "started_at" timestamptz NOT NULL,
       "finished_at" timestamptz NOT NULL DEFAULT now(),
       "duration_ms" integer NOT NULL,
       "statements" integer NOT NULL DEFAULT 0,
       "message" text,
       "actor" text NOT NULL
     )`,
    `CREATE TABLE IF NOT EXISTS "tandem"."backfills" (
       "migration_id" text NOT NULL,
       "statement_index" integer NOT NULL,
       "table_name" text NOT NULL,
       "key_columns" text NOT NULL,
       "last_key" text,
       "ceiling_key" text,
       "pass" integer NOT NULL DEFAULT 1,
       "rows_done" bigint NOT NULL DEFAULT 0,
       "rows_total" bigint,
       "batches" integer NOT NULL DEFAULT 0,
       "batch_size" integer,
       "done" boolean NOT NULL DEFAULT false,
       "paused_for" text,
       "paused_since" timestamptz,
       "started_at" timestamptz NOT NULL DEFAULT now(),
       "updated_at" timestamptz NOT NULL DEFAULT now(),
       PRIMARY KEY ("migration_id", "statement_index")
     )`,
    `CREATE TABLE IF NOT EXISTS "tandem"."runners" (
       "lock_name" text PRIMARY KEY,
       "session_id" text NOT NULL,
       "holder" text NOT NULL,
       "command" text NOT NULL,
       "since" timestamptz NOT NULL DEFAULT now()
     )`,
    `CREATE OR REPLACE FUNCTION "tandem"."events_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       RAISE EXCEPTION 'tandem.events is append-only';
     END $$`,
    `DROP TRIGGER IF EXISTS "events_append_only" ON "tandem"."events"`,
    `CREATE TRIGGER "events_append_only" BEFORE UPDATE OR DELETE ON "tandem"."events" FOR EACH ROW EXECUTE FUNCTION "tandem"."events_append_only"()`,
    // TRUNCATE fires no row triggers: a statement trigger refuses it too.
    `DROP TRIGGER IF EXISTS "events_no_truncate" ON "tandem"."events"`,
    `CREATE TRIGGER "events_no_truncate" BEFORE TRUNCATE ON "tandem"."events" FOR EACH STATEMENT EXECUTE FUNCTION "tandem"."events_append_only"()`,
    `CREATE TABLE IF NOT EXISTS "tandem"."migrations" (
       "id" text PRIMARY KEY,
       "name" text NOT NULL,
       "state" text NOT NULL DEFAULT 'pending' CHECK ("state" IN (${STATES})),
       "active_phase" text CHECK ("active_phase" IN (${PHASES})),
       "statements_done" integer NOT NULL DEFAULT 0 CHECK ("statements_done" >= 0),
       "done_checksum" text,
       "failed" boolean NOT NULL DEFAULT false,
       "error" text,
       "error_line" integer,
       "checksum_expand" text,
       "checksum_backfill" text,
       "checksum_contract" text,
       "checksum_rollback" text,
       "expanded_at" timestamptz,
       "backfilled_at" timestamptz,
       "contracted_at" timestamptz,
       "rolled_back_at" timestamptz,
       "applied_by" text,
       "compiled" text,
       "started_statement" integer,
       "started_fingerprint" text,
       "created_at" timestamptz NOT NULL DEFAULT now(),
       "updated_at" timestamptz NOT NULL DEFAULT now(),
       CHECK (NOT "failed" OR "active_phase" IS NOT NULL)
     )`,
  ];
}

function mysqlDdl(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS \`tandem_meta\` (\`key\` VARCHAR(64) PRIMARY KEY, \`value\` TEXT NOT NULL) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS \`tandem_events\` (
       \`id\` BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
       \`migration_id\` VARCHAR(255) NOT NULL,
       \`phase\` VARCHAR(16) NOT NULL CHECK (\`phase\` IN (${PHASES})),
       \`outcome\` VARCHAR(16) NOT NULL CHECK (\`outcome\` IN ('succeeded', 'failed', 'interrupted')),
       \`started_at\` DATETIME(3) NOT NULL,
       \`finished_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       \`duration_ms\` INT NOT NULL,
       \`statements\` INT NOT NULL DEFAULT 0,
       \`message\` TEXT NULL,
       \`actor\` VARCHAR(255) NOT NULL
     ) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS \`tandem_backfills\` (
       \`migration_id\` VARCHAR(255) NOT NULL,
       \`statement_index\` INT NOT NULL,
       \`table_name\` VARCHAR(512) NOT NULL,
       \`key_columns\` TEXT NOT NULL,
       \`last_key\` TEXT NULL,
       \`ceiling_key\` TEXT NULL,
       \`pass\` INT NOT NULL DEFAULT 1,
       \`rows_done\` BIGINT NOT NULL DEFAULT 0,
       \`rows_total\` BIGINT NULL,
       \`batches\` INT NOT NULL DEFAULT 0,
       \`batch_size\` INT NULL,
       \`done\` BOOLEAN NOT NULL DEFAULT FALSE,
       \`paused_for\` TEXT NULL,
       \`paused_since\` DATETIME(3) NULL,
       \`started_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       \`updated_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       PRIMARY KEY (\`migration_id\`, \`statement_index\`)
     ) ENGINE=InnoDB`,
    `CREATE TABLE IF NOT EXISTS \`tandem_runners\` (
       \`lock_name\` VARCHAR(255) NOT NULL PRIMARY KEY,
       \`session_id\` VARCHAR(64) NOT NULL,
       \`holder\` VARCHAR(512) NOT NULL,
       \`command\` VARCHAR(64) NOT NULL,
       \`since\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
     ) ENGINE=InnoDB`,
    `DROP TRIGGER IF EXISTS \`tandem_events_no_update\``,
    `CREATE TRIGGER \`tandem_events_no_update\` BEFORE UPDATE ON \`tandem_events\` FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'tandem_events is append-only'`,
    `DROP TRIGGER IF EXISTS \`tandem_events_no_delete\``,
    `CREATE TRIGGER \`tandem_events_no_delete\` BEFORE DELETE ON \`tandem_events\` FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'tandem_events is append-only'`,
    `CREATE TABLE IF NOT EXISTS \`tandem_migrations\` (
       \`id\` VARCHAR(255) NOT NULL PRIMARY KEY,
       \`name\` VARCHAR(255) NOT NULL,
       \`state\` VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (\`state\` IN (${STATES})),
       \`active_phase\` VARCHAR(16) NULL CHECK (\`active_phase\` IN (${PHASES})),
       \`statements_done\` INT NOT NULL DEFAULT 0 CHECK (\`statements_done\` >= 0),
       \`done_checksum\` CHAR(64) NULL,
       \`failed\` BOOLEAN NOT NULL DEFAULT FALSE,
       \`error\` TEXT NULL,
       \`error_line\` INT NULL,
       \`checksum_expand\` CHAR(64) NULL,
       \`checksum_backfill\` CHAR(64) NULL,
       \`checksum_contract\` CHAR(64) NULL,
       \`checksum_rollback\` CHAR(64) NULL,
       \`expanded_at\` DATETIME(3) NULL,
       \`backfilled_at\` DATETIME(3) NULL,
       \`contracted_at\` DATETIME(3) NULL,
       \`rolled_back_at\` DATETIME(3) NULL,
       \`applied_by\` VARCHAR(255) NULL,
       \`compiled\` LONGTEXT NULL,
       \`started_statement\` INT NULL,
       \`started_fingerprint\` CHAR(64) NULL,
       \`created_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       \`updated_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
       CHECK (NOT \`failed\` OR \`active_phase\` IS NOT NULL)
     ) ENGINE=InnoDB`,
  ];
}
