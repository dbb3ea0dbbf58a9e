/**
 * Concurrent runners (issue 7 part 4): two `tandem expand` (backfill, contract) started together
 * on one database. Without --wait one runs and the other exits 3 naming the holder; with --wait the
 * second queues and then finds nothing left to do. Either way each phase of each migration runs
 * once (the ledger's events prove it). A runner killed with SIGKILL leaves no lock behind: the
 * next one gets it as soon as the server has closed the dead session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appKnex, rowsOf } from '../support/app-traffic.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { buildPrivateCli, removePrivateCli, runnerLockFree, seed, spawnTandem, workdir, type Dialect } from './harness.js';

beforeAll(() => void buildPrivateCli(), 180_000);
afterAll(() => removePrivateCli());

describe.each(['postgres', 'mysql'] as const)('concurrent runners on %s', (dialect: Dialect) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  async function fresh(ctx: { skip: (note: string) => void }): Promise<{ db: TestDatabase; cwd: string } | null> {
    const db = await createTestDatabase(dialect, 'rel runners');
    if (!db || db.kind === 'pglite') {
      ctx.skip(`${dialect} server unavailable`);
      return null;
    }
    cleanups.push(() => db.drop());
    const app = appKnex(db, 1);
    await seed(app, dialect).finally(() => app.destroy());
    const dir = workdir(dialect);
    cleanups.push(dir.remove);
    return { db, cwd: dir.cwd };
  }
  const events = async (db: TestDatabase) => {
    const app = appKnex(db, 1);
    try {
      return rowsOf<{ migration_id: string; phase: string; outcome: string }>(await app.raw(`SELECT migration_id, phase, outcome FROM ${dialect === 'postgres' ? 'tandem.events' : 'tandem_events'} ORDER BY id`));
    } finally {
      await app.destroy();
    }
  };

  it('two runners started together: one runs each phase, the other exits 3 naming it (--wait 0) or queues and finds nothing to do (--wait)', async (ctx) => {
    const env = await fresh(ctx);
    if (!env) return;
    const { db, cwd } = env;
    for (const command of ['expand', 'backfill', 'contract']) {
      // An app transaction holds `accounts` (which each phase touches first), so whichever runner
      // gets the lock is still at work, retrying its lock timeout, when the other one asks.
      const blocker = appKnex(db, 1);
      const trx = await blocker.transaction();
      await trx.raw(dialect === 'postgres' ? 'LOCK TABLE accounts IN SHARE MODE' : 'SELECT id FROM accounts FOR UPDATE');
      const wait = command === 'backfill' ? '60' : '0';
      const a = spawnTandem(db, cwd, ['--wait', wait, command]);
      const b = spawnTandem(db, cwd, ['--wait', wait, command]);
      let first: Awaited<typeof a.exited> | undefined;
      if (wait === '0') first = await Promise.race([a.exited, b.exited]);
      else await new Promise((resolve) => setTimeout(resolve, 2000));
      await trx.rollback();
      await blocker.destroy();
      const [ra, rb] = await Promise.all([a.exited, b.exited]);
      if (wait === '0') {
        // The one that finished first is the loser: it says who holds the lock, by command and pid.
        expect(first!.code).toBe(3);
        const [winner, loser] = ra.code === 0 ? [a, rb] : [b, ra];
        expect([ra.code, rb.code].sort()).toEqual([0, 3]);
        expect(loser.stderr).toContain(`another tandem runner holds the lock on this database: tandem ${command} run by `);
        expect(loser.stderr).toContain(`pid ${winner.pid}`);
      } else {
        // The second queued behind the first and then found nothing left to do.
        expect([ra.code, rb.code]).toEqual([0, 0]);
      }
      const succeeded = (await events(db)).filter((e) => e.phase === command && e.outcome === 'succeeded');
      expect(succeeded.map((e) => e.migration_id)).toEqual([...new Set(succeeded.map((e) => e.migration_id))]);
      expect(succeeded).toHaveLength(3);
    }
    expect(await runnerLockFree(db, dialect)).toBe(true);
  }, 240_000);

  it('a runner killed with SIGKILL does not keep the lock: a waiting runner takes over and finishes', async (ctx) => {
    const env = await fresh(ctx);
    if (!env) return;
    const { db, cwd } = env;
    const first = spawnTandem(db, cwd, ['expand'], { TANDEM_FAULT: 'step-before:3' });
    // The second starts once the first is running (it prints its first phase), and queues behind it.
    const deadline = Date.now() + 30_000;
    while (!first.stdout().includes('expand')) {
      if (Date.now() > deadline) throw new Error('the first runner never started its expand');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const second = spawnTandem(db, cwd, ['--wait', '60', 'expand']);
    const [killed, finished] = await Promise.all([first.exited, second.exited]);
    expect(killed.signal).toBe('SIGKILL');
    if (finished.code !== 0) throw new Error(finished.stderr);
    const outcomes = (await events(db)).filter((e) => e.phase === 'expand').map((e) => e.outcome);
    expect(outcomes.filter((o) => o === 'succeeded')).toHaveLength(3);
    expect(outcomes).toContain('interrupted');
    expect(await runnerLockFree(db, dialect)).toBe(true);
  }, 240_000);
});
