import { runBatchedUpdate } from '../backfill/batched-update.js';
import { blockingLockTimeout } from '../config/schema.js';
import { parseBatchable, type BatchableUpdate } from '../backfill/parse-update.js';
import { literalSql } from '../db/raw-sql.js';
import { isMariadb, type Session } from '../db/session.js';
import { PhaseFailedError, RefusedError } from '../errors/tandem-error.js';
import { redactSecrets } from '../db/url.js';
import { checksumStatements } from '../migrations/checksum.js';
import type { Migration, Phase, Statement } from '../migrations/model.js';
import { normalizeStatement } from '../migrations/split-statements.js';
import type { Knex } from 'knex';
import type { DialectAdapter } from '../db/dialect-adapter.js';
import { dropLeftoverOf, dropNewInvalid, invalidIndexes, isConcurrentIndexBuild } from './concurrent-index.js';
import type { Ledger, LedgerState } from './ledger.js';
import { withLockRetry } from './lock-retry.js';
import { HeldByLongTransactionError, LockWatch } from './lock-watch.js';
import { endOrWaitFix, lockRetriesExhausted, openTransactions } from './open-transactions.js';
import type { Reporter } from './reporter.js';
import { isConnectionLost } from '../db/connect.js';
import { mariadbNowait, retryNowaitConflicts } from '../db/dialects/mysql.js';
import { faultPoint } from './fault-points.js';
import { settleInterruptedStatement } from './interrupted-statement.js';
import { schemaFingerprint } from './schema-fingerprint.js';
import { waitForRedoRoom } from './redo-room.js';

/**
 * The connection dropped during a phase (server restart, pg_terminate_backend, KILL). Nothing is
 * marked failed: the ledger holds exactly what committed, and the runner resumes from it once the
 * pool has reconnected and the runner lock is held again (see Runner.runResuming).
 */
export class ConnectionLostError extends Error {
  constructor(readonly phase: Phase, readonly migrationId: string, cause: unknown) {
    super(`the database connection was lost during ${phase} of ${migrationId}: ${redactSecrets((cause as Error)?.message ?? String(cause))}`, { cause });
    this.name = 'ConnectionLostError';
  }
}

/** How a phase's statements are grouped for execution. */
export type Step =
  | { kind: 'transaction'; from: number; to: number } // statements [from, to) in one transaction (PostgreSQL)
  | { kind: 'single'; index: number } // one statement, autocommit (MySQL DDL, or PostgreSQL outside a transaction)
  | { kind: 'batched'; index: number; update: BatchableUpdate }; // a backfill UPDATE (or INSERT … SELECT) in keyset batches

export interface PhaseContext {
  session: Session;
  ledger: Ledger;
  reporter: Reporter;
  /** Awaited between backfill batches (the demo's simulated app traffic). */
  betweenBatches?: () => Promise<void>;
}

/**
 * VALIDATE CONSTRAINT scans the table under a SHARE UPDATE EXCLUSIVE lock, so reads and writes go on.
 * Grouped with an earlier ALTER TABLE (the ADD CONSTRAINT … NOT VALID before it) it would scan while
 * holding that statement's ACCESS EXCLUSIVE lock, which is what NOT VALID + VALIDATE exists to avoid.
 * So it starts a new transaction, and the statements after it (SET NOT NULL, a swap) join that one:
 * they lock after the scan. Each commit that changes the table's catalog makes every app connection
 * re-plan its statements on the table, all at once; one commit for the scan and what follows keeps
 * that to once (measured: committing VALIDATE on its own raised two contracts' p99 by 6 and 18 ms). The
 * price: a lock timeout of a later statement rolls the scan back, and its retry scans again.
 */
const VALIDATE_CONSTRAINT = /^alter table\b.*\bvalidate constraint\b/i;

/**
 * What the runner adds around a phase's own statements (version schemas, src/version-schemas/).
 * Both run where a failure fails the phase, and again on a rerun, so they must be idempotent.
 */
export interface PhaseExtras {
  /** After the last statement, before the phase is recorded complete. */
  finish?: () => Promise<void>;
  /** Inside each transaction step, before its statements; returns what runs after them, in the same transaction. */
  aroundTransaction?: (trx: Knex.Transaction) => Promise<() => Promise<void>>;
}

const RESULT_STATE: Record<Phase, LedgerState> = { expand: 'expanded', backfill: 'backfilled', contract: 'contracted', rollback: 'rolled_back' };

/**
 * Plan the steps of a phase. PostgreSQL groups consecutive statements into one transaction, so a
 * failure leaves nothing behind; a statement that cannot run in a transaction stands alone, and
 * VALIDATE CONSTRAINT starts a new transaction (see VALIDATE_CONSTRAINT). MySQL commits around
 * every DDL statement anyway, so each statement is its own step and the ledger records each one as
 * it completes.
 */
export function planSteps(session: Session, statements: readonly Statement[], phase: Phase, startAt = 0): Step[] {
  const { adapter } = session;
  const steps: Step[] = [];
  for (let index = startAt; index < statements.length; index++) {
    const normalized = normalizeStatement(statements[index]!.sql, adapter.dialect);
    const update = phase === 'backfill' ? parseBatchable(normalized, adapter.dialect) : null;
    if (update?.batchable) {
      steps.push({ kind: 'batched', index, update });
      continue;
    }
    const last = steps[steps.length - 1];
    if (adapter.transactionalDdl && !adapter.mustRunOutsideTransaction(normalized)) {
      if (last?.kind === 'transaction' && last.to === index && !VALIDATE_CONSTRAINT.test(normalized)) last.to = index + 1;
      else steps.push({ kind: 'transaction', from: index, to: index + 1 });
    } else steps.push({ kind: 'single', index });
  }
  return steps;
}

function isValidate(statement: Statement, dialect: DialectAdapter['dialect']): boolean {
  return !statement.run && VALIDATE_CONSTRAINT.test(normalizeStatement(statement.sql, dialect));
}

/** Run one phase of one migration and record it in the ledger. Throws PhaseFailedError when a statement fails. */
export async function runPhase(context: PhaseContext, migration: Migration, phase: Phase, statements: readonly Statement[], sectionChecksum: string | null, extras: PhaseExtras = {}): Promise<void> {
  const { session, ledger, reporter } = context;
  const { adapter } = session;
  const dialect = adapter.dialect;
  const existing = await settleInterruptedStatement(context, migration, phase, statements, await ledger.get(migration.id));
  const resuming = existing?.activePhase === phase ? existing.statementsDone : 0;
  if (resuming > 0) {
    const prefix = checksumStatements(statements.slice(0, resuming), dialect);
    if (prefix !== existing!.doneChecksum) {
      throw new RefusedError(
        `${migration.file}: the first ${resuming} statement(s) of the ${phase} section already ran, and they were edited since`,
        `restore those statements as they ran (git history), then rerun; or run \`tandem rollback ${migration.id}\``,
        { file: migration.file, line: statements[0]?.line ?? 1 },
      );
    }
    reporter.info(`${migration.id}: resuming ${phase} after statement ${resuming} of ${statements.length}`);
  }

  await ledger.startPhase(migration.id, migration.name, phase);
  const started = new Date();
  const steps = planSteps(session, statements, phase, resuming);
  reporter.phaseStarted(migration.id, phase, `${statements.length} statement(s)`);
  let done = resuming;
  let current: Statement | undefined;
  let inTransaction = false;
  // Since when the current step has met a lock it could not get (its first retry), or began: a
  // transaction open since then may be what it waited for, should its retries run out.
  let conflictSince = Date.now();
  // PostgreSQL: a step queued behind a long transaction stops holding up the app (lock-watch.ts).
  const lockWatch = LockWatch.applies(session) ? new LockWatch(session) : null;
  // Only a step that queues the app behind it while it waits is watched (lock-watch.ts).
  const watched = (step: Step): boolean =>
    step.kind === 'transaction' && statements.slice(step.from, step.to).some((statement) => statement.run !== undefined || adapter.queuesTrafficWhileWaiting?.(normalizeStatement(statement.sql, dialect)));
  if (steps.some(watched)) lockWatch?.warmUp();
  try {
    for (const step of steps) {
      const first = step.kind === 'transaction' ? step.from : step.index;
      current = statements[first];
      inTransaction = step.kind === 'transaction';
      const where = `${migration.file}:${current?.line ?? '?'}`;
      conflictSince = Date.now();
      const onRetry = (notice: Parameters<Reporter['retry']>[2]) => {
        if (notice.attempt === 1) conflictSince = Date.now();
        return reporter.retry(migration.id, where, notice);
      };
      faultPoint('step-before');

      if (step.kind === 'batched') {
        await runBatchedUpdate({
          session,
          ledger,
          migrationId: migration.id,
          statementIndex: step.index,
          update: step.update,
          backfill: session.config.backfill,
          retries: session.config.retries,
          onProgress: (snapshot) => reporter.progress(snapshot),
          onRetry,
          onNotice: (message) => reporter.warn(`${migration.id}: ${message}`),
          ...(context.betweenBatches ? { betweenBatches: context.betweenBatches } : {}),
        });
        done = step.index + 1;
        await ledger.saveStatementProgress(session.db, migration.id, done, checksumStatements(statements.slice(0, done), dialect));
      } else if (step.kind === 'transaction') {
        const lockTimeoutMs = blockingLockTimeout(session.config);
        const stepWatch = watched(step) ? lockWatch : null;
        const runTransaction = (combine: boolean) => withLockRetry(
          adapter,
          session.config.retries,
          () =>
            session.db.transaction(async (trx) => {
              // Before the step takes any lock: the watch needs to know which backend to look at.
              const pid = stepWatch ? await stepWatch.backendPid(trx) : 0;
              const runStep = async (): Promise<void> => {
                const sender = new StepStatements(session, combine, {
                  // The statement about to be sent (the first of several): what a failure names.
                  sending: (index) => (current = statements[index]),
                  ran: () => faultPoint('step-in-transaction'),
                });
                await sender.apply(trx, adapter.transactionSetup(session.config));
                // Server PostgreSQL: the commit does not wait for the WAL flush, so the table locks taken
                // by the step are let go without a disk wait. A server crash may take back the step and its
                // progress record together (the rerun runs it again); the phase's completion record, a
                // synchronous commit, flushes the WAL before tandem reports the phase done.
                if (session.target.driver === 'pg') await sender.apply(trx, ['SET LOCAL synchronous_commit = off']);
                // Recorded first: it commits with the statements or not at all, and the statements' table
                // locks are then held one round trip less.
                await ledger.saveStatementProgress(trx, migration.id, step.to, checksumStatements(statements.slice(0, step.to), dialect));
                // Version schemas' views go away just before the first statement that may drop a column:
                // after a VALIDATE, so the new app does not wait on its views for the whole scan.
                let after: (() => Promise<void>) | undefined;
                let aroundDone = false;
                for (let index = step.from; index < step.to; index++) {
                  const statement = statements[index]!;
                  const validate = isValidate(statement, dialect);
                  // Only VALIDATEs come before it, each sent on its own: nothing waits to be sent here.
                  if (!aroundDone && !validate) {
                    after = await extras.aroundTransaction?.(trx);
                    aroundDone = true;
                  }
                  const setup = statement.run ? [] : (adapter.statementSetup?.(normalizeStatement(statement.sql, dialect), session.config) ?? []);
                  // A VALIDATE scans the table: sent alone, so a failure is never paid twice (below).
                  if (validate) await sender.flush(trx);
                  await sender.executeWith(trx, setup, statement, index);
                  if (validate) await sender.flush(trx);
                }
                await sender.flush(trx);
                await after?.();
              };
              await (stepWatch ? stepWatch.watch(pid, lockTimeoutMs, runStep) : runStep());
            }),
          onRetry,
          Math.random,
          stepWatch ? (error, maxMs) => stepWatch.waitUntilEnded((error as HeldByLongTransactionError).holders, maxMs) : undefined,
        );
        try {
          await runTransaction(session.target.driver === 'pg');
        } catch (error) {
          if (!(error instanceof CombinedStatementsError)) throw error;
          // PostgreSQL does not say which statement of a combined query failed: the rolled-back step
          // runs again one statement per round trip, so a failure names its own statement and line.
          await runTransaction(false);
        }
        done = step.to;
      } else {
        const statement = statements[step.index]!;
        const checksum = checksumStatements(statements.slice(0, step.index + 1), dialect);
        if (statement.run) {
          // A phase function on MySQL (code: it may write data, change the schema, or both) runs
          // outside a transaction as before; after a crash it runs again, so it must be safe to rerun.
          await withLockRetry(adapter, session.config.retries, () => execute(session.db, adapter, statement), onRetry);
          faultPoint('step-after-statement');
          await ledger.saveStatementProgress(session.db, migration.id, step.index + 1, checksum);
        } else if (dialect === 'mysql' && isDml(statement, dialect)) {
          // DML commits together with its ledger record: a crash leaves both or neither.
          await withLockRetry(adapter, session.config.retries, () =>
            session.db.transaction(async (trx) => {
              await execute(trx, adapter, statement);
              faultPoint('step-after-statement');
              await ledger.saveStatementProgress(trx, migration.id, step.index + 1, checksum);
            }),
            onRetry,
          );
        } else {
          // DDL commits on its own: record which statement is under way and how the schema looked, so a
          // rerun after a crash can tell whether it ran (interrupted-statement.ts).
          // MariaDB: a table rewrite first waits for room in the redo log (redo-room.ts); before the
          // statement is marked started, so a crash while it waits leaves nothing to settle.
          await waitForRedoRoom(session, statement.sql, (message) => reporter.warn(`${migration.id}: ${message}`));
          await ledger.markStatementStarted(migration.id, step.index, await schemaFingerprint(session));
          await withLockRetry(adapter, session.config.retries, () => runSingle(session, statement), onRetry);
          faultPoint('step-after-statement');
          await ledger.saveStatementProgress(session.db, migration.id, step.index + 1, checksum);
        }
        done = step.index + 1;
      }
      faultPoint('step-after-commit');
    }
    if (extras.finish) {
      current = undefined;
      inTransaction = true;
      await extras.finish();
    }
  } catch (error) {
    if (isConnectionLost(error)) throw new ConnectionLostError(phase, migration.id, error);
    // The connection was replaced but another runner holds the lock now: stop without touching the ledger.
    if (error instanceof RefusedError) throw error;
    // PostgreSQL puts the offending values in `detail` ("Key (email)=(a@b) is duplicated.").
    const detail = (error as { detail?: string }).detail;
    const reason = redactSecrets(`${(error as Error).message ?? String(error)}${detail ? ` (${detail})` : ''}`);
    const line = current?.line ?? null;
    const code = adapter.errorCode(error);
    const atomic = adapter.transactionalDdl;
    const applied = done === 0 ? 'nothing of it was applied' : `${done} of ${statements.length} statement(s) were applied and recorded`;
    // Out of lock retries (the lock watch's own error already names the holder): who may hold the lock.
    const lockedOut =
      adapter.isLockConflict(error) && !(error instanceof HeldByLongTransactionError)
        ? lockRetriesExhausted(await openTransactions(session, Date.now() - conflictSince), dialect, phase, session.config.retries.count + 1)
        : null;
    const message = `${phase} of ${migration.id} failed at ${migration.file}:${line ?? '?'}: ${reason}${code ? ` [${code}]` : ''}${lockedOut ? `: ${lockedOut.message}` : ''}`;
    await ledger.failPhase(migration.id, message, line).catch(() => undefined);
    await ledger.addEvent({ migrationId: migration.id, phase, outcome: 'failed', startedAt: started, durationMs: Date.now() - started.getTime(), statements: done - resuming, message }).catch(() => undefined);
    reporter.phaseFinished(migration.id, phase, 'failed', Date.now() - started.getTime(), message);
    throw new PhaseFailedError(`${message}\n  ${applied}${atomic && inTransaction ? ' (the failed step\'s transaction was rolled back)' : ''}.`, {
      place: { file: migration.file, ...(line ? { line } : {}) },
      fix:
        error instanceof HeldByLongTransactionError
          ? `${endOrWaitFix(error.holders.map((holder) => holder.pid), dialect, phase)}; more time per retry: retries.maxDelayMs`
          : lockedOut
            ? lockedOut.fix
            : `fix the statement and rerun \`tandem ${phase}\` (it continues after the ${done} recorded statement(s))${phase === 'rollback' || phase === 'contract' ? '' : `, or run \`tandem rollback ${migration.id}\``}`,
      cause: error,
    });
  } finally {
    await lockWatch?.close();
  }

  const durationMs = Date.now() - started.getTime();
  await ledger.completePhase(migration.id, phase, RESULT_STATE[phase], sectionChecksum, { migrationId: migration.id, phase, outcome: 'succeeded', startedAt: started, durationMs, statements: done - resuming });
  reporter.phaseFinished(migration.id, phase, 'succeeded', durationMs, `${statements.length} statement(s)`);
}

/**
 * Run one statement: SQL as written, a query that must come back empty (an operation's check), or
 * a TypeScript phase function given the connection (or transaction) it runs in.
 */
async function execute(db: Knex | Knex.Transaction, adapter: DialectAdapter, statement: Statement): Promise<void> {
  if (statement.run) return statement.run(db);
  const result = await db.raw(literalSql(statement.sql, adapter.dialect));
  if (statement.assertEmpty !== undefined && adapter.rows(result).length > 0) throw new Error(statement.assertEmpty);
}

/** A statement outside any transaction; a concurrent index build cleans up after itself when it fails. */
async function runSingle(session: Session, statement: Statement): Promise<void> {
  const normalized = normalizeStatement(statement.sql, session.adapter.dialect);
  if (session.adapter.dialect !== 'postgres' || !isConcurrentIndexBuild(normalized)) {
    // MariaDB: brief exclusive-lock DDL runs NOWAIT (retried on 1205) rather than queueing traffic behind it.
    const nowait = session.adapter.dialect === 'mysql' && !statement.run && isMariadb(session) ? mariadbNowait(statement.sql) : statement.sql;
    if (nowait === statement.sql) await execute(session.db, session.adapter, statement);
    else await retryNowaitConflicts(() => execute(session.db, session.adapter, { ...statement, sql: nowait }), (error) => session.adapter.isLockConflict(error));
    return;
  }
  await dropLeftoverOf(session, normalized);
  const before = await invalidIndexes(session);
  try {
    faultPoint('index-build', 50); // test-only: the process dies 50 ms into the build
    await session.db.raw(literalSql(statement.sql));
  } catch (error) {
    await dropNewInvalid(session, before).catch(() => undefined);
    throw error;
  }
}

/** A combined query of several statements failed; which one, PostgreSQL does not say. */
class CombinedStatementsError extends Error {
  constructor(readonly original: unknown) {
    super(`one of several statements sent together failed: ${(original as Error)?.message ?? String(original)}`);
    this.name = 'CombinedStatementsError';
  }
}

/**
 * The statements of one transaction step, with their SET LOCALs (each sent only when it changes a
 * value). Every round trip after a DDL's lock lengthens the time app queries wait behind it: on
 * 2 cores serving the benchmark's 1,000 requests/s each one took 0.4–2 ms, and a type change's
 * swap held ACCESS EXCLUSIVE for six of them. So on node-pg (`combine`) plain SQL statements wait
 * here and go to the server together, as one multi-statement simple query, when something else
 * must run (a phase function, a check whose rows are read, tandem's own work on the transaction)
 * or the step ends. A failure of such a query rolls back the step, and it is run again without
 * combining, so the error names its statement.
 */
class StepStatements {
  private readonly current = new Map<string, string>();
  /** Statements (SQL with its settings, and the statement's index) not sent yet. */
  private waiting: Array<{ sql: string; index: number }> = [];
  constructor(
    private readonly session: Session,
    private readonly combine: boolean,
    /** `sending`: the index of the (first) statement about to be sent; `ran`: once per statement that ran. */
    private readonly hooks: { sending(index: number): void; ran(): void },
  ) {}

  private changed(setup: readonly string[]): string[] {
    return setup.filter((sql) => {
      const name = /^set\s+local\s+(\S+)/i.exec(sql)?.[1]?.toLowerCase() ?? sql;
      if (this.current.get(name) === sql) return false;
      this.current.set(name, sql);
      return true;
    });
  }

  async apply(trx: Knex.Transaction, setup: readonly string[]): Promise<void> {
    for (const sql of this.changed(setup)) await trx.raw(sql);
  }

  /** Run the statement (index `index` of the phase) with its settings, or keep it for the next flush. */
  async executeWith(trx: Knex.Transaction, setup: readonly string[], statement: Statement, index: number): Promise<void> {
    const plain = this.session.target.driver === 'pg' && !statement.run && statement.assertEmpty === undefined;
    if (plain && this.combine) {
      this.waiting.push({ sql: joinStatements([...this.changed(setup), literalSql(statement.sql, this.session.adapter.dialect)]), index });
      return;
    }
    await this.flush(trx);
    const pending = this.changed(setup);
    this.hooks.sending(index);
    if (plain && pending.length > 0) {
      await trx.raw(joinStatements([...pending, literalSql(statement.sql, this.session.adapter.dialect)]));
    } else {
      for (const sql of pending) await trx.raw(sql);
      await execute(trx, this.session.adapter, statement);
    }
    this.hooks.ran();
  }

  /** Send the statements kept so far, as one query. */
  async flush(trx: Knex.Transaction): Promise<void> {
    const batch = this.waiting;
    this.waiting = [];
    if (batch.length === 0) return;
    this.hooks.sending(batch[0]!.index);
    try {
      await trx.raw(joinStatements(batch.map((entry) => entry.sql)));
    } catch (error) {
      // One statement alone names itself; a lock conflict is retried as it is (withLockRetry).
      if (batch.length === 1 || this.session.adapter.isLockConflict(error) || isConnectionLost(error)) throw error;
      throw new CombinedStatementsError(error);
    }
    for (const _ of batch) this.hooks.ran();
  }
}

/** One query of several statements; the semicolon on a line of its own, past a statement's trailing `--` comment. */
function joinStatements(statements: readonly string[]): string {
  return statements.join('\n;\n');
}

/** Data statements, which MySQL can commit in one transaction with their ledger record. */
function isDml(statement: Statement, dialect: DialectAdapter['dialect']): boolean {
  if (statement.assertEmpty !== undefined) return true;
  return /^(insert|update|delete|replace|select|with)\b/i.test(normalizeStatement(statement.sql, dialect));
}
