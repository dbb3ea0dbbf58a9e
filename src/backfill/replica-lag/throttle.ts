import type { Session } from '../../db/session.js';
import { BatchPause, POLL_MS } from '../batch-pause.js';
import { MysqlReplicas, registeredReplicas } from './mysql-replicas.js';
import { PostgresStandbys } from './postgres-standbys.js';
import type { LagSource, Reading } from './types.js';

export interface ReplicaLagConfig {
  /** Pause batches while a replica is further behind than this; null: never. */
  maxReplicaLagMs: number | null;
  /** Replica connection URLs to watch (MySQL/MariaDB: needed, a source cannot see its replicas' lag; PostgreSQL: instead of every standby the primary streams to). */
  replicas: string[];
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
 * its replicas' lag, so each replica in `replicas` is asked (SHOW ALL REPLICAS STATUS or SHOW REPLICA
 * STATUS: every replication source). PGlite has none.
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
  async beforeBatch(whileWaiting: (reason: string) => void | Promise<void> = () => undefined): Promise<void> {
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
    return `${behind.map(describe).join('; ')} (backfill.maxReplicaLagMs is ${limit}); they go on once every replica is within it`;
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
