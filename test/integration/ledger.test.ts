/**
 * The ledger in the target database: created on the first locked command, append-only events (one
 * per phase attempt), who applied what, and CHECK constraints that keep its states honest.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import { connect, PhaseFailedError, type Tandem, type TandemConfigInput } from '../../src/index.js';
import { ALL_KINDS, createTestDatabase, type TestDbKind } from '../support/databases.js';

const CONFIG: TandemConfigInput = { lockTimeoutMs: 500, waitSeconds: 0, retries: { count: 1, initialDelayMs: 10, maxDelayMs: 20 } };

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Env {
  t: Tandem;
  mysql: boolean;
  write(id: string, text: string): void;
  q<T = Record<string, unknown>>(sql: string, bindings?: unknown[]): Promise<T[]>;
  /** The ledger table name as written in SQL on this dialect. */
  table(name: 'migrations' | 'events' | 'backfills' | 'runners' | 'meta'): string;
}

async function setup(kind: TestDbKind, ctx: TestContext): Promise<Env> {
  const db = await createTestDatabase(kind, `ledger_${kind}`);
  if (!db) ctx.skip(`${kind} server unavailable`);
  cleanups.push(() => db!.drop());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-ledger-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const t = await connect({ url: db!.url, dir, config: CONFIG });
  cleanups.push(() => t.close());
  const mysql = t.session.adapter.dialect === 'mysql';
  return {
    t,
    mysql,
    write: (id, text) => fs.writeFileSync(path.join(dir, `${id}.sql`), text),
    q: async <T,>(sql: string, bindings: unknown[] = []) => t.session.adapter.rows<T>(await t.session.db.raw(sql, bindings as never[])),
    table: (name) => (mysql ? `tandem_${name}` : `tandem.${name}`),
  };
}

/** Run `sql` and return the database's error message (fails the test if it succeeds). */
async function rejected(env: Env, sql: string, bindings: unknown[] = []): Promise<string> {
  try {
    await env.q(sql, bindings);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected the database to reject: ${sql}`);
}

/** A timestamp as the driver returns it: a Date (pg), or UTC text 'YYYY-MM-DD hh:mm:ss.mmm' (mysql2 dateStrings). */
function timeOf(value: unknown): number {
  const time = value instanceof Date ? value.getTime() : new Date(`${String(value).replace(' ', 'T')}Z`).getTime();
  expect(Number.isNaN(time)).toBe(false);
  return time;
}

const ID = '20260201000000_add_flag';
const MIGRATION = `-- tandem:expand
CREATE TABLE flags (id INT PRIMARY KEY, on_off INT);
INSERT INTO flags (id, on_off) VALUES (1, NULL), (2, NULL);
-- tandem:backfill
UPDATE flags SET on_off = 1 WHERE on_off IS NULL;
-- tandem:contract
ALTER TABLE flags ADD COLUMN done INT;
`;

describe.each(ALL_KINDS)('ledger on %s', (kind) => {
  it('is created by the first locked command, not by status', async (ctx) => {
    const env = await setup(kind, ctx);
    env.write(ID, MIGRATION);
    expect((await env.t.status()).map((s) => s.phase)).toEqual(['pending']);
    expect(await env.t.ledger.exists()).toBe(false);
    expect(await env.t.ledger.events()).toEqual([]);

    await env.t.expand();
    expect(await env.t.ledger.exists()).toBe(true);
    for (const name of ['migrations', 'events', 'backfills', 'runners', 'meta'] as const) {
      await env.q(`SELECT COUNT(*) AS n FROM ${env.table(name)}`); // each table is there
    }
    expect(await env.q(`SELECT value FROM ${env.table('meta')} WHERE ${env.mysql ? '`key`' : '"key"'} = 'ledger_version'`)).toEqual([{ value: '3' }]);
    // The runner that held the lock is recorded, for a waiting runner's message (PGlite: in its lock file).
    const runners = await env.q<{ holder: string; command: string }>(`SELECT holder, command FROM ${env.table('runners')}`);
    expect(runners).toEqual(env.t.session.target.driver === 'pglite' ? [] : [{ holder: env.t.session.actor, command: 'expand' }]);
  });

  it('a backfill pause is recorded with its start, kept across updates, and cleared by the next batch\'s save', async (ctx) => {
    const env = await setup(kind, ctx);
    env.write(ID, MIGRATION);
    await env.t.expand(); // creates the ledger
    const db = env.t.session.db;
    const progress = { migrationId: ID, statementIndex: 0, tableName: 'flags', keyColumns: ['id'], lastKey: null, ceilingKey: ['2'], pass: 1, rowsDone: 0, rowsTotal: 2, batches: 0, batchSize: 1, done: false };
    await env.t.ledger.saveBackfill(db, progress);
    expect((await env.t.ledger.backfills(ID))[0]).toMatchObject({ pausedFor: null, pausedSince: null });
    await env.t.ledger.markBackfillPaused(db, ID, 0, 'standby s1 is 2.0 s behind');
    const first = (await env.t.ledger.backfills(ID))[0]!;
    expect(first.pausedFor).toBe('standby s1 is 2.0 s behind');
    expect(Math.abs(first.pausedSince!.getTime() - Date.now())).toBeLessThan(60_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await env.t.ledger.markBackfillPaused(db, ID, 0, 'standby s1 is 3.1 s behind');
    const second = (await env.t.ledger.backfills(ID))[0]!;
    expect(second.pausedFor).toBe('standby s1 is 3.1 s behind');
    expect(second.pausedSince!.getTime()).toBe(first.pausedSince!.getTime()); // the pause's start, not the latest update
    await env.t.ledger.saveBackfill(db, { ...progress, rowsDone: 1, batches: 1, lastKey: ['1'] });
    expect((await env.t.ledger.backfills(ID))[0]).toMatchObject({ rowsDone: 1, pausedFor: null, pausedSince: null });
  });

  it('events are append-only: UPDATE, DELETE and (PostgreSQL) TRUNCATE raise', async (ctx) => {
    const env = await setup(kind, ctx);
    env.write(ID, MIGRATION);
    await env.t.expand();
    const events = env.table('events');
    expect(await rejected(env, `UPDATE ${events} SET outcome = 'failed'`)).toMatch(/append-only/);
    expect(await rejected(env, `DELETE FROM ${events}`)).toMatch(/append-only/);
    // MySQL cannot refuse TRUNCATE with a trigger (it fires none): only privileges can.
    if (!env.mysql) expect(await rejected(env, `TRUNCATE ${events}`)).toMatch(/append-only/);
    expect(await env.q(`SELECT outcome FROM ${events}`)).toEqual([{ outcome: 'succeeded' }]);
    // Appending still works.
    await env.q(`INSERT INTO ${events} (migration_id, phase, outcome, started_at, duration_ms, actor) VALUES ('x', 'expand', 'failed', ${env.mysql ? 'UTC_TIMESTAMP(3)' : 'now()'}, 1, 'me')`);
    expect(await env.t.ledger.events()).toHaveLength(2);
  });

  it('one event per phase attempt, with outcome, duration, statements and actor', async (ctx) => {
    const env = await setup(kind, ctx);
    const sleep = env.mysql ? 'SELECT SLEEP(0.3)' : 'SELECT pg_sleep(0.3)';
    env.write(ID, MIGRATION.replace('-- tandem:backfill', `${sleep};\n-- tandem:backfill`).replace('UPDATE flags', 'UPDATE no_such_table'));
    const before = Date.now();
    await env.t.expand();
    await expect(env.t.backfill()).rejects.toBeInstanceOf(PhaseFailedError);
    env.write(ID, MIGRATION.replace('-- tandem:backfill', `${sleep};\n-- tandem:backfill`));
    await env.t.backfill();
    await env.t.contract();
    // Commands with nothing to do record nothing.
    await env.t.expand();
    await env.t.backfill();
    await env.t.contract();

    const events = await env.t.ledger.events(ID);
    expect(events.map((e) => [e.phase, e.outcome, Number(e.statements)])).toEqual([
      ['expand', 'succeeded', 3],
      ['backfill', 'failed', 0],
      ['backfill', 'succeeded', 1],
      ['contract', 'succeeded', 1],
    ]);
    for (const event of events) {
      expect(event.actor).toBe(env.t.session.actor);
      const duration = Number(event.duration_ms);
      expect(Number.isInteger(duration) && duration >= 0).toBe(true);
      const started = timeOf(event.started_at);
      const finished = timeOf(event.finished_at);
      // Stored in UTC on MySQL too: both ends lie within this test's run.
      expect(started).toBeGreaterThanOrEqual(before - 60_000);
      expect(finished).toBeLessThanOrEqual(Date.now() + 60_000);
      expect(finished - started).toBeGreaterThanOrEqual(duration - 1000);
    }
    // The expand slept 0.3 s: its duration says so.
    expect(Number(events[0]?.duration_ms)).toBeGreaterThanOrEqual(250);
    expect(events[0]?.message).toBeNull();
    expect(String(events[1]?.message)).toMatch(/backfill of 20260201000000_add_flag failed at .*:\d+: .*no_such_table/);
  });

  it('records who applied each phase, and when', async (ctx) => {
    const env = await setup(kind, ctx);
    if (env.mysql) await env.q("SET time_zone = '+05:00'"); // the ledger keeps UTC whatever the session's zone
    env.write(ID, MIGRATION);
    const before = Date.now();
    await env.t.expand();
    let row = await env.t.ledger.get(ID);
    expect(row?.appliedBy).toBe(env.t.session.actor);
    expect(row?.appliedBy).toMatch(/^.+@.+ pid \d+$/);
    expect(row?.name).toBe('add_flag');
    const near = (date: Date | null | undefined) => {
      expect(date).toBeInstanceOf(Date);
      expect(Math.abs(date!.getTime() - before)).toBeLessThan(60_000);
    };
    near(row?.expandedAt);
    expect(row?.backfilledAt).toBeNull();
    await env.t.backfill();
    await env.t.contract();
    row = await env.t.ledger.get(ID);
    near(row?.backfilledAt);
    near(row?.contractedAt);
    expect(row).toMatchObject({ state: 'contracted', activePhase: null, failed: false, error: null });
    expect(Object.keys(row?.checksums ?? {}).sort()).toEqual(['backfill', 'contract', 'expand']);
    const status = (await env.t.status())[0];
    expect(status?.appliedBy).toBe(env.t.session.actor);
  });

  it("CHECK constraints reject what the state machine never writes", async (ctx) => {
    const env = await setup(kind, ctx);
    env.write(ID, MIGRATION);
    await env.t.expand();
    const migrations = env.table('migrations');
    const failed = env.mysql ? '`failed`' : '"failed"';
    for (const sql of [
      `INSERT INTO ${migrations} (id, name, state) VALUES ('x', 'x', 'deployed')`,
      `UPDATE ${migrations} SET state = 'half_done' WHERE id = '${ID}'`,
      `UPDATE ${migrations} SET active_phase = 'deploy' WHERE id = '${ID}'`,
      `UPDATE ${migrations} SET statements_done = -1 WHERE id = '${ID}'`,
      // A failure always names the phase it happened in.
      `UPDATE ${migrations} SET ${failed} = TRUE, active_phase = NULL WHERE id = '${ID}'`,
      `INSERT INTO ${env.table('events')} (migration_id, phase, outcome, started_at, duration_ms, actor) VALUES ('x', 'expand', 'maybe', ${env.mysql ? 'UTC_TIMESTAMP(3)' : 'now()'}, 1, 'me')`,
      `INSERT INTO ${env.table('events')} (migration_id, phase, outcome, started_at, duration_ms, actor) VALUES ('x', 'deploy', 'failed', ${env.mysql ? 'UTC_TIMESTAMP(3)' : 'now()'}, 1, 'me')`,
    ]) {
      expect(await rejected(env, sql)).toMatch(/check|constraint/i);
    }
    expect(await env.t.ledger.get(ID)).toMatchObject({ state: 'expanded', activePhase: null, failed: false, statementsDone: 0 });
    expect((await env.t.ledger.all()).size).toBe(1);
    // Every known state is accepted.
    for (const state of ['pending', 'expanded', 'backfilled', 'contracted', 'rolled_back']) {
      await env.q(`UPDATE ${migrations} SET state = ? WHERE id = ?`, [state, ID]);
    }
  });
});
