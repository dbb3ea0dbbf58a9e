import { z } from 'zod';
import { lintConfigSchema } from '../lint/config.js';
import { verifyConfigSchema } from '../verify/config.js';

/** Lock-timeout retries: exponential backoff with jitter between attempts. */
export const retrySchema = z
  .object({
    count: z.number().int().min(0).max(1000).default(10).describe('retries after the first attempt'),
    initialDelayMs: z.number().int().min(0).default(250),
    maxDelayMs: z.number().int().min(0).default(15_000),
  })
  .strict();

export const backfillSchema = z
  .object({
    // A batch holds the row locks of every row it updated until it commits, so an app write to one of
    // those rows waits up to a batch. 30 ms: in the live benchmark (1M rows, 2026-12-04) the worst app
    // request during a backfill fell from a median 37 to 17 ms on PostgreSQL, and from 39–44 to
    // 23–41 ms on MariaDB (2 GB redo log), against 50 ms batches, at a rate within the runs' noise.
    targetBatchMs: z
      .number()
      .int()
      .min(1)
      .default(30)
      .describe('batch size adapts so one batch takes about this long (ms)'),
    initialBatchSize: z.number().int().min(1).default(1000),
    minBatchSize: z.number().int().min(1).default(100),
    maxBatchSize: z.number().int().min(1).default(20_000),
    pauseMs: z.number().int().min(0).default(0).describe('sleep between batches, to leave room for app traffic'),
    redoThrottlePercent: z
      .number()
      .min(1)
      .max(100)
      .default(70)
      .describe('MariaDB: before each batch, wait while the InnoDB checkpoint age is above this share of its maximum (100: never wait)'),
    maxReplicaLagMs: z
      .number()
      .int()
      .min(0)
      .nullable()
      .default(1000)
      .describe('before each batch, wait while a replica is further behind than this (PostgreSQL: every standby the primary streams to, or those in replicas; MySQL/MariaDB: the replicas in replicas); null: never wait'),
    replicas: z
      .array(z.string().min(1))
      .default([])
      .describe('connection URLs of the replicas whose lag the backfill waits for: needed on MySQL/MariaDB (the source cannot see it); on PostgreSQL instead of every standby the primary streams to'),
    pauseFile: z.string().min(1).nullable().default(null).describe('while this file exists, the backfill waits before its next batch; delete it to go on'),
    maxRunningQueries: z
      .number()
      .int()
      .min(0)
      .nullable()
      .default(null)
      .describe('before each batch, wait while more than this many other sessions on the database are running a statement (the app is busy); null: never wait'),
  })
  .strict();

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    url: z.string().min(1).optional().describe('connection URL; --url and DATABASE_URL take precedence'),
    dir: z.string().min(1).default('migrations'),
    waitSeconds: z.number().min(0).default(10).describe('how long a second runner waits for the runner lock'),
    lockTimeoutMs: z.number().int().min(1).default(1000).describe('PostgreSQL lock_timeout for every DDL'),
    blockingLockTimeoutMs: z
      .number()
      .int()
      .min(1)
      .default(50)
      .describe('PostgreSQL lock_timeout (at most lockTimeoutMs) for DDL that holds up app reads and writes while it waits for its lock: ALTER TABLE, triggers'),
    parallelWorkers: z
      .number()
      .int()
      .min(0)
      .nullable()
      .default(0)
      .describe('PostgreSQL only: parallel workers each of tandem\'s own queries and index builds may start (max_parallel_workers_per_gather, max_parallel_maintenance_workers); 0 keeps each to one core, leaving the others to the app; null: the server\'s settings'),
    mysqlLockWaitTimeoutSeconds: z.number().int().min(1).default(2).describe('MySQL/MariaDB lock_wait_timeout for every DDL'),
    retries: retrySchema.default(() => retrySchema.parse({})),
    backfill: backfillSchema.default(() => backfillSchema.parse({})),
    versionSchemas: z
      .boolean()
      .default(false)
      .describe('PostgreSQL only: each expand creates a schema of views with the new app version\'s shape (see README: Version schemas)'),
    lint: lintConfigSchema.optional(),
    verify: verifyConfigSchema.optional(),
  })
  .strict();

export type TandemConfig = z.infer<typeof configSchema>;
/** A config as written: every field with a default may be left out, nested ones too. */
export type TandemConfigInput = z.input<typeof configSchema>;

/** PostgreSQL lock_timeout of DDL that queues app queries behind it while it waits (ALTER TABLE, triggers). */
export function blockingLockTimeout(config: Pick<TandemConfig, 'lockTimeoutMs' | 'blockingLockTimeoutMs'>): number {
  return Math.min(config.lockTimeoutMs, config.blockingLockTimeoutMs);
}
export type RetryConfig = z.infer<typeof retrySchema>;
export type BackfillConfig = z.infer<typeof backfillSchema>;

export const CONFIG_FILE = 'tandem.config.json';
