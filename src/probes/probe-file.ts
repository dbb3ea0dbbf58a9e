import fs from 'node:fs';
import { UsageError } from '../errors/tandem-error.js';
import { splitStatements, type SqlDialect } from '../migrations/split-statements.js';

/**
 * A probe file lists the statements one app version issues, each optionally preceded by an
 * expectation comment:
 *   -- expect: rows 1      the statement returns (or changes) exactly one row
 *   -- expect: error       the statement must fail
 * Without a comment, a statement is expected to succeed.
 */
export type Expectation = { kind: 'ok' } | { kind: 'rows'; rows: number } | { kind: 'error' };

export interface Probe {
  sql: string;
  line: number;
  expect: Expectation;
}

const EXPECT = /^\s*--\s*expect:\s*(.+?)\s*$/i;

export function parseProbeFile(file: string, dialect: SqlDialect, text: string = fs.readFileSync(file, 'utf8')): Probe[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  return splitStatements(text, dialect).map((statement) => {
    // The expectation is the nearest `-- expect:` line above the statement, with only comments or blanks between.
    let expect: Expectation = { kind: 'ok' };
    for (let index = statement.line - 2; index >= 0; index--) {
      const content = lines[index]!;
      const match = EXPECT.exec(content);
      if (match) {
        expect = parseExpectation(match[1]!, file, index + 1);
        break;
      }
      if (content.trim() !== '' && !content.trim().startsWith('--')) break;
    }
    return { sql: statement.sql, line: statement.line, expect };
  });
}

function parseExpectation(text: string, file: string, line: number): Expectation {
  if (/^error$/i.test(text)) return { kind: 'error' };
  if (/^ok$/i.test(text)) return { kind: 'ok' };
  const rows = /^rows?\s+(\d+)$/i.exec(text);
  if (rows) return { kind: 'rows', rows: Number(rows[1]) };
  throw new UsageError(`unknown expectation "-- expect: ${text}"`, { file, line }, 'write -- expect: rows N, -- expect: error or -- expect: ok');
}
