import { mysqlAdapter } from './dialects/mysql.js';
import { postgresAdapter } from './dialects/postgres.js';
import type { DialectAdapter } from './dialect-adapter.js';
import type { Dialect } from './url.js';

export function adapterFor(dialect: Dialect): DialectAdapter {
  return dialect === 'postgres' ? postgresAdapter : mysqlAdapter;
}
