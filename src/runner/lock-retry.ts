import type { RetryConfig } from '../config/schema.js';
import type { DialectAdapter } from '../db/dialect-adapter.js';

export interface RetryNotice {
  attempt: number;
  of: number;
  delayMs: number;
  error: unknown;
}

/**
 * Run a step; when it fails on a lock timeout or deadlock, wait and run it again. The wait grows
 * exponentially with "equal jitter" (half fixed, half random) so that runners retrying at once
 * spread out, and is capped at maxDelayMs.
 */
export async function withLockRetry<T>(
  adapter: DialectAdapter,
  retries: RetryConfig,
  step: () => Promise<T>,
  onRetry: (notice: RetryNotice) => void | Promise<void>,
  random: () => number = Math.random,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (error) {
      if (!adapter.isLockConflict(error) || attempt > retries.count) throw error;
      const delayMs = backoffDelay(retries, attempt, random);
      await onRetry({ attempt, of: retries.count, delayMs, error });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

export function backoffDelay(retries: RetryConfig, attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(retries.maxDelayMs, retries.initialDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
