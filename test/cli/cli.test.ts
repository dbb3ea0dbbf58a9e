/**
 * The CLI as a user runs it: `node bin/tandem.js …` in a working directory of its own, against real
 * databases. Checks output, files and exit codes (0 ok, 1 phase failed, 2 usage, 3 refused).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, type TestContext } from 'vitest';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(REPO, 'bin/tandem.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment without any connection settings from the outside, and without colours. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' };
  delete env.DATABASE_URL;
  return { ...env, ...extra };
}

function start(args: string[], cwd: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
}

function finish(child: ChildProcess): Promise<Result> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr!.on('data', (chunk) => (stderr += String(chunk)));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const tandem = (args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> => finish(start(args, cwd, env));

/** `status --json`, failing with the command's exit code and stderr when it printed no JSON. */
async function statusJson(url: string, cwd: string): Promise<{ migrations: Array<Record<string, unknown>> }> {
  const result = await tandem(['--url', url, 'status', '--json'], cwd);
  if (result.code !== 0 || !result.stdout.trim()) throw new Error(`tandem status --json exited ${result.code} with stderr: ${result.stderr || '(empty)'}`);
  return JSON.parse(result.stdout) as { migrations: Array<Record<string, unknown>> };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A fresh working directory with a migrations/ folder. */
function workdir(): { cwd: string; write(id: string, text: string): string } {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cli-'));
  fs.mkdirSync(path.join(cwd, 'migrations'));
  cleanups.push(async () => fs.rmSync(cwd, { recursive: true, force: true }));
  return {
    cwd,
    write: (id, text) => {
      fs.writeFileSync(path.join(cwd, 'migrations', `${id}.sql`), text);
      return `migrations/${id}.sql`;
    },
  };
}

async function database(kind: TestDbKind, ctx: TestContext, options: { pgliteDir?: boolean } = {}): Promise<TestDatabase> {
  // Each CLI command is a process of its own: without a server, PostgreSQL falls back to a PGlite
  // directory they share (an in-memory one would start empty in every command).
  const db = await createTestDatabase(kind, `cli_${kind}`, { pgliteDir: true, ...options });
  if (!db) ctx.skip(`${kind} server unavailable`);
  cleanups.push(() => db!.drop());
  return db!;
}

/** Run one query on a fresh driver connection (not through tandem). */
async function query<T = Record<string, unknown>>(db: TestDatabase, sql: string, params: unknown[] = []): Promise<T[]> {
  if (db.kind === 'postgres') {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as T[];
    } finally {
      await client.end();
    }
  }
  const conn = await mysql.createConnection({ uri: db.url });
  try {
    return (await conn.query(sql, params))[0] as T[];
  } finally {
    await conn.end();
  }
}

const ID = '20260301000000_add_label';
const LABEL = `-- tandem:expand
CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50));
INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b');
ALTER TABLE items ADD COLUMN label VARCHAR(50);
-- tandem:backfill
UPDATE items SET label = name WHERE label IS NULL;
-- tandem:contract
ALTER TABLE items DROP COLUMN name;
-- tandem:rollback
DROP TABLE items;
`;

describe('tandem --help, init, new', () => {
  it('--help lists every command, its aliases and the exit codes', async () => {
    const { cwd } = workdir();
    const result = await tandem(['--help'], cwd);
    expect(result.code).toBe(0);
    for (const command of ['init', 'new <name...>', 'status', 'plan [options] [id]', 'expand|pre-deploy', 'backfill|deploy', 'contract|post-deploy', 'rollback [id]', 'baseline <version>', 'repair <id>', 'demo']) {
      expect(result.stdout).toContain(command);
    }
    expect(result.stdout).toMatch(/Exit codes:\n\s+0 +done/);
    expect(result.stdout).toMatch(/\n\s+1 +a phase failed/);
    expect(result.stdout).toMatch(/\n\s+2 +usage or configuration error/);
    expect(result.stdout).toMatch(/\n\s+3 +refused by a guard/);
    for (const option of ['--url', '--dir', '--wait', '--lock-timeout', '--retries', '--json']) expect(result.stdout).toContain(option);
  });

  it('an unknown command or option is a usage error (exit 2)', async () => {
    const { cwd } = workdir();
    const unknown = await tandem(['deploy-everything'], cwd);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'deploy-everything'");
    const option = await tandem(['status', '--colour'], cwd);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--colour'");
    const wait = await tandem(['status', '--wait', 'soon', '--url', 'pglite:memory'], cwd);
    expect(wait.code).toBe(2);
    expect(wait.stderr).toContain('--wait takes a non-negative number');
  });

  it('init writes tandem.config.json and migrations/, and leaves them alone the second time', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cli-init-'));
    cleanups.push(async () => fs.rmSync(cwd, { recursive: true, force: true }));
    const first = await tandem(['init', '--dir', 'db/migrations', '--url', 'postgres://app@db.internal/app'], cwd);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('wrote tandem.config.json');
    expect(first.stdout).toContain('created db/migrations/');
    expect(fs.statSync(path.join(cwd, 'db/migrations')).isDirectory()).toBe(true);
    const config = JSON.parse(fs.readFileSync(path.join(cwd, 'tandem.config.json'), 'utf8'));
    expect(config).toMatchObject({ dir: 'db/migrations', url: 'postgres://app@db.internal/app', lockTimeoutMs: 1000 });

    fs.writeFileSync(path.join(cwd, 'tandem.config.json'), '{ "dir": "db/migrations" }\n');
    const second = await tandem(['init', '--dir', 'db/migrations'], cwd);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('exists already');
    expect(fs.readFileSync(path.join(cwd, 'tandem.config.json'), 'utf8')).toBe('{ "dir": "db/migrations" }\n');
  });

  it('init never writes a password into the config file', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cli-init-'));
    cleanups.push(async () => fs.rmSync(cwd, { recursive: true, force: true }));
    const result = await tandem(['init', '--url', 'postgres://app:hunter2@db/app'], cwd);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('password');
    expect(`${result.stdout}${result.stderr}`).not.toContain('hunter2');
    expect(fs.readFileSync(path.join(cwd, 'tandem.config.json'), 'utf8')).not.toContain('hunter2');
  });

  it('new NAME creates a timestamped file with the four sections; twice in one second still sorts in order', async () => {
    const { cwd } = workdir();
    const first = await tandem(['new', 'Add', 'full name!'], cwd);
    const second = await tandem(['new', 'add_full_name'], cwd);
    expect(first.code).toBe(0);
    expect(second.code).toBe(0);
    const files = fs.readdirSync(path.join(cwd, 'migrations')).sort();
    expect(files).toHaveLength(2);
    for (const file of files) expect(file).toMatch(/^\d{14}_add_full_name\.sql$/);
    expect(first.stdout.trim()).toBe(`created migrations/${files[0]}`);
    expect(second.stdout.trim()).toBe(`created migrations/${files[1]}`);
    const [v1, v2] = files.map((file) => BigInt(file.slice(0, 14)));
    expect(v2! > v1!).toBe(true);
    const text = fs.readFileSync(path.join(cwd, 'migrations', files[0]!), 'utf8');
    for (const marker of ['-- tandem:expand', '-- tandem:backfill', '-- tandem:contract', '-- tandem:rollback']) expect(text).toContain(marker);
    // The template's examples are comments: as written, the migration runs nothing.
    expect(text).toMatch(/^-- ALTER TABLE users ADD COLUMN full_name/m);

    const nameless = await tandem(['new', '!!!'], cwd);
    expect(nameless.code).toBe(2);
    expect(nameless.stderr).toContain('has no letters or digits');
  });

  it('new without a migrations directory says to run init', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-cli-'));
    cleanups.push(async () => fs.rmSync(cwd, { recursive: true, force: true }));
    const result = await tandem(['new', 'x'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tandem init');
  });
});

describe.each(['postgres', 'mysql'] as const)('exit codes and status on %s', (kind) => {
  it('0 ok, 1 phase failed (with file:line), 2 malformed file (with file:line), 3 refused by a guard', async (ctx) => {
    const db = await database(kind, ctx);
    const dir = workdir();
    const url = ['--url', db.url];
    const file = dir.write(ID, LABEL);

    const ok = await tandem([...url, 'expand'], dir.cwd);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`expand ${ID}`);
    expect(ok.stdout).toContain('expanded 1 migration');

    const refused = await tandem([...url, 'contract'], dir.cwd);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`contract refused for ${ID}: it is expanded, and contract needs it backfilled`);
    expect(refused.stderr).toContain('fix: run `tandem backfill` first');

    const broken = '20260301000001_broken';
    const brokenFile = dir.write(broken, '-- tandem:expand\nALTER TABLE items ADD COLUMN a INT;\nALTER TABLE no_such_table ADD COLUMN b INT;\n');
    const failed = await tandem([...url, 'expand'], dir.cwd);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`error: ${brokenFile}:3: expand of ${broken} failed at ${brokenFile}:3`);
    expect(failed.stderr).toContain('no_such_table');
    expect(failed.stderr).toContain('fix: fix the statement and rerun `tandem expand`');

    const status = await tandem([...url, 'status'], dir.cwd);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${ID}\\s+expanded`));
    expect(status.stdout).toMatch(new RegExp(`${broken}\\s+failed\\s+expand failed at line 3`));

    dir.write(broken, '-- tandem:expand\nSELECT 1;\n-- tandem:deploy\nSELECT 2;\n');
    const malformed = await tandem([...url, 'expand'], dir.cwd);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain(`error: ${brokenFile}:3: unknown phase marker "-- tandem:deploy"`);
    expect(malformed.stderr).toContain('fix: use one of -- tandem:expand');
    // Usage errors stop before touching the database: the broken migration is still as it failed.
    dir.write(broken, '-- tandem:expand\nALTER TABLE items ADD COLUMN a INT;\nALTER TABLE no_such_table ADD COLUMN b INT;\n');
    const json = JSON.parse((await tandem([...url, '--json', 'status'], dir.cwd)).stdout) as { migrations: Array<{ id: string; phase: string; statementsDone: number }> };
    expect(json.migrations.map((m) => [m.id, m.phase])).toEqual([
      [ID, 'expanded'],
      [broken, 'failed'],
    ]);
    expect(file).toBe(`migrations/${ID}.sql`);

    // The fixed file finishes; then the refused contract is fine after a backfill.
    dir.write(broken, '-- tandem:expand\nALTER TABLE items ADD COLUMN a INT;\nALTER TABLE items ADD COLUMN b INT;\n');
    expect((await tandem([...url, 'expand'], dir.cwd)).code).toBe(0);
    expect((await tandem([...url, 'deploy'], dir.cwd)).code).toBe(0);
    const contracted = await tandem([...url, 'post-deploy'], dir.cwd);
    expect(contracted.code).toBe(0);
    expect(contracted.stdout).toContain('contracted 2 migrations');
  });

  it('baseline VERSION records the history without running it, then expand runs the rest', async (ctx) => {
    const db = await database(kind, ctx);
    const dir = workdir();
    const url = ['--url', db.url];
    dir.write('1_create_t', 'CREATE TABLE baseline_t (id INT);\n');
    dir.write('2_add_a', 'ALTER TABLE baseline_t ADD COLUMN a INT;\n');
    dir.write('10_add_b', 'ALTER TABLE baseline_t ADD COLUMN b INT;\n');
    // Another tool applied 1 and 2.
    expect((await tandem([...url, 'expand'], dir.cwd)).code).toBe(0);
    expect((await tandem([...url, 'baseline', '2'], dir.cwd)).code).toBe(3);
    expect((await tandem([...url, 'status'], dir.cwd)).stdout).not.toContain('baselined');

    const fresh = await database(kind, ctx);
    const freshUrl = ['--url', fresh.url];
    const baselined = await tandem([...freshUrl, 'baseline', '2'], dir.cwd);
    expect(baselined.code).toBe(0);
    expect(baselined.stdout).toContain('recorded 2 migrations as applied without running them, up to 2_add_a; tandem expand runs the 1 after them');
    const status = await tandem([...freshUrl, 'status'], dir.cwd);
    expect(status.stdout).toMatch(/1_create_t\s+contracted\s+plain; baselined: recorded, not run by tandem/);
    expect(status.stdout).toMatch(/2_add_a\s+contracted\s+plain; baselined/);
    expect(status.stdout).toMatch(/10_add_b\s+pending/);
    expect(status.stdout).not.toMatch(/10_add_b.*baselined/);
    // The baseline ran nothing: the table does not exist, so 10's ALTER fails at its line.
    const expand = await tandem([...freshUrl, 'expand'], dir.cwd);
    expect(expand.code).toBe(1);
    expect(expand.stderr).toContain('error: migrations/10_add_b.sql:1: expand of 10_add_b failed');
  });

  it('repair ID accepts an edited migration that ran; expand then goes on', async (ctx) => {
    const db = await database(kind, ctx);
    const dir = workdir();
    const url = ['--url', db.url];
    dir.write('1_create_r', 'CREATE TABLE repair_t (id INT);\n');
    expect((await tandem([...url, 'expand'], dir.cwd)).code).toBe(0);
    dir.write('1_create_r', 'CREATE TABLE IF NOT EXISTS repair_t (id INT);\n');
    dir.write('2_add_a', 'ALTER TABLE repair_t ADD COLUMN a INT;\n');
    const refused = await tandem([...url, 'expand'], dir.cwd);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('`tandem repair 1_create_r` records the file as it is now');

    const repaired = await tandem([...url, 'repair', '1_create_r'], dir.cwd);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toContain('repaired: recorded the expand section as the file has it now; it did not run again');
    expect((await tandem([...url, 'repair', '1_create_r'], dir.cwd)).stdout).toContain('nothing to repair: the sections that ran match the file');
    expect((await tandem([...url, 'expand'], dir.cwd)).stdout).toContain('expanded 1 migration');
  });

  it('plan compiles a pending declarative migration that needs the pending SQL before it on a scratch replay', async (ctx) => {
    const db = await database(kind, ctx);
    const dir = workdir();
    dir.write('20260101000000_create', '-- tandem:expand\nCREATE TABLE replay_t (id INT PRIMARY KEY, amount INT NOT NULL);\n-- tandem:rollback\nDROP TABLE replay_t;\n');
    fs.writeFileSync(path.join(dir.cwd, 'migrations', '20260102000000_widen.json'), JSON.stringify({ operations: [{ alterColumn: { table: 'replay_t', column: 'amount', type: 'bigint' } }] }));
    let plan = await tandem(['--url', db.url, 'plan'], dir.cwd);
    expect(plan.code, plan.stderr).toBe(0);
    const notYet = 'since this database does not fit it yet (operation 0 (alterColumn): table replay_t does not exist)';
    if (db.kind === 'mysql') {
      // No embedded MySQL: without a scratch server it says how to see the SQL; with one, it shows it.
      expect(plan.stdout).toContain('compiled when its expand runs: operation 0 (alterColumn): table replay_t does not exist');
      expect(plan.stdout).toContain('give `--scratch-url mysql://…`');
      plan = await tandem(['--url', db.url, 'plan', '--scratch-url', db.url], dir.cwd);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain(`compiled on a scratch database (on ${db.url.replace(/:[^:@/]*@/, ':***@')}) where the migrations before it ran from an empty schema, as far as tandem expand will leave them`);
      expect(plan.stdout).toContain(notYet);
      expect(plan.stdout).toMatch(/ALTER TABLE `replay_t` ADD COLUMN `tandem_\w+_new` BIGINT/i);
      const wrong = await tandem(['--url', db.url, 'plan', '--scratch-url', 'postgres://postgres@127.0.0.1:5432/postgres'], dir.cwd);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toContain('--scratch-url is a postgres server, but the database is mysql');
    } else {
      expect(plan.stdout).toContain('compiled on a scratch database (embedded) where the migrations before it ran from an empty schema, as far as tandem expand will leave them');
      expect(plan.stdout).toContain(notYet);
      expect(plan.stdout).toMatch(/ALTER TABLE "replay_t" ADD COLUMN "tandem_\w+_new" bigint/);
      expect(plan.stdout).toMatch(/ALTER TABLE "replay_t" RENAME COLUMN "tandem_\w+_new" TO "amount"/);
    }
    // Plan ran nothing here; expand runs both, compiling the second against this database.
    expect((await tandem(['--url', db.url, 'expand'], dir.cwd)).stdout).toContain('expanded 2 migrations');
  });

  it('plan compiles a pending declarative migration after the expands of the pending ones before it, as expand does', async (ctx) => {
    const db = await database(kind, ctx);
    const dir = workdir();
    const url = ['--url', db.url];
    // MySQL has no embedded server: the scratch database is made on the same server.
    const scratch = db.kind === 'mysql' ? ['--scratch-url', db.url] : [];
    // The first creates the table at expand and adds `note` only at contract.
    dir.write('20260101000000_create', '-- tandem:expand\nCREATE TABLE reach_t (id INT PRIMARY KEY, amount INT NOT NULL);\n-- tandem:contract\nALTER TABLE reach_t ADD COLUMN note VARCHAR(20);\n-- tandem:rollback\nDROP TABLE reach_t;\n');
    fs.writeFileSync(path.join(dir.cwd, 'migrations', '20260102000000_widen.json'), JSON.stringify({ operations: [{ alterColumn: { table: 'reach_t', column: 'note', type: 'varchar(100)' } }] }));
    // Expanded together, the second meets the table without `note`: plan says so, and expand agrees.
    let plan = await tandem([...url, 'plan', ...scratch], dir.cwd);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/nor on a scratch database where the migrations before it ran from an empty schema, as far as tandem expand will leave them: .*note/);
    expect(plan.stdout).not.toMatch(/ADD COLUMN .tandem_\w+_new/i);
    const together = await tandem([...url, 'expand'], dir.cwd);
    expect(together.code).not.toBe(0);
    expect(together.stderr).toMatch(/20260102000000_widen\.json.*note/);
    // Once the first has contracted, the second compiles against this database, and expands.
    expect((await tandem([...url, 'backfill'], dir.cwd)).code).toBe(0);
    expect((await tandem([...url, 'contract'], dir.cwd)).code).toBe(0);
    plan = await tandem([...url, 'plan'], dir.cwd);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).not.toContain('scratch database');
    expect(plan.stdout).toMatch(db.kind === 'mysql' ? /ADD COLUMN `tandem_\w+_new` VARCHAR\(100\)/i : /ADD COLUMN "tandem_\w+_new" varchar\(100\)/);
    expect((await tandem([...url, 'expand'], dir.cwd)).stdout).toContain('expanded 1 migration');
  });

  it('status --json: one document with the database and every migration', async (ctx) => {
    const db = await database(kind, ctx);
    const dir = workdir();
    dir.write(ID, LABEL);
    dir.write('20260301000002_later', 'CREATE TABLE later_t (id INT);\n');
    expect((await tandem(['--url', db.url, 'expand'], dir.cwd)).code).toBe(0);
    expect((await tandem(['--url', db.url, 'rollback', '20260301000002'], dir.cwd)).code).toBe(0);

    const result = await tandem(['--url', db.url, 'status', '--json'], dir.cwd);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(Object.keys(doc).sort()).toEqual(['database', 'migrations']);
    expect(doc.database).toBe(db.url);
    expect(doc.migrations).toHaveLength(2);
    const [first, second] = doc.migrations;
    expect(first).toEqual({
      id: ID,
      name: 'add_label',
      file: `migrations/${ID}.sql`,
      plain: false,
      phase: 'expanded',
      activePhase: null,
      running: false,
      interrupted: false,
      error: null,
      errorLine: null,
      statementsDone: 0,
      statementsTotal: null,
      backfill: [],
      baselined: false,
      drift: [],
      next: 'tandem backfill',
      appliedBy: expect.stringMatching(/ pid \d+$/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(second).toMatchObject({ id: '20260301000002_later', plain: true, phase: 'rolled_back', next: 'tandem expand' });
  });

  it('plan\'s header gives the lock waits the steps get: the short one for DDL that queues the app, as configured', async (ctx) => {
    const db = await database(kind, ctx);
    const dir = workdir();
    dir.write(ID, LABEL);
    fs.writeFileSync(path.join(dir.cwd, 'tandem.config.json'), JSON.stringify({ lockTimeoutMs: 900, blockingLockTimeoutMs: 40, mysqlLockWaitTimeoutSeconds: 3 }));
    const plan = await tandem(['--url', db.url, 'plan'], dir.cwd);
    expect(plan.code, plan.stderr).toBe(0);
    const header = plan.stdout.split('\n')[0]!;
    if (db.kind !== 'mysql') expect(header).toContain('lock_timeout 40 ms for DDL that holds up app queries while it waits (ALTER TABLE, triggers), 900 ms for other steps');
    else if (/mariadb/i.test(header)) expect(header).toContain('NOWAIT for DDL that holds its lock briefly (triggers, INSTANT changes, renames), lock_wait_timeout 3 s for other steps');
    else expect(header).toContain('every step: lock_wait_timeout 3 s');
    expect(header).toContain('up to 10 retries on lock timeout');
  });

  it('plan on MariaDB explains the redo log\'s pace in full under the first throttled backfill only', async (ctx) => {
    const db = await database(kind, ctx);
    if (db.kind !== 'mysql') ctx.skip('the redo-log throttle is MariaDB\'s');
    const dir = workdir();
    dir.write('1_a', '-- tandem:expand\nCREATE TABLE pace_t (id INT PRIMARY KEY, a INT, b INT);\n-- tandem:backfill\nUPDATE pace_t SET a = id;\n');
    dir.write('2_b', '-- tandem:backfill\nUPDATE pace_t SET b = id;\n');
    const plan = await tandem(['--url', db.url, 'plan'], dir.cwd);
    expect(plan.code, plan.stderr).toBe(0);
    if (!/mariadb/i.test(plan.stdout)) ctx.skip('MySQL: no redo-log throttle');
    const count = (text: string) => plan.stdout.split(text).length - 1;
    expect(count('before each batch, waits while the InnoDB redo log is over 70 % full')).toBe(2);
    const advice = count('(innodb_log_file_size)') + count('pages a second (');
    expect(count('see the first backfill above')).toBe(advice > 0 ? 1 : 0);
    expect(count('(innodb_log_file_size)')).toBeLessThanOrEqual(1);
    expect(count('pages a second (')).toBeLessThanOrEqual(1);
  });

  it('plan executes nothing: the ledger and the schema are unchanged', async (ctx) => {
    const db = await database(kind, ctx);
    if (db.kind === 'pglite') ctx.skip('reads the database over a connection of its own, which an embedded PGlite does not take (no PostgreSQL server here)');
    const dir = workdir();
    dir.write(ID, LABEL);
    const ledgerTable = kind === 'postgres' ? 'tandem.migrations' : 'tandem_migrations';
    const tables = async () =>
      (
        await query<{ t: string }>(
          db,
          kind === 'postgres'
            ? "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
            : 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1',
        )
      ).map((row) => row.t);

    const fresh = await tandem(['--url', db.url, 'plan'], dir.cwd);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toContain('CREATE TABLE items');
    expect(fresh.stdout).toContain('UPDATE items SET label = name');
    expect(fresh.stdout).toContain('in keyset batches by primary key, each batch its own transaction of about 30 ms');
    // When the batches wait (the defaults): for standbys on PostgreSQL, for the redo log on MariaDB.
    if (db.kind === 'postgres') expect(fresh.stdout).toContain('before each batch, waits while a physical standby the primary streams to is over 1000 ms behind');
    if (db.kind === 'mysql' && /mariadb/i.test(fresh.stdout)) {
      expect(fresh.stdout).toContain('before each batch, waits while the InnoDB redo log is over 70 % full');
      // And what the server's settings mean for that pace, as the throttle's notice says it.
      const [settings] = await query<{ bytes: number; io: number }>(db, 'SELECT @@GLOBAL.innodb_log_file_size AS bytes, @@GLOBAL.innodb_io_capacity AS io');
      if (Number(settings!.bytes) < 2 * 1024 ** 3) expect(fresh.stdout).toContain(`The redo log is ${Math.round(Number(settings!.bytes) / 1024 ** 2)} MB (innodb_log_file_size)`);
      if (Number(settings!.io) < 1000) expect(fresh.stdout).toContain(`the page cleaner flushes about innodb_io_capacity pages a second (${Number(settings!.io)};`);
    }
    if (db.kind !== 'mysql') expect(fresh.stdout).not.toContain('innodb_io_capacity');
    if (db.kind === 'pglite') expect(fresh.stdout).not.toContain('before each batch');
    expect(await tables()).toEqual([]); // not even the ledger

    expect((await tandem(['--url', db.url, 'expand'], dir.cwd)).code).toBe(0);
    const tablesBefore = await tables();
    const ledgerBefore = await query(db, `SELECT * FROM ${ledgerTable}`);
    const eventsBefore = await query(db, `SELECT COUNT(*) AS n FROM ${kind === 'postgres' ? 'tandem.events' : 'tandem_events'}`);
    const itemsBefore = await query(db, 'SELECT * FROM items ORDER BY id');

    const planned = await tandem(['--url', db.url, 'plan', ID], dir.cwd);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain('-- expand (done)');
    expect(planned.stdout).toContain('ALTER TABLE items DROP COLUMN name');
    expect(await tables()).toEqual(tablesBefore);
    expect(await query(db, `SELECT * FROM ${ledgerTable}`)).toEqual(ledgerBefore);
    expect(await query(db, `SELECT COUNT(*) AS n FROM ${kind === 'postgres' ? 'tandem.events' : 'tandem_events'}`)).toEqual(eventsBefore);
    expect(await query(db, 'SELECT * FROM items ORDER BY id')).toEqual(itemsBefore);
  });

  it('plan says when the app\'s first write after expand will load PL/pgSQL, unless the server preloads it', async (ctx) => {
    const db = await database(kind, ctx);
    const dir = workdir();
    dir.write(
      ID,
      db.kind === 'mysql'
        ? '-- tandem:expand\nCREATE TABLE items (id INT PRIMARY KEY, n INT);\n'
        : `-- tandem:expand
CREATE TABLE items (id int PRIMARY KEY, n int);
CREATE FUNCTION items_fill() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.n := coalesce(NEW.n, 0); RETURN NEW; END$$;
CREATE TRIGGER items_fill BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION items_fill();
`,
    );
    const hint = "first write through the new trigger loads PL/pgSQL into its backend (~4 ms each, all connections at once); a server that preloads it saves that: session_preload_libraries = 'plpgsql'";
    const planned = await tandem(['--url', db.url, 'plan'], dir.cwd);
    expect(planned.code).toBe(0);
    expect(planned.stdout).toContain('-- expand');
    // A PostgreSQL server loads the library per backend; PGlite runs in tandem's process, MySQL has no PL/pgSQL.
    if (db.kind !== 'postgres') {
      expect(planned.stdout).not.toContain('PL/pgSQL');
      return;
    }
    expect(planned.stdout).toContain(hint);
    await query(db, `ALTER DATABASE "${db.name}" SET session_preload_libraries = 'plpgsql'`);
    const preloaded = await tandem(['--url', db.url, 'plan'], dir.cwd);
    expect(preloaded.code).toBe(0);
    expect(preloaded.stdout).toContain('CREATE TRIGGER items_fill');
    expect(preloaded.stdout).not.toContain('PL/pgSQL');
  });
});

describe('connection problems', () => {
  it('an unknown URL scheme is a usage error', async () => {
    const { cwd } = workdir();
    const result = await tandem(['--url', 'redis://u:secret@127.0.0.1/0', 'status'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown scheme "redis:"');
    expect(`${result.stdout}${result.stderr}`).not.toContain('secret');
  });

  it.each([['status'], ['expand'], ['plan']])('a password URL to a closed port: exit 2, "connection refused", password never shown (%s)', async (command) => {
    const { cwd } = workdir();
    const result = await tandem(['--url', 'postgres://u:secret@127.0.0.1:1/db', command], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot connect to postgres://u:***@127.0.0.1:1/db: connection refused');
    expect(`${result.stdout}${result.stderr}`).not.toContain('secret');
  });

  it('a password given through DATABASE_URL is not shown either', async () => {
    const { cwd } = workdir();
    const result = await tandem(['expand'], cwd, { DATABASE_URL: 'mysql://root:s3cr@t@127.0.0.1:1/db' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('connection refused');
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/s3cr|@t@/);
  });

  it('wrong credentials on MariaDB/MySQL: exit 2, "authentication failed"', async (ctx) => {
    const db = await database('mysql', ctx);
    const user = `tandem_cli_${randomBytes(3).toString('hex')}`;
    await query(db, `CREATE USER '${user}'@'%' IDENTIFIED BY 'right-pass'`);
    await query(db, `CREATE USER '${user}'@'localhost' IDENTIFIED BY 'right-pass'`);
    await query(db, `GRANT ALL ON \`${db.name}\`.* TO '${user}'@'%'`);
    await query(db, `GRANT ALL ON \`${db.name}\`.* TO '${user}'@'localhost'`);
    cleanups.push(async () => {
      await query(db, `DROP USER IF EXISTS '${user}'@'%'`);
      await query(db, `DROP USER IF EXISTS '${user}'@'localhost'`);
    });
    const server = new URL(db.url);
    const as = (password: string) => `mysql://${user}:${password}@${server.host}${server.pathname}`;
    const { cwd } = workdir();

    const wrong = await tandem(['--url', as('wrong-pass'), 'status'], cwd);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('authentication failed');
    expect(wrong.stderr).toContain('fix: check the user name and password in the URL');
    expect(`${wrong.stdout}${wrong.stderr}`).not.toContain('wrong-pass');

    // The same user with the right password gets in: it was the password.
    const right = await tandem(['--url', as('right-pass'), 'status'], cwd);
    expect(right.stderr).toBe('');
    expect(right.code).toBe(0);
    expect(`${right.stdout}${right.stderr}`).not.toContain('right-pass');
  });

  it('a database that does not exist', async () => {
    const { cwd } = workdir();
    const result = await tandem(['--url', `postgres://postgres@127.0.0.1:5432/tandem_no_such_db_${randomBytes(3).toString('hex')}`, 'status'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the database does not exist');
  });
});

describe('no URL at all', () => {
  it('uses the embedded PostgreSQL in .tandem/pglite under the cwd, and says so once', async () => {
    const dir = workdir();
    dir.write(ID, 'CREATE TABLE t (id INT);\n');
    const expand = await tandem(['expand'], dir.cwd);
    expect(expand.code).toBe(0);
    const notices = expand.stderr.split('\n').filter((line) => line.includes('using the embedded PostgreSQL (PGlite) in .tandem/pglite'));
    expect(notices).toHaveLength(1);
    expect(fs.statSync(path.join(dir.cwd, '.tandem', 'pglite')).isDirectory()).toBe(true);
    // The lock file is gone once the command ends.
    expect(fs.existsSync(path.join(dir.cwd, '.tandem', 'pglite.lock'))).toBe(false);

    const status = await tandem(['status', '--json'], dir.cwd);
    expect(status.code).toBe(0);
    const doc = JSON.parse(status.stdout);
    expect(doc.database).toBe(`pglite:.tandem/pglite`);
    expect(doc.migrations.map((m: { phase: string }) => m.phase)).toEqual(['expanded']);
  }, 180_000);
});

describe('two runners at once', () => {
  let db: TestDatabase | null = null;
  afterAll(async () => db?.drop());

  it('the second `expand --wait 0` exits 3 naming the first (pid and command)', async (ctx) => {
    db = await createTestDatabase('postgres', 'cli_two_runners');
    if (!db || db.kind !== 'postgres') return ctx.skip('needs a PostgreSQL server');
    const dir = workdir();
    // The first runner holds the lock until the test opens the gate (a row in `gate`), however slow
    // the second CLI (a new node process on a busy CI machine) is to start. Each statement of the
    // loop sees rows committed since (READ COMMITTED); it gives up after 120 s.
    await query(db, 'CREATE TABLE gate (open INT)');
    dir.write(ID, "-- tandem:expand\nCREATE TABLE slow_t (id INT);\nDO $$ BEGIN FOR i IN 1..2400 LOOP EXIT WHEN EXISTS (SELECT 1 FROM gate); PERFORM pg_sleep(0.05); END LOOP; END $$;\n");

    const first = start(['--url', db.url, 'expand'], dir.cwd);
    const firstDone = finish(first);
    // Wait until the first runner holds the lock (its advisory lock shows in pg_locks). Only this
    // database's: test files running alongside hold the same lock key in theirs.
    const deadline = Date.now() + 20_000;
    while ((await query(db, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1952542308 AND objid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).length === 0) {
      if (Date.now() > deadline) throw new Error('the first runner never took the lock');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const second = await tandem(['--url', db.url, '--wait', '0', 'expand'], dir.cwd);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain('another tandem runner holds the lock on this database: tandem expand run by ');
    expect(second.stderr).toContain(`pid ${first.pid}`);
    expect(second.stderr).toContain('--wait');

    await query(db, 'INSERT INTO gate VALUES (1)');
    const firstResult = await firstDone;
    expect(firstResult.code).toBe(0);
    expect(firstResult.stdout).toContain('expanded 1 migration');
    // The second ran nothing: one expand event only.
    expect(await query(db, "SELECT outcome FROM tandem.events WHERE phase = 'expand'")).toEqual([{ outcome: 'succeeded' }]);
  }, 180_000);
});

describe.each(['postgres', 'mysql'] as const)('a runner killed mid-phase on %s', (kind) => {
  it('status says failed (interrupted) and what to run; a rerun finishes the phase', async (ctx) => {
    const db = await database(kind, ctx);
    if (db.kind === 'pglite') ctx.skip('reads the database over a connection of its own, which an embedded PGlite does not take (no PostgreSQL server here)');
    const dir = workdir();
    const sleep = kind === 'postgres' ? 'SELECT pg_sleep(2)' : 'SELECT SLEEP(2)';
    dir.write(ID, `-- tandem:expand\nCREATE TABLE crash_t (id INT);\n${sleep};\n`);
    const ledger = kind === 'postgres' ? 'tandem.migrations' : 'tandem_migrations';
    const lockHeld = async () =>
      kind === 'postgres'
        ? (await query(db, "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 1952542308 AND objid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")).length > 0
        : (await query<{ id: unknown }>(db, "SELECT IS_USED_LOCK(CONCAT('tandem:', DATABASE())) AS id"))[0]?.id != null;
    const waitUntil = async (condition: () => Promise<boolean>, what: string) => {
      const deadline = Date.now() + 20_000;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    const runner = start(['--url', db.url, 'expand'], dir.cwd);
    const exited = finish(runner);
    // Killed while in the sleep: on MySQL the CREATE TABLE is done and recorded by then.
    const doneBeforeSleep = kind === 'postgres' ? 0 : 1;
    await waitUntil(async () => (await lockHeld()) && (await query(db, `SELECT 1 FROM ${ledger} WHERE active_phase = 'expand' AND statements_done = ${doneBeforeSleep}`).catch(() => [])).length > 0, 'the expand to start');
    runner.kill('SIGKILL');
    expect((await exited).code).toBeNull();
    // The server ends the dead runner's session (and its lock) once the sleep returns.
    await waitUntil(async () => !(await lockHeld()), 'the dead session to go');

    const status = await statusJson(db.url, dir.cwd);
    expect(status.migrations[0]).toMatchObject({
      id: ID,
      phase: 'failed',
      activePhase: 'expand',
      running: false,
      interrupted: true,
      statementsDone: doneBeforeSleep,
      error: `expand was interrupted after ${doneBeforeSleep} statement(s) (the runner stopped without finishing)`,
      next: `tandem expand (or tandem rollback ${ID})`,
    });

    // The rerun continues (MySQL: after the CREATE TABLE, which would fail with "already exists").
    const rerun = await tandem(['--url', db.url, 'expand'], dir.cwd);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    const events = await query<{ outcome: string }>(db, `SELECT outcome FROM ${kind === 'postgres' ? 'tandem.events' : 'tandem_events'} ORDER BY id`);
    expect(events.map((e) => e.outcome)).toEqual(['interrupted', 'succeeded']);
    const after = await statusJson(db.url, dir.cwd);
    expect(after.migrations[0]).toMatchObject({ phase: 'expanded', interrupted: false, error: null });
  }, 180_000);
});
