/**
 * The linter compares a MySQL column's re-stated character set and collation with the one it had as
 * the server resolves them, so that spellings of the same thing match and different ones do not.
 */
import { describe, expect, it } from 'vitest';
import { resolvedCollation } from '../../src/lint/mysql-collations.js';
import type { TargetVersions } from '../../src/lint/types.js';

const mariadb = (...version: number[]): TargetVersions => ({ postgres: [14], mysql: null, mariadb: version });
const mysql = (...version: number[]): TargetVersions => ({ postgres: [14], mysql: version, mariadb: null });

describe('resolvedCollation', () => {
  it('a collation alone names its character set; utf8 is utf8mb3', () => {
    expect(resolvedCollation('COLLATE LATIN1_BIN', mariadb(10, 11))).toBe('CHARACTER SET LATIN1 COLLATE LATIN1_BIN');
    expect(resolvedCollation('COLLATE UTF8_BIN', mysql(8, 0, 36))).toBe('CHARACTER SET UTF8MB3 COLLATE UTF8MB3_BIN');
    expect(resolvedCollation('CHARACTER SET UTF8 COLLATE UTF8_UNICODE_CI', mariadb(10, 11))).toBe('CHARACTER SET UTF8MB3 COLLATE UTF8MB3_UNICODE_CI');
    expect(resolvedCollation('COLLATE BINARY', mariadb(10, 11))).toBe('CHARACTER SET BINARY COLLATE BINARY');
  });

  it('a character set alone takes the target server\'s default collation', () => {
    expect(resolvedCollation('CHARACTER SET LATIN1', mysql(8, 0, 36))).toBe('CHARACTER SET LATIN1 COLLATE LATIN1_SWEDISH_CI');
    expect(resolvedCollation('CHARACTER SET UTF8MB4', mariadb(10, 11))).toBe('CHARACTER SET UTF8MB4 COLLATE UTF8MB4_GENERAL_CI');
    expect(resolvedCollation('CHARACTER SET UTF8MB4', mariadb(11, 5))).toBe('CHARACTER SET UTF8MB4 COLLATE UTF8MB4_UCA1400_AI_CI');
    expect(resolvedCollation('CHARACTER SET UTF8MB4', mysql(8, 0, 36))).toBe('CHARACTER SET UTF8MB4 COLLATE UTF8MB4_0900_AI_CI');
    expect(resolvedCollation('CHARACTER SET UTF8MB4', mysql(5, 7))).toBe('CHARACTER SET UTF8MB4 COLLATE UTF8MB4_GENERAL_CI');
    expect(resolvedCollation('CHARACTER SET UTF8', mysql(8, 0, 36))).toBe('CHARACTER SET UTF8MB3 COLLATE UTF8MB3_GENERAL_CI');
  });

  it('a character set whose default is not known here stays as written, and only the same spelling matches', () => {
    expect(resolvedCollation('CHARACTER SET KOI8R', mariadb(10, 11))).toBe('CHARACTER SET KOI8R');
    expect(resolvedCollation('CHARACTER SET KOI8R COLLATE KOI8R_BIN', mariadb(10, 11))).toBe('CHARACTER SET KOI8R COLLATE KOI8R_BIN');
  });
});
