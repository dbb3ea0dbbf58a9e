import path from 'node:path';
import chalk from 'chalk';
import { blockingLockTimeout } from '../../config/schema.js';
import { RefusedError, UsageError } from '../../errors/tandem-error.js';
import { compileDeclarative } from '../../lint/compile-declarative.js';
import type { CompiledMigration } from '../../operations/compile.js';
import { isMariadb, serverMajorVersion, type Session } from '../../db/session.js';
import type { ConnectionTarget } from '../../db/url.js';
import { parseBatchable } from '../../backfill/parse-update.js';
import { pauseConditions, throttlesRedo } from '../../backfill/pause-conditions.js';
import { redoThrottleAdvice } from '../../backfill/redo-throttle.js';
import { PHASES, statementsOf, type ForwardPhase, type Migration, type Phase } from '../../migrations/model.js';
import { normalizeStatement } from '../../migrations/split-statements.js';
import type { LedgerRow } from '../../runner/ledger.js';
import { planSteps } from '../../runner/run-phase.js';
import type { Runner } from '../../runner/runner.js';
import { searchPathFor, versionSchemaName } from '../../version-schemas/name.js';

/**
 * What each phase will run, step by step, without running anything: which statements share a
 * transaction, which run outside one, and the batched form of backfill UPDATEs.
 */
export async function renderPlan(runner: Runner, migrations: Migration[], rows: Map<string, LedgerRow>, options: { scratch?: ConnectionTarget | null } = {}): Promise<string> {
  const { session } = runner;
  const out: string[] = [];
  out.push(chalk.dim(`-- ${session.target.display} (${session.adapter.dialect} ${session.serverVersion}); ${lockWaits(session)}, up to ${session.config.retries.count} retries on lock timeout`));
  const plpgsqlPreloaded = await preloadsPlpgsql(session);
  let redoAdvice: string[] | undefined; // MariaDB: read once, shown in full under the first throttled backfill
  for (const migration of migrations) {
    const row = rows.get(migration.id);
    let replayNote: string | null = null;
    try {
      await runner.prepare(migration, row, false);
    } catch (error) {
      if (row || !(error instanceof UsageError || error instanceof RefusedError)) throw error;
      // Expand would refuse it after the ones before it (a rename of theirs still in flight).
      if (error instanceof RefusedError) {
        out.push('', chalk.bold(`-- ${migration.id}  [pending]  ${migration.file}`), chalk.red(`--   tandem expand refuses it after the migrations before it: ${error.message}`), chalk.dim(`--   ${error.fix}`));
        continue;
      }
      // A pending declarative migration that does not fit this database's schema yet: it may need
      // what a pending SQL migration before it creates, which only running that would show here.
      const replayed = await compileOnScratch(session, migration, rows, options.scratch ?? null);
      if ('reason' in replayed) {
        out.push('', chalk.bold(`-- ${migration.id}  [pending]  ${migration.file}`), chalk.yellow(`--   compiled when its expand runs: ${error.message}`), chalk.dim(`--   ${replayed.reason}`));
        continue;
      }
      for (const phase of PHASES) {
        const section = migration.sections[phase];
        if (section) section.statements = replayed.phases[phase];
      }
      const [there, here] = [replayed, session].map((s) => s.serverVersion.split(' ')[0]);
      const otherVersion = serverMajorVersion(replayed) !== serverMajorVersion(session) || isMariadb(replayed) !== isMariadb(session) ? ` (${there} there, ${here} here: what depends on the version may differ)` : '';
      replayNote = `compiled on a scratch database (${options.scratch ? `on ${options.scratch.display}` : 'embedded'}) where the migrations before it ran from an empty schema, as far as tandem expand will leave them${otherVersion}, since this database does not fit it yet (${error.message}); tandem expand compiles it again here, against the schema it meets then`;
    }
    out.push('', chalk.bold(`-- ${migration.id}  [${row?.state ?? 'pending'}${row?.activePhase ? `, ${row.activePhase} unfinished` : ''}]  ${migration.file}${migration.plain ? '  (plain: runs in expand)' : ''}`));
    if (replayNote) out.push(chalk.yellow(`--   ${replayNote}`));
    for (const phase of PHASES) {
      const done = isDone(phase, row);
      let statements = statementsOf(migration, phase);
      let note = '';
      if (phase === 'rollback' && row && row.state !== 'contracted' && (row.state !== 'pending' || row.activePhase)) {
        try {
          statements = runner.rollbackStatements(migration, row);
          if (!migration.sections.rollback) note = ' (derived by tandem from the expand section)';
        } catch (error) {
          note = ` (${(error as Error).message})`;
        }
      } else if (phase === 'rollback' && !migration.sections.rollback) note = ' (none written: tandem derives one from expand when it can)';
      out.push(chalk.cyan(`-- ${phase}${done ? ' (done)' : ''}${note}`));
      const versionNote = await versionSchemaNote(runner, migration, phase);
      if (statements.length === 0) {
        out.push(chalk.dim(versionNote ? `--   ${versionNote}` : '--   nothing to run'));
        continue;
      }
      if (versionNote && phase !== 'expand') out.push(chalk.dim(`--   first: ${versionNote}`));
      for (const step of planSteps(session, statements, phase)) {
        if (step.kind === 'transaction') {
          out.push(chalk.dim(`--   in one transaction${session.adapter.transactionalDdl ? '' : ''}:`));
          for (let i = step.from; i < step.to; i++) out.push(`${statements[i]!.sql};`);
        } else if (step.kind === 'single') {
          out.push(chalk.dim(session.adapter.transactionalDdl ? '--   outside a transaction:' : '--   on its own (MySQL commits each DDL statement):'));
          out.push(`${statements[step.index]!.sql};`);
        } else {
          const { backfill } = session.config;
          out.push(chalk.dim(`--   in keyset batches by primary key, each batch its own transaction of about ${backfill.targetBatchMs} ms:`));
          out.push(await batchedForm(session, statements[step.index]!.sql));
          const pauses = pauseConditions(session, backfill);
          if (pauses.length > 0) out.push(chalk.dim(`--   before each batch, waits while ${pauses.join('; or ')}`));
          if (throttlesRedo(session, backfill)) {
            if (redoAdvice === undefined) for (const advice of (redoAdvice = await redoThrottleAdvice(session))) out.push(chalk.dim(`--   ${advice}`));
            else if (redoAdvice.length > 0) out.push(chalk.dim('--   (the redo log and page flushing set its pace too: see the first backfill above)'));
          }
          if (backfill.pauseMs > 0) out.push(chalk.dim(`--   and sleeps ${backfill.pauseMs} ms after each batch`));
        }
      }
      if (versionNote && phase === 'expand') out.push(chalk.dim(`--   then, in one transaction: ${versionNote}`));
      if (phase === 'expand' && !done && plpgsqlPreloaded === false && installsPlpgsqlTrigger(statements)) out.push(chalk.dim(`--   ${PLPGSQL_FIRST_WRITE}`));
    }
  }
  return `${out.join('\n')}\n`;
}

/**
 * After expand commits, each app connection's first write that fires a PL/pgSQL trigger loads the
 * library into its backend (~4 ms, measured on an idle server), and the app's connections all do it
 * at once: the benchmark's expand p99 comes from it. The server can load it when a session starts.
 */
const PLPGSQL_FIRST_WRITE =
  "then each app connection's first write through the new trigger loads PL/pgSQL into its backend (~4 ms each, all connections at once); a server that preloads it saves that: session_preload_libraries = 'plpgsql' (ALTER DATABASE or ALTER ROLE … SET, for new connections) or shared_preload_libraries";

/** A PostgreSQL server: whether tandem's own session starts with PL/pgSQL loaded; null where it does not matter (PGlite, MySQL). */
async function preloadsPlpgsql(session: Session): Promise<boolean | null> {
  if (session.adapter.dialect !== 'postgres' || session.target.driver !== 'pg') return null;
  const result = await session.db.raw(`SELECT current_setting('shared_preload_libraries') || ',' || current_setting('session_preload_libraries') AS libraries`).catch(() => null);
  const libraries = result ? String(session.adapter.rows<{ libraries: unknown }>(result)[0]?.libraries ?? '') : '';
  return result ? /(^|[\s,"'])plpgsql([\s,"']|$)/i.test(libraries) : null;
}

function installsPlpgsqlTrigger(statements: readonly { sql: string }[]): boolean {
  return statements.some((s) => /\bLANGUAGE\s+plpgsql\b/i.test(s.sql)) && statements.some((s) => /^\s*CREATE\s+(OR\s+REPLACE\s+)?(CONSTRAINT\s+)?TRIGGER\b/i.test(s.sql));
}

/** What the phase does with version schemas (PostgreSQL, `versionSchemas: true`), in one line. */
async function versionSchemaNote(runner: Runner, migration: Migration, phase: Phase): Promise<string | null> {
  if (!runner.versionSchemas.creates) return null;
  const base = await runner.versionSchemas.baseSchema();
  if (phase === 'contract') return 'drop the version schemas of earlier migrations';
  let name: string;
  try {
    name = versionSchemaName(base, migration.id, migration.file);
  } catch (error) {
    return phase === 'expand' ? `no version schema: ${(error as Error).message}` : null;
  }
  if (phase === 'expand') return `create version schema ${name} (a view per table, shaped as the new app version expects; ${searchPathFor(name, base).sql})`;
  if (phase === 'rollback') return `drop version schema ${name}`;
  return null;
}

/**
 * A declarative migration compiled as `tandem lint` compiles it: in a throw-away database on
 * `scratch` (PostgreSQL without one: embedded PGlite) where the migrations of its directory before it
 * ran from an empty schema — each as far as `tandem expand` will leave it: the phases this database
 * has run, and a pending one its expand (expand runs every pending migration's expand in order).
 */
async function compileOnScratch(session: Session, migration: Migration, rows: Map<string, LedgerRow>, scratch: ConnectionTarget | null): Promise<{ phases: CompiledMigration; serverVersion: string } | { reason: string }> {
  const { dialect } = session.adapter;
  if (dialect === 'mysql' && !scratch) {
    return { reason: 'to see its SQL now, give `--scratch-url mysql://…` (a server of this version where tandem may create and drop a throw-away database): plan compiles it there after the migrations before it' };
  }
  const file = path.resolve(migration.file);
  const reached = (id: string): ForwardPhase => {
    const state = rows.get(id)?.state;
    return state === 'contracted' ? 'contract' : state === 'backfilled' ? 'backfill' : 'expand';
  };
  const outcome = (await compileDeclarative([file], { dialect, cwd: process.cwd(), scratch, versionSchemas: dialect === 'postgres' && session.config.versionSchemas, reached })).get(file);
  if (outcome?.kind === 'compiled') return { phases: outcome.phases, serverVersion: outcome.serverVersion };
  const why = outcome?.kind === 'invalid' ? outcome.error.message : outcome?.kind === 'not-compiled' ? outcome.reason : 'it is code, not operations';
  return { reason: `nor on a scratch database where the migrations before it ran from an empty schema, as far as tandem expand will leave them: ${why}` };
}

function isDone(phase: Phase, row: LedgerRow | undefined): boolean {
  if (!row) return false;
  const order = ['pending', 'expanded', 'backfilled', 'contracted'];
  const reached = order.indexOf(row.state);
  return phase !== 'rollback' && reached >= order.indexOf({ expand: 'expanded', backfill: 'backfilled', contract: 'contracted' }[phase]);
}

async function batchedForm(session: Session, sql: string): Promise<string> {
  const update = parseBatchable(normalizeStatement(sql, session.adapter.dialect), session.adapter.dialect);
  if (!update?.batchable) return `${sql};`;
  const keys = await session.adapter.primaryKey(session.db, update.table).catch(() => [] as string[]);
  const keyList = keys.length ? keys.map((k) => session.adapter.quoteIdent(k)).join(', ') : '<primary key>';
  const key = keys.length === 1 ? `${update.qualifier}.${keyList}` : `(${keyList})`;
  return `${update.head} WHERE ${key} > :last_key AND ${key} <= :batch_end${update.condition ? ` AND (${update.condition})` : ''}${update.tail ? ` ${update.tail}` : ''};`;
}

/** How long a step waits for its lock, as run-phase.ts sets it (README: How tandem keeps traffic flowing). */
function lockWaits(session: Session): string {
  const { config } = session;
  if (session.adapter.dialect === 'postgres') {
    return `lock_timeout ${blockingLockTimeout(config)} ms for DDL that holds up app queries while it waits (ALTER TABLE, triggers), ${config.lockTimeoutMs} ms for other steps`;
  }
  const wait = `lock_wait_timeout ${config.mysqlLockWaitTimeoutSeconds} s`;
  return isMariadb(session) ? `NOWAIT for DDL that holds its lock briefly (triggers, INSTANT changes, renames), ${wait} for other steps` : `every step: ${wait}`;
}
