/**
 * The placeholder defaults that let a type change's twin be NOT NULL from expand on MySQL/MariaDB:
 * each must be a DEFAULT the server takes for its type, instantly, in strict mode and in any
 * session time zone (a TIMESTAMP default outside 1970–2038 in UTC is refused).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlPlaceholder } from '../../src/operations/mysql-placeholder.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { strictMysqlSession } from '../support/mysql-strict.js';
import mysql from 'mysql2/promise';

const TYPES = ['tinyint', 'int(11)', 'bigint unsigned', 'decimal(12,2)', 'double', 'bit(3)', 'boolean', 'char(4)', 'varchar(40)', 'varbinary(16)', 'text', 'mediumblob', 'date', 'datetime(3)', 'timestamp', 'time', 'year'];

describe('MySQL placeholder defaults', () => {
  let db: TestDatabase | null = null;
  beforeAll(async () => {
    db = await createTestDatabase('mysql', 'placeholders');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('each type has one, which the server adds instantly as a NOT NULL column\'s DEFAULT in strict mode, at UTC+13 and UTC-12', async (ctx) => {
    if (!db) return ctx.skip('mysql unavailable');
    // One connection: the session's time zone must hold for every statement too.
    const { sql, mariadb } = await strictMysqlSession(db.url);
    try {
      for (const zone of ['+13:00', '-12:00']) {
        await sql.query(`SET SESSION time_zone = '${zone}'`);
        const table = zone.startsWith('+') ? 'east' : 'west';
        await sql.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
        await sql.query(`INSERT INTO ${table} VALUES (1), (2)`);
        for (const [i, type] of TYPES.entries()) {
          const placeholder = mysqlPlaceholder(type, mariadb);
          if (placeholder === null) {
            // MySQL gives TEXT and BLOB no literal default; MariaDB does.
            expect(!mariadb && /text|blob/.test(type)).toBe(true);
            continue;
          }
          await sql.query(`ALTER TABLE ${table} ADD COLUMN c${i} ${type} NOT NULL DEFAULT ${placeholder}, ALGORITHM=INSTANT`);
        }
        // The rows read the placeholder back, and an insert that leaves the columns out takes it.
        await sql.query(`INSERT INTO ${table} (id) VALUES (3)`);
        const [rows] = await sql.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table} WHERE c1 = 0 AND c8 = '' AND c12 = '2000-01-01'`);
        expect(Number(rows[0]!.n)).toBe(3);
      }
    } finally {
      await sql.end();
    }
  });

  it('types without a safe constant have none', () => {
    for (const type of ["enum('a','b')", "set('x')", 'json', 'point', 'geometry']) expect(mysqlPlaceholder(type, true)).toBeNull();
    expect(mysqlPlaceholder('text', false)).toBeNull();
    expect(mysqlPlaceholder('BIGINT', false)).toBe('0');
  });
});
