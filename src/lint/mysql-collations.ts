import { atLeast } from './config.js';
import type { TargetVersions } from './types.js';

/**
 * A column's `CHARACTER SET x COLLATE y` as the server resolves it, so that two spellings of the
 * same thing compare equal: a collation alone names its character set (`latin1_bin` is latin1's), a
 * character set alone takes its default collation, and `utf8` is `utf8mb3`. Where the default
 * collation is not known here, the character set stays alone and only the same spelling matches.
 * Input and output are upper case, as the facts keep them.
 */
export function resolvedCollation(clause: string, versions: TargetVersions): string {
  const charsetMatch = /CHARACTER SET (\S+)/.exec(clause);
  const collateMatch = /COLLATE (\S+)/.exec(clause);
  const collate = collateMatch ? collateMatch[1]!.replace(/^UTF8_/, 'UTF8MB3_') : null;
  const named = charsetMatch ? charsetMatch[1]! : collate === 'BINARY' ? 'BINARY' : (collate?.split('_')[0] ?? '');
  const charset = named === 'UTF8' ? 'UTF8MB3' : named;
  const collation = collate ?? defaultCollation(charset, versions);
  return collation ? `CHARACTER SET ${charset} COLLATE ${collation}` : `CHARACTER SET ${charset}`;
}

/** Unicode character sets, whose default collation changed with server versions. */
const UNICODE = new Set(['UTF8MB3', 'UTF8MB4', 'UCS2', 'UTF16', 'UTF16LE', 'UTF32']);

/** The default collations of common character sets that every supported server shares. */
const FIXED_DEFAULTS: Record<string, string> = {
  LATIN1: 'LATIN1_SWEDISH_CI',
  LATIN2: 'LATIN2_GENERAL_CI',
  ASCII: 'ASCII_GENERAL_CI',
  BINARY: 'BINARY',
  CP1250: 'CP1250_GENERAL_CI',
  CP1251: 'CP1251_GENERAL_CI',
  CP1256: 'CP1256_GENERAL_CI',
  CP1257: 'CP1257_GENERAL_CI',
  GREEK: 'GREEK_GENERAL_CI',
  HEBREW: 'HEBREW_GENERAL_CI',
  GBK: 'GBK_CHINESE_CI',
  BIG5: 'BIG5_CHINESE_CI',
  SJIS: 'SJIS_JAPANESE_CI',
  UJIS: 'UJIS_JAPANESE_CI',
  EUCKR: 'EUCKR_KOREAN_CI',
};

/**
 * MariaDB 11.5 made uca1400_ai_ci the default of every Unicode character set; MySQL 8.0 made
 * utf8mb4_0900_ai_ci utf8mb4's; before those, and for the others, `<charset>_general_ci`.
 */
function defaultCollation(charset: string, versions: TargetVersions): string | null {
  if (!UNICODE.has(charset)) return FIXED_DEFAULTS[charset] ?? null;
  if (versions.mariadb) return atLeast(versions.mariadb, [11, 5]) ? `${charset}_UCA1400_AI_CI` : `${charset}_GENERAL_CI`;
  if (charset === 'UTF8MB4' && atLeast(versions.mysql, [8])) return 'UTF8MB4_0900_AI_CI';
  return `${charset}_GENERAL_CI`;
}
