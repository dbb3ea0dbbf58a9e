import type { Knex } from 'knex';
import type { Session } from '../../db/session.js';
import { redactSecrets } from '../../db/url.js';
import { closeReplicas, openReplicas } from './replica-connections.js';
import type { LagSource, Reading } from './types.js';

/** A standby's replayed WAL position (bytes since 0/0), or null with the reason it is unknown. */
interface Position {
  replica: string;
  replayed: number | null;
  why?: string;
}

/**
 * PostgreSQL. pg_stat_replication's replay_lag is measured after the fact: it shows how late WAL was
 * replayed once the standby has replayed it, so it stays small while a standby holds WAL back (say,
 * `recovery_min_apply_delay`). So tandem keeps its own history of the primary's pg_current_wal_lsn()
 * with the time it read each, and a standby's lag is the age of the oldest position it has not
 * replayed: a lower bound, to within one reading, of how far behind it is.
 *
 * Which standbys, and where their replay position comes from: by default every physical standby the
 * primary streams to (pg_stat_replication.replay_lsn, as the standby last reported it: on each WAL it receives
 * and at least every wal_receiver_status_interval, 10 s by default, so once nothing writes, a pause
 * may outlast the lag by up to that). With replica URLs, exactly those standbys, each asked for
 * pg_last_wal_replay_lsn() itself: fresh, and it reaches cascading standbys the primary does not see.
 */
export class PostgresStandbys implements LagSource {
  private history: Array<{ at: number; lsn: number }> = [];

  private constructor(
    private readonly primary: Knex,
    /** Standbys asked directly; empty: the primary's pg_stat_replication. */
    private readonly named: Array<{ display: string; db: Knex }>,
  ) {}

  static async open(session: Session, urls: string[], onNotice: (message: string) => void): Promise<PostgresStandbys | null> {
    if (urls.length > 0) {
      const source = new PostgresStandbys(session.db, await openReplicas(urls, 'postgres', 'standby', async (db) => {
        const rows = (await db.raw('SELECT pg_is_in_recovery() AS standby')).rows as Array<{ standby: boolean }>;
        return rows[0]?.standby === true ? null : 'is not a standby (pg_is_in_recovery() is false): list standbys of the server tandem runs on';
      }));
      return source;
    }
    const source = new PostgresStandbys(session.db, []);
    // Without pg_read_all_stats (or superuser) every column but the pid is NULL.
    const rows = await source.walSenders();
    if (rows.some((row) => row.pid !== null && row.state === null)) {
      onNotice('cannot see the standbys\' progress (pg_stat_replication needs the pg_read_all_stats role or a superuser), so the backfill does not pause for replica lag: GRANT pg_read_all_stats TO the user tandem runs as, or name the standbys (--replica)');
      return null;
    }
    return source;
  }

  /**
   * The primary's WAL position, and one row per physical standby (none: a single row whose pid is
   * null). Left out: base backups, and logical decoding consumers (CDC connectors, subscriptions),
   * which no app reads from or fails over to, and which often lag by design: a Debezium connector
   * that batches must not hold every deploy's backfill.
   */
  private async walSenders(): Promise<Array<{ current: number; pid: number | null; name: string | null; state: string | null; replayed: number | null }>> {
    const result = await this.primary.raw(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS current, r.pid,
  coalesce(nullif(r.application_name, ''), host(r.client_addr), 'pid ' || r.pid) AS name, r.state,
  pg_wal_lsn_diff(r.replay_lsn, '0/0')::float8 AS replayed
FROM (SELECT 1) AS one
LEFT JOIN (pg_stat_replication AS r LEFT JOIN pg_replication_slots AS s ON s.active_pid = r.pid)
  ON r.state IS DISTINCT FROM 'backup' AND s.slot_type IS DISTINCT FROM 'logical'`);
    return (result.rows as Array<{ current: unknown; pid: number | null; name: string | null; state: string | null; replayed: unknown }>).map((row) => ({
      current: Number(row.current),
      pid: row.pid,
      name: row.name,
      state: row.state,
      replayed: row.replayed === null ? null : Number(row.replayed),
    }));
  }

  /** The primary's WAL position now, and each standby's replayed position. */
  private async positions(): Promise<{ current: number; standbys: Position[] }> {
    if (this.named.length === 0) {
      const rows = await this.walSenders();
      const standbys = rows
        .filter((row) => row.pid !== null)
        .map((row): Position => ({ replica: `standby ${row.name}`, replayed: row.replayed, ...(row.replayed === null ? { why: `(${row.state}) has not reported what it replayed` } : {}) }));
      return { current: rows[0]?.current ?? 0, standbys };
    }
    const current = Number(((await this.primary.raw(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS lsn`)).rows as Array<{ lsn: unknown }>)[0]?.lsn ?? 0);
    const standbys = await Promise.all(
      this.named.map(async ({ display, db }): Promise<Position> => {
        try {
          const rows = (await db.raw(`SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::float8 AS replayed`)).rows as Array<{ replayed: unknown }>;
          const replayed = rows[0]?.replayed ?? null;
          return replayed === null ? { replica: display, replayed: null, why: 'is not replaying (pg_last_wal_replay_lsn() is NULL: promoted, or not a standby)' } : { replica: display, replayed: Number(replayed) };
        } catch (error) {
          return { replica: display, replayed: null, why: `cannot be read (${redactSecrets((error as Error).message).slice(0, 200)})` };
        }
      }),
    );
    return { current, standbys };
  }

  async read(): Promise<Reading[]> {
    const { current, standbys } = await this.positions();
    const now = Date.now();
    if (this.history.at(-1)?.lsn !== current) this.history.push({ at: now, lsn: current });
    const readings = standbys.map((standby): Reading => {
      if (standby.replayed === null) return { replica: standby.replica, lagMs: null, why: standby.why ?? 'cannot tell its lag' };
      const oldestMissing = this.history.find((entry) => entry.lsn > standby.replayed!);
      return { replica: standby.replica, lagMs: oldestMissing ? now - oldestMissing.at : 0 };
    });
    // Keep what a standby may still need: entries past the least replayed position, and the newest.
    const least = Math.min(...standbys.map((standby) => standby.replayed ?? 0), current);
    const firstNeeded = this.history.findIndex((entry) => entry.lsn > least);
    this.history = this.history.slice(firstNeeded === -1 ? this.history.length - 1 : firstNeeded);
    return readings;
  }

  async close(): Promise<void> {
    await closeReplicas(this.named);
  }
}
