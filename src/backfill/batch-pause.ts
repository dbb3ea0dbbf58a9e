/** How often a paused backfill looks again. */
export const POLL_MS = 200;
/** A long pause is reported again this often, so a pipeline's log shows why nothing moves. */
const RENOTICE_MS = 30_000;

/**
 * One reason a backfill waits before its next batch (a replica behind, a pause file). While `check`
 * returns a text — the condition it waits out, e.g. "/tmp/hold exists …" — the walker waits, says
 * "pausing batches while …" when the pause starts and every 30 s while it lasts, and counts the
 * time. `whileWaiting` hears the condition when the pause starts and about once a second after, so
 * the progress line and `tandem status` show it.
 */
export class BatchPause {
  /** Time spent waiting, for the progress report. */
  waitedMs = 0;
  private lastNoticeAt = -Infinity;

  constructor(
    private readonly check: () => Promise<string | null>,
    private readonly onNotice: (message: string) => void,
  ) {}

  async beforeBatch(whileWaiting: (reason: string) => void | Promise<void>): Promise<void> {
    let reason = await this.check();
    if (reason === null) return;
    // Counted from the first sight of a reason: the check itself is no pause.
    let countedUpTo = Date.now();
    await whileWaiting(reason);
    while (reason !== null) {
      if (Date.now() - this.lastNoticeAt >= RENOTICE_MS) {
        this.lastNoticeAt = Date.now();
        this.onNotice(`pausing batches while ${reason}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      if (Date.now() - countedUpTo >= 1000) {
        this.waitedMs += Date.now() - countedUpTo;
        countedUpTo = Date.now();
        await whileWaiting(reason);
      }
      reason = await this.check();
    }
    this.waitedMs += Date.now() - countedUpTo;
  }
}
