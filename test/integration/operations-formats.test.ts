/**
 * Declarative migration formats on real databases: JSON, YAML and TypeScript compile to the same
 * statements; TypeScript phase functions run in the phase's transaction; edits after expand are
 * refused; the statements compiled at expand are the ones later phases run; and the example
 * directory migrations-examples/operations plans, runs and rolls back on every kind of database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { connect, defineMigration, loadMigrations, RefusedError, PhaseFailedError, type Tandem } from '../../src/index.js';
import { compileOperations } from '../../src/operations/compile.js';
import { ALL_KINDS, createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases.js';
import { HARNESS_CONFIG, OP_ID, openOperationHarness, schemaSnapshot, type Dialect, type Row } from '../support/operation-harness.js';
import { REPO_ROOT, runCli } from '../support/spawn-cli.js';

const EXAMPLES = path.join(REPO_ROOT, 'migrations-examples', 'operations');
const EXAMPLE_IDS = fs
  .readdirSync(EXAMPLES)
  .filter((name) => /^\d+_.*\.(json|ya?ml|ts)$/.test(name))
  .map((name) => name.replace(/\.[^.]+$/, ''))
  .sort();

/** Tests that start the CLI (PGlite: a WASM start per process) or run every example; generous when files run in parallel. */
const CLI_TIMEOUT = 240_000;

const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-op-formats-'));
const databases: TestDatabase[] = [];

afterAll(async () => {
  for (const db of databases) await db.drop();
  fs.rmSync(TMP, { recursive: true, force: true });
});

async function freshDatabase(kind: TestDbKind, ctx: TestContext, options: { pgliteDir?: boolean } = {}): Promise<TestDatabase> {
  const db = await createTestDatabase(kind, 'op_formats', options);
  if (!db) ctx.skip(`${kind} unavailable`);
  databases.push(db!);
  return db!;
}

let dirCounter = 0;
/** A fresh migrations directory under TMP holding `files`. */
function migrationsDir(files: Record<string, string>): string {
  const dir = path.join(TMP, `m${++dirCounter}`);
  fs.mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const dialectOf = (db: TestDatabase): Dialect => (db.kind === 'mysql' ? 'mysql' : 'postgres');

async function open(db: TestDatabase, dir: string): Promise<Tandem> {
  return connect({ url: db.url, dir, config: HARNESS_CONFIG });
}

/** Run `body` with a tandem connection that is closed afterwards (PGlite: releases the directory for the CLI). */
async function withTandem<T>(db: TestDatabase, dir: string, body: (t: Tandem) => Promise<T>): Promise<T> {
  const t = await open(db, dir);
  try {
    return await body(t);
  } finally {
    await t.close();
  }
}

const rows = async <T = Row>(t: Tandem, sql: string, bindings: unknown[] = []): Promise<T[]> => t.session.adapter.rows<T>(await t.session.db.raw(sql, bindings as never[]));

/** The app's tables (not the ledger's). */
async function appTables(t: Tandem): Promise<string[]> {
  const sql =
    t.session.adapter.dialect === 'postgres'
      ? "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1"
      : "SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT LIKE 'tandem\\_%' ORDER BY 1";
  return (await rows<{ name: string }>(t, sql)).map((r) => r.name).sort();
}

async function phaseOf(t: Tandem, id: string): Promise<string | undefined> {
  return (await t.status()).find((m) => m.id === id)?.phase;
}

/** Run `promise`, expecting it to fail; return the error. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as Error,
  );
}

// ---------------------------------------------------------------------------------------------
// one migration, three formats

const S0_SQL = "CREATE TABLE users (id integer PRIMARY KEY, nickname varchar(50) NOT NULL DEFAULT 'anon');\nCREATE TABLE orders (id integer PRIMARY KEY, user_id integer, quantity integer NOT NULL);\nINSERT INTO users (id, nickname) VALUES (1, 'ada'), (2, 'grace');\nINSERT INTO orders (id, user_id, quantity) VALUES (1, 1, 2), (2, 2, 5);\n";

/** Typed with the package's defineMigration: the TypeScript types accept exactly what JSON and YAML say. */
const SAME_MIGRATION = defineMigration({
  operations: [
    { renameColumn: { table: 'users', from: 'nickname', to: 'handle' } },
    {
      createTable: {
        table: 'tags',
        columns: [
          { name: 'id', type: 'integer', primaryKey: true, nullable: false },
          { name: 'label', type: 'varchar(30)', nullable: false, default: "'new'" },
          { name: 'user_id', type: 'integer', references: { table: 'users', column: 'id', onDelete: 'CASCADE' } },
        ],
      },
    },
    { alterColumn: { table: 'orders', column: 'quantity', type: 'bigint' } },
    { addCheck: { table: 'orders', name: 'orders_quantity_positive', expression: 'quantity > 0' } },
    { createIndex: { table: 'orders', name: 'orders_user_idx', columns: ['user_id'] } },
    {
      sql: {
        expand: "ALTER TABLE orders ADD COLUMN note varchar(20);\nUPDATE orders SET note = 'x' WHERE id < 0",
        backfill: "UPDATE orders SET note = 'imported' WHERE note IS NULL",
        rollback: 'ALTER TABLE orders DROP COLUMN note',
      },
    },
  ],
});

const SAME_YAML = `# The same migration, as a person would write it in YAML.
operations:
  - renameColumn: { table: users, from: nickname, to: handle }
  - createTable:
      table: tags
      columns:
        - { name: id, type: integer, primaryKey: true, nullable: false }
        - name: label
          type: varchar(30)
          nullable: false
          default: "'new'"
        - name: user_id
          type: integer
          references: { table: users, column: id, onDelete: CASCADE }
  - alterColumn:
      table: orders
      column: quantity
      type: bigint
  - addCheck: { table: orders, name: orders_quantity_positive, expression: quantity > 0 }
  - createIndex: { table: orders, name: orders_user_idx, columns: [user_id] }
  - sql:
      expand: |
        ALTER TABLE orders ADD COLUMN note varchar(20);
        UPDATE orders SET note = 'x' WHERE id < 0
      backfill: UPDATE orders SET note = 'imported' WHERE note IS NULL
      rollback: ALTER TABLE orders DROP COLUMN note
`;

const SAME_TS = `import { defineMigration } from 'tandem';

const orders = 'orders';

export default defineMigration({
  operations: [
    { renameColumn: { table: 'users', from: 'nickname', to: 'handle' } },
    {
      createTable: {
        table: 'tags',
        columns: [
          { name: 'id', type: 'integer', primaryKey: true, nullable: false },
          { name: 'label', type: 'varchar(30)', nullable: false, default: "'new'" },
          { name: 'user_id', type: 'integer', references: { table: 'users', column: 'id', onDelete: 'CASCADE' } },
        ],
      },
    },
    { alterColumn: { table: orders, column: 'quantity', type: 'bigint' } },
    { addCheck: { table: orders, name: 'orders_quantity_positive', expression: 'quantity > 0' } },
    { createIndex: { table: orders, name: 'orders_user_idx', columns: ['user_id'] } },
    {
      sql: {
        expand: \`ALTER TABLE orders ADD COLUMN note varchar(20);
UPDATE orders SET note = 'x' WHERE id < 0\`,
        backfill: "UPDATE orders SET note = 'imported' WHERE note IS NULL",
        rollback: 'ALTER TABLE orders DROP COLUMN note',
      },
    },
  ],
});
`;

const FORMATS = { json: `${JSON.stringify(SAME_MIGRATION, null, 2)}\n`, yaml: SAME_YAML, ts: SAME_TS };

describe.each(ALL_KINDS)('migration formats on %s', (kind) => {
  it('the same operations as JSON, YAML and TypeScript compile to the same statements and the same plan', { timeout: CLI_TIMEOUT }, async (ctx) => {
    const db = await freshDatabase(kind, ctx, { pgliteDir: true });
    const s0 = { '20260101000000_s0.sql': S0_SQL };
    await withTandem(db, migrationsDir(s0), async (t) => {
      await t.expand();
      await t.backfill();
      await t.contract();
    });
    const dirs = Object.fromEntries(Object.entries(FORMATS).map(([format, text]) => [format, migrationsDir({ ...s0, [`${OP_ID}.${format}`]: text })]));

    // Compiled statements, per phase, against the same live schema.
    const compiled = await withTandem(db, dirs.json!, async (t) => {
      const result: Record<string, unknown> = {};
      for (const [format, dir] of Object.entries(dirs)) {
        const migration = loadMigrations(dir, t.session.adapter.dialect).find((m) => m.id === OP_ID)!;
        expect(migration.format).toBe(format);
        // What runs: the SQL (and checks) of each phase. Lines differ by format, by design.
        const phases = await compileOperations(migration.operations!, t.session, migration.id, migration.file);
        result[format] = Object.fromEntries(Object.entries(phases).map(([phase, list]) => [phase, list.map(({ sql, assertEmpty }) => ({ sql, assertEmpty }))]));
      }
      return result;
    });
    expect(compiled.yaml).toEqual(compiled.json);
    expect(compiled.ts).toEqual(compiled.json);
    const phases = compiled.json as Record<string, Array<{ sql: string }>>;
    expect(phases.expand!.map((s) => s.sql)).toEqual(expect.arrayContaining([expect.stringMatching(/^CREATE TABLE ["`]tags["`]/), "UPDATE orders SET note = 'x' WHERE id < 0"]));

    // tandem plan (the CLI): identical but for the file name.
    const plans: Record<string, string> = {};
    for (const [format, dir] of Object.entries(dirs)) {
      const result = await runCli(['--url', db.url, '--dir', dir, 'plan'], { cwd: TMP });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      plans[format] = result.stdout.replaceAll(path.relative(TMP, dir), 'DIR').replace(`${OP_ID}.${format}`, `${OP_ID}.FORMAT`);
    }
    expect(plans.json).toContain(`-- ${OP_ID}  [pending]  DIR/${OP_ID}.FORMAT`);
    expect(plans.yaml).toBe(plans.json);
    expect(plans.ts).toBe(plans.json);

    // Planning ran nothing.
    await withTandem(db, dirs.json!, async (t) => {
      expect(await phaseOf(t, OP_ID)).toBe('pending');
      expect(await appTables(t)).toEqual(['orders', 'users']);
    });
  });

  const TOTALS_TS = `import { defineMigration } from 'tandem';

/** Phase functions get the runner's knex: a transaction on PostgreSQL. */
const seen = ((globalThis as Record<string, unknown>).__tandemFormatsSeen ??= []) as Array<[string, boolean]>;

export default defineMigration({
  async expand(db) {
    seen.push(['expand', db.isTransaction === true]);
    await db.schema.createTable('order_totals', (table) => {
      table.integer('user_id').primary();
      table.integer('orders').notNullable();
    });
  },
  async backfill(db) {
    seen.push(['backfill', db.isTransaction === true]);
    await db('order_totals').del();
    const counts = await db('orders').select('user_id').count({ n: '*' }).groupBy('user_id').orderBy('user_id');
    for (const row of counts) await db('order_totals').insert({ user_id: row.user_id, orders: Number(row.n) });
    const bad = await db('orders').where('quantity', '<', 0).first();
    if (bad) throw new Error(\`order \${bad.id} has a negative quantity\`);
  },
  async rollback(db) {
    seen.push(['rollback', db.isTransaction === true]);
    await db.schema.dropTableIfExists('order_totals');
  },
});
`;

  it('TypeScript phase functions run through the phases and rollback; on PostgreSQL inside the phase transaction', async (ctx) => {
    const db = await freshDatabase(kind, ctx);
    const seen: Array<[string, boolean]> = [];
    (globalThis as Record<string, unknown>).__tandemFormatsSeen = seen;
    const setup = "CREATE TABLE orders (id integer PRIMARY KEY, user_id integer NOT NULL, quantity integer NOT NULL);\nINSERT INTO orders (id, user_id, quantity) VALUES (1, 1, 2), (2, 1, 3), (3, 2, -1);\n";
    const dir = migrationsDir({ '20260101000000_s0.sql': setup });
    await withTandem(db, dir, async (t) => {
      await t.expand();
      await t.backfill();
      await t.contract();
      const s0 = await schemaSnapshot(t.session.db, dialectOf(db));
      fs.writeFileSync(path.join(dir, `${OP_ID}.ts`), TOTALS_TS);
      const transactional = db.kind !== 'mysql';
      const totals = async () => (await t.session.db('order_totals').orderBy('user_id')).map((r: Row) => `${r.user_id}:${r.orders}`);

      await t.expand();
      expect(await appTables(t)).toEqual(['order_totals', 'orders']);
      // The backfill function fails after writing: on PostgreSQL its writes are rolled back with it.
      const error = await failure(t.backfill());
      expect(error).toBeInstanceOf(PhaseFailedError);
      expect(error.message).toMatch(new RegExp(`backfill of ${OP_ID} failed at .*${OP_ID}\\.ts:1: order 3 has a negative quantity`));
      expect(await phaseOf(t, OP_ID)).toBe('failed');
      expect(await totals()).toEqual(transactional ? [] : ['1:2', '2:1']);

      await t.session.db('orders').where({ id: 3 }).update({ quantity: 1 });
      await t.backfill();
      expect(await totals()).toEqual(['1:2', '2:1']);
      await t.rollback(OP_ID);
      expect(await schemaSnapshot(t.session.db, dialectOf(db))).toEqual(s0);
      expect(await phaseOf(t, OP_ID)).toBe('rolled_back');

      await t.expand();
      await t.backfill();
      await t.contract();
      expect(await phaseOf(t, OP_ID)).toBe('contracted');
      expect(await totals()).toEqual(['1:2', '2:1']);
      expect(seen).toEqual(
        [['expand'], ['backfill'], ['backfill'], ['rollback'], ['expand'], ['backfill']].map(([phase]) => [phase, transactional]),
      );
    });
  });

  it('editing a declarative migration after expand is refused at the next command', async (ctx) => {
    const db = await freshDatabase(kind, ctx);
    const setup = 'CREATE TABLE orders (id integer PRIMARY KEY, user_id integer NOT NULL);\n';
    const json = `{"operations": [{"createIndex": {"table": "orders", "name": "orders_user_idx", "columns": ["user_id"]}}]}\n`;
    const ts = "export default { async expand(db) { await db.raw('CREATE TABLE extra (id integer PRIMARY KEY)'); }, async backfill(db) { await db.raw('SELECT 1'); } };\n";
    const dir = migrationsDir({ '20260101000000_s0.sql': setup, '20260102000000_index.json': json });
    const jsonFile = path.join(dir, '20260102000000_index.json');
    await withTandem(db, dir, async (t) => {
      await t.expand();
      fs.writeFileSync(jsonFile, json.replace('orders_user_idx', 'orders_user_id_idx'));
      const refused = await failure(t.backfill());
      expect(refused).toBeInstanceOf(RefusedError);
      expect((refused as RefusedError).exitCode).toBe(3);
      expect(refused.message).toMatch(/20260102000000_index\.json: the expand section\(s\) changed after they ran \(checksum mismatch\)/);
      // Even a change of layout only: the file is what was reviewed.
      fs.writeFileSync(jsonFile, JSON.stringify(JSON.parse(json), null, 2));
      await expect(t.contract()).rejects.toThrow(/checksum mismatch/);
      expect(await phaseOf(t, '20260102000000_index')).toBe('expanded');
      fs.writeFileSync(jsonFile, json);
      await t.backfill();
      await t.contract();

      // A TypeScript phase function that ran is guarded the same way; one that has not run may change.
      const tsFile = path.join(dir, '20260103000000_extra.ts');
      fs.writeFileSync(tsFile, ts);
      await t.expand();
      fs.writeFileSync(tsFile, ts.replace('id integer PRIMARY KEY', 'id integer PRIMARY KEY, note text'));
      await expect(t.backfill()).rejects.toThrow(/20260103000000_extra\.ts: the expand section\(s\) changed after they ran \(checksum mismatch\)/);
      fs.writeFileSync(tsFile, ts.replace('SELECT 1', 'SELECT 2'));
      await t.backfill();
      expect(await phaseOf(t, '20260103000000_extra')).toBe('backfilled');
    });
  });

  it('later phases run the statements compiled at expand, even after the live schema changed', async (ctx) => {
    const db = await freshDatabase(kind, ctx);
    const h = await openOperationHarness(db, {
      setup: "CREATE TABLE users (id integer PRIMARY KEY, nickname varchar(50) NOT NULL DEFAULT 'anon');\nINSERT INTO users (id, nickname) VALUES (1, 'ada'), (2, 'grace');",
      operations: [{ renameColumn: { table: 'users', from: 'nickname', to: 'handle' } }],
    });
    try {
      await h.expand();
      const stored = (await h.tandem.ledger.get(OP_ID))?.compiled;
      expect(stored).toBeTruthy();
      const compiled = JSON.parse(stored!) as Record<string, Array<{ sql: string }>>;
      expect(compiled.contract!.map((s) => s.sql).join('\n')).toMatch(/DROP COLUMN ["`]nickname["`]/);

      // Someone adds an unrelated column while both versions run.
      await h.oldClient.raw('ALTER TABLE users ADD COLUMN extra integer');
      await h.oldClient.insert('users', { id: 3, nickname: 'linus', extra: 7 });
      expect(await h.newClient.select('users', { id: 3 })).toEqual([{ id: 3, nickname: 'linus', extra: 7, handle: 'linus' }]);
      // Compiling now would not even work (handle exists); the stored statements do.
      const migration = h.tandem.migrations().find((m) => m.id === OP_ID)!;
      await expect(compileOperations(migration.operations!, h.tandem.session, OP_ID, migration.file)).rejects.toThrow(/column users\.handle exists already/);

      await h.backfill();
      await h.contract();
      expect((await h.tandem.ledger.get(OP_ID))?.compiled).toBe(stored);
      expect(await h.newClient.columns('users')).toEqual(['id', 'handle', 'extra']);
      await h.newClient.insert('users', { id: 4 });
      expect(await h.newClient.select('users')).toEqual([
        { id: 1, handle: 'ada', extra: null },
        { id: 2, handle: 'grace', extra: null },
        { id: 3, handle: 'linus', extra: 7 },
        { id: 4, handle: 'anon', extra: null },
      ]);
    } finally {
      await h.close();
    }
  });

  it('tandem plan on migrations-examples/operations (fresh database): the SQL of every phase, and nothing runs', { timeout: CLI_TIMEOUT }, async (ctx) => {
    const db = await freshDatabase(kind, ctx, { pgliteDir: true });
    const result = await runCli(['--url', db.url, '--dir', EXAMPLES, 'plan'], { cwd: TMP });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const plan = result.stdout;
    const q = (name: string) => (db.kind === 'mysql' ? `\`${name}\`` : `"${name}"`);
    for (const id of EXAMPLE_IDS) expect(plan).toContain(`-- ${id}  [pending]`);
    const sections = plan.split(/\n(?=-- \d{14}_)/).slice(1);
    expect(sections).toHaveLength(EXAMPLE_IDS.length);
    for (const section of sections) for (const phase of ['expand', 'backfill', 'contract', 'rollback']) expect(section).toMatch(new RegExp(`^-- ${phase}`, 'm'));
    // A sample of generated SQL, one or more per example.
    expect(plan).toContain(`CREATE TABLE ${q('customers')} (`);
    expect(plan).toContain(`ALTER TABLE ${q('customers')} ADD COLUMN ${q('handle')}`);
    expect(plan).toMatch(new RegExp(`UPDATE ${escape(q('customers'))} SET ${escape(q('handle'))} = ${escape(q('nickname'))}`));
    expect(plan).toMatch(/CREATE TRIGGER/);
    expect(plan).toContain(db.kind === 'mysql' ? 'ALTER TABLE `orders` ADD INDEX `orders_customer_id_idx` (`customer_id`), ALGORITHM=INPLACE, LOCK=NONE' : 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "orders_customer_id_idx" ON "orders" ("customer_id")');
    expect(plan).toContain(db.kind === 'mysql' ? 'FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`)' : 'FOREIGN KEY ("customer_id") REFERENCES "customers" ("id") NOT VALID');
    if (db.kind !== 'mysql') expect(plan).toContain('ALTER TABLE "orders" VALIDATE CONSTRAINT "orders_customer_fk"');
    expect(plan).toContain(db.kind === 'mysql' ? 'CREATE ALGORITHM=MERGE VIEW `catalog_items` AS SELECT * FROM `products`' : 'CREATE VIEW "catalog_items" AS SELECT * FROM "products"');
    expect(plan).toContain(`DROP TABLE ${q('legacy_audit')}`);
    expect(plan).toMatch(/-- expand\(\) of .*20260308000000_order_totals\.ts/);

    await withTandem(db, EXAMPLES, async (t) => {
      expect(await appTables(t)).toEqual([]);
      expect((await t.status()).map((m) => m.phase)).toEqual(EXAMPLE_IDS.map(() => 'pending'));
    });
  });

  it('migrations-examples/operations: expand → backfill → contract; and, on a fresh database, expand → rollback to an empty schema', { timeout: CLI_TIMEOUT }, async (ctx) => {
    const db = await freshDatabase(kind, ctx);
    await withTandem(db, EXAMPLES, async (t) => {
      await t.expand();
      expect((await t.status()).map((m) => m.phase)).toEqual(EXAMPLE_IDS.map(() => 'expanded'));
      await t.backfill();
      await t.contract();
      expect((await t.status()).map((m) => m.phase)).toEqual(EXAMPLE_IDS.map(() => 'contracted'));

      const snapshot = await schemaSnapshot(t.session.db, dialectOf(db));
      // No shim is left; on MySQL the CHECK of order_constraints is enforced by its two triggers.
      expect(snapshot.triggers).toEqual(db.kind === 'mysql' ? [expect.stringMatching(/^orders tandem_\w+_check_bi BEFORE INSERT$/), expect.stringMatching(/^orders tandem_\w+_check_bu BEFORE UPDATE$/)] : []);
      expect(snapshot.views).toEqual([]);
      expect(await appTables(t)).toEqual(['catalog_items', 'customers', 'order_totals', 'orders']);
      const columns = (table: string) => snapshot.columns.filter((line) => line.startsWith(`${table}.`)).map((line) => line.split(' ')[0]!.slice(table.length + 1));
      // The renamed column keeps its place on MariaDB (added right after the old one); PostgreSQL appends it.
      expect(columns('customers')).toEqual(db.kind === 'mysql' ? ['id', 'handle', 'email'] : ['id', 'email', 'handle']);
      expect(columns('orders')).toEqual(expect.arrayContaining(['id', 'customer_id', 'product_id', 'quantity', 'legacy_code', 'size_class']));
      expect(columns('orders')).not.toContain('note');
      // Every row came through: the renamed column, the filled and the widened ones, the totals.
      const customers = await rows<Row>(t, 'SELECT id, handle FROM customers ORDER BY id');
      expect(customers.slice(0, 3)).toEqual([
        { id: 1, handle: 'ada' },
        { id: 2, handle: 'grace' },
        { id: 3, handle: 'linus' },
      ]);
      expect(customers.filter((c) => c.handle === null)).toEqual([]);
      const orders = await rows<Row>(t, 'SELECT id, quantity, size_class, product_id FROM orders ORDER BY id');
      expect(orders.slice(0, 3).map((o) => `${o.id}:${o.quantity}:${o.size_class}:${o.product_id}`)).toEqual(['1:2:single:1', '2:12:bulk:2', '3:1:single:1']);
      expect(orders.filter((o) => o.size_class !== (Number(o.quantity) > 10 ? 'bulk' : 'single') || o.product_id === null)).toEqual([]);
      const totals = await rows<Row>(t, 'SELECT customer_id, orders FROM order_totals ORDER BY customer_id');
      expect(totals.reduce((sum, row) => sum + Number(row.orders), 0)).toBe(orders.length);
      expect(snapshot.columns).toEqual(expect.arrayContaining([expect.stringMatching(/^orders\.quantity bigint( NOT NULL|\(20\) NOT NULL)/)]));
    });

    const fresh = await freshDatabase(kind, ctx);
    await withTandem(fresh, EXAMPLES, async (t) => {
      await t.expand();
      expect(await appTables(t)).toEqual(expect.arrayContaining(['catalog_items', 'customers', 'legacy_audit', 'order_totals', 'orders', 'products']));
      await t.rollback();
      expect((await t.status()).map((m) => m.phase)).toEqual(EXAMPLE_IDS.map(() => 'rolled_back'));
      expect(await schemaSnapshot(t.session.db, dialectOf(fresh))).toEqual({ columns: [], indexes: [], constraints: [], triggers: [], views: [], functions: [] });
    });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
