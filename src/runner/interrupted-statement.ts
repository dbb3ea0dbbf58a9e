import { checksumStatements } from '../migrations/checksum.js';
import type { Migration, Phase, Statement } from '../migrations/model.js';
import { normalizeStatement } from '../migrations/split-statements.js';
import { dropLeftoverOf, isConcurrentIndexBuild } from './concurrent-index.js';
import type { LedgerRow } from './ledger.js';
import type { PhaseContext } from './run-phase.js';
import { schemaFingerprint } from './schema-fingerprint.js';

/**
 * A statement that runs outside a transaction (MySQL DDL, CREATE INDEX CONCURRENTLY) commits on its
 * own; if the runner died right after it, the ledger still counts it as not done, and rerunning it
 * would fail ("Duplicate column name") or do it twice. Before such a statement the runner records
 * its index and the schema fingerprint (run-phase.ts). Here, before a rerun or a rollback uses the
 * ledger's count, that record is checked: a schema that changed since means the statement ran, so
 * it is counted as done; an unchanged one means it did not, and it runs again.
 * PostgreSQL: an INVALID index left by a build that died is dropped first, so it does not count as
 * a change (the build then runs again).
 */
export async function settleInterruptedStatement(context: PhaseContext, migration: Migration, phase: Phase, statements: readonly Statement[], row: LedgerRow | undefined): Promise<LedgerRow | undefined> {
  if (!row || row.activePhase !== phase || row.startedStatement === null || row.startedStatement !== row.statementsDone) return row;
  const index = row.startedStatement;
  const statement = statements[index];
  if (!statement || !row.startedFingerprint) return row;
  const { session, ledger, reporter } = context;
  if (session.adapter.dialect === 'postgres' && !statement.run) {
    const normalized = normalizeStatement(statement.sql, 'postgres');
    if (isConcurrentIndexBuild(normalized)) {
      const dropped = await dropLeftoverOf(session, normalized);
      if (dropped) reporter.info(`${migration.id}: dropped the INVALID index ${dropped} left by the build that was interrupted`);
    }
  }
  if ((await schemaFingerprint(session)) === row.startedFingerprint) return row;
  const done = index + 1;
  await ledger.saveStatementProgress(session.db, migration.id, done, checksumStatements(statements.slice(0, done), session.adapter.dialect));
  reporter.info(`${migration.id}: statement ${done} of the ${phase} section (${migration.file}:${statement.line}) had run when the runner stopped (the schema changed since it started); continuing after it`);
  return ledger.get(migration.id);
}
