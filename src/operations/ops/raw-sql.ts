import { z } from 'zod';
import { splitStatements } from '../../migrations/split-statements.js';
import { emptyPhases, type Operation } from '../types.js';

const args = z
  .object({
    expand: z.string().optional(),
    backfill: z.string().optional(),
    contract: z.string().optional(),
    rollback: z.string().optional(),
  })
  .strict()
  .refine((a) => Object.values(a).some((v) => v !== undefined), { message: 'give SQL for at least one phase' });

/** Raw SQL per phase, beside the declarative operations: for what they do not cover. */
export const sql: Operation<z.infer<typeof args>> = {
  name: 'sql',
  summary: 'raw SQL for any phase, run as written (a backfill UPDATE is batched like in SQL migrations)',
  args,
  async validate() {},
  async compile(a, context) {
    const phases = emptyPhases();
    for (const phase of ['expand', 'backfill', 'contract', 'rollback'] as const) {
      const text = a[phase];
      if (text) phases[phase] = splitStatements(text, context.dialect).map((statement) => statement.sql);
    }
    return phases;
  },
};
