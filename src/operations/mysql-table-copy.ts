import { stringLiteral } from '../db/raw-sql.js';
import { declaredDefault, mysqlComment } from './safe-sql.js';
import type { OperationContext, PhaseSql } from './types.js';

/** What a key column's type change by table copy needs to know of the key column's change. */
export interface KeyTypeChange {
  table: string;
  column: string;
  type: string;
  /** The new default; undefined keeps the column's, null drops it. */
  default?: string | null;
}

/** A foreign key of the copied table: its name and its definition as SHOW CREATE TABLE gives it (`FOREIGN KEY (…) REFERENCES …`). */
interface ForeignKey {
  name: string;
  definition: string;
  columns: string[];
}

/**
 * MariaDB: why a table cannot be copied (copyKeyTypeChange), or null. InnoDB keeps a table's rows in
 * its primary key, and changing a key column's type, or moving the key (and its AUTO_INCREMENT) to a
 * new column, rewrites the table under a lock that blocks writes (ALGORITHM=COPY). So tandem copies
 * the table instead, as pt-online-schema-change does; what a copy cannot carry is refused here.
 */
export async function tableCopyBlocker(context: OperationContext, table: string, column: string): Promise<string | null> {
  if (!context.mariadb) {
    return `column ${column} is part of the primary key of ${table}; on MySQL a key column's type changes only with a table copy that blocks writes, and tandem's online copy of the table is built and tested on MariaDB only: use an online copy tool (gh-ost, pt-online-schema-change), or run the ALTER in a maintenance window`;
  }
  const copy = `tandem copies ${table} to change its key column ${column} online`;
  const kind = await context.inspect.catalogRows<{ type: string }>(`SELECT TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, [table]);
  if (kind[0]?.type === 'SYSTEM VERSIONED') return `${copy}, and a system-versioned table's history cannot be copied: run the ALTER in a maintenance window`;
  const triggers = await context.inspect.catalogRows<{ name: string }>(`SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = ? ORDER BY TRIGGER_NAME`, [table]);
  if (triggers.length > 0) {
    const names = triggers.map((row) => row.name);
    const inFlight = names.some((name) => name.startsWith('tandem_'));
    return `${copy}, and its triggers (${names.join(', ')}) would stay on the old table: ${inFlight ? 'finish (contract) the migration whose shim they are first' : 'drop them before this migration and create them again after its contract'}`;
  }
  const children = await context.inspect.catalogRows<{ name: string; child: string }>(
    `SELECT CONSTRAINT_NAME AS name, TABLE_NAME AS child FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE UNIQUE_CONSTRAINT_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME = ? ORDER BY TABLE_NAME, CONSTRAINT_NAME`,
    [table],
  );
  if (children.length > 0) {
    return `${copy}, and foreign keys reference it (${children.map((row) => `${row.child}.${row.name}`).join(', ')}); they would follow the old table, and their columns must change type with the key: drop them before this migration, change their columns, and add them again after its contract`;
  }
  // The column reaches here as the catalog spells it (the inspector finds no other spelling), as SHOW CREATE TABLE does.
  const own = (await foreignKeys(context, table)).find((key) => key.columns.includes(column));
  if (own) return `${copy}, and ${column} is in its foreign key ${own.name}, whose referenced column must have the same type: change both in a maintenance window, or drop the foreign key first`;
  return null;
}

/**
 * MariaDB: a key column's type change through a copy of the table. Expand creates the copy with
 * the new type (CREATE TABLE … LIKE: columns, indexes, CHECKs, options, partitions; then the table's
 * foreign keys under temporary names) and three AFTER triggers on the table that repeat every
 * insert, update and delete of either app version in the copy. The backfill copies the rows in
 * keyset batches, each reading its rows with shared locks, so no write can slip between a row's read
 * and its copy; a row the triggers wrote first is left as they wrote it. Contract checks that no row
 * is missing, carries the AUTO_INCREMENT counter, swaps the tables in one atomic RENAME, drops the old
 * table (and its triggers with it), and gives the foreign keys their names back. Until contract
 * both versions use the table as it was; the copy costs its size in disk and each write a second
 * write.
 */
export async function copyKeyTypeChange(change: KeyTypeChange, context: OperationContext): Promise<PhaseSql> {
  const q = context.quote;
  const table = q(change.table);
  const copy = q(context.objectName('copy'));
  const old = q(context.objectName('old'));
  const all = (await context.inspect.columns(change.table))!;
  const current = all.find((column) => column.name === change.column)!;
  // Generated columns compute themselves in the copy.
  const columns = all.filter((column) => !/GENERATED/i.test(column.mysql?.extra ?? '')).map((column) => q(column.name));
  const key = (await context.inspect.primaryKey(change.table)).map(q);
  const keys = await foreignKeys(context, change.table);
  const temporary = keys.map((_, i) => q(context.objectName(`fk${i + 1}`)));
  const autoIncrement = all.some((column) => /auto_increment/i.test(column.mysql?.extra ?? ''));
  const triggerName = (event: string) => q(`${context.objectName('copy')}_${event}`);

  const list = columns.join(', ');
  const values = columns.map((column) => `NEW.${column}`).join(', ');
  const sameKey = (row: string) => key.map((column) => `${column} = ${row}.${column}`).join(' AND ');
  const keyMoved = key.map((column) => `NOT (NEW.${column} <=> OLD.${column})`).join(' OR ');
  const triggers = [
    // UPDATE and DELETE first: a row inserted while only the INSERT trigger ran, then updated, would
    // keep its first version in the copy, which the backfill leaves as it finds it.
    `CREATE TRIGGER ${triggerName('au')} AFTER UPDATE ON ${table} FOR EACH ROW
BEGIN
  IF ${keyMoved} THEN
    DELETE FROM ${copy} WHERE ${sameKey('OLD')};
  END IF;
  REPLACE INTO ${copy} (${list}) VALUES (${values});
END`,
    `CREATE TRIGGER ${triggerName('ad')} AFTER DELETE ON ${table} FOR EACH ROW DELETE FROM ${copy} WHERE ${sameKey('OLD')}`,
    `CREATE TRIGGER ${triggerName('ai')} AFTER INSERT ON ${table} FOR EACH ROW REPLACE INTO ${copy} (${list}) VALUES (${values})`,
  ];
  const dropTriggers = ['ai', 'au', 'ad'].map((event) => `DROP TRIGGER IF EXISTS ${triggerName(event)}`);

  const newDefault = change.default !== undefined ? change.default : declaredDefault(current);
  const extra = current.mysql?.extra ?? '';
  const attributes = `${/auto_increment/i.test(extra) ? ' AUTO_INCREMENT' : newDefault !== null ? ` DEFAULT ${newDefault}` : ''}${/INVISIBLE/i.test(extra) ? ' INVISIBLE' : ''}${mysqlComment(current)}`;
  const counter = `BEGIN NOT ATOMIC
  DECLARE next BIGINT UNSIGNED;
  SELECT AUTO_INCREMENT INTO next FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ${stringLiteral(change.table, 'mysql')};
  IF next IS NOT NULL THEN
    EXECUTE IMMEDIATE CONCAT(${stringLiteral(`ALTER TABLE ${copy} AUTO_INCREMENT = `, 'mysql')}, next);
  END IF;
END`;
  const missing = `SELECT 1 FROM ${table} AS source WHERE NOT EXISTS (SELECT 1 FROM ${copy} AS copied WHERE ${key.map((column) => `copied.${column} = source.${column}`).join(' AND ')}) LIMIT 1`;
  return {
    expand: [
      `CREATE TABLE ${copy} LIKE ${table}`,
      `ALTER TABLE ${copy} MODIFY ${q(change.column)} ${change.type} NOT NULL${attributes}`,
      ...keys.map((fk, i) => `ALTER TABLE ${copy} ADD CONSTRAINT ${temporary[i]} ${fk.definition}`),
      ...triggers,
    ],
    backfill: [
      // The shared locks hold each batch's rows until it commits: a write to one waits, and its trigger then overwrites the copy.
      `INSERT INTO ${copy} (${list}) SELECT ${list} FROM ${table} LOCK IN SHARE MODE ON DUPLICATE KEY UPDATE ${copy}.${key[0]} = ${copy}.${key[0]}`,
    ],
    contract: [
      { sql: missing, assertEmpty: `rows of ${change.table} are missing from its copy ${context.objectName('copy')} (${missing}), which its triggers and the backfill should have kept complete; nothing was swapped: run \`tandem rollback\` (it drops the copy), then expand and backfill again` },
      ...(autoIncrement ? [counter] : []),
      // One atomic rename: every statement after it reads and writes the copy. The triggers go with
      // the old table, which nobody writes any more, and with it.
      `RENAME TABLE ${table} TO ${old}, ${copy} TO ${table}`,
      `DROP TABLE ${old}`,
      // Metadata only (NOCOPY takes a foreign key only with the checks off): the rows were checked as they were written.
      ...keys.map((fk, i) => `SET STATEMENT foreign_key_checks = 0 FOR ALTER TABLE ${table} DROP FOREIGN KEY ${temporary[i]}, ADD CONSTRAINT ${q(fk.name)} ${fk.definition}, ALGORITHM=NOCOPY`),
    ],
    rollback: [...dropTriggers, `DROP TABLE IF EXISTS ${copy}`],
    copiesTable: change.table,
  };
}

/** The table's foreign keys, read from SHOW CREATE TABLE, which gives each definition exactly as the server would take it again. */
async function foreignKeys(context: OperationContext, table: string): Promise<ForeignKey[]> {
  const rows = await context.inspect.catalogRows<Record<string, string>>(`SHOW CREATE TABLE ${context.quote(table)}`, []);
  const create = rows[0]?.['Create Table'] ?? '';
  const keys: ForeignKey[] = [];
  for (const line of create.split('\n')) {
    const match = /^\s*CONSTRAINT `((?:[^`]|``)+)` (FOREIGN KEY \(((?:`(?:[^`]|``)+`(?:, )?)+)\) REFERENCES .*?),?$/.exec(line);
    if (!match) continue;
    const columns = [...match[3]!.matchAll(/`((?:[^`]|``)+)`/g)].map((column) => column[1]!.replace(/``/g, '`'));
    keys.push({ name: match[1]!.replace(/``/g, '`'), definition: match[2]!, columns });
  }
  return keys;
}
