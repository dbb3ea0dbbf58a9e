import type { Knex } from 'knex';
import type { Session } from '../db/session.js';
import { stringLiteral } from '../db/raw-sql.js';
import type { ForwardPhase, Phase } from '../migrations/model.js';
import { LEDGER_VERSION, ledgerDdl, ledgerTables, ledgerUpgrades, type LedgerTables } from './ledger-schema.js';

/** How the event of a migration recorded by tandem baseline begins (status tells such migrations by it). */
export const BASELINE_MESSAGE_PREFIX = 'baselined:';

export type LedgerState = 'pending' | 'expanded' | 'backfilled' | 'contracted' | 'rolled_back';

export interface LedgerRow {
  id: string;
  name: string;
  state: LedgerState;
  /** The phase that is running, failed, or was interrupted; null when the migration rests in `state`. */
  activePhase: Phase | null;
  statementsDone: number;
  doneChecksum: string | null;
  failed: boolean;
  error: string | null;
  errorLine: number | null;
  checksums: Partial<Record<Phase, string>>;
  expandedAt: Date | null;
  backfilledAt: Date | null;
  contractedAt: Date | null;
  rolledBackAt: Date | null;
  appliedBy: string | null;
  updatedAt: Date | null;
  /** A declarative migration's statements per phase, as compiled when its expand started (JSON). */
  compiled: string | null;
  /** The statement sent outside a transaction most recently, and the schema fingerprint just before it. */
  startedStatement: number | null;
  startedFingerprint: string | null;
}

export interface BackfillProgress {
  migrationId: string;
  statementIndex: number;
  tableName: string;
  keyColumns: string[];
  lastKey: string[] | null;
  ceilingKey: string[] | null;
  pass: number;
  rowsDone: number;
  rowsTotal: number | null;
  batches: number;
  batchSize: number | null;
  done: boolean;
  /** Why the walk waits before its next batch (a pause file, a replica behind…), while it does; cleared by the next batch. */
  pausedFor?: string | null;
  pausedSince?: Date | null;
}

export interface LedgerEvent {
  migrationId: string;
  phase: Phase;
  outcome: 'succeeded' | 'failed' | 'interrupted';
  startedAt: Date;
  durationMs: number;
  statements: number;
  message?: string | null;
}

type Db = Knex | Knex.Transaction;

const toDate = (value: unknown): Date | null => (value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value).replace(' ', 'T') + (/[zZ+]/.test(String(value)) ? '' : 'Z')));
const toBool = (value: unknown): boolean => value === true || value === 1 || value === '1' || value === 't';
// MySQL DATETIME has no time zone: the ledger stores UTC there, whatever the session's time_zone.
const nowSql = (dialect: string) => (dialect === 'postgres' ? 'now()' : 'UTC_TIMESTAMP(3)');
const mysqlUtc = (date: Date) => date.toISOString().replace('T', ' ').replace('Z', '');

/** A migration resting in its state: no phase running or failed, no statement progress or error. */
const AT_REST = {
  active_phase: null,
  failed: false,
  statements_done: 0,
  done_checksum: null,
  error: null,
  error_line: null,
  started_statement: null,
  started_fingerprint: null,
} as const;

/** The ledger in the target database: reads and writes go through the runner's one session. */
export class Ledger {
  readonly tables: LedgerTables;

  constructor(private readonly session: Session) {
    this.tables = ledgerTables(session.adapter.dialect);
  }

  private table(db: Db, name: keyof Omit<LedgerTables, 'schema'>): Knex.QueryBuilder {
    const builder = db(this.tables[name]);
    return this.tables.schema ? builder.withSchema(this.tables.schema) : builder;
  }

  private now(db: Db): Knex.Raw {
    return db.raw(nowSql(this.session.adapter.dialect));
  }

  async exists(): Promise<boolean> {
    const { db, adapter } = this.session;
    const sql =
      adapter.dialect === 'postgres'
        ? `SELECT to_regclass('"tandem"."migrations"') IS NOT NULL AS present`
        : `SELECT COUNT(*) > 0 AS present FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'tandem_migrations'`;
    return toBool(adapter.rows<{ present: unknown }>(await db.raw(sql))[0]?.present);
  }

  /** Create the ledger on first use. Called only under the runner lock, so no two runners race. */
  async ensure(): Promise<void> {
    if (await this.exists()) {
      const version = await this.table(this.session.db, 'meta').where({ key: 'ledger_version' }).first().catch(() => undefined);
      if (version && Number(version.value) >= LEDGER_VERSION) return;
    }
    const { db, adapter } = this.session;
    for (const statement of ledgerDdl(adapter.dialect)) await db.raw(statement);
    const schema = adapter.dialect === 'postgres' ? `'tandem'` : 'DATABASE()';
    for (const upgrade of ledgerUpgrades(adapter.dialect)) {
      const found = await db.raw(`SELECT 1 AS present FROM information_schema.columns WHERE table_schema = ${schema} AND table_name = ? AND column_name = ?`, [upgrade.table, upgrade.column]);
      if (adapter.rows(found).length === 0) await db.raw(upgrade.sql);
    }
    await this.table(this.session.db, 'meta').insert({ key: 'ledger_version', value: String(LEDGER_VERSION) }).onConflict('key').merge();
  }

  async all(): Promise<Map<string, LedgerRow>> {
    if (!(await this.exists())) return new Map();
    const rows = await this.table(this.session.db, 'migrations').select('*');
    return new Map(rows.map((row: Record<string, unknown>) => [String(row.id), mapRow(row)]));
  }

  async get(id: string, db: Db = this.session.db): Promise<LedgerRow | undefined> {
    const row = await this.table(db, 'migrations').where({ id }).first();
    return row ? mapRow(row) : undefined;
  }

  /** Mark a phase as started; a phase resumed after a crash keeps its statement progress. */
  async startPhase(id: string, name: string, phase: Phase): Promise<LedgerRow> {
    const db = this.session.db;
    const existing = await this.get(id);
    if (!existing) {
      await this.table(db, 'migrations').insert({ id, name, state: 'pending', applied_by: this.session.actor, created_at: this.now(db) });
    }
    const resuming = existing?.activePhase === phase;
    await this.table(db, 'migrations')
      .where({ id })
      .update({
        active_phase: phase,
        failed: false,
        ...(resuming ? {} : { statements_done: 0, done_checksum: null, error: null, error_line: null, started_statement: null, started_fingerprint: null }),
        applied_by: this.session.actor,
        updated_at: this.now(db),
      });
    return (await this.get(id))!;
  }

  /** Keep a declarative migration's compiled statements, so later phases run exactly what expand planned. */
  async saveCompiled(id: string, name: string, compiled: string | null): Promise<void> {
    const db = this.session.db;
    if (!(await this.get(id))) await this.table(db, 'migrations').insert({ id, name, state: 'pending', applied_by: this.session.actor, created_at: this.now(db) });
    await this.table(db, 'migrations').where({ id }).update({ compiled, updated_at: this.now(db) });
  }

  /** Record that the first `done` statements of the active phase have run (inside the step's transaction when there is one). */
  async saveStatementProgress(db: Db, id: string, done: number, doneChecksum: string): Promise<void> {
    await this.table(db, 'migrations').where({ id }).update({ statements_done: done, done_checksum: doneChecksum, updated_at: this.now(db) });
  }

  /** Before a statement that runs outside a transaction: which one, and how the schema looked just before it. */
  async markStatementStarted(id: string, index: number, fingerprint: string): Promise<void> {
    const db = this.session.db;
    await this.table(db, 'migrations').where({ id }).update({ started_statement: index, started_fingerprint: fingerprint, updated_at: this.now(db) });
  }

  /**
   * The phase's end and its 'succeeded' event in one transaction: a connection lost between the two
   * would leave the migration in its new state with no event, and the resumed run, finding the phase
   * done, would not write it either.
   */
  async completePhase(id: string, phase: Phase, state: LedgerState, checksum: string | null, event: LedgerEvent): Promise<void> {
    const db = this.session.db;
    const stamp = { expand: 'expanded_at', backfill: 'backfilled_at', contract: 'contracted_at', rollback: 'rolled_back_at' }[phase];
    const clearOnRollback =
      phase === 'rollback'
        ? { checksum_expand: null, checksum_backfill: null, checksum_contract: null, checksum_rollback: checksum, expanded_at: null, backfilled_at: null, compiled: null }
        : { [`checksum_${phase}`]: checksum };
    await db.transaction(async (trx) => {
      await this.table(trx, 'migrations')
        .where({ id })
        .update({
          state,
          ...AT_REST,
          ...clearOnRollback,
          [stamp]: this.now(trx),
          applied_by: this.session.actor,
          updated_at: this.now(trx),
        });
      if (phase === 'rollback' || phase === 'backfill') await this.table(trx, 'backfills').where({ migration_id: id }).delete();
      await this.addEvent(event, trx);
    });
  }

  /**
   * Record migrations as applied without running them (tandem baseline), in one transaction: each
   * contracted, with the checksums of its forward sections, so a later edit of its file is refused
   * like that of any migration that ran, and an event that says it was recorded, not run.
   */
  async recordBaseline(entries: Array<{ id: string; name: string; checksums: Record<ForwardPhase, string> }>, message: string): Promise<void> {
    await this.session.db.transaction(async (trx) => {
      for (const { id, name, checksums } of entries) {
        const recorded = {
          name,
          state: 'contracted',
          ...AT_REST,
          checksum_expand: checksums.expand,
          checksum_backfill: checksums.backfill,
          checksum_contract: checksums.contract,
          expanded_at: this.now(trx),
          backfilled_at: this.now(trx),
          contracted_at: this.now(trx),
          applied_by: this.session.actor,
          updated_at: this.now(trx),
        };
        // A pending row (a phase that once started and applied nothing) takes the record too.
        if (await this.get(id, trx)) await this.table(trx, 'migrations').where({ id }).update(recorded);
        else await this.table(trx, 'migrations').insert({ id, ...recorded, created_at: this.now(trx) });
        await this.addEvent({ migrationId: id, phase: 'contract', outcome: 'succeeded', startedAt: new Date(), durationMs: 0, statements: 0, message }, trx);
      }
    });
  }

  /** Record the checksums of sections edited after they ran (tandem repair), with an event for each, in one transaction. */
  async recordRepair(id: string, checksums: Partial<Record<ForwardPhase, string>>, message: string): Promise<void> {
    await this.session.db.transaction(async (trx) => {
      const columns = Object.fromEntries(Object.entries(checksums).map(([phase, checksum]) => [`checksum_${phase}`, checksum]));
      await this.table(trx, 'migrations').where({ id }).update({ ...columns, updated_at: this.now(trx) });
      for (const phase of Object.keys(checksums) as ForwardPhase[]) {
        await this.addEvent({ migrationId: id, phase, outcome: 'succeeded', startedAt: new Date(), durationMs: 0, statements: 0, message }, trx);
      }
    });
  }

  async failPhase(id: string, error: string, line: number | null): Promise<void> {
    const db = this.session.db;
    await this.table(db, 'migrations').where({ id }).update({ failed: true, error: error.slice(0, 4000), error_line: line, updated_at: this.now(db) });
  }

  /** A phase that never started any statement leaves the migration where it was. */
  async abandonPhase(id: string): Promise<void> {
    const db = this.session.db;
    await this.table(db, 'migrations').where({ id }).update({ active_phase: null, failed: false, statements_done: 0, done_checksum: null, started_statement: null, started_fingerprint: null, updated_at: this.now(db) });
  }

  async addEvent(event: LedgerEvent, db: Db = this.session.db): Promise<void> {
    await this.table(db, 'events').insert({
      migration_id: event.migrationId,
      phase: event.phase,
      outcome: event.outcome,
      started_at: this.session.adapter.dialect === 'mysql' ? mysqlUtc(event.startedAt) : event.startedAt,
      finished_at: this.now(db),
      duration_ms: Math.round(event.durationMs),
      statements: event.statements,
      message: event.message ? event.message.slice(0, 4000) : null,
      actor: this.session.actor,
    });
  }

  async events(migrationId?: string): Promise<Array<Record<string, unknown>>> {
    if (!(await this.exists())) return [];
    const query = this.table(this.session.db, 'events').select('*').orderBy('id');
    return migrationId ? query.where({ migration_id: migrationId }) : query;
  }

  /** Migrations recorded by tandem baseline: their contract event says so. */
  async baselinedIds(): Promise<Set<string>> {
    if (!(await this.exists())) return new Set();
    const rows = await this.table(this.session.db, 'events').distinct('migration_id').where('message', 'like', `${BASELINE_MESSAGE_PREFIX}%`);
    return new Set(rows.map((row: Record<string, unknown>) => String(row.migration_id)));
  }

  async backfills(migrationId?: string): Promise<BackfillProgress[]> {
    if (!(await this.exists())) return [];
    const query = this.table(this.session.db, 'backfills').select('*').orderBy(['migration_id', 'statement_index']);
    const rows = await (migrationId ? query.where({ migration_id: migrationId }) : query);
    return rows.map(mapBackfill);
  }

  async getBackfill(db: Db, migrationId: string, statementIndex: number): Promise<BackfillProgress | undefined> {
    const row = await this.table(db, 'backfills').where({ migration_id: migrationId, statement_index: statementIndex }).first();
    return row ? mapBackfill(row) : undefined;
  }

  async saveBackfill(db: Db, progress: BackfillProgress): Promise<void> {
    const values = { ...backfillValues(progress), updated_at: this.now(db) };
    await this.table(db, 'backfills')
      .insert({ migration_id: progress.migrationId, statement_index: progress.statementIndex, started_at: this.now(db), ...values })
      .onConflict(['migration_id', 'statement_index'])
      .merge(values);
  }

  /**
   * PostgreSQL: the UPDATE that records one batch of a backfill whose progress row exists, for the
   * batch's own statement (batched-update.ts sends both in one round trip). `rowsDoneSql` is the
   * new row count as SQL, which may refer to that statement's other parts.
   */
  batchRecordSql(progress: BackfillProgress, rowsDoneSql: string): string {
    const q = (name: string) => this.session.adapter.quoteIdent(name);
    const table = `${q(this.tables.schema!)}.${q(this.tables.backfills)}`;
    const constant = (value: string | number | boolean | null) => (value === null ? 'NULL' : typeof value === 'string' ? stringLiteral(value) : String(value));
    const sets = Object.entries(backfillValues(progress)).map(([column, value]) => `${q(column)} = ${column === 'rows_done' ? rowsDoneSql : constant(value)}`);
    return `UPDATE ${table} SET ${sets.join(', ')}, ${q('updated_at')} = now() WHERE ${q('migration_id')} = ${stringLiteral(progress.migrationId)} AND ${q('statement_index')} = ${progress.statementIndex}`;
  }

  /** Record that the walk waits before its next batch, and why (the first call of a pause sets its start). */
  async markBackfillPaused(db: Db, migrationId: string, statementIndex: number, reason: string): Promise<void> {
    const since = this.session.adapter.quoteIdent('paused_since');
    await this.table(db, 'backfills')
      .where({ migration_id: migrationId, statement_index: statementIndex })
      .update({ paused_for: reason, paused_since: db.raw(`COALESCE(${since}, ${nowSql(this.session.adapter.dialect)})`) });
  }

  async setRunner(lockName: string, sessionId: string, command: string): Promise<void> {
    const values = { session_id: sessionId, holder: this.session.actor, command, since: this.now(this.session.db) };
    await this.table(this.session.db, 'runners').insert({ lock_name: lockName, ...values }).onConflict('lock_name').merge(values);
  }

  async runner(lockName: string): Promise<{ sessionId: string; holder: string; command: string; since: Date | null } | undefined> {
    if (!(await this.exists())) return undefined;
    const row = await this.table(this.session.db, 'runners').where({ lock_name: lockName }).first();
    return row ? { sessionId: String(row.session_id), holder: String(row.holder), command: String(row.command), since: toDate(row.since) } : undefined;
  }
}

/** A backfill's progress as the columns of its ledger row (without the row's key and timestamps). */
function backfillValues(progress: BackfillProgress): Record<string, string | number | boolean | null> {
  return {
    table_name: progress.tableName,
    key_columns: JSON.stringify(progress.keyColumns),
    last_key: progress.lastKey ? JSON.stringify(progress.lastKey) : null,
    ceiling_key: progress.ceilingKey ? JSON.stringify(progress.ceilingKey) : null,
    pass: progress.pass,
    rows_done: progress.rowsDone,
    rows_total: progress.rowsTotal,
    batches: progress.batches,
    batch_size: progress.batchSize,
    done: progress.done,
    // A batch ran (or the pass ended): whatever it waited for is over.
    paused_for: null,
    paused_since: null,
  };
}

function mapRow(row: Record<string, unknown>): LedgerRow {
  const checksums: Partial<Record<Phase, string>> = {};
  for (const phase of ['expand', 'backfill', 'contract', 'rollback'] as const) {
    const value = row[`checksum_${phase}`];
    if (typeof value === 'string' && value) checksums[phase] = value;
  }
  return {
    id: String(row.id),
    name: String(row.name),
    state: row.state as LedgerState,
    activePhase: (row.active_phase as Phase | null) ?? null,
    statementsDone: Number(row.statements_done ?? 0),
    doneChecksum: (row.done_checksum as string | null) ?? null,
    failed: toBool(row.failed),
    error: (row.error as string | null) ?? null,
    errorLine: row.error_line === null || row.error_line === undefined ? null : Number(row.error_line),
    checksums,
    expandedAt: toDate(row.expanded_at),
    backfilledAt: toDate(row.backfilled_at),
    contractedAt: toDate(row.contracted_at),
    rolledBackAt: toDate(row.rolled_back_at),
    appliedBy: (row.applied_by as string | null) ?? null,
    updatedAt: toDate(row.updated_at),
    compiled: (row.compiled as string | null) ?? null,
    startedStatement: row.started_statement === null || row.started_statement === undefined ? null : Number(row.started_statement),
    startedFingerprint: (row.started_fingerprint as string | null) ?? null,
  };
}

function mapBackfill(row: Record<string, unknown>): BackfillProgress {
  const parse = (value: unknown): string[] | null => (value === null || value === undefined ? null : (JSON.parse(String(value)) as string[]));
  return {
    migrationId: String(row.migration_id),
    statementIndex: Number(row.statement_index),
    tableName: String(row.table_name),
    keyColumns: parse(row.key_columns) ?? [],
    lastKey: parse(row.last_key),
    ceilingKey: parse(row.ceiling_key),
    pass: Number(row.pass),
    rowsDone: Number(row.rows_done),
    rowsTotal: row.rows_total === null || row.rows_total === undefined ? null : Number(row.rows_total),
    batches: Number(row.batches),
    batchSize: row.batch_size === null || row.batch_size === undefined ? null : Number(row.batch_size),
    done: toBool(row.done),
    pausedFor: typeof row.paused_for === 'string' ? row.paused_for : null,
    pausedSince: toDate(row.paused_since),
  };
}
