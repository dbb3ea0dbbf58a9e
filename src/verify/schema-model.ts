import type { Knex } from 'knex';
import type { Session } from '../db/session.js';

/** One column as an app version sees it: enough to know what an insert must give and how to make a value. */
export interface ColumnInfo {
  name: string;
  /** information_schema data_type (PostgreSQL: udt name for user-defined types). */
  type: string;
  /** MySQL COLUMN_TYPE (enum('a','b'), varchar(20), …); PostgreSQL: same as type. */
  fullType: string;
  nullable: boolean;
  /** Has a default, is an identity/serial/auto-increment column or is generated: an insert may leave it out. */
  hasDefault: boolean;
  /** Computed by the database: an app never writes it. */
  generated: boolean;
  maxLength: number | null;
  /** Part of a unique index or the primary key: an insert needs a fresh value. */
  unique: boolean;
  enumValues: string[];
}

export interface TableInfo {
  name: string;
  kind: 'table' | 'view';
  columns: ColumnInfo[];
  primaryKey: string[];
  triggers: string[];
}

export type SchemaModel = Map<string, TableInfo>;

/** The app's schema (not tandem's ledger): tables and views with their columns, keys and triggers. */
export async function readSchemaModel(session: Session): Promise<SchemaModel> {
  return session.adapter.dialect === 'postgres' ? readPostgres(session) : readMysql(session);
}

type Row = Record<string, unknown>;

async function query(session: Session, sql: string): Promise<Row[]> {
  return session.adapter.rows<Row>(await session.db.raw(sql));
}

async function readPostgres(session: Session): Promise<SchemaModel> {
  const columns = await query(
    session,
    `SELECT c.table_name, t.table_type, c.column_name, c.data_type, c.udt_name, c.is_nullable, c.column_default,
            c.is_identity, c.is_generated, c.character_maximum_length
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = current_schema()
      ORDER BY c.table_name, c.ordinal_position`,
  );
  const keys = await query(
    session,
    `SELECT t.relname AS table_name, a.attname AS column_name, i.indisprimary AS is_primary
       FROM pg_index i
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)
      WHERE n.nspname = current_schema() AND i.indisunique AND i.indpred IS NULL`,
  );
  const enums = await query(session, `SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid ORDER BY t.typname, e.enumsortorder`);
  const triggers = await query(
    session,
    `SELECT event_object_table AS table_name, trigger_name || ' ' || action_timing || ' ' || event_manipulation AS item
       FROM information_schema.triggers WHERE trigger_schema = current_schema()`,
  );
  const enumValues = groupBy(enums, (row) => String(row.typname), (row) => String(row.enumlabel));
  return build(
    columns.map((row) => {
      const type = row.data_type === 'USER-DEFINED' ? String(row.udt_name) : String(row.data_type);
      return {
        table: String(row.table_name),
        kind: row.table_type === 'VIEW' ? 'view' : 'table',
        column: {
          name: String(row.column_name),
          type,
          fullType: type,
          nullable: row.is_nullable === 'YES',
          hasDefault: row.column_default !== null || row.is_identity === 'YES' || row.is_generated === 'ALWAYS',
          generated: row.is_generated === 'ALWAYS',
          maxLength: row.character_maximum_length === null ? null : Number(row.character_maximum_length),
          unique: false,
          enumValues: enumValues.get(String(row.udt_name)) ?? [],
        },
      };
    }),
    keys.map((row) => ({ table: String(row.table_name), column: String(row.column_name), primary: row.is_primary === true })),
    triggers.map((row) => ({ table: String(row.table_name), item: String(row.item) })),
  );
}

async function readMysql(session: Session): Promise<SchemaModel> {
  const columns = await query(
    session,
    `SELECT c.TABLE_NAME AS table_name, t.TABLE_TYPE AS table_type, c.COLUMN_NAME AS column_name, c.DATA_TYPE AS data_type,
            c.COLUMN_TYPE AS column_type, c.IS_NULLABLE AS is_nullable, c.COLUMN_DEFAULT AS column_default, c.EXTRA AS extra,
            c.CHARACTER_MAXIMUM_LENGTH AS max_length
       FROM information_schema.COLUMNS c
       JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
      WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME NOT LIKE 'tandem\\_%'
      ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION`,
  );
  const keys = await query(
    session,
    `SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, INDEX_NAME AS index_name
       FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 0 AND TABLE_NAME NOT LIKE 'tandem\\_%'`,
  );
  const triggers = await query(
    session,
    `SELECT EVENT_OBJECT_TABLE AS table_name, CONCAT(TRIGGER_NAME, ' ', ACTION_TIMING, ' ', EVENT_MANIPULATION) AS item
       FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE NOT LIKE 'tandem\\_%'`,
  );
  return build(
    columns.map((row) => {
      const extra = String(row.extra ?? '');
      const generated = /GENERATED|VIRTUAL|PERSISTENT|STORED/i.test(extra);
      const fullType = String(row.column_type);
      return {
        table: String(row.table_name),
        kind: row.table_type === 'VIEW' ? 'view' : 'table',
        column: {
          name: String(row.column_name),
          type: String(row.data_type).toLowerCase(),
          fullType,
          nullable: row.is_nullable === 'YES',
          hasDefault: row.column_default !== null || /auto_increment/i.test(extra) || generated,
          generated,
          maxLength: row.max_length === null ? null : Number(row.max_length),
          unique: false,
          enumValues: /^(enum|set)\(/i.test(fullType) ? Array.from(fullType.matchAll(/'((?:[^']|'')*)'/g), (m) => m[1]!.replace(/''/g, "'")) : [],
        },
      };
    }),
    keys.map((row) => ({ table: String(row.table_name), column: String(row.column_name), primary: row.index_name === 'PRIMARY' })),
    triggers.map((row) => ({ table: String(row.table_name), item: String(row.item) })),
  );
}

function build(
  columns: Array<{ table: string; kind: string; column: ColumnInfo }>,
  keys: Array<{ table: string; column: string; primary: boolean }>,
  triggers: Array<{ table: string; item: string }>,
): SchemaModel {
  const model: SchemaModel = new Map();
  for (const { table, kind, column } of columns) {
    const info = model.get(table) ?? { name: table, kind: kind as TableInfo['kind'], columns: [], primaryKey: [], triggers: [] };
    model.set(table, info);
    info.columns.push(column);
  }
  for (const key of keys) {
    const info = model.get(key.table);
    const column = info?.columns.find((c) => c.name === key.column);
    if (!info || !column) continue;
    column.unique = true;
    if (key.primary && !info.primaryKey.includes(key.column)) info.primaryKey.push(key.column);
  }
  for (const trigger of triggers) model.get(trigger.table)?.triggers.push(trigger.item);
  for (const info of model.values()) info.triggers.sort();
  return model;
}

function groupBy<T>(rows: Row[], key: (row: Row) => string, value: (row: Row) => T): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) map.set(key(row), [...(map.get(key(row)) ?? []), value(row)]);
  return map;
}

/** What matters about a table for "did the migration change it": kind, columns, keys and triggers. */
export function tableSignature(table: TableInfo | undefined): string {
  if (!table) return 'absent';
  return JSON.stringify([table.kind, table.columns.map((c) => [c.name, c.fullType, c.nullable, c.hasDefault, c.generated]), table.primaryKey, table.triggers]);
}

/** Tables whose signature differs between any two of the given states: the ones the migrations touch. */
export function touchedTables(states: SchemaModel[]): string[] {
  const names = new Set(states.flatMap((model) => [...model.keys()]));
  return [...names].filter((name) => new Set(states.map((model) => tableSignature(model.get(name)))).size > 1).sort();
}

/** A column reference for messages: users.full_name. */
export const qualified = (table: string, column: string) => `${table}.${column}`;

export type Db = Knex | Knex.Transaction;
