/**
 * Hostile identifiers through every declarative operation, its shims, the batched backfill of SQL
 * migrations and the linter, on PostgreSQL, MySQL/MariaDB and PGlite: tables and columns with a
 * double quote, a backtick, a single quote, spaces, reserved words, mixed case and non-ASCII
 * characters. Each scenario drives one migration phase by phase (expand, both app versions write and
 * read each other's rows, rollback → S0, expand, backfill, contract), so an identifier interpolated
 * without quoting anywhere fails a statement.
 *
 * Limits of the databases (not of tandem): MySQL/MariaDB identifiers are at most 64 characters, may
 * not end with a space, and MariaDB stores them as utf8mb3, so an emoji (4 bytes) is refused there
 * ("Invalid utf8mb3 character string"): the emoji column exists on PostgreSQL only. PostgreSQL
 * allows 63 bytes (not characters). Names of tandem's own objects (shim triggers, functions, twin
 * columns) are `tandem_<hash>_<suffix>`, derived from the migration id and operation index, never
 * from the table name: at most 24 characters and distinct per operation (checked below).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi, type TestContext } from 'vitest';
import { collectingReporter, connect } from '../../src/index.js';
import { ALL_KINDS, createTestDatabase, type TestDbKind } from '../support/databases.js';
import { openOperationHarness, type Dialect, type OperationHarness, type OperationHarnessSpec, type Row } from '../support/operation-harness.js';
import { runCli } from '../support/spawn-cli.js';

vi.setConfig({ testTimeout: 240_000, hookTimeout: 240_000 });

// ---------------------------------------------------------------------------------------------
// the names

/** The main table: quotes of all three kinds, spaces, mixed case and non-ASCII. */
const T = 'Order "Lines" `x` it\'s café 名前';
/** A second table named by a reserved word. */
const P = 'select';
/** The primary key column (both tables). */
const K = 'Key "ID"';
const ORDER = 'order';
const SELECT = 'select';
const GROUP = 'group';
const MIXED = 'MixedCase';
const CAFE = 'café';
const NAME = '名前';
const QUOTES = 'it\'s "q" `b`';
const SPACE = 'with space';
const EMOJI = '😀 emoji';
/** A statistics object's name (PostgreSQL). */
const STATS = 'Stats "g" é';

const SEED = 30;

function quote(dialect: Dialect, name: string): string {
  return dialect === 'mysql' ? `\`${name.replace(/`/g, '``')}\`` : `"${name.replace(/"/g, '""')}"`;
}

function literal(value: unknown): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') return String(value);
  return `'${String(value).replace(/'/g, "''")}'`;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

function insertSql(dialect: Dialect, table: string, columns: string[], rows: unknown[][]): string {
  return `INSERT INTO ${quote(dialect, table)} (${columns.map((c) => quote(dialect, c)).join(', ')}) VALUES ${rows.map((row) => `(${row.map(literal).join(', ')})`).join(', ')};`;
}

/** S0: the hostile table with SEED rows, an index on it, and the reserved-word table it may reference. */
function setup(dialect: Dialect): string {
  const q = (name: string) => quote(dialect, name);
  const int = dialect === 'mysql' ? 'int' : 'integer';
  const engine = dialect === 'mysql' ? ' ENGINE=InnoDB' : '';
  const nullable = dialect === 'mysql' ? ' NULL' : '';
  return [
    `CREATE TABLE ${q(P)} (${q(K)} ${int} PRIMARY KEY, ${q(NAME)} varchar(50)${nullable})${engine};`,
    insertSql(dialect, P, [K, NAME], range(10).map((i) => [i, `p${i}`])),
    `CREATE TABLE ${q(T)} (
  ${q(K)} ${int} PRIMARY KEY,
  ${q(ORDER)} ${int} NOT NULL,
  ${q(SELECT)} varchar(50)${nullable},
  ${q(GROUP)} ${int}${nullable},
  ${q(MIXED)} varchar(50)${nullable},
  ${q(CAFE)} varchar(50)${nullable},
  ${q(NAME)} varchar(50)${nullable},
  ${q(QUOTES)} ${int}${nullable},
  ${q(SPACE)} varchar(50) NOT NULL
)${engine};`,
    `CREATE INDEX ${q('old idx "x" é')} ON ${q(T)} (${q(CAFE)});`,
    insertSql(
      dialect,
      T,
      [K, ORDER, SELECT, GROUP, MIXED, CAFE, NAME, QUOTES, SPACE],
      range(SEED).map((i) => [i, i, `s'${i}"`, (i % 10) + 1, i % 3 === 0 ? null : `M${i}`, `c${i}`, `名${i}`, i * 10, `sp ${i}`]),
    ),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// helpers

async function scenario(
  ctx: TestContext,
  kind: TestDbKind,
  spec: (dialect: Dialect) => Omit<OperationHarnessSpec, 'setup'> & { extraSetup?: string },
  body: (h: OperationHarness, q: (name: string) => string) => Promise<void>,
): Promise<void> {
  const db = await createTestDatabase(kind, 'hostile');
  if (!db) return ctx.skip(`${kind} unavailable`);
  const dialect: Dialect = db.kind === 'mysql' ? 'mysql' : 'postgres';
  const { extraSetup, ...rest } = spec(dialect);
  const h = await openOperationHarness(db, { setup: `${setup(dialect)}\n${extraSetup ?? ''}`, ...rest });
  try {
    await body(h, (name) => quote(dialect, name));
  } finally {
    await h.close();
    await db.drop();
  }
}

async function row(h: OperationHarness, who: 'old' | 'new', id: number, table = T): Promise<Row> {
  const rows = await (who === 'old' ? h.oldClient : h.newClient).select(table, { [K]: id }, K);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

const num = (value: unknown) => (value === null || value === undefined ? value : Number(value));

async function count(h: OperationHarness, sql: string): Promise<number> {
  const [result] = await h.newClient.raw<{ n: unknown }>(sql);
  return Number(result!.n);
}

function expectSeveralBatches(h: OperationHarness): void {
  const snapshots = h.reporter.snapshots.filter((s) => s.migrationId === h.migrationId);
  expect(Math.max(0, ...snapshots.map((s) => s.batches))).toBeGreaterThan(1);
}

/** Rollback: the schema is S0 again (names and all) and the old app still sees its rows. */
async function rollbackToS0(h: OperationHarness, s0: unknown): Promise<void> {
  const before = await h.oldClient.select(T, {}, K);
  await h.rollback();
  expect(await h.schemaSnapshot()).toEqual(s0);
  const after = await h.oldClient.select(T, {}, K);
  expect(after.map((r) => r[K])).toEqual(before.map((r) => r[K]));
}

/** No trigger, function or tandem-named column is left after contract, and tandem's own names are short. */
async function expectNoShims(h: OperationHarness): Promise<void> {
  const snapshot = await h.schemaSnapshot();
  expect(snapshot.triggers).toEqual([]);
  expect(snapshot.functions).toEqual([]);
  expect(snapshot.columns.filter((line) => line.includes('tandem_'))).toEqual([]);
}

/** Shim triggers and functions present now: named tandem_<hash>_…, short, distinct. */
async function expectShortShimNames(h: OperationHarness, atLeast: number): Promise<void> {
  const snapshot = await h.schemaSnapshot();
  const names = snapshot.triggers.map((line) => /tandem_[0-9a-f]{8}_[a-z_]+/.exec(line)?.[0]);
  for (const name of names) {
    expect(name).toBeDefined();
    expect(name!.length).toBeLessThanOrEqual(30);
  }
  // One trigger per shim on PostgreSQL, two (insert, update) on MySQL; every name distinct.
  expect(new Set(names).size).toBe(names.length);
  expect(names.length).toBeGreaterThanOrEqual(h.dialect === 'mysql' ? 2 * atLeast : atLeast);
}

// ---------------------------------------------------------------------------------------------

describe.each(ALL_KINDS)('hostile names on %s', (kind) => {
  it('renameColumn: "select" → "Sélect ""new"" 名" with its two-way shim, batched backfill over "Key ""ID"""', async (ctx) => {
    const TO = 'Sélect "new" 名';
    await scenario(ctx, kind, () => ({ operations: [{ renameColumn: { table: T, from: SELECT, to: TO } }] }), async (h) => {
      const s0 = await h.schemaSnapshot();
      const s1 = async () => {
        expect(await h.newClient.columns(T)).toContain(TO);
        await h.oldClient.insert(T, { [K]: 101, [ORDER]: 1, [SELECT]: 'o\'ld "1"', [SPACE]: 'x' });
        expect((await row(h, 'new', 101))[TO]).toBe('o\'ld "1"');
        await h.newClient.insert(T, { [K]: 201, [ORDER]: 2, [TO]: 'né`w', [SPACE]: 'y' });
        expect((await row(h, 'old', 201))[SELECT]).toBe('né`w');
        await h.newClient.update(T, { [TO]: 'upd' }, { [K]: 1 });
        expect((await row(h, 'old', 1))[SELECT]).toBe('upd');
        await h.oldClient.update(T, { [SELECT]: 'back' }, { [K]: 2 });
        expect((await row(h, 'new', 2))[TO]).toBe('back');
      };
      await h.expand();
      await expectShortShimNames(h, 1);
      await s1();
      await rollbackToS0(h, s0);
      expect((await row(h, 'old', 201))[SELECT]).toBe('né`w');

      await h.expand();
      await h.backfill();
      expectSeveralBatches(h);
      const q = (name: string) => quote(h.dialect, name);
      expect(await count(h, `SELECT COUNT(*) AS n FROM ${q(T)} WHERE ${q(TO)} IS NULL AND ${q(SELECT)} IS NOT NULL`)).toBe(0);
      await h.contract();
      expect(await h.newClient.columns(T)).toContain(TO);
      expect(await h.newClient.columns(T)).not.toContain(SELECT);
      expect((await row(h, 'new', 5))[TO]).toBe(`s'5"`);
      await expectNoShims(h);
    });
  });

  it('a table name of the maximum length (63 bytes on PostgreSQL, 64 characters on MySQL): shim and index names never derive from it', async (ctx) => {
    const longName = (dialect: Dialect) => `Long "T" \``.padEnd(dialect === 'mysql' ? 64 : 63, 'x');
    const WIDE = 'w'.repeat(63);
    await scenario(
      ctx,
      kind,
      (dialect) => {
        const q = (name: string) => quote(dialect, name);
        const L = longName(dialect);
        return {
          extraSetup: `CREATE TABLE ${q(L)} (${q(K)} ${dialect === 'mysql' ? 'int' : 'integer'} PRIMARY KEY, ${q(NAME)} varchar(20)${dialect === 'mysql' ? ' NULL' : ''});\n${insertSql(dialect, L, [K, NAME], range(SEED).map((i) => [i, `n${i}`]))}`,
          operations: [
            { renameColumn: { table: L, from: NAME, to: `${NAME} 2` } },
            { addColumn: { table: L, column: { name: WIDE, type: 'varchar(10)', nullable: false }, up: `'u'` } },
            { createIndex: { table: L, name: `${L.slice(0, -1)}i`, columns: [WIDE] } },
          ],
        };
      },
      async (h) => {
        const L = longName(h.dialect);
        expect(Buffer.byteLength(L)).toBe(h.dialect === 'mysql' ? 64 : 63);
        const s0 = await h.schemaSnapshot();
        await h.expand();
        await expectShortShimNames(h, 2);
        await h.oldClient.insert(L, { [K]: 101, [NAME]: 'n' });
        expect((await h.newClient.select(L, { [K]: 101 }, K))[0]).toMatchObject({ [`${NAME} 2`]: 'n', [WIDE]: 'u' });
        await rollbackToS0(h, s0);
        await h.expand();
        await h.backfill();
        await h.contract();
        expect(await h.newClient.columns(L)).toEqual([K, `${NAME} 2`, WIDE]);
        await expectNoShims(h);
      },
    );
  });

  it('a name the database would cut (PostgreSQL: over 63 bytes) or refuse (MySQL: a trailing space) is refused when expand compiles, naming it', async (ctx) => {
    // 32 characters, 64 bytes: PostgreSQL would keep 31 of them and drop the rest without a word.
    const cut = 'é'.repeat(32);
    await scenario(
      ctx,
      kind,
      (dialect) => ({ operations: [{ addColumn: { table: T, column: { name: dialect === 'mysql' ? 'trailing ' : cut, type: 'varchar(10)' } } }] }),
      async (h) => {
        const s0 = await h.schemaSnapshot();
        const expected = h.dialect === 'mysql' ? /operation 0 \(addColumn\): the name "trailing " ends with a space, which MySQL does not allow/ : /operation 0 \(addColumn\): the name "é+" is 64 bytes long; PostgreSQL allows 63 bytes/;
        await expect(h.expand()).rejects.toThrow(expected);
        expect(await h.schemaSnapshot()).toEqual(s0);
      },
    );
  });

  it('addColumn NOT NULL with "up" over reserved words, and dropColumn "with space" with "down": fill shims both ways', async (ctx) => {
    const TOTAL = 'Total "€" `t`';
    await scenario(
      ctx,
      kind,
      (dialect) => ({
        operations: [
          { addColumn: { table: T, column: { name: TOTAL, type: dialect === 'mysql' ? 'int' : 'integer', nullable: false }, up: `${quote(dialect, ORDER)} * 2 + COALESCE(${quote(dialect, QUOTES)}, 0)` } },
          { dropColumn: { table: T, column: SPACE, down: `'gone ''x'''` } },
        ],
      }),
      async (h, q) => {
        const s0 = await h.schemaSnapshot();
        await h.expand();
        await expectShortShimNames(h, 2);
        await h.oldClient.insert(T, { [K]: 101, [ORDER]: 4, [QUOTES]: 1, [SPACE]: 'old' });
        expect(num((await row(h, 'new', 101))[TOTAL])).toBe(9);
        await h.newClient.insert(T, { [K]: 201, [ORDER]: 1, [TOTAL]: 77 });
        expect((await row(h, 'old', 201))[SPACE]).toBe("gone 'x'");
        await rollbackToS0(h, s0);

        await h.expand();
        await h.backfill();
        expectSeveralBatches(h);
        expect(await count(h, `SELECT COUNT(*) AS n FROM ${q(T)} WHERE ${q(TOTAL)} IS NULL OR (${q(TOTAL)} <> ${q(ORDER)} * 2 + COALESCE(${q(QUOTES)}, 0) AND ${q(K)} <> 201)`)).toBe(0);
        await h.contract();
        expect(await h.newClient.columns(T)).not.toContain(SPACE);
        expect((await h.schemaSnapshot()).columns.find((line) => line.startsWith(`${T}.${TOTAL} `))).toMatch(/NOT NULL/);
        await expect(h.newClient.insert(T, { [K]: 301, [ORDER]: 1, [TOTAL]: null })).rejects.toThrow();
        await expectNoShims(h);
      },
    );
  });

  it('alterColumn: type of "group" (twin shim both ways), NOT NULL of "MixedCase" (fill shim), default of "café"', async (ctx) => {
    await scenario(
      ctx,
      kind,
      (dialect) => ({
        operations: [
          { alterColumn: { table: T, column: GROUP, type: 'bigint' } },
          { alterColumn: { table: T, column: MIXED, nullable: false, up: `'m''x'` } },
          { alterColumn: { table: T, column: CAFE, default: `'c''x'` } },
        ],
        // PostgreSQL: a statistics object and a statistics target that the type change carries to the twin.
        ...(dialect === 'postgres' ? { extraSetup: `CREATE STATISTICS ${quote(dialect, STATS)} ON ${quote(dialect, GROUP)}, ${quote(dialect, QUOTES)}, (${quote(dialect, GROUP)} + 1) FROM ${quote(dialect, T)};\nALTER TABLE ${quote(dialect, T)} ALTER COLUMN ${quote(dialect, GROUP)} SET STATISTICS 321;` } : {}),
      }),
      async (h, q) => {
        const s0 = await h.schemaSnapshot();
        await h.expand();
        await expectShortShimNames(h, 2);
        await h.oldClient.insert(T, { [K]: 101, [ORDER]: 1, [GROUP]: 5, [SPACE]: 'a' });
        const r101 = await row(h, 'new', 101);
        expect(num(r101[GROUP])).toBe(5);
        expect(r101[MIXED]).toBe("m'x");
        expect(r101[CAFE]).toBe("c'x");
        await h.newClient.update(T, { [GROUP]: 7 }, { [K]: 101 });
        expect(num((await row(h, 'old', 101))[GROUP])).toBe(7);
        await rollbackToS0(h, s0);

        await h.expand();
        await h.backfill();
        expectSeveralBatches(h);
        expect(await count(h, `SELECT COUNT(*) AS n FROM ${q(T)} WHERE ${q(MIXED)} IS NULL`)).toBe(0);
        await h.contract();
        const columns = (await h.schemaSnapshot()).columns;
        expect(columns.find((line) => line.startsWith(`${T}.${GROUP} `))).toMatch(/bigint/);
        expect(columns.find((line) => line.startsWith(`${T}.${MIXED} `))).toMatch(/NOT NULL/);
        expect(columns.find((line) => line.startsWith(`${T}.${CAFE} `))).toContain("DEFAULT 'c''x'");
        expect(num((await row(h, 'new', 3))[GROUP])).toBe(4);
        expect((await row(h, 'new', 3))[MIXED]).toBe("m'x");
        await expectNoShims(h);
        if (h.dialect === 'postgres') {
          const [stats] = await h.newClient.raw<{ definition: string; target: number }>(
            `SELECT pg_get_statisticsobjdef(s.oid) AS definition, a.attstattarget AS target
               FROM pg_statistic_ext s JOIN pg_attribute a ON a.attrelid = s.stxrelid AND a.attname = ? WHERE s.stxname = ?`,
            [GROUP, STATS],
          );
          expect(stats).toEqual({ definition: `CREATE STATISTICS public.${q(STATS)} ON ${q(QUOTES)}, ${q(GROUP)}, (${q(GROUP)} + 1) FROM ${q(T)}`, target: 321 });
        }
      },
    );
  });

  it('alterColumn: type of the key column (PostgreSQL: a twin the key moves to; MariaDB: a copy of the table, triggers and a RENAME)', async (ctx) => {
    await scenario(
      ctx,
      kind,
      () => ({ operations: [{ alterColumn: { table: T, column: K, type: 'bigint' } }] }),
      async (h) => {
        // The app's columns (before contract the table also holds PostgreSQL's twin), the key as a number.
        const keyed = (rows: Row[]): Row[] => rows.map((r) => Object.fromEntries(Object.entries({ ...r, [K]: num(r[K]) }).filter(([name]) => !name.startsWith('tandem_'))));
        await h.expand();
        await h.oldClient.insert(T, { [K]: 101, [ORDER]: 1, [SPACE]: 'a' });
        await h.oldClient.update(T, { [SELECT]: 'changed' }, { [K]: 3 });
        await h.backfill();
        expectSeveralBatches(h);
        await h.oldClient.update(T, { [SELECT]: 'after walk' }, { [K]: 4 });
        const before = keyed(await h.oldClient.select(T, {}, K));
        await h.contract();
        const columns = (await h.schemaSnapshot()).columns;
        expect(columns.find((line) => line.startsWith(`${T}.${K} `))).toMatch(/bigint/);
        expect(keyed(await h.newClient.select(T, {}, K))).toEqual(before);
        expect(before.find((r) => r[K] === 4)?.[SELECT]).toBe('after walk');
        await expectNoShims(h);
      },
    );
  });

  it('createIndex, dropIndex, addUnique, addCheck, addForeignKey with hostile index and constraint names', async (ctx) => {
    const IDX = 'Idx "order" `é`';
    const UNIQ = 'Uniq 名前';
    const CHK = 'Chk "order" >= 0';
    const FK = 'FK "group" → select';
    await scenario(
      ctx,
      kind,
      (dialect) => ({
        operations: [
          { createIndex: { table: T, name: IDX, columns: [ORDER, SPACE] } },
          { dropIndex: { table: T, name: 'old idx "x" é' } },
          { addUnique: { table: T, name: UNIQ, columns: [NAME] } },
          { addCheck: { table: T, name: CHK, expression: `${quote(dialect, ORDER)} >= 0` } },
          { addForeignKey: { table: T, name: FK, columns: [GROUP], references: { table: P, columns: [K] } } },
        ],
      }),
      async (h) => {
        const s0 = await h.schemaSnapshot();
        await h.expand();
        expect((await h.schemaSnapshot()).indexes.join('\n')).toContain('Idx');
        await h.oldClient.insert(T, { [K]: 101, [ORDER]: 1, [GROUP]: 2, [NAME]: 'uniq101', [SPACE]: 'a' });
        await expect(h.newClient.insert(T, { [K]: 102, [ORDER]: 1, [NAME]: 'uniq101', [SPACE]: 'b' })).rejects.toThrow();
        await rollbackToS0(h, s0);

        await h.expand();
        await h.backfill();
        await h.contract();
        const snapshot = await h.schemaSnapshot();
        const all = [...snapshot.indexes, ...snapshot.constraints].join('\n');
        // PostgreSQL's snapshot shows index names quoted (regclass), constraint names as they are.
        // MySQL enforces addCheck with triggers by default (a real CHECK would copy the table).
        const names = h.dialect === 'mysql' && snapshot.triggers.some((line) => /tandem_[0-9a-f]{8}_check/.test(line)) ? [IDX, UNIQ, FK] : [IDX, UNIQ, CHK, FK];
        for (const name of names) expect(all.includes(name) || all.includes(name.replace(/"/g, '""')), `${name} in\n${all}`).toBe(true);
        expect(snapshot.indexes.join('\n')).not.toContain('old idx');
        await expect(h.newClient.insert(T, { [K]: 301, [ORDER]: -1, [NAME]: 'n301', [SPACE]: 'c' })).rejects.toThrow();
        await expect(h.newClient.insert(T, { [K]: 302, [ORDER]: 1, [GROUP]: 99, [NAME]: 'n302', [SPACE]: 'c' })).rejects.toThrow();
        await h.newClient.insert(T, { [K]: 303, [ORDER]: 1, [GROUP]: 3, [NAME]: 'n303', [SPACE]: 'c' });
      },
    );
  });

  it('createTable, renameTable (a view under the hostile new name until contract), dropTable of "select"', async (ctx) => {
    const NEW = 'New "Tab" `名前` é';
    const RENAMED = 'Renamed "T" café';
    await scenario(
      ctx,
      kind,
      (dialect) => ({
        operations: [
          {
            createTable: {
              table: NEW,
              columns: [
                { name: K, type: dialect === 'mysql' ? 'int' : 'integer', primaryKey: true },
                { name: ORDER, type: 'varchar(20)', nullable: false, default: `'o''x'` },
                { name: QUOTES, type: 'varchar(20)', check: `${quote(dialect, QUOTES)} <> 'bad'` },
                ...(dialect === 'postgres' ? [{ name: EMOJI, type: 'text' }] : []),
              ],
            },
          },
          { renameTable: { from: T, to: RENAMED } },
          { dropTable: { table: P } },
        ],
      }),
      async (h) => {
        const s0 = await h.schemaSnapshot();
        await h.expand();
        await h.newClient.insert(NEW, { [K]: 1, [QUOTES]: 'ok' });
        expect((await h.newClient.select(NEW, {}, K))[0]).toMatchObject({ [ORDER]: "o'x", [QUOTES]: 'ok' });
        await expect(h.newClient.insert(NEW, { [K]: 2, [QUOTES]: 'bad' })).rejects.toThrow();
        await h.newClient.insert(RENAMED, { [K]: 201, [ORDER]: 2, [SPACE]: 'via view' });
        expect((await row(h, 'old', 201))[SPACE]).toBe('via view');
        expect((await h.oldClient.select(P, {}, K)).length).toBe(10);
        await rollbackToS0(h, s0);

        await h.expand();
        await h.backfill();
        await h.contract();
        const tables = new Set((await h.schemaSnapshot()).columns.map((line) => line.slice(0, line.indexOf('.'))));
        expect(tables.has(RENAMED)).toBe(true);
        expect(tables.has(T)).toBe(false);
        expect(tables.has(P)).toBe(false);
        if (h.dialect === 'postgres') expect([...(await h.schemaSnapshot()).columns].join('\n')).toContain(`${NEW}.${EMOJI} text`);
        expect((await h.newClient.select(RENAMED, { [K]: 201 }, K))[0]![SPACE]).toBe('via view');
      },
    );
  });

  it('the sql operation over hostile names: a batched backfill UPDATE', async (ctx) => {
    const NOTE = 'note "n" `é`';
    await scenario(
      ctx,
      kind,
      (dialect) => {
        const q = (name: string) => quote(dialect, name);
        return {
          operations: [
            {
              sql: {
                expand: `ALTER TABLE ${q(T)} ADD COLUMN ${q(NOTE)} varchar(80)${dialect === 'mysql' ? ' NULL' : ''}`,
                backfill: `UPDATE ${q(T)} SET ${q(NOTE)} = ${dialect === 'mysql' ? `CONCAT(${q(SELECT)}, '?')` : `${q(SELECT)} || '?'`} WHERE ${q(NOTE)} IS NULL`,
                rollback: `ALTER TABLE ${q(T)} DROP COLUMN ${q(NOTE)}`,
              },
            },
          ],
        };
      },
      async (h, q) => {
        const s0 = await h.schemaSnapshot();
        await h.expand();
        await rollbackToS0(h, s0);
        await h.expand();
        await h.backfill();
        expectSeveralBatches(h);
        expect(await count(h, `SELECT COUNT(*) AS n FROM ${q(T)} WHERE ${q(NOTE)} IS NULL`)).toBe(0);
        expect((await row(h, 'new', 4))[NOTE]).toBe(`s'4"?`);
        await h.contract();
      },
    );
  });

  it('a SQL-section migration: batched backfill walks a key column named with quotes, a space and "?"', async (ctx) => {
    const db = await createTestDatabase(kind, 'hostile_sql', { pgliteDir: false });
    if (!db) return ctx.skip(`${kind} unavailable`);
    const dialect: Dialect = db.kind === 'mysql' ? 'mysql' : 'postgres';
    const q = (name: string) => quote(dialect, name);
    const KEY = 'Key "?" `id`';
    const SECOND = 'Part ?? 2';
    const VALUE = 'hits "n"';
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-hostile-'));
    const int = dialect === 'mysql' ? 'int' : 'integer';
    fs.writeFileSync(
      path.join(dir, '20260101000000_s0.sql'),
      `CREATE TABLE ${q(T)} (${q(KEY)} ${int} NOT NULL, ${q(SECOND)} varchar(10) NOT NULL, ${q(VALUE)} ${int} NOT NULL, PRIMARY KEY (${q(KEY)}, ${q(SECOND)}));\n` +
        insertSql(dialect, T, [KEY, SECOND, VALUE], range(SEED).flatMap((i) => [[i, 'a?', 0], [i, "b'", 0]])),
    );
    fs.writeFileSync(
      path.join(dir, '20260102000000_hits.sql'),
      `-- tandem:expand\nALTER TABLE ${q(T)} ADD COLUMN ${q(ORDER)} ${int}${dialect === 'mysql' ? ' NULL' : ''};\n` +
        `-- tandem:backfill\nUPDATE ${q(T)} AS ${q('a "x"')} SET ${q(VALUE)} = ${q('a "x"')}.${q(VALUE)} + 1, ${q(ORDER)} = ${q(KEY)} WHERE ${q(SECOND)} <> 'z?';\n` +
        `-- tandem:rollback\nALTER TABLE ${q(T)} DROP COLUMN ${q(ORDER)};\n`,
    );
    const reporter = collectingReporter();
    const tandem = await connect({ url: db.url, dir, reporter, config: { backfill: { targetBatchMs: 50, initialBatchSize: 7, minBatchSize: 5, maxBatchSize: 9, pauseMs: 0 } } });
    try {
      await tandem.expand();
      await tandem.backfill();
      await tandem.contract();
      expect(Math.max(0, ...reporter.snapshots.map((s) => s.batches))).toBeGreaterThan(3);
      const rows = await tandem.session.db.raw(`SELECT COUNT(*) AS n, MIN(${q(VALUE)}) AS lo, MAX(${q(VALUE)}) AS hi, SUM(${q(ORDER)}) AS s FROM ${q(T)}`.replace(/\?/g, '\\?'));
      const stats = (dialect === 'mysql' ? (rows as [Row[]])[0][0] : (rows as { rows: Row[] }).rows[0])!;
      // Every row updated exactly once (a non-idempotent +1), none skipped.
      expect([num(stats.n), num(stats.lo), num(stats.hi), num(stats.s)]).toEqual([SEED * 2, 1, 1, SEED * (SEED + 1)]);
      expect(reporter.snapshots.every((s) => s.table === q(T))).toBe(true);
    } finally {
      await tandem.close();
      fs.rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  });
});

describe('the linter on hostile names', () => {
  it('parses quoted hostile identifiers on both dialects and names them in its findings', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-hostile-lint-'));
    try {
      for (const dialect of ['postgres', 'mysql'] as const) {
        const q = (name: string) => quote(dialect, name);
        const file = path.join(dir, `20260101000000_${dialect}.sql`);
        fs.writeFileSync(
          file,
          `-- tandem:expand\nALTER TABLE ${q(T)} ADD COLUMN ${q(NAME)} varchar(10);\nALTER TABLE ${q(T)} DROP COLUMN ${q(SELECT)};\n` +
            `-- tandem:contract\nALTER TABLE ${q(T)} DROP COLUMN ${q(GROUP)};\n`,
        );
        const result = await runCli(['lint', '--json', '--dialect', dialect, file], { cwd: dir });
        const findings = (JSON.parse(result.stdout) as { findings: Array<{ rule: string; line: number; message: string }> }).findings;
        expect(findings.filter((f) => f.rule === 'parse-error')).toEqual([]);
        const drop = findings.find((f) => f.line === 3 && /drop/i.test(f.rule));
        expect(drop, JSON.stringify(findings)).toBeDefined();
        expect(drop!.message).toContain(SELECT);
        // Dropping in contract is the safe place: no error on line 5.
        expect(findings.filter((f) => f.line === 5 && f.rule.startsWith('drop-column'))).toEqual([]);
        expect(result.code).toBe(1);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
