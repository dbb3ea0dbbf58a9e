import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { dropIndex } from '../safe-sql.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z
  .object({
    table: identifier,
    name: identifier,
    columns: z.array(identifier).min(1),
    references: z.object({ table: identifier, columns: z.array(identifier).min(1) }).strict(),
    onDelete: z.enum(['CASCADE', 'SET NULL', 'SET DEFAULT', 'RESTRICT', 'NO ACTION']).optional(),
    onUpdate: z.enum(['CASCADE', 'SET NULL', 'SET DEFAULT', 'RESTRICT', 'NO ACTION']).optional(),
  })
  .strict()
  .refine((a) => a.columns.length === a.references.columns.length, { message: 'columns and references.columns must have the same length' });

/**
 * PostgreSQL: added NOT VALID in expand (checked for new rows only, a brief lock), validated in the
 * backfill phase under a lock that lets reads and writes go on. MySQL: added with foreign_key_checks
 * off, which lets InnoDB add it in place without scanning; the backfill phase then checks the
 * existing rows itself and fails, naming the constraint, if any row has no parent.
 */
export const addForeignKey: Operation<z.infer<typeof args>> = {
  name: 'addForeignKey',
  summary: 'add a foreign key without a long lock: NOT VALID then VALIDATE (MySQL: in place, then checked)',
  args,
  async validate(a, context) {
    for (const table of [a.table, a.references.table]) if (!(await context.inspect.tableExists(table))) throw new Error(`table ${table} does not exist`);
    for (const column of a.columns) if (!(await context.inspect.column(a.table, column))) throw new Error(`column ${a.table}.${column} does not exist`);
    for (const column of a.references.columns) if (!(await context.inspect.column(a.references.table, column))) throw new Error(`column ${a.references.table}.${column} does not exist`);
  },
  async compile(a, context) {
    context.inspect.noteDependentAdded(a.table, `foreign key ${a.name}`, (column) => a.columns.includes(column));
    context.inspect.noteDependentAdded(a.references.table, `foreign key ${a.name}`, (column) => a.references.columns.includes(column));
    const q = context.quote;
    const t = q(a.table);
    const name = q(a.name);
    const constraint = `CONSTRAINT ${name} FOREIGN KEY (${a.columns.map(q).join(', ')}) REFERENCES ${q(a.references.table)} (${a.references.columns.map(q).join(', ')})${a.onDelete ? ` ON DELETE ${a.onDelete}` : ''}${a.onUpdate ? ` ON UPDATE ${a.onUpdate}` : ''}`;
    if (context.dialect === 'postgres') {
      return {
        ...emptyPhases(),
        expand: [`ALTER TABLE ${t} ADD ${constraint} NOT VALID`],
        backfill: [`ALTER TABLE ${t} VALIDATE CONSTRAINT ${name}`],
        rollback: [`ALTER TABLE ${t} DROP CONSTRAINT IF EXISTS ${name}`],
      };
    }
    // InnoDB needs an index starting with the key's columns; without one it builds one named after
    // the constraint, which DROP FOREIGN KEY leaves behind: rollback drops it too.
    const covered = (await context.inspect.indexes(a.table)).some((columns) => a.columns.every((column, i) => columns[i] === column));
    if (!covered) await context.inspect.noteIndex(a.table, a.columns);
    const join = a.columns.map((column, i) => `p.${q(a.references.columns[i]!)} = c.${q(column)}`).join(' AND ');
    const present = a.columns.map((column) => `c.${q(column)} IS NOT NULL`).join(' AND ');
    return {
      ...emptyPhases(),
      // MariaDB scopes the setting to the one statement: a failed expand leaves no session without
      // foreign key checks, and a rerun (a new session) does not resume at an ALTER lacking it.
      expand: context.mariadb
        ? [`SET STATEMENT foreign_key_checks = 0 FOR ALTER TABLE ${t} ADD ${constraint}, ALGORITHM=INPLACE, LOCK=NONE`]
        : ['SET SESSION foreign_key_checks = 0', `ALTER TABLE ${t} ADD ${constraint}, ALGORITHM=INPLACE, LOCK=NONE`, 'SET SESSION foreign_key_checks = 1'],
      backfill: [
        {
          sql: `SELECT 1 FROM ${t} c WHERE ${present} AND NOT EXISTS (SELECT 1 FROM ${q(a.references.table)} p WHERE ${join}) LIMIT 1`,
          assertEmpty: `rows of ${a.table} have no parent in ${a.references.table}, which ${a.name} requires; fix them, then rerun backfill`,
        },
      ],
      rollback: [`ALTER TABLE ${t} DROP FOREIGN KEY ${name}`, ...(covered ? [] : [dropIndex(context, a.table, a.name)])],
    };
  },
};
