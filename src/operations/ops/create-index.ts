import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { createIndex as createIndexSql, dropIndex } from '../safe-sql.js';
import { expressionsMention } from '../shims/index.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z
  .object({
    table: identifier,
    name: identifier,
    columns: z.array(identifier).min(1),
    unique: z.boolean().optional(),
    where: z.string().optional().describe('partial index predicate (PostgreSQL only)'),
  })
  .strict();

/** Built without blocking writes: CREATE INDEX CONCURRENTLY, or ALGORITHM=INPLACE, LOCK=NONE. */
export const createIndex: Operation<z.infer<typeof args>> = {
  name: 'createIndex',
  summary: 'build an index without blocking writes (expand); rollback drops it',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
    for (const column of a.columns) if (!(await context.inspect.column(a.table, column))) throw new Error(`column ${a.table}.${column} does not exist`);
    if (a.where && context.dialect === 'mysql') throw new Error('"where" (a partial index) is PostgreSQL only');
  },
  async compile(a, context) {
    if (!a.where) await context.inspect.noteIndex(a.table, a.columns);
    context.inspect.noteDependentAdded(a.table, `index ${a.name}`, (column) => a.columns.includes(column) || (a.where !== undefined && expressionsMention([a.where], column)));
    return { ...emptyPhases(), expand: [createIndexSql(context, a)], rollback: [dropIndex(context, a.table, a.name)] };
  },
};
