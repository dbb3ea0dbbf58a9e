import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { addColumn, dropColumn, dropNotNull, setDefault, setNotNull } from '../safe-sql.js';
import { buildShim } from '../shims/index.js';
import type { Operation } from '../types.js';

const args = z.object({ table: identifier, from: identifier, to: identifier }).strict();

/**
 * The table answers to both names while both versions run: expand adds `to` as a physical twin of
 * `from` with a shim that copies every write across, in whichever direction it came; the backfill
 * copies existing rows in batches; contract drops the shim and `from`, and gives `to` the NOT NULL
 * and default that `from` had. Indexes and constraints on `from` are not carried over: create them
 * on `to` with createIndex/addUnique in the same migration.
 */
export const renameColumn: Operation<z.infer<typeof args>> = {
  name: 'renameColumn',
  summary: 'rename a column; both names work until contract (twin column and a two-way shim)',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.table))) throw new Error(`table ${a.table} does not exist`);
    if (!(await context.inspect.column(a.table, a.from))) throw new Error(`column ${a.table}.${a.from} does not exist`);
    if (await context.inspect.column(a.table, a.to)) throw new Error(`column ${a.table}.${a.to} exists already`);
    if ((await context.inspect.primaryKey(a.table)).includes(a.from)) throw new Error(`column ${a.from} is part of the primary key of ${a.table}; renaming key columns is not supported`);
  },
  async compile(a, context) {
    const q = context.quote;
    const from = (await context.inspect.column(a.table, a.from))!;
    const twin = { name: a.to, type: from.type, nullable: true, default: null };
    await context.inspect.noteColumnAdded(a.table, twin);
    const shim = buildShim(context.dialect, {
      table: a.table,
      name: context.objectName('rename'),
      columns: (await context.inspect.columns(a.table))!.map((c) => ({ name: c.name, type: c.type })),
      rules: [{ kind: 'twin', oldColumn: a.from, newColumn: a.to, up: q(a.from), down: q(a.to) }],
    });
    const finalFacts = { ...twin, default: from.default };
    return {
      expand: [addColumn(context, a.table, `${q(a.to)} ${from.type}${context.dialect === 'mysql' ? ' NULL' : ''}`), ...shim.install],
      backfill: [`UPDATE ${q(a.table)} SET ${q(a.to)} = ${q(a.from)} WHERE ${q(a.to)} IS NULL AND ${q(a.from)} IS NOT NULL`],
      // The shim goes last: it keeps filling `to` while its NOT NULL is validated, and `from` for
      // the new app's inserts until `from` is dropped (with it, in one transaction on PostgreSQL).
      // MySQL commits each step, so a `from` that is NOT NULL without default first becomes nullable.
      contract: [
        ...(from.default !== null && from.default !== 'NULL' ? [setDefault(context, a.table, a.to, from.default)] : []),
        ...(from.nullable ? [] : setNotNull(context, a.table, finalFacts, context.objectName('nn'))),
        ...(context.dialect === 'mysql' && !from.nullable && from.default === null ? [dropNotNull(context, a.table, from)] : []),
        ...shim.remove,
        dropColumn(context, a.table, a.from),
      ],
      rollback: [...shim.remove, dropColumn(context, a.table, a.to)],
      // `to` is a real column already; `from` is what contract drops.
      views: [{ kind: 'hideColumn', table: a.table, column: a.from }],
    };
  },
};
