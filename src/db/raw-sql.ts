import type { Dialect } from './url.js';

/**
 * knex reads `?` in raw SQL as a binding placeholder (and the pg client turns it into $1). A
 * migration's own `?` (jsonb operators, strings, quoted identifiers) must reach the server as
 * written: on PostgreSQL escape it (`\\?`, which the pg client turns back into `?`). knex's MySQL
 * client sends SQL without bindings exactly as written and never unescapes `\\?`, which MySQL would
 * then read as a backslash inside a quoted identifier (and under NO_BACKSLASH_ESCAPES inside a
 * string): there the SQL stays as it is, and must be run without bindings.
 */
export function literalSql(sql: string, dialect: Dialect = 'postgres'): string {
  return dialect === 'mysql' ? sql : sql.replace(/\?/g, '\\?');
}

/** A string constant in SQL text: quotes doubled, and on MySQL backslashes too (they escape there). */
export function stringLiteral(text: string, dialect: Dialect = 'postgres'): string {
  const escaped = dialect === 'mysql' ? text.replace(/\\/g, '\\\\') : text;
  return `'${escaped.replace(/'/g, "''")}'`;
}
