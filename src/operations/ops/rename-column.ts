import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { carryDependents, constraintSteps, type CarriedDependents } from '../column-dependents/index.js';
import type { ColumnFacts } from '../inspect.js';
import { mysqlPlaceholder } from '../mysql-placeholder.js';
import { holdsUnsetMarker, mysqlUnsetMarker, type UnsetMarker } from '../mysql-unset-marker.js';
import { refuseFulltextTable } from '../mysql-fulltext.js';
import { addColumn, analyzeFilled, besideColumn, declaredDefault, dropColumn, dropNotNull, mysqlComment, mysqlType, setDefault, setNotNull } from '../safe-sql.js';
import { buildShim } from '../shims/index.js';
import { emptyPhases, type Operation, type OperationContext, type PhaseSql } from '../types.js';

const args = z.object({ table: identifier, from: identifier, to: identifier }).strict();

type Args = z.infer<typeof args>;

/**
 * Both names work while both app versions run. PostgreSQL with version schemas: the new app's views
 * show `from` as `to`, and contract renames the column (renameThroughViews). Otherwise expand adds
 * `to` as a physical twin of `from` with a shim that copies every write across, in whichever
 * direction it came; the backfill copies existing rows in batches; contract drops the shim and
 * `from`, and gives `to` the NOT NULL and default that `from` had, and copies of the indexes and
 * constraints of `from` (src/operations/column-dependents/), under their names.
 */
export const renameColumn: Operation<Args> = {
  name: 'renameColumn',
  summary: 'rename a column; both names work until contract (PostgreSQL with version schemas: through the views; else a twin column and a two-way shim)',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
    if (!(await context.inspect.column(a.table, a.from))) throw new Error(`column ${a.table}.${a.from} does not exist`);
    if (await context.inspect.column(a.table, a.to)) throw new Error(`column ${a.table}.${a.to} exists already`);
    context.inspect.claimColumn(a.table, a.from, 'renameColumn');
    context.inspect.claimColumn(a.table, a.to, 'renameColumn');
    // PostgreSQL renames a key column in the catalog (through the views), or moves the key to the
    // twin's copy of its index at contract. InnoDB cannot move its clustered key to another column in place.
    if (context.dialect === 'mysql' && (await context.inspect.primaryKey(a.table)).includes(a.from)) {
      throw new Error(`column ${a.from} is part of the primary key of ${a.table}; on MySQL/MariaDB both names must work through a twin column, and InnoDB moves its clustered key (and AUTO_INCREMENT) to a new column only with a table copy, which tandem does not make: keep the name, or rename it with a plain ALTER TABLE … RENAME COLUMN (instant) in a release that switches every app instance at once`);
    }
    if (context.dialect === 'mysql') await refuseFulltextTable(context, a.table);
  },
  async compile(a, context) {
    if (context.versionSchemas) return renameThroughViews(a, context);
    const q = context.quote;
    const from = (await context.inspect.column(a.table, a.from))!;
    const carried = await carryDependents(context, { table: a.table, column: a.from, by: a.to, finalName: a.to });
    const required = requiredTwin(from, context);
    if (required !== null) return renameThroughRequiredTwin(a, from, required, carried, context);
    const twin: ColumnFacts = { name: a.to, type: from.type, nullable: true, default: null, ...(from.mysql ? { mysql: from.mysql } : {}) };
    await context.inspect.noteColumnAdded(a.table, twin);
    const shim = buildShim(context.dialect, {
      table: a.table,
      name: context.objectName('rename'),
      columns: (await context.inspect.columns(a.table))!.map((c) => ({ name: c.name, type: c.type })),
      rules: [{ kind: 'twin', oldColumn: a.from, newColumn: a.to, up: q(a.from), down: q(a.to) }],
    });
    const finalFacts = { ...twin, default: from.default };
    return {
      // MySQL: with the column's collation and comment, which a new column would not have.
      expand: [addColumn(context, a.table, besideColumn(context, context.dialect === 'mysql' ? `${q(a.to)} ${mysqlType(from)} NULL${mysqlComment(from)}` : `${q(a.to)} ${from.type}`, a.from), carried.twinClauses), ...shim.install],
      backfill: [`UPDATE ${q(a.table)} SET ${q(a.to)} = ${q(a.from)} WHERE ${q(a.to)} IS NULL AND ${q(a.from)} IS NOT NULL`, ...carried.buildCopies, ...analyzeFilled(context, a.table)],
      // The shim goes last: it keeps filling `to` while its NOT NULL is validated, and `from` for
      // the new app's inserts until `from` is dropped (with it, in one transaction on PostgreSQL).
      // MySQL commits each step, so a `from` that is NOT NULL without default first becomes nullable.
      contract: [
        ...(declaredDefault(from) !== null ? [setDefault(context, a.table, a.to, declaredDefault(from))] : []),
        ...constraintSteps(from.nullable ? [] : setNotNull(context, a.table, finalFacts, context.objectName('nn')), carried),
        ...(context.dialect === 'mysql' && !from.nullable && from.default === null ? [dropNotNull(context, a.table, from)] : []),
        ...shim.remove,
        ...carried.beforeDrop,
        dropColumn(context, a.table, a.from, carried.dropColumnClauses),
        ...carried.afterSwap,
        ...carried.validateAfterSwap,
      ],
      rollback: [...shim.remove, ...carried.rollback, dropColumn(context, a.table, a.to)],
      // `to` is a real column already; `from` is what contract drops.
      views: [{ kind: 'hideColumn', table: a.table, column: a.from }],
    };
  },
};

/**
 * MySQL/MariaDB, a NOT NULL column: the twin is NOT NULL from expand, holding the type's unset marker
 * as its DEFAULT until the shim or the backfill fills it, as a required new column does
 * (add-column.ts). Otherwise contract would make the twin NOT NULL and the old column nullable, two
 * rebuilds of the whole table. The marker, not a placeholder such as 0: the new app writes the twin,
 * and on INSERT a twin holding the marker counts as not written. Null when the type has no marker,
 * for a generated, ON UPDATE or AUTO_INCREMENT column, and when the column has no default and its
 * type no constant to stand in for one between the shim's end and the drop.
 */
function requiredTwin(from: ColumnFacts, context: OperationContext): { marker: UnsetMarker; fromDefault: string | null } | null {
  if (context.dialect !== 'mysql' || from.nullable || (from.mysql?.extra ?? '') !== '') return null;
  const marker = mysqlUnsetMarker(from.type, context.mariadb);
  if (marker === null) return null;
  if (declaredDefault(from) !== null) return { marker, fromDefault: null };
  // Once the shim is gone nobody fills the old column, and inserts that leave it out would fail
  // until it is dropped: it gets a default (instant) rather than losing its NOT NULL (a rebuild).
  const fromDefault = mysqlPlaceholder(from.type, context.mariadb);
  return fromDefault === null ? null : { marker, fromDefault };
}

async function renameThroughRequiredTwin(a: Args, from: ColumnFacts, required: { marker: UnsetMarker; fromDefault: string | null }, carried: CarriedDependents, context: OperationContext): Promise<PhaseSql> {
  const q = context.quote;
  const { marker } = required;
  await context.inspect.noteColumnAdded(a.table, { name: a.to, type: from.type, nullable: false, default: marker.literal, ...(from.mysql ? { mysql: from.mysql } : {}) });
  const shim = buildShim(context.dialect, {
    table: a.table,
    name: context.objectName('rename'),
    columns: (await context.inspect.columns(a.table))!.map((c) => ({ name: c.name, type: c.type })),
    rules: [{ kind: 'twin', oldColumn: a.from, newColumn: a.to, up: q(a.from), down: q(a.to), unset: marker }],
  });
  return {
    expand: [addColumn(context, a.table, besideColumn(context, `${q(a.to)} ${mysqlType(from)} NOT NULL DEFAULT ${marker.literal}${mysqlComment(from)}`, a.from)), ...shim.install],
    // A row whose value is the marker itself is rewritten with the same value.
    backfill: [`UPDATE ${q(a.table)} SET ${q(a.to)} = ${q(a.from)} WHERE ${holdsUnsetMarker(q(a.to), marker)}`, ...carried.buildCopies],
    // Defaults only: catalog changes. The shim goes last, as in the nullable case.
    contract: [
      setDefault(context, a.table, a.to, declaredDefault(from)),
      ...(required.fromDefault !== null ? [setDefault(context, a.table, a.from, required.fromDefault)] : []),
      ...shim.remove,
      dropColumn(context, a.table, a.from, carried.dropColumnClauses),
    ],
    rollback: [...shim.remove, ...carried.rollback, dropColumn(context, a.table, a.to)],
    views: [{ kind: 'hideColumn', table: a.table, column: a.from }],
  };
}

/**
 * The new app reads and writes through its version schema, whose view of the table shows `from AS
 * to` (a single-table view is updatable, so its writes land in `from`); the old app keeps using
 * `from`. Both write one column, so there is nothing to copy or keep in sync: no twin, no shim, no
 * backfill, and the column keeps its indexes, constraints, default and NOT NULL. Contract renames
 * the column itself, a catalog change under a brief lock; the views follow it, because a view
 * refers to its table's columns by number, so the new app's statements keep their result type.
 * Rollback has nothing to undo but the version schema, which it drops.
 */
async function renameThroughViews(a: Args, context: OperationContext): Promise<PhaseSql> {
  const q = context.quote;
  context.inspect.noteColumnRenamedByView(a.table, a.from, a.to);
  return {
    ...emptyPhases(),
    contract: [`ALTER TABLE ${q(a.table)} RENAME COLUMN ${q(a.from)} TO ${q(a.to)}`],
    views: [{ kind: 'renameColumn', table: a.table, from: a.from, to: a.to }],
  };
}
