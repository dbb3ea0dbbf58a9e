import type { SqlDialect } from '../migrations/split-statements.js';

export type TokenKind = 'word' | 'quoted' | 'string' | 'number' | 'punct';

export interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  /** Parenthesis depth at the token (0 = top level). */
  depth: number;
}

/**
 * Tokenize one statement whose comments were already removed (normalizeStatement). Enough to find
 * the top-level clauses of an UPDATE; not a parser.
 */
export function tokenize(sql: string, dialect: SqlDialect): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, tokenDepth = depth) => tokens.push({ kind, text: sql.slice(start, end), start, end, depth: tokenDepth });
  while (i < sql.length) {
    const ch = sql[i]!;
    if (/\s/.test(ch)) {
      i++;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(ch)) {
      const start = i;
      while (i < sql.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql[i]!)) i++;
      // E'…' escape strings on PostgreSQL
      if (dialect === 'postgres' && i - start === 1 && /[eE]/.test(ch) && sql[i] === "'") {
        i = skipQuoted(sql, i, "'", true);
        push('string', start, i);
      } else push('word', start, i);
    } else if (/[0-9]/.test(ch)) {
      const start = i;
      while (i < sql.length && /[0-9.eE]/.test(sql[i]!)) i++;
      push('number', start, i);
    } else if (ch === "'") {
      const start = i;
      i = skipQuoted(sql, i, "'", dialect === 'mysql');
      push('string', start, i);
    } else if (ch === '"') {
      const start = i;
      i = skipQuoted(sql, i, '"', dialect === 'mysql');
      push(dialect === 'postgres' ? 'quoted' : 'string', start, i);
    } else if (ch === '`' && dialect === 'mysql') {
      const start = i;
      i = skipQuoted(sql, i, '`', false);
      push('quoted', start, i);
    } else if (ch === '$' && dialect === 'postgres' && /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.test(sql.slice(i))) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))![0];
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

function skipQuoted(sql: string, openIndex: number, quote: string, backslashEscapes: boolean): number {
  let i = openIndex + 1;
  while (i < sql.length) {
    if (backslashEscapes && sql[i] === '\\') i += 2;
    else if (sql[i] === quote && sql[i + 1] === quote) i += 2;
    else if (sql[i] === quote) return i + 1;
    else i++;
  }
  return sql.length;
}

/** The identifier a word or quoted token names: quotes removed, bare PostgreSQL names folded to lower case. */
export function identifierOf(token: Token, dialect: SqlDialect): string {
  if (token.kind === 'quoted') return token.text.slice(1, -1).replace(token.text[0] === '"' ? /""/g : /``/g, token.text[0]!);
  return dialect === 'postgres' ? token.text.toLowerCase() : token.text;
}

export const isKeyword = (token: Token | undefined, ...words: string[]): boolean =>
  token !== undefined && token.kind === 'word' && words.includes(token.text.toUpperCase());
