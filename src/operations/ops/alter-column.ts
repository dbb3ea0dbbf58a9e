import { z } from 'zod';
import { identifier } from '../column-spec.js';
import type { ColumnFacts } from '../inspect.js';
import { addColumn, analyzeFilled, besideColumn, declaredDefault, dropColumn, dropNotNull, mysqlComment, mysqlType, setDefault, setNotNull } from '../safe-sql.js';
import { mysqlPlaceholder } from '../mysql-placeholder.js';
import { holdsUnsetMarker, mysqlUnsetMarker, type UnsetMarker } from '../mysql-unset-marker.js';
import { refuseFulltextTable } from '../mysql-fulltext.js';
import { copyKeyTypeChange, tableCopyBlocker } from '../mysql-table-copy.js';
import { carryDependents, constraintSteps, type CarriedDependents } from '../column-dependents/index.js';
import { buildShim } from '../shims/index.js';
import { emptyPhases, type CompiledStatement, type OperationContext, type Operation, type PhaseSql } from '../types.js';

const args = z
  .object({
    table: identifier,
    column: identifier,
    type: z.string().min(1).optional().describe('the new type'),
    up: z.string().optional().describe('SQL expression: the new value from the old version\'s columns (default: the column itself)'),
    down: z.string().optional().describe('SQL expression: the old value from the new one, which it names by the column\'s name (default: the new value itself)'),
    nullable: z.boolean().optional(),
    default: z.string().nullable().optional().describe('new default; null drops it'),
    rebuild: z.boolean().optional().describe('MySQL/MariaDB, SET NOT NULL: make the column NOT NULL in place at contract (an online table rebuild) instead of through a NOT NULL twin filled by the backfill'),
  })
  .strict()
  .refine((a) => a.type !== undefined || a.nullable !== undefined || a.default !== undefined, { message: 'give at least one of type, nullable or default' });

type Args = z.infer<typeof args>;

/**
 * Type change: a twin column of the new type, kept in sync both ways by a shim (`up`, `down`),
 * filled in batches, and swapped in at contract in one atomic step (drop the old column and rename
 * the twin). Until contract both versions see the column with its old type. A key column on
 * MariaDB, which InnoDB cannot move to a twin, changes through a copy of the table instead
 * (mysql-table-copy.ts). SET NOT NULL: `up`
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
    const current = await context.inspect.column(a.table, a.column);
    if (!current) throw new Error(`column ${a.table}.${a.column} does not exist`);
    context.inspect.claimColumn(a.table, a.column, 'alterColumn');
    if (a.rebuild !== undefined && context.dialect === 'postgres') throw new Error(`"rebuild" is for MySQL/MariaDB, where SET NOT NULL can rebuild the table; PostgreSQL's never does: leave it out`);
    if (a.rebuild !== undefined && (a.type !== undefined || a.nullable !== false)) throw new Error(`"rebuild" only chooses how a column is made NOT NULL ("nullable": false without "type"): leave it out`);
    // PostgreSQL moves the key to the twin's copy of its index at contract. InnoDB cannot move its
    // clustered key, or AUTO_INCREMENT, to another column in place: tandem copies the table.
    if (a.type !== undefined && (await keyColumnByCopy(a, context))) {
      const blocker = await tableCopyBlocker(context, a.table, a.column);
      if (blocker !== null) throw new Error(blocker);
      if (a.up !== undefined || a.down !== undefined) throw new Error(`"up" and "down" are for a twin column; a key column's type change copies the table, and each value converts as the server converts it on assignment: leave them out, or change the key in a maintenance window`);
      if (a.nullable === true) throw new Error(`column ${a.column} is part of the primary key of ${a.table}, which cannot hold NULLs: leave "nullable" out`);
      return;
    }
    // SET NOT NULL rebuilds online where it cannot add a twin (requireValuesByTwin), which a hidden FTS_DOC_ID does not block.
    if (context.dialect === 'mysql' && (a.type !== undefined || (a.nullable === false && current.nullable))) await refuseFulltextTable(context, a.table, a.type !== undefined);
  },
  async compile(a, context) {
    const current = (await context.inspect.column(a.table, a.column))!;
    if (a.type !== undefined && (await keyColumnByCopy(a, context))) return copyKeyTypeChange({ table: a.table, column: a.column, type: a.type, ...(a.default !== undefined ? { default: a.default } : {}) }, context);
    if (a.type !== undefined) return changeType(a, current, context);
    const phases = emptyPhases();
    if (a.nullable === false && current.nullable) Object.assign(phases, (await requireValuesByTwin(a, current, context)) ?? (await requireValues(a, current, context)));
    if (a.nullable === true && !current.nullable) {
      phases.expand.push(dropNotNull(context, a.table, current));
      phases.rollback.push(...setNotNull(context, a.table, current, context.objectName('nn')));
    }
    if (typeof a.default === 'string') {
      phases.expand.push(setDefault(context, a.table, a.column, a.default));
      phases.rollback.push(setDefault(context, a.table, a.column, declaredDefault(current)));
    } else if (a.default === null) phases.contract.push(setDefault(context, a.table, a.column, null));
    return phases;
  },
};

/** MySQL/MariaDB: a key column's type changes through a copy of the table (mysql-table-copy.ts). */
async function keyColumnByCopy(a: Args, context: OperationContext): Promise<boolean> {
  return context.dialect === 'mysql' && (await context.inspect.primaryKey(a.table)).includes(a.column);
}

async function changeType(a: Args, current: ColumnFacts, context: OperationContext): Promise<PhaseSql> {
  const q = context.quote;
  const twinName = context.objectName('new');
  const finalDefault = a.default !== undefined ? a.default : declaredDefault(current);
  const finalNullable = a.nullable ?? current.nullable;
  const plan = context.dialect === 'mysql' ? mysqlTwinPlan(a, current, finalNullable, context.mariadb) : null;
  const notNull = plan?.notNull ?? null;
  // Read before the twin is noted: the column's indexes and constraints as the catalog has them.
  const carried = await carryDependents(context, { table: a.table, column: a.column, by: twinName, finalName: a.column, type: a.type!, nullable: finalNullable });
  const twin: ColumnFacts = { name: twinName, type: a.type!, nullable: notNull === null, default: notNull?.marker.literal ?? null };
  await context.inspect.noteColumnAdded(a.table, twin);
  // With the twin: the shim's expressions may name it.
  const columns = (await context.inspect.columns(a.table))!.map((c) => ({ name: c.name, type: c.type }));
  const up = a.up ?? q(a.column);
  // A NULL from `up` keeps the unset marker rather than failing the old app's write on the NOT NULL
  // twin; the checks after the walk and before the swap find those rows.
  const shimUp = notNull?.checked ? `COALESCE((${up}), ${notNull.marker.literal})` : up;
  const shim = buildShim(context.dialect, {
    table: a.table,
    name: context.objectName('alter'),
    columns,
    rules: [{ kind: 'twin', oldColumn: a.column, newColumn: twinName, up: shimUp, down: a.down ?? q(twinName), downScope: { column: a.column, type: a.type! }, ...(notNull ? { unset: notNull.marker } : {}) }],
  });
  const unfilled = notNull ? holdsUnsetMarker(q(twinName), notNull.marker) : `${q(twinName)} IS NULL`;
  const find = `SELECT * FROM ${q(a.table)} WHERE (${up}) IS NULL`;
  const markerCheck = (rerun: string): CompiledStatement[] =>
    notNull?.checked ? [{ sql: `SELECT 1 FROM ${q(a.table)} WHERE ${unfilled} LIMIT 1`, assertEmpty: `rows of ${a.table} still hold the new ${a.column}'s unset marker ${notNull.marker.literal}: "up" gave NULL for them (${find}); fix "up" or those rows, then rerun ${rerun}` }] : [];
  const swap: Swap = {
    table: a.table,
    column: a.column,
    oldType: context.dialect === 'mysql' ? mysqlType(current) : current.type,
    twin: { ...twin, default: finalDefault },
    nullable: finalNullable,
    oldDefault: plan?.oldDefault ?? null,
    instant: plan?.instant ?? false,
    comment: context.dialect === 'mysql' ? mysqlComment(current) : '',
    checks: markerCheck('contract'),
    shim,
    up,
    columns,
    carried,
  };
  const twinDefinition = context.dialect === 'postgres' ? `${q(twinName)} ${a.type}` : notNull ? `${q(twinName)} ${a.type} NOT NULL DEFAULT ${notNull.marker.literal}` : `${q(twinName)} ${a.type} NULL`;
  return {
    expand: [addColumn(context, a.table, besideColumn(context, twinDefinition, a.column), carried.twinClauses), ...shim.install],
    // A twin that is NOT NULL holds its placeholder until the backfill (or the shim) gives it a value.
    // The copies of the column's indexes are built once the twin is filled, before the new app reads it.
    backfill: [
      `UPDATE ${q(a.table)} SET ${q(twinName)} = (${shimUp}) WHERE ${unfilled}`,
      ...markerCheck('backfill'),
      ...carried.buildCopies,
      ...analyzeFilled(context, a.table),
    ],
    contract: context.dialect === 'postgres' ? postgresSwap(swap, context) : mysqlSwap(swap, context),
    rollback: [...shim.remove, ...carried.rollback, dropColumn(context, a.table, twinName)],
    // The new app sees the twin under the column's name: contract drops the old column and gives the twin its name.
    views: [{ kind: 'replaceColumn', table: a.table, column: a.column, by: twinName }],
  };
}

/** MySQL: how a type change's contract avoids rebuilding the table (mysqlTwinPlan). */
interface MysqlTwinPlan {
  /**
   * The twin is NOT NULL from expand, with `marker` as its DEFAULT, which the shim reads as "not
   * written"; `checked`: an unset marker, which no row may hold once filled (a placeholder such as 0
   * is also a real value, which a plain conversion may give).
   */
  notNull: { marker: UnsetMarker; checked: boolean } | null;
  /** The old column keeps its NOT NULL through the swap, with this DEFAULT; null: it is nullable. */
  oldDefault: string | null;
  /** The swap only renames and changes defaults. */
  instant: boolean;
}

/**
 * MySQL/MariaDB: InnoDB rebuilds the whole table to change a column's nullability (its instant NULL
 * change is for ROW_FORMAT=REDUNDANT only), which on a large table is minutes of I/O while the app
 * runs. So the swap keeps both columns' nullability: a twin that ends NOT NULL is NOT NULL from
 * expand, and an old column that is NOT NULL keeps it, with a placeholder DEFAULT for the inserts
 * in the moment before it is dropped (any value will do). The twin's DEFAULT until the backfill: with
 * the default `up` on a NOT NULL column, a placeholder (a plain conversion is never NULL); with a
 * custom `up`, or from a nullable column, the type's unset marker, which a NULL from `up` leaves in
 * place and the checks after the walk and before the swap report. Not instant (the rebuild at
 * contract, as before) when a type has no such constant.
 */
function mysqlTwinPlan(a: Args, current: ColumnFacts, finalNullable: boolean, mariadb: boolean): MysqlTwinPlan {
  const oldDefault = current.nullable ? null : mysqlPlaceholder(current.type, mariadb);
  let notNull: MysqlTwinPlan['notNull'] = null;
  if (!finalNullable && a.up === undefined && !current.nullable) {
    const placeholder = mysqlPlaceholder(a.type!, mariadb);
    if (placeholder !== null) notNull = { marker: { literal: placeholder, kind: 'value' }, checked: false };
  } else if (!finalNullable) {
    const marker = mysqlUnsetMarker(a.type!, mariadb);
    if (marker !== null) notNull = { marker, checked: true };
  }
  const instant = (current.nullable || oldDefault !== null) && (finalNullable || notNull !== null);
  return instant ? { notNull, oldDefault, instant } : { notNull: null, oldDefault: null, instant: false };
}

/**
 * Contract of a type change. Until the swap the new app still writes the column under its old name,
 * so the twin must follow every write up to the moment it takes the name: the shim goes in the same
 * atomic step as the swap, never before. The twin gets its default only then too, because a
 * default on the twin would make the two-way shim read the app's inserts as the new version's
 * (except MySQL's placeholder default, which the shim knows and reads as "not written").
 */
interface Swap {
  table: string;
  column: string;
  /** The column's type before the change. */
  oldType: string;
  /** The twin with its final default. */
  twin: ColumnFacts;
  /** Whether the column ends up nullable. */
  nullable: boolean;
  /** MySQL: the old column keeps its NOT NULL through the swap, with this DEFAULT; null: nullable there. */
  oldDefault: string | null;
  /** MySQL: the swap only renames and changes defaults (both columns keep their nullability). */
  instant: boolean;
  /** MySQL: the column's COMMENT clause, which the twin takes at the swap. */
  comment: string;
  /** MySQL: checks run once no write can slip past them any more, before the swap. */
  checks: CompiledStatement[];
  shim: { remove: string[] };
  up: string;
  columns: Array<{ name: string; type: string }>;
  /** The column's indexes and constraints, copied to the twin. */
  carried: CarriedDependents;
}

/**
 * PostgreSQL: the constraints are added unchecked in the first transaction; each VALIDATE starts a
 * transaction of its own, and everything after the last one commits at once: DROP COLUMN takes the
 * original indexes and constraints with it, and the copies take their names.
 */
function postgresSwap(swap: Swap, context: OperationContext): string[] {
  const q = context.quote;
  const { carried } = swap;
  return [
    ...constraintSteps(swap.nullable ? [] : setNotNull(context, swap.table, swap.twin, context.objectName('nn')), carried),
    ...swap.shim.remove,
    ...(swap.twin.default !== null ? [setDefault(context, swap.table, swap.twin.name, swap.twin.default)] : []),
    ...carried.beforeDrop,
    dropColumn(context, swap.table, swap.column),
    `ALTER TABLE ${q(swap.table)} RENAME COLUMN ${q(swap.twin.name)} TO ${q(swap.column)}`,
    ...(!swap.nullable && carried.renameNotNull !== null ? [carried.renameNotNull] : []),
    ...carried.afterSwap,
    ...carried.validateAfterSwap,
  ];
}

/**
 * MySQL commits every DDL statement, and a trigger that names a dropped column fails every write.
 * So the two-way shim is first replaced by a one-way copy into the twin, which stays valid when one
 * ALTER swaps the two columns' names; the copy and then the old column (now under the twin's name)
 * go right after. In the moment between the swap and dropping the copy, the copy writes into the
 * old column, so a value the old type cannot hold fails there instead of being lost.
 */
function mysqlSwap(swap: Swap, context: OperationContext): CompiledStatement[] {
  const q = context.quote;
  const copy = buildShim(context.dialect, { table: swap.table, name: context.objectName('swap'), columns: swap.columns, rules: [{ kind: 'copy', column: swap.twin.name, expression: swap.up }] });
  // One online ALTER swaps the names and gives the twin its final NOT NULL and default. Once the copy
  // is dropped nobody fills the old column, and a NOT NULL column without default that inserts leave
  // out fails them (ER_NO_DEFAULT_FOR_FIELD) until it is dropped: so it keeps its NOT NULL and gets
  // a placeholder default (no rebuild), or, where the type has none, becomes nullable.
  const twinDefault = declaredDefault(swap.twin) !== null ? ` DEFAULT ${declaredDefault(swap.twin)}` : '';
  const oldColumn = swap.oldDefault !== null ? `${swap.oldType} NOT NULL DEFAULT ${swap.oldDefault}` : `${swap.oldType} NULL`;
  // When both columns keep their nullability the swap only renames and changes defaults: MariaDB states INSTANT (and so
  // refuses rather than rebuilds, and the redo-room wait before a rewrite skips it).
  const algorithm = swap.instant && context.mariadb ? 'ALGORITHM=INSTANT' : 'ALGORITHM=INPLACE, LOCK=NONE';
  return [
    ...copy.install,
    ...swap.shim.remove,
    ...swap.checks,
    `ALTER TABLE ${q(swap.table)} CHANGE ${q(swap.column)} ${q(swap.twin.name)} ${oldColumn}, CHANGE ${q(swap.twin.name)} ${q(swap.column)} ${swap.twin.type} ${swap.nullable ? 'NULL' : 'NOT NULL'}${twinDefault}${swap.comment}, ${algorithm}`,
    ...copy.remove,
    // After the swap the old column has the twin's name.
    dropColumn(context, swap.table, swap.twin.name, swap.carried.dropColumnClauses),
  ];
}

/**
 * MySQL/MariaDB SET NOT NULL without a table rebuild. InnoDB rebuilds the whole table to make a
 * column NOT NULL: online, but the table's size in I/O and redo at once, while the app runs, and on
 * a replica one long ALTER. Instead the column gets a twin that is NOT NULL from the start (instant,
 * with a placeholder default), which a shim keeps equal to the column, the backfill fills in
 * throttled batches, and contract swaps in by renaming both (instant) before it drops the old one.
 * `up` still fills the column's own NULLs, so both app versions read filled values before contract.
 * Null (the caller rebuilds instead) for `rebuild`, a type without a placeholder, a generated, ON
 * UPDATE, invisible or AUTO_INCREMENT column, a ROW_FORMAT=COMPRESSED table or one with the hidden
 * FTS_DOC_ID of a dropped FULLTEXT index (no column is added to either instantly), and a column
 * with what cannot move to a new one (a foreign key, a SPATIAL or functional index, a CHECK or
 * trigger that names it). A table with a FULLTEXT index is refused in validate.
 */
async function requireValuesByTwin(a: Args, current: ColumnFacts, context: OperationContext): Promise<PhaseSql | null> {
  if (context.dialect !== 'mysql' || a.rebuild === true || current.mysql === undefined || current.mysql.extra !== '') return null;
  const placeholder = mysqlPlaceholder(current.type, context.mariadb);
  const blockers = await context.inspect.mysqlInstantAddBlockers(a.table);
  if (placeholder === null || blockers.compressed || blockers.hiddenFtsDocId) return null;
  const q = context.quote;
  const twinName = context.objectName('new');
  let carried: CarriedDependents;
  try {
    carried = await carryDependents(context, { table: a.table, column: a.column, by: twinName, finalName: a.column, nullable: false });
  } catch (error) {
    // A refusal (an Error of tandem's, with no server code) means the rebuild; a failed query does not.
    if (!(error instanceof Error) || 'code' in error) throw error;
    context.inspect.forgetColumnReplaced(a.table, a.column);
    return null;
  }
  const type = mysqlType(current);
  await context.inspect.noteColumnAdded(a.table, { name: twinName, type: current.type, nullable: false, default: placeholder, mysql: { ...current.mysql, comment: '' } });
  const columns = (await context.inspect.columns(a.table))!.map((c) => ({ name: c.name, type: c.type }));
  const table = q(a.table);
  const column = q(a.column);
  const twin = q(twinName);
  const shim = buildShim(context.dialect, {
    table: a.table,
    name: context.objectName('fill'),
    columns,
    rules: [
      ...(a.up !== undefined ? [{ kind: 'fill' as const, column: a.column, expression: a.up }] : []),
      // NEW.column: the value after the fill above. A NULL left in it keeps the placeholder rather
      // than failing the old app's write; the NULL checks below find the row.
      { kind: 'copy' as const, column: twinName, expression: `COALESCE(NEW.${column}, ${placeholder})` },
    ],
  });
  const nulls = `SELECT 1 FROM ${table} WHERE ${column} IS NULL LIMIT 1`;
  const fix = a.up === undefined ? 'give "up" to fill them, or fix the rows' : 'fix "up" (it gave NULL) or the rows';
  const finalDefault = a.default !== undefined ? a.default : declaredDefault(current);
  const swap: Swap = {
    table: a.table,
    column: a.column,
    oldType: type,
    twin: { name: twinName, type, nullable: false, default: finalDefault },
    nullable: false,
    oldDefault: null,
    instant: true,
    comment: mysqlComment(current),
    // After the swap's strict copy is in place a NULL fails its write, so none can come after this check.
    checks: [{ sql: nulls, assertEmpty: `${a.table}.${a.column} has NULLs again, written after the backfill; ${fix}, then rerun contract` }],
    shim,
    up: column,
    columns,
    carried,
  };
  return {
    expand: [addColumn(context, a.table, besideColumn(context, `${twin} ${type} NOT NULL DEFAULT ${placeholder}`, a.column)), ...shim.install],
    backfill: [
      ...(a.up !== undefined ? [`UPDATE ${table} SET ${column} = (${a.up}) WHERE ${column} IS NULL`] : []),
      // Before the long walk below: fail while rollback is still possible, rather than at contract.
      { sql: nulls, assertEmpty: `${a.table}.${a.column} still has NULLs; ${fix}, then rerun backfill` },
      // A row whose value is the placeholder itself is rewritten with the same value.
      `UPDATE ${table} SET ${twin} = COALESCE(${column}, ${placeholder}) WHERE ${twin} <=> ${placeholder}`,
      ...carried.buildCopies,
    ],
    contract: mysqlSwap(swap, context),
    rollback: [...shim.remove, ...carried.rollback, dropColumn(context, a.table, twinName)],
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
