import type { Session } from '../db/session.js';
import { isMariadb } from '../db/session.js';

/**
 * A pause is at most this many times the last batch's time… At 5×, at stock settings, the pauses
 * ran to their limit before the page cleaner got the log under the level, and the batch after each
 * pushed it to its maximum: app requests of 40–133 ms. At 25× most pauses end when the log has room:
 * the backfill's worst requests fell to 23–51 ms (the benchmark at 1M rows, 2026-12-04, 3 runs of two
 * scenarios each way). The pace is the cleaner's and varies widely between runs (6–16 k rows/s at
 * 25×, 10.5–11.4 k at 10×, in 4 runs each in one session), not measurably slower at 25×.
 */
export const PAUSE_PER_BATCH = 25;
/** …and between these bounds. */
const MIN_WAIT_MS = 20;
const MAX_WAIT_MS = 2_000;

/**
 * MariaDB: keep the backfill from filling the InnoDB redo log.
 *
 * A backfill writes redo faster than the page cleaner flushes at stock settings (a 96 MB log,
 * innodb_io_capacity 200). Once the checkpoint age reaches its maximum, every write on the server
 * waits for flushing — the app's too — and with the app's connections stuck on writes, its reads
 * queue behind them: the benchmark saw the age pinned at the maximum for the whole backfill, and
 * app requests of 100–300 ms. So before each batch the throttle reads the checkpoint age, and
 * while it is above `percent` of the maximum, it waits for the page cleaner to catch up. At stock
 * settings the cleaner flushes a few hundred pages/s while the app writes, so the backfill moves at
 * the pace of flushing (a sixth of its own, or less), and writes redo at a rate the cleaner follows.
 *
 * MySQL has no such status variables (its redo log is sized by innodb_redo_log_capacity and read
 * from INNODB_METRICS): not throttled there. PostgreSQL does not make writers wait for checkpoints.
 */
export class RedoThrottle {
  private enabled: boolean;
  /** Time spent waiting, for the progress report. */
  waitedMs = 0;
  private announced = false;

  constructor(
    private readonly session: Session,
    private readonly percent: number,
    private readonly onNotice: (message: string) => void = () => undefined,
  ) {
    this.enabled = session.adapter.dialect === 'mysql' && isMariadb(session) && percent < 100;
  }

  /**
   * Wait until the redo log has room; returns at once when it has. At most `PAUSE_PER_BATCH` times
   * the last batch's own time (and never over 2 s): on a server whose log stays full for other
   * reasons (other writers, a slow disk) a backfill slows to at worst 1/26 of its pace, and still
   * moves instead of waiting for a log that never empties.
   */
  async beforeBatch(lastBatchMs: number): Promise<void> {
    if (!this.enabled) return;
    const maxWaitMs = Math.min(MAX_WAIT_MS, Math.max(MIN_WAIT_MS, PAUSE_PER_BATCH * lastBatchMs));
    let started: number | null = null; // the first time the log was too full: reading it is no pause
    for (;;) {
      const fill = await this.fill();
      if (fill === null) {
        this.enabled = false;
        return;
      }
      if (fill * 100 <= this.percent) break;
      started ??= Date.now();
      if (Date.now() - started >= maxWaitMs) break;
      if (!this.announced) {
        this.announced = true;
        const advice = await redoThrottleAdvice(this.session);
        this.onNotice(`pausing batches while the InnoDB redo log is over ${this.percent} % full (at ${Math.round(fill * 100)} %), so app writes never wait for page flushing; backfill.redoThrottlePercent sets the level${advice.map((text) => `. ${text}`).join('')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    if (started !== null) this.waitedMs += Date.now() - started;
  }

  /** Checkpoint age ÷ its maximum, or null when the server does not tell. */
  private async fill(): Promise<number | null> {
    const checkpoint = await checkpointAge(this.session);
    return checkpoint ? checkpoint.age / checkpoint.max : null;
  }
}

/** MariaDB's checkpoint age and its maximum in bytes, or null when the server does not tell (MySQL). */
export async function checkpointAge(session: Session): Promise<{ age: number; max: number } | null> {
  const result = await session.db.raw(`SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_checkpoint_age', 'Innodb_checkpoint_max_age')`);
  const values = new Map(session.adapter.rows<{ Variable_name: string; Value: string }>(result).map((row) => [row.Variable_name.toLowerCase(), Number(row.Value)]));
  const age = values.get('innodb_checkpoint_age');
  const max = values.get('innodb_checkpoint_max_age');
  return age !== undefined && max !== undefined && max > 0 ? { age, max } : null;
}

/**
 * What the server's settings mean for a throttled backfill, for the throttle's notice and for
 * `tandem plan`: the redo log's size and the page cleaner's pace, each when it holds a backfill back.
 */
export async function redoThrottleAdvice(session: Session): Promise<string[]> {
  const result = await session.db.raw('SELECT @@GLOBAL.innodb_log_file_size AS bytes, @@GLOBAL.innodb_io_capacity AS io').catch(() => null);
  const row = result ? session.adapter.rows<{ bytes: unknown; io: unknown }>(result)[0] : undefined;
  const positive = (value: unknown) => (Number.isFinite(Number(value)) && Number(value) > 0 ? Number(value) : null);
  return [redoLogAdvice(positive(row?.bytes), session.serverVersion), ioCapacityAdvice(positive(row?.io))].filter((text) => text !== null);
}

/**
 * Below this innodb_io_capacity the notice names it. While the throttle pauses, the page cleaner
 * flushed about innodb_io_capacity pages a second (polled during the benchmark's throttled type
 * change on MariaDB 10.11: 198–222 pages/s at the default 200, the checkpoint age at 71–98 % of its
 * maximum), and that sets the backfill's pace: 4.8–9.5 k rows/s, against 50 k rows/s (739 pages/s)
 * with 2000, the app's p99 within 1.6 ms of before either way.
 */
const IO_CAPACITY_ADVISED_BELOW = 1000;
const SUGGESTED_IO_CAPACITY = 2000;

/** What to tell the operator about page flushing when the throttle starts pausing, or null. */
export function ioCapacityAdvice(ioCapacity: number | null): string | null {
  if (ioCapacity === null || ioCapacity >= IO_CAPACITY_ADVISED_BELOW) return null;
  return `While the throttle pauses, the page cleaner flushes about innodb_io_capacity pages a second (${ioCapacity}; the default 200 is meant for spinning disks), and that sets the backfill's pace; on SSD storage SET GLOBAL innodb_io_capacity = ${SUGGESTED_IO_CAPACITY} (dynamic) lets it flush faster`;
}

/** The redo log size the advice suggests: the benchmark's million-row backfills (~800 MB of redo) then seldom paused. */
const SUGGESTED_LOG_BYTES = 2 * 1024 ** 3;

/**
 * What to tell the operator when the throttle starts pausing: the log's size, and how to give it
 * room. A larger redo log is the server's setting, not tandem's: with the stock 96 MB every backfill
 * of more than ~100,000 rows moves at the pace of page flushing (about 800 bytes of redo per row),
 * while with 2 GB the benchmark's backfills ran at 90–100 % of one unbatched UPDATE (bench/RESULTS.md).
 * MariaDB resizes the log online from 10.11; older servers need the setting and a restart.
 */
export function redoLogAdvice(logFileBytes: number | null, serverVersion: string): string | null {
  if (logFileBytes === null || logFileBytes >= SUGGESTED_LOG_BYTES) return null;
  const [major = 0, minor = 0] = (/(\d+)\.(\d+)/.exec(serverVersion) ?? []).slice(1).map(Number);
  const online = major > 10 || (major === 10 && minor >= 11);
  const howTo = online
    ? `SET GLOBAL innodb_log_file_size = ${SUGGESTED_LOG_BYTES} resizes it online`
    : `set innodb_log_file_size = 2G in the server's configuration and restart it (MariaDB 10.11 and later resize it online)`;
  return `The redo log is ${Math.round(logFileBytes / 1024 ** 2)} MB (innodb_log_file_size), so a large backfill moves at the pace of page flushing; a larger log lets it run: ${howTo}`;
}
