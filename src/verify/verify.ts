import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TandemConfig } from '../config/schema.js';
import { literalSql } from '../db/raw-sql.js';
import { openSession } from '../db/session.js';
import type { ConnectionTarget } from '../db/url.js';
import { schemaSnapshot } from '../demo/schema-snapshot.js';
import { TandemError, UsageError } from '../errors/tandem-error.js';
import { loadMigrations } from '../migrations/load-migrations.js';
import type { Migration } from '../migrations/model.js';
import { splitStatements } from '../migrations/split-statements.js';
import { parseProbeFile, type Probe } from '../probes/probe-file.js';
import { runProbes } from '../probes/run-probes.js';
import { Ledger } from '../runner/ledger.js';
import { silentReporter } from '../runner/reporter.js';
import { acquirePgliteLock, acquireRunnerLock } from '../runner/runner-lock.js';
import { Runner } from '../runner/runner.js';
import type { CurrentVersionSchema } from '../version-schemas/lifecycle.js';
import { runAutomaticProbes } from './auto-probes.js';
import { databaseMessage, STATE_TEXT, type AppVersion, type StateName } from './explain.js';
import { readSchemaModel, touchedTables, type SchemaModel } from './schema-model.js';
import { scratchServer, type ScratchDatabase, type ScratchServer } from '../scratch/scratch-database.js';

export interface VerifyOptions {
  /** Migrations directory. */
  dir: string;
  /** Migrations to verify (id, unique prefix, name or file path); empty: the pending ones. */
  ids: string[];
  /** --url: a server to make scratch databases on (its database is also read for what is pending); null: embedded PGlite. */
  server: ConnectionTarget | null;
  config: TandemConfig;
  seed?: string | undefined;
  oldProbes?: string[];
  newProbes?: string[];
  oldCmd?: string | undefined;
  newCmd?: string | undefined;
  cwd?: string;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
}

export const STATES: StateName[] = ['S0', 'S1', 'S2', 'S3', 'R'];
/** Where each version must work: the old app until contract (and after a rollback), the new app from expand on. */
export const REQUIRED: Record<AppVersion, StateName[]> = { old: ['S0', 'S1', 'S2', 'R'], new: ['S1', 'S2', 'S3'] };

export interface CellResult {
  app: AppVersion;
  state: StateName;
  required: boolean;
  status: 'passed' | 'failed' | 'not run';
  checks: number;
  /** Every failure, the first one first: the one to fix. */
  failures: string[];
}

export interface VerifyReport {
  ok: boolean;
  dialect: 'postgres' | 'mysql';
  database: string;
  migrations: string[];
  /** Applied fully to reach S0. */
  before: string[];
  tables: string[];
  cells: CellResult[];
  notes: string[];
  durationMs: number;
}

interface Selection {
  before: Migration[];
  verified: Migration[];
}

/** `tandem verify`: walk the migrations through every state on scratch databases and probe both app versions at each. */
export async function verifyMigrations(options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const dialect = options.server?.dialect ?? 'postgres';
  const all = loadMigrations(options.dir, dialect, cwd);
  const selection = await selectMigrations(all, options.ids, options.server, options.config);
  const run = new VerifyRun(options, selection, cwd, dialect);
  const log = options.log ?? (() => undefined);
  if (selection.verified.length === 0) return run.report(performance.now() - started);
  log(`verifying ${selection.verified.map((m) => m.id).join(', ')} on ${run.scratch.display}`);
  try {
    await run.execute();
  } finally {
    await run.scratch.dispose();
  }
  return run.report(performance.now() - started);
}

// ---------------------------------------------------------------------------------------------
// which migrations

async function selectMigrations(all: Migration[], ids: string[], server: ConnectionTarget | null, config: TandemConfig): Promise<Selection> {
  let indexes: number[];
  if (ids.length > 0) {
    indexes = [...new Set(ids.map((id) => indexOfMigration(all, id)))].sort((a, b) => a - b);
    const gap = indexes.findIndex((index, i) => i > 0 && index !== indexes[i - 1]! + 1);
    if (gap > 0) {
      const missing = all.slice(indexes[gap - 1]! + 1, indexes[gap]).map((m) => m.id);
      throw new UsageError(`verify takes consecutive migrations, but ${missing.join(', ')} lies between the ones named`, undefined, `name ${missing.length === 1 ? 'it' : 'them'} too, or verify the migrations one at a time`);
    }
  } else {
    const contracted = await contractedInLedger(server, config);
    const first = all.findIndex((m) => !contracted.has(m.id));
    indexes = first < 0 ? [] : all.map((_, i) => i).slice(first);
  }
  const first = indexes[0] ?? all.length;
  return { before: all.slice(0, first), verified: indexes.map((i) => all[i]!) };
}

function indexOfMigration(all: Migration[], given: string): number {
  // A file path works too: what `git diff --name-only` prints.
  const id = path.basename(given).replace(/\.(sql|json|ya?ml|ts)$/i, '');
  const exact = all.findIndex((m) => m.id === id);
  if (exact >= 0) return exact;
  const matches = all.map((m, i) => ({ m, i })).filter(({ m }) => m.id.startsWith(id) || m.name === id);
  if (matches.length === 1) return matches[0]!.i;
  throw new UsageError(
    matches.length === 0 ? `no migration matches "${given}"` : `"${given}" matches several migrations: ${matches.map(({ m }) => m.id).join(', ')}`,
    undefined,
    'give the full id shown by tandem status',
  );
}

/** Migrations the database the URL names has contracted: verify starts after them. Nothing without a URL or a ledger. */
async function contractedInLedger(server: ConnectionTarget | null, config: TandemConfig): Promise<Set<string>> {
  if (!server || (server.driver === 'pglite' && (!server.pgliteDir || !fs.existsSync(server.pgliteDir)))) return new Set();
  const fileLock = server.driver === 'pglite' ? await acquirePgliteLock(server.pgliteDir, { waitSeconds: config.waitSeconds, command: 'verify' }) : null;
  try {
    const session = await openSession(server, config, 'verify');
    try {
      const ledger = new Ledger(session);
      if (!(await ledger.exists())) return new Set();
      return new Set([...(await ledger.all()).values()].filter((row) => row.state === 'contracted').map((row) => row.id));
    } finally {
      await session.close();
    }
  } finally {
    await fileLock?.release();
  }
}

// ---------------------------------------------------------------------------------------------
// one run

interface Snapshots {
  S0?: SchemaModel;
  S1?: SchemaModel;
  S2?: SchemaModel;
  S3?: SchemaModel;
}

class PathFailure extends Error {
  constructor(
    readonly state: StateName,
    message: string,
  ) {
    super(message);
  }
}

class VerifyRun {
  readonly scratch: ScratchServer;
  private readonly cells = new Map<string, { checks: number; failures: string[]; ran: boolean }>();
  private readonly notes = new Set<string>();
  private readonly probes: Record<AppVersion, Array<{ file: string; probes: Probe[] }>>;
  private readonly seed: string[];
  private expected: Record<AppVersion, SchemaModel> = { old: new Map(), new: new Map() };
  private tables: string[] = [];

  constructor(
    private readonly options: VerifyOptions,
    private readonly selection: Selection,
    private readonly cwd: string,
    private readonly dialect: 'postgres' | 'mysql',
  ) {
    this.scratch = scratchServer(options.server, options.config, { onDisk: Boolean(options.oldCmd || options.newCmd), purpose: 'verify' });
    this.probes = { old: this.probeFiles('old', options.oldProbes ?? []), new: this.probeFiles('new', options.newProbes ?? []) };
    this.seed = options.seed ? this.readSeed(options.seed) : [];
    for (const version of ['old', 'new'] as const) for (const state of STATES) this.cells.set(`${version} ${state}`, { checks: 0, failures: [], ran: false });
  }

  private get migrations(): Migration[] {
    return [...this.selection.before, ...this.selection.verified];
  }

  /** The files given, plus probes/<id>.old.sql / .new.sql next to the verified migrations. */
  private probeFiles(version: AppVersion, given: string[]): Array<{ file: string; probes: Probe[] }> {
    const found = this.selection.verified.map((m) => path.join(this.options.dir, 'probes', `${m.id}.${version}.sql`)).filter((file) => fs.existsSync(path.resolve(this.cwd, file)));
    const files = [...new Set([...given, ...found])];
    return files.map((file) => {
      const absolute = path.resolve(this.cwd, file);
      if (!fs.existsSync(absolute)) throw new UsageError(`probe file ${file} does not exist`, { file }, `fix the --${version} path (or "verify.${version}" in tandem.config.json)`);
      return { file: path.relative(this.cwd, absolute) || file, probes: parseProbeFile(absolute, this.dialect) };
    });
  }

  private readSeed(file: string): string[] {
    const absolute = path.resolve(this.cwd, file);
    if (!fs.existsSync(absolute)) throw new UsageError(`seed file ${file} does not exist`, { file }, 'fix the --seed path (or "verify.seed" in tandem.config.json)');
    return splitStatements(fs.readFileSync(absolute, 'utf8'), this.dialect).map((s) => s.sql);
  }

  private cell(version: AppVersion, state: StateName) {
    return this.cells.get(`${version} ${state}`)!;
  }

  private fail(version: AppVersion, state: StateName, message: string): void {
    const cell = this.cell(version, state);
    cell.ran = true;
    cell.failures.push(message);
  }

  /**
   * Three scratch databases: a first run to S3 learns every state's schema (the new app's probes
   * need S3 before it can be probed at S1) and probes the new app at S3; the second probes both
   * apps at S1 and S2, then the old app after a rollback from S2; the third the old app at S0 and
   * after a rollback from S1.
   */
  async execute(): Promise<void> {
    const started = performance.now();
    const base = this.options.log ?? (() => undefined);
    const log = (line: string) => base(`  ${line} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    log('S0 → S1 → S2 → S3, probing S3');
    await this.schemaPath();
    log('S0 → S1 → S2 → R, probing S1, S2 and R');
    await this.coexistencePath();
    log('S0 → S1 → R, probing S0 and R');
    await this.rollbackPath();
    log('done');
  }

  /** A scratch database at S0: earlier migrations applied fully, then the seed. */
  private async buildS0(label: string): Promise<ScratchDatabase> {
    const db = await this.scratch.create(label);
    try {
      await this.phase(db, 'expand', this.selection.before, 'S0');
      await this.phase(db, 'backfill', this.selection.before, 'S0');
      await this.phase(db, 'contract', this.selection.before, 'S0');
      for (const statement of this.seed) {
        try {
          await db.session().db.raw(literalSql(statement, db.session().adapter.dialect));
        } catch (error) {
          throw new PathFailure('S0', `the seed (${this.options.seed}) fails: ${databaseMessage(error)}`);
        }
      }
      return db;
    } catch (error) {
      await db.drop();
      throw error;
    }
  }

  /** Run one phase on the scratch database; a failure ends the path at `reaching`. */
  private async phase(db: ScratchDatabase, phase: 'expand' | 'backfill' | 'contract' | 'rollback', migrations: Migration[], reaching: StateName): Promise<void> {
    if (migrations.length === 0) return;
    const session = db.session();
    try {
      await acquireRunnerLock(session, new Ledger(session), { waitSeconds: 0, command: 'verify' });
      const runner = new Runner(session, migrations, silentReporter);
      if (phase === 'rollback') await runner.rollback();
      else await runner[phase]();
    } catch (error) {
      const what = reaching === 'S0' ? `applying the earlier migrations (${phase})` : `${phase}`;
      const message = error instanceof TandemError ? error.message.split('\n')[0]! : databaseMessage(error);
      throw new PathFailure(reaching, `${what} fails: ${message}`);
    }
  }

  private async schemaPath(): Promise<void> {
    const snapshots: Snapshots = {};
    let db: ScratchDatabase | null = null;
    try {
      try {
        db = await this.buildS0('schema');
        snapshots.S0 = await readSchemaModel(db.session());
        const steps = [['expand', 'S1'], ['backfill', 'S2'], ['contract', 'S3']] as const;
        for (const [phase, state] of steps) {
          await this.phase(db, phase, this.migrations, state);
          snapshots[state] = await readSchemaModel(db.session());
        }
      } finally {
        this.expected = { old: snapshots.S0 ?? new Map(), new: snapshots.S3 ?? snapshots.S2 ?? snapshots.S1 ?? snapshots.S0 ?? new Map() };
        this.tables = touchedTables(Object.values(snapshots) as SchemaModel[]);
      }
      await this.probeAt(db, 'S3', ['new']);
    } catch (error) {
      if (!(error instanceof PathFailure)) throw error;
      if (!snapshots.S3) this.notes.add(`the new app's schema (S3) is unknown because ${error.message}; its automatic probes use the last state reached`);
      this.fail('new', 'S3', `not reached: ${error.message}`);
    } finally {
      await db?.drop();
    }
  }

  /** Both versions at S1 and S2, then a rollback: the old app must work again, on the schema of S0. */
  private async coexistencePath(): Promise<void> {
    let db: ScratchDatabase | null = null;
    let s0: string[] = [];
    try {
      db = await this.buildS0('both');
      s0 = await schemaSnapshot(db.session());
      await this.phase(db, 'expand', this.migrations, 'S1');
      await this.probeAt(db, 'S1', ['old', 'new']);
      await this.phase(db, 'backfill', this.migrations, 'S2');
      await this.probeAt(db, 'S2', ['old', 'new']);
    } catch (error) {
      if (!(error instanceof PathFailure)) throw error;
      this.notReached(error, ['S1', 'S2']);
      this.fail('old', 'R', `not reached (rollback from S2): ${error.message}`);
      await db?.drop();
      return;
    }
    await this.rollBack(db, 'S2', s0);
  }

  /** The old app at S0, and after a rollback from S1. */
  private async rollbackPath(): Promise<void> {
    let db: ScratchDatabase;
    try {
      db = await this.buildS0('rollback');
    } catch (error) {
      if (!(error instanceof PathFailure)) throw error;
      this.notReached(error, ['S0']);
      this.fail('old', 'R', `not reached (rollback from S1): ${error.message}`);
      return;
    }
    const s0 = await schemaSnapshot(db.session());
    await this.probeAt(db, 'S0', ['old']);
    try {
      await this.phase(db, 'expand', this.migrations, 'S1');
    } catch (error) {
      if (!(error instanceof PathFailure)) throw error;
      this.fail('old', 'R', `not reached (rollback from S1): ${error.message}`);
      await db.drop();
      return;
    }
    await this.rollBack(db, 'S1', s0);
  }

  /** Roll back, compare the schema with S0, probe the old app; drops the database. */
  private async rollBack(db: ScratchDatabase, from: 'S1' | 'S2', s0: string[]): Promise<void> {
    const label = `after rollback from ${from}`;
    try {
      await this.phase(db, 'rollback', this.migrations, 'R');
      const after = await schemaSnapshot(db.session());
      const missing = s0.filter((item) => !after.includes(item)).map((item) => `missing ${item}`);
      const extra = after.filter((item) => !s0.includes(item)).map((item) => `extra ${item}`);
      this.cell('old', 'R').checks++;
      if (missing.length + extra.length > 0) this.fail('old', 'R', `rollback from ${from} leaves the schema different from S0: ${[...missing, ...extra].join('; ')}`);
      await this.probeAt(db, 'R', ['old'], label);
    } catch (error) {
      if (!(error instanceof PathFailure)) throw error;
      this.fail('old', 'R', `${label}: ${error.message}`);
    } finally {
      await db.drop();
    }
  }

  /** A path stopped: the states it did not reach fail where a version is required there. */
  private notReached(failure: PathFailure, states: StateName[]): void {
    for (const state of states.slice(Math.max(0, states.indexOf(failure.state)))) {
      for (const version of ['old', 'new'] as const) {
        if (REQUIRED[version].includes(state)) this.fail(version, state, `not reached: ${failure.message}`);
      }
    }
  }

  private async probeAt(db: ScratchDatabase, state: StateName, versions: AppVersion[], label?: string): Promise<void> {
    const where = label ? `${STATE_TEXT[state]}, ${label}` : STATE_TEXT[state];
    for (const version of versions) this.cell(version, state).ran = true;
    const schema = versions.includes('new') ? await this.versionSchema(db) : null;
    const searchPaths = schema ? { old: await this.searchPath(db), new: schema.searchPathValue } : undefined;
    await this.sqlProbes(db, state, versions, where, searchPaths);
    await this.automaticProbes(db, state, versions, where, searchPaths);
    for (const version of versions) {
      const command = version === 'old' ? this.options.oldCmd : this.options.newCmd;
      // libpq and node-postgres read PGOPTIONS: the new app's command connects to its version schema.
      const env: Record<string, string> = version === 'new' && schema ? { PGOPTIONS: schema.connectionOption.replace(/^options=/, ''), TANDEM_SEARCH_PATH: schema.searchPathValue } : {};
      if (command) await this.command(db, state, version, command, where, env);
    }
  }

  /** PostgreSQL with version schemas: the schema the new app reads through, once expand has made one. */
  private async versionSchema(db: ScratchDatabase): Promise<CurrentVersionSchema | null> {
    const session = db.session();
    if (session.adapter.dialect !== 'postgres' || !session.config.versionSchemas) return null;
    return new Runner(session, this.migrations, silentReporter).versionSchemas.current();
  }

  private async searchPath(db: ScratchDatabase): Promise<string> {
    const session = db.session();
    return session.adapter.rows<{ path: string }>(await session.db.raw(`SELECT current_setting('search_path') AS path`))[0]!.path;
  }

  /** The probe files, in one transaction rolled back at the end: old, new, then old again to read the new app's rows. */
  private async sqlProbes(db: ScratchDatabase, state: StateName, versions: AppVersion[], where: string, searchPaths?: Record<AppVersion, string>): Promise<void> {
    const order: AppVersion[] = versions.length === 2 ? ['old', 'new', 'old'] : versions;
    if (order.every((version) => this.probes[version].length === 0)) return;
    const session = db.session();
    const trx = await session.db.transaction();
    try {
      for (const version of order) {
        if (searchPaths) await trx.raw(`SELECT set_config('search_path', ?, true)`, [searchPaths[version]]);
        for (const { file, probes } of this.probes[version]) {
          for (const outcome of await runProbes(trx, session.adapter, probes)) {
            this.cell(version, state).checks++;
            if (outcome.ok) continue;
            const statement = outcome.probe.sql.replace(/\s+/g, ' ').slice(0, 80);
            this.fail(version, state, `the ${version} app's probe ${file}:${outcome.probe.line} (${statement}) fails at ${where}: ${outcome.detail}`);
          }
        }
      }
    } finally {
      await trx.rollback().catch(() => undefined);
    }
  }

  private async automaticProbes(db: ScratchDatabase, state: StateName, versions: AppVersion[], where: string, searchPaths?: Record<AppVersion, string>): Promise<void> {
    if (this.tables.length === 0) return;
    const session = db.session();
    const trx = await session.db.transaction();
    try {
      const result = await runAutomaticProbes(trx, session.adapter, { versions, expected: this.expected, tables: this.tables, stateText: where, afterBackfill: state === 'S2', ...(searchPaths ? { searchPaths } : {}) });
      for (const version of versions) this.cell(version, state).checks += result.checks[version];
      for (const failure of result.failures) this.fail(failure.version, state, failure.message);
      for (const note of result.notes) this.notes.add(note);
    } finally {
      await trx.rollback().catch(() => undefined);
    }
  }

  /** The app's own tests against the scratch database (PGlite: closed meanwhile, one process at a time). */
  private async command(db: ScratchDatabase, state: StateName, version: AppVersion, command: string, where: string, env: Record<string, string> = {}): Promise<void> {
    const embedded = this.options.server === null || this.options.server.driver === 'pglite';
    if (embedded) await db.suspend();
    try {
      this.cell(version, state).checks++;
      const result = await runCommand(command, this.cwd, { DATABASE_URL: db.url, TANDEM_ROLE: version, TANDEM_STATE: state, ...env });
      if (result.code !== 0) {
        const tail = result.output.trim().split('\n').filter((line) => line.trim() !== '').slice(-1)[0] ?? '';
        this.fail(version, state, `the ${version} app's command \`${command}\` exits with ${result.code} at ${where}${tail ? `: ${tail.trim()}` : ''}`);
      }
    } finally {
      if (embedded) await db.resume();
    }
  }

  report(durationMs: number): VerifyReport {
    const cells: CellResult[] = [];
    for (const version of ['old', 'new'] as const) {
      for (const state of STATES) {
        const cell = this.cell(version, state);
        const required = REQUIRED[version].includes(state);
        if (!required && !cell.ran) continue;
        cells.push({ app: version, state, required, status: !cell.ran && cell.failures.length === 0 ? 'not run' : cell.failures.length > 0 ? 'failed' : 'passed', checks: cell.checks, failures: cell.failures });
      }
    }
    return {
      ok: cells.every((c) => !c.required || c.status !== 'failed'),
      dialect: this.dialect,
      database: this.scratch.display,
      migrations: this.selection.verified.map((m) => m.id),
      before: this.selection.before.map((m) => m.id),
      tables: this.tables,
      cells,
      notes: [...this.notes],
      durationMs,
    };
  }
}

async function runCommand(command: string, cwd: string, env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { cwd, shell: true, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}
