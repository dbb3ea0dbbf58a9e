import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z.object({ table: identifier, name: identifier, expression: z.string().min(1) }).strict();

/**
 * The old app may still write rows the check would refuse, so the check is enforced only at
 * contract. The backfill phase looks for existing rows that break it (while rollback is still
 * possible) and fails, naming the constraint. PostgreSQL adds it NOT VALID and validates it under
 * a lock that lets reads and writes go on.
 */
export const addCheck: Operation<z.infer<typeof args>> = {
  name: 'addCheck',
  summary: 'add a CHECK constraint at contract, after the backfill phase proved the rows satisfy it',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
  },
  async compile(a, context) {
    const t = context.quote(a.table);
    const name = context.quote(a.name);
    const violators = { sql: `SELECT 1 FROM ${t} WHERE NOT (${a.expression}) LIMIT 1`, assertEmpty: `rows of ${a.table} break the check ${a.name} (${a.expression}); fix them, then rerun backfill` };
    const contract =
      context.dialect === 'postgres'
        ? [`ALTER TABLE ${t} ADD CONSTRAINT ${name} CHECK (${a.expression}) NOT VALID`, `ALTER TABLE ${t} VALIDATE CONSTRAINT ${name}`]
        : [`ALTER TABLE ${t} ADD CONSTRAINT ${name} CHECK (${a.expression})`];
    return { ...emptyPhases(), backfill: [violators], contract };
  },
};
