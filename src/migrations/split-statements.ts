/**
 * Splits SQL scripts into statements for PostgreSQL and MySQL/MariaDB.
 *
 * This is a lexer, not a parser: it only knows enough to tell where quoted
 * text and comments start and end, so that a `;` (or a MySQL `DELIMITER`)
 * inside them does not end a statement. Every character is visited a bounded
 * number of times, so splitting is linear in the size of the script.
 */

export type SqlDialect = 'postgres' | 'mysql';

export interface SqlStatement {
  /** Statement text without its delimiter; starts and ends at SQL (not comments or whitespace). */
  sql: string;
  /** 1-based line of the statement's first non-comment, non-space character. */
  line: number;
  /** 1-based column (UTF-16 code units) of that character. */
  column: number;
  /** 1-based line of the statement's last character. */
  endLine: number;
}

export class SqlSplitError extends Error {
  line: number;
  column: number;

  constructor(message: string, line: number, column: number) {
    super(message);
    this.name = 'SqlSplitError';
    this.line = line;
    this.column = column;
  }
}

/**
 * Split a SQL script into statements. `firstLine` is the line number of the
 * first line of `text` in its file (default 1), so sections of a file report
 * file lines.
 */
export function splitStatements(text: string, dialect: SqlDialect, firstLine = 1): SqlStatement[] {
  const lines = new LineTracker(text, firstLine);
  const scanner = new SqlScanner(text, dialect, lines);
  const collector = new StatementCollector(text, lines);
  let delimiter = ';';
  let i = 0;

  while (i < text.length) {
    if (dialect === 'mysql' && isLineStart(text, i)) {
      const directive = scanner.delimiterDirectiveAt(i);
      if (directive) {
        // Like the mysql client, a DELIMITER line also ends any pending statement.
        collector.flush();
        delimiter = directive.delimiter;
        i = directive.end;
        continue;
      }
    }
    // The delimiter is checked before quotes/comments, as the mysql client does,
    // so that delimiters such as `//` or `$$` win over what they might start.
    if (startsWithAt(text, delimiter, i)) {
      collector.flush();
      i += delimiter.length;
      continue;
    }
    const span = scanner.spanAt(i);
    if (span) {
      if (span.kind === 'quoted') collector.mark(i, span.end);
      i = span.end;
      continue;
    }
    if (!isSpace(text.charCodeAt(i))) collector.mark(i, i + 1);
    i++;
  }

  collector.flush();
  return collector.statements;
}

/**
 * The statement text with all comments removed and whitespace collapsed to
 * single spaces (quoted strings/identifiers kept intact) — used for
 * classification and checksums.
 */
export function normalizeStatement(sql: string, dialect: SqlDialect): string {
  const scanner = new SqlScanner(sql, dialect, new LineTracker(sql, 1));
  const parts: string[] = [];
  let pendingSpace = false;
  let runStart = -1; // start of the current run of plain, non-space SQL characters

  const endRun = (at: number): void => {
    if (runStart >= 0) parts.push(sql.slice(runStart, at));
    runStart = -1;
  };
  const beginToken = (): void => {
    if (pendingSpace && parts.length > 0) parts.push(' ');
    pendingSpace = false;
  };

  let i = 0;
  while (i < sql.length) {
    const span = scanner.spanAt(i);
    if (span) {
      endRun(i);
      if (span.kind === 'quoted') {
        beginToken();
        parts.push(sql.slice(i, span.end));
      } else {
        // A comment separates tokens: `a/**/b` must not become `ab`.
        pendingSpace = true;
      }
      i = span.end;
      continue;
    }
    if (isSpace(sql.charCodeAt(i))) {
      endRun(i);
      pendingSpace = true;
    } else if (runStart < 0) {
      beginToken();
      runStart = i;
    }
    i++;
  }
  endRun(sql.length);
  return parts.join('');
}

// ---------------------------------------------------------------------------
// Lexing

interface Span {
  kind: 'quoted' | 'comment';
  /** Offset just past the span. */
  end: number;
}

interface DelimiterDirective {
  delimiter: string;
  /** Offset of the line break ending the directive (or end of text). */
  end: number;
}

const BACKSLASH = 0x5c;
const DOLLAR = 0x24;
const NEWLINE = 0x0a;

/** Recognises quoted spans and comments at a given offset, per dialect. */
class SqlScanner {
  constructor(
    private readonly text: string,
    private readonly dialect: SqlDialect,
    private readonly lines: LineTracker,
  ) {}

  /** The comment or quoted span starting at `i`, if any; throws if it never closes. */
  spanAt(i: number): Span | undefined {
    const { text } = this;
    const mysql = this.dialect === 'mysql';
    switch (text[i]) {
      case "'":
        // MySQL strings always take backslash escapes; PostgreSQL only E'...' strings.
        return this.quoted(i, mysql || this.isEscapeStringPrefix(i), "string literal (')");
      case '"':
        return mysql
          ? this.quoted(i, true, 'string literal (")')
          : this.quoted(i, false, 'quoted identifier (")');
      case '`':
        return mysql ? this.quoted(i, false, 'quoted identifier (`)') : undefined;
      case '-':
        return text[i + 1] === '-' && (!mysql || isMySqlDashCommentEnd(text.charCodeAt(i + 2)))
          ? this.lineComment(i)
          : undefined;
      case '#':
        return mysql ? this.lineComment(i) : undefined;
      case '/':
        return text[i + 1] === '*' ? this.blockComment(i) : undefined;
      case '$':
        return mysql ? undefined : this.dollarQuote(i);
      default:
        return undefined;
    }
  }

  /**
   * A MySQL `DELIMITER xx` client command occupying the line starting at
   * `lineStart`, if there is one.
   */
  delimiterDirectiveAt(lineStart: number): DelimiterDirective | undefined {
    const { text } = this;
    let i = lineStart;
    while (text[i] === ' ' || text[i] === '\t') i++;
    // The mysql client requires whitespace after the keyword: `DELIMITER;` is SQL.
    if (text.slice(i, i + 9).toLowerCase() !== 'delimiter') return undefined;
    if (text[i + 9] !== ' ' && text[i + 9] !== '\t') return undefined;

    let end = text.indexOf('\n', i);
    if (end < 0) end = text.length;
    const delimiter = text.slice(i + 9, end).trim().split(/\s+/)[0] ?? '';
    if (delimiter === '') {
      const { line, column } = this.lines.locate(i);
      throw new SqlSplitError(
        `DELIMITER without a delimiter at line ${line}, column ${column}`,
        line,
        column,
      );
    }
    return { delimiter, end };
  }

  /** `'...'`, `"..."` or `` `...` ``: a doubled quote escapes itself, and optionally backslash escapes. */
  private quoted(open: number, backslashEscapes: boolean, label: string): Span {
    const { text } = this;
    const quote = text.charCodeAt(open);
    for (let i = open + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === BACKSLASH && backslashEscapes) {
        i++; // skip the escaped character, whatever it is
      } else if (c === quote) {
        if (text.charCodeAt(i + 1) !== quote) return { kind: 'quoted', end: i + 1 };
        i++; // doubled quote
      }
    }
    throw this.unterminated(open, label);
  }

  /** PostgreSQL E'...' / e'...': the E must not be the tail of an identifier like `name'`. */
  private isEscapeStringPrefix(quote: number): boolean {
    const prev = this.text[quote - 1];
    return (prev === 'E' || prev === 'e') && !isIdentChar(this.text.charCodeAt(quote - 2));
  }

  /** Runs to the end of the line; the line break itself stays outside the comment. */
  private lineComment(open: number): Span {
    const end = this.text.indexOf('\n', open);
    return { kind: 'comment', end: end < 0 ? this.text.length : end };
  }

  private blockComment(open: number): Span | undefined {
    const { text } = this;
    if (this.dialect === 'mysql') {
      // `/*! ... */` and MariaDB's `/*M! ... */` are executable: the server runs their
      // contents (mysqldump relies on it), so they are SQL, not comments.
      if (text[open + 2] === '!' || (text[open + 2] === 'M' && text[open + 3] === '!')) return undefined;
      const close = text.indexOf('*/', open + 2);
      if (close < 0) throw this.unterminated(open, 'block comment (/*)');
      return { kind: 'comment', end: close + 2 };
    }
    // PostgreSQL block comments nest.
    let depth = 0;
    for (let i = open; i < text.length - 1; i++) {
      if (text[i] === '/' && text[i + 1] === '*') {
        depth++;
        i++;
      } else if (text[i] === '*' && text[i + 1] === '/') {
        depth--;
        i++;
        if (depth === 0) return { kind: 'comment', end: i + 1 };
      }
    }
    throw this.unterminated(open, 'block comment (/*)');
  }

  /** PostgreSQL `$$...$$` / `$tag$...$tag$`; `$1` (parameter) and `a$b` (identifier) are not quotes. */
  private dollarQuote(open: number): Span | undefined {
    const { text } = this;
    if (isIdentChar(text.charCodeAt(open - 1))) return undefined;
    let tagEnd = open + 1;
    if (text.charCodeAt(tagEnd) !== DOLLAR) {
      if (!isIdentStart(text.charCodeAt(tagEnd))) return undefined;
      while (isDollarTagChar(text.charCodeAt(tagEnd))) tagEnd++;
      if (text.charCodeAt(tagEnd) !== DOLLAR) return undefined;
    }
    const tag = text.slice(open, tagEnd + 1);
    const close = text.indexOf(tag, tagEnd + 1);
    if (close < 0) throw this.unterminated(open, `dollar-quoted string (${tag})`);
    return { kind: 'quoted', end: close + tag.length };
  }

  private unterminated(open: number, what: string): SqlSplitError {
    const { line, column } = this.lines.locate(open);
    return new SqlSplitError(
      `unterminated ${what} opened at line ${line}, column ${column}`,
      line,
      column,
    );
  }
}

// ---------------------------------------------------------------------------
// Statement assembly and positions

/** Accumulates the extent of the current statement and emits it at each delimiter. */
class StatementCollector {
  readonly statements: SqlStatement[] = [];
  private start = -1;
  private end = -1;

  constructor(
    private readonly text: string,
    private readonly lines: LineTracker,
  ) {}

  /** Record SQL (not comment/whitespace) between `start` and `end`. */
  mark(start: number, end: number): void {
    if (this.start < 0) this.start = start;
    this.end = end;
  }

  /** Emit the pending statement, unless it held only whitespace and comments. */
  flush(): void {
    if (this.start < 0) return;
    const first = this.lines.locate(this.start);
    const last = this.lines.locate(this.end - 1);
    this.statements.push({
      sql: this.text.slice(this.start, this.end),
      line: first.line,
      column: first.column,
      endLine: last.line,
    });
    this.start = -1;
    this.end = -1;
  }
}

/**
 * Maps offsets to line/column. Lookups almost always move forward, so it
 * resumes from the previous lookup instead of rescanning, which keeps the
 * whole split linear. Only `\n` breaks lines; a `\r` before it is whitespace.
 */
class LineTracker {
  private offset = 0;
  private line: number;
  private lineStart = 0;
  /** First `\n` at or after `offset` (text length if none), cached so lookups never rescan. */
  private nextNewline = -1;

  constructor(
    private readonly text: string,
    private readonly firstLine: number,
  ) {
    this.line = firstLine;
  }

  locate(offset: number): { line: number; column: number } {
    if (offset < this.offset) {
      this.offset = 0;
      this.line = this.firstLine;
      this.lineStart = 0;
      this.nextNewline = -1;
    }
    if (this.nextNewline < 0) this.nextNewline = this.findNewline(0);
    while (this.nextNewline < offset) {
      this.line++;
      this.lineStart = this.nextNewline + 1;
      this.nextNewline = this.findNewline(this.lineStart);
    }
    this.offset = offset;
    return { line: this.line, column: offset - this.lineStart + 1 };
  }

  private findNewline(from: number): number {
    const at = this.text.indexOf('\n', from);
    return at < 0 ? this.text.length : at;
  }
}

// ---------------------------------------------------------------------------
// Character classes (charCodeAt returns NaN past either end, which matches nothing)

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isLineStart(text: string, i: number): boolean {
  return i === 0 || text.charCodeAt(i - 1) === NEWLINE;
}

/** MySQL only treats `--` as a comment when followed by whitespace/control or end of input. */
function isMySqlDashCommentEnd(c: number): boolean {
  return Number.isNaN(c) || c <= 0x20;
}

function isIdentStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f || c >= 0x80;
}

function isDollarTagChar(c: number): boolean {
  return isIdentStart(c) || (c >= 0x30 && c <= 0x39);
}

/** PostgreSQL identifier characters, which include `$` after the first. */
function isIdentChar(c: number): boolean {
  return isDollarTagChar(c) || c === DOLLAR;
}

function startsWithAt(text: string, prefix: string, i: number): boolean {
  // Cheap first-character test: this runs once per character of the script.
  return text.charCodeAt(i) === prefix.charCodeAt(0) && (prefix.length === 1 || text.startsWith(prefix, i));
}
