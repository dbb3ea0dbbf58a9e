/**
 * The unset markers that let addColumn add a required column NOT NULL at expand on MySQL/MariaDB:
 * each must be a DEFAULT the server takes instantly in strict mode, and the test for it must match
 * the marker and nothing near it, whatever the column's character set, collation or padding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { holdsUnsetMarker, mysqlUnsetMarker } from '../../src/operations/mysql-unset-marker.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { strictMysqlSession } from '../support/mysql-strict.js';

/** Each type with two values an app might well write, which must not count as the marker. */
const TYPES: Array<{ type: string; near: [string, string] }> = [
  { type: 'tinyint', near: ['0', '-127'] },
  { type: 'boolean', near: ['0', '1'] },
  { type: 'int(11)', near: ['0', '-2147483647'] },
  { type: 'int unsigned', near: ['0', '4294967294'] },
  { type: 'bigint', near: ['0', '-9223372036854775807'] },
  { type: 'decimal(5,2)', near: ['0', '-999.98'] },
  { type: 'decimal(4,4)', near: ['0', '-0.9998'] },
  { type: 'decimal', near: ['0', '-9999999998'] },
  { type: 'char(3)', near: ["''", "' '"] },
  { type: 'varchar(20)', near: ["''", "' '"] },
  { type: 'varchar(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', near: ["''", "' '"] },
  { type: 'varchar(20) CHARACTER SET utf16', near: ["''", "' '"] },
  { type: 'varchar(20) CHARACTER SET latin1', near: ["''", "' '"] },
  { type: 'varbinary(8)', near: ["''", "X'0000'"] },
  { type: 'text', near: ["''", "' '"] },
  { type: 'mediumblob', near: ["''", "X'0000'"] },
  { type: 'date', near: ["'2000-01-01'", "'1000-01-02'"] },
  { type: 'datetime(3)', near: ["'2000-01-01 00:00:00'", "'1000-01-01 00:00:00.001'"] },
  { type: 'time', near: ["'00:00:00'", "'-838:59:58'"] },
  { type: 'year', near: ['2000', '1902'] },
];

describe('MySQL unset markers', () => {
  let db: TestDatabase | null = null;
  beforeAll(async () => {
    db = await createTestDatabase('mysql', 'unset_markers');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('each is added instantly as a NOT NULL DEFAULT in strict mode, and its test matches the rows holding it and no value near it', async (ctx) => {
    if (!db) return ctx.skip('mysql unavailable');
    const { sql, mariadb } = await strictMysqlSession(db.url);
    try {
      await sql.query('CREATE TABLE t (id int PRIMARY KEY)');
      await sql.query('INSERT INTO t VALUES (1)');
      const added: Array<{ column: string; near: [string, string]; test: string }> = [];
      for (const [i, { type, near }] of TYPES.entries()) {
        const marker = mysqlUnsetMarker(type, mariadb);
        if (marker === null) {
          // MySQL gives TEXT and BLOB no literal default; MariaDB does.
          expect(!mariadb && /text|blob/.test(type)).toBe(true);
          continue;
        }
        const column = `c${i}`;
        await sql.query(`ALTER TABLE t ADD COLUMN ${column} ${type} NOT NULL DEFAULT ${marker.literal}, ALGORITHM=INSTANT`);
        added.push({ column, near, test: holdsUnsetMarker(column, marker) });
      }
      expect(added.length).toBeGreaterThanOrEqual(mariadb ? TYPES.length : TYPES.length - 2);
      // Row 1 existed before, row 2 leaves every column out: both hold the markers. Rows 3 and 4 hold values near them.
      await sql.query('INSERT INTO t (id) VALUES (2)');
      for (const [row, which] of [[3, 0], [4, 1]] as const) {
        await sql.query(`INSERT INTO t (id, ${added.map((a) => a.column).join(', ')}) VALUES (${row}, ${added.map((a) => a.near[which]).join(', ')})`);
      }
      for (const { column, test } of added) {
        const [rows] = await sql.query<mysql.RowDataPacket[]>(`SELECT id FROM t WHERE ${test} ORDER BY id`);
        expect({ column, ids: rows.map((r) => Number(r.id)) }).toEqual({ column, ids: [1, 2] });
      }
    } finally {
      await sql.end();
    }
  });

  it('types without a marker that is both a legal default and unlikely as data have none', () => {
    for (const type of ["enum('a','b')", "set('x')", 'json', 'point', 'float', 'double', 'bit(3)', 'binary(4)', 'timestamp']) expect(mysqlUnsetMarker(type, true)).toBeNull();
    expect(mysqlUnsetMarker('text', false)).toBeNull();
    expect(mysqlUnsetMarker('BIGINT UNSIGNED', false)?.literal).toBe('18446744073709551615');
    expect(mysqlUnsetMarker('numeric(6, 2) zerofill', true)?.literal).toBe('9999.99');
  });
});
