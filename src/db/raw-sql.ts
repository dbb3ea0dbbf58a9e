/**
 * knex reads `?` in raw SQL as a binding placeholder (and the pg client turns it into $1). A
 * migration's own `?` (jsonb operators, strings) must reach the server as written: escape it.
 */
export function literalSql(sql: string): string {
  return sql.replace(/\?/g, '\\?');
}
