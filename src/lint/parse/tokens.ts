import type { LintDialect, Span, Token } from '../types.js';

/**
 * Tokenize one statement (comments included in the input, skipped in the output) keeping offsets
 * into the text, so that rules can point at the exact words they complain about. Linear time.
 */
export function tokenizeStatement(sql: string, dialect: LintDialect): Token[] {
  const tokens: Token[] = [];
  const mysql = dialect === 'mysql';
  let depth = 0;
  let i = 0;
  const push = (kind: Token['kind'], start: number, end: number, tokenDepth = depth): void => {
    const text = sql.slice(start, end);
    const upper = kind === 'word' ? text.toUpperCase() : kind === 'quoted' ? unquote(text) : text;
    tokens.push({ kind, text, start, end, depth: tokenDepth, upper });
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const code = sql.charCodeAt(i);
    if (code <= 0x20) {
      i++;
    } else if (ch === '-' && sql[i + 1] === '-') {
      i = lineEnd(sql, i);
    } else if (ch === '#' && mysql) {
      i = lineEnd(sql, i);
    } else if (ch === '/' && sql[i + 1] === '*' && !(mysql && sql[i + 2] === '!')) {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? sql.length : close + 2;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      const start = i;
      while (i < sql.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i]!)) i++;
      if (!mysql && i - start === 1 && /[eE]/.test(ch) && sql[i] === "'") {
        i = skipQuoted(sql, i, "'", true);
        push('string', start, i);
      } else push('word', start, i);
    } else if (/[0-9]/.test(ch)) {
      const start = i;
      while (i < sql.length && /[0-9.eE]/.test(sql[i]!)) i++;
      push('number', start, i);
    } else if (ch === "'") {
      const start = i;
      i = skipQuoted(sql, i, "'", mysql);
      push('string', start, i);
    } else if (ch === '"') {
      const start = i;
      i = skipQuoted(sql, i, '"', mysql);
      push(mysql ? 'string' : 'quoted', start, i);
    } else if (ch === '`' && mysql) {
      const start = i;
      i = skipQuoted(sql, i, '`', false);
      push('quoted', start, i);
    } else if (ch === '$' && !mysql && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i, i + 64))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))![0];
      const start = i;
      const close = sql.indexOf(tag, i + tag.length);
      i = close < 0 ? sql.length : close + tag.length;
      push('string', start, i);
    } else if (ch === '(') {
      push('punct', i, i + 1);
      depth++;
      i++;
    } else if (ch === ')') {
      depth = Math.max(0, depth - 1);
      push('punct', i, i + 1);
      i++;
    } else {
      push('punct', i, i + 1);
      i++;
    }
  }
  return tokens;
}

function lineEnd(sql: string, i: number): number {
  const end = sql.indexOf('\n', i);
  return end < 0 ? sql.length : end;
}

function skipQuoted(sql: string, open: number, quote: string, backslashEscapes: boolean): number {
  let i = open + 1;
  while (i < sql.length) {
    if (backslashEscapes && sql[i] === '\\') i += 2;
    else if (sql[i] === quote && sql[i + 1] === quote) i += 2;
    else if (sql[i] === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

function unquote(text: string): string {
  const quote = text[0]!;
  return text.slice(1, -1).split(quote + quote).join(quote);
}

export function isWord(token: Token | undefined, ...words: string[]): boolean {
  return token !== undefined && token.kind === 'word' && words.includes(token.upper);
}

/** Index of the first token at or after `from` that is one of the words (at the given depth, if any). */
export function findWord(tokens: Token[], from: number, words: string[], depth?: number): number {
  for (let i = from; i < tokens.length; i++) {
    const token = tokens[i]!;
    if ((depth === undefined || token.depth === depth) && isWord(token, ...words)) return i;
  }
  return -1;
}

/** Whether the words appear consecutively starting at `at`. */
export function wordsAt(tokens: Token[], at: number, ...words: string[]): boolean {
  return words.every((word, k) => isWord(tokens[at + k], word));
}

/** Index of the first occurrence of the word sequence (any depth), or -1. */
export function findSequence(tokens: Token[], words: string[], from = 0, to = tokens.length): number {
  for (let i = from; i + words.length <= to; i++) if (wordsAt(tokens, i, ...words)) return i;
  return -1;
}

export function spanOf(tokens: Token[], first: number, last: number = first): Span {
  const a = tokens[Math.max(0, first)];
  const b = tokens[Math.min(tokens.length - 1, Math.max(first, last))];
  if (!a || !b) return { start: 0, end: 0 };
  return { start: a.start, end: b.end };
}

/** The token starting at a given offset (or the first one after it). */
export function tokenIndexAt(tokens: Token[], offset: number): number {
  let lo = 0;
  let hi = tokens.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.end <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Identifier as the database sees it: quoted names keep their case, bare ones fold. */
export function identifier(token: Token | undefined, dialect: LintDialect): string {
  if (!token) return '';
  if (token.kind === 'quoted') return dialect === 'mysql' ? token.upper.toLowerCase() : token.upper;
  return token.text.toLowerCase();
}

/**
 * Read a possibly qualified name (`schema.table`) starting at `at`; returns the last part (the
 * object's own name), and the index after the name.
 */
export function readName(tokens: Token[], at: number, dialect: LintDialect): { name: string; next: number; first: number } {
  let i = at;
  let name = identifier(tokens[i], dialect);
  i++;
  while (tokens[i]?.text === '.' && tokens[i + 1] && (tokens[i + 1]!.kind === 'word' || tokens[i + 1]!.kind === 'quoted')) {
    name = identifier(tokens[i + 1], dialect);
    i += 2;
  }
  return { name, next: i, first: at };
}

export interface Clause {
  /** Token indexes, inclusive. */
  first: number;
  last: number;
}

/** Split tokens [from, to) at top-level commas (depth as given). */
export function splitClauses(tokens: Token[], from: number, to: number = tokens.length, depth = 0): Clause[] {
  const clauses: Clause[] = [];
  let start = from;
  for (let i = from; i < to; i++) {
    if (tokens[i]!.depth === depth && tokens[i]!.text === ',' && tokens[i]!.kind === 'punct') {
      if (i > start) clauses.push({ first: start, last: i - 1 });
      start = i + 1;
    }
  }
  if (to > start) clauses.push({ first: start, last: to - 1 });
  return clauses;
}
