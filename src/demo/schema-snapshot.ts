import type { Session } from '../db/session.js';

/**
 * A comparable description of the app's schema (tables, columns with type and nullability,
 * indexes, triggers), leaving out tandem's own ledger. Used to show that rollback restores S0.
 */
export async function schemaSnapshot(session: Session): Promise<string[]> {
  const { db, adapter } = session;
  const query = adapter.dialect === 'postgres'
    ? `SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS item FROM information_schema.columns WHERE table_schema = current_schema()
       UNION ALL SELECT 'index ' || tablename || '.' || indexname FROM pg_indexes WHERE schemaname = current_schema()
       UNION ALL SELECT 'trigger ' || event_object_table || '.' || trigger_name || ' ' || event_manipulation FROM information_schema.triggers WHERE trigger_schema = current_schema()`
    : `SELECT CONCAT('column ', TABLE_NAME, '.', COLUMN_NAME, ' ', COLUMN_TYPE, ' ', IS_NULLABLE) AS item FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'tandem\\_%'
       UNION ALL SELECT DISTINCT CONCAT('index ', TABLE_NAME, '.', INDEX_NAME) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'tandem\\_%'
       UNION ALL SELECT CONCAT('trigger ', EVENT_OBJECT_TABLE, '.', TRIGGER_NAME, ' ', EVENT_MANIPULATION) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE NOT LIKE 'tandem\\_%'`;
  return adapter.rows<{ item: string }>(await db.raw(query)).map((row) => row.item).sort();
}
