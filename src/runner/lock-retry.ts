import type { RetryConfig } from '../config/schema.js';
import type { DialectAdapter } from '../db/dialect-adapter.js';
import { HeldByLongTransactionError } from './lock-watch.js';

export interface RetryNotice {
  attempt: number;
  of: number;
  delayMs: number;
  error: unknown;
  /** The retry waits for the transaction holding the lock to end (at most delayMs), not for a set time. */
  untilHolderEnds?: boolean;
}

/** Instead of the backoff's sleep: wait until the transaction the error names has ended (LockWatch), at most `maxMs`. */
export type RetryWait = (error: unknown, maxMs: number) => Promise<void>;

/**
 * Run a step; when it fails on a lock timeout or deadlock, wait and run it again. The wait grows
 * exponentially with "equal jitter" (half fixed, half random) so that runners retrying at once
 * spread out, and is capped at maxDelayMs. `waitFor` may wait for the lock's holder instead
 * (LockWatch): up to maxDelayMs, and no longer than it takes that transaction to end.
 */
export async function withLockRetry<T>(
  adapter: DialectAdapter,
  retries: RetryConfig,
  step: () => Promise<T>,
  onRetry: (notice: RetryNotice) => void | Promise<void>,
  random: () => number = Math.random,
  waitFor?: RetryWait,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!adapter.isLockConflict(error) || attempt > retries.count) throw error;
      const holderWait = waitFor !== undefined && error instanceof HeldByLongTransactionError;
      const delayMs = holderWait ? retries.maxDelayMs : backoffDelay(retries, attempt, random);
      await onRetry({ attempt, of: retries.count, delayMs, error, ...(holderWait ? { untilHolderEnds: true } : {}) });
      if (holderWait) await waitFor(error, delayMs);
      else await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

export function backoffDelay(retries: RetryConfig, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(retries.maxDelayMs, retries.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
