/**
 * The backfill pauses while a replica falls behind, on real replication (test/support/replication.ts
 * starts a throwaway primary and standby, or source and replica). The backfill is the
 * non-idempotent `hits = hits + 1` of backfill.test.ts: every row ends with hits = 1 only if each
 * was updated exactly once across the pauses.
 *
 * How a replica is made to fall behind, for real: a PostgreSQL standby with
 * recovery_min_apply_delay holds back every commit it receives; a MariaDB replica whose SQL thread
 * is stopped applies nothing (its lag is then unknown, Seconds_Behind_Master NULL).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingReporter, connect, type Tandem, type TandemConfigInput } from '../../src/index.js';
import { rowsOf, sleep } from '../support/app-traffic.js';
import { jsonLines, runCli } from '../support/spawn-cli.js';
import { startMariadbPair, startPostgresPair, type ReplicationPair } from '../support/replication.js';

const ROWS = 20_000;
const BATCH = 500;
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function migrationsDir(table: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-replica-lag-'));
  dirs.push(dir);
  writeFileSync(join(dir, `20260401000000_${table}.sql`), `-- tandem:expand\nALTER TABLE ${table} ADD COLUMN hits int NOT NULL DEFAULT 0;\n\n-- tandem:backfill\nUPDATE ${table} SET hits = hits + 1;\n`);
  return dir;
}

function config(backfill: Record<string, unknown>): TandemConfigInput {
  return { waitSeconds: 5, backfill: { targetBatchMs: 200, initialBatchSize: BATCH, minBatchSize: BATCH, maxBatchSize: BATCH, ...backfill } };
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** PostgreSQL: a table of ROWS rows, and the migration's expand (which adds `hits`). */
async function expandWithRows(tandem: Tandem, table: string): Promise<void> {
  await tandem.session.db.raw(`CREATE TABLE ${table} (id int PRIMARY KEY, payload text)`);
  await tandem.session.db.raw(`INSERT INTO ${table} SELECT g, repeat('x', 50) FROM generate_series(1, ${ROWS}) AS g`);
  await tandem.expand();
}

/** Wait for the running backfill's pause notice; fail at once if the backfill ends (or fails) first. */
async function pauseNotice(backfill: Promise<unknown>, messages: string[], pattern: RegExp): Promise<void> {
  let ended: unknown = null;
  backfill.then(
    () => (ended = new Error(`the backfill finished without a notice matching ${pattern}`)),
    (error) => (ended = error),
  );
  await waitFor('the pause notice', () => ended !== null || messages.some((m) => pattern.test(m)));
  if (ended && !messages.some((m) => pattern.test(m))) throw ended;
}

async function waitForAsync(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function hits(tandem: Tandem, table: string): Promise<{ ones: number; rows: number }> {
  const row = rowsOf<Record<string, unknown>>(await tandem.session.db.raw(`SELECT COUNT(*) AS n, SUM(CASE WHEN hits = 1 THEN 1 ELSE 0 END) AS ones FROM ${table}`))[0]!;
  return { rows: Number(row.n), ones: Number(row.ones) };
}

describe('backfill and replica lag on postgres (primary + streaming standby)', () => {
  let pair: ReplicationPair | null = null;
  let reason = '';
  beforeAll(async () => {
    ({ pair, reason } = await startPostgresPair('tandem_standby'));
  }, 60_000);
  afterAll(async () => {
    await pair?.stop();
  });

  /** A fresh database on the primary, for one test's ledger and table. */
  async function database(name: string): Promise<string> {
    const admin = await connect({ url: pair!.primaryUrl, dir: migrationsDir('admin'), config: config({}) });
    await admin.session.db.raw(`CREATE DATABASE ${name}`);
    await admin.close();
    return pair!.primaryUrl.replace(/\/postgres$/, `/${name}`);
  }

  const holdBack = async (delay: string) => {
    await pair!.onReplica(`ALTER SYSTEM SET recovery_min_apply_delay = '${delay}'`);
    await pair!.onReplica('SELECT pg_reload_conf()');
  };

  it('pauses while the standby holds WAL back, names it and its lag, and goes on once it catches up', async (ctx) => {
    if (!pair) return ctx.skip(reason);
    const reporter = collectingReporter();
    const tandem = await connect({ url: await database('lag_pings'), dir: migrationsDir('pings'), reporter, config: config({ maxReplicaLagMs: 500, pauseMs: 30 }) });
    try {
      await expandWithRows(tandem, 'pings');
      await holdBack('3s');
      const backfill = tandem.backfill();
      await pauseNotice(backfill, reporter.messages, /standby tandem_standby is/);
      expect(reporter.messages.find((m) => /standby tandem_standby is/.test(m))).toMatch(/pausing batches while standby tandem_standby is \d+\.\d s behind \(backfill\.maxReplicaLagMs is 500\)/);
      // Each batch now waits until the standby has applied the last one, 3 s after it committed: over
      // 3 s at most two more batches run (unpaused, the 40 batches take about 1.5 s).
      const rowsAt = () => reporter.snapshots.at(-1)?.rowsDone ?? 0;
      const before = rowsAt();
      await sleep(3_000);
      expect(rowsAt() - before).toBeLessThanOrEqual(2 * BATCH);
      expect(rowsAt()).toBeLessThan(ROWS);
      await holdBack('0');
      await backfill;
      expect(await hits(tandem, 'pings')).toEqual({ rows: ROWS, ones: ROWS });
      const last = reporter.snapshots.at(-1)!;
      expect(last.pausedFor).toEqual(['replica lag']);
      expect(last.throttledMs).toBeGreaterThan(2_000);
    } finally {
      await holdBack('0');
      await tandem.close();
    }
  }, 90_000);

  it('does not wait with maxReplicaLagMs null, however far behind the standby is', async (ctx) => {
    if (!pair) return ctx.skip(reason);
    const reporter = collectingReporter();
    const tandem = await connect({ url: await database('lag_pongs'), dir: migrationsDir('pongs'), reporter, config: config({ maxReplicaLagMs: null }) });
    try {
      await expandWithRows(tandem, 'pongs');
      await holdBack('3s');
      await tandem.backfill();
      expect(await hits(tandem, 'pongs')).toEqual({ rows: ROWS, ones: ROWS });
      expect(reporter.snapshots.at(-1)!.throttledMs).toBe(0);
      expect(reporter.messages.filter((m) => /behind/.test(m))).toEqual([]);
    } finally {
      await holdBack('0');
      await tandem.close();
    }
  }, 60_000);

  it('watches the standbys named by URL instead, asking each for its replay position; refuses one that is no standby', async (ctx) => {
    if (!pair) return ctx.skip(reason);
    const reporter = collectingReporter();
    const tandem = await connect({ url: await database('lag_pangs'), dir: migrationsDir('pangs'), reporter, config: config({ maxReplicaLagMs: 500, pauseMs: 30, replicas: [pair.primaryUrl] }) });
    try {
      await expandWithRows(tandem, 'pangs');
      // The primary is no standby: refused before any batch.
      await expect(tandem.backfill()).rejects.toThrow(/standby 1 of 1 \(postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres\) is not a standby \(pg_is_in_recovery\(\) is false\)/);
      expect(await hits(tandem, 'pangs')).toEqual({ rows: ROWS, ones: 0 });
    } finally {
      await tandem.close();
    }
    const named = await connect({ url: pair.primaryUrl.replace(/\/postgres$/, '/lag_pangs'), dir: migrationsDir('pangs'), reporter, config: config({ maxReplicaLagMs: 500, pauseMs: 30, replicas: [pair.replicaUrl] }) });
    try {
      await holdBack('3s');
      const backfill = named.backfill();
      await pauseNotice(backfill, reporter.messages, /s behind/);
      expect(reporter.messages.find((m) => /s behind/.test(m))).toContain(`pausing batches while standby ${pair.replicaUrl} is `);
      await holdBack('0');
      await backfill;
      expect(await hits(named, 'pangs')).toEqual({ rows: ROWS, ones: ROWS });
      expect(reporter.snapshots.at(-1)!.pausedFor).toEqual(['replica lag']);
    } finally {
      await holdBack('0');
      await named.close();
    }
  }, 60_000);

  it('does not wait for a logical decoding consumer (a CDC connector) that lags', async (ctx) => {
    if (!pair) return ctx.skip(reason);
    const url = await database('lag_pyngs');
    const port = new URL(url).port;
    const recvlogical = (args: string[]) => [join(pair!.bin!, 'pg_recvlogical'), ['-h', '127.0.0.1', '-p', port, '-U', 'postgres', '-d', 'lag_pyngs', '--slot', 'tandem_cdc', ...args]] as const;
    const reporter = collectingReporter();
    const tandem = await connect({ url, dir: migrationsDir('pyngs'), reporter, config: config({ maxReplicaLagMs: 500, pauseMs: 30 }) });
    // A consumer that reports its position only every 10 minutes, so it is soon "behind".
    const [command, createArgs] = recvlogical(['--create-slot', '-P', 'test_decoding']);
    const created = spawnSync(command, createArgs, { encoding: 'utf8' });
    expect(created.status, created.stderr).toBe(0);
    const consumer = spawn(...recvlogical(['--start', '-f', '/dev/null', '--status-interval=600', '--fsync-interval=600']), { stdio: 'ignore' });
    try {
      const sql = tandem.session.db;
      await waitForAsync('the consumer to stream', async () => rowsOf<{ n: unknown }>(await sql.raw(`SELECT count(*) AS n FROM pg_stat_replication WHERE application_name = 'pg_recvlogical' AND state = 'streaming'`))[0]!.n === '1');
      await expandWithRows(tandem, 'pyngs');
      await tandem.backfill();
      expect(await hits(tandem, 'pyngs')).toEqual({ rows: ROWS, ones: ROWS });
      expect(reporter.snapshots.at(-1)!.throttledMs).toBe(0);
      expect(reporter.messages.filter((m) => /behind/.test(m))).toEqual([]);
    } finally {
      consumer.kill();
      await new Promise((resolve) => (consumer.exitCode === null ? consumer.once('exit', resolve) : resolve(null)));
      await tandem.session.db.raw(`SELECT pg_drop_replication_slot('tandem_cdc')`).catch(() => undefined);
      await tandem.close();
    }
  }, 60_000);

  it('says so, and does not wait, when its user may not see the standbys', async (ctx) => {
    if (!pair) return ctx.skip(reason);
    const admin = await connect({ url: pair.primaryUrl, dir: migrationsDir('admin'), config: config({}) });
    await admin.session.db.raw('CREATE ROLE lag_watcher LOGIN');
    await admin.session.db.raw('CREATE DATABASE lag_pengs OWNER lag_watcher');
    await admin.close();
    const reporter = collectingReporter();
    const url = pair.primaryUrl.replace('postgres@', 'lag_watcher@').replace(/\/postgres$/, '/lag_pengs');
    const tandem = await connect({ url, dir: migrationsDir('pengs'), reporter, config: config({ maxReplicaLagMs: 500, pauseMs: 30 }) });
    try {
      await expandWithRows(tandem, 'pengs');
      await holdBack('3s');
      await tandem.backfill();
      expect(await hits(tandem, 'pengs')).toEqual({ rows: ROWS, ones: ROWS });
      expect(reporter.snapshots.at(-1)!.throttledMs).toBe(0);
      expect(reporter.messages.filter((m) => /standby/.test(m))).toEqual([
        expect.stringMatching(/cannot see the standbys' progress \(pg_stat_replication needs the pg_read_all_stats role or a superuser\), so the backfill does not pause for replica lag: GRANT pg_read_all_stats/),
      ]);
    } finally {
      await holdBack('0');
      await tandem.close();
    }
  }, 60_000);
});

describe('backfill and replica lag on mariadb (source + replica)', () => {
  let pair: ReplicationPair | null = null;
  let reason = '';
  beforeAll(async () => {
    ({ pair, reason } = await startMariadbPair());
  }, 60_000);
  afterAll(async () => {
    await pair?.stop();
  });

  /** A fresh database on the source (replicated), and a table of ROWS rows in it. */
  async function sourceWithTable(name: string, backfill: Record<string, unknown>) {
    const reporter = collectingReporter();
    const admin = await connect({ url: pair!.primaryUrl, dir: migrationsDir(name), config: config({}) });
    await admin.session.db.raw(`CREATE DATABASE lag_${name}`);
    await admin.close();
    const tandem = await connect({ url: pair!.primaryUrl.replace(/\/mysql$/, `/lag_${name}`), dir: migrationsDir(name), reporter, config: config(backfill) });
    await tandem.session.db.raw(`CREATE TABLE ${name} (id int PRIMARY KEY, payload varchar(50))`);
    await tandem.session.db.raw(`INSERT INTO ${name} SELECT seq, REPEAT('x', 50) FROM seq_1_to_${ROWS}`);
    await tandem.expand();
    return { tandem, reporter };
  }

  it('pauses while a listed replica is not replicating, names it, and goes on once it replicates again', async (ctx) => {
    if (!pair) return ctx.skip(reason);
    // The throwaway servers' redo log is small: redoThrottlePercent 100 keeps that throttle out of this test.
    const { tandem, reporter } = await sourceWithTable('pings', { replicas: [pair.replicaUrl], maxReplicaLagMs: 1000, redoThrottlePercent: 100 });
    try {
      await pair.onReplica('STOP SLAVE SQL_THREAD');
      const backfill = tandem.backfill();
      await pauseNotice(backfill, reporter.messages, /is not replicating/);
      const replica = pair.replicaUrl;
      expect(reporter.messages.find((m) => /is not replicating/.test(m))).toContain(`pausing batches while replica ${replica} is not replicating (IO thread: Yes, SQL thread: No) (backfill.maxReplicaLagMs is 1000)`);
      // While the replica applies nothing, no batch runs.
      await sleep(1_500);
      expect(await hits(tandem, 'pings')).toEqual({ rows: ROWS, ones: 0 });
      await pair.onReplica('START SLAVE SQL_THREAD');
      await backfill;
      expect(await hits(tandem, 'pings')).toEqual({ rows: ROWS, ones: ROWS });
      const last = reporter.snapshots.at(-1)!;
      expect(last.pausedFor).toEqual(['replica lag']);
      expect(last.throttledMs).toBeGreaterThan(1_000);
    } finally {
      await pair.onReplica('START SLAVE SQL_THREAD');
      await tandem.close();
    }
  }, 90_000);

  it('pauses while a listed replica is seconds behind (MASTER_DELAY), says how far, and goes on once it is within the limit', async (ctx) => {
    if (!pair) return ctx.skip(reason);
    const delay = async (seconds: number) => pair!.onReplica(`STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = ${seconds}; START SLAVE`);
    const { tandem, reporter } = await sourceWithTable('pongs', { replicas: [pair.replicaUrl], maxReplicaLagMs: 1000, redoThrottlePercent: 100, pauseMs: 150 });
    try {
      await delay(3);
      // Unpaused, the 40 batches take about 6 s (pauseMs 150): the replica, 3 s behind on each, passes the limit well before the end.
      const backfill = tandem.backfill();
      await pauseNotice(backfill, reporter.messages, /s behind/);
      expect(reporter.messages.find((m) => /s behind/.test(m))).toMatch(/pausing batches while replica mysql:\/\/root@127\.0\.0\.1:\d+\/mysql is [2-9]\.0 s behind \(backfill\.maxReplicaLagMs is 1000\)/);
      expect((await hits(tandem, 'pongs')).ones).toBeLessThan(ROWS);
      await delay(0);
      await backfill;
      expect(await hits(tandem, 'pongs')).toEqual({ rows: ROWS, ones: ROWS });
      expect(reporter.snapshots.at(-1)!.pausedFor).toEqual(['replica lag']);
    } finally {
      await delay(0);
      await tandem.close();
    }
  }, 90_000);

  it('counts every replication source of a replica: a broken named connection (multi-source) pauses the backfill too', async (ctx) => {
    if (!pair) return ctx.skip(reason);
    // A second source the replica cannot reach: SHOW REPLICA STATUS would show only the default, healthy one.
    await pair.onReplica(`CHANGE MASTER 'second' TO MASTER_HOST = '127.0.0.1', MASTER_PORT = 1, MASTER_USER = 'root', MASTER_CONNECT_RETRY = 1; START SLAVE 'second'`);
    const { tandem, reporter } = await sourceWithTable('pyngs', { replicas: [pair.replicaUrl], maxReplicaLagMs: 1000, redoThrottlePercent: 100 });
    try {
      const backfill = tandem.backfill();
      await pauseNotice(backfill, reporter.messages, /is not replicating/);
      expect(reporter.messages.find((m) => /is not replicating/.test(m))).toMatch(/replica mysql:\/\/root@127\.0\.0\.1:\d+\/mysql is not replicating \(source second\) \(IO thread: (Connecting|No), SQL thread: Yes/);
      expect(await hits(tandem, 'pyngs')).toEqual({ rows: ROWS, ones: 0 });
      await pair.onReplica(`STOP SLAVE 'second'; RESET SLAVE 'second' ALL`);
      await backfill;
      expect(await hits(tandem, 'pyngs')).toEqual({ rows: ROWS, ones: ROWS });
    } finally {
      await pair.onReplica(`STOP SLAVE 'second'; RESET SLAVE 'second' ALL`).catch(() => undefined);
      await tandem.close();
    }
  }, 60_000);

  it('refuses, before any batch, a replica URL that is not a replica or cannot be read, without printing its password', async (ctx) => {
    if (!pair) return ctx.skip(reason);
    // The source itself is no replica.
    const { tandem } = await sourceWithTable('pangs', { replicas: [pair.primaryUrl] });
    try {
      await expect(tandem.backfill()).rejects.toThrow(/replica 1 of 1 \(mysql:\/\/root@127\.0\.0\.1:\d+\/mysql\) is not a replica \(SHOW REPLICA STATUS is empty\): list the replicas of the server tandem runs on; replicas are given by --replica/);
      expect(await hits(tandem, 'pangs')).toEqual({ rows: ROWS, ones: 0 });
    } finally {
      await tandem.close();
    }
    // A wrong password: the error names the replica with the password hidden, and the fix.
    const wrongPassword = pair.replicaUrl.replace('root@', 'root:s3cret@');
    const { tandem: second } = await sourceWithTable('pengs', { replicas: [wrongPassword] });
    try {
      const error = await second.backfill().then(() => null, (e: Error) => e);
      expect(String(error?.message)).toMatch(/replica 1 of 1 \(mysql:\/\/root:\*\*\*@127\.0\.0\.1:\d+\/mysql\) cannot be read: Access denied.*; fix its URL/);
      expect(String(error?.message)).not.toContain('s3cret');
      expect(await hits(second, 'pengs')).toEqual({ rows: ROWS, ones: 0 });
      // Fixed (no replicas listed), the rerun goes on; the source's replica is unwatched, and tandem says so.
      const reporter = collectingReporter();
      const rerun = await connect({ url: pair.primaryUrl.replace(/\/mysql$/, '/lag_pengs'), dir: migrationsDir('pengs'), reporter, config: config({}) });
      try {
        await rerun.backfill();
        expect(await hits(rerun, 'pengs')).toEqual({ rows: ROWS, ones: ROWS });
        expect(reporter.messages.some((m) => /this server has replicas \(.*\) whose lag tandem cannot see from here; give their URLs \(--replica, TANDEM_REPLICA_URLS or backfill\.replicas\)/.test(m))).toBe(true);
      } finally {
        await rerun.close();
      }
    } finally {
      await second.close();
    }
  }, 90_000);

  it('takes replicas from --replica and TANDEM_REPLICA_URLS on the command line', async (ctx) => {
    if (!pair) return ctx.skip(reason);
    const { tandem } = await sourceWithTable('pungs', {});
    await tandem.close();
    const url = pair.primaryUrl.replace(/\/mysql$/, '/lag_pungs');
    const dir = migrationsDir('pungs');
    // --replica with a wrong password: refused before any batch, the password hidden.
    const flag = await runCli(['backfill', '--url', url, '--dir', dir, '--replica', pair.replicaUrl.replace('root@', 'root:s3cret@')], { cwd: dir });
    expect(flag.code).toBe(1);
    expect(flag.stderr).toMatch(/replica 1 of 1 \(mysql:\/\/root:\*\*\*@127\.0\.0\.1:\d+\/mysql\) cannot be read/);
    expect(flag.stdout + flag.stderr).not.toContain('s3cret');
    // From the environment, comma-separated: the second is the source itself, no replica.
    const env = await runCli(['backfill', '--url', url, '--dir', dir], { cwd: dir, env: { TANDEM_REPLICA_URLS: `${pair.replicaUrl}, ${pair.primaryUrl}` } });
    expect(env.code).toBe(1);
    expect(env.stderr).toMatch(/replica 2 of 2 \(mysql:\/\/root@127\.0\.0\.1:\d+\/mysql\) is not a replica/);
    // --replica replaces the environment's list: with the real replica the backfill runs to the end
    // (pausing whenever the replica falls over a second behind; paused_for says what it waited for).
    const ok = await runCli(['backfill', '--url', url, '--dir', dir, '--json', '--replica', pair.replicaUrl], { cwd: dir, env: { TANDEM_REPLICA_URLS: pair.primaryUrl } });
    expect(ok.code, ok.stderr).toBe(0);
    const progress = jsonLines(ok.stdout + ok.stderr).filter((line) => line.event === 'progress').at(-1)!;
    expect(progress).toMatchObject({ rows_done: ROWS, done: true });
    expect((progress.paused_for as string[]).filter((reason) => !['redo log', 'replica lag'].includes(reason))).toEqual([]);
  }, 90_000);
});
