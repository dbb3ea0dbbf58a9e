import type { Dialect } from '../../db/url.js';
import { mysqlShim } from './mysql-shim.js';
import { postgresShim } from './postgres-shim.js';
import type { ShimSpec, SyncRule } from './sync-rules.js';

export type { ShimSpec, SyncRule } from './sync-rules.js';

export function buildShim(dialect: Dialect, spec: ShimSpec): { install: string[]; remove: string[] } {
  const scoped = { ...spec, columns: spec.columns.filter((column) => spec.rules.some((rule) => mentions(rule, column.name))) };
  return dialect === 'postgres' ? postgresShim(scoped) : mysqlShim(scoped);
}

/**
 * Does a rule's SQL name the column? A shim only declares the columns its expressions use: another
 * operation of the migration may drop a column at contract while this shim still runs, and a
 * trigger that declared it would then fail every write (MySQL refuses to even create it).
 */
function mentions(rule: SyncRule, column: string): boolean {
  return expressionsMention(rule.kind === 'twin' ? [rule.up, rule.down] : [rule.expression], column);
}

/** Does any of these SQL expressions name the column? */
export function expressionsMention(expressions: string[], column: string): boolean {
  // As written in SQL: bare, or quoted by either dialect (quotes inside a quoted name are doubled).
  const forms = [column, `"${column.replace(/"/g, '""')}"`, `\`${column.replace(/`/g, '``')}\``];
  return forms.some((form) => {
    const escaped = form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const word = new RegExp(`(?<![\\p{L}\\p{N}_$])${escaped}(?![\\p{L}\\p{N}_$])`, 'iu');
    return expressions.some((expression) => word.test(expression));
  });
}
