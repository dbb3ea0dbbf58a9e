import { z } from 'zod';
import { columnDefinition, columnSpec, identifier, isConstantDefault } from '../column-spec.js';
import { addColumn as addColumnSql, analyzeFilled, dropColumn, setDefault, setNotNull } from '../safe-sql.js';
import { buildShim } from '../shims/index.js';
import { refuseFulltextTable } from '../mysql-fulltext.js';
import { holdsUnsetMarker, mysqlUnsetMarker, type UnsetMarker } from '../mysql-unset-marker.js';
import { emptyPhases, type Operation, type OperationContext, type PhaseSql } from '../types.js';

const args = z
  .object({
    table: identifier,
    column: columnSpec,
    up: z.string().optional().describe('SQL expression over the other columns: fills existing rows and the old app\'s inserts'),
  })
  .strict();

/**
 * A nullable column, or one with a constant default, is added as it is (metadata-only on
 * PostgreSQL 11+ and MariaDB). A required column the old app cannot write is added nullable; a
 * shim fills it on the old app's writes (from `up`, else the default), the backfill fills existing
 * rows in batches, and contract makes it NOT NULL without a long lock. On MySQL/MariaDB, where
 * NOT NULL at contract would rebuild the table, a required column with `up` is NOT NULL from the
 * start, holding an unset marker until it is filled.
 */
export const addColumn: Operation<z.infer<typeof args>> = {
  name: 'addColumn',
  summary: 'add a column; a NOT NULL one gets a shim and a batched backfill, and its constraint at contract',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
    if (await context.inspect.column(a.table, a.column.name)) throw new Error(`column ${a.table}.${a.column.name} exists already`);
    context.inspect.claimColumn(a.table, a.column.name, 'addColumn');
    if (a.column.primaryKey || a.column.unique || a.column.references) {
      throw new Error('addColumn takes no primaryKey, unique or references: add the column, then use addUnique or addForeignKey, which build them without blocking writes');
    }
    if (!a.column.nullable && a.column.default === undefined && a.up === undefined) {
      throw new Error(`column ${a.column.name} is NOT NULL with neither "default" nor "up": the old app's inserts and the existing rows would have no value; give one of them`);
    }
    if (context.dialect === 'mysql') await refuseFulltextTable(context, a.table);
  },
  async compile(a, context) {
    const { table, column } = a;
    const simple = a.up === undefined && (column.nullable || (column.default !== undefined && isConstantDefault(column.default)));
    if (simple) {
      await context.inspect.noteColumnAdded(table, { name: column.name, type: column.type, nullable: column.nullable, default: column.default ?? null });
      return { ...emptyPhases(), expand: [addColumnSql(context, table, columnDefinition(column, context))], rollback: [dropColumn(context, table, column.name)] };
    }
    const marker = context.dialect === 'mysql' && a.up !== undefined && !column.nullable && column.default === undefined && column.check === undefined ? mysqlUnsetMarker(column.type, context.mariadb) : null;
    if (marker) return requiredWithMarker(a, a.up!, marker, context);
    // Added nullable and without a possibly volatile default; filled by the shim and the backfill.
    const added = { name: column.name, type: column.type, nullable: true, default: null };
    await context.inspect.noteColumnAdded(table, added);
    const fill = a.up ?? column.default!;
    const shim = buildShim(context.dialect, {
      table,
      name: context.objectName('fill'),
      columns: (await context.inspect.columns(table))!.map((c) => ({ name: c.name, type: c.type })),
      rules: [{ kind: 'fill', column: column.name, expression: fill }],
    });
    const q = context.quote;
    const expand = [addColumnSql(context, table, columnDefinition(column, context, { forceNullable: true, withDefault: false }))];
    if (column.default !== undefined) expand.push(setDefault(context, table, column.name, column.default));
    expand.push(...shim.install);
    return {
      expand,
      backfill: [`UPDATE ${q(table)} SET ${q(column.name)} = (${fill}) WHERE ${q(column.name)} IS NULL`, ...analyzeFilled(context, table)],
      contract: [...shim.remove, ...(column.nullable ? [] : setNotNull(context, table, { ...added, default: column.default ?? null }, context.objectName("nn")))],
      rollback: [...shim.remove, dropColumn(context, table, column.name)],
    };
  },
};

/**
 * MySQL/MariaDB, a required column with `up`: added NOT NULL with the type's unset marker as its
 * DEFAULT (instant), filled by the shim and the backfill wherever it holds the marker, checked, and
 * left at contract with only its default dropped (instant): the table is never rebuilt.
 */
async function requiredWithMarker(a: z.infer<typeof args>, up: string, marker: UnsetMarker, context: OperationContext): Promise<PhaseSql> {
  const { table, column } = a;
  const q = context.quote;
  await context.inspect.noteColumnAdded(table, { name: column.name, type: column.type, nullable: false, default: marker.literal });
  const shim = buildShim(context.dialect, {
    table,
    name: context.objectName('fill'),
    columns: (await context.inspect.columns(table))!.map((c) => ({ name: c.name, type: c.type })),
    rules: [{ kind: 'fill', column: column.name, expression: up, unset: marker }],
  });
  const unfilled = holdsUnsetMarker(q(column.name), marker);
  const find = `SELECT * FROM ${q(table)} WHERE ${unfilled}`;
  const fix = `UPDATE ${q(table)} SET ${q(column.name)} = (${up}) WHERE ${unfilled}`;
  return {
    ...emptyPhases(),
    expand: [addColumnSql(context, table, `${q(column.name)} ${column.type} NOT NULL DEFAULT ${marker.literal}`), ...shim.install],
    // A NULL from `up` leaves the marker (as in the shim), which the check after the walk reports.
    backfill: [
      `UPDATE ${q(table)} SET ${q(column.name)} = COALESCE((${up}), ${q(column.name)}) WHERE ${unfilled}`,
      { sql: `SELECT 1 FROM ${q(table)} WHERE ${unfilled} LIMIT 1`, assertEmpty: `rows of ${table} still hold ${column.name}'s unset marker ${marker.literal} after the backfill: "up" gave NULL for them, or a writer with @tandem_role = 'new' left ${column.name} out (${find}); fix "up" or those rows, then rerun backfill` },
    ],
    // Checked again: a writer with @tandem_role = 'new' that left the column out after the walk.
    contract: [
      { sql: `SELECT 1 FROM ${q(table)} WHERE ${unfilled} LIMIT 1`, assertEmpty: `rows of ${table} still hold ${column.name}'s unset marker ${marker.literal}: a writer with @tandem_role = 'new' left ${column.name} out, or "up" gave NULL (${find}); fill them (${fix}), then rerun contract` },
      ...shim.remove,
      setDefault(context, table, column.name, null),
    ],
    rollback: [...shim.remove, dropColumn(context, table, column.name)],
  };
}
