import type { OperationContext } from '../types.js';
import type { CarriedDependents, Replacement } from './carried.js';
import { mysqlDependents } from './mysql.js';
import { postgresDependents } from './postgres.js';

export { constraintSteps, type CarriedDependents, type Replacement } from './carried.js';

/** The column's indexes, keys and constraints, as statements for the new column; throws for what cannot be carried. */
export function carryDependents(context: OperationContext, replacement: Replacement): Promise<CarriedDependents> {
  const earlier = context.inspect.noteColumnReplaced(replacement.table, replacement.column, replacement.finalName === replacement.column);
  return context.dialect === 'postgres' ? postgresDependents(context, replacement, earlier) : mysqlDependents(context, replacement, earlier);
}
