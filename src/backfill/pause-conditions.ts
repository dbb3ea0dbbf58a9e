import type { BackfillConfig } from '../config/schema.js';
import { isMariadb, type Session } from '../db/session.js';
import { PAUSE_PER_BATCH } from './redo-throttle.js';

/**
 * When a backfill on this session waits before a batch, in words, for `tandem plan`: the same
 * conditions the walker checks (redo-throttle.ts, replica-lag/, pause-file.ts, running-queries.ts).
 */
export function pauseConditions(session: Pick<Session, 'adapter' | 'target' | 'serverVersion'>, backfill: BackfillConfig): string[] {
  const embedded = session.target.driver === 'pglite';
  const conditions: string[] = [];
  if (backfill.pauseFile !== null) conditions.push(`${backfill.pauseFile} exists`);
  if (!embedded && backfill.maxReplicaLagMs !== null) {
    const limit = `over ${backfill.maxReplicaLagMs} ms behind`;
    if (backfill.replicas.length > 0) conditions.push(`one of the ${backfill.replicas.length} named ${session.adapter.dialect === 'postgres' ? 'standbys' : 'replicas'} is ${limit}`);
    else if (session.adapter.dialect === 'postgres') conditions.push(`a physical standby the primary streams to is ${limit}`);
  }
  if (!embedded && backfill.maxRunningQueries !== null) conditions.push(`more than ${backfill.maxRunningQueries} other sessions on the database run a statement`);
  if (throttlesRedo(session, backfill)) {
    conditions.push(`the InnoDB redo log is over ${backfill.redoThrottlePercent} % full (at most ${PAUSE_PER_BATCH}× the last batch's time)`);
  }
  return conditions;
}

/** MariaDB: whether the backfill's batches wait for room in the redo log (redo-throttle.ts). */
export function throttlesRedo(session: Pick<Session, 'adapter' | 'serverVersion'>, backfill: BackfillConfig): boolean {
  return session.adapter.dialect === 'mysql' && isMariadb(session) && backfill.redoThrottlePercent < 100;
}
