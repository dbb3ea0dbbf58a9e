import { z } from 'zod';
import { columnDefinition, columnSpec, identifier } from '../column-spec.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z
  .object({
    table: identifier,
    columns: z.array(columnSpec).min(1),
    primaryKey: z.array(identifier).min(1).optional().describe('composite primary key; or mark one column primaryKey'),
  })
  .strict();

/** A new table: the old app does not know it, so it is created in expand and dropped by rollback. */
export const createTable: Operation<z.infer<typeof args>> = {
  name: 'createTable',
  summary: 'create a new table (expand); rollback drops it',
  args,
  async validate(a, context) {
    if (await context.inspect.tableExists(a.table)) throw new Error(`table ${a.table} exists already`);
    const names = a.columns.map((c) => c.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate) throw new Error(`column ${duplicate} is listed twice`);
    for (const key of a.primaryKey ?? []) if (!names.includes(key)) throw new Error(`primaryKey names ${key}, which is not among the columns`);
  },
  async compile(a, context) {
    // MySQL (unlike MariaDB) parses and silently ignores a column's own REFERENCES: state it for the table.
    const tableLevelReferences = context.dialect === 'mysql';
    const lines = a.columns.map((column) => {
      if (!tableLevelReferences) return columnDefinition(column, context);
      const { references: _references, ...rest } = column;
      return columnDefinition(rest, context);
    });
    if (a.primaryKey) lines.push(`PRIMARY KEY (${a.primaryKey.map((key) => context.quote(key)).join(', ')})`);
    for (const column of tableLevelReferences ? a.columns : []) {
      const r = column.references;
      if (r) lines.push(`FOREIGN KEY (${context.quote(column.name)}) REFERENCES ${context.quote(r.table)} (${context.quote(r.column)})${r.onDelete ? ` ON DELETE ${r.onDelete}` : ''}`);
    }
    context.inspect.noteTableCreated(
      a.table,
      a.columns.map((c) => ({ name: c.name, type: c.type, nullable: c.nullable, default: c.default ?? null })),
    );
    // The keys the table is created with have indexes (MySQL also indexes every REFERENCES column).
    const keys = [...(a.primaryKey ? [a.primaryKey] : []), ...a.columns.filter((c) => c.primaryKey || c.unique || (c.references && context.dialect === 'mysql')).map((c) => [c.name])];
    for (const columns of keys) await context.inspect.noteIndex(a.table, columns);
    return {
      ...emptyPhases(),
      expand: [`CREATE TABLE ${context.quote(a.table)} (\n  ${lines.join(',\n  ')}\n)`],
      rollback: [`DROP TABLE IF EXISTS ${context.quote(a.table)}`],
    };
  },
};
