import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { dropIndex as dropIndexSql } from '../safe-sql.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z.object({ table: identifier, name: identifier }).strict();

/** The old app's queries may rely on the index, so it goes at contract, without blocking writes. */
export const dropIndex: Operation<z.infer<typeof args>> = {
  name: 'dropIndex',
  summary: 'drop an index at contract, without blocking writes',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
  },
  async compile(a, context) {
    return { ...emptyPhases(), contract: [dropIndexSql(context, a.table, a.name)] };
  },
};
