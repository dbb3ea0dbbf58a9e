/**
 * Version schemas (PostgreSQL, `versionSchemas: true`): the new app version reads and writes through
 * views in `<base>_<migration id>`, whose row types never change under its named prepared
 * statements, across expand → backfill → contract. On a PostgreSQL server (node-pg named prepared
 * statements, one connection per app) and PGlite (SQL PREPARE/EXECUTE on its one connection, which
 * fail the same way); MySQL only for the refusal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import pg from 'pg';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import { parseConfigText } from '../../src/config/load-config.js';
import { renderPlan } from '../../src/cli/commands/plan.js';
import { statusJson } from '../../src/cli/commands/status.js';
import { collectingReporter, connect, PhaseFailedError, Runner, silentReporter, UsageError, versionSchemaName, type Phase, type Tandem, type TandemConfigInput } from '../../src/index.js';
import { PHASES, statementsOf } from '../../src/migrations/model.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const CONFIG: TandemConfigInput = {
  waitSeconds: 5,
  lockTimeoutMs: 500,
  blockingLockTimeoutMs: 50,
  retries: { count: 2, initialDelayMs: 20, maxDelayMs: 50 },
  backfill: { targetBatchMs: 50, initialBatchSize: 10, minBatchSize: 5, maxBatchSize: 20, pauseMs: 0 },
  versionSchemas: true,
};

const S0 = '20260101000000_s0';
const M1 = '20260102000000_m1';
const M2 = '20260103000000_m2';
const M3 = '20260104000000_m3';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

interface Env {
  db: TestDatabase;
  t: Tandem;
  dir: string;
  reporter: ReturnType<typeof collectingReporter>;
  write(id: string, text: string, ext?: 'sql' | 'json'): void;
  q<T = Record<string, unknown>>(sql: string, bindings?: unknown[]): Promise<T[]>;
  /** Columns of a relation in a schema, in order, with their types. */
  columns(schema: string, table: string): Promise<string[]>;
  views(schema: string): Promise<string[]>;
  schemaExists(schema: string): Promise<boolean>;
  /** An app connection; `schema` given: it reads through that version schema. */
  app(schema?: string): Promise<App>;
  /** S0 written and taken through all phases. */
  history(sql: string): Promise<void>;
  all(): Promise<void>;
}

async function setup(kind: 'postgres' | 'pglite', ctx: TestContext, config: TandemConfigInput = {}): Promise<Env> {
  const db = await createTestDatabase(kind, `vs_${kind}`);
  if (!db) ctx.skip(`${kind} unavailable`);
  cleanups.push(() => db!.drop());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-vs-'));
  cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
  const reporter = collectingReporter();
  const t = await connect({ url: db!.url, dir, config: { ...CONFIG, ...config }, reporter });
  cleanups.push(() => t.close());
  const q = async <T,>(sql: string, bindings: unknown[] = []): Promise<T[]> => t.session.adapter.rows<T>(await t.session.db.raw(sql, bindings as never[]));
  const env: Env = {
    db: db!,
    t,
    dir,
    reporter,
    write: (id, text, ext = 'sql') => fs.writeFileSync(path.join(dir, `${id}.${ext}`), text),
    q,
    columns: async (schema, table) =>
      (
        await q<{ c: string }>(
          `SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) AS c FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ? AND c.relname = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
          [schema, table],
        )
      ).map((row) => row.c),
    views: async (schema) => (await q<{ v: string }>(`SELECT c.relname AS v FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind = 'v' ORDER BY 1`, [schema])).map((row) => row.v),
    schemaExists: async (schema) => (await q(`SELECT 1 FROM pg_namespace WHERE nspname = ?`, [schema])).length > 0,
    app: async (schema) => {
      const app = db!.kind === 'pglite' ? new SharedConnectionApp(t.session.db, schema) : await ServerApp.open(db!.url, schema);
      cleanups.push(() => app.close());
      return app;
    },
    history: async (sql) => {
      env.write(S0, sql);
      await env.all();
    },
    all: async () => {
      await t.expand();
      await t.backfill();
      await t.contract();
    },
  };
  return env;
}

// ------------------------------------------------------------------------------------------------
// App clients with named prepared statements. Every failure is kept, so a step can assert none.

interface App {
  errors: string[];
  /** Run a named prepared statement (prepared on first use, as node-pg does); [] when it failed. */
  run(name: string, text: string, values?: Array<string | number>): Promise<Array<Record<string, unknown>>>;
  /** The first error's SQLSTATE. */
  codes: string[];
  close(): Promise<void>;
}

/** A PostgreSQL server connection of its own: node-pg `{ name, text, values }`, prepared once per connection. */
class ServerApp implements App {
  errors: string[] = [];
  codes: string[] = [];
  private constructor(private readonly client: pg.Client) {}

  static async open(url: string, schema?: string): Promise<ServerApp> {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    if (schema) await client.query(`SET search_path TO "${schema}", public`);
    return new ServerApp(client);
  }

  async run(name: string, text: string, values: Array<string | number> = []) {
    try {
      return (await this.client.query({ name, text, values })).rows;
    } catch (error) {
      this.errors.push(`${name}: ${(error as Error).message}`);
      this.codes.push((error as { code?: string }).code ?? '?');
      return [];
    }
  }

  async close() {
    await this.client.end().catch(() => undefined);
  }
}

/**
 * PGlite has one connection, shared with tandem: SQL PREPARE/EXECUTE (the same cached-plan check as
 * the protocol's named statements), with the app's search_path set only around its own statements.
 */
class SharedConnectionApp implements App {
  errors: string[] = [];
  codes: string[] = [];
  private readonly prepared = new Set<string>();
  constructor(
    private readonly db: Knex,
    private readonly schema?: string,
  ) {}

  async run(name: string, text: string, values: Array<string | number> = []) {
    try {
      if (this.schema) await this.db.raw(`SET search_path TO "${this.schema}", public`);
      if (!this.prepared.has(name)) {
        await this.db.raw(`PREPARE ${name} AS ${text}`);
        this.prepared.add(name);
      }
      const args = values.map((v) => (typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`));
      const result = await this.db.raw(`EXECUTE ${name}${args.length ? `(${args.join(', ')})` : ''}`);
      return (result as { rows: Array<Record<string, unknown>> }).rows;
    } catch (error) {
      this.errors.push(`${name}: ${(error as Error).message}`);
      this.codes.push((error as { code?: string }).code ?? '?');
      return [];
    } finally {
      if (this.schema) await this.db.raw('SET search_path TO DEFAULT');
    }
  }

  async close() {
    for (const name of this.prepared) await this.db.raw(`DEALLOCATE ${name}`).catch(() => undefined);
  }
}

const ITEMS = `CREATE TABLE items (id serial PRIMARY KEY, amount int NOT NULL DEFAULT 0, note text);
INSERT INTO items (amount, note) SELECT g, 'n' || g FROM generate_series(1, 30) g;
CREATE TABLE other (id int PRIMARY KEY, label text);
`;

const WIDEN = JSON.stringify({ operations: [{ alterColumn: { table: 'items', column: 'amount', type: 'bigint' } }] });

/** What `tandem plan` compiles for each pending migration, without running anything. */
async function planOf(env: Env): Promise<Array<{ id: string; phases: Record<Phase, Array<{ sql: string }>> }>> {
  const migrations = env.t.migrations();
  const runner = new Runner(env.t.session, migrations, silentReporter);
  const rows = await env.t.ledger.all();
  const plans = [];
  for (const migration of migrations.filter((m) => !rows.has(m.id))) {
    await runner.prepare(migration, undefined, false);
    plans.push({ id: migration.id, phases: Object.fromEntries(PHASES.map((phase) => [phase, statementsOf(migration, phase)])) as unknown as Record<Phase, Array<{ sql: string }>> });
  }
  return plans;
}

/** Values as text: node-pg returns bigint as a string, PGlite as a number. */
function text(row: Record<string, unknown> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(row ?? {}).map(([key, value]) => [key, String(value)]));
}

/** The old app: explicit columns on the base table. */
async function oldAppWorks(app: App, id: number): Promise<void> {
  const [row] = await app.run('old_get', 'SELECT id, amount, note FROM items WHERE id = $1', [id]);
  expect(row).toBeDefined();
  await app.run('old_upd', 'UPDATE items SET amount = $2 WHERE id = $1', [id, 500 + id]);
  await app.run('old_ins', 'INSERT INTO items (amount, note) VALUES ($1, $2) RETURNING id', [7, 'old']);
}

/** The new app: SELECT * and explicit columns, inserts (with and without amount) and updates, all through the views. */
async function newAppWorks(app: App, id: number): Promise<Array<Record<string, unknown>>> {
  const star = await app.run('new_star', 'SELECT * FROM items WHERE id = $1', [id]);
  await app.run('new_get', 'SELECT id, amount, pg_typeof(amount)::text AS type FROM items WHERE id = $1', [id]);
  await app.run('new_upd', 'UPDATE items SET amount = $2 WHERE id = $1', [id, 900 + id]);
  await app.run('new_ins', 'INSERT INTO items (amount, note) VALUES ($1, $2) RETURNING id, amount', [8, 'new']);
  await app.run('new_ins_defaults', "INSERT INTO items (note) VALUES ('defaults') RETURNING id, amount");
  return star;
}

describe.each(['postgres', 'pglite'] as const)('version schemas on %s', (kind) => {
  it('a type change: named prepared statements of both apps never fail, and without version schemas the new app\'s do', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(ITEMS);
    const schema = versionSchemaName('public', M1);
    const old = await env.app();
    await oldAppWorks(old, 1);

    env.write(M1, WIDEN, 'json');
    await env.t.expand();
    expect(await env.columns(schema, 'items')).toEqual(['id integer', 'amount bigint', 'note text']);
    await oldAppWorks(old, 2);
    await env.t.backfill();
    await oldAppWorks(old, 3);

    // The new app starts between backfill and contract, reading through its version schema.
    expect(await env.t.versionSchema()).toMatchObject({ migration: M1, schema, searchPath: `SET search_path TO ${schema}, public`, connectionOption: `options=-c search_path=${schema},public` });
    const fresh = await env.app(schema);
    const before = await newAppWorks(fresh, 4);
    expect(before[0]).toMatchObject({ id: 4, note: 'n4' });
    expect(Object.keys(before[0]!)).toEqual(['id', 'amount', 'note']);
    // Writes cross over both ways through the shims.
    await old.run('old_upd', 'UPDATE items SET amount = $2 WHERE id = $1', [5, 555]);
    expect(text((await fresh.run('new_get', 'SELECT id, amount, pg_typeof(amount)::text AS type FROM items WHERE id = $1', [5]))[0])).toMatchObject({ amount: '555', type: 'bigint' });
    await fresh.run('new_upd', 'UPDATE items SET amount = $2 WHERE id = $1', [6, 666]);
    expect((await old.run('old_get', 'SELECT id, amount, note FROM items WHERE id = $1', [6]))[0]).toMatchObject({ amount: 666 });
    const [inserted] = await fresh.run('new_ins_defaults', "INSERT INTO items (note) VALUES ('defaults') RETURNING id, amount");
    expect(text(inserted)).toMatchObject({ amount: '0' });
    expect(Number(inserted!.id)).toBeGreaterThan(30);
    expect(old.errors).toEqual([]);
    expect(fresh.errors).toEqual([]);

    // The old app is retired; contract swaps the twin in under the new app's prepared statements.
    await env.t.contract();
    expect(await env.columns('public', 'items')).toEqual(['id integer', 'note text', 'amount bigint']);
    expect(await env.columns(schema, 'items')).toEqual(['id integer', 'amount bigint', 'note text']);
    const after = await newAppWorks(fresh, 7);
    expect(text(after[0])).toMatchObject({ id: '7', amount: '7', note: 'n7' });
    expect(text((await fresh.run('new_get', 'SELECT id, amount, pg_typeof(amount)::text AS type FROM items WHERE id = $1', [7]))[0])).toMatchObject({ amount: '907', type: 'bigint' });
    const [big] = await fresh.run('new_ins', 'INSERT INTO items (amount, note) VALUES ($1, $2) RETURNING id, amount', [5_000_000_000, 'big']);
    expect(text(big)).toMatchObject({ amount: '5000000000' });
    expect(fresh.errors).toEqual([]);
    expect(await env.schemaExists(schema)).toBe(true);

    // The same new app on the base tables, without version schemas: its statement fails after contract.
    const plain = await setup(kind, ctx, { versionSchemas: false });
    await plain.history(ITEMS);
    plain.write(M1, WIDEN, 'json');
    await plain.t.expand();
    await plain.t.backfill();
    expect(await plain.schemaExists(schema)).toBe(false);
    expect(await plain.t.versionSchema()).toBeNull();
    const unprotected = await plain.app();
    await unprotected.run('new_get', 'SELECT id, amount FROM items WHERE id = $1', [4]);
    expect(unprotected.errors).toEqual([]);
    await plain.t.contract();
    await unprotected.run('new_get', 'SELECT id, amount FROM items WHERE id = $1', [4]);
    expect(unprotected.errors).toEqual([expect.stringMatching(/cached plan must not change result type/)]);
    expect(unprotected.codes).toEqual(['0A000']);
  });

  it('an identity key to bigint: both apps insert without naming the key, through the views too, before and after contract', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(`CREATE TABLE orders (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
INSERT INTO orders (note) SELECT 'o' || g FROM generate_series(1, 30) g;`);
    const schema = versionSchemaName('public', M1);
    const old = await env.app();
    env.write(M1, JSON.stringify({ operations: [{ alterColumn: { table: 'orders', column: 'id', type: 'bigint' } }] }), 'json');
    const insert = 'INSERT INTO orders (note) VALUES ($1) RETURNING id, pg_typeof(id)::text AS type';
    await env.t.expand();
    expect((await old.run('old_ins', insert, ['old, expand']))[0]).toEqual({ id: 31, type: 'integer' });
    await env.t.backfill();
    const fresh = await env.app(schema);
    expect(text((await fresh.run('new_ins', insert, ['new, backfill']))[0])).toEqual({ id: '32', type: 'bigint' });
    await env.t.contract();
    expect(text((await fresh.run('new_ins', insert, ['new, contract']))[0])).toEqual({ id: '33', type: 'bigint' });
    expect(await env.q(`SELECT attidentity AS identity, pg_get_serial_sequence('orders', 'id') AS sequence FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'id'`)).toEqual([{ identity: 'a', sequence: 'public.orders_id_seq' }]);
    expect(old.errors).toEqual([]);
    expect(fresh.errors).toEqual([]);
  });

  it('renameColumn of a primary key that another table references: the views rename it, contract renames it in the catalog; the key and the reference follow', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(`CREATE TABLE orders (id serial PRIMARY KEY, note text);
CREATE TABLE lines (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders (id));
INSERT INTO orders (note) SELECT 'o' || g FROM generate_series(1, 30) g;`);
    const schema = versionSchemaName('public', M1);
    const old = await env.app();
    env.write(M1, JSON.stringify({ operations: [{ renameColumn: { table: 'orders', from: 'id', to: 'order_no' } }] }), 'json');
    await env.t.expand();
    expect(await old.run('old_ins', 'INSERT INTO orders (note) VALUES ($1) RETURNING id', ['old, expand'])).toEqual([{ id: 31 }]);
    await env.t.backfill();
    const fresh = await env.app(schema);
    expect(await fresh.run('new_ins', 'INSERT INTO orders (note) VALUES ($1) RETURNING order_no', ['new, backfill'])).toEqual([{ order_no: 32 }]);
    await env.t.contract();
    expect(await fresh.run('new_ins', 'INSERT INTO orders (note) VALUES ($1) RETURNING order_no', ['new, contract'])).toEqual([{ order_no: 33 }]);
    expect(await fresh.run('new_get', 'SELECT order_no, note FROM orders WHERE order_no = $1', [31])).toEqual([{ order_no: 31, note: 'old, expand' }]);
    expect(await env.q(`SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid IN ('orders'::regclass, 'lines'::regclass) AND contype IN ('p', 'f') ORDER BY conname`)).toEqual([
      { conname: 'lines_order_id_fkey', def: 'FOREIGN KEY (order_id) REFERENCES orders(order_no)' },
      { conname: 'lines_pkey', def: 'PRIMARY KEY (id)' },
      { conname: 'orders_pkey', def: 'PRIMARY KEY (order_no)' },
    ]);
    expect(old.errors).toEqual([]);
    expect(fresh.errors).toEqual([]);
  });

  it('renameColumn, dropColumn, addColumn and the table operations shape the views; they survive contract', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(`CREATE TABLE users (id serial PRIMARY KEY, nickname text NOT NULL, legacy text NOT NULL, email text);
INSERT INTO users (nickname, legacy, email) VALUES ('a', 'l', 'a@x'), ('b', 'l', 'b@x');
CREATE TABLE old_things (id int PRIMARY KEY, label text);
CREATE TABLE junk (id int PRIMARY KEY);
`);
    env.write(
      M1,
      JSON.stringify({
        operations: [
          { renameColumn: { table: 'users', from: 'nickname', to: 'handle' } },
          { dropColumn: { table: 'users', column: 'legacy', down: "'gone'" } },
          { addColumn: { table: 'users', column: { name: 'age', type: 'int', nullable: true } } },
          { createTable: { table: 'tags', columns: [{ name: 'id', type: 'int', primaryKey: true }, { name: 'name', type: 'text', nullable: true }] } },
          { renameTable: { from: 'old_things', to: 'things' } },
          { dropTable: { table: 'junk' } },
        ],
      }),
      'json',
    );
    const schema = versionSchemaName('public', M1);
    await env.t.expand();
    expect(await env.views(schema)).toEqual(['tags', 'things', 'users']);
    // The rename is the view's: handle stands where nickname stands in the table.
    expect(await env.columns(schema, 'users')).toEqual(['id integer', 'handle text', 'email text', 'age integer']);
    expect(await env.columns(schema, 'things')).toEqual(['id integer', 'label text']);
    await env.t.backfill();

    const fresh = await env.app(schema);
    const [row] = await fresh.run('ins', "INSERT INTO users (handle, email, age) VALUES ('c', 'c@x', 3) RETURNING *");
    expect(row).toMatchObject({ email: 'c@x', handle: 'c', age: 3 });
    expect((await env.q(`SELECT nickname, legacy FROM users WHERE id = ?`, [row!.id]))[0]).toEqual({ nickname: 'c', legacy: 'gone' });
    await fresh.run('things', "INSERT INTO things (id, label) VALUES (1, 'via view') RETURNING *");
    expect(await env.q('SELECT label FROM old_things')).toEqual([{ label: 'via view' }]);
    const star = await fresh.run('users_star', 'SELECT * FROM users WHERE id = $1', [1]);
    expect(star).toEqual([{ id: 1, handle: 'a', email: 'a@x', age: null }]);

    await env.t.contract();
    expect(await env.columns('public', 'users')).toEqual(['id integer', 'handle text', 'email text', 'age integer']);
    expect(await env.columns(schema, 'users')).toEqual(['id integer', 'handle text', 'email text', 'age integer']);
    expect(await env.views(schema)).toEqual(['tags', 'things', 'users']);
    expect(await fresh.run('users_star', 'SELECT * FROM users WHERE id = $1', [1])).toEqual(star);
    await fresh.run('things_all', 'SELECT * FROM things ORDER BY id');
    expect(fresh.errors).toEqual([]);
  });

  it('renameColumn through the views: nothing copied, both apps write the one column, contract renames it under the new app\'s prepared statements', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(`${ITEMS}CREATE UNIQUE INDEX items_note ON items (note);
ALTER TABLE items ALTER COLUMN note SET NOT NULL;
`);
    const schema = versionSchemaName('public', M1);
    const old = await env.app();
    await old.run('old_get', 'SELECT id, note FROM items WHERE id = $1', [1]);
    env.write(M1, JSON.stringify({ operations: [{ renameColumn: { table: 'items', from: 'note', to: 'memo' } }] }), 'json');
    const plan = (await planOf(env))[0]!;
    expect(plan.phases.expand).toEqual([]);
    expect(plan.phases.backfill).toEqual([]);
    expect(plan.phases.contract.map((s) => s.sql)).toEqual(['ALTER TABLE "items" RENAME COLUMN "note" TO "memo"']);

    await env.t.expand();
    // The table is as it was; the new app's view shows note as memo, in its place.
    expect(await env.columns('public', 'items')).toEqual(['id integer', 'amount integer', 'note text']);
    expect(await env.columns(schema, 'items')).toEqual(['id integer', 'amount integer', 'memo text']);
    await env.t.backfill();
    const fresh = await env.app(schema);
    // Writes of either app are the other's at once: one column, no shim.
    const [inserted] = await fresh.run('new_ins', 'INSERT INTO items (amount, memo) VALUES ($1, $2) RETURNING *', [1, 'from new']);
    expect(inserted).toMatchObject({ amount: 1, memo: 'from new' });
    expect((await old.run('old_get', 'SELECT id, note FROM items WHERE id = $1', [inserted!.id as number]))[0]).toMatchObject({ note: 'from new' });
    await old.run('old_upd', 'UPDATE items SET note = $2 WHERE id = $1', [2, 'from old']);
    expect(await fresh.run('new_get', 'SELECT id, memo FROM items WHERE id = $1', [2])).toEqual([{ id: 2, memo: 'from old' }]);
    // The column keeps its NOT NULL and its unique index, for the new app's writes too.
    await fresh.run('new_null', 'INSERT INTO items (amount) VALUES (1)');
    await fresh.run('new_dup', 'UPDATE items SET memo = $2 WHERE id = $1', [3, 'from old']);
    expect(fresh.codes).toEqual(['23502', '23505']);
    fresh.errors.length = fresh.codes.length = 0;

    await env.t.contract();
    expect(await env.columns('public', 'items')).toEqual(['id integer', 'amount integer', 'memo text']);
    expect(await env.columns(schema, 'items')).toEqual(['id integer', 'amount integer', 'memo text']);
    expect(await env.q(`SELECT indexdef FROM pg_indexes WHERE indexname = 'items_note'`)).toEqual([{ indexdef: 'CREATE UNIQUE INDEX items_note ON public.items USING btree (memo)' }]);
    // The new app's prepared statements keep their result type: the view did not change.
    expect(await fresh.run('new_get', 'SELECT id, memo FROM items WHERE id = $1', [2])).toEqual([{ id: 2, memo: 'from old' }]);
    await fresh.run('new_ins', 'INSERT INTO items (amount, memo) VALUES ($1, $2) RETURNING *', [2, 'after contract']);
    expect(fresh.errors).toEqual([]);
    expect(old.errors).toEqual([]);
  });

  it('renameColumn through the views: a later operation on either name in the same migration is refused, and in the next migration until the rename contracts', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(ITEMS);
    env.write(M1, JSON.stringify({ operations: [{ renameColumn: { table: 'items', from: 'note', to: 'memo' } }, { alterColumn: { table: 'items', column: 'memo', type: 'varchar(100)' } }] }), 'json');
    await expect(env.t.expand()).rejects.toThrow(/operation 1 \(alterColumn\): column items\.note is renamed to memo by an earlier operation of this migration, through the version schema's views; the table itself takes the new name at contract: change the column in a later migration/);
    expect(await env.columns('public', 'items')).toEqual(['id integer', 'amount integer', 'note text']);
    env.write(M1, JSON.stringify({ operations: [{ renameColumn: { table: 'items', from: 'note', to: 'memo' } }] }), 'json');
    env.write(M2, JSON.stringify({ operations: [{ addColumn: { table: 'other', column: { name: 'flag', type: 'boolean' } } }, { alterColumn: { table: 'items', column: 'memo', type: 'varchar(100)' } }] }), 'json');
    // The plan of both compiles them as expand runs them: the second after the first's expand, while
    // the rename is in flight, so it is refused as expand refuses it.
    const inFlight = new RegExp(`column items\\.memo is the new name of items\\.note, which migration ${M1} \\(in flight\\) gives it through the version schema's views; the table takes that name when ${M1} contracts: run tandem contract first`);
    await expect(planOf(env)).rejects.toThrow(inFlight);
    const planText = await renderPlan(new Runner(env.t.session, env.t.migrations(), silentReporter), env.t.migrations(), await env.t.ledger.all());
    expect(planText).toMatch(new RegExp(`-- ${M2}  \\[pending\\].*\\n.*tandem expand refuses it after the migrations before it: operation 1 \\(alterColumn\\): column items\\.memo is the new name`));
    expect(planText).toContain('expand this migration after the rename has contracted (tandem contract), in a later deploy');
    // A later migration is planned on: nothing of the refused one (its claim on other.flag) carries over.
    env.write(M3, JSON.stringify({ operations: [{ alterColumn: { table: 'other', column: 'flag', default: 'false' } }] }), 'json');
    const withM3 = await renderPlan(new Runner(env.t.session, env.t.migrations(), silentReporter), env.t.migrations(), await env.t.ledger.all());
    expect(withM3).toMatch(new RegExp(`-- ${M3}  \\[pending\\][^\\n]*\\n-- expand\\n`));
    expect(withM3).toMatch(/ALTER TABLE "other" ALTER COLUMN "flag" SET DEFAULT false/);
    fs.rmSync(path.join(env.dir, `${M3}.json`));
    await expect(env.t.expand()).rejects.toThrow(inFlight);
    expect((await env.t.status()).map((m) => [m.id, m.phase])).toEqual([[S0, 'contracted'], [M1, 'expanded'], [M2, 'pending']]);
    await env.t.backfill();
    await env.t.contract();
    await env.t.expand();
    expect(await env.columns(versionSchemaName('public', M2), 'items')).toEqual(['id integer', 'amount integer', 'memo character varying(100)']);
  });

  it('rollback drops the version schema and leaves S0', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(ITEMS);
    const s0 = await env.columns('public', 'items');
    env.write(M1, JSON.stringify({ operations: [{ alterColumn: { table: 'items', column: 'amount', type: 'bigint' } }, { renameColumn: { table: 'other', from: 'label', to: 'title' } }] }), 'json');
    await env.t.expand();
    const schema = versionSchemaName('public', M1);
    expect(await env.columns(schema, 'other')).toEqual(['id integer', 'title text']);
    await env.t.rollback(M1);
    expect(await env.schemaExists(schema)).toBe(false);
    expect(await env.columns('public', 'items')).toEqual(s0);
    expect(await env.columns('public', 'other')).toEqual(['id integer', 'label text']);
    // The app is back at the version before: S0's schema (history expanded it too).
    expect(await env.t.versionSchema()).toMatchObject({ migration: S0, schema: versionSchemaName('public', S0) });
    // Expanded anew, it gets its schema again.
    await env.t.expand();
    expect(await env.columns(schema, 'items')).toEqual(['id integer', 'amount bigint', 'note text']);
  });

  it('the next migration\'s contract drops the earlier version schema; its own composes the in-flight one', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(ITEMS);
    const s1 = versionSchemaName('public', M1);
    const s2 = versionSchemaName('public', M2);
    env.write(M1, WIDEN, 'json');
    await env.t.expand();
    // M2 expands while M1 is still in flight: its views show M1's new shape too.
    env.write(M2, JSON.stringify({ operations: [{ renameColumn: { table: 'other', from: 'label', to: 'title' } }] }), 'json');
    await env.t.expand();
    expect(await env.columns(s2, 'items')).toEqual(['id integer', 'amount bigint', 'note text']);
    expect(await env.columns(s2, 'other')).toEqual(['id integer', 'title text']);
    expect(await env.columns(s1, 'other')).toEqual(['id integer', 'label text']);
    const m1App = await env.app(s1);
    const m2App = await env.app(s2);
    await env.t.backfill();
    await m2App.run('get', 'SELECT * FROM items WHERE id = $1', [1]);
    // Contract of M1 drops nothing earlier; M2's views do not stand in its way.
    await env.t.contract();
    expect(await env.schemaExists(s1)).toBe(false);
    expect(await env.schemaExists(s2)).toBe(true);
    expect(await env.t.versionSchema()).toMatchObject({ migration: M2, schema: s2 });
    await m2App.run('get', 'SELECT * FROM items WHERE id = $1', [1]);
    expect(m2App.errors).toEqual([]);
    await m1App.close();
    expect(env.reporter.messages.some((m) => m.includes(`dropped the version schema(s) of earlier migrations: ${s1}`))).toBe(true);
    expect(JSON.parse(statusJson(await env.t.status(), 'db', await env.t.versionSchema())).versionSchema).toMatchObject({ schema: s2 });
  });

  it('a SQL migration whose contract drops a column: its views are rebuilt around the contract', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(ITEMS);
    env.write(M1, `-- tandem:expand
ALTER TABLE items ADD COLUMN memo text;
-- tandem:backfill
UPDATE items SET memo = note WHERE memo IS NULL;
-- tandem:contract
ALTER TABLE items DROP COLUMN note;
-- tandem:rollback
ALTER TABLE items DROP COLUMN memo;
`);
    const schema = versionSchemaName('public', M1);
    await env.t.expand();
    expect(await env.columns(schema, 'items')).toEqual(['id integer', 'amount integer', 'note text', 'memo text']);
    await env.t.backfill();
    await env.t.contract();
    expect(await env.columns(schema, 'items')).toEqual(['id integer', 'amount integer', 'memo text']);
    expect(await env.columns(schema, 'other')).toEqual(['id integer', 'label text']);
    const fresh = await env.app(schema);
    expect(await fresh.run('get', 'SELECT * FROM items WHERE id = $1', [3])).toEqual([{ id: 3, amount: 3, memo: 'n3' }]);
    await fresh.run('ins', "INSERT INTO items (memo) VALUES ('through the view') RETURNING id");
    expect(fresh.errors).toEqual([]);
  });

  it('a failed expand, resumed from the ledger, and one that stopped after its views: the rerun ends with the right views', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(`${ITEMS}
CREATE TABLE gate (open boolean);
CREATE FUNCTION gate_check() RETURNS void LANGUAGE plpgsql AS $$ BEGIN IF NOT EXISTS (SELECT 1 FROM gate) THEN RAISE EXCEPTION 'gate closed'; END IF; END $$;
`);
    const schema = versionSchemaName('public', M1);
    // A leftover schema of that name (a crashed run of an older tandem, say) is replaced.
    await env.q(`CREATE SCHEMA "${schema}"`);
    await env.q(`CREATE VIEW "${schema}".items AS SELECT 1 AS wrong`);
    env.write(
      M1,
      JSON.stringify({
        operations: [
          { alterColumn: { table: 'items', column: 'amount', type: 'bigint' } },
          { createIndex: { table: 'items', name: 'items_note_idx', columns: ['note'] } },
          { sql: { expand: 'SELECT gate_check()' } },
        ],
      }),
      'json',
    );
    await expect(env.t.expand()).rejects.toThrow(/gate closed/);
    expect((await env.t.status()).find((s) => s.id === M1)).toMatchObject({ phase: 'failed', statementsDone: 4 });
    expect(await env.columns(schema, 'items')).toEqual(['wrong integer']);
    await env.q('INSERT INTO gate VALUES (true)');
    await env.t.expand();
    expect(await env.columns(schema, 'items')).toEqual(['id integer', 'amount bigint', 'note text']);
    expect(await env.views(schema)).toEqual(['gate', 'items', 'other']);

    // Stopped after the views committed, before the phase was recorded complete (a trigger on the
    // ledger stands in for a kill there): the rerun builds them again from the catalog.
    env.write(M2, JSON.stringify({ operations: [{ renameColumn: { table: 'other', from: 'label', to: 'title' } }] }), 'json');
    await env.q(`CREATE FUNCTION stop_here() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.state = 'expanded' THEN RAISE EXCEPTION 'stopped'; END IF; RETURN NEW; END $$`);
    await env.q(`CREATE TRIGGER stop_here BEFORE UPDATE ON tandem.migrations FOR EACH ROW WHEN (NEW.id = '${M2}') EXECUTE FUNCTION stop_here()`);
    await expect(env.t.expand()).rejects.toThrow(/stopped/);
    const s2 = versionSchemaName('public', M2);
    expect(await env.columns(s2, 'other')).toEqual(['id integer', 'title text']);
    await env.q('DROP TRIGGER stop_here ON tandem.migrations');
    await env.q(`DROP VIEW "${s2}".other`);
    await env.q('CREATE TABLE later (id int)');
    await env.t.expand();
    expect(await env.views(s2)).toEqual(['gate', 'items', 'later', 'other']);
    expect(await env.columns(s2, 'other')).toEqual(['id integer', 'title text']);
    expect(await env.columns(s2, 'items')).toEqual(['id integer', 'amount bigint', 'note text']);

    // M1 has a `sql` operation, so its contract rebuilds the views of M1 and M2 around its statements:
    // the twin, renamed to amount, is the same column (by number) under the same view column.
    await env.t.backfill();
    await env.t.contract();
    expect(await env.schemaExists(schema)).toBe(false);
    expect(await env.columns(s2, 'items')).toEqual(['id integer', 'amount bigint', 'note text']);
    expect(await env.columns(s2, 'other')).toEqual(['id integer', 'title text']);
    expect(await env.columns('public', 'other')).toEqual(['id integer', 'title text']);
  });

  it('a migration id too long for a schema name is refused before anything runs', async (ctx) => {
    const env = await setup(kind, ctx);
    await env.history(ITEMS);
    const id = `20260102000000_${'x'.repeat(45)}`;
    env.write(id, 'ALTER TABLE items ADD COLUMN extra int;');
    const error = await env.t.expand().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/version schema of migration .* 67 bytes long; PostgreSQL allows 63/);
    expect((error as UsageError).place.file).toContain(`${id}.sql`);
    expect((error as UsageError).fix).toMatch(/shorter name/);
    expect(await env.columns('public', 'items')).toEqual(['id integer', 'amount integer', 'note text']);
  });
});

describe('version schemas on a PostgreSQL server', () => {
  it('a view step that cannot get its lock fails the expand; the rerun creates the views', async (ctx) => {
    const env = await setup('postgres', ctx);
    if (env.db.kind !== 'postgres') ctx.skip('needs a PostgreSQL server');
    await env.history(ITEMS);
    env.write(M1, WIDEN, 'json');
    const blocker = new pg.Client({ connectionString: env.db.url });
    blocker.on('error', () => undefined);
    await blocker.connect();
    cleanups.push(() => blocker.end());
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE other IN ACCESS EXCLUSIVE MODE');
    const error = await env.t.expand().then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(PhaseFailedError);
    expect((error as Error).message).toMatch(/creating version schema public_20260102000000_m1: .*lock timeout/);
    expect((await env.t.status()).find((s) => s.id === M1)).toMatchObject({ phase: 'failed', statementsDone: 3 });
    expect(await env.schemaExists(versionSchemaName('public', M1))).toBe(false);
    await blocker.query('ROLLBACK');
    await env.t.expand();
    expect(await env.columns(versionSchemaName('public', M1), 'items')).toEqual(['id integer', 'amount bigint', 'note text']);
  });

  it('the app\'s privileges on a table carry over to its view, also when a SQL contract rebuilds it', async (ctx) => {
    const env = await setup('postgres', ctx);
    if (env.db.kind !== 'postgres') ctx.skip('needs a PostgreSQL server');
    const role = env.db.name.replace('tandem_t_', 'tandem_app_');
    await env.q(`CREATE ROLE "${role}" NOLOGIN`);
    // Roles belong to the server: this one goes before the database does.
    cleanups.push(async () => {
      const admin = new pg.Client({ connectionString: env.db.url });
      await admin.connect();
      await admin.query(`DROP OWNED BY "${role}"`).catch(() => undefined);
      await admin.query(`DROP ROLE IF EXISTS "${role}"`).catch(() => undefined);
      await admin.end();
    });
    await env.history(`${ITEMS}GRANT SELECT, UPDATE ON items TO "${role}";\n`);
    env.write(M1, '-- tandem:expand\nALTER TABLE items ADD COLUMN memo text;\n-- tandem:contract\nALTER TABLE items DROP COLUMN note;\n-- tandem:rollback\nALTER TABLE items DROP COLUMN memo;\n');
    const schema = versionSchemaName('public', M1);
    const can = async (privilege: string) => (await env.q<{ ok: boolean }>(`SELECT has_schema_privilege(?, ?, 'USAGE') AND has_table_privilege(?, ?, ?) AS ok`, [role, schema, role, `"${schema}".items`, privilege]))[0]!.ok;
    await env.t.expand();
    expect([await can('SELECT'), await can('UPDATE'), await can('INSERT')]).toEqual([true, true, false]);
    await env.t.backfill();
    await env.t.contract();
    expect([await can('SELECT'), await can('UPDATE'), await can('INSERT')]).toEqual([true, true, false]);
  });
});

describe('VALIDATE CONSTRAINT in a SQL contract with version schemas, on a PostgreSQL server', () => {
  it('the new app reads its views during the scan; the views are rebuilt around the statements after it, which wait out a lock and retry', async (ctx) => {
    // Long lock waits end by the watch (the holder below is idle in its transaction), so a retry waits for it.
    const env = await setup('postgres', ctx, { retries: { count: 20, initialDelayMs: 20, maxDelayMs: 3000 } });
    if (env.db.kind !== 'postgres') ctx.skip('needs a PostgreSQL server');
    // A CHECK that takes 40 ms a row and counts its calls in a sequence (which no rollback takes back).
    await env.history(`${ITEMS}CREATE SEQUENCE checked;
CREATE FUNCTION slow_positive(v int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM nextval('checked'); PERFORM pg_sleep(0.04); RETURN v > 0; END $$;
`);
    env.write(M1, `-- tandem:expand
ALTER TABLE items ADD COLUMN memo text;
-- tandem:contract
ALTER TABLE items ADD CONSTRAINT amount_positive CHECK (slow_positive(amount)) NOT VALID;
ALTER TABLE items VALIDATE CONSTRAINT amount_positive;
ALTER TABLE items DROP COLUMN note;
-- tandem:rollback
ALTER TABLE items DROP COLUMN memo;
`);
    await env.t.expand();
    await env.t.backfill();
    const rows = Number((await env.q<{ n: string }>('SELECT count(*) AS n FROM items'))[0]!.n);
    const clients: pg.Client[] = [];
    const client = async (schema?: string) => {
      const c = new pg.Client({ connectionString: env.db.url });
      c.on('error', () => undefined);
      await c.connect();
      if (schema) await c.query(`SET search_path TO "${schema}", public`);
      clients.push(c);
      return c;
    };
    cleanups.push(async () => {
      for (const c of clients) await c.end().catch(() => undefined);
    });
    const newApp = await client(versionSchemaName('public', M1));
    const holder = await client();
    const watcher = await client();

    const contract = env.t.contract();
    const validating = async () => (await watcher.query("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%VALIDATE CONSTRAINT%' AND pid <> pg_backend_pid()")).rowCount! > 0;
    const deadline = Date.now() + 10_000;
    while (!(await validating())) {
      if (Date.now() > deadline) throw new Error('the contract never started its VALIDATE');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The scan has ~1.2 s to go. A reader (compatible with the scan's lock) then holds the table
    // for 1.5 s, so the DROP COLUMN after the scan has to wait and retry.
    await holder.query('BEGIN');
    await holder.query('SELECT count(*) FROM items');
    const started = Date.now();
    const read = await newApp.query('SELECT id, amount, memo FROM items WHERE id = 3');
    const readMs = Date.now() - started;
    expect(read.rows).toEqual([{ id: 3, amount: 3, memo: null }]);
    expect(await validating()).toBe(true); // the read did not wait for the scan to end
    expect(readMs).toBeLessThan(300);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await holder.query('COMMIT');

    await contract;
    expect(env.reporter.retries.length).toBeGreaterThan(0); // the DROP COLUMN did wait and retry
    // The retry ran the scan again (VALIDATE and what follows share a transaction: see run-phase.ts).
    const { last_value: calls } = (await env.q<{ last_value: string }>('SELECT last_value FROM checked'))[0]!;
    expect(Number(calls)).toBeGreaterThanOrEqual(2 * rows);
    expect(await env.columns(versionSchemaName('public', M1), 'items')).toEqual(['id integer', 'amount integer', 'memo text']);
  });
});

describe('version schemas on MySQL/MariaDB', () => {
  it('are refused, naming the field', async (ctx) => {
    const db = await createTestDatabase('mysql', 'vs_mysql');
    if (!db) return ctx.skip('mysql unavailable');
    cleanups.push(() => db.drop());
    const error = await connect({ url: db.url, config: { versionSchemas: true } }).then(async (t) => {
      await t.close();
      return null;
    }, (e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/"versionSchemas" is PostgreSQL only: MySQL re-prepares statements itself/);
    // A config file whose own URL says MySQL is refused as it is read, at the field.
    expect(() => parseConfigText(`{\n  "url": "${db.url}",\n  "versionSchemas": true\n}\n`, 'tandem.config.json')).toThrow(/tandem.config.json: field "versionSchemas": "versionSchemas" is PostgreSQL only/);
    try {
      parseConfigText(`{\n  "url": "${db.url}",\n  "versionSchemas": true\n}\n`, 'tandem.config.json');
    } catch (e) {
      expect((e as UsageError).place).toMatchObject({ file: 'tandem.config.json', line: 3 });
    }
  });
});
