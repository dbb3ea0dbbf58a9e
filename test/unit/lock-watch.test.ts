/**
 * The step's transaction commits only once LockWatch.watch returns, and holds its table locks until
 * then: the watch must end with the step, not sleep out the pause between its looks (up to 50 ms,
 * which the app spent queued behind the lock). The step here ends before the watch's first look is
 * due, so no database is needed: the watch must return without waiting for that look's time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Session } from '../../src/db/session.js';
import { LockWatch } from '../../src/runner/lock-watch.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Lets every promise that can settle without a timer do so. */
async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('LockWatch ends with its step', () => {
  it('returns the step\'s result as soon as the step is done, with a look still pending', async () => {
    vi.useFakeTimers();
    const watch = new LockWatch({} as Session);
    let result: string | undefined;
    void watch.watch(0, 1000, async () => 'done').then((value) => (result = value));
    await flushMicrotasks();
    expect(result).toBe('done');
  });
});
