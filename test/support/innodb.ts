import type { AppClient } from './operation-harness.js';

/** The table's InnoDB id, which a rebuild changes (MariaDB: INNODB_SYS_TABLES, MySQL 8: INNODB_TABLES). */
export async function innodbTableId(client: AppClient, table: string): Promise<number> {
  const view = (await client.raw<{ n: unknown }>(`SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'INNODB_SYS_TABLES'`))[0]!.n;
  const source = Number(view) > 0 ? 'INNODB_SYS_TABLES' : 'INNODB_TABLES';
  const [row] = await client.raw<{ id: unknown }>(`SELECT TABLE_ID AS id FROM information_schema.${source} WHERE NAME = CONCAT(DATABASE(), '/${table}')`);
  return Number(row!.id);
}
