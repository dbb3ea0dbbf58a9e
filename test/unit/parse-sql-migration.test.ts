import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors/tandem-error.js';
import { EMPTY_CHECKSUM } from '../../src/migrations/checksum.js';
import { loadMigrations } from '../../src/migrations/load-migrations.js';
import { parseSqlMigration } from '../../src/migrations/parse-sql-migration.js';
import type { SqlDialect } from '../../src/migrations/split-statements.js';

const FILE = 'migrations/20260101000000_add_thing.sql';

const parse = (text: string, dialect: SqlDialect = 'postgres') =>
  parseSqlMigration(text, { file: FILE, id: '20260101000000_add_thing', name: 'add_thing', version: '20260101000000', dialect });

/** Parse `text`, expecting a UsageError, and return it. */
function parseError(text: string, dialect: SqlDialect = 'postgres'): UsageError {
  try {
    parse(text, dialect);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected parseSqlMigration to throw');
}

/** The error names the file and the line: both in .place and at the start of what the CLI prints. */
function expectPlace(error: UsageError, line: number): void {
  expect(error.place.file).toBe(FILE);
  expect(error.place.line).toBe(line);
  expect(error.where.startsWith(`${FILE}:${line}`)).toBe(true);
  expect(error.exitCode).toBe(2);
  expect(error.fix).toBeTruthy();
}

describe('parseSqlMigration: sections', () => {
  it('splits the four sections and records each marker line', () => {
    const m = parse(
      [
        '-- add a column', // 1
        '-- tandem:expand', // 2
        'ALTER TABLE t ADD COLUMN b int;', // 3
        '', // 4
        '-- tandem:backfill', // 5
        'UPDATE t SET b = a;', // 6
        '-- tandem:contract', // 7
        'ALTER TABLE t DROP COLUMN a;', // 8
        '-- tandem:rollback', // 9
        'ALTER TABLE t DROP COLUMN b;', // 10
      ].join('\n'),
    );
    expect(m.plain).toBe(false);
    expect(m.file).toBe(FILE);
    expect(Object.keys(m.sections).sort()).toEqual(['backfill', 'contract', 'expand', 'rollback']);
    expect(m.sections.expand).toMatchObject({ line: 2, statements: [{ sql: 'ALTER TABLE t ADD COLUMN b int', line: 3 }] });
    expect(m.sections.backfill).toMatchObject({ line: 5, statements: [{ sql: 'UPDATE t SET b = a', line: 6 }] });
    expect(m.sections.contract).toMatchObject({ line: 7, statements: [{ sql: 'ALTER TABLE t DROP COLUMN a', line: 8 }] });
    expect(m.sections.rollback).toMatchObject({ line: 9, statements: [{ sql: 'ALTER TABLE t DROP COLUMN b', line: 10 }] });
  });

  it('accepts markers in any case and with spacing, and sections in any order', () => {
    const m = parse('--   TANDEM:Contract  \nDROP TABLE old;\n--tandem:expand\nCREATE TABLE n (id int);\n');
    expect(m.sections.contract?.statements.map((s) => s.sql)).toEqual(['DROP TABLE old']);
    expect(m.sections.expand?.statements.map((s) => s.sql)).toEqual(['CREATE TABLE n (id int)']);
    expect(m.sections.backfill).toBeUndefined();
  });

  it('an empty section has the checksum of no statements', () => {
    const m = parse('-- tandem:expand\n-- nothing yet\n-- tandem:backfill\nUPDATE t SET a = 1;\n');
    expect(m.sections.expand?.statements).toEqual([]);
    expect(m.sections.expand?.checksum).toBe(EMPTY_CHECKSUM);
    expect(m.sections.backfill?.checksum).not.toBe(EMPTY_CHECKSUM);
  });

  it('checksums ignore comments and spacing, but not the SQL', () => {
    const a = parse('-- tandem:expand\nALTER TABLE t ADD COLUMN b int;\n');
    const b = parse('-- tandem:expand\n-- why\nALTER   TABLE t\n  ADD COLUMN b int; -- done\n');
    const c = parse('-- tandem:expand\nALTER TABLE t ADD COLUMN b bigint;\n');
    expect(b.sections.expand?.checksum).toBe(a.sections.expand?.checksum);
    expect(c.sections.expand?.checksum).not.toBe(a.sections.expand?.checksum);
  });

  it('a plain file (no markers) is one expand section starting at line 1', () => {
    const m = parse('-- just SQL\nCREATE TABLE a (id int);\n\nCREATE INDEX a_id ON a (id);\n');
    expect(m.plain).toBe(true);
    expect(Object.keys(m.sections)).toEqual(['expand']);
    expect(m.sections.expand?.line).toBe(1);
    expect(m.sections.expand?.statements.map((s) => [s.sql, s.line])).toEqual([
      ['CREATE TABLE a (id int)', 2],
      ['CREATE INDEX a_id ON a (id)', 4],
    ]);
  });

  it('CRLF files parse like LF files: same lines, same statements, same checksums, no stray \\r', () => {
    const lf = '-- tandem:expand\nALTER TABLE t\n  ADD COLUMN b int;\n-- tandem:backfill\nUPDATE t SET b = 1;\n';
    const crlf = parse(lf.replace(/\n/g, '\r\n'));
    const plain = parse(lf);
    expect(crlf.sections.expand?.statements).toEqual(plain.sections.expand?.statements);
    expect(crlf.sections.backfill).toEqual(plain.sections.backfill);
    expect(JSON.stringify(crlf.sections)).not.toContain('\\r');
    // A CRLF error still points at the right line.
    expect(parseError('-- tandem:expand\r\nSELECT 1;\r\n-- tandem:deploy\r\n').place.line).toBe(3);
  });

  it('statement lines inside later sections are file lines', () => {
    const m = parse('\n\n-- tandem:expand\n\n\nSELECT 1;\nSELECT\n  2;\n-- tandem:backfill\n\nSELECT 3;');
    expect(m.sections.expand?.statements.map((s) => s.line)).toEqual([6, 7]);
    expect(m.sections.backfill?.statements.map((s) => s.line)).toEqual([11]);
  });

  it('MySQL DELIMITER blocks stay one statement', () => {
    const m = parse(
      '-- tandem:expand\nDELIMITER //\nCREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.b = NEW.a; END//\nDELIMITER ;\n',
      'mysql',
    );
    expect(m.sections.expand?.statements).toHaveLength(1);
    expect(m.sections.expand?.statements[0]?.line).toBe(3);
  });
});

describe('parseSqlMigration: malformed files name file and line', () => {
  it('a dbmate file is refused at its first marker: its down section would run forward', () => {
    const text = '-- migrate:up\nCREATE TABLE t (id int);\n\n-- migrate:down\nDROP TABLE t;\n';
    for (const [source, line, marker] of [[text, 1, 'up'], [text.replace('-- migrate:up\n', '-- an up section without its marker\n'), 4, 'down']] as const) {
      try {
        parse(source);
        throw new Error('expected parse to throw');
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        expect((error as UsageError).message).toContain(`dbmate's "-- migrate:${marker}" marker: tandem would run the whole file forward, its down section too`);
        expect((error as UsageError).place).toMatchObject({ line });
        expect((error as UsageError).fix).toContain('`-- tandem:rollback` instead of `-- migrate:down`');
      }
    }
  });

  it('unknown marker', () => {
    const error = parseError('-- tandem:expand\nSELECT 1;\n\n-- tandem:deploy\nSELECT 2;\n');
    expect(error.message).toContain('unknown phase marker');
    expect(error.message).toContain('tandem:deploy');
    expectPlace(error, 4);
    expect(error.fix).toContain('-- tandem:expand');
  });

  it('an empty marker', () => {
    expectPlace(parseError('SELECT 1;\n-- tandem:\n'), 2);
  });

  it('a near-miss marker (typo) is not silently treated as a comment', () => {
    const error = parseError('-- tandem:expand\nSELECT 1;\n-- tandem backfill\nUPDATE t SET a = 1;\n');
    expect(error.message).toContain('malformed phase marker');
    expectPlace(error, 3);
  });

  it('duplicate section names the second marker and the first', () => {
    const error = parseError('-- tandem:expand\nSELECT 1;\n-- tandem:backfill\nSELECT 2;\n-- tandem:expand\nSELECT 3;\n');
    expect(error.message).toContain('duplicate section');
    expect(error.message).toContain('first at line 1');
    expectPlace(error, 5);
  });

  it('statement before the first marker', () => {
    const error = parseError('-- header comment\n\nCREATE TABLE early (id int);\n-- tandem:expand\nSELECT 1;\n');
    expect(error.message).toContain('before the first phase marker');
    expectPlace(error, 3);
    expect(error.fix).toContain('line 4');
  });

  it('comments and blank lines before the first marker are fine', () => {
    expect(() => parse('-- a\n/* b\n c */\n\n-- tandem:expand\nSELECT 1;\n')).not.toThrow();
  });

  it('an unterminated quote names the line where it opens', () => {
    const error = parseError("-- tandem:expand\nSELECT 1;\nSELECT 'oops;\n");
    expectPlace(error, 3);
  });

  describe.each<SqlDialect>(['postgres', 'mysql'])('transaction control is rejected (%s)', (dialect) => {
    it.each([
      ['BEGIN', 'BEGIN;'],
      ['begin work', 'begin work;'],
      ['START TRANSACTION', 'START\n  TRANSACTION;'],
      ['COMMIT', 'COMMIT;'],
      ['ROLLBACK', 'ROLLBACK;'],
      ['END', 'END;'],
      ['SAVEPOINT', 'SAVEPOINT s1;'],
      ['RELEASE SAVEPOINT', 'RELEASE SAVEPOINT s1;'],
      ['ROLLBACK TO SAVEPOINT', 'ROLLBACK TO SAVEPOINT s1;'],
      ...(dialect === 'postgres'
        ? [
            ['ABORT', 'ABORT;'],
            ['PREPARE TRANSACTION', "PREPARE TRANSACTION 'x';"],
            ['COMMIT PREPARED', "COMMIT PREPARED 'x';"],
          ]
        : [['XA START', "XA START 'x';"]]),
    ])('%s', (_label, statement) => {
      const error = parseError(`-- tandem:expand\nALTER TABLE t ADD COLUMN b int;\n${statement}\n`, dialect);
      expect(error.message).toContain('transaction control');
      expectPlace(error, 3);
    });

    it('in a plain file too', () => {
      expectPlace(parseError('CREATE TABLE a (id int);\n\nCOMMIT;\n', dialect), 3);
    });
  });

  it('BEGIN inside a function body or a MySQL compound statement is not transaction control', () => {
    expect(() =>
      parse('-- tandem:expand\nCREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN NEW;\nEND $$;\n'),
    ).not.toThrow();
    expect(() =>
      parse('-- tandem:expand\nDELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\n', 'mysql'),
    ).not.toThrow();
  });
});

describe('loadMigrations', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-load-unit-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const dirWith = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(root, 'm-'));
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text);
    }
    return dir;
  };

  it('reads .sql files in file-name order, with id, version and name; other files are left alone', () => {
    const dir = dirWith({
      '20260102000000_second.sql': 'SELECT 2;',
      '20260101000000_first_one.sql': '-- tandem:expand\nSELECT 1;',
      'README.md': '# not a migration',
      'probes/20260103000000_probe.sql': 'SELECT 3;',
      '20260104000000-dashed.SQL': 'SELECT 4;',
    });
    const migrations = loadMigrations(dir, 'postgres', root);
    expect(migrations.map((m) => [m.id, m.version, m.name, m.plain])).toEqual([
      ['20260101000000_first_one', '20260101000000', 'first_one', false],
      ['20260102000000_second', '20260102000000', 'second', true],
      ['20260104000000-dashed', '20260104000000', 'dashed', true],
    ]);
    expect(migrations[0]?.file).toBe(path.join(path.relative(root, dir), '20260101000000_first_one.sql'));
  });

  it('a version used twice is an error naming the file', () => {
    const dir = dirWith({ '20260101000000_a.sql': 'SELECT 1;', '20260101000000_b.sql': 'SELECT 2;' });
    try {
      loadMigrations(dir, 'postgres', root);
      throw new Error('expected loadMigrations to throw');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toContain('20260101000000 is used twice: 20260101000000_a.sql and 20260101000000_b.sql');
      expect((error as UsageError).place).toEqual({ file: path.join(path.relative(root, dir), '20260101000000_b.sql'), line: 1 });
    }
  });

  it('runs versions in number order, not text order: 2_ before 10_, V2__ before V10__ (Flyway)', () => {
    const dir = dirWith({ '10_ten.sql': 'SELECT 10;', '2_two.sql': 'SELECT 2;', 'V3__three.sql': 'SELECT 3;', 'V1_1__one_one.sql': 'SELECT 1.1;', 'seed.sql': 'SELECT 0;' });
    const migrations = loadMigrations(dir, 'postgres', root);
    expect(migrations.map((m) => [m.id, m.version, m.name])).toEqual([
      ['V1_1__one_one', '1.1', 'one_one'],
      ['2_two', '2', 'two'],
      ['V3__three', '3', 'three'],
      ['10_ten', '10', 'ten'],
      ['seed', 'seed', 'seed'],
    ]);
  });

  it('one version written two ways is used twice', () => {
    for (const [a, b] of [['0007_a.sql', '7_b.sql'], ['V1_1__a.sql', 'V1.1__b.sql']] as const) {
      const dir = dirWith({ [a]: 'SELECT 1;', [b]: 'SELECT 2;' });
      expect(() => loadMigrations(dir, 'postgres', root)).toThrow(/is used twice/);
    }
  });

  it('a Flyway undo or repeatable script, or a golang-migrate down file, is refused by name, with what to do instead', () => {
    for (const [name, what, fix] of [
      ['U2__drop_email.sql', /U2__drop_email\.sql is a Flyway undo script, not a migration tandem can run/, /tandem:rollback/],
      ['R__views.sql', /R__views\.sql is a Flyway repeatable migration/, /give it a version/],
      ['000002_tidy.down.sql', /000002_tidy\.down\.sql is a golang-migrate down migration/, /tandem:rollback/],
    ] as const) {
      const dir = dirWith({ 'V1__init.sql': 'SELECT 1;', [name]: 'SELECT 2;' });
      try {
        loadMigrations(dir, 'postgres', root);
        throw new Error('expected loadMigrations to throw');
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        expect((error as UsageError).message).toMatch(what);
        expect((error as UsageError).fix).toMatch(fix);
        expect((error as UsageError).place).toEqual({ file: path.join(path.relative(root, dir), name), line: 1 });
      }
    }
  });

  it('a malformed file anywhere in the directory stops the load, naming it and the line', () => {
    const dir = dirWith({ '20260101000000_ok.sql': 'SELECT 1;', '20260102000000_bad.sql': '-- tandem:expand\nSELECT 1;\n-- tandem:later\n' });
    expect(() => loadMigrations(dir, 'mysql', root)).toThrow(/unknown phase marker/);
    try {
      loadMigrations(dir, 'mysql', root);
    } catch (error) {
      expect((error as UsageError).where).toBe(`${path.join(path.relative(root, dir), '20260102000000_bad.sql')}:3`);
    }
  });

  it('a missing directory is a usage error that says how to create it', () => {
    expect(() => loadMigrations(path.join(root, 'nope'), 'postgres', root)).toThrow(/does not exist/);
  });
});
