import { createHash } from 'node:crypto';
import type { SqlDialect, SqlStatement } from './split-statements.js';
import { normalizeStatement } from './split-statements.js';

/** Checksum of a list of statements; the ledger stores it per phase and per prefix of a phase. */
export function checksumStatements(statements: readonly SqlStatement[], dialect: SqlDialect): string {
  const hash = createHash('sha256');
  for (const statement of statements) hash.update(normalizeStatement(statement.sql, dialect)).update(';\n');
  return hash.digest('hex');
}

/** What a phase without a section records: the checksum of no statements. */
export const EMPTY_CHECKSUM = createHash('sha256').digest('hex');
