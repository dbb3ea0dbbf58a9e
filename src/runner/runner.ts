import type { Session } from '../db/session.js';
import { RefusedError } from '../errors/tandem-error.js';
import { EMPTY_CHECKSUM, checksumStatements } from '../migrations/checksum.js';
import { FORWARD_PHASES, PHASES, statementsOf, type ForwardPhase, type Migration, type Statement } from '../migrations/model.js';
import { compileMigration, type CompiledMigration } from '../operations/compile.js';
import { SchemaInspector } from '../operations/inspect.js';
import { invertStatement } from './invert-statement.js';
import { BASELINE_MESSAGE_PREFIX, Ledger, type LedgerRow } from './ledger.js';
import { describeStatuses, type MigrationStatus } from './migration-status.js';
import { ConnectionLostError, runPhase, type PhaseContext, type PhaseExtras } from './run-phase.js';
import { isConnectionLost } from '../db/connect.js';
import { faultPoint } from './fault-points.js';
import { settleInterruptedStatement } from './interrupted-statement.js';
import type { Reporter } from './reporter.js';
import { VersionSchemaLifecycle } from '../version-schemas/lifecycle.js';
import { bareVersionKey, compareMigrationIds, versionKey } from '../migrations/migration-order.js';

export interface PhaseSummary {
  phase: ForwardPhase | 'rollback';
  ran: string[];
}

const RESULT_STATE = { expand: 'expanded', backfill: 'backfilled', contract: 'contracted', rollback: 'rolled_back' } as const;

/** Connection drops survived in one phase before giving up (each resumes from the ledger). */
const MAX_RECONNECTS = 10;

const NEXT_STATE: Record<ForwardPhase, { from: LedgerRow['state'][]; to: string }> = {
  expand: { from: ['pending', 'rolled_back'], to: 'expanded' },
  backfill: { from: ['expanded'], to: 'backfilled' },
  contract: { from: ['backfilled'], to: 'contracted' },
};

/**
 * The phase state machine over all migrations of a directory. Phase commands walk the migrations
 * in file order and stop at the first one that is not ready, because a later migration may rely on
 * an earlier one's state. Callers hold the runner lock.
 */
export class Runner {
  readonly ledger: Ledger;
  /** Version schemas (PostgreSQL): created at the end of expand, dropped by a later contract or by rollback. */
  readonly versionSchemas: VersionSchemaLifecycle;
  private planInspector: SchemaInspector | undefined;

  constructor(
    readonly session: Session,
    readonly migrations: Migration[],
    readonly reporter: Reporter,
    private readonly hooks: Pick<PhaseContext, 'betweenBatches'> = {},
  ) {
    this.ledger = new Ledger(session);
    this.versionSchemas = new VersionSchemaLifecycle(session, migrations, this.ledger, reporter);
  }

  private get context(): PhaseContext {
    return { session: this.session, ledger: this.ledger, reporter: this.reporter, ...this.hooks };
  }

  async status(runnerActive = false): Promise<MigrationStatus[]> {
    return describeStatuses(this.migrations, await this.ledger.all(), await this.ledger.backfills(), runnerActive, await this.ledger.baselinedIds());
  }

  /** Refuse to run anything while a phase that already ran has been edited, or an in-flight migration lost its file. */
  async checkIntegrity(rows: Map<string, LedgerRow>): Promise<void> {
    const statuses = describeStatuses(this.migrations, rows, [], false);
    for (const status of statuses) {
      if (status.drift.length > 0) {
        const migration = this.migrations.find((m) => m.id === status.id)!;
        const phase = status.drift[0]!;
        throw new RefusedError(
          `${migration.file}: the ${status.drift.join(', ')} section(s) changed after they ran (checksum mismatch); a phase that ran is never run again`,
          `restore the file as it was when it ran (git checkout), and put further changes in a new migration (tandem new NAME); or, when the edit must stay and what ran is equivalent (the old SQL no longer runs on a new server), \`tandem repair ${migration.id}\` records the file as it is now`,
          { file: migration.file, line: migration.sections[phase]?.line ?? 1 },
        );
      }
      const row = rows.get(status.id)!;
      if (!status.file && row && (row.activePhase || row.state === 'expanded' || row.state === 'backfilled')) {
        throw new RefusedError(
          `migration ${status.id} is ${status.phase} in the ledger, but its file is missing from the migrations directory`,
          `restore ${status.id}.sql so tandem can finish or roll it back`,
        );
      }
    }
  }

  async expand(): Promise<PhaseSummary> {
    return this.reconnecting('expand', (ran) => this.forward('expand', ran));
  }
  async backfill(): Promise<PhaseSummary> {
    return this.reconnecting('backfill', (ran) => this.forward('backfill', ran));
  }
  async contract(): Promise<PhaseSummary> {
    return this.reconnecting('contract', (ran) => this.forward('contract', ran));
  }

  /**
   * A connection lost outside a phase's steps (reading the ledger, between migrations) is replaced
   * like any other (the runner lock is taken again on the new one); the command then starts over
   * from the ledger, which skips what is done. Losses inside a phase are resumed by runResuming.
   */
  private async reconnecting(phase: ForwardPhase | 'rollback', command: (ran: string[]) => Promise<void>, rollbackId?: string): Promise<PhaseSummary> {
    const ran: string[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        await command(ran);
        return { phase, ran };
      } catch (error) {
        if (error instanceof ConnectionLostError || !isConnectionLost(error) || attempt > MAX_RECONNECTS) throw error;
        this.session.connection?.markLost?.();
        this.reporter.info(`the database connection was lost during ${phase}: ${(error as Error).message}; reconnecting and starting over from the ledger (${attempt} of ${MAX_RECONNECTS})`);
        if (rollbackId) {
          // Rolling back one migration that finished just before the connection went: done.
          const row = await this.ledger.get(this.findMigration(rollbackId).id);
          if (row?.state === 'rolled_back' && row.activePhase === null) return { phase, ran: ran.includes(row.id) ? ran : [...ran, row.id] };
        }
      }
    }
  }

  private async forward(phase: ForwardPhase, ran: string[]): Promise<void> {
    const rows = await this.ledger.all();
    await this.checkIntegrity(rows);
    if (phase === 'expand') {
      this.checkOrder(rows);
      await this.versionSchemas.checkNames(this.migrations.filter((m) => readiness('expand', rows.get(m.id)) === 'ready'));
    }
    for (const migration of this.migrations) {
      const row = rows.get(migration.id);
      const verdict = readiness(phase, row);
      if (verdict === 'skip') continue;
      if (verdict !== 'ready') throw new RefusedError(`${phase} refused for ${migration.id}: ${verdict.reason}`, verdict.fix, { file: migration.file });
      if (row?.activePhase === phase && !row.failed) {
        await this.ledger.addEvent({ migrationId: migration.id, phase, outcome: 'interrupted', startedAt: row.updatedAt ?? new Date(), durationMs: 0, statements: row.statementsDone, message: 'found unfinished: the runner stopped during this phase' });
      }
      await this.prepare(migration, row, phase === 'expand');
      const extras = phase === 'expand' ? this.versionSchemas.expandExtras(migration) : phase === 'contract' ? await this.versionSchemas.contractExtras(migration) : {};
      await this.runResuming(migration, phase, () => statementsOf(migration, phase), migration.sections[phase]?.checksum ?? EMPTY_CHECKSUM, extras);
      ran.push(migration.id);
      faultPoint('phase-after-complete');
    }
  }

  /**
   * Run a phase; when the connection drops, run it again from the ledger (which holds exactly what
   * committed) on the new connection, which has re-taken the runner lock or refused to continue.
   */
  private async runResuming(migration: Migration, phase: ForwardPhase | 'rollback', statements: () => Statement[], checksum: string | null, extras: PhaseExtras = {}): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const started = new Date();
      try {
        await runPhase(this.context, migration, phase, statements(), checksum, extras);
        return;
      } catch (error) {
        // Lost inside a step (ConnectionLostError) or around the steps (reading or closing the ledger).
        const lost = error instanceof ConnectionLostError ? error : isConnectionLost(error) ? new ConnectionLostError(phase, migration.id, error) : null;
        if (!lost || attempt > MAX_RECONNECTS) throw error;
        this.session.connection?.markLost?.();
        this.reporter.info(`${migration.id}: ${lost.message}; reconnecting and resuming ${phase} (${attempt} of ${MAX_RECONNECTS})`);
        const row = await this.ledger.get(migration.id);
        // The phase's completion committed just before the connection went: nothing is left to run.
        if (row && row.activePhase === null && row.state === RESULT_STATE[phase]) return;
        await this.ledger.addEvent({ migrationId: migration.id, phase, outcome: 'interrupted', startedAt: started, durationMs: Date.now() - started.getTime(), statements: row?.statementsDone ?? 0, message: lost.message });
      }
    }
  }

  /** A pending migration that sorts before one that already ran was probably merged late: running it now would reorder history. */
  private checkOrder(rows: Map<string, LedgerRow>): void {
    const ranIds = this.migrations.filter((m) => { const r = rows.get(m.id); return r && r.state !== 'pending' && r.state !== 'rolled_back'; }).map((m) => m.id);
    const latestRan = ranIds[ranIds.length - 1];
    if (!latestRan) return;
    const late = this.migrations.find((m) => compareMigrationIds(m.id, latestRan) < 0 && (!rows.get(m.id) || rows.get(m.id)!.state === 'pending') && !rows.get(m.id)?.activePhase);
    if (late) {
      throw new RefusedError(
        `${late.file} is pending but sorts before ${latestRan}, which has already run`,
        'rename it with a version later than the last migration that ran (tandem new NAME makes a fresh timestamp)',
        { file: late.file, line: 1 },
      );
    }
  }

  /** Roll back one migration, or every in-flight one (newest first). */
  async rollback(id?: string): Promise<PhaseSummary> {
    return this.reconnecting('rollback', (ran) => this.rollbackOnce(ran, id), id);
  }

  private async rollbackOnce(ran: string[], id?: string): Promise<void> {
    const rows = await this.ledger.all();
    await this.checkIntegrity(rows);
    const inFlight = this.migrations.filter((m) => isInFlight(rows.get(m.id)));
    let targets: Migration[];
    if (id) {
      const migration = this.findMigration(id);
      const row = rows.get(migration.id);
      if (row?.state === 'contracted' || (row?.activePhase === 'contract' && row.statementsDone > 0)) {
        throw new RefusedError(`rollback refused for ${migration.id}: it has been contracted, and contract dropped what the old version needed`, 'undo it with a new migration (tandem new NAME)', { file: migration.file });
      }
      if (!isInFlight(row)) throw new RefusedError(`rollback refused for ${migration.id}: it is ${row?.state ?? 'pending'}, so there is nothing to roll back`);
      const later = inFlight.filter((m) => compareMigrationIds(m.id, migration.id) > 0);
      if (later.length > 0) {
        throw new RefusedError(`rollback refused for ${migration.id}: later migration(s) ${later.map((m) => m.id).join(', ')} are still in flight`, 'roll those back first, or run `tandem rollback` without an id to roll back every in-flight migration, newest first');
      }
      targets = [migration];
    } else {
      targets = [...inFlight].reverse();
      if (targets.length === 0) this.refuseIfLatestContracted(rows);
    }

    for (const migration of targets) {
      await this.prepare(migration, rows.get(migration.id), false);
      // An expand that died right after a statement that commits on its own: count it before deciding what to undo.
      const row = rows.get(migration.id);
      if (row?.activePhase === 'expand') {
        const settled = await settleInterruptedStatement(this.context, migration, 'expand', statementsOf(migration, 'expand'), row);
        if (settled) rows.set(migration.id, settled);
      }
    }
    // Every target is checked before any runs: a refusal means nothing was rolled back.
    const plans = targets.map((migration) => {
      const row = rows.get(migration.id)!;
      if (row.state === 'backfilled' && row.activePhase === 'contract' && row.statementsDone > 0) {
        throw new RefusedError(`rollback refused for ${migration.id}: its contract already started`, `finish it with tandem contract`);
      }
      return { migration, statements: this.rollbackStatements(migration, row) };
    });
    for (const { migration, statements } of plans) {
      await this.versionSchemas.beforeRollback(migration);
      await this.runResuming(migration, 'rollback', () => statements, migration.sections.rollback?.checksum ?? null);
      ran.push(migration.id);
      faultPoint('phase-after-complete');
    }
  }

  /** `rollback` with nothing in flight must not report success when what it would undo was contracted. */
  private refuseIfLatestContracted(rows: Map<string, LedgerRow>): void {
    const latest = [...this.migrations].reverse().find((m) => { const state = rows.get(m.id)?.state; return state && state !== 'pending'; });
    if (latest && rows.get(latest.id)?.state === 'contracted') {
      throw new RefusedError(`rollback refused: no migration is in flight, and the latest one, ${latest.id}, has been contracted`, 'undo it with a new migration (tandem new NAME)', { file: latest.file });
    }
  }

  /**
   * Give a declarative migration its statements. Expand compiles the operations against the live
   * schema and keeps the result in the ledger; later phases (and a resumed expand) run exactly
   * that, so what contract or rollback does never depends on how the schema looks by then.
   */
  async prepare(migration: Migration, row: LedgerRow | undefined, compileAnew: boolean): Promise<void> {
    if (!migration.operations) return;
    // Resuming: statements ran (or one was sent when the runner died, which may have run), so the
    // schema no longer looks as it did when they were compiled; run exactly what was compiled then.
    const resumingExpand = row?.activePhase === 'expand' && (row.statementsDone > 0 || (row.startedStatement !== null && !row.failed));
    let compiled: CompiledMigration;
    if (row?.compiled && (!compileAnew || resumingExpand)) compiled = JSON.parse(row.compiled) as CompiledMigration;
    else {
      // A plan of pending migrations compiles each against the schema the earlier ones' expands will leave.
      const planning = !compileAnew && !row?.compiled;
      const inspector = planning ? (this.planInspector ??= await this.inspectorBesideInFlight()) : await this.inspectorBesideInFlight();
      compiled = await compileMigration(migration.operations, this.session, migration.id, migration.file, inspector);
      if (compileAnew) await this.ledger.saveCompiled(migration.id, migration.name, JSON.stringify(compiled));
    }
    for (const phase of PHASES) {
      const section = migration.sections[phase];
      if (section) section.statements = compiled[phase];
    }
  }

  /** A schema inspector that knows the columns in-flight migrations rename through version schema views (their new names are not in the table yet). */
  async inspectorBesideInFlight(): Promise<SchemaInspector> {
    const inspector = new SchemaInspector(this.session.db, this.session.adapter);
    for (const row of (await this.ledger.all()).values()) {
      if ((row.state !== 'expanded' && row.state !== 'backfilled') || !row.compiled) continue;
      for (const view of (JSON.parse(row.compiled) as CompiledMigration).views ?? []) {
        if (view.kind === 'renameColumn') inspector.noteInFlightRename(view.table, view.from, view.to, row.id);
      }
    }
    return inspector;
  }

  /**
   * What rollback runs: nothing when the expand that failed applied nothing; the undo of exactly the
   * statements that ran when an expand stopped part-way (MySQL); else the rollback section; else the
   * undo of the expand section, when every statement in it can be undone.
   */
  rollbackStatements(migration: Migration, row: LedgerRow): Statement[] {
    if (row.activePhase === 'rollback') return this.rollbackStatementsBefore(migration, row);
    if (row.activePhase === 'expand' && row.statementsDone === 0) return [];
    if (row.activePhase === 'expand') {
      const undo = this.invert(statementsOf(migration, 'expand').slice(0, row.statementsDone));
      if (undo) return undo;
    }
    return this.rollbackStatementsBefore(migration, row);
  }

  private rollbackStatementsBefore(migration: Migration, row: LedgerRow): Statement[] {
    if (migration.sections.rollback) return migration.sections.rollback.statements;
    const expand = statementsOf(migration, 'expand');
    const undo = this.invert(row.activePhase === 'expand' ? expand.slice(0, row.statementsDone) : expand);
    if (undo) return undo;
    const stuck = expand.find((statement) => !invertStatement(statement.sql, this.session.adapter.dialect));
    throw new RefusedError(
      `rollback refused for ${migration.id}: it has no rollback section, and tandem cannot undo "${firstLine(stuck?.sql ?? '')}" by itself`,
      'add a -- tandem:rollback section that undoes the expand section',
      { file: migration.file, line: stuck?.line ?? 1 },
    );
  }

  private invert(statements: Statement[]): Statement[] | null {
    const undo: Statement[] = [];
    for (const statement of [...statements].reverse()) {
      const inverse = invertStatement(statement.sql, this.session.adapter.dialect);
      if (!inverse) return null;
      for (const sql of inverse) undo.push({ sql, line: statement.line, column: statement.column, endLine: statement.endLine });
    }
    return undo;
  }

  /**
   * Adopt a database whose schema already holds the migrations up to `target` — applied by another
   * tool (Flyway, dbmate, …) or by hand: record each as contracted without running it, so `expand`
   * starts with the one after it. Only where tandem has run nothing yet: on top of migrations it
   * ran, it would rewrite history.
   */
  async baseline(target: string): Promise<{ baselined: string[] }> {
    const rows = await this.ledger.all();
    const ran = [...rows.values()].find((row) => row.state !== 'pending' || row.activePhase !== null);
    if (ran) {
      throw new RefusedError(
        `baseline refused: tandem has already run migrations on this database (${ran.id} is ${ran.activePhase ? `in ${ran.activePhase}` : ran.state})`,
        'baseline records the history from before tandem, so it runs only where tandem has run nothing; run the pending migrations with tandem expand instead (tandem status shows where each one is)',
      );
    }
    const key = bareVersionKey(target);
    const byVersion = key === null ? [] : this.migrations.filter((m) => versionKey(m.id) === key);
    const last = byVersion.length === 1 ? byVersion[0]! : this.findMigration(target);
    const upTo = this.migrations.slice(0, this.migrations.indexOf(last) + 1);
    const checksums = (m: Migration) => Object.fromEntries(FORWARD_PHASES.map((phase) => [phase, m.sections[phase]?.checksum ?? EMPTY_CHECKSUM])) as Record<ForwardPhase, string>;
    await this.ledger.recordBaseline(
      upTo.map((m) => ({ id: m.id, name: m.name, checksums: checksums(m) })),
      `${BASELINE_MESSAGE_PREFIX} recorded as applied without running it (tandem baseline ${last.id})`,
    );
    return { baselined: upTo.map((m) => m.id) };
  }

  /**
   * Accept an edit of a migration's sections that already ran: record their checksums as the file
   * has them now, with an event per section, without running anything. For an edit that must stay —
   * the old SQL no longer runs on a new server version, say — where what ran is equivalent; what
   * ran stays as it ran on this database.
   */
  async repair(id: string): Promise<{ repaired: ForwardPhase[] }> {
    const migration = this.findMigration(id);
    const row = await this.ledger.get(migration.id);
    const drifted = row ? (describeStatuses([migration], new Map([[migration.id, row]]), [], false)[0]?.drift ?? []) : [];
    const phases = FORWARD_PHASES.filter((phase) => drifted.includes(phase));
    if (phases.length === 0) return { repaired: [] };
    const checksums = Object.fromEntries(phases.map((phase) => [phase, migration.sections[phase]?.checksum ?? EMPTY_CHECKSUM])) as Partial<Record<ForwardPhase, string>>;
    await this.ledger.recordRepair(migration.id, checksums, 'repaired: the section was edited after it ran; its new checksum is recorded (tandem repair), and it did not run again');
    return { repaired: phases };
  }

  findMigration(id: string): Migration {
    const exact = this.migrations.find((m) => m.id === id);
    if (exact) return exact;
    const matches = this.migrations.filter((m) => m.id.startsWith(id) || m.name === id);
    if (matches.length === 1) return matches[0]!;
    throw new RefusedError(
      matches.length === 0 ? `no migration matches "${id}"` : `"${id}" matches several migrations: ${matches.map((m) => m.id).join(', ')}`,
      'give the full id shown by tandem status',
    );
  }

  checksumOf(statements: Statement[]): string {
    return checksumStatements(statements, this.session.adapter.dialect);
  }
}

function isInFlight(row: LedgerRow | undefined): boolean {
  if (!row) return false;
  if (row.state === 'expanded' || row.state === 'backfilled') return true;
  // An expand or rollback that failed or stopped part-way still has something to undo or finish.
  return row.activePhase === 'expand' || row.activePhase === 'rollback';
}

type Verdict = 'ready' | 'skip' | { reason: string; fix: string };

/** Whether a migration in this ledger state takes part in a phase command. */
function readiness(phase: ForwardPhase, row: LedgerRow | undefined): Verdict {
  const state = row?.state ?? 'pending';
  const active = row?.activePhase ?? null;
  if (active === 'rollback') return { reason: 'its rollback did not finish', fix: `finish it with \`tandem rollback ${row!.id}\`` };
  if (active && active !== phase) {
    if (phaseIndex(active) < phaseIndex(phase)) return { reason: `its ${active} did not finish${row!.failed ? ` (${row!.error ?? 'failed'})` : ' (interrupted)'}`, fix: `rerun \`tandem ${active}\`, or \`tandem rollback ${row!.id}\`` };
    return 'skip';
  }
  if (NEXT_STATE[phase].from.includes(state)) return 'ready';
  const order = ['pending', 'rolled_back', 'expanded', 'backfilled', 'contracted'];
  const needed = NEXT_STATE[phase].from[0]!;
  // Behind: refuse (contract before backfill). Ahead or never started: not this command's business.
  if (state === 'pending' || state === 'rolled_back' || order.indexOf(state) >= order.indexOf(NEXT_STATE[phase].to)) return 'skip';
  return { reason: `it is ${state}, and ${phase} needs it ${needed}`, fix: `run \`tandem ${phase === 'contract' ? 'backfill' : 'expand'}\` first` };
}

function phaseIndex(phase: string): number {
  return ['expand', 'backfill', 'contract', 'rollback'].indexOf(phase);
}

function firstLine(sql: string): string {
  const line = sql.split('\n')[0] ?? '';
  return line.length > 80 ? `${line.slice(0, 77)}...` : line;
}
