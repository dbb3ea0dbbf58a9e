import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { dropColumn as dropColumnSql, dropNotNull, setNotNull } from '../safe-sql.js';
import { mysqlDroppedColumnClauses } from '../column-dependents/mysql.js';
import { buildShim } from '../shims/index.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z
  .object({
    table: identifier,
    column: identifier,
    down: z.string().optional().describe('SQL expression that gives the old app a value when the new app writes rows without the column'),
  })
  .strict();

/**
 * The old app reads the column until it is retired, so it is dropped in contract. Meanwhile the
 * new app writes rows without it: with `down` a shim fills it for the old app; without, a NOT NULL
 * column without a default gives up its NOT NULL in expand (restored by rollback). The indexes that
 * contain the column go with it on both databases (src/operations/column-dependents/mysql.ts).
 */
export const dropColumn: Operation<z.infer<typeof args>> = {
  name: 'dropColumn',
  summary: 'drop a column at contract; until then the new app may omit it',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
    if (!(await context.inspect.column(a.table, a.column))) throw new Error(`column ${a.table}.${a.column} does not exist`);
    if ((await context.inspect.primaryKey(a.table)).includes(a.column)) throw new Error(`column ${a.column} is part of the primary key of ${a.table}`);
  },
  async compile(a, context) {
    const facts = (await context.inspect.column(a.table, a.column))!;
    const withIndexes = context.dialect === 'mysql' ? await mysqlDroppedColumnClauses(context, a.table, a.column) : [];
    const drop = dropColumnSql(context, a.table, a.column, withIndexes);
    const phases = { ...emptyPhases(), contract: [drop], views: [{ kind: 'hideColumn' as const, table: a.table, column: a.column }] };
    if (a.down !== undefined) {
      const shim = buildShim(context.dialect, {
        table: a.table,
        name: context.objectName('down'),
        columns: (await context.inspect.columns(a.table))!.map((c) => ({ name: c.name, type: c.type })),
        rules: [{ kind: 'fill', column: a.column, expression: a.down }],
      });
      // MySQL commits each step: a NOT NULL column without default must not outlive its shim, or
      // the new app's inserts fail between the two statements.
      const loosen = context.dialect === 'mysql' && !facts.nullable && facts.default === null ? [dropNotNull(context, a.table, facts)] : [];
      return { ...phases, expand: shim.install, contract: [...loosen, ...shim.remove, ...phases.contract], rollback: shim.remove };
    }
    if (!facts.nullable && facts.default === null) {
      return { ...phases, expand: [dropNotNull(context, a.table, facts)], rollback: setNotNull(context, a.table, facts, context.objectName('nn')) };
    }
    return phases;
  },
};
