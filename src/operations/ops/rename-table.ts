import { z } from 'zod';
import { identifier } from '../column-spec.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z.object({ from: identifier, to: identifier }).strict();

/**
 * Expand creates the new name as a view over the table: a single-table `SELECT *` view is
 * updatable on both databases, so the new app reads and writes through it (the table's defaults
 * and triggers apply), while the old app keeps using the table itself. Contract swaps them in one
 * atomic step — PostgreSQL: DROP VIEW and RENAME in one transaction; MySQL: one multi-table
 * RENAME TABLE — so no query ever finds neither name.
 */
export const renameTable: Operation<z.infer<typeof args>> = {
  name: 'renameTable',
  summary: 'rename a table; the new name is an updatable view until contract swaps them',
  args,
  async validate(a, context) {
    if (!(await context.inspect.tableExists(a.from))) throw new Error(`table ${a.from} does not exist`);
    if (await context.inspect.tableExists(a.to)) throw new Error(`table ${a.to} exists already`);
  },
  async compile(a, context) {
    const from = context.quote(a.from);
    const to = context.quote(a.to);
    await context.inspect.noteTableRenamed(a.from, a.to);
    if (context.dialect === 'postgres') {
      return {
        ...emptyPhases(),
        views: [{ kind: 'renameTable', from: a.from, to: a.to }],
        expand: [`CREATE VIEW ${to} AS SELECT * FROM ${from}`],
        contract: [`DROP VIEW ${to}`, `ALTER TABLE ${from} RENAME TO ${to}`],
        rollback: [`DROP VIEW IF EXISTS ${to}`],
      };
    }
    const parked = context.quote(context.objectName('view'));
    return {
      ...emptyPhases(),
      expand: [`CREATE ALGORITHM=MERGE VIEW ${to} AS SELECT * FROM ${from}`],
      contract: [`RENAME TABLE ${to} TO ${parked}, ${from} TO ${to}`, `DROP VIEW ${parked}`],
      rollback: [`DROP VIEW IF EXISTS ${to}`],
    };
  },
};
