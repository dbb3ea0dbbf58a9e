import { createHash } from 'node:crypto';
import type { Session } from '../db/session.js';

/**
 * A hash of the app's schema: tables, columns, indexes (and whether they are valid), constraints,
 * triggers, functions and views; the ledger's own tables are left out, and so is anything that
 * changes with the data (row counts, AUTO_INCREMENT). A statement that runs outside a transaction
 * (MySQL DDL, CREATE INDEX CONCURRENTLY) cannot commit together with its ledger record: the runner
 * keeps this fingerprint from just before it, and a rerun after a crash compares: changed means the
 * statement ran, unchanged means it did not.
 */
export async function schemaFingerprint(session: Session): Promise<string> {
  const { db, adapter } = session;
  const sql = adapter.dialect === 'postgres' ? POSTGRES : MYSQL;
  const lines = adapter.rows<{ x: string | null }>(await db.raw(sql)).map((row) => String(row.x));
  lines.sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

const PG_APP_NAMESPACES = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'tandem') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'`;

const POSTGRES = `
SELECT concat_ws(' ', 'rel', n.nspname, c.relname, c.relkind, CASE WHEN c.relkind IN ('v', 'm') THEN md5(pg_get_viewdef(c.oid)) END) AS x
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE ${PG_APP_NAMESPACES} AND c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'f')
UNION ALL
SELECT concat_ws(' ', 'col', n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attisdropped, pg_get_expr(d.adbin, d.adrelid))
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE ${PG_APP_NAMESPACES} AND a.attnum > 0 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT concat_ws(' ', 'idx', n.nspname, c.relname, i.indisvalid, i.indisready, pg_get_indexdef(i.indexrelid))
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE ${PG_APP_NAMESPACES}
UNION ALL
SELECT concat_ws(' ', 'con', n.nspname, c.relname, k.conname, k.contype, k.convalidated, pg_get_constraintdef(k.oid))
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE ${PG_APP_NAMESPACES}
UNION ALL
SELECT concat_ws(' ', 'trg', n.nspname, c.relname, t.tgname, t.tgenabled, md5(pg_get_triggerdef(t.oid)))
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE ${PG_APP_NAMESPACES} AND NOT t.tgisinternal
UNION ALL
SELECT concat_ws(' ', 'fn', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), md5(p.prosrc))
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE ${PG_APP_NAMESPACES}
UNION ALL
SELECT concat_ws(' ', 'enum', n.nspname, t.typname, e.enumsortorder, e.enumlabel)
  FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE ${PG_APP_NAMESPACES}`;

const LEDGER_TABLES = `('tandem_migrations', 'tandem_events', 'tandem_backfills', 'tandem_runners', 'tandem_meta')`;

const MYSQL = `
SELECT CONCAT_WS(' ', 'tbl', TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, TABLE_COMMENT) AS x
  FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ${LEDGER_TABLES}
UNION ALL
SELECT CONCAT_WS(' ', 'col', TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, IFNULL(COLUMN_DEFAULT, '(none)'), EXTRA, IFNULL(GENERATION_EXPRESSION, ''), IFNULL(COLLATION_NAME, ''), COLUMN_COMMENT)
  FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ${LEDGER_TABLES}
UNION ALL
SELECT CONCAT_WS(' ', 'idx', TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, IFNULL(COLUMN_NAME, ''), NON_UNIQUE, INDEX_TYPE, IFNULL(SUB_PART, ''))
  FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ${LEDGER_TABLES}
UNION ALL
SELECT CONCAT_WS(' ', 'con', TABLE_NAME, CONSTRAINT_NAME, CONSTRAINT_TYPE)
  FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN ${LEDGER_TABLES}
UNION ALL
SELECT CONCAT_WS(' ', 'fk', TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, UPDATE_RULE, DELETE_RULE)
  FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()
UNION ALL
SELECT CONCAT_WS(' ', 'trg', EVENT_OBJECT_TABLE, TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, MD5(ACTION_STATEMENT))
  FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE NOT IN ${LEDGER_TABLES}
UNION ALL
SELECT CONCAT_WS(' ', 'view', TABLE_NAME, MD5(VIEW_DEFINITION))
  FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT CONCAT_WS(' ', 'fn', ROUTINE_NAME, ROUTINE_TYPE, MD5(IFNULL(ROUTINE_DEFINITION, '')))
  FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()`;
