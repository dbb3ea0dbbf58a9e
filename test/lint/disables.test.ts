/** Inline disables: scope, reasons, unused and unknown ones; parse errors cannot be disabled. */
import { describe, expect, it } from 'vitest';
import { lintSql } from './support/lint-helpers.js';

const rules = (findings: Array<{ rule: string; line: number }>) => findings.map((f) => `${f.rule}@${f.line}`);

describe('inline disables', () => {
  it('disable-next-statement covers only the next statement', async () => {
    const findings = await lintSql(['-- tandem-lint-disable-next-statement create-index-blocking built at night, table has 40 rows', 'CREATE INDEX a_idx ON t (a);', 'CREATE INDEX b_idx ON t (b);'].join('\n'));
    expect(rules(findings)).toEqual(['create-index-blocking@3']);
  });

  it('disable applies from its line to the end of the file, across sections', async () => {
    const sql = ['-- tandem:expand', 'CREATE INDEX a_idx ON t (a);', '-- tandem-lint-disable create-index-blocking,drop-index-blocking small lookup table', 'CREATE INDEX b_idx ON t (b);', '-- tandem:contract', 'DROP INDEX a_idx;', 'CREATE INDEX c_idx ON t (c);'].join('\n');
    expect(rules(await lintSql(sql))).toEqual(['create-index-blocking@2']);
  });

  it('a disable without a reason still disables, and is itself a warning', async () => {
    const findings = await lintSql('-- tandem-lint-disable-next-statement create-index-blocking\nCREATE INDEX a_idx ON t (a);');
    expect(findings.map((f) => [f.rule, f.severity, f.line, f.column])).toEqual([['disable-without-reason', 'warning', 1, 1]]);
  });

  it('reports unused and unknown disables', async () => {
    const findings = await lintSql(['-- tandem-lint-disable-next-statement drop-column nothing to drop here', 'CREATE INDEX CONCURRENTLY a_idx ON t (a);', '-- tandem-lint-disable no-such-rule because', 'SELECT 1;'].join('\n'));
    expect(findings.map((f) => [f.rule, f.line, f.message])).toEqual([
      ['unused-disable', 1, 'unused tandem-lint-disable-next-statement: rule drop-column reports nothing in the next statement'],
      ['unused-disable', 3, 'tandem-lint-disable names an unknown rule "no-such-rule"'],
    ]);
  });

  it('a directive inside a string literal is not a directive', async () => {
    const findings = await lintSql("INSERT INTO notes (body) VALUES ('\n-- tandem-lint-disable create-index-blocking x\n');\nCREATE INDEX a_idx ON t (a);");
    expect(rules(findings)).toEqual(['create-index-blocking@4']);
  });

  it('cannot hide a parse error', async () => {
    const findings = await lintSql('-- tandem-lint-disable-next-statement parse-error trust me\nALTER TABLE t ADD COLUM x int;');
    expect(findings.map((f) => [f.rule, f.line, f.column])).toEqual([
      ['unused-disable', 1, 1],
      ['parse-error', 2, 27],
    ]);
  });
});

describe('phases', () => {
  it('DROP COLUMN is an error in expand and plain files, fine in contract and rollback', async () => {
    const sql = 'ALTER TABLE t DROP COLUMN c;';
    expect(rules(await lintSql(sql))).toEqual(['drop-column@1']);
    expect(rules(await lintSql(`-- tandem:expand\n${sql}`))).toEqual(['drop-column@2']);
    expect(rules(await lintSql(`-- tandem:expand\nSELECT 1;\n-- tandem:contract\n${sql}\n-- tandem:rollback\n${sql}`))).toEqual([]);
    expect(rules(await lintSql(sql, { phase: 'contract' }))).toEqual([]);
  });

  it('a rename breaks one app version in every phase', async () => {
    const sql = 'ALTER TABLE t RENAME COLUMN a TO b;';
    for (const phase of ['expand', 'backfill', 'contract'] as const) expect(rules(await lintSql(sql, { phase }))).toEqual(['rename-column@1']);
  });

  it('tandem migrations need no lock_timeout; other tools get a warning once per file', async () => {
    const sql = 'ALTER TABLE t ADD COLUMN a int;\nALTER TABLE t ADD COLUMN b int;';
    expect(await lintSql(sql)).toEqual([]);
    expect(rules(await lintSql(sql, { tool: 'flyway' }))).toEqual(['lock-timeout-missing@1']);
  });
});

describe('versions', () => {
  it('a constant default is catalog-only from PostgreSQL 11', async () => {
    const sql = "ALTER TABLE t ADD COLUMN a text DEFAULT 'x';";
    expect(rules(await lintSql(sql, { versions: { postgres: [10] } }))).toEqual(['add-column-volatile-default@1']);
    expect(await lintSql(sql, { versions: { postgres: [11] } })).toEqual([]);
  });

  it('SET NOT NULL after a validated check is free from PostgreSQL 12 only', async () => {
    const sql = ['-- tandem:contract', 'ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;', 'ALTER TABLE t VALIDATE CONSTRAINT c;', 'ALTER TABLE t ALTER COLUMN a SET NOT NULL;'].join('\n');
    expect(await lintSql(sql, { versions: { postgres: [12] } })).toEqual([]);
    expect(rules(await lintSql(sql, { versions: { postgres: [11] } }))).toEqual(['set-not-null@4']);
  });

  it('INSTANT ADD COLUMN needs MySQL 8.0.12 / MariaDB 10.3', async () => {
    const sql = 'ALTER TABLE t ADD COLUMN a INT NULL, ALGORITHM=INSTANT;';
    expect(rules(await lintSql(sql, { dialect: 'mysql', versions: { mysql: [8, 0, 11] } }))).toEqual(['mysql-instant-unsupported@1']);
    expect(await lintSql(sql, { dialect: 'mysql', versions: { mysql: [8, 0, 12] } })).toEqual([]);
    expect(rules(await lintSql(sql, { dialect: 'mysql', versions: { mariadb: [10, 2] } }))).toEqual(['mysql-instant-unsupported@1']);
    expect(await lintSql(sql, { dialect: 'mysql', versions: { mariadb: [10, 3] } })).toEqual([]);
  });
});

describe('spans', () => {
  it('point at the exact clause, also after non-ASCII text and on later lines', async () => {
    const findings = await lintSql('ALTER TABLE "Zürich" ADD COLUMN note text,\n  DROP COLUMN "größe";');
    expect(findings.map((f) => [f.rule, f.line, f.column, f.endLine, f.endColumn])).toEqual([['drop-column', 2, 3, 2, 22]]);
  });

  it('report a parse error at the offending token', async () => {
    const findings = await lintSql('SELECT 1;\nALTER TABLE t\n  ADD COLUM x int;', { dialect: 'postgres' });
    expect(findings.map((f) => [f.rule, f.line, f.column])).toEqual([['parse-error', 3, 15]]);
    const mysql = await lintSql('ALTER TABLE t ADD COLUMN x INT FRIST, ALGORITHM=INSTANT;', { dialect: 'mysql' });
    expect(mysql.map((f) => [f.rule, f.line, f.column])).toEqual([['parse-error', 1, 32]]);
  });
});
