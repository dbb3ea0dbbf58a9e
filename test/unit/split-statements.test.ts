import { describe, it, expect } from 'vitest';
import {
  normalizeStatement,
  splitStatements,
  SqlSplitError,
  type SqlDialect,
} from '../../src/migrations/split-statements.js';

const sqls = (text: string, dialect: SqlDialect): string[] =>
  splitStatements(text, dialect).map((s) => s.sql);

/** Splits `text`, expecting it to fail, and returns the SqlSplitError thrown. */
function splitError(text: string, dialect: SqlDialect, firstLine?: number): SqlSplitError {
  try {
    splitStatements(text, dialect, firstLine);
  } catch (err) {
    expect(err).toBeInstanceOf(SqlSplitError);
    return err as SqlSplitError;
  }
  throw new Error('expected splitStatements to throw');
}

describe.each<SqlDialect>(['postgres', 'mysql'])('splitStatements common rules (%s)', (dialect) => {
  it('splits on semicolons and trims', () => {
    expect(sqls('  SELECT 1 ;SELECT 2;\n\n  SELECT 3;  ', dialect)).toEqual(['SELECT 1', 'SELECT 2', 'SELECT 3']);
  });

  it('returns a trailing statement without a semicolon', () => {
    expect(sqls('SELECT 1;\nSELECT 2\n', dialect)).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('drops empty statements and comment-only statements', () => {
    expect(sqls(';;\n  ;\n-- only a comment\n;/* block */;SELECT 1;;\n-- trailing\n', dialect)).toEqual([
      'SELECT 1',
    ]);
    expect(splitStatements('', dialect)).toEqual([]);
    expect(splitStatements('  \n\t ', dialect)).toEqual([]);
  });

  it('keeps comments inside a statement verbatim but drops leading and trailing ones', () => {
    const text = '-- header\n/* lead */ SELECT a, -- why a\n  /* b */ b FROM t -- tail\n;';
    expect(sqls(text, dialect)).toEqual(['SELECT a, -- why a\n  /* b */ b FROM t']);
  });

  it('drops a trailing comment from a final statement without a semicolon', () => {
    expect(sqls('SELECT 1 -- done', dialect)).toEqual(['SELECT 1']);
  });

  it('ignores semicolons inside single-quoted strings, with doubled-quote escapes', () => {
    expect(sqls("INSERT INTO t VALUES ('a;b', 'it''s; fine');SELECT 2", dialect)).toEqual([
      "INSERT INTO t VALUES ('a;b', 'it''s; fine')",
      'SELECT 2',
    ]);
  });

  it('ignores semicolons inside double-quoted spans, with doubled-quote escapes', () => {
    expect(sqls('SELECT "a;b", "x"";y" FROM t;SELECT 2', dialect)).toEqual([
      'SELECT "a;b", "x"";y" FROM t',
      'SELECT 2',
    ]);
  });

  it('ignores semicolons inside line and block comments', () => {
    expect(sqls('SELECT 1 -- a; b\n+ 1; SELECT /* ; */ 2;', dialect)).toEqual([
      'SELECT 1 -- a; b\n+ 1',
      'SELECT /* ; */ 2',
    ]);
  });

  it('treats "-- " followed by whitespace or end of input as a comment', () => {
    expect(sqls('SELECT 1 --\tx;\n;SELECT 2 --', dialect)).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('keeps quoted text spanning lines intact', () => {
    expect(sqls("SELECT 'line1;\nline2';SELECT 2", dialect)).toEqual(["SELECT 'line1;\nline2'", 'SELECT 2']);
  });

  it('reports 1-based line, column and endLine of each statement', () => {
    const text = [
      'SELECT 1;', //                         line 1
      '', //                                  line 2
      '  /* lead */ CREATE TABLE t (', //      line 3
      '    id int', //                        line 4
      '  );  SELECT', //                      line 5
      '  2 -- tail', //                       line 6
      ';', //                                 line 7
    ].join('\n');
    expect(splitStatements(text, dialect)).toEqual([
      { sql: 'SELECT 1', line: 1, column: 1, endLine: 1 },
      { sql: 'CREATE TABLE t (\n    id int\n  )', line: 3, column: 14, endLine: 5 },
      { sql: 'SELECT\n  2', line: 5, column: 7, endLine: 6 },
    ]);
  });

  it('offsets lines by firstLine but not columns', () => {
    expect(splitStatements('SELECT 1;\n  SELECT\n2;', dialect, 40)).toEqual([
      { sql: 'SELECT 1', line: 40, column: 1, endLine: 40 },
      { sql: 'SELECT\n2', line: 41, column: 3, endLine: 42 },
    ]);
  });

  it('handles CRLF input: lines stay right and no \\r is left at statement ends', () => {
    const text = 'SELECT 1;\r\n\r\n  SELECT a,\r\n    b\r\n  FROM t -- c\r\n;\r\nSELECT 3\r\n';
    expect(splitStatements(text, dialect)).toEqual([
      { sql: 'SELECT 1', line: 1, column: 1, endLine: 1 },
      { sql: 'SELECT a,\r\n    b\r\n  FROM t', line: 3, column: 3, endLine: 5 },
      { sql: 'SELECT 3', line: 7, column: 1, endLine: 7 },
    ]);
  });

  it('throws on an unterminated single-quoted string, at the opening quote', () => {
    const err = splitError("SELECT 1;\nSELECT 'abc;\nSELECT 2;", dialect);
    expect(err.line).toBe(2);
    expect(err.column).toBe(8);
    expect(err.message).toBe("unterminated string literal (') opened at line 2, column 8");
    expect(err.name).toBe('SqlSplitError');
    expect(err).toBeInstanceOf(Error);
  });

  it('throws on an unterminated double-quoted span', () => {
    const err = splitError('SELECT "abc', dialect);
    expect([err.line, err.column]).toEqual([1, 8]);
    expect(err.message).toMatch(/^unterminated .*\(\"\) opened at line 1, column 8$/);
  });

  it('throws on an unterminated block comment', () => {
    const err = splitError('SELECT 1;\n\n  /* never closed;\nSELECT 2;', dialect);
    expect([err.line, err.column]).toEqual([3, 3]);
    expect(err.message).toBe('unterminated block comment (/*) opened at line 3, column 3');
  });

  it('reports error lines offset by firstLine', () => {
    const err = splitError("SELECT 1;\nSELECT 'x", dialect, 100);
    expect([err.line, err.column]).toEqual([101, 8]);
    expect(err.message).toContain('line 101, column 8');
  });

  it('does not treat an unterminated line comment at end of input as an error', () => {
    expect(sqls('SELECT 1; -- no newline', dialect)).toEqual(['SELECT 1']);
  });
});

describe('splitStatements PostgreSQL', () => {
  const pg = (text: string): string[] => sqls(text, 'postgres');

  it('keeps a function body in $$ as one statement', () => {
    const text = [
      'CREATE FUNCTION bump() RETURNS trigger AS $$',
      'BEGIN',
      "  NEW.updated_at := now(); -- stamp; 'quote",
      '  RETURN NEW;',
      'END;',
      '$$ LANGUAGE plpgsql;',
      'SELECT 1;',
    ].join('\n');
    const result = splitStatements(text, 'postgres');
    expect(result).toHaveLength(2);
    expect(result[0]).toEqual({
      sql: text.slice(0, text.indexOf(' LANGUAGE plpgsql;')) + ' LANGUAGE plpgsql',
      line: 1,
      column: 1,
      endLine: 6,
    });
    expect(result[1]).toMatchObject({ sql: 'SELECT 1', line: 7 });
  });

  it('supports tagged dollar quotes containing other dollar quotes', () => {
    const text = "DO $body$ BEGIN EXECUTE $q$SELECT ';'$q$; PERFORM $$;$$; END $body$;SELECT 2";
    expect(pg(text)).toEqual([text.slice(0, text.indexOf('$body$;') + 6), 'SELECT 2']);
  });

  it('only closes a dollar quote with the same tag', () => {
    expect(pg('SELECT $a$ $b$; $$; $a$;SELECT 2')).toEqual(['SELECT $a$ $b$; $$; $a$', 'SELECT 2']);
  });

  it('treats $1 as a parameter, not a dollar quote', () => {
    expect(pg('PREPARE p AS SELECT $1; SELECT $2')).toEqual(['PREPARE p AS SELECT $1', 'SELECT $2']);
  });

  it('does not start a dollar quote inside an identifier containing $', () => {
    expect(pg('SELECT a$$b; SELECT x$y$ FROM t;')).toEqual(['SELECT a$$b', 'SELECT x$y$ FROM t']);
  });

  it('allows underscores, digits (not first) and non-ASCII in tags', () => {
    expect(pg('SELECT $_t1$;$_t1$; SELECT $ü$;$ü$;')).toEqual(['SELECT $_t1$;$_t1$', 'SELECT $ü$;$ü$']);
  });

  it('handles backslash escapes in E and e strings', () => {
    expect(pg("SELECT E'it\\'s; ok';SELECT e'\\\\';SELECT 3")).toEqual([
      "SELECT E'it\\'s; ok'",
      "SELECT e'\\\\'",
      'SELECT 3',
    ]);
  });

  it('does not apply backslash escapes to ordinary strings', () => {
    // 'a\' is a complete string under standard_conforming_strings.
    expect(pg("SELECT 'a\\';SELECT 2")).toEqual(["SELECT 'a\\'", 'SELECT 2']);
  });

  it('does not treat an identifier ending in e as an E-string prefix', () => {
    expect(pg("SELECT * FROM t WHERE name='x\\';SELECT 2")).toEqual([
      "SELECT * FROM t WHERE name='x\\'",
      'SELECT 2',
    ]);
  });

  it('treats --x as a comment', () => {
    expect(pg('SELECT 1 --x; y\n;SELECT 2')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('does not treat # as a comment', () => {
    expect(pg('SELECT 5 # 3; SELECT 2')).toEqual(['SELECT 5 # 3', 'SELECT 2']);
  });

  it('does not give backticks any meaning', () => {
    expect(pg('SELECT `a;b`')).toEqual(['SELECT `a', 'b`']);
  });

  it('nests block comments', () => {
    expect(pg('SELECT /* outer /* inner; */ still comment; */ 1; SELECT 2')).toEqual([
      'SELECT /* outer /* inner; */ still comment; */ 1',
      'SELECT 2',
    ]);
  });

  it('throws on an unbalanced nested block comment', () => {
    const err = splitError('SELECT 1;\n/* a /* b */ c;\nSELECT 2;', 'postgres');
    expect([err.line, err.column]).toEqual([2, 1]);
    expect(err.message).toBe('unterminated block comment (/*) opened at line 2, column 1');
  });

  it('throws on an unterminated dollar-quoted string, naming the tag', () => {
    const text = 'SELECT 1;\n\n\nCREATE FUNC$x AS $body$\nBEGIN; END;\n$bod$;';
    // `FUNC$x` is an identifier; the quote opens at the `$body$` on line 4.
    const err = splitError(text, 'postgres');
    expect([err.line, err.column]).toEqual([4, 18]);
    expect(err.message).toBe('unterminated dollar-quoted string ($body$) opened at line 4, column 18');
  });

  it('throws on an unterminated $$ string', () => {
    const err = splitError('DO $$ BEGIN', 'postgres');
    expect(err.message).toBe('unterminated dollar-quoted string ($$) opened at line 1, column 4');
  });

  it('throws on an unterminated E string whose quote is escaped', () => {
    const err = splitError("SELECT E'abc\\';", 'postgres');
    expect([err.line, err.column]).toEqual([1, 9]);
  });

  it('does not treat DELIMITER as special', () => {
    expect(pg('DELIMITER //\nSELECT 1;')).toEqual(['DELIMITER //\nSELECT 1']);
  });
});

describe('splitStatements MySQL', () => {
  const my = (text: string): string[] => sqls(text, 'mysql');

  it('does not treat --x as a comment, but does treat -- followed by space', () => {
    expect(my('SELECT 1 --x;\nSELECT 2 -- y;\n;')).toEqual(['SELECT 1 --x', 'SELECT 2']);
  });

  it('treats # as a line comment', () => {
    expect(my('# header; still comment\nSELECT 1 # tail;\n;SELECT 2')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('ignores semicolons in backtick identifiers, with doubled-backtick escapes', () => {
    expect(my('SELECT `a;b`, `x``;y` FROM t;SELECT 2')).toEqual(['SELECT `a;b`, `x``;y` FROM t', 'SELECT 2']);
  });

  it('handles backslash escapes in single- and double-quoted strings', () => {
    expect(my("SELECT 'it\\'s;', \"say \\\";\" ;SELECT 'a\\\\';SELECT 3")).toEqual([
      "SELECT 'it\\'s;', \"say \\\";\"",
      "SELECT 'a\\\\'",
      'SELECT 3',
    ]);
  });

  it('does not nest block comments', () => {
    expect(my('SELECT /* a /* b */ 1; SELECT 2 */')).toEqual(['SELECT /* a /* b */ 1', 'SELECT 2 */']);
  });

  it('treats /*! */ and /*M! */ executable comments as SQL', () => {
    expect(my('/*!40101 SET NAMES utf8mb4 */;\n/*M!100100 SET x=1 */;\n/* plain */;')).toEqual([
      '/*!40101 SET NAMES utf8mb4 */',
      '/*M!100100 SET x=1 */',
    ]);
  });

  it('does not treat $ as a dollar quote', () => {
    expect(my('SELECT $$;$$')).toEqual(['SELECT $$', '$$']);
  });

  it('splits a trigger defined with DELIMITER into one statement', () => {
    const text = [
      'CREATE TABLE t (id int, n int);', //                    1
      'DELIMITER //', //                                       2
      'CREATE TRIGGER t_bi BEFORE INSERT ON t', //             3
      'FOR EACH ROW', //                                       4
      'BEGIN', //                                              5
      '  SET NEW.n = NEW.n + 1; -- not the end //', //         6
      "  SET @s = 'x//;';", //                                 7
      'END//', //                                              8
      'delimiter ;', //                                        9
      'INSERT INTO t VALUES (1, 1);', //                       10
    ].join('\n');
    const result = splitStatements(text, 'mysql');
    expect(result.map((s) => [s.line, s.column, s.endLine])).toEqual([
      [1, 1, 1],
      [3, 1, 8],
      [10, 1, 10],
    ]);
    expect(result[1]!.sql).toBe(text.slice(text.indexOf('CREATE TRIGGER'), text.indexOf('END//') + 3));
    expect(result[1]!.sql).toMatch(/^CREATE TRIGGER[\s\S]*SET @s = 'x\/\/;';\nEND$/);
    expect(result[2]!.sql).toBe('INSERT INTO t VALUES (1, 1)');
  });

  it('supports multi-character delimiters such as $$ and indented DELIMITER lines', () => {
    const text = '  DELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END $$\nSELECT 2$$\n\tDeLiMiTeR ;\nSELECT 3;';
    expect(my(text)).toEqual(['CREATE PROCEDURE p() BEGIN SELECT 1; END', 'SELECT 2', 'SELECT 3']);
  });

  it('handles DELIMITER lines with CRLF line endings', () => {
    const text = 'DELIMITER //\r\nCREATE TRIGGER x BEGIN SET a = 1; END//\r\nDELIMITER ;\r\nSELECT 1;\r\n';
    expect(splitStatements(text, 'mysql')).toEqual([
      { sql: 'CREATE TRIGGER x BEGIN SET a = 1; END', line: 2, column: 1, endLine: 2 },
      { sql: 'SELECT 1', line: 4, column: 1, endLine: 4 },
    ]);
  });

  it('ends a pending statement at a DELIMITER line', () => {
    expect(my('SELECT 1\nDELIMITER //\nSELECT 2//')).toEqual(['SELECT 1', 'SELECT 2']);
  });

  it('ignores DELIMITER inside quotes, comments and mid-line', () => {
    const text = "SELECT '\nDELIMITER //\n';\n/*\nDELIMITER //\n*/ SELECT 2; SELECT 3 -- DELIMITER //\n;";
    expect(my(text)).toEqual(["SELECT '\nDELIMITER //\n'", 'SELECT 2', 'SELECT 3']);
    expect(my('SELECT 1; DELIMITER //\n;')).toEqual(['SELECT 1', 'DELIMITER //']);
  });

  it('requires whitespace after the DELIMITER keyword', () => {
    expect(my('DELIMITER;\nDELIMITERS //;')).toEqual(['DELIMITER', 'DELIMITERS //']);
  });

  it('throws when DELIMITER has no argument', () => {
    const err = splitError('SELECT 1;\n  DELIMITER   \nSELECT 2;', 'mysql', 5);
    expect([err.line, err.column]).toEqual([6, 3]);
  });

  it('throws on an unterminated backtick identifier', () => {
    const err = splitError('SELECT 1;\nSELECT `col;\n', 'mysql');
    expect([err.line, err.column]).toEqual([2, 8]);
    expect(err.message).toBe('unterminated quoted identifier (`) opened at line 2, column 8');
  });

  it('throws on an unterminated string whose closing quote is backslash-escaped', () => {
    const err = splitError("SELECT 'abc\\';", 'mysql');
    expect([err.line, err.column]).toEqual([1, 8]);
  });
});

// Speed is measured in bench/, not asserted here; these inputs would time out if splitting were quadratic.
describe('splitStatements on large inputs', () => {
  it('splits 20,000 statements with right line and column numbers', () => {
    const chunk = [
      "INSERT INTO t (a, b) VALUES (1, 'x;y'); -- note;",
      '/* c; */ UPDATE t SET a = a + 1 WHERE b = "q";',
    ].join('\n');
    const text = Array.from({ length: 10_000 }, () => chunk).join('\n');
    for (const dialect of ['postgres', 'mysql'] as const) {
      const result = splitStatements(text, dialect);
      expect(result).toHaveLength(20_000);
      expect(result[19_999]).toMatchObject({ line: 20_000, column: 10 });
    }
  });

  it('stays linear on inputs that defeat naive rescanning', () => {
    const n = 200_000;
    const inputs: Array<[string, SqlDialect]> = [
      ['$a'.repeat(n), 'postgres'], // many almost-dollar-quotes
      ['/*'.repeat(n), 'postgres'], // deeply nested, unterminated
      ['/*'.repeat(n), 'mysql'],
      ["'" + "''".repeat(n), 'mysql'], // one long unterminated string
      ['-'.repeat(n) + 'x', 'mysql'], // many near-comments
      ['x;'.repeat(n), 'postgres'], // many statements on one line (no newline to find)
    ];
    for (const [text, dialect] of inputs) {
      let outcome: unknown;
      try {
        outcome = splitStatements(text, dialect);
      } catch (err) {
        outcome = err;
      }
      // Either a clean split or the precise error; never a hang.
      expect(Array.isArray(outcome) || outcome instanceof SqlSplitError).toBe(true);
    }
  });
});

describe('normalizeStatement', () => {
  it('removes comments and collapses whitespace', () => {
    const sql = '-- lead\nSELECT  a,\r\n\t b -- why\n  FROM /* x */ t\n  WHERE /* y */ c = 1 -- end';
    expect(normalizeStatement(sql, 'postgres')).toBe('SELECT a, b FROM t WHERE c = 1');
  });

  it('replaces a comment between tokens with a space', () => {
    expect(normalizeStatement('SELECT 1/**/2', 'postgres')).toBe('SELECT 1 2');
    expect(normalizeStatement('SELECT a--c\nFROM t', 'postgres')).toBe('SELECT a FROM t');
  });

  it('keeps quoted strings and identifiers intact', () => {
    const sql = `SELECT 'a  --  b', "x  /* y */", 'it''s  ok'  FROM   t`;
    expect(normalizeStatement(sql, 'postgres')).toBe(`SELECT 'a  --  b', "x  /* y */", 'it''s  ok' FROM t`);
  });

  it('keeps dollar-quoted bodies verbatim', () => {
    const sql = 'CREATE FUNCTION f() RETURNS int AS $$\n  SELECT   1; -- one\n$$   LANGUAGE sql';
    expect(normalizeStatement(sql, 'postgres')).toBe(
      'CREATE FUNCTION f() RETURNS int AS $$\n  SELECT   1; -- one\n$$ LANGUAGE sql',
    );
  });

  it('removes nested PostgreSQL comments', () => {
    expect(normalizeStatement('SELECT /* a /* b */ c */ 1', 'postgres')).toBe('SELECT 1');
  });

  it('follows MySQL comment rules', () => {
    expect(normalizeStatement('SELECT 1 # c\n  --x\n  -- y\n FROM `t  t`', 'mysql')).toBe('SELECT 1 --x FROM `t  t`');
    expect(normalizeStatement("SELECT 'a\\'  b'   x", 'mysql')).toBe("SELECT 'a\\'  b' x");
    expect(normalizeStatement('/*!40101   SET x=1 */', 'mysql')).toBe('/*!40101 SET x=1 */');
    expect(normalizeStatement('SELECT 5 # 3', 'postgres')).toBe('SELECT 5 # 3');
  });

  it('returns an empty string for comments and whitespace only', () => {
    expect(normalizeStatement('  -- a\n /* b */ \n', 'postgres')).toBe('');
    expect(normalizeStatement('', 'mysql')).toBe('');
  });

  it('normalizes equivalent statements to the same text', () => {
    const a = splitStatements('ALTER TABLE t\n  ADD COLUMN c int; -- add c', 'postgres')[0]!.sql;
    const b = 'ALTER   TABLE t /* expand */ ADD COLUMN c int';
    expect(normalizeStatement(a, 'postgres')).toBe(normalizeStatement(b, 'postgres'));
  });

  it('throws SqlSplitError on unterminated quotes', () => {
    expect(() => normalizeStatement("SELECT\n 'x", 'postgres')).toThrow(SqlSplitError);
    expect(() => normalizeStatement("SELECT\n 'x", 'postgres')).toThrow('line 2, column 2');
  });
});
