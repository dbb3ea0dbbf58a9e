import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { expressionsMention } from '../shims/index.js';
import { mysqlCheckTriggers } from '../shims/mysql-check.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z
  .object({
    table: identifier,
    name: identifier,
    expression: z.string().min(1),
    /**
     * MySQL/MariaDB only: `trigger` (default) enforces the check with BEFORE INSERT/UPDATE triggers,
     * a metadata change; `constraint` adds a real CHECK, for which the server copies the whole table
     * with writes blocked (ALGORITHM=COPY, LOCK=SHARED). PostgreSQL always adds a real constraint.
     */
    enforce: z.enum(['trigger', 'constraint']).optional(),
  })
  .strict();

/**
 * The old app may still write rows the check would refuse, so the check is enforced only at
 * contract. The backfill phase looks for existing rows that break it (while rollback is still
 * possible) and fails, naming the constraint. PostgreSQL adds it NOT VALID and validates it under
 * a lock that lets reads and writes go on. MySQL cannot add a CHECK without copying the table, so
 * by default triggers enforce it there.
 */
export const addCheck: Operation<z.infer<typeof args>> = {
  name: 'addCheck',
  summary: 'add a CHECK constraint at contract, after the backfill phase proved the rows satisfy it (MySQL: enforced by triggers unless enforce: constraint)',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
  },
  async compile(a, context) {
    // Added at contract: after an earlier type change's swap it lands on the new column, but a later
    // one would drop it with the old column.
    context.inspect.noteDependentAdded(a.table, `CHECK ${a.name}`, (column) => expressionsMention([a.expression], column), { atContract: true });
    const t = context.quote(a.table);
    const name = context.quote(a.name);
    const violators = { sql: `SELECT 1 FROM ${t} WHERE NOT (${a.expression}) LIMIT 1`, assertEmpty: `rows of ${a.table} break the check ${a.name} (${a.expression}); fix them, then rerun backfill` };
    if (context.dialect === 'postgres') {
      return { ...emptyPhases(), backfill: [violators], contract: [`ALTER TABLE ${t} ADD CONSTRAINT ${name} CHECK (${a.expression}) NOT VALID`, `ALTER TABLE ${t} VALIDATE CONSTRAINT ${name}`] };
    }
    if (a.enforce === 'constraint') {
      return { ...emptyPhases(), backfill: [violators], contract: [`ALTER TABLE ${t} ADD CONSTRAINT ${name} CHECK (${a.expression}), ALGORITHM=COPY, LOCK=SHARED`] };
    }
    const columns = (await context.inspect.columns(a.table)) ?? [];
    const triggers = mysqlCheckTriggers({ table: a.table, constraint: a.name, expression: a.expression, name: context.objectName('check'), columns, mariadb: context.mariadb });
    // Rows the old app wrote since backfill would pass unseen: triggers only check new writes.
    return { ...emptyPhases(), backfill: [violators], contract: [violators, ...triggers.install] };
  },
};
