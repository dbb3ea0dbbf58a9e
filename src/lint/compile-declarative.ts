import path from 'node:path';
import { configSchema } from '../config/schema.js';
import type { ConnectionTarget } from '../db/url.js';
import { TandemError } from '../errors/tandem-error.js';
import { loadMigrationFile, migrationFileNames } from '../migrations/load-migrations.js';
import type { ForwardPhase, Migration } from '../migrations/model.js';
import { compileMigration, type CompiledMigration } from '../operations/compile.js';
import { Ledger } from '../runner/ledger.js';
import { silentReporter } from '../runner/reporter.js';
import { acquireRunnerLock } from '../runner/runner-lock.js';
import { Runner } from '../runner/runner.js';
import { scratchServer, type ScratchDatabase, type ScratchServer } from '../scratch/scratch-database.js';
import type { LintDialect } from './types.js';

/**
 * A declarative migration is linted through the SQL it generates, and that SQL depends on the
 * schema it meets (column types, keys). So the migrations of its directory that come before it are
 * applied to a scratch database — embedded PGlite for PostgreSQL, a throw-away database on
 * `--scratch-url` otherwise — and the operations are compiled there, exactly as `tandem expand`
 * would compile them. Lint applies every phase of each (a migration deployed after the ones before
 * it have contracted); `tandem plan` applies each as far as `tandem expand` will leave it.
 */
export type DeclarativeOutcome =
  | { kind: 'compiled'; migration: Migration; phases: CompiledMigration; /** The scratch server's version, which the compiled SQL may depend on. */ serverVersion: string }
  /** Phase functions of a TypeScript migration: code, not SQL. */
  | { kind: 'code'; migration: Migration }
  /** The file cannot be read, or an operation does not fit the schema it meets: a finding. */
  | { kind: 'invalid'; error: TandemError }
  /** Could not be compiled for a reason outside the file: a notice. */
  | { kind: 'not-compiled'; reason: string };

export interface CompileOptions {
  dialect: LintDialect;
  cwd: string;
  /** Where scratch databases may be created; null: embedded PGlite (PostgreSQL only). */
  scratch: ConnectionTarget | null;
  /** PostgreSQL `versionSchemas: true` (some operations generate other SQL then: renameColumn). */
  versionSchemas?: boolean;
  /**
   * The last phase each earlier migration has run when the target compiles (by migration id).
   * Without it, every phase. A migration runs a phase only when every one before it has, as the
   * runner's commands run each phase over all migrations in order.
   */
  reached?: (migrationId: string) => ForwardPhase;
}

/** Compile the given declarative files (absolute paths), each against the schema the migrations before it leave. */
export async function compileDeclarative(files: string[], options: CompileOptions): Promise<Map<string, DeclarativeOutcome>> {
  const outcomes = new Map<string, DeclarativeOutcome>();
  if (files.length === 0) return outcomes;
  if (options.dialect === 'mysql' && (!options.scratch || options.scratch.dialect !== 'mysql')) {
    const reason = 'not linted: its SQL is generated against a schema, and for MySQL that needs a server — give `--scratch-url mysql://…` (tandem creates a throw-away database there and drops it), or run `tandem plan` to see the SQL';
    for (const file of files) outcomes.set(file, { kind: 'not-compiled', reason });
    return outcomes;
  }
  const server = scratchServer(options.scratch?.dialect === options.dialect ? options.scratch : null, configSchema.parse({ versionSchemas: options.dialect === 'postgres' && options.versionSchemas === true }), { onDisk: false, purpose: 'lint' });
  try {
    const byDirectory = new Map<string, string[]>();
    for (const file of files) byDirectory.set(path.dirname(file), [...(byDirectory.get(path.dirname(file)) ?? []), file]);
    for (const [directory, targets] of byDirectory) {
      for (const [file, outcome] of await compileDirectory(directory, new Set(targets), server, options)) outcomes.set(file, outcome);
    }
  } finally {
    await server.dispose();
  }
  return outcomes;
}

/** Walk the directory's migrations in order on one scratch database, compiling each target on the way. */
async function compileDirectory(directory: string, targets: Set<string>, server: ScratchServer, options: CompileOptions): Promise<Map<string, DeclarativeOutcome>> {
  const outcomes = new Map<string, DeclarativeOutcome>();
  const entries = migrationFileNames(directory).map((name) => path.join(directory, name));
  const last = Math.max(...entries.map((entry, index) => (targets.has(entry) ? index : -1)));
  let blocked: string | null = null;
  let db: ScratchDatabase | null = null;
  const applied: Migration[] = [];
  try {
    for (const absolute of entries.slice(0, last + 1)) {
      const isTarget = targets.has(absolute);
      if (blocked) {
        if (isTarget) outcomes.set(absolute, { kind: 'not-compiled', reason: `not linted: ${blocked}` });
        continue;
      }
      let migration: Migration;
      try {
        migration = loadMigrationFile(absolute, options.dialect, options.cwd);
      } catch (error) {
        if (!(error instanceof TandemError)) throw error;
        if (isTarget) outcomes.set(absolute, { kind: 'invalid', error });
        blocked = `the earlier migration ${display(absolute, options.cwd)} cannot be read (${error.message.split('\n')[0]})`;
        continue;
      }
      db ??= await server.create('compile');
      if (isTarget) {
        if (!migration.operations) outcomes.set(absolute, { kind: 'code', migration });
        else {
          try {
            // As expand compiles: knowing the columns that in-flight migrations rename through views.
            const inspector = await new Runner(db.session(), applied, silentReporter).inspectorBesideInFlight();
            const phases = await compileMigration(migration.operations, db.session(), migration.id, migration.file, inspector);
            outcomes.set(absolute, { kind: 'compiled', migration, phases, serverVersion: db.session().serverVersion });
          } catch (error) {
            if (!(error instanceof TandemError)) throw error;
            outcomes.set(absolute, { kind: 'invalid', error });
            blocked = `the earlier migration ${migration.file} does not compile`;
            continue;
          }
        }
      }
      applied.push(migration);
      if (absolute === entries[last]) break; // nothing after it is compiled
      try {
        await applyAll(db, applied, options.reached ?? (() => 'contract'));
      } catch (error) {
        const message = error instanceof TandemError ? error.message.split('\n')[0]! : (error as Error).message;
        blocked = `applying ${migration.file} to a scratch database (to learn the schema later migrations meet) fails: ${message}`;
      }
    }
  } finally {
    await db?.drop();
  }
  return outcomes;
}

/** Bring the newest of `applied` as far as it has run; the ones before it are there already. */
async function applyAll(db: ScratchDatabase, applied: Migration[], reached: (migrationId: string) => ForwardPhase): Promise<void> {
  const session = db.session();
  await acquireRunnerLock(session, new Ledger(session), { waitSeconds: 0, command: 'lint' });
  const runner = new Runner(session, applied, silentReporter);
  const allReach = (phase: ForwardPhase) => applied.every((migration) => PHASE_ORDER.indexOf(reached(migration.id)) >= PHASE_ORDER.indexOf(phase));
  await runner.expand();
  if (allReach('backfill')) await runner.backfill();
  if (allReach('contract')) await runner.contract();
}

const PHASE_ORDER: ForwardPhase[] = ['expand', 'backfill', 'contract'];

function display(absolute: string, cwd: string): string {
  return path.relative(cwd, absolute) || absolute;
}
