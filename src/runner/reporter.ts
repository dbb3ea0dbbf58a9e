import type { BackfillSnapshot } from '../backfill/batched-update.js';
import type { Phase } from '../migrations/model.js';
import type { RetryNotice } from './lock-retry.js';

/** What a run tells the person or pipeline watching it. The CLI renders it; tests collect it. */
export interface Reporter {
  info(message: string): void;
  warn(message: string): void;
  phaseStarted(migrationId: string, phase: Phase, detail: string): void;
  phaseFinished(migrationId: string, phase: Phase, outcome: 'succeeded' | 'failed', durationMs: number, detail: string): void;
  retry(migrationId: string, where: string, notice: RetryNotice): void;
  progress(snapshot: BackfillSnapshot): void;
}

export const silentReporter: Reporter = {
  info: () => undefined,
  warn: () => undefined,
  phaseStarted: () => undefined,
  phaseFinished: () => undefined,
  retry: () => undefined,
  progress: () => undefined,
};

/** A reporter that keeps every message, for tests and for the demo's summary. */
export function collectingReporter(): Reporter & { messages: string[]; retries: RetryNotice[]; snapshots: BackfillSnapshot[] } {
  const messages: string[] = [];
  const retries: RetryNotice[] = [];
  const snapshots: BackfillSnapshot[] = [];
  return {
    messages,
    retries,
    snapshots,
    info: (message) => messages.push(message),
    warn: (message) => messages.push(`warning: ${message}`),
    phaseStarted: (id, phase, detail) => messages.push(`${phase} ${id} started ${detail}`),
    phaseFinished: (id, phase, outcome, _ms, detail) => messages.push(`${phase} ${id} ${outcome} ${detail}`),
    retry: (id, where, notice) => {
      retries.push(notice);
      messages.push(`retry ${notice.attempt}/${notice.of} ${id} ${where}`);
    },
    progress: (snapshot) => snapshots.push(snapshot),
  };
}
