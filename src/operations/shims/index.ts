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
  const expressions = rule.kind === 'twin' ? [rule.up, rule.down] : [rule.expression];
  const escaped = column.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const word = new RegExp(`(?<![A-Za-z0-9_$])${escaped}(?![A-Za-z0-9_$])`, 'i');
  return expressions.some((expression) => word.test(expression));
}
