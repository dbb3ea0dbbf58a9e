import { z } from 'zod';
import { identifier } from '../column-spec.js';
import type { ColumnFacts } from '../inspect.js';
import { mysqlPlaceholder } from '../mysql-placeholder.js';
import { dropColumn as dropColumnSql, dropNotNull, setDefault, setNotNull } from '../safe-sql.js';
import { mysqlDroppedColumnClauses } from '../column-dependents/mysql.js';
import { refuseDropBlockers } from '../column-dependents/postgres.js';
import { buildShim } from '../shims/index.js';
import { emptyPhases, type Operation, type OperationContext } from '../types.js';

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
 * column without a default gives up its NOT NULL in expand (MySQL: gets a stand-in default; both
 * restored by rollback). The indexes that contain the column go with it on both databases
 * (src/operations/column-dependents/mysql.ts).
 */
export const dropColumn: Operation<z.infer<typeof args>> = {
  name: 'dropColumn',
  summary: 'drop a column at contract; until then the new app may omit it',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
    if (!(await context.inspect.column(a.table, a.column))) throw new Error(`column ${a.table}.${a.column} does not exist`);
    context.inspect.claimColumn(a.table, a.column, 'dropColumn');
    if ((await context.inspect.primaryKey(a.table)).includes(a.column)) throw new Error(`column ${a.column} is part of the primary key of ${a.table}`);
    if (context.dialect === 'postgres') await refuseDropBlockers(context, a.table, a.column);
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
      const loosen = context.dialect === 'mysql' && !facts.nullable && facts.default === null ? [loosenForOmission(a.table, facts, context).expand] : [];
      return { ...phases, expand: shim.install, contract: [...loosen, ...shim.remove, ...phases.contract], rollback: shim.remove };
    }
    if (!facts.nullable && facts.default === null) {
      const loosen = loosenForOmission(a.table, facts, context);
      return { ...phases, expand: [loosen.expand], rollback: loosen.rollback };
    }
    return phases;
  },
};

/**
 * Let inserts leave out a NOT NULL column without a default. PostgreSQL: DROP NOT NULL (catalog
 * only). MySQL: a stand-in default (`0`, `''`, …; instant), because InnoDB rebuilds the whole table
 * to drop a NOT NULL, and again to restore it on rollback, which NULLs would then fail. The old app
 * reads the stand-in in the rows the new app writes (`down` gives them a real value); a type without
 * one (ENUM, SET, JSON, …) loses its NOT NULL as on PostgreSQL.
 */
function loosenForOmission(table: string, facts: ColumnFacts, context: OperationContext): { expand: string; rollback: string[] } {
  const standIn = context.dialect === 'mysql' ? mysqlPlaceholder(facts.type, context.mariadb) : null;
  if (standIn !== null) return { expand: setDefault(context, table, facts.name, standIn), rollback: [setDefault(context, table, facts.name, null)] };
  return { expand: dropNotNull(context, table, facts), rollback: setNotNull(context, table, facts, context.objectName('nn')) };
}
