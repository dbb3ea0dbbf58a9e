import type { Dialect } from '../../db/url.js';
import { mysqlShim } from './mysql-shim.js';
import { postgresShim } from './postgres-shim.js';
import type { ShimSpec } from './sync-rules.js';

export type { ShimSpec, SyncRule } from './sync-rules.js';

export function buildShim(dialect: Dialect, spec: ShimSpec): { install: string[]; remove: string[] } {
  return dialect === 'postgres' ? postgresShim(spec) : mysqlShim(spec);
}
