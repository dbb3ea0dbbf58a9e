/**
 * Dropped connections (issue 7 part 3): the server kills tandem's session (pg_terminate_backend /
 * MariaDB KILL) during a phase step and during backfill batches. tandem reconnects, re-takes the
 * runner lock on the new session, and resumes from the ledger: the backfill is the non-idempotent
 * `hits = hits + 1`, so a batch run twice (2) or skipped (0) shows in the data. When another
 * session took the lock meanwhile, tandem refuses to go on (exit 3 class) instead.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { afterAll, describe, expect, it } from 'vitest';
import { collectingReporter, connect, RefusedError } from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { appKnex, rowsOf, sleep } from '../support/app-traffic.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-rel-drop-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const ROWS = 120;

describe.each(['postgres', 'mysql'] as const)('dropped connections on %s', (kind) => {
  const databases: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of databases) await db.drop();
  });
  async function setup(ctx: { skip: (note: string) => void }): Promise<{ db: TestDatabase; app: Knex } | null> {
    const db = await createTestDatabase(kind, 'rel drop');
    if (!db || db.kind === 'pglite') {
      ctx.skip(`${kind} server unavailable`);
      return null;
    }
    databases.push(db);
    const app = appKnex(db, 2);
    await app.raw('CREATE TABLE visits (id int PRIMARY KEY, hits int NOT NULL DEFAULT 0)');
    await app.raw(`INSERT INTO visits (id) ${kind === 'postgres' ? `SELECT g FROM generate_series(1, ${ROWS}) g` : `WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS}) SELECT i FROM n`}`);
    return { db, app };
  }
  const sleepSql = kind === 'postgres' ? 'pg_sleep' : 'SLEEP';
  const ledgerTable = (name: string) => (kind === 'postgres' ? `tandem.${name}` : `tandem_${name}`);

  /**
   * Tandem's own session(s), found by the application name / the statement they run; with
   * `startedWithinMs`, only a statement that began at most that long ago (so it is still running
   * when it is killed: a batch sent as one query commits when it ends).
   */
  async function tandemSessions(app: Knex, db: TestDatabase, running?: string, startedWithinMs = 60_000): Promise<number[]> {
    if (kind === 'postgres') {
      const statement = running ? `AND state = 'active' AND query ILIKE ? AND clock_timestamp() - query_start < ? * interval '1 millisecond'` : '';
      const rows = rowsOf<{ pid: number }>(await app.raw(`SELECT pid FROM pg_stat_activity WHERE datname = ? AND application_name LIKE 'tandem %' ${statement}`, running ? [db.name, `%${running}%`, startedWithinMs] : [db.name]));
      return rows.map((row) => row.pid);
    }
    // MariaDB cannot name a connection: tandem's is the one that holds the runner lock (or runs the statement).
    const rows = running
      ? rowsOf<{ id: number }>(await app.raw(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE ? AND ID <> CONNECTION_ID() AND TIME_MS < ?`, [db.name, `${running}%`, startedWithinMs]))
      : rowsOf<{ id: number }>(await app.raw(`SELECT IS_USED_LOCK(CONCAT('tandem:', DATABASE())) AS id`)).filter((row) => row.id !== null);
    return rows.map((row) => Number(row.id));
  }
  const killSession = (app: Knex, id: number) => app.raw(kind === 'postgres' ? 'SELECT pg_terminate_backend(?)' : `KILL ${Number(id)}`, kind === 'postgres' ? [id] : []);

  /** Kill the first session that runs `running` (begun at most `startedWithinMs` ago), as soon as it shows up. */
  async function killWhenRunning(app: Knex, db: TestDatabase, running: string, startedWithinMs?: number, timeoutMs = 20_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [id] = await tandemSessions(app, db, running, startedWithinMs);
      if (id !== undefined) {
        await killSession(app, id);
        return id;
      }
      if (Date.now() > deadline) throw new Error(`no tandem session ran "${running}" within ${timeoutMs} ms`);
      await sleep(15);
    }
  }

  it('a session killed inside an expand step and inside backfill batches is resumed: every row updated exactly once, the lock held again', async (ctx) => {
    const env = await setup(ctx);
    if (!env) return;
    const { db, app } = env;
    const id = '20260701000000_hits';
    const dir = migrationsDir({
      [`${id}.sql`]: `-- tandem:expand\nALTER TABLE visits ADD COLUMN seen int NULL;\nSELECT ${sleepSql}(1.5);\nCREATE TABLE after_sleep (id int PRIMARY KEY);\n\n-- tandem:backfill\nUPDATE visits SET hits = hits + 1 WHERE ${kind === 'postgres' ? "pg_sleep(0.01)::text = ''" : 'SLEEP(0.01) = 0'};\n`,
    });
    const reporter = collectingReporter();
    const tandem = await connect({ url: db.url, dir, reporter, config: { waitSeconds: 5, backfill: { targetBatchMs: 200, initialBatchSize: 10, minBatchSize: 10, maxBatchSize: 10, pauseMs: 0 } } });
    try {
      const expand = tandem.expand();
      const killedInExpand = await killWhenRunning(app, db, `SELECT ${sleepSql}(1.5)`);
      await expand;
      const backfill = tandem.backfill();
      // Two kills in the middle of batches (each batch sleeps 10 × 10 ms; killed within its first 40 ms).
      const first = await killWhenRunning(app, db, 'UPDATE visits', 40);
      await sleep(300);
      const second = await killWhenRunning(app, db, 'UPDATE visits', 40);
      await backfill;
      expect(new Set([killedInExpand, first, second]).size).toBe(3);

      const hits = rowsOf<{ n: unknown; lo: unknown; hi: unknown }>(await app.raw('SELECT COUNT(*) AS n, MIN(hits) AS lo, MAX(hits) AS hi FROM visits'))[0]!;
      expect({ n: Number(hits.n), lo: Number(hits.lo), hi: Number(hits.hi) }).toEqual({ n: ROWS, lo: 1, hi: 1 });
      const migration = rowsOf<{ state: string; active_phase: string | null }>(await app.raw(`SELECT state, active_phase FROM ${ledgerTable('migrations')}`));
      expect(migration).toEqual([{ state: 'backfilled', active_phase: null }]);
      const events = rowsOf<{ phase: string; outcome: string }>(await app.raw(`SELECT phase, outcome FROM ${ledgerTable('events')} ORDER BY id`));
      expect(events).toEqual([
        { phase: 'expand', outcome: 'interrupted' },
        { phase: 'expand', outcome: 'succeeded' },
        { phase: 'backfill', outcome: 'interrupted' },
        { phase: 'backfill', outcome: 'interrupted' },
        { phase: 'backfill', outcome: 'succeeded' },
      ]);
      expect(reporter.messages.filter((m) => m.includes('reconnecting and resuming'))).toHaveLength(3);
      // The schema is the intended one: the expand statements each ran once.
      expect(rowsOf(await app.raw('SELECT COUNT(*) AS n FROM after_sleep'))).toHaveLength(1);

      // The lock was re-taken by tandem's current session, and the ledger names that session.
      const [holder] = await tandemSessions(app, db);
      const recorded = rowsOf<{ session_id: string }>(await app.raw(`SELECT session_id FROM ${ledgerTable('runners')}`))[0]!;
      if (kind === 'postgres') {
        const lockHolder = rowsOf<{ pid: number }>(await app.raw(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = 1952542308 AND objid = 1 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`));
        expect(lockHolder).toEqual([]); // released after the command
        expect(holder).toBeDefined();
      } else expect(holder).toBeUndefined(); // released after the command
      expect([killedInExpand, first, second]).not.toContain(Number(recorded.session_id));
    } finally {
      await tandem.close();
      await app.destroy();
    }
  }, 120_000);

  it('sessions killed at seeded random moments of expand, backfill and contract (ledger writes included): every row updated once, every phase done once', async (ctx) => {
    const env = await setup(ctx);
    if (!env) return;
    const { db, app } = env;
    const dir = migrationsDir({
      '20260704000000_hits.sql': `-- tandem:expand\nALTER TABLE visits ADD COLUMN seen int NULL;\nCREATE TABLE side_t (id int PRIMARY KEY);\n\n-- tandem:backfill\nUPDATE visits SET hits = hits + 1 WHERE ${kind === 'postgres' ? "pg_sleep(0.003)::text = ''" : 'SLEEP(0.003) = 0'};\n\n-- tandem:contract\nALTER TABLE visits DROP COLUMN seen;\n`,
    });
    const tandem = await connect({ url: db.url, dir, config: { waitSeconds: 5, backfill: { targetBatchMs: 200, initialBatchSize: 10, minBatchSize: 10, maxBatchSize: 10, pauseMs: 0 } } });
    let running = true;
    let kills = 0;
    let seedState = 7;
    const random = () => ((seedState = (seedState * 1103515245 + 12345) % 2147483648) / 2147483648);
    // Whatever tandem's session is doing at that moment: a statement, a batch, a ledger write, idle.
    const killer = (async () => {
      while (running && kills < 6) {
        await sleep(150 + Math.floor(random() * 400));
        const sessions = await tandemSessions(app, db);
        if (!running || sessions.length === 0) continue;
        await killSession(app, sessions[0]!);
        kills++;
      }
    })();
    try {
      await tandem.expand();
      await tandem.backfill();
      await tandem.contract();
    } finally {
      running = false;
      await killer;
      await tandem.close();
    }
    expect(kills).toBeGreaterThan(2);
    const hits = rowsOf<{ n: unknown; lo: unknown; hi: unknown }>(await app.raw('SELECT COUNT(*) AS n, MIN(hits) AS lo, MAX(hits) AS hi FROM visits'))[0]!;
    expect({ n: Number(hits.n), lo: Number(hits.lo), hi: Number(hits.hi) }).toEqual({ n: ROWS, lo: 1, hi: 1 });
    expect(rowsOf(await app.raw(`SELECT state, active_phase FROM ${ledgerTable('migrations')}`))).toEqual([{ state: 'contracted', active_phase: null }]);
    const events = rowsOf<{ phase: string; outcome: string }>(await app.raw(`SELECT phase, outcome FROM ${ledgerTable('events')} ORDER BY id`));
    expect(events.filter((e) => e.outcome === 'succeeded').map((e) => e.phase)).toEqual(['expand', 'backfill', 'contract']);
    expect(events.filter((e) => e.outcome !== 'succeeded' && e.outcome !== 'interrupted')).toEqual([]);
    await app.destroy();
  }, 120_000);

  it('a session killed while taking the runner lock (recording itself in the ledger) starts over on a new connection: the phase runs once, the lock is not left stacked', async (ctx) => {
    const env = await setup(ctx);
    if (!env) return;
    const { db, app } = env;
    const dir = migrationsDir({ '20260705000000_one.sql': '-- tandem:expand\nCREATE TABLE one_t (id int PRIMARY KEY);\n' });
    const tandem = await connect({ url: db.url, dir, config: { waitSeconds: 30 } });
    const holder = await app.transaction();
    try {
      await tandem.expand(); // the ledger and its runners row exist from here on
      writeFileSync(join(dir, '20260705000001_two.sql'), '-- tandem:expand\nCREATE TABLE two_t (id int PRIMARY KEY);\n');
      // Hold the runners row, so tandem, having taken the lock, waits in its ledger write: a kill lands mid-query.
      await holder.raw(kind === 'postgres' ? 'LOCK TABLE tandem.runners IN EXCLUSIVE MODE' : 'SELECT * FROM tandem_runners FOR UPDATE');
      const expand = tandem.expand();
      const first = await killWhenRunning(app, db, 'insert into');
      // The new connection takes the lock again and waits at the same write; then let it through.
      const deadline = Date.now() + 20_000;
      while (!(await tandemSessions(app, db, 'insert into')).some((id) => id !== first)) {
        if (Date.now() > deadline) throw new Error('tandem did not start over after the kill');
        await sleep(50);
      }
      await holder.commit();
      const summary = await expand;
      expect(summary.ran).toEqual(['20260705000001_two']);
      const events = rowsOf<{ phase: string; outcome: string }>(await app.raw(`SELECT phase, outcome FROM ${ledgerTable('events')} ORDER BY id`));
      expect(events).toEqual([
        { phase: 'expand', outcome: 'succeeded' },
        { phase: 'expand', outcome: 'succeeded' },
      ]);
      // Released once and free while tandem's new session is still open: a lock taken twice on it would stay held.
      const taken = rowsOf<{ ok: unknown }>(await app.raw(kind === 'postgres' ? 'SELECT pg_try_advisory_lock(1952542308, 1) AS ok' : "SELECT GET_LOCK(CONCAT('tandem:', DATABASE()), 0) AS ok"))[0]!.ok;
      expect(taken === true || Number(taken) === 1).toBe(true);
    } finally {
      await holder.rollback().catch(() => undefined);
      await tandem.close();
      await app.destroy();
    }
  }, 120_000);

  it('a session killed during CREATE INDEX CONCURRENTLY leaves no INVALID index: the build runs again on the new session', async (ctx) => {
    if (kind !== 'postgres') return ctx.skip('PostgreSQL only');
    const env = await setup(ctx);
    if (!env) return;
    const { db, app } = env;
    const dir = migrationsDir({ '20260703000000_index.sql': '-- tandem:expand\nCREATE INDEX CONCURRENTLY visits_hits_idx ON visits (hits);\n' });
    // An open write transaction makes the build wait with its INVALID index already in the catalog.
    const writer = await app.transaction();
    await writer.raw('UPDATE visits SET hits = hits WHERE id = 1');
    const reporter = collectingReporter();
    const tandem = await connect({ url: db.url, dir, reporter, config: { waitSeconds: 5, lockTimeoutMs: 5000 } });
    try {
      const expand = tandem.expand();
      const deadline = Date.now() + 20_000;
      while (rowsOf(await app.raw(`SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'visits_hits_idx' AND NOT i.indisvalid`)).length === 0) {
        if (Date.now() > deadline) throw new Error('the build never started');
        await sleep(20);
      }
      await killWhenRunning(app, db, 'CREATE INDEX CONCURRENTLY');
      await sleep(300);
      await writer.commit();
      await expand;
      expect(rowsOf(await app.raw('SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid'))).toEqual([]);
      expect(rowsOf(await app.raw(`SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'visits_hits_idx' AND i.indisvalid`))).toHaveLength(1);
      const events = rowsOf<{ outcome: string }>(await app.raw(`SELECT outcome FROM ${ledgerTable('events')} ORDER BY id`));
      expect(events.map((e) => e.outcome)).toEqual(['interrupted', 'succeeded']);
    } finally {
      await writer.rollback().catch(() => undefined);
      await tandem.close();
      await app.destroy();
    }
  }, 120_000);

  it('refuses to go on when another session took the runner lock while the connection was down; a rerun finishes exactly once', async (ctx) => {
    const env = await setup(ctx);
    if (!env) return;
    const { db, app } = env;
    const id = '20260702000000_hits';
    const dir = migrationsDir({ [`${id}.sql`]: `-- tandem:expand\nSELECT 1;\n\n-- tandem:backfill\nUPDATE visits SET hits = hits + 1;\n` });
    const config = { waitSeconds: 5, backfill: { targetBatchMs: 200, initialBatchSize: 10, minBatchSize: 10, maxBatchSize: 10, pauseMs: 0 } };
    const intruder = appKnex(db, 1);
    let batches = 0;
    let intruderConnection: Knex.Transaction | undefined;
    const tandem = await connect({
      url: db.url,
      dir,
      config,
      betweenBatches: async () => {
        if (++batches !== 3) return;
        // Kill tandem's session, and let another session take the lock before tandem reconnects.
        const [holder] = await tandemSessions(app, db);
        await killSession(app, holder!);
        intruderConnection = await intruder.transaction();
        const deadline = Date.now() + 10_000;
        for (;;) {
          const ok = rowsOf<Record<string, unknown>>(await intruderConnection.raw(kind === 'postgres' ? 'SELECT pg_try_advisory_lock(1952542308, 1) AS ok' : `SELECT GET_LOCK(CONCAT('tandem:', DATABASE()), 0) AS ok`))[0]!.ok;
          if (ok === true || Number(ok) === 1) break;
          if (Date.now() > deadline) throw new Error('the intruder never got the lock');
          await sleep(20);
        }
      },
    });
    try {
      await tandem.expand();
      const error = await tandem.backfill().then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(RefusedError);
      expect(String((error as Error).message)).toContain('another session took the runner lock meanwhile');
      await intruderConnection!.rollback().catch(() => undefined);
      await intruder.destroy(); // ends the session, and with it the intruder's lock
    } finally {
      await tandem.close();
    }
    // Nothing ran twice: 3 batches of 10 committed, the rest not yet.
    const partial = rowsOf<{ n: unknown }>(await app.raw('SELECT SUM(hits) AS n FROM visits'))[0]!;
    expect(Number(partial.n)).toBe(30);
    const again = await connect({ url: db.url, dir, config });
    try {
      await again.backfill();
    } finally {
      await again.close();
    }
    const hits = rowsOf<{ lo: unknown; hi: unknown }>(await app.raw('SELECT MIN(hits) AS lo, MAX(hits) AS hi FROM visits'))[0]!;
    expect([Number(hits.lo), Number(hits.hi)]).toEqual([1, 1]);
    await app.destroy();
  }, 120_000);
});
