import type { Knex } from 'knex';
import { createKnex } from '../db/connect.js';
import type { Session } from '../db/session.js';
import { parseConnectionUrl, redactSecrets } from '../db/url.js';
import { BatchPause, POLL_MS } from './batch-pause.js';

export interface ReplicaLagConfig {
  /** Pause batches while a replica is further behind than this; null: never. */
  maxReplicaLagMs: number | null;
  /** Replica connection URLs to watch (MySQL/MariaDB: needed, a source cannot see its replicas' lag; PostgreSQL: instead of every standby the primary streams to). */
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
 * PostgreSQL: every physical standby the primary streams to (pg_stat_replication), or the standbys
 * named in `replicas` (see PostgresStandbys). MySQL/MariaDB: the source does not know
 * its replicas' lag, so each replica in `replicas` is asked (SHOW REPLICA STATUS). PGlite has none.
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
      this.source = await PostgresStandbys.open(session, config.replicas, this.onNotice);
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
class PostgresStandbys implements LagSource {
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

/** Where replica URLs come from, for the errors. */
const WHERE = 'replicas are given by --replica, TANDEM_REPLICA_URLS or backfill.replicas in tandem.config.json';

/**
 * Connections to the replicas named by URL, each read once by `check` (null: fine, else what is
 * wrong): a URL that is wrong, or not a replica, fails here, before any batch, naming it without its password.
 */
async function openReplicas(urls: string[], dialect: 'postgres' | 'mysql', noun: string, check: (db: Knex) => Promise<string | null>): Promise<Array<{ display: string; db: Knex }>> {
  const replicas: Array<{ display: string; db: Knex }> = [];
  try {
    for (const [index, url] of urls.entries()) {
      const target = parseConnectionUrl(url);
      const name = `${noun} ${index + 1} of ${urls.length} (${target.display})`;
      if (target.dialect !== dialect || target.driver === 'pglite') throw new Error(`${name} is not a ${dialect === 'mysql' ? 'MySQL/MariaDB' : 'PostgreSQL server'} URL, as the database tandem runs on is; ${WHERE}`);
      const replica = { display: `${noun} ${target.display}`, db: createKnex(target, { applicationName: 'tandem replica lag' }) };
      replicas.push(replica);
      const problem = await check(replica.db).catch((error: Error) => {
        throw new Error(`${name} cannot be read: ${redactSecrets(error.message)}; fix its URL${dialect === 'mysql' ? ' (its user needs REPLICATION CLIENT, on MariaDB SLAVE MONITOR)' : ''}, or remove it; ${WHERE}`);
      });
      if (problem) throw new Error(`${name} ${problem}; ${WHERE}`);
    }
  } catch (error) {
    await closeReplicas(replicas);
    throw error;
  }
  return replicas;
}

async function closeReplicas(replicas: Array<{ db: Knex }>): Promise<void> {
  await Promise.all(replicas.map((replica) => replica.db.destroy().catch(() => undefined)));
}

/** MySQL/MariaDB: each replica's own SHOW REPLICA STATUS (Seconds_Behind_Master: whole seconds). */
class MysqlReplicas implements LagSource {
  private constructor(private readonly replicas: Array<{ display: string; db: Knex }>) {}

  static async open(urls: string[]): Promise<MysqlReplicas> {
    return new MysqlReplicas(await openReplicas(urls, 'mysql', 'replica', async (db) => ((await replicaStatus(db)).length > 0 ? null : 'is not a replica (SHOW REPLICA STATUS is empty): list the replicas of the server tandem runs on')));
  }

  async read(): Promise<Reading[]> {
    return Promise.all(
      this.replicas.map(async ({ display, db }): Promise<Reading> => {
        try {
          const channels = await replicaStatus(db);
          if (channels.length === 0) return { replica: display, lagMs: null, why: 'is no longer a replica' };
          // Several sources (MariaDB connections, MySQL channels): the worst one counts.
          let worst: Reading = { replica: display, lagMs: 0 };
          for (const status of channels) {
            const reading = channelReading(display, status);
            if (reading.lagMs === null) return reading;
            if (reading.lagMs > worst.lagMs!) worst = reading;
          }
          return worst;
        } catch (error) {
          return { replica: display, lagMs: null, why: `cannot be read (${redactSecrets((error as Error).message).slice(0, 200)})` };
        }
      }),
    );
  }

  async close(): Promise<void> {
    await closeReplicas(this.replicas);
  }
}

type ReplicaStatus = Record<string, string | number | null | undefined>;

/** One replication source's state on a replica. */
function channelReading(display: string, status: ReplicaStatus): Reading {
  const source = status.Connection_name || status.Channel_Name ? ` (source ${String(status.Connection_name || status.Channel_Name)})` : '';
  const seconds = status.Seconds_Behind_Master ?? status.Seconds_Behind_Source;
  if (seconds === null || seconds === undefined) {
    const io = status.Slave_IO_Running ?? status.Replica_IO_Running;
    const sql = status.Slave_SQL_Running ?? status.Replica_SQL_Running;
    const error = status.Last_SQL_Error || status.Last_IO_Error;
    return { replica: display, lagMs: null, why: `is not replicating${source} (IO thread: ${io ?? '?'}, SQL thread: ${sql ?? '?'}${error ? `, ${String(error).slice(0, 200)}` : ''})` };
  }
  return { replica: display, lagMs: Number(seconds) * 1000 };
}

/**
 * A replica's status, one row per replication source (empty on a server that is no replica):
 * MariaDB's SHOW ALL REPLICAS STATUS (10.5+; SHOW ALL SLAVES STATUS before) lists every named
 * connection, where SHOW REPLICA STATUS shows only the default one; MySQL's SHOW REPLICA STATUS
 * (8.0.22+; SHOW SLAVE STATUS before) lists every channel.
 */
async function replicaStatus(db: Knex): Promise<ReplicaStatus[]> {
  const statements = ['SHOW ALL REPLICAS STATUS', 'SHOW ALL SLAVES STATUS', 'SHOW REPLICA STATUS', 'SHOW SLAVE STATUS'];
  for (const [index, statement] of statements.entries()) {
    try {
      return (await db.raw(statement))[0] as ReplicaStatus[];
    } catch (error) {
      // A syntax error: this server spells it differently.
      if ((error as { errno?: number }).errno !== 1064 || index === statements.length - 1) throw error;
    }
  }
  return [];
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
