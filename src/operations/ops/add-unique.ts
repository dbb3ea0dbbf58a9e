import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { createIndex, dropIndex } from '../safe-sql.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z.object({ table: identifier, name: identifier, columns: z.array(identifier).min(1) }).strict();

/**
 * The unique index is built without blocking writes in expand (so duplicates are found before the
 * deploy); on PostgreSQL contract turns it into a named UNIQUE constraint, instantly.
 */
export const addUnique: Operation<z.infer<typeof args>> = {
  name: 'addUnique',
  summary: 'add a UNIQUE constraint through an index built without blocking writes',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
    for (const column of a.columns) if (!(await context.inspect.column(a.table, column))) throw new Error(`column ${a.table}.${column} does not exist`);
  },
  async compile(a, context) {
    await context.inspect.noteIndex(a.table, a.columns);
    context.inspect.noteDependentAdded(a.table, `unique key ${a.name}`, (column) => a.columns.includes(column));
    const build = createIndex(context, { table: a.table, name: a.name, columns: a.columns, unique: true });
    const contract = context.dialect === 'postgres' ? [`ALTER TABLE ${context.quote(a.table)} ADD CONSTRAINT ${context.quote(a.name)} UNIQUE USING INDEX ${context.quote(a.name)}`] : [];
    return { ...emptyPhases(), expand: [build], contract, rollback: [dropIndex(context, a.table, a.name)] };
  },
};
