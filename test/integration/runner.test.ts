/**
 * The runner's state machine and guards, on every database kind: phases in order, rollback, drift,
 * failures (atomic on PostgreSQL, resumable per statement on MySQL), file order, and the runner lock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, type TestContext } from 'vitest';
import { collectingReporter, connect, PhaseFailedError, RefusedError, type Tandem, type TandemConfigInput } from '../../src/index.js';
import { ALL_KINDS, createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases.js';

const REPO = path.resolve(import.meta.dirname, '../..');

const CONFIG: TandemConfigInput = {
  lockTimeoutMs: 500,
  waitSeconds: 0,
  retries: { count: 2, initialDelayMs: 20, maxDelayMs: 50 },
  backfill: { targetBatchMs: 50, initialBatchSize: 100, minBatchSize: 10, maxBatchSize: 1000, pauseMs: 0 },
};

// ------------------------------------------------------------------------------------------------
// Per-test environment: a fresh database, a temp migrations directory, and a Tandem on both.

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Env {
  db: TestDatabase;
  dir: string;
  t: Tandem;
  reporter: ReturnType<typeof collectingReporter>;
  /** Path of a migration file as tandem names it in messages (relative to the cwd). */
  file(id: string): string;
  write(id: string, text: string): void;
  remove(id: string): void;
  q<T = Record<string, unknown>>(sql: string, bindings?: unknown[]): Promise<T[]>;
  columns(table: string): Promise<string[]>;
  tableExists(table: string): Promise<boolean>;
  /** items(id, name) with three rows, and rollback_log(note) to see which rollback ran. */
  seed(): Promise<void>;
  phaseOf(id: string): Promise<string | undefined>;
}

/**
 * Starting PGlite takes seconds, so the in-memory PGlite of this file is opened once and emptied
 * between tests (app schema, ledger and migration files); servers get a fresh database per test.
 */
let sharedPglite: { db: TestDatabase; dir: string; t: Tandem; reporter: ReturnType<typeof collectingReporter> } | null = null;
afterAll(async () => {
  await sharedPglite?.t.close();
  if (sharedPglite) fs.rmSync(sharedPglite.dir, { recursive: true, force: true });
});

async function emptyPglite(ctx: TestContext): Promise<NonNullable<typeof sharedPglite>> {
  if (!sharedPglite) {
    const db = await createTestDatabase('pglite', 'runner_pglite');
    if (!db) ctx.skip('pglite unavailable');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-runner-'));
    const reporter = collectingReporter();
    sharedPglite = { db: db!, dir, reporter, t: await connect({ url: db!.url, dir, config: CONFIG, reporter }) };
  }
  const { t, dir, reporter } = sharedPglite;
  for (const sql of ['DROP SCHEMA IF EXISTS tandem CASCADE', 'DROP SCHEMA public CASCADE', 'CREATE SCHEMA public']) await t.session.db.raw(sql);
  for (const file of fs.readdirSync(dir)) fs.rmSync(path.join(dir, file), { recursive: true, force: true });
  reporter.messages.length = 0;
  return sharedPglite;
}

async function setup(kind: TestDbKind, ctx: TestContext, options: { pgliteDir?: boolean; config?: TandemConfigInput } = {}): Promise<Env> {
  let db: TestDatabase, dir: string, t: Tandem, reporter: ReturnType<typeof collectingReporter>;
  if (kind === 'pglite' && !options.pgliteDir && !options.config) {
    ({ db, dir, t, reporter } = await emptyPglite(ctx));
  } else {
    const created = await createTestDatabase(kind, `runner_${kind}`, options.pgliteDir ? { pgliteDir: true } : {});
    if (!created) ctx.skip(`${kind} server unavailable`);
    db = created!;
    cleanups.push(() => db.drop());
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-runner-'));
    const tempDir = dir;
    cleanups.push(async () => fs.rmSync(tempDir, { recursive: true, force: true }));
    reporter = collectingReporter();
    const opened = await connect({ url: db.url, dir, config: { ...CONFIG, ...options.config }, reporter });
    t = opened;
    cleanups.push(() => opened.close());
  }
  const q = async <T,>(sql: string, bindings: unknown[] = []): Promise<T[]> => t.session.adapter.rows<T>(await t.session.db.raw(sql, bindings as never[]));
  const mysqlKind = t.session.adapter.dialect === 'mysql';
  const env: Env = {
    db,
    dir,
    t,
    reporter,
    file: (id) => path.relative(process.cwd(), path.join(dir, `${id}.sql`)),
    write: (id, text) => fs.writeFileSync(path.join(dir, `${id}.sql`), text),
    remove: (id) => fs.rmSync(path.join(dir, `${id}.sql`)),
    q,
    columns: async (table) =>
      (
        await q<{ c: string }>(
          mysqlKind
            ? 'SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION'
            : 'SELECT column_name AS c FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position',
          [table],
        )
      ).map((row) => row.c),
    tableExists: async (table) =>
      (
        await q(
          mysqlKind
            ? 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?'
            : 'SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?',
          [table],
        )
      ).length > 0,
    seed: async () => {
      await q('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(100))');
      await q("INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')");
      await q('CREATE TABLE rollback_log (note VARCHAR(100))');
    },
    phaseOf: async (id) => (await t.status()).find((s) => s.id === id)?.phase,
  };
  return env;
}

async function refused(promise: Promise<unknown>, pattern: RegExp): Promise<RefusedError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the command to be refused');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RefusedError);
  expect((error as RefusedError).exitCode).toBe(3);
  expect((error as Error).message).toMatch(pattern);
  return error as RefusedError;
}

async function failed(promise: Promise<unknown>): Promise<PhaseFailedError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the phase to fail');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PhaseFailedError);
  expect((error as PhaseFailedError).exitCode).toBe(1);
  return error as PhaseFailedError;
}

const ID1 = '20260101000001_add_label';
const ID2 = '20260101000002_add_score';
const ID3 = '20260101000003_add_rank';

/** A full four-section migration over items: name → label. */
const LABEL = `-- tandem:expand
ALTER TABLE items ADD COLUMN label VARCHAR(100);

-- tandem:backfill
UPDATE items SET label = name WHERE label IS NULL;

-- tandem:contract
ALTER TABLE items DROP COLUMN name;

-- tandem:rollback
ALTER TABLE items DROP COLUMN label;
INSERT INTO rollback_log (note) VALUES ('label rollback section');
`;

/** A migration adding one column, filling it with `value`, and marking its contract with a table. */
const addColumn = (column: string, value: number) => `-- tandem:expand
ALTER TABLE items ADD COLUMN ${column} INT;
-- tandem:backfill
UPDATE items SET ${column} = ${value};
-- tandem:contract
CREATE TABLE contracted_${column} (id INT);
-- tandem:rollback
ALTER TABLE items DROP COLUMN ${column};
`;

describe.each(ALL_KINDS)('runner state machine on %s', (kind) => {
  it('expand → backfill → contract; contract is refused while only expanded; rollback is refused after contract', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, LABEL);

    expect(await env.phaseOf(ID1)).toBe('pending');
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'name', 'label']);
    expect(await env.phaseOf(ID1)).toBe('expanded');
    expect((await env.t.ledger.get(ID1))?.state).toBe('expanded');

    const early = await refused(env.t.contract(), /contract refused for 20260101000001_add_label: it is expanded, and contract needs it backfilled/);
    expect(early.fix).toContain('tandem backfill');
    expect(early.place.file).toBe(env.file(ID1));
    expect(await env.columns('items')).toEqual(['id', 'name', 'label']); // nothing ran

    expect(await env.t.backfill()).toEqual({ phase: 'backfill', ran: [ID1] });
    expect(await env.q('SELECT label FROM items ORDER BY id')).toEqual([{ label: 'a' }, { label: 'b' }, { label: 'c' }]);
    expect(await env.phaseOf(ID1)).toBe('backfilled');

    // Commands with nothing to do are not errors.
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [] });
    expect(await env.t.backfill()).toEqual({ phase: 'backfill', ran: [] });

    expect(await env.t.contract()).toEqual({ phase: 'contract', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'label']);
    const [status] = await env.t.status();
    expect(status).toMatchObject({ id: ID1, phase: 'contracted', next: null, error: null, drift: [] });
    expect(await env.t.contract()).toEqual({ phase: 'contract', ran: [] });

    const after = await refused(env.t.rollback(ID1), /rollback refused for 20260101000001_add_label: it has been contracted/);
    expect(after.fix).toContain('new migration');
    // Without an id too: the latest migration is contracted, so there is nothing rollback may undo.
    await refused(env.t.rollback(), /contracted/);
    expect(await env.columns('items')).toEqual(['id', 'label']);
    expect(await env.q('SELECT note FROM rollback_log')).toEqual([]);
    expect(await env.phaseOf(ID1)).toBe('contracted');
  });

  it('rollback from expanded and from backfilled runs the rollback section; the migration can then expand again', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, LABEL);
    const log = async () => (await env.q<{ note: string }>('SELECT note FROM rollback_log')).map((row) => row.note);

    await env.t.expand();
    expect(await env.t.rollback(ID1)).toEqual({ phase: 'rollback', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'name']);
    expect(await log()).toEqual(['label rollback section']);
    expect(await env.phaseOf(ID1)).toBe('rolled_back');
    expect((await env.t.status())[0]?.next).toBe('tandem expand');

    // Re-expand after rollback, then roll back from backfilled.
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'name', 'label']);
    await env.t.backfill();
    expect(await env.phaseOf(ID1)).toBe('backfilled');
    expect(await env.t.rollback()).toEqual({ phase: 'rollback', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'name']);
    expect(await log()).toEqual(['label rollback section', 'label rollback section']);
    expect(await env.phaseOf(ID1)).toBe('rolled_back');

    // Nothing in flight any more.
    await refused(env.t.rollback(ID1), /it is rolled_back, so there is nothing to roll back/);
    expect(await env.t.rollback()).toEqual({ phase: 'rollback', ran: [] });

    // And it goes all the way the third time.
    await env.t.expand();
    await env.t.backfill();
    await env.t.contract();
    expect(await env.columns('items')).toEqual(['id', 'label']);
    expect(await env.phaseOf(ID1)).toBe('contracted');
  });

  it("rollback without a rollback section uses tandem's own undo of additive statements", async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(
      ID1,
      `-- tandem:expand
CREATE TABLE tags (id INT PRIMARY KEY, name VARCHAR(50));
ALTER TABLE items ADD COLUMN tag_id INT, ADD COLUMN tag_note VARCHAR(20);
CREATE INDEX items_tag_id ON items (tag_id);
-- tandem:backfill
UPDATE items SET tag_id = id;
`,
    );
    await env.t.expand();
    await env.t.backfill();
    expect(await env.tableExists('tags')).toBe(true);
    expect(await env.columns('items')).toEqual(['id', 'name', 'tag_id', 'tag_note']);

    expect(await env.t.rollback(ID1)).toEqual({ phase: 'rollback', ran: [ID1] });
    expect(await env.tableExists('tags')).toBe(false);
    expect(await env.columns('items')).toEqual(['id', 'name']);
    expect(await env.phaseOf(ID1)).toBe('rolled_back');
    // Everything was undone, index included: the same expand runs again without "already exists".
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'name', 'tag_id', 'tag_note']);
  });

  it('rollback without a rollback section refuses, naming the line, when a statement cannot be undone', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(
      ID1,
      `-- tandem:expand
ALTER TABLE items ADD COLUMN extra INT;

ALTER TABLE items DROP COLUMN name;
`,
    );
    await env.t.expand();
    const error = await refused(env.t.rollback(ID1), /rollback refused for 20260101000001_add_label: it has no rollback section, and tandem cannot undo "ALTER TABLE items DROP COLUMN name"/);
    expect(error.place).toEqual({ file: env.file(ID1), line: 4 });
    expect(error.fix).toContain('-- tandem:rollback');
    // Nothing was undone, not even the invertible first statement.
    expect(await env.columns('items')).toEqual(['id', 'extra']);
    expect(await env.phaseOf(ID1)).toBe('expanded');
    await refused(env.t.rollback(), /cannot undo/);
  });

  it('`rollback` of several migrations checks them all first: one it cannot undo means none is undone', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, '-- tandem:expand\nALTER TABLE items DROP COLUMN name;\n');
    env.write(ID2, addColumn('c2', 2));
    await env.t.expand();
    const error = await refused(env.t.rollback(), /rollback refused for 20260101000001_add_label: it has no rollback section/);
    expect(error.place).toEqual({ file: env.file(ID1), line: 2 });
    expect(await env.columns('items')).toEqual(['id', 'c2']);
    expect((await env.t.status()).map((s) => s.phase)).toEqual(['expanded', 'expanded']);
    // The newest alone can go.
    expect(await env.t.rollback(ID2)).toEqual({ phase: 'rollback', ran: [ID2] });
    expect(await env.columns('items')).toEqual(['id']);
  });

  it('several migrations in flight move together, in file order', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    // Written in reverse: file order, not creation order, decides.
    env.write(ID3, addColumn('c3', 3));
    env.write(ID2, addColumn('c2', 2));
    env.write(ID1, addColumn('c1', 1));

    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID1, ID2, ID3] });
    expect(await env.columns('items')).toEqual(['id', 'name', 'c1', 'c2', 'c3']);
    expect(await env.t.backfill()).toEqual({ phase: 'backfill', ran: [ID1, ID2, ID3] });
    expect(await env.q('SELECT c1, c2, c3 FROM items WHERE id = 2')).toEqual([{ c1: 1, c2: 2, c3: 3 }]);
    expect(await env.t.contract()).toEqual({ phase: 'contract', ran: [ID1, ID2, ID3] });
    for (const c of ['c1', 'c2', 'c3']) expect(await env.tableExists(`contracted_${c}`)).toBe(true);

    const events = await env.t.ledger.events();
    expect(events.map((e) => `${e.phase} ${e.migration_id}`)).toEqual(
      ['expand', 'backfill', 'contract'].flatMap((phase) => [ID1, ID2, ID3].map((id) => `${phase} ${id}`)),
    );
    expect((await env.t.status()).map((s) => s.phase)).toEqual(['contracted', 'contracted', 'contracted']);
  });

  it('a new migration joins while others are in flight; backfill leaves a pending one alone', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, addColumn('c1', 1));
    await env.t.expand();
    env.write(ID2, addColumn('c2', 2));
    // backfill moves the expanded one only; the new one is not its business yet.
    expect(await env.t.backfill()).toEqual({ phase: 'backfill', ran: [ID1] });
    expect(await env.phaseOf(ID2)).toBe('pending');
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID2] });
    // contract stops at the first migration that is not ready: ID1 contracts, ID2 (expanded) is refused.
    await refused(env.t.contract(), /contract refused for 20260101000002_add_score: it is expanded/);
    expect(await env.phaseOf(ID1)).toBe('contracted');
    expect(await env.phaseOf(ID2)).toBe('expanded');
  });

  it('a plain migration (no markers) moves through every phase', async (ctx) => {
    const env = await setup(kind, ctx);
    env.write(ID1, 'CREATE TABLE plain_t (id INT PRIMARY KEY);\nINSERT INTO plain_t (id) VALUES (1);\n');
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID1] });
    expect(await env.q('SELECT id FROM plain_t')).toEqual([{ id: 1 }]);
    const [status] = await env.t.status();
    expect(status).toMatchObject({ id: ID1, plain: true, phase: 'expanded', next: 'tandem backfill' });
    expect(await env.t.backfill()).toEqual({ phase: 'backfill', ran: [ID1] });
    expect(await env.phaseOf(ID1)).toBe('backfilled');
    expect(await env.t.contract()).toEqual({ phase: 'contract', ran: [ID1] });
    expect(await env.phaseOf(ID1)).toBe('contracted');
    // The INSERT ran once.
    expect(await env.q('SELECT id FROM plain_t')).toEqual([{ id: 1 }]);
  });

  it('`rollback ID` is refused while a later migration is in flight; `rollback` undoes newest first', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, addColumn('c1', 1));
    env.write(ID2, addColumn('c2', 2));
    await env.t.expand();

    const error = await refused(env.t.rollback(ID1), /rollback refused for 20260101000001_add_label: later migration\(s\) 20260101000002_add_score are still in flight/);
    expect(error.fix).toContain('tandem rollback');
    expect(await env.columns('items')).toEqual(['id', 'name', 'c1', 'c2']);

    // By prefix and by name too.
    await refused(env.t.rollback('add_label'), /later migration/);
    await refused(env.t.rollback('20260101'), /matches several migrations/);
    await refused(env.t.rollback('nope'), /no migration matches "nope"/);

    expect(await env.t.rollback()).toEqual({ phase: 'rollback', ran: [ID2, ID1] });
    expect(await env.columns('items')).toEqual(['id', 'name']);
    expect((await env.t.status()).map((s) => s.phase)).toEqual(['rolled_back', 'rolled_back']);
  });

  it('rollback ID of the newest in-flight migration leaves the earlier one alone', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, addColumn('c1', 1));
    env.write(ID2, addColumn('c2', 2));
    await env.t.expand();
    expect(await env.t.rollback(ID2)).toEqual({ phase: 'rollback', ran: [ID2] });
    expect(await env.columns('items')).toEqual(['id', 'name', 'c1']);
    expect((await env.t.status()).map((s) => s.phase)).toEqual(['expanded', 'rolled_back']);
  });
});

describe.each(ALL_KINDS)('checksum drift on %s', (kind) => {
  it('editing a phase that already ran refuses the next command, naming file and line; restoring it resolves', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, LABEL);
    await env.t.expand();

    env.write(ID1, LABEL.replace('label VARCHAR(100)', 'label VARCHAR(200)'));
    for (const command of [() => env.t.backfill(), () => env.t.expand(), () => env.t.contract(), () => env.t.rollback(), () => env.t.rollback(ID1)]) {
      const error = await refused(command(), /the expand section\(s\) changed after they ran \(checksum mismatch\)/);
      expect(error.message).toContain(env.file(ID1));
      expect(error.place).toEqual({ file: env.file(ID1), line: 1 });
      expect(error.fix).toContain('new migration');
    }
    const [status] = await env.t.status();
    expect(status?.drift).toEqual(['expand']);
    expect(await env.q('SELECT label FROM items WHERE id = 1')).toEqual([{ label: null }]); // backfill did not run

    // Comments and spacing are not drift: restoring the SQL (with a new comment) resolves it.
    env.write(ID1, LABEL.replace('-- tandem:expand\n', '-- tandem:expand\n-- reviewed\n'));
    expect(await env.t.backfill()).toEqual({ phase: 'backfill', ran: [ID1] });
  });

  it('drift in a later section names that section and its marker line', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, LABEL);
    await env.t.expand();
    await env.t.backfill();
    env.write(ID1, LABEL.replace('WHERE label IS NULL', ''));
    const error = await refused(env.t.contract(), /the backfill section\(s\) changed/);
    expect(error.place).toEqual({ file: env.file(ID1), line: 4 });
    expect(await env.columns('items')).toEqual(['id', 'name', 'label']);
  });

  it('repair records an edit of sections that ran, runs nothing, and the next commands go on', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, LABEL);
    await env.t.expand();
    await env.t.backfill();
    // Both ran sections edited (the rollback section, which has not run, too).
    env.write(ID1, LABEL.replace('label VARCHAR(100)', 'label VARCHAR(200)').replace('WHERE label IS NULL', '').replace("'label rollback section'", "'edited'"));
    const error = await refused(env.t.contract(), /the expand, backfill section\(s\) changed after they ran/);
    expect(error.fix).toContain(`tandem repair ${ID1}`);

    expect(await env.t.repair(ID1)).toEqual({ repaired: ['expand', 'backfill'] });
    expect((await env.t.status())[0]?.drift).toEqual([]);
    const events = (await env.t.ledger.events(ID1)).filter((e) => String(e.message ?? '').startsWith('repaired'));
    expect(events.map((e) => e.phase)).toEqual(['expand', 'backfill']);
    // Nothing ran again: the column kept its type of the first expand (a wider one would take 'x' * 150).
    const tooLong = 'x'.repeat(150);
    await expect(env.q(`UPDATE items SET label = '${tooLong}' WHERE id = 1`)).rejects.toThrow();
    expect(await env.t.contract()).toEqual({ phase: 'contract', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'label']);
    expect(await env.t.repair(ID1)).toEqual({ repaired: [] });
  });

  it('editing a phase that has not run yet is fine: the edited version runs', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, LABEL);
    await env.t.expand();
    const edited = LABEL.replace('SET label = name', "SET label = 'edited'").replace('DROP COLUMN name;', 'DROP COLUMN name;\nCREATE TABLE contract_marker (id INT);');
    env.write(ID1, edited);
    expect((await env.t.status())[0]?.drift).toEqual([]);
    await env.t.backfill();
    expect(await env.q('SELECT DISTINCT label FROM items')).toEqual([{ label: 'edited' }]);
    await env.t.contract();
    expect(await env.tableExists('contract_marker')).toBe(true);
  });

  it('after a rollback, the expand section may be edited before expanding again', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, LABEL);
    await env.t.expand();
    await env.t.rollback(ID1);
    env.write(ID1, LABEL.replace('label VARCHAR(100)', 'label VARCHAR(30)'));
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'name', 'label']);
  });
  it('after a rollback, a fixed rollback section does not block the next cycle', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, LABEL);
    await env.t.expand();
    await env.t.rollback(ID1);
    const fixed = LABEL.replace("'label rollback section'", "'fixed rollback section'");
    env.write(ID1, fixed);
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID1] });
    expect((await env.t.status())[0]?.drift).toEqual([]);
    expect(await env.t.rollback(ID1)).toEqual({ phase: 'rollback', ran: [ID1] });
    expect(await env.q('SELECT note FROM rollback_log')).toEqual([{ note: 'label rollback section' }, { note: 'fixed rollback section' }]);
  });
});

describe.each(ALL_KINDS)('a failing statement on %s', (kind) => {
  /** Three expand statements; the second names a table that does not exist. */
  const BROKEN = `-- tandem:expand
ALTER TABLE items ADD COLUMN a INT;
ALTER TABLE no_such_table ADD COLUMN b INT;
ALTER TABLE items ADD COLUMN c INT;
-- tandem:rollback
ALTER TABLE items DROP COLUMN c;
ALTER TABLE items DROP COLUMN b;
ALTER TABLE items DROP COLUMN a;
`;
  const FIXED = BROKEN.replace('no_such_table', 'items');

  async function failExpand(env: Env): Promise<PhaseFailedError> {
    await env.seed();
    env.write(ID1, BROKEN);
    const error = await failed(env.t.expand());
    expect(error.place).toEqual({ file: env.file(ID1), line: 3 });
    expect(error.message).toContain(`expand of ${ID1} failed at ${env.file(ID1)}:3`);
    expect(error.message).toMatch(/no_such_table/);
    expect(error.fix).toContain('tandem expand');
    return error;
  }

  async function expectFailedStatus(env: Env, statementsDone: number): Promise<void> {
    const row = await env.t.ledger.get(ID1);
    expect(row).toMatchObject({ state: 'pending', activePhase: 'expand', failed: true, errorLine: 3, statementsDone });
    expect(row?.error).toContain(`failed at ${env.file(ID1)}:3`);
    const [status] = await env.t.status();
    expect(status).toMatchObject({ id: ID1, phase: 'failed', activePhase: 'expand', errorLine: 3, statementsDone, statementsTotal: 3, running: false, interrupted: false });
    expect(status?.error).toMatch(/no_such_table/);
    expect(status?.next).toBe(`tandem expand (or tandem rollback ${ID1})`);
    const events = await env.t.ledger.events(ID1);
    expect(events.map((e) => e.outcome)).toEqual(['failed']);
    expect(String(events[0]?.message)).toContain('no_such_table');
  }

  it('the failure is recorded with its line; after fixing the file a rerun finishes the phase', async (ctx) => {
    const env = await setup(kind, ctx);
    const error = await failExpand(env);
    const mysqlKind = env.db.kind === 'mysql';
    if (!mysqlKind) {
      // PostgreSQL: the statements share one transaction, so nothing was applied.
      expect(error.message).toContain("nothing of it was applied (the failed step's transaction was rolled back)");
      expect(await env.columns('items')).toEqual(['id', 'name']);
      await expectFailedStatus(env, 0);
    } else {
      // MySQL: DDL commits at once; the ledger records that statement 1 is done.
      expect(error.message).toContain('1 of 3 statement(s) were applied and recorded');
      expect(await env.columns('items')).toEqual(['id', 'name', 'a']);
      await expectFailedStatus(env, 1);
    }
    // Later phases are refused until it is resolved.
    await refused(env.t.backfill(), /its expand did not finish/);

    env.write(ID1, FIXED);
    // On MySQL statement 1 would fail with "Duplicate column name 'a'" if it ran again.
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'name', 'a', 'b', 'c']);
    if (mysqlKind) expect(env.reporter.messages).toContain(`${ID1}: resuming expand after statement 1 of 3`);
    const row = await env.t.ledger.get(ID1);
    expect(row).toMatchObject({ state: 'expanded', activePhase: null, failed: false, error: null, errorLine: null, statementsDone: 0 });
    expect((await env.t.ledger.events(ID1)).map((e) => e.outcome)).toEqual(['failed', 'succeeded']);
    expect(await env.phaseOf(ID1)).toBe('expanded');
  });

  it('rollback after the failed expand undoes exactly what was applied', async (ctx) => {
    const env = await setup(kind, ctx);
    await failExpand(env);
    // The rollback section would fail here (column c does not exist): tandem must not run it.
    expect(await env.t.rollback(ID1)).toEqual({ phase: 'rollback', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'name']);
    expect(await env.phaseOf(ID1)).toBe('rolled_back');
    expect(await env.q('SELECT note FROM rollback_log')).toEqual([]);
    // And the fixed migration expands from scratch.
    env.write(ID1, FIXED);
    await env.t.expand();
    expect(await env.columns('items')).toEqual(['id', 'name', 'a', 'b', 'c']);
  });

  it('editing a statement that already ran in a partly-run phase is refused', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    // PostgreSQL is partly run only past a statement that runs outside a transaction.
    const mysqlKind = env.db.kind === 'mysql';
    const first = mysqlKind ? 'ALTER TABLE items ADD COLUMN a INT;' : 'ALTER TABLE items ADD COLUMN a INT;\nCREATE INDEX CONCURRENTLY items_a ON items (a);';
    const text = (firstSql: string, table: string) => `-- tandem:expand\n${firstSql}\nALTER TABLE ${table} ADD COLUMN b INT;\n`;
    env.write(ID1, text(first, 'no_such_table'));
    await failed(env.t.expand());
    const done = mysqlKind ? 1 : 2;
    expect((await env.t.ledger.get(ID1))?.statementsDone).toBe(done);

    env.write(ID1, text(first.replace('a INT', 'a BIGINT'), 'items'));
    const error = await refused(env.t.expand(), new RegExp(`the first ${done} statement\\(s\\) of the expand section already ran, and they were edited since`));
    expect(error.place).toEqual({ file: env.file(ID1), line: 2 });
    expect(await env.columns('items')).toEqual(['id', 'name', 'a']);

    // Restored, it continues after them.
    env.write(ID1, text(first, 'items'));
    await env.t.expand();
    expect(await env.columns('items')).toEqual(['id', 'name', 'a', 'b']);
  });
  it('a failed contract may be rolled back only when none of it was applied', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    const text = (table: string) => `-- tandem:expand
ALTER TABLE items ADD COLUMN label VARCHAR(100);
-- tandem:contract
ALTER TABLE items DROP COLUMN name;
ALTER TABLE ${table} ADD COLUMN x INT;
-- tandem:rollback
ALTER TABLE items DROP COLUMN label;
`;
    env.write(ID1, text('no_such_table'));
    await env.t.expand();
    await env.t.backfill();
    const error = await failed(env.t.contract());
    expect(error.place).toEqual({ file: env.file(ID1), line: 5 });
    expect(await env.phaseOf(ID1)).toBe('failed');
    if (env.db.kind !== 'mysql') {
      // Atomic: the old column is still there, so the old app still works and rollback is safe.
      expect(await env.columns('items')).toEqual(['id', 'name', 'label']);
      expect(await env.t.rollback(ID1)).toEqual({ phase: 'rollback', ran: [ID1] });
      expect(await env.columns('items')).toEqual(['id', 'name']);
      return;
    }
    // MySQL: statement 1 dropped the old column; there is no way back, only forward.
    expect(await env.columns('items')).toEqual(['id', 'label']);
    await refused(env.t.rollback(ID1), /has been contracted/);
    await refused(env.t.rollback(), /its contract already started/);
    env.write(ID1, text('items'));
    expect(await env.t.contract()).toEqual({ phase: 'contract', ran: [ID1] });
    expect(await env.columns('items')).toEqual(['id', 'label', 'x']);
    expect(await env.phaseOf(ID1)).toBe('contracted');
  });
});

describe.each(ALL_KINDS)('file order and missing files on %s', (kind) => {
  it('a pending migration that sorts before one that already ran is refused with a fix', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID2, addColumn('c2', 2));
    await env.t.expand();
    env.write(ID1, addColumn('c1', 1));

    const error = await refused(env.t.expand(), new RegExp(`${env.file(ID1)} is pending but sorts before ${ID2}, which has already run`));
    expect(error.place).toEqual({ file: env.file(ID1), line: 1 });
    expect(error.fix).toContain('rename it');
    expect(await env.columns('items')).toEqual(['id', 'name', 'c2']);

    // Renamed to a later version, it runs.
    env.remove(ID1);
    env.write('20260101000009_add_label', addColumn('c1', 1));
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: ['20260101000009_add_label'] });
  });

  it('versions run in number order on a fresh database (2_ before 10_, Flyway V3__ between), and a late one is refused', async (ctx) => {
    const env = await setup(kind, ctx);
    // 10_ needs the table 2_ creates: in text order it would run first and fail.
    env.write('10_add_body', 'ALTER TABLE notes ADD COLUMN body VARCHAR(20);');
    env.write('2_create_notes', 'CREATE TABLE notes (id INT PRIMARY KEY);');
    env.write('V3__add_title', 'ALTER TABLE notes ADD COLUMN title VARCHAR(20);');
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: ['2_create_notes', 'V3__add_title', '10_add_body'] });
    expect(await env.columns('notes')).toEqual(['id', 'title', 'body']);
    expect((await env.t.status()).map((s) => s.id)).toEqual(['2_create_notes', 'V3__add_title', '10_add_body']);

    // 9_ sorts before 10_, which has run (in text order it would sort after it and run).
    env.write('9_late', 'ALTER TABLE notes ADD COLUMN late INT;');
    await refused(env.t.expand(), new RegExp(`${env.file('9_late')} is pending but sorts before 10_add_body, which has already run`));
    env.remove('9_late');
    env.write('11_next', 'ALTER TABLE notes ADD COLUMN next_one INT;');
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: ['11_next'] });
  });

  it('a migration whose file was deleted while in flight refuses every phase command', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, LABEL);
    await env.t.expand();
    env.remove(ID1);
    for (const command of [() => env.t.expand(), () => env.t.backfill(), () => env.t.contract(), () => env.t.rollback()]) {
      const error = await refused(command(), new RegExp(`migration ${ID1} is expanded in the ledger, but its file is missing`));
      expect(error.fix).toContain(`${ID1}.sql`);
    }
    const [status] = await env.t.status();
    expect(status).toMatchObject({ id: ID1, file: null, phase: 'expanded', next: 'restore the missing migration file' });

    env.write(ID1, LABEL);
    expect(await env.t.backfill()).toEqual({ phase: 'backfill', ran: [ID1] });
  });

  it('once contracted, a missing file is only reported by status', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.seed();
    env.write(ID1, LABEL);
    await env.t.expand();
    await env.t.backfill();
    await env.t.contract();
    env.remove(ID1);
    env.write(ID2, addColumn('c2', 2));
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID2] });
    expect(await env.t.backfill()).toEqual({ phase: 'backfill', ran: [ID2] });
    expect(await env.t.rollback(ID2)).toEqual({ phase: 'rollback', ran: [ID2] });
    const statuses = await env.t.status();
    expect(statuses.map((s) => [s.id, s.phase, s.file === null])).toEqual([
      [ID1, 'contracted', true],
      [ID2, 'rolled_back', false],
    ]);
    expect(statuses[0]?.next).toBeNull();
  });
});

// ------------------------------------------------------------------------------------------------
// The runner lock: one runner per database.

/** Hold the runner lock on a raw connection, as another runner would; returns its id and a disconnect. */
async function holdRawLock(db: TestDatabase): Promise<{ id: number; disconnect(): Promise<void> }> {
  if (db.kind === 'postgres') {
    const client = new pg.Client({ connectionString: db.url });
    client.on('error', () => undefined);
    await client.connect();
    await client.query('SELECT pg_advisory_lock(1952542308, 1)'); // 0x74616e64 'tand', 1
    const pid = (client as unknown as { processID: number }).processID;
    // end() closes the session without pg_advisory_unlock: the server releases the lock with it.
    return { id: pid, disconnect: () => client.end() };
  }
  const conn = await mysql.createConnection({ uri: db.url });
  conn.on('error', () => undefined);
  const [rows] = await conn.query(`SELECT GET_LOCK(CONCAT('tandem:', DATABASE()), 0) AS ok`);
  expect(Number((rows as Array<{ ok: number }>)[0]?.ok)).toBe(1);
  return {
    id: conn.threadId,
    disconnect: async () => {
      conn.destroy(); // no RELEASE_LOCK, no COM_QUIT
    },
  };
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Another process that opens a PGlite directory through tandem's API and keeps it open. */
async function holdPgliteDir(url: string): Promise<ChildProcess> {
  const script = `
    import { createJiti } from 'jiti';
    const { connect } = await createJiti(import.meta.url).import(${JSON.stringify(path.join(REPO, 'src/index.ts'))});
    await connect({ url: ${JSON.stringify(url)}, migrations: [] });
    process.stdout.write('ready\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(async () => void child.kill('SIGKILL'));
  let output = '';
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk) => String(chunk).includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}: ${output}`)));
  });
  return child;
}

describe.each(ALL_KINDS)('baseline on %s', (kind) => {
  // Flyway-named history that another tool applied: V1 and V2 are in the schema, V3 is not.
  const V1 = 'V1__create_notes';
  const V2 = 'V2__add_title';
  const V3 = 'V3__add_body';
  const history = (env: Env) => {
    env.write(V1, 'CREATE TABLE notes (id INT PRIMARY KEY);\n');
    env.write(V2, 'ALTER TABLE notes ADD COLUMN title VARCHAR(20);\n');
    env.write(V3, 'ALTER TABLE notes ADD COLUMN body VARCHAR(20);\n');
  };

  it('records the migrations up to a version as contracted without running them; expand runs the rest', async (ctx) => {
    const env = await setup(kind, ctx);
    history(env);
    await env.q('CREATE TABLE notes (id INT PRIMARY KEY)');
    await env.q('ALTER TABLE notes ADD COLUMN title VARCHAR(20)');

    expect(await env.t.baseline('2')).toEqual({ baselined: [V1, V2] });
    expect((await env.t.status()).map((s) => [s.id, s.phase])).toEqual([
      [V1, 'contracted'],
      [V2, 'contracted'],
      [V3, 'pending'],
    ]);
    const events = await env.t.ledger.events(V2);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ phase: 'contract', outcome: 'succeeded', statements: 0, message: `baselined: recorded as applied without running it (tandem baseline ${V2})` });
    // Nothing ran: had V1 run, CREATE TABLE notes would have failed on the existing table.
    expect(await env.columns('notes')).toEqual(['id', 'title']);

    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [V3] });
    expect(await env.columns('notes')).toEqual(['id', 'title', 'body']);
    // Status tells the recorded ones from the one tandem ran.
    expect((await env.t.status()).map((s) => [s.id, s.phase, s.baselined])).toEqual([
      [V1, 'contracted', true],
      [V2, 'contracted', true],
      [V3, 'expanded', false],
    ]);

    // The recorded checksums guard the baselined files like any that ran.
    env.write(V1, 'CREATE TABLE notes (id BIGINT PRIMARY KEY);\n');
    await refused(env.t.contract(), new RegExp(`${env.file(V1)}: the expand section\\(s\\) changed after they ran`));
  });

  it('takes a name or an id as well; refuses an unknown version, and where tandem has run migrations', async (ctx) => {
    const env = await setup(kind, ctx);
    history(env);
    await refused(env.t.baseline('7'), /no migration matches "7"/);
    expect(await env.t.baseline('add_title')).toEqual({ baselined: [V1, V2] });
    const again = await refused(env.t.baseline(V3), new RegExp(`baseline refused: tandem has already run migrations on this database \\(${V1} is contracted\\)`));
    expect(again.fix).toContain('tandem expand');
    expect((await env.t.status()).map((s) => s.phase)).toEqual(['contracted', 'contracted', 'pending']);
  });
});

describe.each(ALL_KINDS)('runner lock on %s', (kind) => {
  it('a second runner waits waitSeconds, then is refused naming the holder; a holder that disconnects frees the lock', async (ctx) => {
    const env = await setup(kind, ctx, { pgliteDir: true, config: { waitSeconds: 1 } });
    await env.seed();
    env.write(ID1, LABEL);

    if (env.db.kind === 'pglite') {
      // One process per PGlite directory: the lock is taken when the database is opened.
      await env.t.close();
      const holder = await holdPgliteDir(env.db.url);
      const started = Date.now();
      const error = await refused(connect({ url: env.db.url, dir: env.dir, config: { ...CONFIG, waitSeconds: 1 } }), /another tandem runner has the embedded database .* open/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(error.message).toContain(`pid ${holder.pid}`);
      // Killed without closing anything: the lock file is stale and is taken over.
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
      const t = await connect({ url: env.db.url, dir: env.dir, config: { ...CONFIG, waitSeconds: 1 } });
      try {
        expect(await t.expand()).toEqual({ phase: 'expand', ran: [ID1] });
      } finally {
        await t.close();
      }
      return;
    }

    const holder = await holdRawLock(env.db);
    const started = Date.now();
    const error = await refused(env.t.expand(), /another tandem runner holds the lock on this database/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900); // it waited for waitSeconds
    expect(error.message).toContain(env.db.kind === 'postgres' ? `backend pid ${holder.id}` : `connection ${holder.id}`);
    expect(error.fix).toContain('waited 1 s');
    expect(await env.columns('items')).toEqual(['id', 'name']);
    expect((await env.t.ledger.all()).has(ID1)).toBe(false);

    await holder.disconnect();
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [ID1] });
    // Released after each command: the next one takes it again at once.
    expect(await env.t.backfill()).toEqual({ phase: 'backfill', ran: [ID1] });
  }, 180_000);

  it('a runner busy in a phase is named by command and holder; status meanwhile says running', async (ctx) => {
    const env = await setup(kind, ctx);
    if (env.db.kind === 'pglite') ctx.skip('PGlite: one process per database; covered by the directory lock test');
    await env.seed();
    const sleep = env.db.kind === 'postgres' ? 'SELECT pg_sleep(2)' : 'SELECT SLEEP(2)';
    env.write(ID1, `-- tandem:expand\nALTER TABLE items ADD COLUMN label VARCHAR(10);\n${sleep};\n`);

    const first = await connect({ url: env.db.url, dir: env.dir, config: CONFIG });
    cleanups.push(() => first.close());
    const running = first.expand();
    await waitFor(async () => (await env.t.status())[0]?.running === true, 'the first runner to start its expand');

    const [status] = await env.t.status();
    expect(status).toMatchObject({ phase: 'pending', activePhase: 'expand', running: true, interrupted: false, error: null, next: null });
    const error = await refused(env.t.expand(), /another tandem runner holds the lock on this database: tandem expand run by /);
    expect(error.message).toContain(first.session.actor);
    expect(error.fix).toContain('--wait');

    expect(await running).toEqual({ phase: 'expand', ran: [ID1] });
    expect(await env.t.expand()).toEqual({ phase: 'expand', ran: [] });
    expect(await env.phaseOf(ID1)).toBe('expanded');
  });
});

describe.each(['postgres', 'pglite'] as const)('parallel workers of tandem\'s own statements on %s', (kind) => {
  /** The two settings as a migration's own statement sees them (the runner's session). */
  async function seenByMigration(env: Env): Promise<{ gather: string; maintenance: string }> {
    env.write(ID1, "CREATE TABLE seen AS SELECT current_setting('max_parallel_workers_per_gather') AS gather, current_setting('max_parallel_maintenance_workers') AS maintenance;\n");
    await env.t.expand();
    const [row] = await env.q<{ gather: string; maintenance: string }>('SELECT gather, maintenance FROM seen');
    return row!;
  }

  it('default 0: a NULL check or index build of tandem takes one core, not every one', async (ctx) => {
    const env = await setup(kind, ctx, { config: {} });
    expect(await seenByMigration(env)).toEqual({ gather: '0', maintenance: '0' });
  });

  it('parallelWorkers: 3 allows three; null leaves the server\'s settings', async (ctx) => {
    const three = await setup(kind, ctx, { config: { parallelWorkers: 3 } });
    expect(await seenByMigration(three)).toEqual({ gather: '3', maintenance: '3' });
    if (three.db.kind === 'pglite') return; // PGlite has no server defaults of its own to compare with
    const server = await setup(kind, ctx, { config: { parallelWorkers: null } });
    const plain = new pg.Client({ connectionString: server.db.url });
    await plain.connect();
    try {
      const defaults = (await plain.query("SELECT current_setting('max_parallel_workers_per_gather') AS gather, current_setting('max_parallel_maintenance_workers') AS maintenance")).rows[0];
      expect(await seenByMigration(server)).toEqual(defaults);
      expect(defaults.gather).not.toBe('0'); // else this would not tell null from 0
    } finally {
      await plain.end();
    }
  });
});
