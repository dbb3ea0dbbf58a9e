/**
 * Column operations in the pgroll/reshape style, on PostgreSQL, MySQL/MariaDB and PGlite:
 *
 *   S0      a table with rows (a plain migration)
 *   S1      expand: the old client and the new client each write with only the columns they know
 *           (and only those they must give) and read what the other wrote
 *   rollback  the schema is S0 again and the rows the old client wrote at S1 are intact
 *   S1'     expand again
 *   S2      backfill: every pre-existing row is filled (in several batches)
 *   S3      contract: the new client works; the old column, twins and shims are gone; NOT NULL and
 *           defaults are as intended
 *
 * Every scenario gets a fresh database (the ledger remembers migration ids).
 */
import { describe, expect, it, vi, type TestContext } from 'vitest';
import { ALL_KINDS, createTestDatabase, type TestDbKind } from '../support/databases.js';
import { innodbTableId } from '../support/innodb.js';
import { openOperationHarness, type AppClient, type OperationHarness, type OperationHarnessSpec, type Row } from '../support/operation-harness.js';

// PGlite starts a WASM PostgreSQL per scenario, which takes several seconds on a busy machine.
vi.setConfig({ testTimeout: 180_000 });

const SEED = 40;
const TWIN = /^tandem_[0-9a-f]{8}_new$/;

// ---------------------------------------------------------------------------------------------
// helpers

const num = (value: unknown) => (value === null || value === undefined ? value : Number(value));

function literal(value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  return `'${String(value).replace(/'/g, "''")}'`;
}

/** `INSERT INTO table (cols) VALUES (…), (…)` for seed rows, in either dialect. */
function seed(table: string, columns: string[], rows: unknown[][]): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${rows.map((row) => `(${row.map(literal).join(', ')})`).join(', ')};`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Run a scenario on a fresh database; skips when the kind is unavailable. */
async function scenario(ctx: TestContext, kind: TestDbKind, spec: OperationHarnessSpec | ((dialect: 'postgres' | 'mysql') => OperationHarnessSpec), body: (h: OperationHarness) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(kind, 'opcols');
  if (!db) return ctx.skip(`${kind} unavailable`);
  const h = await openOperationHarness(db, typeof spec === 'function' ? spec(db.kind === 'mysql' ? 'mysql' : 'postgres') : spec);
  try {
    await body(h);
  } finally {
    await h.close();
    await db.drop();
  }
}

async function one(client: AppClient, table: string, id: number): Promise<Row> {
  const rows = await client.select(table, { id });
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function value(client: AppClient, table: string, id: number, column: string): Promise<unknown> {
  return (await one(client, table, id))[column];
}

async function twinOf(h: OperationHarness, table: string): Promise<string> {
  const twins = (await h.newClient.columns(table)).filter((c) => TWIN.test(c));
  expect(twins).toHaveLength(1);
  return twins[0]!;
}

/** Rows where two expressions differ (NULL-safe), counted by the client. */
async function countDiffering(h: OperationHarness, table: string, a: string, b: string): Promise<number> {
  const q = (name: string) => (h.dialect === 'mysql' ? `\`${name}\`` : `"${name}"`);
  const differs = h.dialect === 'mysql' ? `NOT (CAST(${a} AS BINARY) <=> CAST(${b} AS BINARY))` : `${a} IS DISTINCT FROM ${b}`;
  const [row] = await h.newClient.raw<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${q(table)} WHERE ${differs}`);
  return Number(row!.n);
}

async function countWhere(h: OperationHarness, table: string, where: string): Promise<number> {
  const [row] = await h.newClient.raw<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`);
  return Number(row!.n);
}

/** The backfill ran in batches (the reporter saw their progress), not as one statement. */
function expectSeveralBatches(h: OperationHarness): void {
  const snapshots = h.reporter.snapshots.filter((s) => s.migrationId === h.migrationId);
  expect(snapshots.length).toBeGreaterThan(0);
  expect(Math.max(...snapshots.map((s) => s.batches))).toBeGreaterThan(1);
}

/** After contract: no shim, function or tandem-named column is left on the app's schema. */
async function expectNoShims(h: OperationHarness, table: string): Promise<void> {
  const snapshot = await h.schemaSnapshot();
  expect(snapshot.triggers).toEqual([]);
  expect(snapshot.functions).toEqual([]);
  expect((await h.newClient.columns(table)).filter((c) => c.startsWith('tandem_'))).toEqual([]);
}

/** The column's snapshot line (`table.column type NULL|NOT NULL [DEFAULT …]`). */
async function columnLine(h: OperationHarness, table: string, column: string): Promise<string> {
  const lines = (await h.schemaSnapshot()).columns.filter((line) => line.startsWith(`${table}.${column} `));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

/** Rollback, then: schema equals S0 and the rows the old client sees are what it saw at S1. */
async function rollbackToS0(h: OperationHarness, s0: unknown, table: string, oldColumns: string[]): Promise<void> {
  const project = (rows: Row[]) => rows.map((row) => Object.fromEntries(oldColumns.map((c) => [c, row[c] instanceof Date ? (row[c] as Date).toISOString() : row[c]])));
  const before = project(await h.oldClient.select(table));
  await h.rollback();
  expect(await h.schemaSnapshot()).toEqual(s0);
  expect(project(await h.oldClient.select(table))).toEqual(before);
}

// ---------------------------------------------------------------------------------------------
// schemas

const usersSetup = (nickname: string) => ({
  postgres: `CREATE TABLE users (id integer PRIMARY KEY, nickname varchar(100) ${nickname}, email varchar(200), score integer NOT NULL DEFAULT 0);
${seed('users', ['id', 'nickname', 'email', 'score'], range(SEED).map((i) => [i, `nick${i}`, i % 5 === 0 ? null : `u${i}@example.com`, i]))}`,
  mysql: `CREATE TABLE users (id int PRIMARY KEY, nickname varchar(100) ${nickname}, email varchar(200) NULL, score int NOT NULL DEFAULT 0) ENGINE=InnoDB;
${seed('users', ['id', 'nickname', 'email', 'score'], range(SEED).map((i) => [i, `nick${i}`, i % 5 === 0 ? null : `u${i}@example.com`, i]))}`,
});

const ordersSetup = (extra: { postgres: string; mysql: string } = { postgres: '', mysql: '' }, extraValue?: (i: number) => unknown) => {
  const columns = ['id', 'quantity', ...(extraValue ? ['legacy'] : [])];
  const rows = range(SEED).map((i) => [i, i, ...(extraValue ? [extraValue(i)] : [])]);
  return {
    postgres: `CREATE TABLE orders (id integer PRIMARY KEY, quantity integer NOT NULL${extra.postgres});\n${seed('orders', columns, rows)}`,
    mysql: `CREATE TABLE orders (id int PRIMARY KEY, quantity int NOT NULL${extra.mysql}) ENGINE=InnoDB;\n${seed('orders', columns, rows)}`,
  };
};

const profilesSetup = (column: string, values: (i: number) => unknown) => ({
  postgres: `CREATE TABLE profiles (id integer PRIMARY KEY, locale varchar(10) NOT NULL, ${column});
${seed('profiles', ['id', 'locale', column.split(' ')[0]!], range(SEED).map((i) => [i, i % 2 ? 'de_DE' : 'pt_BR', values(i)]))}`,
  mysql: `CREATE TABLE profiles (id int PRIMARY KEY, locale varchar(10) NOT NULL, ${column}) ENGINE=InnoDB;
${seed('profiles', ['id', 'locale', column.split(' ')[0]!], range(SEED).map((i) => [i, i % 2 ? 'de_DE' : 'pt_BR', values(i)]))}`,
});

// ---------------------------------------------------------------------------------------------

describe.each(ALL_KINDS)('column operations on %s', (kind) => {
  // ------------------------------------------------------------------------- renameColumn
  it('renameColumn: both names work until contract; the NOT NULL and default move to the new name', async (ctx) => {
    await scenario(ctx, kind, { setup: usersSetup(`NOT NULL DEFAULT 'anon'`), operations: [{ renameColumn: { table: 'users', from: 'nickname', to: 'handle' } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      const s1 = async () => {
        expect(await old.columns('users')).toContain('nickname');
        expect(await neu.columns('users')).toContain('handle');
        // old → new, with and without the column (its default)
        await old.insert('users', { id: 101, nickname: 'Old101', email: 'o101@example.com' });
        expect(await value(neu, 'users', 101, 'handle')).toBe('Old101');
        await old.insert('users', { id: 102 });
        expect(await value(neu, 'users', 102, 'handle')).toBe('anon');
        // new → old, with and without the column
        await neu.insert('users', { id: 201, handle: 'New201' });
        expect(await value(old, 'users', 201, 'nickname')).toBe('New201');
        await neu.insert('users', { id: 202, email: 'n202@example.com' });
        expect(await value(old, 'users', 202, 'nickname')).toBe('anon');
        expect(await value(neu, 'users', 202, 'handle')).toBe('anon');
        // updates both ways, on new rows and on pre-existing ones
        expect(await neu.update('users', { handle: 'Renamed' }, { id: 101 })).toBe(1);
        expect(await value(old, 'users', 101, 'nickname')).toBe('Renamed');
        await old.update('users', { nickname: 'Back' }, { id: 201 });
        expect(await value(neu, 'users', 201, 'handle')).toBe('Back');
        await old.update('users', { nickname: 'x1' }, { id: 1 });
        expect(await value(neu, 'users', 1, 'handle')).toBe('x1');
        await neu.update('users', { handle: 'y2' }, { id: 2 });
        expect(await value(old, 'users', 2, 'nickname')).toBe('y2');
        // a case-only change is a change (MySQL's _ci collations call 'Back' and 'BACK' equal)
        await neu.update('users', { handle: 'BACK' }, { id: 201 });
        expect(await value(old, 'users', 201, 'nickname')).toBe('BACK');
        await old.update('users', { nickname: 'back' }, { id: 201 });
        expect(await value(neu, 'users', 201, 'handle')).toBe('back');
        // an update of another column leaves both names alone
        await old.update('users', { email: 'changed@example.com' }, { id: 101 });
        expect(await one(neu, 'users', 101)).toMatchObject({ handle: 'Renamed', nickname: 'Renamed', email: 'changed@example.com' });
      };

      await h.expand();
      await s1();
      await rollbackToS0(h, s0, 'users', ['id', 'nickname', 'email', 'score']);
      expect(await value(old, 'users', 201, 'nickname')).toBe('back');
      expect(await value(old, 'users', 1, 'nickname')).toBe('x1');

      await h.expand();
      await old.insert('users', { id: 103, nickname: 'between' });
      await h.backfill();
      expectSeveralBatches(h);
      expect(await countDiffering(h, 'users', 'handle', 'nickname')).toBe(0);
      expect(await countWhere(h, 'users', 'handle IS NULL')).toBe(0);
      expect(await value(neu, 'users', 7, 'handle')).toBe('nick7');

      // MySQL: the new name was NOT NULL from expand (with an unset marker), so contract changes
      // defaults only and never rebuilds the table.
      const tableId = async () => (h.dialect === 'mysql' ? innodbTableId(neu, 'users') : 0);
      const id0 = await tableId();
      await h.contract();
      expect(await tableId()).toBe(id0);
      // MariaDB adds the new name right after the old one, so it keeps the column's place; PostgreSQL appends it.
      expect(await neu.columns('users')).toEqual(h.dialect === 'mysql' ? ['id', 'handle', 'email', 'score'] : ['id', 'email', 'score', 'handle']);
      expect(await columnLine(h, 'users', 'handle')).toMatch(/NOT NULL DEFAULT 'anon'/);
      await expectNoShims(h, 'users');
      expect(await value(neu, 'users', 1, 'handle')).toBe('x1');
      expect(await value(neu, 'users', 103, 'handle')).toBe('between');
      await neu.insert('users', { id: 301 });
      expect(await value(neu, 'users', 301, 'handle')).toBe('anon');
      await expect(neu.insert('users', { id: 302, handle: null })).rejects.toThrow();
      expect((await neu.select('users')).length).toBe(SEED + 6); // 101, 102, 201, 202 (kept by rollback), 103, 301
    });
  });

  // ------------------------------------------------------------------------- alterColumn: type
  it('alterColumn type int → bigint with the default up/down: both versions see int until contract, then bigint NOT NULL DEFAULT 0', async (ctx) => {
    const setup = {
      postgres: `CREATE TABLE accounts (id integer PRIMARY KEY, balance integer NOT NULL DEFAULT 0, note varchar(50));\n${seed('accounts', ['id', 'balance'], range(SEED).map((i) => [i, i * 10]))}`,
      mysql: `CREATE TABLE accounts (id int PRIMARY KEY, balance int NOT NULL DEFAULT 0, note varchar(50) NULL) ENGINE=InnoDB;\n${seed('accounts', ['id', 'balance'], range(SEED).map((i) => [i, i * 10]))}`,
    };
    await scenario(ctx, kind, { setup, operations: [{ alterColumn: { table: 'accounts', column: 'balance', type: 'bigint' } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();
      const intType = h.dialect === 'mysql' ? /^accounts\.balance int(\(11\))? NOT NULL DEFAULT 0$/ : /^accounts\.balance integer NOT NULL DEFAULT 0$/;

      await h.expand();
      const twin = await twinOf(h, 'accounts');
      expect(await columnLine(h, 'accounts', 'balance')).toMatch(intType);
      await old.insert('accounts', { id: 101, balance: 5 });
      await neu.insert('accounts', { id: 201, note: 'no balance given' });
      expect(num(await value(neu, 'accounts', 101, 'balance'))).toBe(5);
      expect(num(await value(old, 'accounts', 201, 'balance'))).toBe(0);
      await old.update('accounts', { balance: 7 }, { id: 1 });
      await neu.update('accounts', { balance: 8 }, { id: 201 });
      expect(num(await value(old, 'accounts', 201, 'balance'))).toBe(8);
      // the twin follows every write
      expect(num(await value(neu, 'accounts', 101, twin))).toBe(5);
      expect(num(await value(neu, 'accounts', 201, twin))).toBe(8);
      expect(num(await value(neu, 'accounts', 1, twin))).toBe(7);
      // until contract the column is still int: a bigint value is refused
      await expect(neu.update('accounts', { balance: 2 ** 40 }, { id: 201 })).rejects.toThrow();
      expect(num(await value(old, 'accounts', 201, 'balance'))).toBe(8);

      await rollbackToS0(h, s0, 'accounts', ['id', 'balance', 'note']);

      await h.expand();
      await old.insert('accounts', { id: 102, balance: 12 });
      await h.backfill();
      expectSeveralBatches(h);
      expect(await countDiffering(h, 'accounts', 'balance', await twinOf(h, 'accounts'))).toBe(0);

      await h.contract();
      await expectNoShims(h, 'accounts');
      expect(await columnLine(h, 'accounts', 'balance')).toMatch(h.dialect === 'mysql' ? /^accounts\.balance bigint(\(20\))? NOT NULL DEFAULT 0$/ : /^accounts\.balance bigint NOT NULL DEFAULT 0$/);
      expect(num(await value(neu, 'accounts', 1, 'balance'))).toBe(7);
      expect(num(await value(neu, 'accounts', 40, 'balance'))).toBe(400);
      expect(num(await value(neu, 'accounts', 102, 'balance'))).toBe(12);
      await neu.insert('accounts', { id: 301, balance: 2 ** 40 });
      expect(num(await value(neu, 'accounts', 301, 'balance'))).toBe(2 ** 40);
      await neu.insert('accounts', { id: 302 });
      expect(num(await value(neu, 'accounts', 302, 'balance'))).toBe(0);
      await expect(neu.insert('accounts', { id: 303, balance: null })).rejects.toThrow();
    });
  });

  it('alterColumn type of a NOT NULL column on MySQL: the twin is NOT NULL from expand, so contract only renames and never rebuilds the table', async (ctx) => {
    if (kind !== 'mysql') return ctx.skip('MySQL/MariaDB only: PostgreSQL adds the NOT NULL through a validated CHECK, without a rebuild');
    const setup = { postgres: '', mysql: `CREATE TABLE entries (id int PRIMARY KEY, amount int NOT NULL COMMENT 'in cents', memo varchar(20) NULL) ENGINE=InnoDB;\n${seed('entries', ['id', 'amount'], range(SEED).map((i) => [i, i * 10 + 1]))}` };
    await scenario(ctx, kind, { setup, operations: [{ alterColumn: { table: 'entries', column: 'amount', type: 'bigint' } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const tableId = () => innodbTableId(neu, 'entries');

      await h.expand();
      const twin = await twinOf(h, 'entries');
      expect(await columnLine(h, 'entries', twin)).toMatch(new RegExp(`^entries\\.${twin} bigint(\\(20\\))? NOT NULL DEFAULT 0$`));
      // Existing rows hold the placeholder until the backfill.
      expect(await countWhere(h, 'entries', `\`${twin}\` = 0`)).toBe(SEED);
      // The old app leaves the twin out: the shim fills it from amount, not the placeholder.
      await old.insert('entries', { id: 101, amount: 5 });
      expect(num(await value(neu, 'entries', 101, twin))).toBe(5);
      // The placeholder's own value from the old app is the old app's: amount stays 0.
      await old.insert('entries', { id: 102, amount: 0 });
      expect(await one(neu, 'entries', 102)).toMatchObject({ amount: 0, [twin]: 0 });
      await old.update('entries', { amount: 7 }, { id: 1 });
      expect(num(await value(neu, 'entries', 1, twin))).toBe(7);
      // A writer that names the twin is the new version: its value converts down.
      await neu.insert('entries', { id: 103, [twin]: 9 });
      expect(num(await value(old, 'entries', 103, 'amount'))).toBe(9);

      await h.backfill();
      expectSeveralBatches(h);
      expect(await countDiffering(h, 'entries', 'amount', `\`${twin}\``)).toBe(0);

      const before = await tableId();
      await h.contract();
      expect(await tableId()).toBe(before);
      await expectNoShims(h, 'entries');
      // No placeholder default is left: like amount before, the column has none.
      expect(await columnLine(h, 'entries', 'amount')).toMatch(/^entries\.amount bigint(\(20\))? NOT NULL$/);
      // The swap re-states the column: its comment goes with it.
      expect((await neu.raw<{ comment: string }>(`SELECT COLUMN_COMMENT AS comment FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'entries' AND COLUMN_NAME = 'amount'`))[0]!.comment).toBe('in cents');
      expect(num(await value(neu, 'entries', 1, 'amount'))).toBe(7);
      expect(num(await value(neu, 'entries', 40, 'amount'))).toBe(401);
      expect(num(await value(neu, 'entries', 101, 'amount'))).toBe(5);
      await neu.insert('entries', { id: 301, amount: 2 ** 40 });
      expect(num(await value(neu, 'entries', 301, 'amount'))).toBe(2 ** 40);
      await expect(neu.insert('entries', { id: 302 })).rejects.toThrow(/amount/);
    });
  });

  it('alterColumn type on MySQL with a custom up, or to nullable: contract keeps both columns\' nullability, so it never rebuilds; a NULL from up stops the backfill, naming the rows', async (ctx) => {
    if (kind !== 'mysql') return ctx.skip('MySQL/MariaDB only: PostgreSQL changes nullability without a rebuild');
    const setup = {
      postgres: '',
      mysql: `CREATE TABLE parcels (id int PRIMARY KEY, code varchar(10) NOT NULL, weight int NOT NULL) ENGINE=InnoDB;
${seed('parcels', ['id', 'code', 'weight'], range(SEED).map((i) => [i, String(i * 3), i]))}`,
    };
    const up = "CASE WHEN code REGEXP '^[0-9]+$' THEN CAST(code AS SIGNED) END";
    const operations = [
      { alterColumn: { table: 'parcels', column: 'code', type: 'int', up, down: 'CAST(code AS CHAR)' } },
      { alterColumn: { table: 'parcels', column: 'weight', type: 'bigint', nullable: true } },
    ];
    await scenario(ctx, kind, { setup, operations }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const tableId = () => innodbTableId(neu, 'parcels');
      const id0 = await tableId();
      await h.expand();
      const [codeTwin, weightTwin] = (await neu.columns('parcels')).filter((c) => TWIN.test(c));
      // code's twin is NOT NULL from expand, holding int's unset marker; weight's ends nullable, so its twin is.
      expect(await columnLine(h, 'parcels', codeTwin!)).toBe(`parcels.${codeTwin} int(11) NOT NULL DEFAULT -2147483648`);
      expect(await columnLine(h, 'parcels', weightTwin!)).toMatch(/ NULL$/);
      await old.insert('parcels', { id: 101, code: '77', weight: 1 });
      expect(num(await value(neu, 'parcels', 101, codeTwin!))).toBe(77);
      // up gives NULL: the old app's write still works, and the twin keeps the marker.
      await old.insert('parcels', { id: 102, code: 'X-1', weight: 1 });
      expect(num(await value(neu, 'parcels', 102, codeTwin!))).toBe(-2147483648);
      await expect(h.backfill()).rejects.toThrow(/rows of parcels still hold the new code's unset marker -2147483648: "up" gave NULL for them \(SELECT \* FROM `parcels` WHERE \(CASE WHEN code REGEXP/);
      await old.update('parcels', { code: '5' }, { id: 102 });
      await h.backfill();
      expect(await countWhere(h, 'parcels', `\`${codeTwin}\` <> CAST(code AS SIGNED)`)).toBe(0);

      await h.contract();
      expect(await tableId()).toBe(id0);
      await expectNoShims(h, 'parcels');
      expect(await columnLine(h, 'parcels', 'code')).toMatch(/^parcels\.code int(\(11\))? NOT NULL$/);
      expect(await columnLine(h, 'parcels', 'weight')).toMatch(/^parcels\.weight bigint(\(20\))? NULL$/);
      expect(num(await value(neu, 'parcels', 102, 'code'))).toBe(5);
      expect(num(await value(neu, 'parcels', 40, 'code'))).toBe(120);
      await neu.insert('parcels', { id: 301, code: 9 });
      expect(await value(neu, 'parcels', 301, 'weight')).toBeNull();
    });
  });

  it('alterColumn type text → integer with explicit up/down: old-typed writes convert up, writes to the twin convert down', async (ctx) => {
    const rows = range(SEED).map((i) => [i, i % 7 === 0 ? null : String(i * 3)]);
    const spec = (dialect: 'postgres' | 'mysql'): OperationHarnessSpec => ({
      setup:
        dialect === 'postgres'
          ? `CREATE TABLE items (id integer PRIMARY KEY, qty varchar(20));\n${seed('items', ['id', 'qty'], rows)}`
          : `CREATE TABLE items (id int PRIMARY KEY, qty varchar(20) NULL) ENGINE=InnoDB;\n${seed('items', ['id', 'qty'], rows)}`,
      operations: [
        {
          alterColumn:
            dialect === 'postgres'
              ? { table: 'items', column: 'qty', type: 'integer', up: 'CAST(trim(qty) AS integer)', down: 'CAST(qty AS varchar(20))' }
              : { table: 'items', column: 'qty', type: 'int', up: 'CAST(TRIM(qty) AS SIGNED)', down: 'CAST(qty AS CHAR)' },
        },
      ],
    });
    await scenario(ctx, kind, spec, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      await h.expand();
      const twin = await twinOf(h, 'items');
      await old.insert('items', { id: 101, qty: ' 42' });
      expect(num(await value(neu, 'items', 101, twin))).toBe(42);
      await old.insert('items', { id: 102 });
      expect(await value(neu, 'items', 102, twin)).toBeNull();
      await old.update('items', { qty: '7' }, { id: 1 });
      expect(num(await value(neu, 'items', 1, twin))).toBe(7);
      await old.update('items', { qty: null }, { id: 101 });
      expect(await value(neu, 'items', 101, twin)).toBeNull();
      // A writer of the new type (the twin): `down` sees the new value under the column's name.
      await neu.update('items', { [twin]: 99 }, { id: 2 });
      expect(await value(old, 'items', 2, 'qty')).toBe('99');
      expect(num(await value(neu, 'items', 2, twin))).toBe(99);
      await neu.insert('items', { id: 201, [twin]: 5 });
      expect(await value(old, 'items', 201, 'qty')).toBe('5');

      await rollbackToS0(h, s0, 'items', ['id', 'qty']);

      await h.expand();
      await h.backfill();
      expectSeveralBatches(h);
      const twinAgain = await twinOf(h, 'items');
      expect(await countWhere(h, 'items', `qty IS NOT NULL AND ${h.dialect === 'mysql' ? `\`${twinAgain}\`` : `"${twinAgain}"`} IS NULL`)).toBe(0);

      await h.contract();
      await expectNoShims(h, 'items');
      expect(await columnLine(h, 'items', 'qty')).toMatch(h.dialect === 'mysql' ? /^items\.qty int(\(11\))? NULL$/ : /^items\.qty integer NULL$/);
      expect(num(await value(neu, 'items', 1, 'qty'))).toBe(7);
      expect(num(await value(neu, 'items', 3, 'qty'))).toBe(9);
      expect(await value(neu, 'items', 7, 'qty')).toBeNull();
      expect(num(await value(neu, 'items', 2, 'qty'))).toBe(99); // written through the twin at S1, kept by rollback
      await neu.insert('items', { id: 301, qty: 12345 });
      expect(num(await value(neu, 'items', 301, 'qty'))).toBe(12345);
    });
  });

  // ------------------------------------------------------------------------- alterColumn: nullability
  it('alterColumn SET NOT NULL with up: the old app\'s NULLs are filled, the backfill fills the rest, contract adds NOT NULL', async (ctx) => {
    const setup = profilesSetup('country varchar(2) NULL', (i) => (i % 3 === 0 ? null : i % 2 ? 'DE' : 'BR'));
    await scenario(ctx, kind, { setup, operations: [{ alterColumn: { table: 'profiles', column: 'country', nullable: false, up: 'UPPER(RIGHT(locale, 2))' } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      const s1 = async () => {
        await old.insert('profiles', { id: 101, locale: 'fr_FR' });
        expect(await value(neu, 'profiles', 101, 'country')).toBe('FR');
        await old.insert('profiles', { id: 102, locale: 'fr_CA', country: 'XX' });
        expect(await value(neu, 'profiles', 102, 'country')).toBe('XX');
        await neu.insert('profiles', { id: 201, locale: 'it_IT', country: 'IT' });
        expect(await value(old, 'profiles', 201, 'country')).toBe('IT');
        await old.update('profiles', { country: null }, { id: 102 });
        expect(await value(neu, 'profiles', 102, 'country')).toBe('CA');
        // a pre-existing NULL stays until the backfill (or the next write)
        expect(await value(neu, 'profiles', 3, 'country')).toBeNull();
        await old.update('profiles', { locale: 'es_ES' }, { id: 6 });
        expect(await value(neu, 'profiles', 6, 'country')).toBe('ES');
      };
      await h.expand();
      await s1();
      await rollbackToS0(h, s0, 'profiles', ['id', 'locale', 'country']);

      await h.expand();
      await old.insert('profiles', { id: 103, locale: 'nl_NL' });
      await h.backfill();
      expectSeveralBatches(h);
      expect(await countWhere(h, 'profiles', 'country IS NULL')).toBe(0);
      expect(await value(neu, 'profiles', 3, 'country')).toBe('DE');
      expect(await value(neu, 'profiles', 4, 'country')).toBe('BR');

      await h.contract();
      await expectNoShims(h, 'profiles');
      expect(await columnLine(h, 'profiles', 'country')).toMatch(/NOT NULL$/);
      expect((await h.schemaSnapshot()).constraints.filter((c) => /tandem_/.test(c))).toEqual([]);
      await expect(neu.insert('profiles', { id: 301, locale: 'en_GB' })).rejects.toThrow();
      await neu.insert('profiles', { id: 302, locale: 'en_GB', country: 'GB' });
      expect(await value(neu, 'profiles', 103, 'country')).toBe('NL');
    });
  });

  it('alterColumn SET NOT NULL without up: the backfill fails clearly while NULLs remain, rollback works, fixed rows let it finish', async (ctx) => {
    const setup = profilesSetup('country varchar(2) NULL', (i) => (i % 9 === 0 ? null : 'DE'));
    await scenario(ctx, kind, { setup, operations: [{ alterColumn: { table: 'profiles', column: 'country', nullable: false } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      await h.expand();
      await old.insert('profiles', { id: 101, locale: 'fr_FR' });
      expect(await value(neu, 'profiles', 101, 'country')).toBeNull();
      await expect(h.backfill()).rejects.toThrow(/profiles\.country still has NULLs/);
      expect((await h.tandem.status()).find((s) => s.id === h.migrationId)?.phase).toBe('failed');

      await rollbackToS0(h, s0, 'profiles', ['id', 'locale', 'country']);

      await h.expand();
      await old.update('profiles', { country: 'ZZ' }, { id: 9 });
      await old.knex('profiles').whereNull('country').update({ country: 'ZZ' });
      await h.backfill();
      await h.contract();
      expect(await columnLine(h, 'profiles', 'country')).toMatch(/NOT NULL$/);
      expect((await h.schemaSnapshot()).constraints.filter((c) => /tandem_/.test(c))).toEqual([]);
      await expect(neu.insert('profiles', { id: 301, locale: 'en_GB' })).rejects.toThrow();
      expect(await value(neu, 'profiles', 101, 'country')).toBe('ZZ');
    });
  });

  it('alterColumn SET NOT NULL on MySQL: a NOT NULL twin that the backfill fills, so contract only renames and never rebuilds; collation, comment, default and index stay', async (ctx) => {
    if (kind !== 'mysql') return ctx.skip('MySQL/MariaDB only: PostgreSQL adds the NOT NULL through a validated CHECK, without a rebuild');
    // '' is the placeholder of a varchar twin: rows that hold it must keep it.
    const tags = (i: number) => (i % 10 === 0 ? null : i % 7 === 0 ? '' : `tag${i}`);
    const setup = {
      postgres: '',
      mysql: `CREATE TABLE notes (id int PRIMARY KEY, tag varchar(20) CHARACTER SET latin1 COLLATE latin1_bin NULL DEFAULT 'x' COMMENT 'the tag', body varchar(50) NULL, KEY notes_tag (tag, id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
${seed('notes', ['id', 'tag'], range(SEED).map((i) => [i, tags(i)]))}`,
    };
    await scenario(ctx, kind, { setup, operations: [{ alterColumn: { table: 'notes', column: 'tag', nullable: false, up: "CONCAT('t', id)" } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();
      const tableId = () => innodbTableId(neu, 'notes');
      const definition = async () => (await neu.raw<{ line: string }>(`SELECT CONCAT_WS(' ', COLUMN_TYPE, COLLATION_NAME, IS_NULLABLE, COLUMN_DEFAULT, COLUMN_COMMENT) AS line FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'notes' AND COLUMN_NAME = 'tag'`))[0]!.line;
      expect(await definition()).toBe("varchar(20) latin1_bin YES 'x' the tag");
      const id0 = await tableId();

      await h.expand();
      const twin = await twinOf(h, 'notes');
      expect(await columnLine(h, 'notes', twin)).toBe(`notes.${twin} varchar(20) NOT NULL DEFAULT ''`);
      // The old app's writes: its NULL is filled from up in the column, and the twin follows the column.
      await old.insert('notes', { id: 101 });
      expect(await one(neu, 'notes', 101)).toMatchObject({ tag: 'x', [twin]: 'x' });
      await old.insert('notes', { id: 102, tag: null });
      expect(await one(neu, 'notes', 102)).toMatchObject({ tag: 't102', [twin]: 't102' });
      await old.update('notes', { tag: 'Renamed' }, { id: 1 });
      expect(await value(neu, 'notes', 1, twin)).toBe('Renamed');
      await old.update('notes', { body: 'only the body' }, { id: 2 });
      expect(await value(neu, 'notes', 2, twin)).toBe('tag2');
      await rollbackToS0(h, s0, 'notes', ['id', 'tag', 'body']);
      expect(await definition()).toBe("varchar(20) latin1_bin YES 'x' the tag");

      await h.expand();
      await h.backfill();
      expectSeveralBatches(h);
      const twinAgain = await twinOf(h, 'notes');
      expect(await countWhere(h, 'notes', 'tag IS NULL')).toBe(0);
      expect(await countDiffering(h, 'notes', 'tag', `\`${twinAgain}\``)).toBe(0);
      // The column's index has a copy on the twin, built at the end of the backfill.
      expect((await h.schemaSnapshot()).indexes.filter((line) => line.includes(`(${twinAgain}, id)`))).toHaveLength(1);

      await h.contract();
      expect(await tableId()).toBe(id0);
      await expectNoShims(h, 'notes');
      expect(await definition()).toBe("varchar(20) latin1_bin NO 'x' the tag");
      expect((await h.schemaSnapshot()).indexes).toContain('notes notes_tag (tag, id)');
      expect(await value(neu, 'notes', 1, 'tag')).toBe('Renamed');
      expect(await value(neu, 'notes', 7, 'tag')).toBe('');
      expect(await value(neu, 'notes', 10, 'tag')).toBe('t10');
      expect(await value(neu, 'notes', 102, 'tag')).toBe('t102');
      // latin1_bin compares bytes: 'TAG3' is not 'tag3'.
      expect(await countWhere(h, 'notes', "tag = 'TAG3'")).toBe(0);
      await expect(neu.insert('notes', { id: 301, tag: null })).rejects.toThrow(/tag/);
      await neu.insert('notes', { id: 302 });
      expect(await value(neu, 'notes', 302, 'tag')).toBe('x');
    });
  });

  it('alterColumn SET NOT NULL on MySQL: a NULL written after the backfill stops contract before the swap, naming the fix; a rerun finishes', async (ctx) => {
    if (kind !== 'mysql') return ctx.skip('MySQL/MariaDB only: the twin and its checks');
    const setup = profilesSetup('score int NULL', (i) => i);
    await scenario(ctx, kind, { setup, operations: [{ alterColumn: { table: 'profiles', column: 'score', nullable: false } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      await h.expand();
      await h.backfill();
      // The old app is still running: its NULL keeps the twin's placeholder rather than failing.
      await old.update('profiles', { score: null }, { id: 4 });
      await old.insert('profiles', { id: 101, locale: 'fr_FR' });
      await expect(h.contract()).rejects.toThrow(/profiles\.score has NULLs again, written after the backfill; give "up" to fill them, or fix the rows, then rerun contract/);
      expect((await h.tandem.status()).find((s) => s.id === h.migrationId)?.phase).toBe('failed');
      // Nothing was swapped: the column is still nullable, and the apps' writes go on.
      expect(await columnLine(h, 'profiles', 'score')).toBe('profiles.score int(11) NULL');
      await old.knex('profiles').whereNull('score').update({ score: -1 });
      await h.contract();
      await expectNoShims(h, 'profiles');
      expect(await columnLine(h, 'profiles', 'score')).toBe('profiles.score int(11) NOT NULL');
      expect(num(await value(neu, 'profiles', 4, 'score'))).toBe(-1);
      expect(num(await value(neu, 'profiles', 5, 'score'))).toBe(5);
      await expect(neu.insert('profiles', { id: 301, locale: 'en_GB' })).rejects.toThrow(/score/);
    });
  });

  it('alterColumn SET NOT NULL on MySQL rebuilds in place with "rebuild": true, for a column a foreign key uses, and on a ROW_FORMAT=COMPRESSED table', async (ctx) => {
    if (kind !== 'mysql') return ctx.skip('MySQL/MariaDB only: the rebuild');
    const setup = {
      postgres: '',
      mysql: `CREATE TABLE teams (id int PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE players (id int PRIMARY KEY, team_id int NULL, nick varchar(20) NULL, CONSTRAINT players_team FOREIGN KEY (team_id) REFERENCES teams (id)) ENGINE=InnoDB;
INSERT INTO teams (id) VALUES (1), (2);
${seed('players', ['id', 'team_id', 'nick'], range(SEED).map((i) => [i, (i % 2) + 1, `p${i}`]))}
CREATE TABLE posts (id int PRIMARY KEY, title varchar(50) NULL) ENGINE=InnoDB ROW_FORMAT=COMPRESSED;
${seed('posts', ['id', 'title'], range(SEED).map((i) => [i, `t${i}`]))}`,
    };
    const operations = [
      { alterColumn: { table: 'players', column: 'nick', nullable: false, rebuild: true } },
      { alterColumn: { table: 'players', column: 'team_id', nullable: false } },
      // InnoDB adds no column instantly to a compressed table: a twin would fail expand.
      { alterColumn: { table: 'posts', column: 'title', nullable: false } },
    ];
    await scenario(ctx, kind, { setup, operations }, async (h) => {
      const ids = async () => [await innodbTableId(h.newClient, 'players'), await innodbTableId(h.newClient, 'posts')];
      const ids0 = await ids();
      await h.expand();
      // None goes through a twin.
      expect((await h.newClient.columns('players')).filter((c) => TWIN.test(c))).toEqual([]);
      expect((await h.newClient.columns('posts')).filter((c) => TWIN.test(c))).toEqual([]);
      await h.backfill();
      await h.contract();
      const ids1 = await ids();
      expect(ids1[0]).not.toBe(ids0[0]);
      expect(ids1[1]).not.toBe(ids0[1]);
      expect(await columnLine(h, 'posts', 'title')).toBe('posts.title varchar(50) NOT NULL');
      expect(await columnLine(h, 'players', 'nick')).toBe('players.nick varchar(20) NOT NULL');
      expect(await columnLine(h, 'players', 'team_id')).toBe('players.team_id int(11) NOT NULL');
      expect((await h.schemaSnapshot()).constraints.join('\n')).toMatch(/players_team/);
    });
  });

  it('renameColumn on MySQL: the new name keeps the column\'s collation and comment (a new column would get the table\'s and none)', async (ctx) => {
    if (kind !== 'mysql') return ctx.skip('MySQL/MariaDB only: a re-stated column takes the table\'s collation');
    const setup = {
      postgres: '',
      mysql: `CREATE TABLE codes (id int PRIMARY KEY, code varchar(10) CHARACTER SET ascii COLLATE ascii_bin NOT NULL COMMENT 'case matters', memo varchar(10) CHARACTER SET ascii COLLATE ascii_bin NULL COMMENT 'free text') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
${seed('codes', ['id', 'code', 'memo'], range(SEED).map((i) => [i, `C${i}`, `m${i}`]))}`,
    };
    const operations = [{ renameColumn: { table: 'codes', from: 'code', to: 'sku' } }, { renameColumn: { table: 'codes', from: 'memo', to: 'note' } }];
    await scenario(ctx, kind, { setup, operations }, async (h) => {
      const definitions = async () => (await h.newClient.raw<{ line: string }>(`SELECT CONCAT_WS(' ', COLUMN_NAME, COLUMN_TYPE, COLLATION_NAME, IS_NULLABLE, NULLIF(COLUMN_COMMENT, '')) AS line FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'codes' ORDER BY ORDINAL_POSITION`)).map((row) => row.line);
      const id0 = await innodbTableId(h.newClient, 'codes');
      await h.expand();
      // code is NOT NULL without a default: its twin holds the unset marker until filled.
      expect(await columnLine(h, 'codes', 'sku')).toBe(`codes.sku varchar(10) NOT NULL DEFAULT '\\0'`);
      await h.oldClient.insert('codes', { id: 101, code: 'Z1' });
      expect(await value(h.newClient, 'codes', 101, 'sku')).toBe('Z1');
      await h.newClient.insert('codes', { id: 201, sku: 'N1' });
      expect(await value(h.oldClient, 'codes', 201, 'code')).toBe('N1');
      await h.backfill();
      expect(await countDiffering(h, 'codes', 'code', 'sku')).toBe(0);
      await h.contract();
      expect(await innodbTableId(h.newClient, 'codes')).toBe(id0);
      expect(await definitions()).toEqual(['id int(11) NO', 'sku varchar(10) ascii_bin NO case matters', 'note varchar(10) ascii_bin YES free text']);
      expect(await columnLine(h, 'codes', 'sku')).toBe('codes.sku varchar(10) NOT NULL');
      expect(await countWhere(h, 'codes', "sku = 'c1'")).toBe(0);
      expect(await countWhere(h, 'codes', "sku = 'C1'")).toBe(1);
    });
  });

  it('alterColumn DROP NOT NULL: the new app may omit the column at once; rollback restores NOT NULL once the NULLs are fixed', async (ctx) => {
    const setup = profilesSetup('country varchar(2) NOT NULL', () => 'DE');
    await scenario(ctx, kind, { setup, operations: [{ alterColumn: { table: 'profiles', column: 'country', nullable: true } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      await h.expand();
      expect(await columnLine(h, 'profiles', 'country')).toMatch(/ NULL$/);
      await neu.insert('profiles', { id: 201, locale: 'it_IT' });
      expect(await value(old, 'profiles', 201, 'country')).toBeNull();
      await old.insert('profiles', { id: 101, locale: 'fr_FR', country: 'FR' });
      expect(await value(neu, 'profiles', 101, 'country')).toBe('FR');
      await neu.update('profiles', { country: null }, { id: 1 });
      expect(await value(old, 'profiles', 1, 'country')).toBeNull();

      // NOT NULL cannot come back over NULLs: rollback fails and leaves everything as it was
      await expect(h.rollback()).rejects.toThrow();
      expect(await value(old, 'profiles', 201, 'country')).toBeNull();
      await old.knex('profiles').whereNull('country').update({ country: 'XX' });
      await rollbackToS0(h, s0, 'profiles', ['id', 'locale', 'country']);
      expect(await value(old, 'profiles', 101, 'country')).toBe('FR');

      await h.expand();
      await h.backfill();
      await h.contract();
      await expectNoShims(h, 'profiles');
      expect(await columnLine(h, 'profiles', 'country')).toMatch(/ NULL$/);
      await neu.insert('profiles', { id: 301, locale: 'en_GB' });
      expect(await value(neu, 'profiles', 301, 'country')).toBeNull();
    });
  });

  // ------------------------------------------------------------------------- alterColumn: defaults
  it('alterColumn SET DEFAULT: applies at expand to both versions; rollback removes it', async (ctx) => {
    const setup = profilesSetup('plan varchar(10) NULL', (i) => (i % 2 ? 'pro' : null));
    await scenario(ctx, kind, { setup, operations: [{ alterColumn: { table: 'profiles', column: 'plan', default: "'free'" } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      await h.expand();
      expect(await columnLine(h, 'profiles', 'plan')).toMatch(/DEFAULT 'free'/);
      await old.insert('profiles', { id: 101, locale: 'fr_FR' });
      await neu.insert('profiles', { id: 201, locale: 'it_IT' });
      await neu.insert('profiles', { id: 202, locale: 'it_IT', plan: null });
      expect(await value(neu, 'profiles', 101, 'plan')).toBe('free');
      expect(await value(old, 'profiles', 201, 'plan')).toBe('free');
      expect(await value(old, 'profiles', 202, 'plan')).toBeNull();
      expect(await value(old, 'profiles', 2, 'plan')).toBeNull(); // existing rows keep their values

      await rollbackToS0(h, s0, 'profiles', ['id', 'locale', 'plan']);
      await old.insert('profiles', { id: 102, locale: 'fr_FR' });
      expect(await value(old, 'profiles', 102, 'plan')).toBeNull();

      await h.expand();
      await h.backfill();
      await h.contract();
      await expectNoShims(h, 'profiles');
      expect(await columnLine(h, 'profiles', 'plan')).toMatch(/ NULL DEFAULT 'free'/);
      await neu.insert('profiles', { id: 301, locale: 'en_GB' });
      expect(await value(neu, 'profiles', 301, 'plan')).toBe('free');
    });
  });

  it('alterColumn DROP DEFAULT: the old app keeps its default until contract', async (ctx) => {
    const setup = profilesSetup(`plan varchar(10) NOT NULL DEFAULT 'free'`, (i) => (i % 2 ? 'pro' : 'free'));
    await scenario(ctx, kind, { setup, operations: [{ alterColumn: { table: 'profiles', column: 'plan', default: null } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      await h.expand();
      await old.insert('profiles', { id: 101, locale: 'fr_FR' });
      expect(await value(neu, 'profiles', 101, 'plan')).toBe('free');
      await neu.insert('profiles', { id: 201, locale: 'it_IT', plan: 'team' });
      expect(await value(old, 'profiles', 201, 'plan')).toBe('team');

      await rollbackToS0(h, s0, 'profiles', ['id', 'locale', 'plan']);

      await h.expand();
      await h.backfill();
      await h.contract();
      await expectNoShims(h, 'profiles');
      expect(await columnLine(h, 'profiles', 'plan')).not.toMatch(/DEFAULT/);
      expect(await columnLine(h, 'profiles', 'plan')).toMatch(/NOT NULL$/);
      await expect(neu.insert('profiles', { id: 301, locale: 'en_GB' })).rejects.toThrow();
      await neu.insert('profiles', { id: 302, locale: 'en_GB', plan: 'pro' });
      expect(await value(neu, 'profiles', 302, 'plan')).toBe('pro');
    });
  });

  // ------------------------------------------------------------------------- addColumn
  it('addColumn nullable: a plain ADD COLUMN that the old app ignores', async (ctx) => {
    await scenario(ctx, kind, { setup: ordersSetup(), operations: [{ addColumn: { table: 'orders', column: { name: 'note', type: 'varchar(100)' } } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      await h.expand();
      expect(await old.columns('orders')).toEqual(['id', 'quantity', 'note']);
      await old.insert('orders', { id: 101, quantity: 3 });
      expect(await one(neu, 'orders', 101)).toMatchObject({ quantity: 3, note: null });
      await neu.insert('orders', { id: 201, quantity: 4, note: 'gift' });
      expect(num(await value(old, 'orders', 201, 'quantity'))).toBe(4);
      await old.update('orders', { quantity: 5 }, { id: 201 });
      expect(await one(neu, 'orders', 201)).toMatchObject({ quantity: 5, note: 'gift' });

      await rollbackToS0(h, s0, 'orders', ['id', 'quantity']);

      await h.expand();
      await h.backfill();
      await h.contract();
      await expectNoShims(h, 'orders');
      expect(await columnLine(h, 'orders', 'note')).toMatch(/ NULL$/);
      await neu.insert('orders', { id: 301, quantity: 1, note: 'x' });
      expect(await value(neu, 'orders', 301, 'note')).toBe('x');
    });
  });

  it('addColumn NOT NULL with a constant default: existing rows and the old app get the default', async (ctx) => {
    await scenario(ctx, kind, { setup: ordersSetup(), operations: [{ addColumn: { table: 'orders', column: { name: 'status', type: 'varchar(10)', nullable: false, default: "'new'" } } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      await h.expand();
      expect(await value(neu, 'orders', 1, 'status')).toBe('new');
      await old.insert('orders', { id: 101, quantity: 3 });
      expect(await value(neu, 'orders', 101, 'status')).toBe('new');
      await neu.insert('orders', { id: 201, quantity: 4, status: 'paid' });
      expect(num(await value(old, 'orders', 201, 'quantity'))).toBe(4);
      await expect(neu.insert('orders', { id: 202, quantity: 4, status: null })).rejects.toThrow();

      await rollbackToS0(h, s0, 'orders', ['id', 'quantity']);

      await h.expand();
      await h.backfill();
      await h.contract();
      await expectNoShims(h, 'orders');
      expect(await columnLine(h, 'orders', 'status')).toMatch(/NOT NULL DEFAULT 'new'/);
      expect(await countWhere(h, 'orders', "status = 'new'")).toBe(SEED + 2); // rows 101 and 201 stayed through rollback; the re-added column gives them 'new'
    });
  });

  it('addColumn NOT NULL with an up expression over other columns: shim for the old app, backfill for old rows, NOT NULL at contract', async (ctx) => {
    const operations = [{ addColumn: { table: 'orders', column: { name: 'size_class', type: 'varchar(10)', nullable: false }, up: "CASE WHEN quantity > 10 THEN 'bulk' ELSE 'single' END" } }];
    await scenario(ctx, kind, { setup: ordersSetup(), operations }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      await h.expand();
      await old.insert('orders', { id: 101, quantity: 20 });
      expect(await value(neu, 'orders', 101, 'size_class')).toBe('bulk');
      await old.insert('orders', { id: 102, quantity: 2 });
      expect(await value(neu, 'orders', 102, 'size_class')).toBe('single');
      await neu.insert('orders', { id: 201, quantity: 1, size_class: 'custom' });
      expect(await value(neu, 'orders', 201, 'size_class')).toBe('custom');
      expect(num(await value(old, 'orders', 201, 'quantity'))).toBe(1);
      await old.update('orders', { quantity: 2 }, { id: 201 });
      expect(await value(neu, 'orders', 201, 'size_class')).toBe('custom');
      // Until the backfill: NULL, or on MySQL the NOT NULL column's unset marker (one NUL character).
      expect(await value(neu, 'orders', 30, 'size_class')).toBe(h.dialect === 'mysql' ? '\u0000' : null);

      await rollbackToS0(h, s0, 'orders', ['id', 'quantity']);

      await h.expand();
      await h.backfill();
      expectSeveralBatches(h);
      expect(await countWhere(h, 'orders', 'size_class IS NULL')).toBe(0);
      expect(await countWhere(h, 'orders', "size_class = 'bulk'")).toBe(SEED - 10 + 1); // 11..40 and row 101
      expect(await value(neu, 'orders', 5, 'size_class')).toBe('single');
      if (h.dialect === 'postgres') {
        // The backfill ends with ANALYZE: the planner knows the filled column's values (with autovacuum off, as on these servers, nothing else would tell it).
        const [stats] = await neu.raw<{ null_frac: number; n_distinct: number }>(`SELECT null_frac, n_distinct FROM pg_stats WHERE tablename = 'orders' AND attname = 'size_class'`);
        expect(stats).toEqual({ null_frac: 0, n_distinct: 2 }); // 'bulk' and 'single'
      }

      await h.contract();
      await expectNoShims(h, 'orders');
      expect(await columnLine(h, 'orders', 'size_class')).toMatch(/NOT NULL$/);
      await expect(neu.insert('orders', { id: 301, quantity: 1 })).rejects.toThrow();
      await neu.insert('orders', { id: 302, quantity: 1, size_class: 'single' });
    });
  });

  it('addColumn NOT NULL with up on MySQL: NOT NULL from expand with an unset marker, filled where it holds it; contract only drops the default and never rebuilds the table', async (ctx) => {
    if (kind !== 'mysql') return ctx.skip('MySQL/MariaDB only: PostgreSQL adds the NOT NULL through a validated CHECK, without a rebuild');
    const INT_MIN = -2147483648;
    // up is NULL for quantity 0: such rows keep the marker instead of failing the old app's insert.
    const operations = [{ addColumn: { table: 'orders', column: { name: 'priority', type: 'int', nullable: false }, up: 'NULLIF(quantity % 10, 0)' } }];
    await scenario(ctx, kind, { setup: ordersSetup(), operations }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const tableId = () => innodbTableId(neu, 'orders');
      const before = await tableId();

      await h.expand();
      expect(await columnLine(h, 'orders', 'priority')).toMatch(new RegExp(`^orders\\.priority int(\\(11\\))? NOT NULL DEFAULT ${INT_MIN}$`));
      expect(await countWhere(h, 'orders', `priority = ${INT_MIN}`)).toBe(SEED);
      // The old app leaves it out: filled from up, on insert and on an update of an unfilled row.
      await old.insert('orders', { id: 101, quantity: 23 });
      expect(num(await value(neu, 'orders', 101, 'priority'))).toBe(3);
      await old.update('orders', { quantity: 7 }, { id: 1 });
      expect(num(await value(neu, 'orders', 1, 'priority'))).toBe(7);
      // up gives NULL: the write succeeds and the row keeps the marker.
      await old.insert('orders', { id: 102, quantity: 10 });
      expect(num(await value(neu, 'orders', 102, 'priority'))).toBe(INT_MIN);
      // The new app's values are its own, 0 and negatives included.
      await neu.insert('orders', { id: 201, quantity: 1, priority: 0 });
      await neu.insert('orders', { id: 202, quantity: 1, priority: -5 });
      expect(num(await value(old, 'orders', 201, 'quantity'))).toBe(1);
      await old.update('orders', { quantity: 4 }, { id: 202 });
      expect((await neu.select('orders', { id: 201 }))[0]).toMatchObject({ priority: 0 });
      expect(num(await value(neu, 'orders', 202, 'priority'))).toBe(-5);
      // Exactly the marker counts as not written, unless the writer says it is the new version.
      await neu.insert('orders', { id: 203, quantity: 6, priority: INT_MIN });
      expect(num(await value(neu, 'orders', 203, 'priority'))).toBe(6);
      await neu.raw(`SET @tandem_role = 'new'`);
      await neu.insert('orders', { id: 204, quantity: 6, priority: INT_MIN });
      await neu.raw(`SET @tandem_role = NULL`);
      expect(num(await value(neu, 'orders', 204, 'priority'))).toBe(INT_MIN);

      // The backfill fills every marker row it can, then names the rows up leaves unfilled.
      await expect(h.backfill()).rejects.toThrow(/rows of orders still hold priority's unset marker -2147483648 after the backfill: "up" gave NULL for them/);
      expect(num(await value(neu, 'orders', 204, 'priority'))).toBe(6); // the backfill filled it, as the new version left it
      expect(await countWhere(h, 'orders', `priority = ${INT_MIN}`)).toBe(5); // 10, 20, 30, 40 and 102
      await old.knex('orders').where('priority', INT_MIN).update({ quantity: 11 });
      await h.backfill();
      expectSeveralBatches(h);
      expect(await countWhere(h, 'orders', `priority <> quantity % 10 AND id < 200`)).toBe(0);

      // A row the new version left at the marker after the backfill: contract stops, changing nothing.
      await neu.raw(`SET @tandem_role = 'new'`);
      await neu.knex.raw(`INSERT INTO orders (id, quantity) VALUES (205, 1)`);
      await neu.raw(`SET @tandem_role = NULL`);
      const s2 = await h.schemaSnapshot();
      await expect(h.contract()).rejects.toThrow(/rows of orders still hold priority's unset marker -2147483648: a writer with @tandem_role = 'new' left priority out.* then rerun contract/);
      expect(await h.schemaSnapshot()).toEqual(s2);
      await neu.update('orders', { priority: 1 }, { id: 205 });
      await h.contract();
      expect(await tableId()).toBe(before);
      await expectNoShims(h, 'orders');
      expect(await columnLine(h, 'orders', 'priority')).toMatch(/^orders\.priority int(\(11\))? NOT NULL$/);
      await expect(neu.insert('orders', { id: 301, quantity: 1 })).rejects.toThrow(/priority/);
      expect(num(await value(neu, 'orders', 30, 'priority'))).toBe(1);
      expect(num(await value(neu, 'orders', 201, 'priority'))).toBe(0);
    });
  });

  it('addColumn NOT NULL with a volatile default (now()/CURRENT_TIMESTAMP): filled per row, NOT NULL DEFAULT at contract', async (ctx) => {
    const spec = (dialect: 'postgres' | 'mysql'): OperationHarnessSpec => ({
      setup: ordersSetup(),
      operations: [{ addColumn: { table: 'orders', column: dialect === 'postgres' ? { name: 'created_at', type: 'timestamptz', nullable: false, default: 'now()' } : { name: 'created_at', type: 'datetime', nullable: false, default: 'CURRENT_TIMESTAMP' } } }],
    });
    await scenario(ctx, kind, spec, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();
      const given = h.dialect === 'postgres' ? new Date('2001-02-03T04:05:06Z') : '2001-02-03 04:05:06';

      await h.expand();
      await old.insert('orders', { id: 101, quantity: 3 });
      expect(await value(neu, 'orders', 101, 'created_at')).not.toBeNull();
      await neu.insert('orders', { id: 201, quantity: 4, created_at: given });
      expect(new Date(String(await value(neu, 'orders', 201, 'created_at'))).getUTCFullYear()).toBe(2001);
      await old.update('orders', { quantity: 5 }, { id: 201 });
      expect(new Date(String(await value(neu, 'orders', 201, 'created_at'))).getUTCFullYear()).toBe(2001);

      await rollbackToS0(h, s0, 'orders', ['id', 'quantity']);

      await h.expand();
      await h.backfill();
      expectSeveralBatches(h);
      expect(await countWhere(h, 'orders', 'created_at IS NULL')).toBe(0);

      await h.contract();
      await expectNoShims(h, 'orders');
      expect(await columnLine(h, 'orders', 'created_at')).toMatch(h.dialect === 'postgres' ? /NOT NULL DEFAULT now\(\)/ : /NOT NULL DEFAULT (current_timestamp\(\)|CURRENT_TIMESTAMP)/i);
      await neu.insert('orders', { id: 301, quantity: 1 });
      expect(await value(neu, 'orders', 301, 'created_at')).not.toBeNull();
      await expect(neu.insert('orders', { id: 302, quantity: 1, created_at: null })).rejects.toThrow();
    });
  });

  // ------------------------------------------------------------------------- dropColumn
  it('dropColumn (nullable): the old app keeps it until contract, the new app omits it', async (ctx) => {
    const setup = ordersSetup({ postgres: ', legacy varchar(20)', mysql: ', legacy varchar(20) NULL' }, (i) => `L${i}`);
    await scenario(ctx, kind, { setup, operations: [{ dropColumn: { table: 'orders', column: 'legacy' } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      await h.expand();
      expect(await h.schemaSnapshot()).toEqual(s0);
      await old.insert('orders', { id: 101, quantity: 3, legacy: 'mine' });
      await neu.insert('orders', { id: 201, quantity: 4 });
      expect(await one(old, 'orders', 201)).toMatchObject({ legacy: null });
      expect(num(await value(neu, 'orders', 101, 'quantity'))).toBe(3);
      await neu.update('orders', { quantity: 6 }, { id: 101 });
      expect(await one(old, 'orders', 101)).toMatchObject({ legacy: 'mine' });

      await rollbackToS0(h, s0, 'orders', ['id', 'quantity', 'legacy']);

      await h.expand();
      await h.backfill();
      await h.contract();
      await expectNoShims(h, 'orders');
      expect(await neu.columns('orders')).toEqual(['id', 'quantity']);
      expect(num(await value(neu, 'orders', 101, 'quantity'))).toBe(6);
    });
  });

  it('dropColumn NOT NULL without default: expand drops the NOT NULL (MySQL: gives it a stand-in default) so the new app can omit it; rollback restores it', async (ctx) => {
    const setup = ordersSetup({ postgres: ', legacy varchar(20) NOT NULL', mysql: ', legacy varchar(20) NOT NULL' }, (i) => `L${i}`);
    await scenario(ctx, kind, { setup, operations: [{ dropColumn: { table: 'orders', column: 'legacy' } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      const tableId = async () => (h.dialect === 'mysql' ? innodbTableId(neu, 'orders') : 0);
      const id0 = await tableId();
      await h.expand();
      if (h.dialect === 'mysql') {
        // A stand-in default, instant: InnoDB would rebuild the table to drop the NOT NULL (and again on rollback).
        expect(await columnLine(h, 'orders', 'legacy')).toBe("orders.legacy varchar(20) NOT NULL DEFAULT ''");
        await neu.insert('orders', { id: 201, quantity: 4 });
        expect(await one(old, 'orders', 201)).toMatchObject({ legacy: '' });
        await old.insert('orders', { id: 101, quantity: 3, legacy: 'mine' });
        expect(num(await value(neu, 'orders', 101, 'quantity'))).toBe(3);
        expect(await tableId()).toBe(id0);
        await rollbackToS0(h, s0, 'orders', ['id', 'quantity', 'legacy']);
        expect(await tableId()).toBe(id0);
        expect(await value(old, 'orders', 201, 'legacy')).toBe('');
      } else {
        expect(await columnLine(h, 'orders', 'legacy')).toMatch(/ NULL$/);
        await neu.insert('orders', { id: 201, quantity: 4 });
        expect(await one(old, 'orders', 201)).toMatchObject({ legacy: null });
        await old.insert('orders', { id: 101, quantity: 3, legacy: 'mine' });
        expect(num(await value(neu, 'orders', 101, 'quantity'))).toBe(3);

        // The new app's rows have no value: NOT NULL cannot come back until they get one.
        await expect(h.rollback()).rejects.toThrow();
        await old.update('orders', { legacy: 'fixed' }, { id: 201 });
        await rollbackToS0(h, s0, 'orders', ['id', 'quantity', 'legacy']);
        expect(await value(old, 'orders', 201, 'legacy')).toBe('fixed');
      }

      await h.expand();
      await h.backfill();
      await h.contract();
      await expectNoShims(h, 'orders');
      expect(await neu.columns('orders')).toEqual(['id', 'quantity']);
      await neu.insert('orders', { id: 301, quantity: 1 });
    });
  });

  it('dropColumn with down: a shim fills the column for the old app when the new app omits it', async (ctx) => {
    const setup = ordersSetup({ postgres: ', legacy varchar(20) NOT NULL', mysql: ', legacy varchar(20) NOT NULL' }, (i) => `L${i}`);
    await scenario(ctx, kind, { setup, operations: [{ dropColumn: { table: 'orders', column: 'legacy', down: "CONCAT('q', quantity)" } }] }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      await h.expand();
      await neu.insert('orders', { id: 201, quantity: 4 });
      expect(await value(old, 'orders', 201, 'legacy')).toBe('q4');
      await old.insert('orders', { id: 101, quantity: 3, legacy: 'mine' });
      expect(await value(old, 'orders', 101, 'legacy')).toBe('mine');
      await neu.update('orders', { quantity: 9 }, { id: 101 });
      expect(await value(old, 'orders', 101, 'legacy')).toBe('mine');

      await rollbackToS0(h, s0, 'orders', ['id', 'quantity', 'legacy']);
      expect(await value(old, 'orders', 201, 'legacy')).toBe('q4');

      await h.expand();
      await h.backfill();
      // MySQL: the column outlives its shim by one statement, with a stand-in default rather than
      // without its NOT NULL (a rebuild); dropping it is instant.
      const tableId = async () => (h.dialect === 'mysql' ? innodbTableId(neu, 'orders') : 0);
      const id0 = await tableId();
      await h.contract();
      expect(await tableId()).toBe(id0);
      await expectNoShims(h, 'orders');
      expect(await neu.columns('orders')).toEqual(['id', 'quantity']);
      await neu.insert('orders', { id: 301, quantity: 1 });
      expect(num(await value(neu, 'orders', 301, 'quantity'))).toBe(1);
    });
  });

  it('two operations on one column in one migration are refused at compile, naming the earlier one', async (ctx) => {
    const setup = profilesSetup('country varchar(2) NULL', () => 'DE');
    const operations = [
      { alterColumn: { table: 'profiles', column: 'country', nullable: false } },
      // Compiled from the column as the catalog has it, the rename would give the new name the old
      // nullability (and on MySQL the two twins' shims would race).
      { renameColumn: { table: 'profiles', from: 'country', to: 'country_code' } },
    ];
    await scenario(ctx, kind, { setup, operations }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await expect(h.expand()).rejects.toThrow(/operation 1 \(renameColumn\): column profiles\.country is changed by an earlier operation of this migration \(alterColumn\); each operation works from the column as it was before the migration: change it again in a later migration/);
      expect(await h.schemaSnapshot()).toEqual(s0);
    });
  });

  // ------------------------------------------------------------------------- two operations, one table
  it('renameColumn + alterColumn (type) on the same table in one migration', async (ctx) => {
    const operations = [
      { renameColumn: { table: 'users', from: 'nickname', to: 'handle' } },
      { alterColumn: { table: 'users', column: 'score', type: 'bigint' } },
    ];
    await scenario(ctx, kind, { setup: usersSetup('NULL'), operations }, async (h) => {
      const { oldClient: old, newClient: neu } = h;
      const s0 = await h.schemaSnapshot();

      const s1 = async () => {
        const twin = await twinOf(h, 'users');
        await old.insert('users', { id: 101, nickname: 'Old', score: 11 });
        expect(await one(neu, 'users', 101)).toMatchObject({ handle: 'Old' });
        expect(num(await value(neu, 'users', 101, twin))).toBe(11);
        await neu.insert('users', { id: 201, handle: 'New', score: 21 });
        expect(await one(old, 'users', 201)).toMatchObject({ nickname: 'New' });
        expect(num(await value(neu, 'users', 201, twin))).toBe(21);
        // NULLs cross over too
        await neu.update('users', { handle: null, score: 22 }, { id: 201 });
        expect(await one(old, 'users', 201)).toMatchObject({ nickname: null });
        expect(num(await value(neu, 'users', 201, twin))).toBe(22);
        await old.update('users', { nickname: null }, { id: 1 });
        expect(await value(neu, 'users', 1, 'handle')).toBeNull();
        await old.update('users', { nickname: 'again', score: 5 }, { id: 1 });
        expect(await one(neu, 'users', 1)).toMatchObject({ handle: 'again' });
        expect(num(await value(neu, 'users', 1, twin))).toBe(5);
      };

      await h.expand();
      await s1();
      await rollbackToS0(h, s0, 'users', ['id', 'nickname', 'email', 'score']);

      await h.expand();
      await h.backfill();
      expect(await countDiffering(h, 'users', 'handle', 'nickname')).toBe(0);
      expect(await countDiffering(h, 'users', 'score', await twinOf(h, 'users'))).toBe(0);

      await h.contract();
      await expectNoShims(h, 'users');
      expect(await neu.columns('users')).toEqual(h.dialect === 'mysql' ? ['id', 'handle', 'email', 'score'] : ['id', 'email', 'handle', 'score']);
      expect(await columnLine(h, 'users', 'score')).toMatch(h.dialect === 'mysql' ? /^users\.score bigint(\(20\))? NOT NULL DEFAULT 0$/ : /^users\.score bigint NOT NULL DEFAULT 0$/);
      expect(await one(neu, 'users', 1)).toMatchObject({ handle: 'again' });
      expect(num(await value(neu, 'users', 1, 'score'))).toBe(5);
      expect(await value(neu, 'users', 9, 'handle')).toBe('nick9');
      await neu.insert('users', { id: 301, handle: 'late', score: 2 ** 40 });
      expect(num(await value(neu, 'users', 301, 'score'))).toBe(2 ** 40);
    });
  });
});
