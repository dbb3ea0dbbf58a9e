/**
 * tandem's public API: what a deploy pipeline, a test suite or a script imports. The CLI is a thin
 * layer over the same pieces.
 */
import { configSchema, type TandemConfigInput } from './config/schema.js';
import { openSession, type Session } from './db/session.js';
import { parseConnectionUrl } from './db/url.js';
import { loadMigrations } from './migrations/load-migrations.js';
import type { ForwardPhase, Migration } from './migrations/model.js';
import { Ledger } from './runner/ledger.js';
import type { MigrationStatus } from './runner/migration-status.js';
import { silentReporter, type Reporter } from './runner/reporter.js';
import { acquirePgliteLock, acquireRunnerLock, isRunnerActive, type RunnerLock } from './runner/runner-lock.js';
import { Runner, type PhaseSummary } from './runner/runner.js';
import type { PhaseContext } from './runner/run-phase.js';
import type { CurrentVersionSchema } from './version-schemas/lifecycle.js';

export interface TandemOptions {
  url: string;
  /** Directory of migration files, read again before every operation. */
  dir?: string;
  /** Or the migrations themselves. */
  migrations?: Migration[];
  config?: TandemConfigInput;
  reporter?: Reporter;
  /** Awaited between backfill batches. */
  betweenBatches?: PhaseContext['betweenBatches'];
}

export interface Tandem {
  session: Session;
  ledger: Ledger;
  expand(): Promise<PhaseSummary>;
  backfill(): Promise<PhaseSummary>;
  contract(): Promise<PhaseSummary>;
  rollback(id?: string): Promise<PhaseSummary>;
  /** Record every migration up to `target` (id, name or version) as applied without running it: a database whose schema already holds them. */
  baseline(target: string): Promise<{ baselined: string[] }>;
  /** Accept an edit of sections that already ran: record their checksums as the file has them now, without running anything. */
  repair(id: string): Promise<{ repaired: ForwardPhase[] }>;
  status(): Promise<MigrationStatus[]>;
  /** The version schema of the newest expanded migration and how an app selects it; null when there is none (PostgreSQL, `versionSchemas: true`). */
  versionSchema(): Promise<CurrentVersionSchema | null>;
  migrations(): Migration[];
  close(): Promise<void>;
}

export async function connect(options: TandemOptions): Promise<Tandem> {
  const config = configSchema.parse(options.config ?? {});
  const target = parseConnectionUrl(options.url);
  const fileLock = target.driver === 'pglite' ? await acquirePgliteLock(target.pgliteDir, { waitSeconds: config.waitSeconds, command: 'api' }) : null;
  let session: Session;
  try {
    session = await openSession(target, config, 'api');
  } catch (error) {
    await fileLock?.release();
    throw error;
  }
  const ledger = new Ledger(session);
  const reporter = options.reporter ?? silentReporter;
  const migrations = (): Migration[] => options.migrations ?? loadMigrations(options.dir ?? config.dir, target.dialect);
  const runner = () => new Runner(session, migrations(), reporter, options.betweenBatches ? { betweenBatches: options.betweenBatches } : {});
  const locked = async <T>(command: string, body: (r: Runner) => Promise<T>): Promise<T> => {
    const lock: RunnerLock = await acquireRunnerLock(session, ledger, { waitSeconds: config.waitSeconds, command });
    try {
      return await body(runner());
    } finally {
      await lock.release();
    }
  };
  return {
    session,
    ledger,
    expand: () => locked('expand', (r) => r.expand()),
    backfill: () => locked('backfill', (r) => r.backfill()),
    contract: () => locked('contract', (r) => r.contract()),
    rollback: (id) => locked('rollback', (r) => r.rollback(id)),
    baseline: (target) => locked('baseline', (r) => r.baseline(target)),
    repair: (id) => locked('repair', (r) => r.repair(id)),
    status: async () => runner().status(await isRunnerActive(session)),
    versionSchema: () => runner().versionSchemas.current(),
    migrations,
    close: async () => {
      await session.close();
      await fileLock?.release();
    },
  };
}

export { configSchema, type TandemConfig, type TandemConfigInput } from './config/schema.js';
export { loadConfig } from './config/load-config.js';
export { parseConnectionUrl, redactUrl } from './db/url.js';
export { loadMigrations } from './migrations/load-migrations.js';
export { parseSqlMigration } from './migrations/parse-sql-migration.js';
export { splitStatements, normalizeStatement } from './migrations/split-statements.js';
export type { Migration, Phase, Section } from './migrations/model.js';
export type { MigrationStatus, StatusPhase } from './runner/migration-status.js';
export type { Reporter } from './runner/reporter.js';
export { collectingReporter, silentReporter } from './runner/reporter.js';
export { ExitCode, TandemError, UsageError, RefusedError, PhaseFailedError } from './errors/tandem-error.js';
export { Runner } from './runner/runner.js';
export { Ledger } from './runner/ledger.js';
export { defineMigration, type MigrationDefinition, type OperationInput } from './operations/define-migration.js';
export { OPERATIONS, type OperationName } from './operations/registry.js';
export { versionSchemaName, searchPathFor } from './version-schemas/name.js';
export type { CurrentVersionSchema } from './version-schemas/lifecycle.js';
