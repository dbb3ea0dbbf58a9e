/**
 * The step's transaction commits only once LockWatch.watch returns, and holds its table locks until
 * then: the watch must end with the step, not sleep out the pause between its looks (up to 50 ms,
 * which the app spent queued behind the lock). Fake timers make the pause endless unless the end of
 * the step cuts it short. No look happens here, so no database is needed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Session } from '../../src/db/session.js';
import { LockWatch, wakeableSleep } from '../../src/runner/lock-watch.js';

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

  it('a woken sleep ends at once, and so does every later one', async () => {
    vi.useFakeTimers();
    const pause = wakeableSleep();
    const ended: number[] = [];
    void pause.sleep(50).then(() => ended.push(1));
    await flushMicrotasks();
    expect(ended).toEqual([]);
    pause.wake();
    await flushMicrotasks();
    expect(ended).toEqual([1]);
    void pause.sleep(50).then(() => ended.push(2));
    await flushMicrotasks();
    expect(ended).toEqual([1, 2]);
  });

  it('an unwoken sleep lasts its time', async () => {
    vi.useFakeTimers();
    const pause = wakeableSleep();
    let ended = false;
    void pause.sleep(50).then(() => (ended = true));
    await vi.advanceTimersByTimeAsync(49);
    expect(ended).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(ended).toBe(true);
  });
});
