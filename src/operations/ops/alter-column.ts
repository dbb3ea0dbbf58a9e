import { z } from 'zod';
import { identifier } from '../column-spec.js';
import type { ColumnFacts } from '../inspect.js';
import { addColumn, dropColumn, dropNotNull, setDefault, setNotNull } from '../safe-sql.js';
import { buildShim } from '../shims/index.js';
import { emptyPhases, type OperationContext, type Operation, type PhaseSql } from '../types.js';

const args = z
  .object({
    table: identifier,
    column: identifier,
    type: z.string().min(1).optional().describe('the new type'),
    up: z.string().optional().describe('SQL expression: the new value from the old version\'s columns (default: the column itself)'),
    down: z.string().optional().describe('SQL expression: the old value from the new column (default: the twin itself)'),
    nullable: z.boolean().optional(),
    default: z.string().nullable().optional().describe('new default; null drops it'),
  })
  .strict()
  .refine((a) => a.type !== undefined || a.nullable !== undefined || a.default !== undefined, { message: 'give at least one of type, nullable or default' });

type Args = z.infer<typeof args>;

/**
 * Type change: a twin column of the new type, kept in sync both ways by a shim (`up`, `down`),
 * filled in batches, and swapped in at contract in one atomic step (drop the old column and rename
 * the twin). Until contract both versions see the column with its old type. SET NOT NULL: `up`
 * fills the NULLs the old app still writes, the backfill the existing ones, and contract adds the
 * constraint without a long lock. DROP NOT NULL and SET DEFAULT are safe at once; DROP DEFAULT waits
 * for contract, since the old app may rely on it.
 */
export const alterColumn: Operation<Args> = {
  name: 'alterColumn',
  summary: 'change a column\'s type (twin column and two-way shim), nullability or default',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
    if (!(await context.inspect.column(a.table, a.column))) throw new Error(`column ${a.table}.${a.column} does not exist`);
    if (a.type !== undefined && (await context.inspect.primaryKey(a.table)).includes(a.column)) {
      throw new Error(`column ${a.column} is part of the primary key of ${a.table}; changing a key column's type needs a new table`);
    }
  },
  async compile(a, context) {
    const current = (await context.inspect.column(a.table, a.column))!;
    if (a.type !== undefined) return changeType(a, current, context);
    const phases = emptyPhases();
    if (a.nullable === false && current.nullable) Object.assign(phases, await requireValues(a, current, context));
    if (a.nullable === true && !current.nullable) {
      phases.expand.push(dropNotNull(context, a.table, current));
      phases.rollback.push(...setNotNull(context, a.table, current, context.objectName('nn')));
    }
    if (typeof a.default === 'string') {
      phases.expand.push(setDefault(context, a.table, a.column, a.default));
      phases.rollback.push(setDefault(context, a.table, a.column, current.default === 'NULL' ? null : current.default));
    } else if (a.default === null) phases.contract.push(setDefault(context, a.table, a.column, null));
    return phases;
  },
};

async function changeType(a: Args, current: ColumnFacts, context: OperationContext): Promise<PhaseSql> {
  const q = context.quote;
  const twinName = context.objectName('new');
  const twin: ColumnFacts = { name: twinName, type: a.type!, nullable: true, default: null };
  await context.inspect.noteColumnAdded(a.table, twin);
  const up = a.up ?? q(a.column);
  const shim = buildShim(context.dialect, {
    table: a.table,
    name: context.objectName('alter'),
    columns: (await context.inspect.columns(a.table))!.map((c) => ({ name: c.name, type: c.type })),
    rules: [{ kind: 'twin', oldColumn: a.column, newColumn: twinName, up, down: a.down ?? q(twinName) }],
  });
  const finalDefault = a.default !== undefined ? a.default : current.default === 'NULL' ? null : current.default;
  const finalNullable = a.nullable ?? current.nullable;
  const finalFacts: ColumnFacts = { ...twin, default: finalDefault };
  // The swap must be atomic: PostgreSQL runs contract in one transaction; MySQL needs one ALTER.
  const swap =
    context.dialect === 'postgres'
      ? [dropColumn(context, a.table, a.column), `ALTER TABLE ${q(a.table)} RENAME COLUMN ${q(twinName)} TO ${q(a.column)}`]
      : [`ALTER TABLE ${q(a.table)} DROP COLUMN ${q(a.column)}, RENAME COLUMN ${q(twinName)} TO ${q(a.column)}`];
  return {
    expand: [addColumn(context, a.table, `${q(twinName)} ${a.type}${context.dialect === 'mysql' ? ' NULL' : ''}`), ...shim.install],
    backfill: [`UPDATE ${q(a.table)} SET ${q(twinName)} = (${up}) WHERE ${q(twinName)} IS NULL`],
    contract: [
      ...shim.remove,
      ...(finalDefault !== null ? [setDefault(context, a.table, twinName, finalDefault)] : []),
      ...(finalNullable ? [] : setNotNull(context, a.table, finalFacts, context.objectName('nn'))),
      ...swap,
    ],
    rollback: [...shim.remove, dropColumn(context, a.table, twinName)],
  };
}

/** SET NOT NULL: fill NULLs from `up` (old app's writes via a shim, existing rows via the backfill), constrain at contract. */
async function requireValues(a: Args, current: ColumnFacts, context: OperationContext): Promise<PhaseSql> {
  const q = context.quote;
  const phases = emptyPhases();
  if (a.up !== undefined) {
    const shim = buildShim(context.dialect, {
      table: a.table,
      name: context.objectName('fill'),
      columns: (await context.inspect.columns(a.table))!.map((c) => ({ name: c.name, type: c.type })),
      rules: [{ kind: 'fill', column: a.column, expression: a.up }],
    });
    phases.expand.push(...shim.install);
    phases.backfill.push(`UPDATE ${q(a.table)} SET ${q(a.column)} = (${a.up}) WHERE ${q(a.column)} IS NULL`);
    phases.contract.push(...shim.remove);
    phases.rollback.push(...shim.remove);
  } else {
    // Without `up`, fail at backfill (while rollback is still possible) rather than at contract.
    phases.backfill.push({ sql: `SELECT 1 FROM ${q(a.table)} WHERE ${q(a.column)} IS NULL LIMIT 1`, assertEmpty: `${a.table}.${a.column} still has NULLs; give "up" to fill them, or fix the rows, then rerun backfill` });
  }
  phases.contract.push(...setNotNull(context, a.table, current, context.objectName('nn')));
  return phases;
}
