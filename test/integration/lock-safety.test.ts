/**
 * Lock safety on real servers: a DDL that must wait behind a long transaction must not stall the
 * app's traffic for the whole wait. tandem runs every DDL with a short lock timeout and retries, so
 * the app waits at most about one lock timeout at a time; a naive ALTER stalls it until the long
 * transaction ends. Both are measured in the same test, so the test can tell them apart.
 *
 * And a backfill whose table gets someone's ALTER queued on it retries every statement of a batch.
 *
 * Plus PostgreSQL's CREATE UNIQUE INDEX CONCURRENTLY (server and PGlite): a failed build leaves no
 * INVALID index, and an INVALID leftover of a crashed build is dropped before the build runs again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectingReporter, connect, PhaseFailedError, type Tandem } from '../../src/index.js';
import { ALL_KINDS, createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases.js';
import { appKnex, holdTableLock, rowsOf, sleep, startAppTraffic, type TrafficStats } from '../support/app-traffic.js';

const PGLITE_SKIP = 'PGlite serves one connection per process: no second session can hold a lock against the DDL or send app traffic beside it';

/** PostgreSQL lock_timeout for tandem's DDL. */
const PG_LOCK_TIMEOUT_MS = 300;
/** MySQL/MariaDB lock_wait_timeout is whole seconds. */
const MYSQL_LOCK_WAIT_S = 1;
/** How long the long transaction keeps the table. */
const HOLD_MS = 3500;
/** The DDL starts this long after the long transaction took its lock. */
const DDL_DELAY_MS = 200;
const ROWS = 50;
/** The migration the lock tests run: a metadata-only ALTER, which still needs the table's strongest lock. */
const ADD_NOTE = { '20260101000000_add_note.sql': '-- tandem:expand\nALTER TABLE accounts ADD COLUMN note varchar(40);\n' };
const NOWAIT_SKIP = 'MariaDB/MySQL run such DDL with NOWAIT, which never queues; the watch is for PostgreSQL';

const scratchDirs: string[] = [];

/** A fresh migrations directory in the system temp dir holding the given files. */
function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-lock-safety-'));
  scratchDirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}

interface Contention {
  traffic: TrafficStats;
  ddlDoneAt: number;
  committedAt: number;
}

/**
 * App traffic runs; a long transaction takes the table; shortly after, `ddl` runs. Returns the
 * app's query latencies and when the DDL and the long transaction finished.
 */
async function underContention(db: TestDatabase, ddl: () => Promise<void>): Promise<Contention> {
  const traffic = startAppTraffic(db, { table: 'accounts', ids: Array.from({ length: ROWS }, (_, i) => i + 1), connections: 3 });
  try {
    await sleep(300); // warm the pool: connection set-up is not lock waiting
    const long = holdTableLock(db, 'accounts', HOLD_MS);
    await long.acquired;
    await sleep(DDL_DELAY_MS);
    await ddl();
    const ddlDoneAt = Date.now();
    const committedAt = await long.committed;
    await sleep(300);
    return { traffic: await traffic.stop(), ddlDoneAt, committedAt };
  } catch (error) {
    await traffic.stop().catch(() => undefined);
    throw error;
  }
}

/** The table the app's traffic and the long transaction use: `accounts`, ROWS rows. */
async function createAccounts(db: TestDatabase): Promise<void> {
  const app = appKnex(db, 1);
  try {
    await app.schema.createTable('accounts', (t) => {
      t.integer('id').primary();
      t.integer('n').notNullable().defaultTo(0);
    });
    await app('accounts').insert(Array.from({ length: ROWS }, (_, i) => ({ id: i + 1 })));
  } finally {
    await app.destroy();
  }
}

/** Run expand, which must fail with a PhaseFailedError; returns it. */
async function failingExpand(tandem: Tandem): Promise<PhaseFailedError> {
  const failure = await tandem.expand().then(
    () => null,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(PhaseFailedError);
  return failure as PhaseFailedError;
}

afterAll(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

describe.each(ALL_KINDS)('lock safety on %s', (kind: TestDbKind) => {
  // One database per test: a migration's ledger row must not be seen by another test's directory.
  const databases: TestDatabase[] = [];
  const fresh = async (label: string): Promise<TestDatabase | null> => {
    const db = await createTestDatabase(kind, label);
    if (db) databases.push(db);
    return db;
  };
  afterAll(async () => {
    for (const db of databases) await db.drop();
  });

  it('an ALTER behind a long transaction stalls app queries for about one lock timeout under tandem, for the whole transaction without', async (ctx) => {
    const db = await fresh('lock alter');
    if (!db) return ctx.skip(`${kind} server unavailable`);
    if (db.kind === 'pglite') return ctx.skip(PGLITE_SKIP);
    const mysql = db.kind === 'mysql';

    await createAccounts(db);

    // tandem: short lock timeout, enough retries to outlast the long transaction.
    const dir = migrationsDir(ADD_NOTE);
    const reporter = collectingReporter();
    const tandem = await connect({
      url: db.url,
      dir,
      reporter,
      config: { lockTimeoutMs: PG_LOCK_TIMEOUT_MS, mysqlLockWaitTimeoutSeconds: MYSQL_LOCK_WAIT_S, retries: { count: 40, initialDelayMs: 100, maxDelayMs: 400 }, waitSeconds: 5 },
    });
    let guarded: Contention;
    try {
      guarded = await underContention(db, async () => {
        const summary = await tandem.expand();
        expect(summary.ran).toEqual(['20260101000000_add_note']);
      });
      expect((await tandem.status())[0]?.phase).toBe('expanded');
    } finally {
      await tandem.close();
    }

    // The counter-case: the same ALTER with no lock timeout, behind the same long transaction.
    const naive = await underContention(db, async () => {
      const k = appKnex(db, 1);
      try {
        await k.transaction(async (trx) => {
          await trx.raw(mysql ? 'SET SESSION lock_wait_timeout = 31536000' : 'SET LOCAL lock_timeout = 0');
          await trx.raw('ALTER TABLE accounts ADD COLUMN naive_note varchar(40)');
        });
      } finally {
        await k.destroy();
      }
    });

    const boundMs = mysql ? MYSQL_LOCK_WAIT_S * 1000 + 1000 : PG_LOCK_TIMEOUT_MS + 700;
    const remainingMs = HOLD_MS - DDL_DELAY_MS;
    console.log(
      `[lock-safety ${db.kind}] worst app query: tandem ${guarded.traffic.worstMs} ms (${guarded.traffic.samples.length} queries, ${reporter.retries.length} retries), ` +
        `naive ALTER ${naive.traffic.worstMs} ms (${naive.traffic.samples.length} queries); bound ${boundMs} ms, long transaction left ${remainingMs} ms`,
    );

    // tandem waited out the long transaction by retrying, and finished only after it ended.
    expect(reporter.retries.length).toBeGreaterThanOrEqual(1);
    expect(guarded.ddlDoneAt).toBeGreaterThanOrEqual(guarded.committedAt - 50);
    expect(guarded.traffic.errors).toEqual([]);
    expect(guarded.traffic.samples.length).toBeGreaterThan(20);
    expect(guarded.traffic.worstMs).toBeLessThan(boundMs);

    // Without a lock timeout the app stalls for about the rest of the long transaction.
    expect(naive.traffic.errors).toEqual([]);
    expect(naive.traffic.worstMs).toBeGreaterThan(remainingMs * 0.7);
    expect(naive.traffic.worstMs).toBeGreaterThan(guarded.traffic.worstMs * 2);
  });

  it('PostgreSQL: a step queued behind an idle transaction leaves the lock queue at once, and runs as soon as that transaction ends', async (ctx) => {
    const db = await fresh('lock watch');
    if (!db) return ctx.skip(`${kind} server unavailable`);
    if (db.kind === 'pglite') return ctx.skip(PGLITE_SKIP);
    if (db.kind === 'mysql') return ctx.skip(NOWAIT_SKIP);

    await createAccounts(db);

    // Lock timeouts far longer than the long transaction: without the watch, the ALTER would sit in
    // the lock queue, and the app's queries behind it, until the transaction ends.
    const dir = migrationsDir(ADD_NOTE);
    const reporter = collectingReporter();
    const tandem = await connect({ url: db.url, dir, reporter, config: { lockTimeoutMs: 10_000, blockingLockTimeoutMs: 10_000, retries: { count: 3, maxDelayMs: 15_000 } } });
    let watched: Contention;
    try {
      watched = await underContention(db, async () => {
        expect((await tandem.expand()).ran).toEqual(['20260101000000_add_note']);
      });
      expect((await tandem.status())[0]?.phase).toBe('expanded');
    } finally {
      await tandem.close();
    }
    console.log(`[lock-safety ${db.kind}] watched: worst app query ${watched.traffic.worstMs} ms of ${watched.traffic.samples.length}; step done ${watched.ddlDoneAt - watched.committedAt} ms after the long transaction ended`);

    // One retry, which waited for the holder (named) rather than for a backoff.
    expect(reporter.retries).toHaveLength(1);
    expect(reporter.retries[0]!.untilHolderEnds).toBe(true);
    expect(String((reporter.retries[0]!.error as Error).message)).toMatch(/the lock on accounts is held by pid \d+.*, idle in transaction, its transaction open for \d/);
    // The app waited milliseconds, not the 3 s the transaction had left, and the step ran right after it.
    expect(watched.traffic.errors).toEqual([]);
    expect(watched.traffic.samples.length).toBeGreaterThan(20);
    expect(watched.traffic.worstMs).toBeLessThan(1000);
    expect(watched.ddlDoneAt).toBeGreaterThanOrEqual(watched.committedAt - 50);
    expect(watched.ddlDoneAt - watched.committedAt).toBeLessThan(2000);
  });

  it('PostgreSQL: when the retries run out behind an idle transaction, the phase fails naming the holder and the fix, applies nothing, and a rerun succeeds', async (ctx) => {
    const db = await fresh('lock watch gives up');
    if (!db) return ctx.skip(`${kind} server unavailable`);
    if (db.kind === 'pglite') return ctx.skip(PGLITE_SKIP);
    if (db.kind === 'mysql') return ctx.skip(NOWAIT_SKIP);

    await createAccounts(db);
    const dir = migrationsDir(ADD_NOTE);
    const reporter = collectingReporter();
    // One retry, which waits at most 200 ms for the holder: far less than the 2 s it holds the lock.
    const tandem = await connect({ url: db.url, dir, reporter, config: { retries: { count: 1, maxDelayMs: 200 } } });
    try {
      const long = holdTableLock(db, 'accounts', 2000);
      await long.acquired;
      const failure = await failingExpand(tandem);
      const message = failure.message;
      const fix = String(failure.fix);
      const pid = /held by pid (\d+)/.exec(message)?.[1];
      expect(pid).toBeDefined();
      expect(message).toMatch(/nothing of it was applied/);
      expect(fix).toContain(`SELECT pg_terminate_backend(${pid})`);
      expect(reporter.retries).toHaveLength(1);

      // status explains it: the expand failed, on the holder.
      const [row] = await tandem.status();
      expect(row?.activePhase).toBe('expand');
      expect(row?.error).toContain(`held by pid ${pid}`);
      expect(row?.statementsDone).toBe(0);
      await long.committed;
      expect((await tandem.expand()).ran).toEqual(['20260101000000_add_note']);
      expect((await tandem.status())[0]?.phase).toBe('expanded');
    } finally {
      await tandem.close();
    }
  });

  it('PostgreSQL: a step of several statements that waits names the table it waited for, though its line is the step\'s first', async (ctx) => {
    const db = await fresh('lock watch names the table');
    if (!db) return ctx.skip(`${kind} server unavailable`);
    if (db.kind === 'pglite') return ctx.skip(PGLITE_SKIP);
    if (db.kind === 'mysql') return ctx.skip(NOWAIT_SKIP);

    await createAccounts(db);
    // One transaction step: PostgreSQL gets both statements in one query and does not say which one waited.
    const dir = migrationsDir({ '20260101000000_two.sql': '-- tandem:expand\nCREATE TABLE audit_notes (id int);\nALTER TABLE accounts ADD COLUMN note varchar(40);\n' });
    const tandem = await connect({ url: db.url, dir, reporter: collectingReporter(), config: { retries: { count: 1, maxDelayMs: 100 } } });
    try {
      const long = holdTableLock(db, 'accounts', 1500);
      await long.acquired;
      const failure = await failingExpand(tandem);
      expect(failure.message).toMatch(/the lock on accounts is held by pid \d+/);
      expect((await tandem.status())[0]?.error).toContain('the lock on accounts is held by pid');
      await long.committed;
      expect((await tandem.expand()).ran).toEqual(['20260101000000_two']);
    } finally {
      await tandem.close();
    }
  });

  it('when a lock timeout outlasts the retries, the phase fails naming the open transaction and how to end it; status explains it, and a rerun succeeds', async (ctx) => {
    const db = await fresh('lock retries run out');
    if (!db) return ctx.skip(`${kind} server unavailable`);
    if (db.kind === 'pglite') return ctx.skip(PGLITE_SKIP);
    const mysql = db.kind === 'mysql';

    await createAccounts(db);
    // PostgreSQL: an UPDATE waits for a row lock, which the lock watch leaves to lock_timeout (it
    // only watches steps that queue the app behind them). MariaDB: the ALTER runs NOWAIT and meets
    // the holder's metadata lock.
    const dir = migrationsDir(mysql ? ADD_NOTE : { '20260101000000_add_note.sql': '-- tandem:expand\nUPDATE accounts SET n = 7 WHERE id = 1;\n' });
    const tandem = await connect({ url: db.url, dir, reporter: collectingReporter(), config: { lockTimeoutMs: 200, mysqlLockWaitTimeoutSeconds: 1, retries: { count: 1, initialDelayMs: 50, maxDelayMs: 100 } } });
    // The holder: a transaction that locked the row (and with it the table's metadata), then idles.
    const holder = appKnex(db, 1);
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const acquired = new Promise<void>((resolve) => (locked = resolve));
    let holderId = 0;
    const holding = holder.transaction(async (trx) => {
      holderId = Number(rowsOf<{ id: unknown }>(await trx.raw(mysql ? 'SELECT CONNECTION_ID() AS id' : 'SELECT pg_backend_pid() AS id'))[0]!.id);
      await trx.raw('UPDATE accounts SET n = n + 1 WHERE id = 1');
      locked();
      await released;
    });
    holding.catch(() => locked()); // a failure surfaces through `holding`; never leave `acquired` hanging
    try {
      await acquired;
      const failure = await failingExpand(tandem);
      const message = failure.message;
      const fix = String(failure.fix);
      const who = mysql ? `thread ${holderId} (` : `pid ${holderId}`;
      expect(message).toMatch(mysql ? /Lock wait timeout exceeded/ : /lock timeout/);
      expect(message).toContain('another session held a lock the step needs through all 2 attempts; open transactions now: ');
      expect(message).toContain(who);
      expect(message).toMatch(mysql ? /, Sleep, its transaction open for \d+\.\d s/ : /, idle in transaction, its transaction open for \d+\.\d s, holding locks on accounts/);
      expect(message).toMatch(/nothing of it was applied/);
      expect(fix).toContain(mysql ? `KILL ${holderId} ends it` : `SELECT pg_terminate_backend(${holderId}) ends it`);
      expect(fix).not.toContain('fix the statement');

      const [row] = await tandem.status();
      expect(row?.activePhase).toBe('expand');
      expect(row?.error).toContain(who);
      release();
      await holding;
      expect((await tandem.expand()).ran).toEqual(['20260101000000_add_note']);
      expect((await tandem.status())[0]?.phase).toBe('expanded');
    } finally {
      release();
      await holding.catch(() => undefined);
      await holder.destroy();
      await tandem.close();
    }
  });

  it('PostgreSQL: a role that cannot see the holder\'s session is told so, and where to look, rather than that short transactions kept the lock', async (ctx) => {
    const db = await fresh('lock holder unseen');
    if (!db) return ctx.skip(`${kind} server unavailable`);
    if (db.kind === 'pglite') return ctx.skip(PGLITE_SKIP);
    if (db.kind === 'mysql') return ctx.skip('MariaDB/MySQL: without the PROCESS privilege the list cannot be read at all (an error), which the fix covers');

    await createAccounts(db);
    // tandem as a role of its own, without pg_read_all_stats; the holder is the test's superuser.
    const role = `tandem_unseen_${process.pid}_${Date.now() % 100000}`;
    const admin = appKnex(db, 1);
    const database = new URL(db.url).pathname.slice(1);
    await admin.raw(`CREATE ROLE "${role}" LOGIN`);
    await admin.raw(`GRANT CREATE, CONNECT ON DATABASE "${database}" TO "${role}"`);
    await admin.raw(`GRANT USAGE, CREATE ON SCHEMA public TO "${role}"`);
    await admin.raw(`GRANT SELECT, UPDATE ON accounts TO "${role}"`);
    const url = new URL(db.url);
    url.username = role;
    url.password = '';
    const dir = migrationsDir({ '20260101000000_bump.sql': '-- tandem:expand\nUPDATE accounts SET n = 7 WHERE id = 1;\n' });
    const tandem = await connect({ url: url.toString(), dir, reporter: collectingReporter(), config: { lockTimeoutMs: 200, retries: { count: 1, initialDelayMs: 50, maxDelayMs: 100 } } });
    try {
      const failure = await admin.transaction(async (trx) => {
        await trx.raw('UPDATE accounts SET n = n + 1 WHERE id = 1');
        return failingExpand(tandem);
      });
      const message = failure.message;
      expect(message).toMatch(/tandem's role cannot see [1-9]\d* other session\(s\) in this database, which may hold it/);
      expect(message).not.toContain('short ones kept the lock busy');
      expect(String(failure.fix)).toContain('pg_stat_activity as a role that sees every session');
      expect((await tandem.expand()).ran).toEqual(['20260101000000_bump']);
    } finally {
      await tandem.close();
      await admin.raw(`DROP OWNED BY "${role}"`).catch(() => undefined);
      await admin.raw(`DROP ROLE "${role}"`).catch(() => undefined);
      await admin.destroy();
    }
  });

  it('a backfill that meets a queued ALTER on its table retries through it instead of failing', async (ctx) => {
    const db = await fresh('lock backfill');
    if (!db) return ctx.skip(`${kind} server unavailable`);
    if (db.kind === 'pglite') return ctx.skip(PGLITE_SKIP);
    const mysql = db.kind === 'mysql';
    const TOTAL = 2000;

    const app = appKnex(db, 1);
    try {
      await app.schema.createTable('payments', (t) => {
        t.integer('id').primary();
      });
      await app.batchInsert('payments', Array.from({ length: TOTAL }, (_, i) => ({ id: i + 1 })), 1000);
    } finally {
      await app.destroy();
    }

    // Between two batches: a long transaction takes the table and someone's ALTER queues behind it,
    // so every statement on the table (the next batch's key probe, its UPDATE) waits in line.
    let between = 0;
    let blocker: Promise<void> | undefined;
    const queueAnAlter = async (): Promise<void> => {
      if (++between !== 3) return;
      const long = holdTableLock(db, 'payments', 2000);
      await long.acquired;
      const k = appKnex(db, 1);
      blocker = (async () => {
        try {
          await k.raw(mysql ? 'SET SESSION lock_wait_timeout = 31536000' : 'SET lock_timeout = 0');
          await k.raw('ALTER TABLE payments ADD COLUMN memo varchar(20)');
          await long.committed;
        } finally {
          await k.destroy();
        }
      })();
      await sleep(200); // let the ALTER reach the lock queue
    };

    const dir = migrationsDir({ '20260104000000_payment_hits.sql': '-- tandem:expand\nALTER TABLE payments ADD COLUMN hits int NOT NULL DEFAULT 0;\n\n-- tandem:backfill\nUPDATE payments SET hits = hits + 1;\n' });
    const reporter = collectingReporter();
    const tandem = await connect({
      url: db.url,
      dir,
      reporter,
      betweenBatches: queueAnAlter,
      config: {
        lockTimeoutMs: PG_LOCK_TIMEOUT_MS,
        mysqlLockWaitTimeoutSeconds: MYSQL_LOCK_WAIT_S,
        retries: { count: 40, initialDelayMs: 100, maxDelayMs: 400 },
        backfill: { targetBatchMs: 200, initialBatchSize: 100, minBatchSize: 100, maxBatchSize: 100, pauseMs: 0 },
      },
    });
    try {
      await tandem.expand();
      await tandem.backfill();
      await blocker;
      expect(between).toBeGreaterThan(3);
      expect(reporter.retries.length).toBeGreaterThanOrEqual(1);
      const result = await tandem.session.db.raw('SELECT COUNT(*) AS n, MIN(hits) AS lo, MAX(hits) AS hi, COUNT(memo) AS memos FROM payments');
      const row = rowsOf<Record<string, unknown>>(result)[0]!;
      expect([Number(row.n), Number(row.lo), Number(row.hi), Number(row.memos)]).toEqual([TOTAL, 1, 1, 0]);
      expect((await tandem.status())[0]?.phase).toBe('backfilled');
    } finally {
      await blocker?.catch(() => undefined);
      await tandem.close();
    }
  });

  it('a failed CREATE UNIQUE INDEX CONCURRENTLY leaves no INVALID index, and a rerun after fixing the data succeeds', async (ctx) => {
    const db = await fresh('lock cic failed');
    if (!db) return ctx.skip(`${kind} server unavailable`);
    if (db.kind === 'mysql') return ctx.skip('CREATE INDEX CONCURRENTLY is PostgreSQL-only');

    const id = '20260102000000_unique_email';
    const dir = migrationsDir({ [`${id}.sql`]: '-- tandem:expand\nCREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);\n' });
    const tandem = await connect({ url: db.url, dir, config: { lockTimeoutMs: 1000, retries: { count: 2, initialDelayMs: 50, maxDelayMs: 100 } } });
    try {
      const sql = tandem.session.db;
      await sql.raw('CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL)');
      await sql.raw(`INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 200) g`);
      await sql.raw(`UPDATE users SET email = 'dup@example.com' WHERE id IN (17, 171)`);

      const failure = await tandem.expand().catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PhaseFailedError);
      expect((failure as Error).message).toMatch(/could not create unique index|duplicate/i);

      expect(await indexesOf(tandem.session.db, 'users_email_key')).toEqual([]);
      expect(await invalidIndexCount(tandem.session.db)).toBe(0);
      const failed = (await tandem.status()).find((s) => s.id === id)!;
      expect(failed.phase).toBe('failed');
      expect(failed.activePhase).toBe('expand');
      expect(failed.error).toMatch(/users_email_key|duplicate|unique/i);

      await sql.raw(`UPDATE users SET email = 'fixed171@example.com' WHERE id = 171`);
      await tandem.expand();
      expect(await indexesOf(tandem.session.db, 'users_email_key')).toEqual([{ valid: true, unique: true }]);
      expect((await tandem.status()).find((s) => s.id === id)!.phase).toBe('expanded');
    } finally {
      await tandem.close();
    }
  });

  it('an INVALID leftover index of a crashed concurrent build is dropped before the build runs again', async (ctx) => {
    const db = await fresh('lock cic leftover');
    if (!db) return ctx.skip(`${kind} server unavailable`);
    if (db.kind === 'mysql') return ctx.skip('CREATE INDEX CONCURRENTLY is PostgreSQL-only');

    const id = '20260103000000_unique_sku';
    const dir = migrationsDir({ [`${id}.sql`]: '-- tandem:expand\nCREATE UNIQUE INDEX CONCURRENTLY items_sku_key ON items (sku);\n' });
    const tandem = await connect({ url: db.url, dir, config: { lockTimeoutMs: 1000, retries: { count: 2, initialDelayMs: 50, maxDelayMs: 100 } } });
    try {
      const sql = tandem.session.db;
      await sql.raw('CREATE TABLE items (id int PRIMARY KEY, sku text NOT NULL)');
      await sql.raw(`INSERT INTO items SELECT g, 'sku-' || g FROM generate_series(1, 200) g`);
      await sql.raw(`UPDATE items SET sku = 'sku-1' WHERE id = 2`);

      // A build that dies half-way leaves its index behind, marked INVALID: simulate it by hand.
      await expect(sql.raw('CREATE UNIQUE INDEX CONCURRENTLY items_sku_key ON items (sku)')).rejects.toThrow(/could not create unique index/);
      expect(await indexesOf(sql, 'items_sku_key')).toEqual([{ valid: false, unique: true }]);
      // Proof the leftover is in the way: the same build, run as is, fails on it.
      await expect(sql.raw('CREATE UNIQUE INDEX CONCURRENTLY items_sku_key ON items (sku)')).rejects.toThrow(/already exists/);

      await sql.raw(`UPDATE items SET sku = 'sku-2' WHERE id = 2`);
      await tandem.expand();
      expect(await indexesOf(sql, 'items_sku_key')).toEqual([{ valid: true, unique: true }]);
      expect(await invalidIndexCount(sql)).toBe(0);
      expect((await tandem.status()).find((s) => s.id === id)!.phase).toBe('expanded');

      // With IF NOT EXISTS, PostgreSQL itself would skip the build and keep the INVALID leftover.
      await sql.raw(`ALTER TABLE items ADD COLUMN code text`);
      await sql.raw(`UPDATE items SET code = 'c-' || (id % 100)`);
      await expect(sql.raw('CREATE UNIQUE INDEX CONCURRENTLY items_code_key ON items (code)')).rejects.toThrow(/could not create unique index/);
      expect(await indexesOf(sql, 'items_code_key')).toEqual([{ valid: false, unique: true }]);
      await sql.raw(`UPDATE items SET code = 'c-' || id`);
      writeFileSync(join(dir, '20260103000001_unique_code.sql'), '-- tandem:expand\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS items_code_key ON items (code);\n');
      await tandem.expand();
      expect(await indexesOf(sql, 'items_code_key')).toEqual([{ valid: true, unique: true }]);
      expect(await invalidIndexCount(sql)).toBe(0);
    } finally {
      await tandem.close();
    }
  });
});

async function indexesOf(sql: import('knex').Knex, name: string): Promise<Array<{ valid: boolean; unique: boolean }>> {
  const result = await sql.raw(
    `SELECT i.indisvalid AS valid, i.indisunique AS unique FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ?`,
    [name],
  );
  return rowsOf<{ valid: boolean; unique: boolean }>(result);
}

async function invalidIndexCount(sql: import('knex').Knex): Promise<number> {
  return Number(rowsOf<{ n: string }>(await sql.raw('SELECT count(*) AS n FROM pg_index WHERE NOT indisvalid'))[0]?.n);
}
