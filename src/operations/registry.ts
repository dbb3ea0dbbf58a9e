import { addCheck } from './ops/add-check.js';
import { addColumn } from './ops/add-column.js';
import { addForeignKey } from './ops/add-foreign-key.js';
import { addUnique } from './ops/add-unique.js';
import { alterColumn } from './ops/alter-column.js';
import { createIndex } from './ops/create-index.js';
import { createTable } from './ops/create-table.js';
import { dropColumn } from './ops/drop-column.js';
import { dropIndex } from './ops/drop-index.js';
import { dropTable } from './ops/drop-table.js';
import { renameColumn } from './ops/rename-column.js';
import { renameTable } from './ops/rename-table.js';
import { sql } from './ops/raw-sql.js';

/** Every declarative operation by its name in migration files. */
export const OPERATIONS = {
  createTable,
  dropTable,
  renameTable,
  addColumn,
  dropColumn,
  renameColumn,
  alterColumn,
  createIndex,
  dropIndex,
  addForeignKey,
  addCheck,
  addUnique,
  sql,
};

export type OperationName = keyof typeof OPERATIONS;

export function isOperationName(name: string): name is OperationName {
  return Object.hasOwn(OPERATIONS, name);
}
