/**
 * Rule mysql-instant-unsupported for MODIFY/CHANGE, checked against the server it describes: for
 * each ALTER, the rule warns exactly when MariaDB refuses ALGORITHM=INSTANT. The table's columns
 * come from an earlier file of the same lint run (the rule reads the old type and nullability).
 */
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lintText } from '../../src/lint/lint.js';
import { DEFAULT_VERSIONS } from '../../src/lint/config.js';
import type { TargetVersions } from '../../src/lint/types.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const CREATE = 'CREATE TABLE t (id INT PRIMARY KEY, a INT NOT NULL DEFAULT 0, b INT NULL, c BIGINT NOT NULL DEFAULT 0, e ENUM(\'x\', \'y\') NULL)';

/** Each ALTER runs on a fresh copy of the table; `instant` is what MariaDB 10.11 does with it. */
const CASES: Array<{ what: string; sql: string; instant: boolean }> = [
  { what: 'a rename keeping type and NOT NULL, with a new default', sql: 'ALTER TABLE t CHANGE a a2 INT NOT NULL DEFAULT 5, ALGORITHM=INSTANT', instant: true },
  { what: 'two columns swapping names (the server reports int(11))', sql: 'ALTER TABLE t CHANGE a c int(11) NOT NULL DEFAULT 7, CHANGE c a BIGINT NOT NULL DEFAULT 0, ALGORITHM=INSTANT', instant: true },
  { what: 'a nullable column with a new default', sql: 'ALTER TABLE t MODIFY b INT NULL DEFAULT 3, ALGORITHM=INSTANT', instant: true },
  { what: 'an ENUM value appended', sql: "ALTER TABLE t MODIFY e ENUM('x', 'y', 'z') NULL, ALGORITHM=INSTANT", instant: true },
  { what: 'NOT NULL dropped', sql: 'ALTER TABLE t MODIFY a INT NULL, ALGORITHM=INSTANT', instant: false },
  { what: 'NOT NULL added', sql: 'ALTER TABLE t MODIFY b INT NOT NULL, ALGORITHM=INSTANT', instant: false },
  { what: 'a rename that adds NOT NULL', sql: 'ALTER TABLE t CHANGE b b2 INT NOT NULL DEFAULT 0, ALGORITHM=INSTANT', instant: false },
  { what: 'int to bigint', sql: 'ALTER TABLE t MODIFY b BIGINT NULL, ALGORITHM=INSTANT', instant: false },
];

async function warns(sql: string, versions: TargetVersions): Promise<boolean> {
  const schema = new Map<string, Map<string, string>>();
  await lintText(`${CREATE};\n`, { file: '1_create.sql', dialect: 'mysql', versions, tool: 'flyway', schema });
  const { findings } = await lintText(`${sql};\n`, { file: '2_alter.sql', dialect: 'mysql', versions, tool: 'flyway', schema });
  return findings.some((finding) => finding.rule === 'mysql-instant-unsupported');
}

const MARIADB: TargetVersions = { postgres: DEFAULT_VERSIONS.postgres, mysql: null, mariadb: [10, 11] };

describe('mysql-instant-unsupported on MODIFY/CHANGE, against MariaDB', () => {
  let db: TestDatabase | null = null;
  let connection: mysql.Connection | null = null;
  beforeAll(async () => {
    db = await createTestDatabase('mysql', 'lint_instant');
    if (db) connection = await mysql.createConnection(db.url);
  });
  afterAll(async () => {
    await connection?.end();
    await db?.drop();
  });

  it.for(CASES)('$what: warns exactly when the server refuses', async ({ sql, instant }, ctx) => {
    if (!connection) return ctx.skip('MariaDB unavailable');
    await connection.query('DROP TABLE IF EXISTS t');
    await connection.query(CREATE);
    const accepted = await connection.query(sql).then(
      () => true,
      (error: { errno?: number }) => {
        // 1845/1846: ALGORITHM=INSTANT is not supported (for this operation).
        if (error.errno === 1845 || error.errno === 1846) return false;
        throw error;
      },
    );
    expect(accepted).toBe(instant);
    expect(await warns(sql, MARIADB)).toBe(!instant);
  });
});

describe('mysql-instant-unsupported on a rename by CHANGE, by version', () => {
  const rename = 'ALTER TABLE t CHANGE a a2 INT NOT NULL DEFAULT 5, ALGORITHM=INSTANT';
  it('a rename is INSTANT from MySQL 8.0.28 and MariaDB 10.4', async () => {
    expect(await warns(rename, { ...MARIADB, mysql: [8, 0, 36], mariadb: null })).toBe(false);
    expect(await warns(rename, { ...MARIADB, mysql: [8, 0, 27], mariadb: null })).toBe(true);
    expect(await warns(rename, { ...MARIADB, mariadb: [10, 3] })).toBe(true);
  });
  it('a MODIFY keeping type and nullability is INSTANT on any version', async () => {
    expect(await warns('ALTER TABLE t MODIFY b INT NULL DEFAULT 3, ALGORITHM=INSTANT', { ...MARIADB, mariadb: [10, 3] })).toBe(false);
  });
});
