import type { Knex } from 'knex';
import { createKnex } from '../db/connect.js';
import type { Session } from '../db/session.js';
import { parseConnectionUrl, redactSecrets } from '../db/url.js';
import { BatchPause, POLL_MS } from './batch-pause.js';

export interface ReplicaLagConfig {
  /** Pause batches while a replica is further behind than this; null: never. */
  maxReplicaLagMs: number | null;
  /** MySQL/MariaDB: replica connection URLs to watch (a source cannot see its replicas' lag). */
  replicas: string[];
}

/** One replica's state as read: its lag in ms, or null when it cannot be known (replication stopped, unreachable). */
interface Reading {
  replica: string;
  lagMs: number | null;
  /** Why the lag is unknown, for the notice. */
  why?: string;
}

interface LagSource {
  read(): Promise<Reading[]>;
  close(): Promise<void>;
}

/**
 * Pause the backfill while a replica falls behind. A backfill writes far faster than the app, and
 * every row it updates must be replayed on each replica: unchecked, a replica the app reads from (or
 * fails over to) falls seconds or minutes behind. gh-ost and pt-online-schema-change throttle on
 * replica lag for the same reason. Before each batch the throttle reads each replica's lag and waits
 * while any is over `maxReplicaLagMs`, however long that takes; the progress line and a notice say
 * so, and the batches go on once every replica is within the limit.
 *
 * PostgreSQL: every streaming standby and logical subscriber is read on the primary itself
 * (pg_stat_replication; see PostgresStandbys). MySQL/MariaDB: the source does not know its replicas'
 * lag, so each replica in `replicas` is asked (SHOW REPLICA STATUS). PGlite has no replicas.
 */
export class ReplicaLagThrottle {
  private source: LagSource | null = null;
  private started = false;
  private lastReadAt = 0;
  private readonly pause: BatchPause;

  constructor(
    private readonly session: Session,
    private readonly config: ReplicaLagConfig,
    private readonly onNotice: (message: string) => void = () => undefined,
  ) {
    this.pause = new BatchPause(() => this.behind(), onNotice);
  }

  /** Time spent waiting, for the progress report. */
  get waitedMs(): number {
    return this.pause.waitedMs;
  }

  /** Wait until every replica is within the limit. `whileWaiting` runs about once a second during a pause (progress). */
  async beforeBatch(whileWaiting: () => void = () => undefined): Promise<void> {
    if (!this.started) await this.start();
    if (!this.source || Date.now() - this.lastReadAt < POLL_MS) return;
    await this.pause.beforeBatch(whileWaiting);
  }

  /** Why to wait: the replicas over the limit; null when none is. */
  private async behind(): Promise<string | null> {
    const limit = this.config.maxReplicaLagMs!;
    const behind = (await this.source!.read()).filter((r) => r.lagMs === null || r.lagMs > limit);
    this.lastReadAt = Date.now();
    if (behind.length === 0) return null;
    return `pausing batches while ${behind.map(describe).join('; ')} (backfill.maxReplicaLagMs is ${limit}); they go on once every replica is within it`;
  }

  async close(): Promise<void> {
    await this.source?.close();
    this.source = null;
  }

  private async start(): Promise<void> {
    this.started = true;
    const { session, config } = this;
    if (config.maxReplicaLagMs === null) return;
    if (session.target.driver === 'pglite') return;
    if (session.adapter.dialect === 'postgres') {
      if (config.replicas.length > 0) {
        throw new Error(`replica URLs are for MySQL/MariaDB: on PostgreSQL tandem reads every standby's progress on the primary (pg_stat_replication); remove them (${WHERE})`);
      }
      this.source = await PostgresStandbys.open(session, this.onNotice);
      return;
    }
    if (config.replicas.length === 0) {
      const unwatched = await registeredReplicas(session.db);
      if (unwatched.length > 0) {
        this.onNotice(`this server has replicas (${unwatched.join(', ')}) whose lag tandem cannot see from here; give their URLs (--replica, TANDEM_REPLICA_URLS or backfill.replicas) so the backfill pauses while they fall behind`);
      }
      return;
    }
    this.source = await MysqlReplicas.open(config.replicas);
  }
}

function describe(reading: Reading): string {
  if (reading.lagMs === null) return `${reading.replica} ${reading.why ?? 'cannot tell its lag'}`;
  return `${reading.replica} is ${(reading.lagMs / 1000).toFixed(1)} s behind`;
}

/**
 * PostgreSQL, on the primary. pg_stat_replication's replay_lag is measured after the fact: it shows
 * how late WAL was replayed once the standby has replayed it, so it stays small while a standby
 * holds WAL back (say, `recovery_min_apply_delay`). So tandem keeps its own history of
 * pg_current_wal_lsn() with the time it read each, and a standby's lag is the age of the oldest WAL
 * position it has not replayed (replay_lsn, as the standby last reported it). That is a lower bound,
 * to within one reading, of how far behind it is. A standby reports on each WAL it receives and at
 * least every wal_receiver_status_interval (10 s by default), so once the app writes nothing, a
 * pause may outlast the lag by up to that interval.
 */
class PostgresStandbys implements LagSource {
  private history: Array<{ at: number; lsn: number }> = [];

  private constructor(private readonly db: Knex) {}

  static async open(session: Session, onNotice: (message: string) => void): Promise<PostgresStandbys | null> {
    const source = new PostgresStandbys(session.db);
    // Without pg_read_all_stats (or superuser) every column but the pid is NULL.
    const rows = await source.query();
    if (rows.some((row) => row.pid !== null && row.state === null)) {
      onNotice('cannot see the standbys\' progress (pg_stat_replication needs the pg_read_all_stats role or a superuser), so the backfill does not pause for replica lag: GRANT pg_read_all_stats TO the user tandem runs as');
      return null;
    }
    return source;
  }

  /** The primary's WAL position, and one row per standby (none: a single row whose pid is null). */
  private async query(): Promise<Array<{ current: number; pid: number | null; name: string | null; state: string | null; replayed: number | null }>> {
    const result = await this.db.raw(`SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS current, r.pid,
  coalesce(nullif(r.application_name, ''), host(r.client_addr), 'pid ' || r.pid) AS name, r.state,
  pg_wal_lsn_diff(r.replay_lsn, '0/0')::float8 AS replayed
FROM (SELECT 1) AS one LEFT JOIN pg_stat_replication AS r ON r.state IS DISTINCT FROM 'backup'`);
    return (result.rows as Array<{ current: unknown; pid: number | null; name: string | null; state: string | null; replayed: unknown }>).map((row) => ({
      current: Number(row.current),
      pid: row.pid,
      name: row.name,
      state: row.state,
      replayed: row.replayed === null ? null : Number(row.replayed),
    }));
  }

  async read(): Promise<Reading[]> {
    const rows = await this.query();
    const now = Date.now();
    const current = rows[0]?.current ?? 0;
    if (this.history.at(-1)?.lsn !== current) this.history.push({ at: now, lsn: current });
    const standbys = rows.filter((row) => row.pid !== null);
    const readings = standbys.map((row): Reading => {
      if (row.replayed === null) return { replica: `standby ${row.name}`, lagMs: null, why: `(${row.state}) has not reported what it replayed` };
      const oldestMissing = this.history.find((entry) => entry.lsn > row.replayed!);
      return { replica: `standby ${row.name}`, lagMs: oldestMissing ? now - oldestMissing.at : 0 };
    });
    // Keep what a standby may still need: entries past the least replayed position, and the newest.
    const least = Math.min(...standbys.map((row) => row.replayed ?? 0), current);
    const firstNeeded = this.history.findIndex((entry) => entry.lsn > least);
    this.history = this.history.slice(firstNeeded === -1 ? this.history.length - 1 : firstNeeded);
    return readings;
  }

  async close(): Promise<void> {}
}

/** Where replica URLs come from, for the errors. */
const WHERE = 'replicas are given by --replica, TANDEM_REPLICA_URLS or backfill.replicas in tandem.config.json';

/** MySQL/MariaDB: each replica's own SHOW REPLICA STATUS (Seconds_Behind_Master: whole seconds). */
class MysqlReplicas implements LagSource {
  private constructor(private readonly replicas: Array<{ display: string; db: Knex }>) {}

  /** Connects to each replica and reads it once: a URL that is wrong, or not a replica, fails here, before any batch. */
  static async open(urls: string[]): Promise<MysqlReplicas> {
    const replicas: Array<{ display: string; db: Knex }> = [];
    const source = new MysqlReplicas(replicas);
    try {
      for (const [index, url] of urls.entries()) {
        const target = parseConnectionUrl(url);
        const name = `replica ${index + 1} of ${urls.length} (${target.display})`;
        if (target.dialect !== 'mysql') throw new Error(`${name} is not a MySQL/MariaDB URL; ${WHERE}`);
        const replica = { display: `replica ${target.display}`, db: createKnex(target, { applicationName: 'tandem replica lag' }) };
        replicas.push(replica);
        const status = await replicaStatus(replica.db).catch((error: Error) => {
          throw new Error(`${name} cannot be read: ${redactSecrets(error.message)}; fix its URL (its user needs REPLICATION CLIENT, on MariaDB SLAVE MONITOR), or remove it; ${WHERE}`);
        });
        if (!status) throw new Error(`${name} is not a replica (SHOW REPLICA STATUS is empty): list the replicas of the server tandem runs on; ${WHERE}`);
      }
    } catch (error) {
      await source.close();
      throw error;
    }
    return source;
  }

  async read(): Promise<Reading[]> {
    return Promise.all(
      this.replicas.map(async ({ display, db }): Promise<Reading> => {
        try {
          const status = await replicaStatus(db);
          if (!status) return { replica: display, lagMs: null, why: 'is no longer a replica' };
          const seconds = status.Seconds_Behind_Master ?? status.Seconds_Behind_Source;
          if (seconds === null || seconds === undefined) {
            const io = status.Slave_IO_Running ?? status.Replica_IO_Running;
            const sql = status.Slave_SQL_Running ?? status.Replica_SQL_Running;
            const error = status.Last_SQL_Error || status.Last_IO_Error;
            return { replica: display, lagMs: null, why: `is not replicating (IO thread: ${io ?? '?'}, SQL thread: ${sql ?? '?'}${error ? `, ${String(error).slice(0, 200)}` : ''})` };
          }
          return { replica: display, lagMs: Number(seconds) * 1000 };
        } catch (error) {
          return { replica: display, lagMs: null, why: `cannot be read (${redactSecrets((error as Error).message).slice(0, 200)})` };
        }
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.db.destroy().catch(() => undefined)));
  }
}

type ReplicaStatus = Record<string, string | number | null | undefined>;

/** SHOW REPLICA STATUS (MariaDB 10.5+, MySQL 8.0.22+; SHOW SLAVE STATUS before): one row, or null on a server that is no replica. */
async function replicaStatus(db: Knex): Promise<ReplicaStatus | null> {
  let rows: ReplicaStatus[];
  try {
    rows = (await db.raw('SHOW REPLICA STATUS'))[0] as ReplicaStatus[];
  } catch (error) {
    if ((error as { errno?: number }).errno !== 1064) throw error;
    rows = (await db.raw('SHOW SLAVE STATUS'))[0] as ReplicaStatus[];
  }
  return rows[0] ?? null;
}

/** Replicas registered with this source (SHOW REPLICA HOSTS; needs a privilege tandem may lack, so failures say nothing). */
async function registeredReplicas(db: Knex): Promise<string[]> {
  for (const statement of ['SHOW REPLICA HOSTS', 'SHOW SLAVE HOSTS', 'SHOW REPLICAS']) {
    try {
      const rows = (await db.raw(statement))[0] as Array<Record<string, unknown>>;
      return rows.map((row) => `${String(row.Host || '?')}:${String(row.Port ?? '?')}`);
    } catch {
      // try the next spelling
    }
  }
  return [];
}
