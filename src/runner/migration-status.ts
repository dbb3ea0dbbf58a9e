import { EMPTY_CHECKSUM } from '../migrations/checksum.js';
import { FORWARD_PHASES, type Migration, type Phase } from '../migrations/model.js';
import { compareMigrationIds } from '../migrations/migration-order.js';
import type { BackfillProgress, LedgerRow } from './ledger.js';

export type StatusPhase = 'pending' | 'expanded' | 'backfilled' | 'contracted' | 'rolled_back' | 'failed';

export interface MigrationStatus {
  id: string;
  name: string;
  file: string | null;
  plain: boolean;
  phase: StatusPhase;
  /** The phase running now (another runner holds the lock), failed, or interrupted by a crash. */
  activePhase: Phase | null;
  running: boolean;
  interrupted: boolean;
  error: string | null;
  errorLine: number | null;
  statementsDone: number;
  statementsTotal: number | null;
  /** pausedFor / pausedSince: why a running backfill waits before its next batch, and since when (null when it does not). */
  backfill: Array<{ table: string; rowsDone: number; rowsTotal: number | null; batches: number; done: boolean; pausedFor: string | null; pausedSince: string | null }>;
  /** Recorded as applied by tandem baseline, not run by tandem. */
  baselined: boolean;
  /** Phases that ran but whose section in the file has changed since. */
  drift: Phase[];
  /** The next command that moves this migration on. */
  next: string | null;
  appliedBy: string | null;
  updatedAt: string | null;
}

export function describeStatuses(migrations: Migration[], rows: Map<string, LedgerRow>, backfills: BackfillProgress[], runnerActive: boolean, baselined: Set<string> = new Set()): MigrationStatus[] {
  const byId = new Map(migrations.map((migration) => [migration.id, migration]));
  const ids = [...new Set([...migrations.map((m) => m.id), ...rows.keys()])].sort(compareMigrationIds);
  return ids.map((id) => describe(byId.get(id), rows.get(id), backfills.filter((b) => b.migrationId === id), runnerActive, id, baselined.has(id)));
}

function describe(migration: Migration | undefined, row: LedgerRow | undefined, backfills: BackfillProgress[], runnerActive: boolean, id: string, baselined: boolean): MigrationStatus {
  const active = row?.activePhase ?? null;
  const running = active !== null && !row!.failed && runnerActive;
  const interrupted = active !== null && !row!.failed && !runnerActive;
  const phase: StatusPhase = active !== null && !running ? 'failed' : (row?.state ?? 'pending');
  const drift: Phase[] = [];
  if (row && migration) {
    // Forward phases only: a rollback section runs again in every expand → rollback cycle, so the
    // checksum of the one that last ran is history, not a guard against rerunning it.
    for (const p of FORWARD_PHASES) {
      const recorded = row.checksums[p];
      const section = migration.sections[p];
      if (recorded && recorded !== (section?.checksum ?? EMPTY_CHECKSUM)) drift.push(p);
    }
  }
  return {
    id,
    name: migration?.name ?? row?.name ?? id,
    file: migration?.file ?? null,
    plain: migration?.plain ?? false,
    phase,
    activePhase: active,
    running,
    interrupted,
    error: row?.failed ? row.error : interrupted ? `${active} was interrupted after ${row!.statementsDone} statement(s) (the runner stopped without finishing)` : null,
    errorLine: row?.failed ? row.errorLine : null,
    statementsDone: row?.statementsDone ?? 0,
    statementsTotal: active && migration ? (migration.sections[active]?.statements.length ?? 0) : null,
    backfill: backfills.map((b) => {
      // A pause recorded by a runner that is gone is no pause: that backfill is interrupted.
      const paused = running && active === 'backfill' && !b.done && b.pausedFor ? b : null;
      return { table: b.tableName, rowsDone: b.rowsDone, rowsTotal: b.rowsTotal, batches: b.batches, done: b.done, pausedFor: paused?.pausedFor ?? null, pausedSince: paused?.pausedSince?.toISOString() ?? null };
    }),
    baselined: baselined && row?.state === 'contracted',
    drift,
    next: nextCommand(row, migration, running),
    appliedBy: row?.appliedBy ?? null,
    updatedAt: row?.updatedAt?.toISOString() ?? null,
  };
}

function nextCommand(row: LedgerRow | undefined, migration: Migration | undefined, running: boolean): string | null {
  if (running) return null;
  if (!migration) return row && (row.state === 'expanded' || row.state === 'backfilled' || row.activePhase) ? 'restore the missing migration file' : null;
  if (row?.activePhase) return row.activePhase === 'rollback' ? `tandem rollback ${row.id}` : `tandem ${row.activePhase} (or tandem rollback ${row.id})`;
  switch (row?.state ?? 'pending') {
    case 'pending':
    case 'rolled_back':
      return 'tandem expand';
    case 'expanded':
      return 'tandem backfill';
    case 'backfilled':
      return 'tandem contract';
    default:
      return null;
  }
}
