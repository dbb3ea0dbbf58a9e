import mysql from 'mysql2/promise';

/**
 * One MySQL/MariaDB connection in strict mode (as most servers run), for tests of the DEFAULT
 * literals tandem writes: one connection, so the session's sql_mode holds for every statement.
 */
export async function strictMysqlSession(url: string): Promise<{ sql: mysql.Connection; mariadb: boolean }> {
  const sql = await mysql.createConnection(url);
  try {
    const [version] = await sql.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
    await sql.query(`SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO'`);
    return { sql, mariadb: /mariadb/i.test(String(version[0]!.v)) };
  } catch (error) {
    await sql.end();
    throw error;
  }
}
