/**
 * The step's transaction commits only once LockWatch.watch returns, and holds its table locks until
 * then: the watch must end with the step, not sleep out the pause between its looks (up to 50 ms,
 * which the app spent queued behind the lock), nor wait for a look under way (the first one also
 * opens the watch's connection: 20–25 ms on a busy server). Only a cancel under way must land
 * first, or it would hit the next query on the step's pooled connection. The watch's queries are
 * replaced here by promises the test settles, so no database is needed.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Session } from '../../src/db/session.js';
import { LockWatch } from '../../src/runner/lock-watch.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A promise and the function that settles it. */
function pending<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

type WatchInternals = { waitsForLock(pid: number): Promise<boolean>; holdersBlocking(pid: number): Promise<{ holders: unknown[]; relation: string | null }>; db(): { raw(sql: string, bindings?: unknown[]): Promise<unknown> } };

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

  // The watch sleeps with node:timers/promises, which fake timers leave alone: these wait for real,
  // until its look (or cancel) has started.
  it('returns as soon as the step is done while a look is still waiting for its answer', async () => {
    const watch = new LockWatch({} as Session);
    const look = pending<boolean>();
    const waitsForLock = vi.spyOn(LockWatch.prototype as unknown as WatchInternals, 'waitsForLock').mockReturnValue(look.promise);
    const step = pending<string>();
    let result: string | undefined;
    void watch.watch(0, 1000, () => step.promise).then((value) => (result = value));
    // The first look (due after 5 ms) is under way; a busy machine may start it late.
    await vi.waitFor(() => expect(waitsForLock).toHaveBeenCalledTimes(1), { timeout: 5_000, interval: 5 });
    step.resolve('done');
    await flushMicrotasks();
    expect(result).toBe('done');
    look.resolve(true); // the late answer changes nothing: no cancel once the step is done
    await flushMicrotasks();
  });

  it('does not return before a cancel under way has landed', async () => {
    const watch = new LockWatch({} as Session);
    vi.spyOn(LockWatch.prototype as unknown as WatchInternals, 'waitsForLock').mockResolvedValue(true);
    vi.spyOn(LockWatch.prototype as unknown as WatchInternals, 'holdersBlocking').mockResolvedValue({ holders: [{ pid: 7, state: 'idle in transaction', transactionMs: 5000, transactionStart: 'x', applicationName: '' }], relation: 'accounts' });
    const cancel = pending<unknown>();
    const raw = vi.fn((_sql: string, _bindings?: unknown[]) => cancel.promise);
    vi.spyOn(LockWatch.prototype as unknown as WatchInternals, 'db').mockReturnValue({ raw });
    const step = pending<string>();
    let settled: string | undefined;
    void watch.watch(42, 1000, () => step.promise).then(
      (value) => (settled = `returned ${value}`),
      (error: Error) => (settled = `threw ${error.name}`),
    );
    await vi.waitFor(() => expect(raw).toHaveBeenCalledWith('SELECT pg_cancel_backend(?)', [42]), { timeout: 5_000, interval: 5 });
    step.resolve('done'); // the step got its lock just as the cancel went out
    await flushMicrotasks();
    expect(settled).toBeUndefined();
    cancel.resolve({});
    await flushMicrotasks();
    expect(settled).toBe('returned done');
  });
});
