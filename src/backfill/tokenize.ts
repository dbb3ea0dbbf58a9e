import { tokenizeStatement } from '../lint/parse/tokens.js';
import type { Token } from '../lint/types.js';
import type { SqlDialect } from '../migrations/split-statements.js';

export type { Token } from '../lint/types.js';

/**
 * Tokenize one statement: the linter's tokenizer, which keeps offsets and parenthesis depth. Enough
 * to find the top-level clauses of an UPDATE or an additive DDL statement; not a parser.
 */
export function tokenize(sql: string, dialect: SqlDialect): Token[] {
  return tokenizeStatement(sql, dialect);
}

/** The identifier a word or quoted token names: quotes removed, bare PostgreSQL names folded to lower case. */
export function identifierOf(token: Token, dialect: SqlDialect): string {
  if (token.kind === 'quoted') return token.text.slice(1, -1).replace(token.text[0] === '"' ? /""/g : /``/g, token.text[0]!);
  return dialect === 'postgres' ? token.text.toLowerCase() : token.text;
}

export const isKeyword = (token: Token | undefined, ...words: string[]): boolean =>
  token !== undefined && token.kind === 'word' && words.includes(token.text.toUpperCase());
