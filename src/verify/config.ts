import { z } from 'zod';

/**
 * The `verify` section of tandem.config.json: what `tandem verify` runs for each app version when
 * the command line does not say. Paths are relative to the working directory.
 */
export const verifyConfigSchema = z
  .object({
    old: z.string().min(1).optional().describe('SQL probe file: the statements the old app version issues'),
    new: z.string().min(1).optional().describe('SQL probe file: the statements the new app version issues'),
    oldCmd: z.string().min(1).optional().describe("the old app's own test command, run with DATABASE_URL at each state"),
    newCmd: z.string().min(1).optional().describe("the new app's own test command, run with DATABASE_URL at each state"),
    seed: z.string().min(1).optional().describe('SQL file run once the earlier migrations are applied (S0): data for the probes'),
  })
  .strict();

export type VerifyConfig = z.infer<typeof verifyConfigSchema>;
