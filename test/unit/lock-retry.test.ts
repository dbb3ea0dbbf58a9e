import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { mysqlAdapter } from '../../src/db/dialects/mysql.js';
import { postgresAdapter } from '../../src/db/dialects/postgres.js';
import { backoffDelay, withLockRetry, type RetryNotice } from '../../src/runner/lock-retry.js';
import { lockRetriesExhausted } from '../../src/runner/open-transactions.js';

const retries = { count: 10, initialDelayMs: 100, maxDelayMs: 1000 };
const ceilingOf = (attempt: number) => Math.min(retries.maxDelayMs, retries.initialDelayMs * 2 ** (attempt - 1));

/** A deterministic random source, so the bounds are checked on many spread-out values. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('backoffDelay', () => {
  it('the ceiling doubles per attempt from initialDelayMs, capped at maxDelayMs', () => {
    const top = () => 1 - Number.EPSILON; // the largest value Math.random can return
    expect([1, 2, 3, 4, 5, 6, 7, 12].map((attempt) => backoffDelay(retries, attempt, top))).toEqual([100, 200, 400, 800, 1000, 1000, 1000, 1000]);
  });

  it('the floor is half the ceiling (equal jitter never waits less)', () => {
    const bottom = () => 0;
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(retries, attempt, bottom))).toEqual([50, 100, 200, 400, 500, 500]);
  });

  it('every delay lies within [ceiling/2, ceiling], and the jitter actually spreads them', () => {
    const random = seeded(42);
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = ceilingOf(attempt);
      const delays = Array.from({ length: 200 }, () => backoffDelay(retries, attempt, random));
      for (const delay of delays) {
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(Number.isInteger(delay)).toBe(true);
      }
      // Not one fixed value: runners retrying together spread out.
      expect(new Set(delays).size).toBeGreaterThan(10);
      expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(ceiling / 4);
    }
  });

  it('with Math.random (the default) too', () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const delay = backoffDelay(retries, attempt);
      expect(delay).toBeGreaterThanOrEqual(ceilingOf(attempt) / 2);
      expect(delay).toBeLessThanOrEqual(ceilingOf(attempt));
    }
  });

  it('a huge attempt number neither overflows nor exceeds the cap', () => {
    expect(backoffDelay(retries, 5000, () => 0.999)).toBeLessThanOrEqual(1000);
    expect(backoffDelay(retries, 5000, () => 0)).toBe(500);
  });

  it('initialDelayMs above maxDelayMs is capped from the first attempt', () => {
    expect(backoffDelay({ count: 3, initialDelayMs: 5000, maxDelayMs: 300 }, 1, () => 0.999)).toBeLessThanOrEqual(300);
  });

  it('zero delays are allowed (config minimum)', () => {
    expect(backoffDelay({ count: 3, initialDelayMs: 0, maxDelayMs: 0 }, 3, () => 0.5)).toBe(0);
  });

  it('the config defaults: 250 ms doubling to a 15 s cap', () => {
    const defaults = configSchema.parse({}).retries;
    expect(backoffDelay(defaults, 1, () => 0)).toBe(125);
    expect(backoffDelay(defaults, 20, () => 0)).toBe(7500);
  });
});

/** The errors the drivers raise on a lock timeout / deadlock, by their codes. */
const lockTimeout = Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' });
const deadlock = Object.assign(new Error('Deadlock found'), { code: 'ER_LOCK_DEADLOCK', errno: 1213 });
const syntax = Object.assign(new Error('syntax error'), { code: '42601' });

describe('withLockRetry', () => {
  const fast = { count: 3, initialDelayMs: 1, maxDelayMs: 4 };

  it('retries a lock timeout, reporting each retry with its attempt and delay, then succeeds', async () => {
    const notices: RetryNotice[] = [];
    let calls = 0;
    const result = await withLockRetry(
      postgresAdapter,
      fast,
      async () => {
        calls++;
        if (calls < 3) throw lockTimeout;
        return 'done';
      },
      (notice) => void notices.push(notice),
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
    expect(notices.map((n) => [n.attempt, n.of, n.error])).toEqual([
      [1, 3, lockTimeout],
      [2, 3, lockTimeout],
    ]);
    for (const notice of notices) expect(notice.delayMs).toBeLessThanOrEqual(fast.maxDelayMs);
  });

  it('gives up after count retries with the last lock error', async () => {
    let calls = 0;
    const notices: RetryNotice[] = [];
    await expect(
      withLockRetry(mysqlAdapter, fast, async () => {
        calls++;
        throw deadlock;
      }, (notice) => void notices.push(notice)),
    ).rejects.toBe(deadlock);
    expect(calls).toBe(fast.count + 1);
    expect(notices).toHaveLength(fast.count);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    await expect(
      withLockRetry(postgresAdapter, fast, async () => {
        calls++;
        throw syntax;
      }, () => undefined),
    ).rejects.toBe(syntax);
    expect(calls).toBe(1);
  });

  it('count 0: one attempt only', async () => {
    let calls = 0;
    await expect(
      withLockRetry(postgresAdapter, { ...fast, count: 0 }, async () => {
        calls++;
        throw lockTimeout;
      }, () => undefined),
    ).rejects.toBe(lockTimeout);
    expect(calls).toBe(1);
  });
});

describe('lockRetriesExhausted (what a phase out of lock retries says)', () => {
  const old = { id: 4711, who: 'billing', state: 'idle in transaction', openMs: 45_000, tables: ['accounts', 'public.ledger'] };

  it('names each open transaction with how to end it, by dialect', () => {
    const pg = lockRetriesExhausted({ transactions: [old], hidden: 0 }, 'postgres', 'expand', 11);
    expect(pg.message).toBe('another session held a lock the step needs through all 11 attempts; open transactions now: pid 4711 (billing), idle in transaction, its transaction open for 45.0 s, holding locks on accounts, public.ledger');
    expect(pg.fix).toContain('pid 4711: SELECT pg_terminate_backend(4711) ends it');
    expect(pg.fix).toContain('then rerun `tandem expand`');
    const my = lockRetriesExhausted({ transactions: [{ ...old, who: 'app@10.0.0.5', state: 'Sleep', tables: [] }], hidden: 0 }, 'mysql', 'contract', 3);
    expect(my.message).toContain('thread 4711 (app@10.0.0.5), Sleep, its transaction open for 45.0 s');
    expect(my.message).not.toContain('holding locks');
    expect(my.fix).toContain('thread 4711: KILL 4711 ends it');
  });

  it('names at most three, and says when there are more', () => {
    const many = [1, 2, 3, 4].map((id) => ({ ...old, id }));
    const { message, fix } = lockRetriesExhausted({ transactions: many, hidden: 0 }, 'postgres', 'expand', 2);
    expect(message).toContain('pid 3 (billing)');
    expect(message).not.toContain('pid 4 ');
    expect(message).toMatch(/ and more$/);
    expect(fix).not.toContain('pg_terminate_backend(4)');
  });

  it('with none open that long, it blames short transactions; unreadable, it says where to look', () => {
    expect(lockRetriesExhausted({ transactions: [], hidden: 0 }, 'postgres', 'backfill', 2).message).toContain('no transaction is open that long now');
    expect(lockRetriesExhausted({ transactions: [], hidden: 0 }, 'postgres', 'backfill', 2).fix).toMatch(/^rerun `tandem backfill` when the table is less busy/);
    expect(lockRetriesExhausted(null, 'mysql', 'expand', 2).fix).toContain('information_schema.INNODB_TRX');
    expect(lockRetriesExhausted(null, 'postgres', 'expand', 2).fix).toContain('pg_blocking_pids');
  });

  it('sessions its role cannot see are not taken for short transactions', () => {
    const none = lockRetriesExhausted({ transactions: [], hidden: 2 }, 'postgres', 'expand', 2);
    expect(none.message).toContain("tandem's role cannot see 2 other session(s) in this database, which may hold it");
    expect(none.message).not.toContain('short ones');
    expect(none.fix).toContain('as a role that sees every session (a superuser, or a member of pg_read_all_stats)');
    expect(lockRetriesExhausted({ transactions: [old], hidden: 1 }, 'postgres', 'expand', 2).message).toMatch(/holding locks on accounts, public\.ledger; tandem's role cannot see 1 other session/);
  });
});
