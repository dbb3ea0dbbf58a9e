/**
 * The example migrations (migrations-examples/) through every phase, on every database kind, with
 * both app versions writing and reading at each schema state:
 *
 *   S1 expanded, S2 backfilled  the old app (old columns only) and the new app (new columns only)
 *                               both work, and each reads back what the other wrote
 *   S3 contracted               the new app works; the old columns and the triggers are gone
 *   rollback from S1            the schema is S0 again, the data written at S1 is still there,
 *                               and the examples can be expanded again
 *
 * App traffic goes through its own knex connection on PostgreSQL and MySQL. PGlite has a single
 * connection, so there the app uses tandem's (t.session.db) between phases; nothing runs
 * concurrently, so that is the same traffic.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import knex, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingReporter, connect, loadMigrations, splitStatements, type Tandem, type TandemConfigInput } from '../../src/index.js';
import { planSteps } from '../../src/runner/run-phase.js';
import { ALL_KINDS, createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases.js';

type Dialect = 'postgres' | 'mysql';

const EXAMPLES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations-examples');
const BASE = '20260101000000_base_schema';
const WIDEN = '20260102000000_widen_account_balance';
const COUNTRY = '20260103000000_add_required_country';
const SPLIT = '20260104000000_split_customer_name';
const PHASED = [WIDEN, COUNTRY, SPLIT];
const SEED_ROWS = 200;

/** App rows of these tests: A is written first by the old app, B by the new app. The probes use 100000/100001. */
const A = 100_100;
const B = 100_101;
/** Rows the old app writes between backfill batches. */
const DURING_BACKFILL = 100_500;

const CONFIG: TandemConfigInput = {
  waitSeconds: 5,
  lockTimeoutMs: 2000,
  retries: { count: 3, initialDelayMs: 50, maxDelayMs: 200 },
  // Small batches: 200 seed rows take several batches, with app writes between them.
  backfill: { targetBatchMs: 50, initialBatchSize: 50, minBatchSize: 10, maxBatchSize: 50, pauseMs: 0 },
};

// ---------------------------------------------------------------------------------------------
// connections

interface App {
  db: Knex;
  dialect: Dialect;
  close(): Promise<void>;
}

function dialectOf(db: TestDatabase): Dialect {
  return db.kind === 'mysql' ? 'mysql' : 'postgres';
}

function examplesDir(db: TestDatabase): string {
  return path.join(EXAMPLES, dialectOf(db));
}

/** The app's connection: its own on a server, tandem's on PGlite (one connection only). */
function appConnection(db: TestDatabase, t: Tandem): App {
  const dialect = dialectOf(db);
  if (db.kind === 'pglite') return { db: t.session.db, dialect, close: async () => undefined };
  const own = knex({ client: db.kind === 'mysql' ? 'mysql2' : 'pg', connection: db.url, pool: { min: 0, max: 2 } });
  return { db: own, dialect, close: () => own.destroy() };
}

async function select<T = Record<string, unknown>>(app: App, sql: string, bindings: readonly unknown[] = []): Promise<T[]> {
  const result = await app.db.raw(sql, bindings as Knex.RawBinding[]);
  return (app.dialect === 'mysql' ? result[0] : result.rows) as T[];
}

async function count(app: App, table: string, where: string): Promise<number> {
  const [row] = await select<{ n: unknown }>(app, `SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`);
  return Number(row?.n);
}

/** `a IS DISTINCT FROM b` in the app's dialect. */
function differs(app: App, a: string, b: string): string {
  return app.dialect === 'mysql' ? `NOT (${a} <=> ${b})` : `${a} IS DISTINCT FROM ${b}`;
}

// ---------------------------------------------------------------------------------------------
// the two app versions: each uses only the columns it knows

const num = (value: unknown) => (value === null || value === undefined ? value : Number(value));

function oldApp(app: App) {
  const { db } = app;
  const one = async (table: string, id: number, column: string) => ((await db(table).where({ id }).first(column)) as Record<string, unknown> | undefined)?.[column];
  return {
    insertAccount: (id: number, balance: number) => db('accounts').insert({ id, owner: `old app ${id}`, balance }),
    setBalance: (id: number, balance: number) => db('accounts').where({ id }).update({ balance }),
    balance: async (id: number) => num(await one('accounts', id, 'balance')),
    insertUser: (id: number, locale: string) => db('users').insert({ id, email: `old${id}@example.com`, locale }),
    setLocale: (id: number, locale: string) => db('users').where({ id }).update({ locale }),
    locale: (id: number) => one('users', id, 'locale'),
    insertCustomer: (id: number, fullName: string) => db('customers').insert({ id, full_name: fullName }),
    setFullName: (id: number, fullName: string) => db('customers').where({ id }).update({ full_name: fullName }),
    fullName: (id: number) => one('customers', id, 'full_name'),
  };
}

function newApp(app: App) {
  const { db } = app;
  const one = async (table: string, id: number, column: string) => ((await db(table).where({ id }).first(column)) as Record<string, unknown> | undefined)?.[column];
  return {
    insertAccount: (id: number, cents: number) => db('accounts').insert({ id, owner: `new app ${id}`, balance_cents: cents }),
    setBalanceCents: (id: number, cents: number) => db('accounts').where({ id }).update({ balance_cents: cents }),
    balanceCents: async (id: number) => num(await one('accounts', id, 'balance_cents')),
    insertUser: (id: number, locale: string, country: string) => db('users').insert({ id, email: `new${id}@example.com`, locale, country_code: country }),
    move: (id: number, locale: string, country: string) => db('users').where({ id }).update({ locale, country_code: country }),
    country: (id: number) => one('users', id, 'country_code'),
    insertCustomer: (id: number, first: string, last: string | null) => db('customers').insert({ id, first_name: first, last_name: last }),
    setFirstName: (id: number, first: string) => db('customers').where({ id }).update({ first_name: first }),
    setLastName: (id: number, last: string) => db('customers').where({ id }).update({ last_name: last }),
    name: async (id: number) => {
      const row = (await db('customers').where({ id }).first('first_name', 'last_name')) as { first_name: string | null; last_name: string | null } | undefined;
      return row ? [row.first_name, row.last_name] : undefined;
    },
  };
}

async function removeAppRows(app: App): Promise<void> {
  for (const table of ['accounts', 'users', 'customers']) await app.db(table).whereIn('id', [A, B]).delete();
}

/** What the old app reads of rows A and B after sideBySide(): it must survive a rollback. */
const OLD_VIEW_AFTER_TRAFFIC: Record<'balance' | 'locale' | 'fullName', Record<number, unknown>> = {
  balance: { [A]: 700, [B]: 900 },
  locale: { [A]: 'ja_JP', [B]: 'de_AT' },
  fullName: { [A]: 'Ada KING', [B]: 'Guido van Rossum' },
};

// ---------------------------------------------------------------------------------------------
// S1 / S2: both versions side by side

async function balanceSideBySide(app: App): Promise<void> {
  const [old, neu] = [oldApp(app), newApp(app)];
  await old.insertAccount(A, 500);
  expect(await neu.balanceCents(A)).toBe(500);
  await neu.setBalanceCents(A, 700);
  expect(await old.balance(A)).toBe(700);

  // The new app inserts without balance, which is NOT NULL: the BEFORE INSERT trigger fills it.
  await neu.insertAccount(B, 800);
  expect(await old.balance(B)).toBe(800);
  await old.setBalance(B, 900);
  expect(await neu.balanceCents(B)).toBe(900);

  // Beyond INTEGER while the old app still reads balance: refused, nothing changes.
  await expect(neu.setBalanceCents(B, 3_000_000_000)).rejects.toThrow(/does not fit the old INT/);
  await expect(neu.insertAccount(B + 10, 3_000_000_000)).rejects.toThrow(/does not fit the old INT/);
  expect(await neu.balanceCents(B)).toBe(900);
  expect(await old.balance(B)).toBe(900);
}

async function countrySideBySide(app: App): Promise<void> {
  const [old, neu] = [oldApp(app), newApp(app)];
  await old.insertUser(A, 'pt_BR');
  expect(await neu.country(A)).toBe('BR');
  await old.setLocale(A, 'ja_JP');
  expect(await neu.country(A)).toBe('JP');

  await neu.insertUser(B, 'de_DE', 'DE');
  expect(await old.locale(B)).toBe('de_DE');
  await neu.move(B, 'de_AT', 'AT');
  expect(await old.locale(B)).toBe('de_AT');
  expect(await neu.country(B)).toBe('AT');
}

async function nameSideBySide(app: App): Promise<void> {
  const [old, neu] = [oldApp(app), newApp(app)];
  await old.insertCustomer(A, 'Ada Lovelace');
  expect(await neu.name(A)).toEqual(['Ada', 'Lovelace']);
  await neu.setLastName(A, 'King');
  expect(await old.fullName(A)).toBe('Ada King');
  // A case-only correction must reach the old column too (MySQL's _ci collation calls them equal).
  await neu.setLastName(A, 'KING');
  expect(await old.fullName(A)).toBe('Ada KING');

  // The new app inserts without full_name, which is NOT NULL: the BEFORE INSERT trigger joins it.
  await neu.insertCustomer(B, 'Grace', 'Hopper');
  expect(await old.fullName(B)).toBe('Grace Hopper');
  await old.setFullName(B, 'Guido van Rossum');
  expect(await neu.name(B)).toEqual(['Guido', 'van Rossum']);
}

async function sideBySide(app: App): Promise<void> {
  await removeAppRows(app);
  await balanceSideBySide(app);
  await countrySideBySide(app);
  await nameSideBySide(app);
}

/** At S1 the seed rows are not split yet: updating one half must not lose the other. */
async function newAppUpdatesRowNotYetSplit(app: App): Promise<void> {
  // Seed 3 is 'Edsger Lovelace' (see the base schema's formula).
  expect(await newApp(app).name(3)).toEqual([null, null]);
  await newApp(app).setFirstName(3, 'E.');
  expect(await oldApp(app).fullName(3)).toBe('E. Lovelace');
  expect(await newApp(app).name(3)).toEqual(['E.', 'Lovelace']);
}

// ---------------------------------------------------------------------------------------------
// S2: every row backfilled

async function expectBackfilled(app: App): Promise<void> {
  expect(await count(app, 'accounts', 'balance_cents IS NULL')).toBe(0);
  expect(await count(app, 'accounts', differs(app, 'balance_cents', 'balance'))).toBe(0);

  expect(await count(app, 'users', 'country_code IS NULL')).toBe(0);
  const region = `upper(substr(locale, 4, 2))`;
  expect(await count(app, 'users', `substr(locale, 3, 1) = '_' AND ${differs(app, 'country_code', region)}`)).toBe(0);
  expect(await count(app, 'users', `id <= ${SEED_ROWS} AND locale = 'en' AND country_code = 'US'`)).toBe(SEED_ROWS / 25);
  expect(await count(app, 'users', `id <= ${SEED_ROWS} AND locale = 'de_DE' AND country_code = 'DE'`)).toBeGreaterThan(0);

  expect(await count(app, 'customers', 'first_name IS NULL')).toBe(0);
  expect(await count(app, 'customers', differs(app, 'full_name', `concat_ws(' ', first_name, last_name)`))).toBe(0);
  expect(await newApp(app).name(20)).toEqual(['Guido', 'van Rossum']);
  expect(await newApp(app).name(40)).toEqual(['Cher', null]);
  expect(await oldApp(app).fullName(40)).toBe('Cher');
}

// ---------------------------------------------------------------------------------------------
// S3: the new app alone

async function columns(app: App, table: string): Promise<Record<string, boolean>> {
  const sql =
    app.dialect === 'mysql'
      ? `SELECT COLUMN_NAME AS name, IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`
      : `SELECT column_name AS name, is_nullable AS nullable FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`;
  const rows = await select<{ name: string; nullable: string }>(app, sql, [table]);
  return Object.fromEntries(rows.map((row) => [row.name, row.nullable === 'YES']));
}

async function triggers(app: App): Promise<string[]> {
  const sql =
    app.dialect === 'mysql'
      ? `SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE NOT LIKE 'tandem\\_%'`
      : `SELECT trigger_name AS name FROM information_schema.triggers WHERE trigger_schema = current_schema()`;
  return (await select<{ name: string }>(app, sql)).map((row) => row.name);
}

async function expectContracted(app: App): Promise<void> {
  // The old columns are gone, the new ones required; no trigger is left.
  const accounts = await columns(app, 'accounts');
  expect(accounts).not.toHaveProperty('balance');
  expect(accounts.balance_cents).toBe(false);
  expect((await columns(app, 'users')).country_code).toBe(false);
  const customers = await columns(app, 'customers');
  expect(customers).not.toHaveProperty('full_name');
  expect(Object.keys(customers)).toEqual(expect.arrayContaining(['first_name', 'last_name']));
  expect(await triggers(app)).toEqual([]);

  const neu = newApp(app);
  await removeAppRows(app);
  // Values beyond INTEGER are fine now.
  await neu.insertAccount(A, 3_000_000_000);
  await neu.setBalanceCents(A, 3_000_000_001);
  expect(await neu.balanceCents(A)).toBe(3_000_000_001);
  await neu.insertUser(A, 'es_ES', 'ES');
  expect(await neu.country(A)).toBe('ES');
  await app.db('users').insert({ id: B, email: `new${B}@example.com` });
  expect(await neu.country(B)).toBe('US'); // the default stays
  await expect(app.db('users').where({ id: B }).update({ country_code: null })).rejects.toThrow();
  await neu.insertCustomer(A, 'Barbara', 'Liskov');
  await neu.setFirstName(A, 'B.');
  expect(await neu.name(A)).toEqual(['B.', 'Liskov']);

  // The retired old app would fail now.
  const old = oldApp(app);
  await expect(old.insertAccount(B, 1)).rejects.toThrow();
  await expect(old.insertCustomer(B, 'Ada Lovelace')).rejects.toThrow();
}

// ---------------------------------------------------------------------------------------------
// probes (migrations-examples/*/probes): see migrations-examples/README.md for the format

async function runProbe(app: App, migrationId: string, version: 'old' | 'new'): Promise<void> {
  const file = path.join(EXAMPLES, app.dialect, 'probes', `${migrationId}.${version}.sql`);
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const statements = splitStatements(text, app.dialect);
  expect(statements.length).toBeGreaterThan(3);
  for (const statement of statements) {
    const where = `${path.relative(EXAMPLES, file)}:${statement.line}`;
    const expectation = /^\s*--\s*expect:\s*(.*?)\s*$/.exec(lines[statement.line - 2] ?? '')?.[1];
    const run = () => app.db.raw(statement.sql.replace(/\?/g, '\\?'));
    if (expectation === 'error') {
      await expect(run(), where).rejects.toThrow();
      continue;
    }
    const result = await run();
    if (expectation === undefined) continue;
    const rows = /^rows (\d+)$/.exec(expectation);
    if (!rows) throw new Error(`${where}: unknown expectation "${expectation}"`);
    expect(affectedOrReturned(app, statement.sql, result), where).toBe(Number(rows[1]));
  }
}

function affectedOrReturned(app: App, sql: string, result: any): number {
  const isSelect = /^\s*select\b/i.test(sql);
  if (app.dialect === 'mysql') return isSelect ? result[0].length : result[0].affectedRows;
  return isSelect ? result.rows.length : result.rowCount;
}

/** Old, new, old again: each version's probe row is read by the other. */
async function probesSideBySide(app: App): Promise<void> {
  for (const id of PHASED) {
    await runProbe(app, id, 'old');
    await runProbe(app, id, 'new');
    await runProbe(app, id, 'old');
  }
}

// ---------------------------------------------------------------------------------------------
// schema snapshot: columns (type, nullability, default), indexes, triggers, constraints, functions

async function schemaSnapshot(app: App): Promise<string[]> {
  const queries =
    app.dialect === 'mysql'
      ? [
          `SELECT CONCAT('column ', TABLE_NAME, '.', COLUMN_NAME, ' #', ORDINAL_POSITION, ' ', COLUMN_TYPE, ' nullable=', IS_NULLABLE, ' default=', COALESCE(COLUMN_DEFAULT, '-')) AS item
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'tandem\\_%'`,
          `SELECT CONCAT('index ', TABLE_NAME, '.', INDEX_NAME, ' ', SEQ_IN_INDEX, ' ', COLUMN_NAME, ' non_unique=', NON_UNIQUE) AS item
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'tandem\\_%'`,
          `SELECT CONCAT('trigger ', EVENT_OBJECT_TABLE, '.', TRIGGER_NAME, ' ', ACTION_TIMING, ' ', EVENT_MANIPULATION) AS item
             FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE NOT LIKE 'tandem\\_%'`,
          `SELECT CONCAT('constraint ', TABLE_NAME, '.', CONSTRAINT_NAME, ' ', CONSTRAINT_TYPE) AS item
             FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'tandem\\_%'`,
          `SELECT CONCAT('routine ', ROUTINE_NAME) AS item FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()`,
        ]
      : [
          `SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                  || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                  || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') AS item
             FROM pg_attribute a
             JOIN pg_class c ON c.oid = a.attrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = current_schema() AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
          `SELECT 'index ' || indexdef AS item FROM pg_indexes WHERE schemaname = current_schema()`,
          `SELECT 'trigger ' || c.relname || '.' || t.tgname || ' ' || pg_get_triggerdef(t.oid) AS item
             FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND NOT t.tgisinternal`,
          `SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' not valid' END AS item
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema()`,
          `SELECT 'function ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS item
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()`,
        ];
  const items: string[] = [];
  for (const sql of queries) items.push(...(await select<{ item: string }>(app, sql)).map((row) => row.item));
  return items.sort();
}

// ---------------------------------------------------------------------------------------------
// ledger

async function phaseOf(t: Tandem, id: string): Promise<string | undefined> {
  return (await t.status()).find((status) => status.id === id)?.phase;
}

async function succeededPhases(t: Tandem, id: string): Promise<string[]> {
  return (await t.ledger.events(id)).filter((event) => event.outcome === 'succeeded').map((event) => String(event.phase));
}

// ---------------------------------------------------------------------------------------------

describe.each(ALL_KINDS)('example migrations on %s', (kind: TestDbKind) => {
  describe('expand → backfill → contract, both app versions at every state', () => {
    let db: TestDatabase | null = null;
    let t: Tandem | undefined;
    let app: App | undefined;
    let backfillTraffic: (() => Promise<void>) | undefined;
    const reporter = collectingReporter();

    beforeAll(async () => {
      db = await createTestDatabase(kind, `examples fwd ${kind}`);
      if (!db) return;
      t = await connect({ url: db.url, dir: examplesDir(db), config: CONFIG, reporter, betweenBatches: async () => backfillTraffic?.() });
      app = appConnection(db, t);
    });

    afterAll(async () => {
      await app?.close();
      await t?.close();
      await db?.drop();
    });

    it('plans each backfill UPDATE in batches and, on PostgreSQL, VALIDATE in a transaction of its own', async (ctx) => {
      if (!db || !t) return ctx.skip(`${kind} unavailable`);
      for (const migration of t.migrations().filter((m) => !m.plain)) {
        const backfill = planSteps(t.session, migration.sections.backfill!.statements, 'backfill');
        expect(backfill[0]?.kind, migration.id).toBe('batched');
        if (t.session.adapter.dialect !== 'postgres') continue;
        // The scan must not run under the ACCESS EXCLUSIVE lock the ADD CONSTRAINT before it took.
        const contract = migration.sections.contract!.statements;
        const validate = contract.findIndex((statement) => /VALIDATE CONSTRAINT/.test(statement.sql));
        if (validate < 0) continue;
        expect(planSteps(t.session, contract, 'contract'), migration.id).toEqual([
          { kind: 'transaction', from: 0, to: validate },
          { kind: 'transaction', from: validate, to: contract.length },
        ]);
      }
    });

    it('S1 expanded: the old and the new app work side by side', async (ctx) => {
      if (!db || !t || !app) return ctx.skip(`${kind} unavailable`);
      const summary = await t.expand();
      expect(summary.ran).toEqual([BASE, ...PHASED]);
      for (const id of PHASED) expect(await phaseOf(t, id)).toBe('expanded');
      expect(await count(app, 'accounts', `id <= ${SEED_ROWS}`)).toBe(SEED_ROWS);
      // Not backfilled yet: the seed rows have no values in the new columns.
      expect(await count(app, 'accounts', 'balance_cents IS NULL')).toBe(SEED_ROWS);
      expect(await count(app, 'customers', 'first_name IS NULL')).toBe(SEED_ROWS);

      await sideBySide(app);
      await newAppUpdatesRowNotYetSplit(app);
      await probesSideBySide(app);
    });

    it('S2 backfilled: every row has its new columns, both apps still work', async (ctx) => {
      if (!db || !t || !app) return ctx.skip(`${kind} unavailable`);
      // The old app keeps inserting while the backfill walks the tables.
      let next = DURING_BACKFILL;
      const old = oldApp(app);
      backfillTraffic = async () => {
        const id = next++;
        await old.insertAccount(id, id % 1000);
        await old.insertUser(id, 'fr_FR');
        await old.insertCustomer(id, 'Frances Allen');
      };
      const summary = await t.backfill();
      backfillTraffic = undefined;
      expect(summary.ran).toEqual([BASE, ...PHASED]);
      for (const id of PHASED) expect(await phaseOf(t, id)).toBe('backfilled');
      expect(next - DURING_BACKFILL, 'the old app wrote between batches').toBeGreaterThan(3);

      // Each table went in several batches (at most 50 rows each) and was done.
      for (const table of ['accounts', 'users', 'customers']) {
        const done = reporter.snapshots.filter((s) => s.table.includes(table) && s.done);
        expect(done.length, table).toBeGreaterThan(0);
        expect(done[done.length - 1]!.batches, table).toBeGreaterThanOrEqual(SEED_ROWS / 50);
      }

      await expectBackfilled(app);
      expect(await newApp(app).name(DURING_BACKFILL)).toEqual(['Frances', 'Allen']);
      expect(await newApp(app).country(DURING_BACKFILL)).toBe('FR');
      await sideBySide(app);
      await probesSideBySide(app);
    });

    it('S3 contracted: only the new app, the old columns are gone', async (ctx) => {
      if (!db || !t || !app) return ctx.skip(`${kind} unavailable`);
      const summary = await t.contract();
      expect(summary.ran).toEqual([BASE, ...PHASED]);
      for (const id of [BASE, ...PHASED]) expect(await phaseOf(t, id)).toBe('contracted');
      for (const id of PHASED) expect(await succeededPhases(t, id)).toEqual(['expand', 'backfill', 'contract']);

      // Rows written at S1/S2 kept their values through the contract.
      expect(await newApp(app).balanceCents(100_000)).toBe(700);
      expect(await newApp(app).name(100_000)).toEqual(['Ada', 'King']);

      await expectContracted(app);
      for (const id of PHASED) await runProbe(app, id, 'new');
      if (db.kind === 'postgres' || db.kind === 'pglite') {
        // The index built CONCURRENTLY in the backfill is there and valid.
        const [index] = await select<{ valid: boolean }>(app, `SELECT i.indisvalid AS valid FROM pg_index i WHERE i.indexrelid = to_regclass('customers_last_name_idx')`);
        expect(index?.valid).toBe(true);
      } else {
        expect(await count(app, 'information_schema.STATISTICS', `TABLE_SCHEMA = DATABASE() AND INDEX_NAME = 'customers_last_name_idx'`)).toBe(1);
      }
      expect(await t.rollback(SPLIT).catch((error: Error) => error.message)).toMatch(/contracted/);
    });
  });

  describe('expand → rollback', () => {
    let db: TestDatabase | null = null;
    let t: Tandem | undefined;
    let app: App | undefined;

    beforeAll(async () => {
      // A PGlite directory: the base schema and the examples are applied by two connections in turn.
      db = await createTestDatabase(kind, `examples rb ${kind}`, { pgliteDir: true });
    });

    afterAll(async () => {
      await app?.close();
      await t?.close();
      await db?.drop();
    });

    it('restores S0 exactly, keeps the data written at S1, and can expand again', async (ctx) => {
      if (!db) return ctx.skip(`${kind} unavailable`);
      const dir = examplesDir(db);

      // S0: the base schema alone.
      const base = loadMigrations(dir, dialectOf(db)).filter((m) => m.id === BASE);
      const first = await connect({ url: db.url, migrations: base, config: CONFIG });
      await first.expand();
      await first.backfill();
      await first.contract();
      await first.close();

      t = await connect({ url: db.url, dir, config: CONFIG });
      app = appConnection(db, t);
      const s0 = await schemaSnapshot(app);
      expect(s0.some((item) => item.includes('balance'))).toBe(true);

      // S1, with traffic from both versions.
      expect((await t.expand()).ran).toEqual(PHASED);
      const s1 = await schemaSnapshot(app);
      expect(s1).not.toEqual(s0);
      expect(s1.filter((item) => item.startsWith('trigger')).length).toBeGreaterThan(0);
      await sideBySide(app);
      await probesSideBySide(app);

      // Rollback, newest first.
      expect((await t.rollback()).ran).toEqual([...PHASED].reverse());
      expect(await schemaSnapshot(app)).toEqual(s0);
      for (const id of PHASED) {
        expect(await phaseOf(t, id)).toBe('rolled_back');
        expect(await succeededPhases(t, id)).toEqual(['expand', 'rollback']);
      }

      // Everything written at S1, by either version, is still there for the old app.
      const old = oldApp(app);
      for (const id of [A, B]) {
        expect(await old.balance(id)).toBe(OLD_VIEW_AFTER_TRAFFIC.balance[id]);
        expect(await old.locale(id)).toBe(OLD_VIEW_AFTER_TRAFFIC.locale[id]);
        expect(await old.fullName(id)).toBe(OLD_VIEW_AFTER_TRAFFIC.fullName[id]);
      }
      expect(await count(app, 'accounts', `id <= ${SEED_ROWS}`)).toBe(SEED_ROWS);
      // The old probes pass at S0 again, including their reads of the new app's rows from S1.
      for (const id of PHASED) await runProbe(app, id, 'old');

      // Expand again, and this time go all the way.
      expect((await t.expand()).ran).toEqual(PHASED);
      await sideBySide(app);
      await t.backfill();
      await expectBackfilled(app);
      await t.contract();
      for (const id of PHASED) {
        expect(await phaseOf(t, id)).toBe('contracted');
        expect(await succeededPhases(t, id)).toEqual(['expand', 'rollback', 'expand', 'backfill', 'contract']);
      }
      await expectContracted(app);
    });
  });
});
