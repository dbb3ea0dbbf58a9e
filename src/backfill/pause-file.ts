import { existsSync } from 'node:fs';
import path from 'node:path';
import { BatchPause } from './batch-pause.js';

/**
 * The operator's brake: while the file exists the backfill waits before its next batch, and goes on
 * when it is deleted (gh-ost's --throttle-flag-file, pt-online-schema-change's --pause-file). A
 * backfill can also be stopped and rerun, but a pause leaves the deploy job running and its runner
 * lock held, so nothing else starts in between.
 */
export class PauseFile {
  private readonly pause: BatchPause | null;

  constructor(file: string | null, onNotice: (message: string) => void = () => undefined) {
    const absolute = file === null ? null : path.resolve(file);
    this.pause = absolute === null ? null : new BatchPause(async () => (existsSync(absolute) ? `${absolute} exists (backfill.pauseFile, --pause-file); delete it to go on` : null), onNotice);
  }

  /** Time spent waiting, for the progress report. */
  get waitedMs(): number {
    return this.pause?.waitedMs ?? 0;
  }

  async beforeBatch(whileWaiting: (reason: string) => void | Promise<void>): Promise<void> {
    await this.pause?.beforeBatch(whileWaiting);
  }
}
