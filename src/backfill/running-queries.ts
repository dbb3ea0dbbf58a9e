import type { Session } from '../db/session.js';
import { BatchPause, POLL_MS } from './batch-pause.js';

/**
 * Pause the backfill while the app is busy (gh-ost's --max-load, on Threads_running): while more
 * than `limit` other sessions on the migration's database are running a statement, the batches
 * wait, leaving the server to the app's own queries. Counted per database, not per server: the app
 * the migration serves, not its neighbours. tandem's own sessions (on PostgreSQL its VACUUM
 * connection, named `tandem …`) are left out. Seeing other users' sessions needs pg_read_all_stats (PostgreSQL) or
 * PROCESS (MySQL/MariaDB); without it only the user's own count. Off by default: what "busy" means
 * is the site's to say.
 */
export class RunningQueriesThrottle {
  private readonly pause: BatchPause | null;
  private lastReadAt = 0;

  constructor(
    private readonly session: Session,
    private readonly limit: number | null,
    onNotice: (message: string) => void = () => undefined,
  ) {
    this.pause = limit === null || session.target.driver === 'pglite' ? null : new BatchPause(() => this.busy(), onNotice);
  }

  /** Time spent waiting, for the progress report. */
  get waitedMs(): number {
    return this.pause?.waitedMs ?? 0;
  }

  async beforeBatch(whileWaiting: (reason: string) => void | Promise<void>): Promise<void> {
    if (!this.pause || Date.now() - this.lastReadAt < POLL_MS) return;
    await this.pause.beforeBatch(whileWaiting);
  }

  private async busy(): Promise<string | null> {
    const { adapter, db } = this.session;
    const sql =
      adapter.dialect === 'postgres'
        ? `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name NOT LIKE 'tandem%'`
        : `SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND COMMAND NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID') AND ID <> CONNECTION_ID()`;
    const running = Number(adapter.rows<{ n: unknown }>(await db.raw(sql))[0]?.n ?? 0);
    this.lastReadAt = Date.now();
    return running > this.limit! ? `${running} other sessions on this database are running a statement (backfill.maxRunningQueries is ${this.limit}); they go on once no more than that are` : null;
  }
}
