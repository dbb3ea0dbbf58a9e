import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z.object({ table: identifier }).strict();

/** The old app still reads the table until it is retired, so it is dropped in contract. */
export const dropTable: Operation<z.infer<typeof args>> = {
  name: 'dropTable',
  summary: 'drop a table once the old app is gone (contract)',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
  },
  async compile(a, context) {
    return { ...emptyPhases(), contract: [`DROP TABLE ${context.quote(a.table)}`], views: [{ kind: 'dropTable', table: a.table }] };
  },
};
