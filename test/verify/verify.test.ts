/**
 * `tandem verify` through the API, on every database kind: the safe examples pass, the unsafe ones
 * (migrations-examples/unsafe) fail in the right cells with the right explanation, and on a server
 * every scratch database verify made is gone afterwards.
 *
 * PGlite: verify runs on its own embedded PostgreSQL (no URL). PostgreSQL and MariaDB: the test's
 * fresh database URL is handed over as the *server*; verify creates (and drops) its own scratch
 * databases next to it, named tandem_verify_<label>_<pid>_<hex>.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knex from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, parseConnectionUrl } from '../../src/index.js';
import { verifyMigrations, type VerifyReport } from '../../src/verify/verify.js';
import { ALL_KINDS, createTestDatabase, type TestDatabase } from '../support/databases.js';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations-examples');
const CONFIG = configSchema.parse({ waitSeconds: 5, lockTimeoutMs: 2000, retries: { count: 3, initialDelayMs: 50, maxDelayMs: 200 } });

function dialectDir(db: TestDatabase, ...parts: string[]): string {
  return path.join(EXAMPLES, ...parts, db.kind === 'mysql' ? 'mysql' : 'postgres');
}

function verify(db: TestDatabase, dir: string, ids: string[]): Promise<VerifyReport> {
  return verifyMigrations({ dir, ids, server: db.kind === 'pglite' ? null : parseConnectionUrl(db.url), config: CONFIG });
}

const cell = (report: VerifyReport, app: 'old' | 'new', state: string) => report.cells.find((c) => c.app === app && c.state === state)!;
const failing = (report: VerifyReport) => report.cells.filter((c) => c.status === 'failed').map((c) => `${c.app} ${c.state}`).sort();

/** Scratch databases this process made that still exist on the server. */
async function leftovers(db: TestDatabase): Promise<string[]> {
  if (db.kind === 'pglite') return [];
  const admin = knex({ client: db.kind === 'mysql' ? 'mysql2' : 'pg', connection: db.url, pool: { min: 0, max: 1 } });
  try {
    const pattern = `tandem\\_verify\\_%\\_${process.pid}\\_%`;
    const result = db.kind === 'mysql'
      ? await admin.raw('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [pattern])
      : await admin.raw('SELECT datname AS name FROM pg_database WHERE datname LIKE ?', [pattern]);
    return (db.kind === 'mysql' ? result[0] : result.rows).map((row: { name: string }) => row.name);
  } finally {
    await admin.destroy();
  }
}

/** A table and a renameColumn, with probe files: each app version reads and writes its own name of the column (the old app's run twice: old, new, old). */
function renameThroughViewsDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-verify-views-'));
  dirs.push(dir);
  fs.mkdirSync(path.join(dir, 'probes'));
  fs.writeFileSync(path.join(dir, '20260101000000_base.sql'), "-- tandem:expand\nCREATE TABLE items (id int PRIMARY KEY, note text NOT NULL);\nINSERT INTO items VALUES (1, 'one');\n");
  fs.writeFileSync(path.join(dir, '20260102000000_rename.json'), JSON.stringify({ operations: [{ renameColumn: { table: 'items', from: 'note', to: 'memo' } }] }));
  fs.writeFileSync(path.join(dir, 'probes', '20260102000000_rename.old.sql'), "DELETE FROM items WHERE id = 100;\n-- expect: rows 1\nINSERT INTO items (id, note) VALUES (100, 'old app');\n-- expect: rows 1\nSELECT note FROM items WHERE id = 1;\n");
  fs.writeFileSync(path.join(dir, 'probes', '20260102000000_rename.new.sql'), "DELETE FROM items WHERE id = 200;\n-- expect: rows 1\nINSERT INTO items (id, memo) VALUES (200, 'new app');\n-- expect: rows 1\nSELECT memo FROM items WHERE id = 1;\n");
  return dir;
}
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe.each(['postgres', 'pglite'] as const)('tandem verify with version schemas on %s', (kind) => {
  it('runs the new app through its version schema: a column renamed through the views has its new name from S1 on', async (ctx) => {
    const db = await createTestDatabase(kind, 'verify_views');
    if (!db) return ctx.skip(`${kind} unavailable`);
    try {
      const dir = renameThroughViewsDir();
      const config = configSchema.parse({ ...CONFIG, versionSchemas: true });
      // The new app's command sees its schema in the environment (libpq and node-postgres read PGOPTIONS).
      const newCmd = `node -e "const o = process.env.PGOPTIONS || ''; process.exit(o === '-c search_path=public_20260102000000_rename,public' && process.env.TANDEM_SEARCH_PATH === 'public_20260102000000_rename, public' ? 0 : 1)"`;
      const report = await verifyMigrations({ dir, ids: ['20260102000000_rename'], server: db.kind === 'pglite' ? null : parseConnectionUrl(db.url), config, newCmd });
      expect(report.cells.flatMap((c) => c.failures)).toEqual([]);
      expect(failing(report)).toEqual([]);
      for (const state of ['S1', 'S2', 'S3']) expect(cell(report, 'new', state)).toMatchObject({ status: 'passed' });
      // Without version schemas the same files compile to a twin column, and the same probes pass as well.
      const plain = await verifyMigrations({ dir, ids: ['20260102000000_rename'], server: db.kind === 'pglite' ? null : parseConnectionUrl(db.url), config: CONFIG });
      expect(failing(plain)).toEqual([]);
      expect(await leftovers(db)).toEqual([]);
    } finally {
      await db.drop();
    }
  }, 240_000);
});

describe.each(ALL_KINDS)('tandem verify on %s', (kind) => {
  let db: TestDatabase | null = null;
  beforeAll(async () => {
    db = await createTestDatabase(kind, 'verify');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('passes the safe examples: every required cell works, probe files included', async (ctx) => {
    if (!db) return ctx.skip(`${kind} unavailable`);
    const report = await verify(db, dialectDir(db), ['20260102000000_widen_account_balance', '20260103000000_add_required_country']);
    expect(failing(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.before).toEqual(['20260101000000_base_schema']);
    expect(report.tables).toEqual(['accounts', 'users']);
    for (const [app, state] of [['old', 'S0'], ['old', 'S1'], ['old', 'S2'], ['old', 'R'], ['new', 'S1'], ['new', 'S2'], ['new', 'S3']] as const) {
      expect(cell(report, app, state)).toMatchObject({ required: true, status: 'passed' });
      // Automatic probes plus the statements of probes/<id>.<app>.sql (at least five per file).
      expect(cell(report, app, state).checks).toBeGreaterThan(10);
    }
    expect(await leftovers(db)).toEqual([]);
  }, 240_000);

  it('rejects the unsafe examples, each in the old app at S1 and S2, explained', async (ctx) => {
    if (!db) return ctx.skip(`${kind} unavailable`);
    const dir = dialectDir(db, 'unsafe');
    const report = await verify(db, dir, ['20260202000000', '20260203000000', '20260204000000']);
    expect(report.ok).toBe(false);
    expect(failing(report)).toEqual(['old S1', 'old S2']);
    for (const state of ['S1', 'S2']) {
      const failures = cell(report, 'old', state).failures.join('\n');
      expect(failures).toContain(`the old app reads users.nickname, which does not exist at S${state[1]}`);
      expect(failures).toContain(`the old app inserts into orders without currency, which is NOT NULL without a default at S${state[1]}`);
      expect(failures).toContain(`the old app inserts into notes with body, which does not exist at S${state[1]}`);
    }
    // The rollback sections restore S0, and the new app works wherever it runs.
    expect(cell(report, 'old', 'R').status).toBe('passed');
    expect(cell(report, 'new', 'S3').status).toBe('passed');
    expect(await leftovers(db)).toEqual([]);
  }, 240_000);

  it('passes split_customer_name, whose contract makes first_name required as full_name was', async (ctx) => {
    if (!db) return ctx.skip(`${kind} unavailable`);
    // At S3 first_name is NOT NULL, so the new app always gives it, and the dual-write trigger can
    // always derive full_name (NOT NULL) from it before contract.
    const report = await verify(db, dialectDir(db), ['20260104000000_split_customer_name']);
    expect(failing(report)).toEqual([]);
    expect(cell(report, 'new', 'S1').status).toBe('passed');
    expect(cell(report, 'old', 'R').status).toBe('passed');
    expect(await leftovers(db)).toEqual([]);
  }, 240_000);
});
