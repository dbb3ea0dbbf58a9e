// The live-traffic benchmark: app traffic (load.mjs, its own process) against PostgreSQL and
// MariaDB while a schema change runs, as the naive DDL and as tandem's phases.
// Run: npm run bench [-- --quick] [--db postgres|mysql] [--scenario NAME] [--rows N] [--repeats N]
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { connect } from '../../dist/index.js';
import { SCENARIOS } from './scenarios.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
// The system's monotonic clock (CLOCK_MONOTONIC), the same in the benchmark and the app's process:
// each process's performance.timeOrigin is the wall clock when it started, so a clock step between
// two starts (a VM's time sync) shifted every later app sample against the phase marks.
const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export const SERVERS = {
  postgres: process.env.TANDEM_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  mysql: process.env.TANDEM_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/mysql',
};

/** A URL for database `name` on the same server. */
function databaseUrl(serverUrl, name) {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

// ---------------------------------------------------------------- database plumbing

async function sqlClient(kind, url) {
  if (kind === 'postgres') {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    client.on('error', () => undefined);
    return { query: async (sql) => (await client.query(sql)).rows, close: () => client.end() };
  }
  const connection = await mysql.createConnection({ uri: url, multipleStatements: false });
  return { query: async (sql) => (await connection.query(sql))[0], close: () => connection.end() };
}

async function createDatabase(kind, name) {
  const admin = await sqlClient(kind, SERVERS[kind]);
  try {
    if (kind === 'postgres') {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.query(`CREATE DATABASE ${name}`);
    } else {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
    }
  } finally {
    await admin.close();
  }
}

export async function dropDatabase(kind, name) {
  const admin = await sqlClient(kind, SERVERS[kind]);
  try {
    await admin.query(kind === 'postgres' ? `DROP DATABASE IF EXISTS ${name} WITH (FORCE)` : `DROP DATABASE IF EXISTS ${name}`);
  } finally {
    await admin.close();
  }
}

/** The app's tables, N rows, and the copies named (of BOUND_TABLES) for the unbatched-UPDATE bounds. */
async function seed(kind, db, rows, boundCopies) {
  if (kind === 'postgres') {
    await db.query('CREATE TABLE accounts (id integer PRIMARY KEY)');
    await db.query('INSERT INTO accounts SELECT generate_series(1, 1000)');
    await db.query('CREATE TABLE items (id serial PRIMARY KEY, account_id integer NOT NULL, amount integer NOT NULL, note text, created_at timestamptz NOT NULL DEFAULT now())');
    await db.query(`INSERT INTO items (account_id, amount, note) SELECT 1 + g % 1000, g % 100000, 'n' || (g % 100000) FROM generate_series(1, ${rows}) g`);
    for (const copy of boundCopies) {
      await db.query(`CREATE TABLE ${copy} (LIKE items INCLUDING ALL)`);
      await db.query(`INSERT INTO ${copy} SELECT * FROM items`);
      await db.query(`VACUUM ANALYZE ${copy}`);
    }
    await db.query('VACUUM ANALYZE items');
    await db.query('VACUUM ANALYZE accounts');
    return;
  }
  await db.query('CREATE TABLE accounts (id INT PRIMARY KEY) ENGINE=InnoDB');
  await db.query('INSERT INTO accounts SELECT seq FROM seq_1_to_1000');
  await db.query('CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, account_id INT NOT NULL, amount INT NOT NULL, note VARCHAR(100), created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)) ENGINE=InnoDB');
  await db.query(`INSERT INTO items (account_id, amount, note) SELECT 1 + seq % 1000, seq % 100000, CONCAT('n', seq % 100000) FROM seq_1_to_${rows}`);
  for (const copy of boundCopies) {
    await db.query(`CREATE TABLE ${copy} LIKE items`);
    await db.query(`INSERT INTO ${copy} SELECT * FROM items`);
    await db.query(`ANALYZE TABLE ${copy}`);
  }
  await db.query('ANALYZE TABLE items');
}

const BOUND_TABLES = ['items_bound', 'items_bound_shim'];

async function columnNames(kind, db, table) {
  const rows = await db.query(
    kind === 'postgres'
      ? `SELECT column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '${table}'`
      : `SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}'`,
  );
  return rows.map((row) => row.c);
}

/** One timed statement: rows per second over `rows`. */
async function timedUpdate(db, sql, rows) {
  const started = now();
  await db.query(sql);
  const ms = now() - started;
  return { started, ms, perSecond: Math.round(rows / (ms / 1000)) };
}

async function tableBytes(kind, db) {
  if (kind !== 'postgres') return null;
  const rows = await db.query(`SELECT pg_table_size('items') AS bytes`);
  return Number(rows[0].bytes);
}

// ---------------------------------------------------------------- one run

function startLoad(kind, url, scenario, options, out) {
  const config = { kind, url, rate: options.rate, connections: options.connections, rows: options.rows, apps: scenario.apps, named: kind === 'postgres' && options.named, out };
  const child = fork(path.join(here, 'load.mjs'), [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages = [];
  const waiters = [];
  child.on('message', (message) => {
    messages.push(message);
    for (const w of waiters.splice(0)) w();
  });
  const next = async (type) => {
    for (;;) {
      const found = messages.find((m) => m.type === type);
      if (found) return found;
      if (child.exitCode !== null) throw new Error(`load generator exited (${child.exitCode}) before '${type}'`);
      await new Promise((resolve) => {
        waiters.push(resolve);
        child.once('exit', resolve);
      });
    }
  };
  return {
    ready: () => next('ready'),
    deploy: (setup) => child.send({ type: 'app', version: 'new', ...(setup ? { setup } : {}) }),
    stop: async () => {
      child.send({ type: 'stop' });
      await next('done');
      const samples = JSON.parse(fs.readFileSync(out, 'utf8'));
      fs.rmSync(out, { force: true });
      return samples;
    },
    kill: () => child.kill(),
  };
}

/**
 * Start every run from a quiet server: the setup (seeding, copying a template) leaves dirty pages
 * and log behind that the server would otherwise write out during the measured run. PostgreSQL: a
 * CHECKPOINT. MariaDB: flush dirty pages until fewer than 1 % are dirty and the checkpoint age is
 * small, with innodb_max_dirty_pages_pct = 0 and the I/O capacity raised for that moment (at the
 * stock 200 pages/s a seeded million-row run took ~30 s to settle; raised, ~3 s), then every
 * setting back to its value: the measured run sees the server's own settings.
 */
async function settleServer(kind, db) {
  if (kind === 'postgres') {
    await db.query('CHECKPOINT');
    return;
  }
  const names = ['innodb_max_dirty_pages_pct', 'innodb_io_capacity', 'innodb_io_capacity_max'];
  const saved = Object.fromEntries((await db.query(`SHOW GLOBAL VARIABLES WHERE Variable_name IN (${names.map((n) => `'${n}'`).join(', ')})`)).map((r) => [r.Variable_name, Number(r.Value)]));
  const restore = async () => {
    await db.query(`SET GLOBAL innodb_max_dirty_pages_pct = ${saved.innodb_max_dirty_pages_pct}`);
    await db.query(`SET GLOBAL innodb_io_capacity = ${saved.innodb_io_capacity}`);
    await db.query(`SET GLOBAL innodb_io_capacity_max = ${saved.innodb_io_capacity_max}`);
  };
  // Ctrl-C during these seconds must not leave the server with the raised settings (main.mjs).
  pendingRestore = restore;
  // io_capacity_max first: io_capacity may not exceed it.
  await db.query('SET GLOBAL innodb_io_capacity_max = 20000');
  await db.query('SET GLOBAL innodb_io_capacity = 20000');
  await db.query('SET GLOBAL innodb_max_dirty_pages_pct = 0');
  try {
    const deadline = now() + 60_000;
    while (now() < deadline) {
      const status = Object.fromEntries((await db.query(`SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_pages_dirty', 'Innodb_buffer_pool_pages_total', 'Innodb_checkpoint_age', 'Innodb_checkpoint_max_age')`)).map((r) => [r.Variable_name, Number(r.Value)]));
      if (status.Innodb_buffer_pool_pages_dirty < status.Innodb_buffer_pool_pages_total / 100 && status.Innodb_checkpoint_age < status.Innodb_checkpoint_max_age / 10) break;
      // The page cleaner works in rounds of up to a second; a short poll ends the settle soon after one.
      await sleep(50);
    }
  } finally {
    await restore();
    pendingRestore = null;
  }
}

/**
 * A variant's server settings (main.mjs VARIANTS), for one run. PostgreSQL: on the run's database
 * only (ALTER DATABASE … SET, read by every session that connects after it: tandem's and the
 * app's). MariaDB: SET GLOBAL, put back after the run (and on Ctrl-C). Returns the way back.
 */
async function applyServerSettings(kind, db, name, settings) {
  const entries = Object.entries(settings ?? {});
  if (entries.length === 0) return async () => undefined;
  if (kind === 'postgres') {
    for (const [setting, value] of entries) await db.query(`ALTER DATABASE ${name} SET ${setting} = '${value}'`);
    return async () => undefined;
  }
  const saved = [];
  for (const [setting, value] of entries) {
    saved.unshift([setting, (await db.query(`SELECT @@GLOBAL.${setting} AS v`))[0].v]);
    // innodb_log_file_size: MariaDB 10.11 resizes the redo log online; the statement returns once done.
    await db.query(`SET GLOBAL ${setting} = ${value}`);
  }
  const restore = async () => {
    for (const [setting, value] of saved) await db.query(`SET GLOBAL ${setting} = ${value}`);
  };
  pendingSettingsRestore = restore;
  return async () => {
    await restore();
    pendingSettingsRestore = null;
  };
}

/** A variant's way back to the server's own settings, while its run goes on. */
let pendingSettingsRestore = null;
/** A settle's way back to the server's own settings, while it runs. */
let pendingRestore = null;
/** The scratch database of the run in progress. */
let activeDatabase = null;

/**
 * Ctrl-C (SIGINT in main.mjs): put back the settings a settle changed, drop the run's scratch
 * database and the templates — what the run's own `finally` blocks would have done.
 */
export async function cleanUpAfterInterrupt() {
  for (const restore of [pendingRestore, pendingSettingsRestore]) await restore?.().catch(() => undefined);
  pendingRestore = null;
  pendingSettingsRestore = null;
  if (activeDatabase) await dropDatabase(activeDatabase.kind, activeDatabase.name).catch(() => undefined);
  await dropTemplates();
}

/** Hold a plain read transaction on `items` (the long-transaction scenario). */
async function openLongTransaction(kind, url, ms) {
  const client = await sqlClient(kind, url);
  await client.query(kind === 'postgres' ? 'BEGIN' : 'START TRANSACTION');
  await client.query('SELECT id FROM items WHERE id = 1');
  const opened = now();
  const done = sleep(ms).then(async () => {
    await client.query('COMMIT');
    await client.close();
    return now();
  });
  return { opened, done };
}

/**
 * PostgreSQL: seed once into a template database and copy it for each run (a file copy, much
 * faster than generating a million rows again). MariaDB has no templates: each run seeds anew.
 */
const templates = new Map();
async function preparedDatabase(kind, name, rows) {
  if (kind !== 'postgres') {
    await createDatabase(kind, name);
    const db = await sqlClient(kind, databaseUrl(SERVERS[kind], name));
    return { db, seeded: false };
  }
  const template = `tandem_bench_pg_seed_${process.pid}_${rows}`;
  if (!templates.has(template)) {
    await createDatabase(kind, template);
    const seedDb = await sqlClient(kind, databaseUrl(SERVERS[kind], template));
    try {
      await seed(kind, seedDb, rows, BOUND_TABLES);
    } finally {
      await seedDb.close();
    }
    templates.set(template, true);
  }
  const admin = await sqlClient(kind, SERVERS[kind]);
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    // FILE_COPY (15+): the default WAL_LOG strategy writes the whole copy into the WAL, and the
    // checkpoints it brings on would land in the measured run.
    const fileCopy = Number((await admin.query('SHOW server_version_num'))[0].server_version_num) >= 150000 ? ' STRATEGY = FILE_COPY' : '';
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}${fileCopy}`);
  } finally {
    await admin.close();
  }
  const db = await sqlClient(kind, databaseUrl(SERVERS[kind], name));
  return { db, seeded: true };
}

/** Drop the PostgreSQL template databases (end of the benchmark). */
export async function dropTemplates() {
  for (const template of templates.keys()) await dropDatabase('postgres', template).catch(() => undefined);
  templates.clear();
}

export async function runOnce(kind, scenario, tool, options) {
  const name = `tandem_bench_${kind === 'postgres' ? 'pg' : 'my'}_${process.pid}`;
  const url = databaseUrl(SERVERS[kind], name);
  activeDatabase = { kind, name };
  // Where the run's own time goes (latest.json `time_ms`): what --quick can afford is mostly this.
  const time = {};
  let lapFrom = now();
  const lap = (label) => {
    time[label] = (time[label] ?? 0) + Math.round(now() - lapFrom);
    lapFrom = now();
  };
  const { db, seeded } = await preparedDatabase(kind, name, options.rows);
  const marks = [];
  const phases = [];
  const result = { db: kind === 'postgres' ? 'postgres' : 'mariadb', name: scenario.name, tool, rows: options.rows, loadavg: os.loadavg()[0] };
  let load = null;
  let tandem = null;
  let migrationDir = null;
  let restoreSettings = null;
  try {
    restoreSettings = await applyServerSettings(kind, db, name, options.serverSettings?.[kind]);
    if (options.serverSettings?.[kind]) result.server_settings = options.serverSettings[kind];
    // PostgreSQL with version schemas renames a column through the views: no backfill, nothing to bound.
    const backfills = !(scenario.renamesThroughViews && kind === 'postgres' && options.versionSchemas);
    const copies = scenario.bound?.copy?.[kind] !== undefined;
    const measureBound = tool !== 'naive' && (scenario.bound?.column[kind] !== undefined || copies) && backfills;
    // The bound without a trigger (`items_bound`) is measured with --variants only: no target rests on it, and on MariaDB its copy and UPDATE took ~10 s a run.
    const measurePlain = measureBound && options.plainBound;
    const copiesWanted = BOUND_TABLES.filter((copy) => (copy === 'items_bound' ? measurePlain : measureBound));
    if (!seeded) await seed(kind, db, options.rows, copiesWanted);
    else for (const copy of BOUND_TABLES.filter((copy) => !copiesWanted.includes(copy))) await db.query(`DROP TABLE ${copy}`);
    const sizeBefore = await tableBytes(kind, db);
    if (tool !== 'naive') {
      migrationDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-'));
      fs.writeFileSync(path.join(migrationDir, '20260101000000_bench.json'), JSON.stringify({ operations: scenario.operations }, null, 2));
    }
    const progress = [];
    const reporter = {
      info: () => undefined,
      warn: (message) => (result.warnings ??= []).push(message),
      phaseStarted: () => undefined,
      phaseFinished: () => undefined,
      retry: () => result.retries = (result.retries ?? 0) + 1,
      progress: (snapshot) => progress.push(snapshot),
    };
    // PostgreSQL: version schemas, so the new app's named prepared statements never see a row type change.
    const config = { ...(kind === 'postgres' && options.versionSchemas ? { versionSchemas: true } : {}), ...options.tandemConfig };
    if (tool !== 'naive') tandem = await connect({ url, dir: migrationDir, reporter, config });
    lap('setup');

    await settleServer(kind, db);
    lap('settle');
    load = startLoad(kind, url, scenario, options, path.join(os.tmpdir(), `tandem-bench-samples-${process.pid}.json`));
    const { at: loadStarted } = await load.ready();
    lap('load_start');
    await sleep(options.beforeMs);
    lap('before');

    const phase = async (label, body) => {
      const start = now();
      await body();
      phases.push({ label, start, end: now() });
    };
    let longTx = null;
    if (scenario.longTransactionMs) longTx = await openLongTransaction(kind, url, scenario.longTransactionMs);
    const migrationStart = now();
    if (tool === 'naive') {
      // The naive change may fail under traffic (e.g. SET NOT NULL after the old app inserted NULLs
      // behind the UPDATE): that is a result, recorded, not a crash of the benchmark.
      await phase('naive DDL', async () => {
        try {
          for (const statement of scenario.naive[kind]) await db.query(statement);
        } catch (error) {
          result.migration_error = String(error.message ?? error).slice(0, 200);
        }
      });
      load.deploy();
      marks.push({ label: 'deploy', at: now() });
    } else {
      try {
        await phase('expand', () => tandem.expand());
        await phase('backfill', () => tandem.backfill());
        // The new app connects to the version schema of the migration (PostgreSQL, versionSchemas).
        load.deploy((await tandem.versionSchema())?.searchPath);
        marks.push({ label: 'deploy', at: now() });
        await phase('contract', () => tandem.contract());
      } catch (error) {
        result.migration_error = String(error.message ?? error).slice(0, 300);
      }
    }
    const migrationEnd = now();
    if (longTx) {
      const closed = await longTx.done;
      marks.push({ label: 'tx opened', at: longTx.opened }, { label: 'tx closed', at: closed });
    }
    lap('migration');
    await sleep(options.afterMs);
    lap('after');

    if (measureBound) {
      const fill = (table, column) => scenario.bound.update.replaceAll('{table}', table).replaceAll('{column}', column);
      let plain = null;
      if (!measurePlain) {
        // --variants only (above).
      } else if (copies) {
        // Plain: a copy of the table made by hand with the key column changed, filled by one INSERT … SELECT.
        await db.query('CREATE TABLE items_bound_copy LIKE items_bound');
        await db.query(`ALTER TABLE items_bound_copy MODIFY ${scenario.bound.copy[kind]}`);
        plain = await timedUpdate(db, 'INSERT INTO items_bound_copy SELECT * FROM items_bound', options.rows);
        await db.query('DROP TABLE items_bound_copy');
      } else {
        // Plain: the new column added by hand, no trigger.
        const column = scenario.bound.column[kind];
        await db.query(`ALTER TABLE items_bound ADD COLUMN ${column}`);
        plain = await timedUpdate(db, fill('items_bound', column.split(' ')[0]), options.rows);
      }
      if (plain) {
        result.bound_plain_rows_per_s = plain.perSecond;
        marks.push({ label: 'bound UPDATE', at: plain.started }, { label: 'bound end', at: plain.started + plain.ms });
      }
      // With the shim: tandem's expand of the same operations on the other copy, then the same UPDATE
      // as the backfill runs it (the backfill role, which the shim leaves alone).
      const before = await columnNames(kind, db, 'items_bound_shim');
      const operations = JSON.parse(JSON.stringify(scenario.operations).replaceAll('"table":"items"', '"table":"items_bound_shim"'));
      fs.writeFileSync(path.join(migrationDir, '20260102000000_bound.json'), JSON.stringify({ operations }, null, 2));
      await tandem.expand();
      const added = (await columnNames(kind, db, 'items_bound_shim')).filter((c) => !before.includes(c));
      if (added.length !== (copies ? 0 : 1)) throw new Error(`expected expand to add ${copies ? 'no column' : 'one column'} to items_bound_shim, found ${added.join(', ') || 'none'}`);
      // Exactly the UPDATE tandem compiled for this copy's backfill (its condition depends on the
      // operation and the database; a check may follow it, which the phase's rate includes).
      const compiled = JSON.parse((await tandem.ledger.get('20260102000000_bound')).compiled).backfill.map((statement) => (typeof statement === 'string' ? statement : statement.sql));
      const updates = compiled.filter((statement) => (copies ? /^INSERT\b/i : /^UPDATE\b/i).test(statement));
      if (updates.length !== 1) throw new Error(`expected one backfill ${copies ? 'INSERT' : 'UPDATE'} for items_bound_shim, found: ${compiled.join('; ') || 'none'}`);
      await db.query(kind === 'postgres' ? `SET tandem.role = 'backfill'` : `SET @tandem_role = 'backfill'`);
      const shim = await timedUpdate(db, updates[0], options.rows);
      result.bound_rows_per_s = shim.perSecond;
      marks.push({ label: 'bound (shim) UPDATE', at: shim.started }, { label: 'bound (shim) end', at: shim.started + shim.ms });
      await sleep(Math.min(options.afterMs, 300));
    }
    lap('bound');
    const samples = await load.stop();
    load = null;

    // Figures.
    const before = pick(samples, loadStarted + options.warmupMs, migrationStart);
    const during = pick(samples, migrationStart, migrationEnd);
    result.errors = samples.errorAt.filter((e) => e >= 0).length;
    result.error_messages = [...new Set(samples.errors)].slice(0, 5);
    result.p99_before_ms = round(percentile(before.latency, 0.99));
    result.p50_before_ms = round(percentile(before.latency, 0.5));
    result.p99_during_ms = round(percentile(during.latency, 0.99));
    result.p50_during_ms = round(percentile(during.latency, 0.5));
    result.max_ms = round(largest(during.latency));
    result.phases = phases.map((p) => {
      const s = pick(samples, p.start, p.end);
      // Reads never wait for row locks (MVCC on PostgreSQL, consistent reads on InnoDB); writes wait
      // for the backfill batch that holds their row, so the two maxima tell lock waits from stalls.
      const maxOf = (kind) => round(largest(s.latency.filter((_, i) => s.kinds[i] === kind)));
      return { label: p.label, ms: Math.round(p.end - p.start), p99_ms: round(percentile(s.latency, 0.99)), max_ms: round(largest(s.latency)), max_read_ms: maxOf(0), max_update_ms: maxOf(1), requests: s.latency.length };
    });
    result.p99_phase_max_ms = Math.max(...result.phases.map((p) => p.p99_ms ?? 0));
    result.wall_ms = Math.round(migrationEnd - migrationStart);
    const backfill = phases.find((p) => p.label === 'backfill');
    const rowsDone = progress.reduce((sum, s) => (s.done ? sum + s.rowsDone : sum), 0);
    result.backfill_rows = rowsDone;
    result.backfill_rows_per_s = backfill && rowsDone > 0 ? Math.round(rowsDone / ((backfill.end - backfill.start) / 1000)) : null;
    // The batch walk alone, as the last backfill statement reports it: the rest of the phase (its
    // row count, ledger records, the wait for the last VACUUM) is the difference to the phase's rate.
    const walk = progress.at(-1);
    result.walk_rows_per_s = walk ? Math.round(walk.rowsPerSecond) : null;
    result.walk_batches = walk?.batches ?? null;
    result.bound_rows_per_s ??= null;
    result.bound_plain_rows_per_s ??= null;
    const sizeAfter = await tableBytes(kind, db);
    result.size_ratio = sizeBefore ? round(sizeAfter / sizeBefore, 2) : null;
    const mismatches = await db.query(scenario.check[kind]).catch(() => [{ n: -1 }]);
    result.mismatches = Number(mismatches[0].n);
    result.requests = samples.latency.length;
    result.trace = trace(samples, loadStarted, phases, marks);
    lap('figures');
    result.time_ms = time;
    return result;
  } finally {
    load?.kill();
    await restoreSettings?.().catch(() => undefined);
    await tandem?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    if (migrationDir) fs.rmSync(migrationDir, { recursive: true, force: true });
    await dropDatabase(kind, name).catch(() => undefined);
    activeDatabase = null;
  }
}

function pick(samples, from, to) {
  const latency = [];
  const kinds = [];
  for (let i = 0; i < samples.due.length; i++) {
    if (samples.due[i] < from || samples.due[i] > to) continue;
    latency.push(samples.latency[i]);
    kinds.push(samples.kinds[i]);
  }
  return { latency, kinds };
}

export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

const round = (value, digits = 2) => (value === null || value === undefined || Number.isNaN(value) ? null : Number(value.toFixed(digits)));

/** The largest value, or 0: a loop, since spreading a long run's samples into Math.max overflows the stack. */
function largest(values) {
  let max = 0;
  for (const value of values) if (value > max) max = value;
  return max;
}

/**
 * What the SVG needs, small: per 20 ms bucket the median and the worst latency (ms) and the errors;
 * times in ms from the load start.
 */
function trace(samples, origin, phases, marks) {
  const bucketMs = 20;
  const buckets = new Map();
  for (let i = 0; i < samples.due.length; i++) {
    const b = Math.floor((samples.due[i] - origin) / bucketMs);
    let entry = buckets.get(b);
    if (!entry) buckets.set(b, (entry = { values: [], errors: 0 }));
    entry.values.push(samples.latency[i]);
    if (samples.errorAt[i] >= 0) entry.errors++;
  }
  const points = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, { values, errors }]) => [b * bucketMs, round(percentile(values, 0.5), 3), round(Math.max(...values), 3), errors]);
  return {
    points,
    end: Math.round((samples.due.at(-1) ?? origin) - origin),
    phases: phases.map((p) => ({ label: p.label, start: Math.round(p.start - origin), end: Math.round(p.end - origin) })),
    marks: marks.map((m) => ({ label: m.label, at: Math.round(m.at - origin) })),
  };
}
