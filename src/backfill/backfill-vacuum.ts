import type { Knex } from 'knex';
import { createKnex } from '../db/connect.js';
import { redactSecrets } from '../db/url.js';
import { serverMajorVersion, type Session } from '../db/session.js';

/**
 * PostgreSQL writes every updated row anew, and autovacuum lags far behind a backfill: left alone,
 * the table doubles. A VACUUM after each 1.25 % of the table (2.5 % on PGlite) frees the old
 * versions, so later batches reuse that space instead of growing the table; a batch never updates
 * more than 2.5 %, or it would outgrow the space the last VACUUM freed.
 *
 * The VACUUM runs on a connection of its own, alongside the next batches: it takes SHARE UPDATE
 * EXCLUSIVE, which neither the batches nor the app's reads and writes conflict with, so the backfill
 * does not wait for it (it took a fifth of the backfill's time when it ran between batches). At
 * most one runs at a time. PGlite has a single connection: there it runs between batches.
 *
 * Best effort: a VACUUM that fails (connection lost, no privilege) is reported once and not
 * retried; the backfill goes on, only the table grows.
 */
export class BackfillVacuum {
  /** A batch larger than this would outgrow the space the last VACUUM freed: it caps the batch size. */
  readonly every: number;
  /** Rows between two VACUUMs: half the cap, because the batches run on while a VACUUM works. */
  private readonly interval: number;
  private readonly sql: string;
  private rowsSince = 0;
  private running: Promise<void> | null = null;
  private side: Knex | null = null;
  private stopped = false;

  constructor(
    private readonly session: Session,
    tableSql: string,
    rowsTotal: number | null,
    minBatchSize: number,
    private readonly onNotice: (message: string) => void = () => undefined,
  ) {
    const postgres = session.adapter.dialect === 'postgres';
    this.every = postgres ? Math.max(1_000, minBatchSize, Math.round((rowsTotal ?? 0) / 40)) : Infinity;
    this.interval = session.target.driver === 'pg' ? Math.max(500, Math.round(this.every / 2)) : this.every;
    // INDEX_CLEANUP ON (12+; older versions always clean): without it every old row version leaves a
    // dead 4-byte line pointer that no later row can reuse — about 6 % more table on a narrow row.
    // AUTO (the default since 14) may skip that when the dead rows sit on few pages, as they do here.
    // TRUNCATE false: giving back empty pages at the end of the table takes ACCESS EXCLUSIVE, which
    // would stall the app; the backfill refills them anyway.
    this.sql = `VACUUM ${serverMajorVersion(session) >= 12 ? '(INDEX_CLEANUP ON, TRUNCATE false) ' : ''}${tableSql}`;
    this.stopped = !postgres;
  }

  /** Count the rows a batch updated; start a VACUUM when enough have piled up. */
  async rowsUpdated(rows: number): Promise<void> {
    if (this.stopped) return;
    this.rowsSince += rows;
    if (this.rowsSince < this.interval) return;
    this.rowsSince = 0;
    await this.settle();
    if (this.session.target.driver !== 'pg') return this.run(this.session.db);
    // VACUUM cleans a table's indexes in parallel workers: no more than tandem's own statements may start.
    const { parallelWorkers } = this.session.config;
    const sessionSetup = parallelWorkers === null ? [] : [`SET max_parallel_maintenance_workers = ${parallelWorkers}`];
    this.side ??= createKnex(this.session.target, { applicationName: 'tandem backfill vacuum', sessionSetup });
    this.running = this.run(this.side);
  }

  /** Wait for a running VACUUM and close the side connection (end of the walk, or its failure). */
  async finish(): Promise<void> {
    await this.settle();
    const side = this.side;
    this.side = null;
    await side?.destroy().catch(() => undefined);
  }

  private async settle(): Promise<void> {
    const running = this.running;
    this.running = null;
    await running;
  }

  private async run(db: Knex): Promise<void> {
    try {
      await db.raw(this.sql);
    } catch (error) {
      this.stopped = true;
      this.onNotice(`VACUUM during the backfill failed, so the table may grow until autovacuum catches up: ${redactSecrets((error as Error).message)}`);
    }
  }
}
