/**
 * Table, index and constraint operations, pgroll style, on PostgreSQL, MySQL/MariaDB and PGlite:
 * build S0 (with rows), expand, check what the old and the new app version see and may write,
 * roll back (the schema is S0 again), expand again, backfill, contract, check the new version.
 */
import { afterAll, describe, expect, it, type TestContext } from 'vitest';
import { PhaseFailedError, UsageError } from '../../src/index.js';
import { ALL_KINDS, createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases.js';
import { OP_ID, openOperationHarness, type OperationHarness, type OperationHarnessSpec, type Row, type SchemaSnapshot } from '../support/operation-harness.js';

const databases: TestDatabase[] = [];
afterAll(async () => {
  for (const db of databases) await db.drop();
});

/** A fresh database per test (the ledger remembers migration ids), or a declared skip. */
async function freshDatabase(kind: TestDbKind, ctx: TestContext): Promise<TestDatabase> {
  const db = await createTestDatabase(kind, 'op_tables');
  if (!db) ctx.skip(`${kind} unavailable`);
  databases.push(db!);
  return db!;
}

/** Open a harness on a fresh database, run `body`, always close. */
async function withHarness(kind: TestDbKind, ctx: TestContext, spec: OperationHarnessSpec, body: (h: OperationHarness) => Promise<void>): Promise<void> {
  const db = await freshDatabase(kind, ctx);
  const h = await openOperationHarness(db, spec);
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

/** One SQL text per dialect (PGlite runs the PostgreSQL one). */
const perDialect = (postgres: string, mysql: string) => ({ postgres, mysql });

/** Nothing tandem-made is left behind: no tandem_* triggers, functions or views. */
function expectNoTandemObjects(snapshot: SchemaSnapshot): void {
  for (const list of [snapshot.triggers, snapshot.functions, snapshot.views]) expect(list.filter((line) => /tandem_/.test(line))).toEqual([]);
}

async function tableKind(h: OperationHarness, table: string): Promise<string | undefined> {
  const sql =
    h.dialect === 'postgres'
      ? "SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' ELSE c.relkind::text END AS kind FROM pg_class c WHERE c.relname = ? AND c.relnamespace = current_schema()::regnamespace"
      : "SELECT CASE TABLE_TYPE WHEN 'BASE TABLE' THEN 'table' WHEN 'VIEW' THEN 'view' ELSE TABLE_TYPE END AS kind FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?";
  return (await h.oldClient.raw<{ kind: string }>(sql, [table]))[0]?.kind;
}

/** PostgreSQL: is the index there, valid and ready? MySQL: is it there? */
async function indexState(h: OperationHarness, table: string, name: string): Promise<'valid' | 'invalid' | 'missing'> {
  if (h.dialect === 'postgres') {
    const rows = await h.oldClient.raw<{ ok: boolean }>('SELECT i.indisvalid AND i.indisready AS ok FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = ? AND c.relnamespace = current_schema()::regnamespace', [name]);
    return rows.length === 0 ? 'missing' : rows[0]!.ok ? 'valid' : 'invalid';
  }
  const rows = await h.oldClient.raw('SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ?', [table, name]);
  return rows.length === 0 ? 'missing' : 'valid';
}

/** PostgreSQL: a constraint's type and whether it is validated; MySQL: its type. Undefined when absent. */
async function constraintState(h: OperationHarness, table: string, name: string): Promise<{ type: string; validated: boolean } | undefined> {
  if (h.dialect === 'postgres') {
    const rows = await h.oldClient.raw<{ type: string; validated: boolean }>(
      'SELECT k.contype AS type, k.convalidated AS validated FROM pg_constraint k WHERE k.conname = ? AND k.conrelid = to_regclass(?)',
      [name, table],
    );
    return rows[0] ? { type: { f: 'FOREIGN KEY', c: 'CHECK', u: 'UNIQUE', p: 'PRIMARY KEY' }[rows[0].type] ?? rows[0].type, validated: rows[0].validated } : undefined;
  }
  const rows = await h.oldClient.raw<{ type: string }>('SELECT CONSTRAINT_TYPE AS type FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = ?', [table, name]);
  return rows[0] ? { type: rows[0].type, validated: true } : undefined;
}

/** MySQL: the triggers on a table (check triggers, shims), by name. */
async function triggerNames(h: OperationHarness, table: string): Promise<string[]> {
  const rows = await h.oldClient.raw<{ name: string }>('SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = ? ORDER BY TRIGGER_NAME', [table]);
  return rows.map((row) => row.name);
}

const keysOf = (rows: Row[], key = 'id') => rows.map((row) => row[key]);

/** Rows deleted: knex-pglite answers a delete with the driver's result rather than a count. */
async function deleteRows(client: OperationHarness['oldClient'], table: string, where: Row): Promise<number> {
  const result = (await client.knex(table).where(where).del()) as unknown;
  return typeof result === 'number' ? result : Number((result as { affectedRows?: number }).affectedRows);
}

describe.each(ALL_KINDS)('table operations on %s', (kind) => {
  it('createTable: composite primary key, defaults, references, checks, unique; rollback drops it', async (ctx) => {
    await withHarness(
      kind,
      ctx,
      {
        setup: "CREATE TABLE users (id integer PRIMARY KEY, name varchar(50) NOT NULL);\nINSERT INTO users (id, name) VALUES (1, 'ada'), (2, 'grace'), (3, 'linus');",
        operations: [
          {
            createTable: {
              table: 'memberships',
              columns: [
                { name: 'user_id', type: 'integer', nullable: false, references: { table: 'users', column: 'id', onDelete: 'CASCADE' } },
                { name: 'group_id', type: 'integer', nullable: false },
                { name: 'role', type: 'varchar(20)', nullable: false, default: "'member'" },
                { name: 'score', type: 'integer', check: 'score >= 0' },
              ],
              primaryKey: ['user_id', 'group_id'],
            },
          },
          { createTable: { table: 'notes', columns: [{ name: 'id', type: 'integer', primaryKey: true, nullable: false }, { name: 'body', type: 'varchar(100)', unique: true }] } },
        ],
      },
      async (h) => {
        const s0 = await h.schemaSnapshot();
        await h.expand();
        const { oldClient, newClient } = h;

        // The old version knows nothing of the new tables and goes on as before.
        await oldClient.insert('users', { id: 4, name: 'barbara' });
        expect(keysOf(await oldClient.select('users'))).toEqual([1, 2, 3, 4]);

        // The new version writes to them: defaults, the composite key, the reference and the check apply.
        expect(await newClient.columns('memberships')).toEqual(['user_id', 'group_id', 'role', 'score']);
        expect(await h.tandem.session.adapter.primaryKey(h.tandem.session.db, { name: 'memberships' })).toEqual(['user_id', 'group_id']);
        await newClient.insert('memberships', { user_id: 4, group_id: 1 });
        await newClient.insert('memberships', { user_id: 4, group_id: 2, role: 'owner', score: 3 });
        expect(await newClient.select('memberships', {}, 'group_id')).toEqual([
          { user_id: 4, group_id: 1, role: 'member', score: null },
          { user_id: 4, group_id: 2, role: 'owner', score: 3 },
        ]);
        await expect(newClient.insert('memberships', { user_id: 4, group_id: 1 })).rejects.toThrow(/duplicate/i);
        await expect(newClient.insert('memberships', { user_id: 99, group_id: 1 })).rejects.toThrow(/foreign key/i);
        // PostgreSQL names it a check constraint; MariaDB says CONSTRAINT `memberships.score` failed.
        await expect(newClient.insert('memberships', { user_id: 1, group_id: 1, score: -1 })).rejects.toThrow(/check constraint|CONSTRAINT `memberships\.score` failed/i);
        await newClient.insert('notes', { id: 1, body: 'x' });
        await expect(newClient.insert('notes', { id: 2, body: 'x' })).rejects.toThrow(/duplicate/i);
        // The old version deleting a user cascades into the new table.
        await oldClient.knex('users').where({ id: 4 }).del();
        expect(await newClient.select('memberships', {}, 'group_id')).toEqual([]);

        await h.rollback();
        expect(await h.schemaSnapshot()).toEqual(s0);

        await h.expand();
        const expanded = await h.schemaSnapshot();
        await h.backfill();
        await h.contract();
        const final = await h.schemaSnapshot();
        expect(final).toEqual(expanded);
        expectNoTandemObjects(final);
        await newClient.insert('memberships', { user_id: 1, group_id: 7 });
        expect(await newClient.select('memberships', {}, 'group_id')).toEqual([{ user_id: 1, group_id: 7, role: 'member', score: null }]);
        expect(await tableKind(h, 'notes')).toBe('table');
      },
    );
  });

  it('dropTable: the old version still reads and writes the table until contract drops it', async (ctx) => {
    await withHarness(
      kind,
      ctx,
      {
        setup: "CREATE TABLE users (id integer PRIMARY KEY, name varchar(50) NOT NULL);\nCREATE TABLE audit_log (id integer PRIMARY KEY, line varchar(100));\nINSERT INTO users (id, name) VALUES (1, 'ada');\nINSERT INTO audit_log (id, line) VALUES (1, 'created ada'), (2, 'renamed ada');",
        operations: [{ dropTable: { table: 'audit_log' } }],
      },
      async (h) => {
        const s0 = await h.schemaSnapshot();
        await h.expand();
        expect(await h.schemaSnapshot()).toEqual(s0);
        await h.oldClient.insert('audit_log', { id: 3, line: 'still logging' });
        expect(keysOf(await h.oldClient.select('audit_log'))).toEqual([1, 2, 3]);

        await h.rollback();
        expect(await h.schemaSnapshot()).toEqual(s0);
        expect(keysOf(await h.oldClient.select('audit_log'))).toEqual([1, 2, 3]);

        await h.expand();
        await h.backfill();
        expect(keysOf(await h.oldClient.select('audit_log'))).toEqual([1, 2, 3]);
        await h.contract();
        expect(await tableKind(h, 'audit_log')).toBeUndefined();
        await expect(h.oldClient.select('audit_log')).rejects.toThrow(/audit_log/);
        expect(keysOf(await h.newClient.select('users'))).toEqual([1]);
        expect((await h.schemaSnapshot()).columns.filter((line) => line.startsWith('audit_log.'))).toEqual([]);
      },
    );
  });

  it('renameTable: the old name (table) and the new name (view) serve both versions; contract swaps them', async (ctx) => {
    await withHarness(
      kind,
      ctx,
      {
        setup: perDialect(
          "CREATE TABLE products (id serial PRIMARY KEY, name varchar(50) NOT NULL, price_cents integer NOT NULL DEFAULT 0);\nINSERT INTO products (name, price_cents) VALUES ('tea', 350), ('coffee', 420);",
          "CREATE TABLE products (id integer AUTO_INCREMENT PRIMARY KEY, name varchar(50) NOT NULL, price_cents integer NOT NULL DEFAULT 0);\nINSERT INTO products (name, price_cents) VALUES ('tea', 350), ('coffee', 420);",
        ),
        operations: [{ renameTable: { from: 'products', to: 'catalog_items' } }],
      },
      async (h) => {
        const s0 = await h.schemaSnapshot();
        const { oldClient, newClient } = h;
        await h.expand();
        expect(await tableKind(h, 'products')).toBe('table');
        expect(await tableKind(h, 'catalog_items')).toBe('view');
        expect(await newClient.columns('catalog_items')).toEqual(await oldClient.columns('products'));
        const names = async (client: typeof oldClient, table: string) => (await client.select(table)).map((r) => `${r.id}:${r.name}:${r.price_cents}`);
        expect(await names(newClient, 'catalog_items')).toEqual(['1:tea:350', '2:coffee:420']);

        // Inserts through the view get the table's defaults (id, price); each sees the other's.
        await newClient.insert('catalog_items', { name: 'cocoa' });
        await oldClient.insert('products', { name: 'juice', price_cents: 200 });
        expect(await names(oldClient, 'products')).toEqual(['1:tea:350', '2:coffee:420', '3:cocoa:0', '4:juice:200']);
        expect(await names(newClient, 'catalog_items')).toEqual(await names(oldClient, 'products'));
        // Updates both ways.
        expect(await newClient.update('catalog_items', { price_cents: 500 }, { name: 'tea' })).toBe(1);
        expect(await oldClient.update('products', { price_cents: 450 }, { name: 'coffee' })).toBe(1);
        expect(await names(oldClient, 'products')).toEqual(['1:tea:500', '2:coffee:450', '3:cocoa:0', '4:juice:200']);
        expect(await names(newClient, 'catalog_items')).toEqual(await names(oldClient, 'products'));
        // Deletes both ways.
        expect(await deleteRows(newClient, 'catalog_items', { name: 'juice' })).toBe(1);
        expect(await deleteRows(oldClient, 'products', { name: 'cocoa' })).toBe(1);
        expect(await names(newClient, 'catalog_items')).toEqual(['1:tea:500', '2:coffee:450']);
        expect(await names(oldClient, 'products')).toEqual(['1:tea:500', '2:coffee:450']);

        await h.rollback();
        expect(await tableKind(h, 'catalog_items')).toBeUndefined();
        expect(await h.schemaSnapshot()).toEqual(s0);

        await h.expand();
        await newClient.insert('catalog_items', { name: 'mate', price_cents: 300 });
        await h.backfill();
        await h.contract();
        expect(await tableKind(h, 'catalog_items')).toBe('table');
        expect(await tableKind(h, 'products')).toBeUndefined();
        expectNoTandemObjects(await h.schemaSnapshot());
        await newClient.insert('catalog_items', { name: 'chai' });
        expect(await names(newClient, 'catalog_items')).toEqual(['1:tea:500', '2:coffee:450', '5:mate:300', '6:chai:0']);
      },
    );
  });

  it('createIndex: unique and not (PostgreSQL: partial), valid after expand, dropped by rollback', async (ctx) => {
    const db = await freshDatabase(kind, ctx);
    const postgres = db.kind !== 'mysql';
    const h = await openOperationHarness(db, {
      setup: "CREATE TABLE events (id integer PRIMARY KEY, kind varchar(20) NOT NULL, code varchar(20), archived integer NOT NULL DEFAULT 0);\nINSERT INTO events (id, kind, code, archived) VALUES (1, 'click', 'a', 0), (2, 'view', 'b', 0), (3, 'click', NULL, 1), (4, 'view', NULL, 1);",
      operations: [
        { createIndex: { table: 'events', name: 'events_kind_idx', columns: ['kind'] } },
        { createIndex: { table: 'events', name: 'events_code_key', columns: ['code'], unique: true } },
        ...(postgres ? [{ createIndex: { table: 'events', name: 'events_live_kind_key', columns: ['kind'], unique: true, where: 'archived = 0' } }] : []),
      ],
    });
    const names = ['events_kind_idx', 'events_code_key', ...(postgres ? ['events_live_kind_key'] : [])];
    try {
      const s0 = await h.schemaSnapshot();
      await h.expand();
      for (const name of names) expect(await indexState(h, 'events', name)).toBe('valid');
      const { oldClient, newClient } = h;
      await oldClient.insert('events', { id: 5, kind: 'scroll', code: 'c' });
      await expect(newClient.insert('events', { id: 6, kind: 'other', code: 'a' })).rejects.toThrow(/duplicate/i);
      if (postgres) {
        const definition = (await h.schemaSnapshot()).indexes.find((line) => line.startsWith('events_live_kind_key'));
        expect(definition).toMatch(/UNIQUE INDEX .* WHERE \(archived = 0\)$/);
        // Only live rows must be unique by kind.
        await expect(oldClient.insert('events', { id: 6, kind: 'click' })).rejects.toThrow(/events_live_kind_key/);
        await oldClient.insert('events', { id: 6, kind: 'click', archived: 1 });
      }

      await h.rollback();
      expect(await h.schemaSnapshot()).toEqual(s0);

      await h.expand();
      await h.backfill();
      await h.contract();
      for (const name of names) expect(await indexState(h, 'events', name)).toBe('valid');
      await expect(newClient.insert('events', { id: 7, kind: 'x', code: 'c' })).rejects.toThrow(/duplicate/i);
    } finally {
      await h.close();
    }
  });

  it('createIndex with "where" on MySQL: refused at compile, naming the operation; nothing runs', async (ctx) => {
    const db = await freshDatabase(kind, ctx);
    if (db.kind !== 'mysql') return ctx.skip('partial indexes are valid on PostgreSQL');
    const h = await openOperationHarness(db, {
      setup: 'CREATE TABLE events (id integer PRIMARY KEY, kind varchar(20) NOT NULL, archived integer NOT NULL DEFAULT 0);',
      operations: [
        { createIndex: { table: 'events', name: 'events_kind_idx', columns: ['kind'] } },
        { createIndex: { table: 'events', name: 'events_live_kind_key', columns: ['kind'], unique: true, where: 'archived = 0' } },
      ],
    });
    try {
      const s0 = await h.schemaSnapshot();
      const error = await h.expand().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toMatch(/operation 1 \(createIndex\): "where" \(a partial index\) is PostgreSQL only/);
      expect((error as UsageError).place.file).toMatch(new RegExp(`${OP_ID}\\.json$`));
      expect(await h.schemaSnapshot()).toEqual(s0);
      expect((await h.tandem.status()).find((m) => m.id === OP_ID)?.phase).toBe('pending');
    } finally {
      await h.close();
    }
  });

  it('dropIndex: the index stays for the old version until contract', async (ctx) => {
    await withHarness(
      kind,
      ctx,
      {
        setup: "CREATE TABLE events (id integer PRIMARY KEY, kind varchar(20) NOT NULL);\nCREATE INDEX events_kind_idx ON events (kind);\nINSERT INTO events (id, kind) VALUES (1, 'click'), (2, 'view');",
        operations: [{ dropIndex: { table: 'events', name: 'events_kind_idx' } }],
      },
      async (h) => {
        const s0 = await h.schemaSnapshot();
        await h.expand();
        expect(await h.schemaSnapshot()).toEqual(s0);
        expect(await indexState(h, 'events', 'events_kind_idx')).toBe('valid');
        await h.rollback();
        expect(await h.schemaSnapshot()).toEqual(s0);
        await h.expand();
        await h.backfill();
        expect(await indexState(h, 'events', 'events_kind_idx')).toBe('valid');
        await h.contract();
        expect(await indexState(h, 'events', 'events_kind_idx')).toBe('missing');
        await h.newClient.insert('events', { id: 3, kind: 'click' });
        expect(keysOf(await h.newClient.select('events', { kind: 'click' }))).toEqual([1, 3]);
      },
    );
  });

  const LIBRARY = (orphan: boolean) =>
    `CREATE TABLE authors (id integer PRIMARY KEY, name varchar(50) NOT NULL);\nCREATE TABLE books (id integer PRIMARY KEY, author_id integer, title varchar(50) NOT NULL);\nINSERT INTO authors (id, name) VALUES (1, 'le guin'), (2, 'pratchett');\nINSERT INTO books (id, author_id, title) VALUES (1, 1, 'the dispossessed'), (2, 2, 'mort'), (3, NULL, 'anonymous')${orphan ? ", (4, 99, 'orphan')" : ''};`;
  const BOOKS_FK = { addForeignKey: { table: 'books', name: 'books_author_fk', columns: ['author_id'], references: { table: 'authors', columns: ['id'] } } };

  it('addForeignKey: enforced for new writes after expand (PostgreSQL: NOT VALID), validated by backfill', async (ctx) => {
    await withHarness(kind, ctx, { setup: LIBRARY(false), operations: [BOOKS_FK] }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await h.expand();
      expect(await constraintState(h, 'books', 'books_author_fk')).toEqual({ type: 'FOREIGN KEY', validated: h.dialect === 'mysql' });
      const { oldClient, newClient } = h;
      await expect(oldClient.insert('books', { id: 10, author_id: 99, title: 'ghost' })).rejects.toThrow(/foreign key/i);
      await oldClient.insert('books', { id: 10, author_id: 2, title: 'guards! guards!' });
      await newClient.insert('books', { id: 11, author_id: null, title: 'beowulf' });
      await expect(newClient.update('books', { author_id: 42 }, { id: 11 })).rejects.toThrow(/foreign key/i);

      await h.rollback();
      expect(await h.schemaSnapshot()).toEqual(s0);
      await oldClient.insert('books', { id: 12, author_id: 77, title: 'allowed again' });
      await oldClient.knex('books').where({ id: 12 }).del();

      await h.expand();
      await h.backfill();
      expect(await constraintState(h, 'books', 'books_author_fk')).toEqual({ type: 'FOREIGN KEY', validated: true });
      await h.contract();
      expect(await constraintState(h, 'books', 'books_author_fk')).toEqual({ type: 'FOREIGN KEY', validated: true });
      await expect(newClient.insert('books', { id: 13, author_id: 99, title: 'ghost' })).rejects.toThrow(/foreign key/i);
      await newClient.insert('books', { id: 13, author_id: 1, title: 'earthsea' });
    });
  });

  it('addForeignKey: a row without a parent makes backfill fail naming the constraint; rollback restores S0', async (ctx) => {
    await withHarness(kind, ctx, { setup: LIBRARY(true), operations: [BOOKS_FK] }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await h.expand();
      const error = await h.backfill().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PhaseFailedError);
      expect((error as Error).message).toMatch(/backfill of 20260102000000_op failed/);
      expect((error as Error).message).toMatch(/books_author_fk/);
      if (h.dialect === 'mysql') expect((error as Error).message).toMatch(/rows of books have no parent in authors/);
      else expect((error as Error).message).toMatch(/violates foreign key constraint/);
      expect((await h.tandem.status()).find((m) => m.id === OP_ID)?.phase).toBe('failed');

      await h.rollback();
      expect(await h.schemaSnapshot()).toEqual(s0);
      expect((await h.tandem.status()).find((m) => m.id === OP_ID)?.phase).toBe('rolled_back');
      // With the orphan fixed, the migration goes through.
      await h.oldClient.update('books', { author_id: null }, { id: 4 });
      await h.expand();
      await h.backfill();
      await h.contract();
      expect(await constraintState(h, 'books', 'books_author_fk')).toEqual({ type: 'FOREIGN KEY', validated: true });
    });
  });

  it('addForeignKey beside a createIndex on its columns: the FK uses that index; rollback leaves S0 exactly', async (ctx) => {
    const operations = [{ createIndex: { table: 'books', name: 'books_author_id_idx', columns: ['author_id'] } }, BOOKS_FK];
    await withHarness(kind, ctx, { setup: LIBRARY(false), operations }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await h.expand();
      expect(await indexState(h, 'books', 'books_author_id_idx')).toBe('valid');
      if (h.dialect === 'mysql') expect(await indexState(h, 'books', 'books_author_fk')).toBe('missing');
      await h.rollback();
      expect(await h.schemaSnapshot()).toEqual(s0);
      await h.expand();
      await h.backfill();
      await h.contract();
      expect(await constraintState(h, 'books', 'books_author_fk')).toEqual({ type: 'FOREIGN KEY', validated: true });
    });
  });

  it('addForeignKey whose ALTER fails (incompatible types): nothing is left behind, not even a session without FK checks', async (ctx) => {
    const setup = 'CREATE TABLE authors (id integer PRIMARY KEY);\nCREATE TABLE books (id integer PRIMARY KEY, author_id varchar(10));';
    await withHarness(kind, ctx, { setup, operations: [BOOKS_FK] }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await expect(h.expand()).rejects.toThrow(/expand of 20260102000000_op failed/);
      expect(await h.schemaSnapshot()).toEqual(s0);
      if (h.dialect === 'mysql') {
        const [row] = h.tandem.session.adapter.rows<{ checks: unknown }>(await h.tandem.session.db.raw('SELECT @@foreign_key_checks AS checks'));
        expect(Number(row!.checks)).toBe(1);
      }
      await h.rollback();
      expect(await h.schemaSnapshot()).toEqual(s0);
      expect((await h.tandem.status()).find((m) => m.id === OP_ID)?.phase).toBe('rolled_back');
    });
  });

  const ORDERS = (quantities: number[]) =>
    `CREATE TABLE orders (id integer PRIMARY KEY, quantity integer NOT NULL);\nINSERT INTO orders (id, quantity) VALUES ${quantities.map((q, i) => `(${i + 1}, ${q})`).join(', ')};`;
  const QUANTITY_CHECK = { addCheck: { table: 'orders', name: 'orders_quantity_positive', expression: 'quantity > 0' } };

  it('addCheck: not enforced before contract (the old version may still write), enforced after', async (ctx) => {
    await withHarness(kind, ctx, { setup: ORDERS([1, 2, 3]), operations: [QUANTITY_CHECK] }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await h.expand();
      expect(await constraintState(h, 'orders', 'orders_quantity_positive')).toBeUndefined();
      await h.oldClient.insert('orders', { id: 4, quantity: 4 });
      await h.rollback();
      expect(await h.schemaSnapshot()).toEqual(s0);

      await h.expand();
      await h.backfill();
      expect(await constraintState(h, 'orders', 'orders_quantity_positive')).toBeUndefined();
      await h.contract();
      // MySQL copies the table for a real CHECK, so there triggers enforce it (a metadata change).
      expect(await constraintState(h, 'orders', 'orders_quantity_positive')).toEqual(h.dialect === 'postgres' ? { type: 'CHECK', validated: true } : undefined);
      if (h.dialect === 'mysql') expect(await triggerNames(h, 'orders')).toHaveLength(2);
      await expect(h.newClient.insert('orders', { id: 5, quantity: 0 })).rejects.toThrow(/orders_quantity_positive/);
      await expect(h.newClient.update('orders', { quantity: -1 }, { id: 1 })).rejects.toThrow(/orders_quantity_positive/);
      await h.newClient.insert('orders', { id: 5, quantity: 5 });
      // Writes that satisfy the check go through.
      await h.newClient.update('orders', { quantity: 6 }, { id: 5 });
      expect(keysOf(await h.newClient.select('orders'))).toEqual([1, 2, 3, 4, 5]);
    });
  });

  it('addCheck on MySQL with enforce: constraint adds a real CHECK (and says the table is copied)', async (ctx) => {
    if (kind !== 'mysql') return ctx.skip('MySQL only: PostgreSQL always adds a real constraint');
    await withHarness(kind, ctx, { setup: ORDERS([1, 2, 3]), operations: [{ addCheck: { ...QUANTITY_CHECK.addCheck, enforce: 'constraint' } }] }, async (h) => {
      await h.expand();
      await h.backfill();
      await h.contract();
      expect(await constraintState(h, 'orders', 'orders_quantity_positive')).toEqual({ type: 'CHECK', validated: true });
      expect(await triggerNames(h, 'orders')).toEqual([]);
      await expect(h.newClient.insert('orders', { id: 5, quantity: 0 })).rejects.toThrow(/orders_quantity_positive/);
    });
  });

  it('addCheck: a breaking row written between backfill and contract makes contract fail; fixed, contract finishes', async (ctx) => {
    await withHarness(kind, ctx, { setup: ORDERS([1, 2, 3]), operations: [QUANTITY_CHECK] }, async (h) => {
      await h.expand();
      await h.backfill();
      await h.oldClient.insert('orders', { id: 4, quantity: -1 });
      await expect(h.contract()).rejects.toThrow(/orders_quantity_positive/);
      // PostgreSQL: added NOT VALID (enforced for new writes), its VALIDATE failed. MySQL: nothing enforced yet.
      if (h.dialect === 'postgres') expect(await constraintState(h, 'orders', 'orders_quantity_positive')).toEqual({ type: 'CHECK', validated: false });
      else expect(await triggerNames(h, 'orders')).toEqual([]);
      await h.oldClient.knex('orders').where({ id: 4 }).update({ quantity: 4 });
      await h.contract();
      if (h.dialect === 'postgres') expect(await constraintState(h, 'orders', 'orders_quantity_positive')).toEqual({ type: 'CHECK', validated: true });
      await expect(h.newClient.insert('orders', { id: 9, quantity: 0 })).rejects.toThrow(/orders_quantity_positive/);
    });
  });

  it('addCheck: rows that break the check make backfill fail naming the constraint; fixed, it goes on', async (ctx) => {
    await withHarness(kind, ctx, { setup: ORDERS([1, 0, 3]), operations: [QUANTITY_CHECK] }, async (h) => {
      await h.expand();
      // The old version may still write such rows while the check is not enforced.
      await h.oldClient.insert('orders', { id: 4, quantity: -2 });
      await expect(h.backfill()).rejects.toThrow(/rows of orders break the check orders_quantity_positive \(quantity > 0\)/);
      expect(await constraintState(h, 'orders', 'orders_quantity_positive')).toBeUndefined();
      await h.oldClient.knex('orders').where('quantity', '<=', 0).update({ quantity: 1 });
      await h.backfill();
      await h.contract();
      expect(await constraintState(h, 'orders', 'orders_quantity_positive')).toEqual(h.dialect === 'postgres' ? { type: 'CHECK', validated: true } : undefined);
      await expect(h.newClient.insert('orders', { id: 9, quantity: 0 })).rejects.toThrow(/orders_quantity_positive/);
    });
  });

  const ACCOUNTS = (emails: Array<string | null>) =>
    `CREATE TABLE accounts (id integer PRIMARY KEY, email varchar(100));\nINSERT INTO accounts (id, email) VALUES ${emails.map((e, i) => `(${i + 1}, ${e === null ? 'NULL' : `'${e}'`})`).join(', ')};`;
  const EMAIL_UNIQUE = { addUnique: { table: 'accounts', name: 'accounts_email_key', columns: ['email'] } };

  it('addUnique: enforced from expand through a unique index; PostgreSQL contract makes it a constraint using the index', async (ctx) => {
    await withHarness(kind, ctx, { setup: ACCOUNTS(['a@x', 'b@x', null, null]), operations: [EMAIL_UNIQUE] }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await h.expand();
      expect(await indexState(h, 'accounts', 'accounts_email_key')).toBe('valid');
      await expect(h.oldClient.insert('accounts', { id: 10, email: 'a@x' })).rejects.toThrow(/duplicate/i);
      await h.newClient.insert('accounts', { id: 10, email: null });
      await h.rollback();
      expect(await h.schemaSnapshot()).toEqual(s0);

      await h.expand();
      await h.backfill();
      await h.contract();
      expect(await constraintState(h, 'accounts', 'accounts_email_key')).toEqual({ type: 'UNIQUE', validated: true });
      if (h.dialect === 'postgres') {
        // The constraint owns the index built in expand: no second index was built.
        const owned = await h.oldClient.raw<{ index: string }>("SELECT k.conindid::regclass::text AS index FROM pg_constraint k WHERE k.conname = 'accounts_email_key'");
        expect(owned).toEqual([{ index: 'accounts_email_key' }]);
        expect((await h.schemaSnapshot()).indexes.filter((line) => line.startsWith('accounts_'))).toHaveLength(2); // pkey + email
      }
      await expect(h.newClient.insert('accounts', { id: 11, email: 'b@x' })).rejects.toThrow(/duplicate/i);
    });
  });

  it('addUnique: duplicates make expand fail cleanly (no INVALID index left); fixed, expand goes through', async (ctx) => {
    await withHarness(kind, ctx, { setup: ACCOUNTS(['a@x', 'b@x', 'a@x']), operations: [EMAIL_UNIQUE] }, async (h) => {
      const s0 = await h.schemaSnapshot();
      const error = await h.expand().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(PhaseFailedError);
      expect((error as Error).message).toMatch(/expand of 20260102000000_op failed/);
      expect((error as Error).message).toMatch(h.dialect === 'postgres' ? /could not create unique index "accounts_email_key".*Key \(email\)=\(a@x\) is duplicated/ : /Duplicate entry 'a@x'/);
      expect(await h.schemaSnapshot()).toEqual(s0);
      expect(await indexState(h, 'accounts', 'accounts_email_key')).toBe('missing');

      await h.oldClient.update('accounts', { email: 'c@x' }, { id: 3 });
      await h.expand();
      expect(await indexState(h, 'accounts', 'accounts_email_key')).toBe('valid');
      await h.backfill();
      await h.contract();
      expect(await constraintState(h, 'accounts', 'accounts_email_key')).toEqual({ type: 'UNIQUE', validated: true });
    });
  });

  it('sql: raw SQL per phase beside another operation; its backfill UPDATE runs in batches', async (ctx) => {
    const ids = Array.from({ length: 60 }, (_, i) => i + 1);
    await withHarness(
      kind,
      ctx,
      {
        setup: `CREATE TABLE items (id integer PRIMARY KEY, price integer NOT NULL);\nINSERT INTO items (id, price) VALUES ${ids.map((id) => `(${id}, ${id * 10})`).join(', ')};`,
        operations: [
          { createIndex: { table: 'items', name: 'items_price_idx', columns: ['price'] } },
          {
            sql: {
              expand: 'ALTER TABLE items ADD COLUMN price_x2 integer',
              backfill: 'UPDATE items SET price_x2 = price * 2 WHERE price_x2 IS NULL',
              contract: 'CREATE TABLE items_archive (id integer PRIMARY KEY)',
              rollback: 'ALTER TABLE items DROP COLUMN price_x2',
            },
          },
        ],
      },
      async (h) => {
        const s0 = await h.schemaSnapshot();
        await h.expand();
        expect(await h.newClient.columns('items')).toEqual(['id', 'price', 'price_x2']);
        expect(await indexState(h, 'items', 'items_price_idx')).toBe('valid');
        await h.rollback();
        expect(await h.schemaSnapshot()).toEqual(s0);

        await h.expand();
        await h.backfill();
        const rows = await h.newClient.select('items');
        expect(rows).toHaveLength(60);
        expect(rows.filter((r) => r.price_x2 !== (r.price as number) * 2)).toEqual([]);
        // Batched: the walk reported its progress batch by batch (the ledger forgets it once backfill is done).
        const progress = h.reporter.snapshots.filter((snapshot) => snapshot.migrationId === OP_ID);
        expect(progress.at(-1)).toMatchObject({ rowsDone: 60, done: true });
        expect(progress.at(-1)!.table).toMatch(/^["`]?items["`]?$/);
        expect(progress.at(-1)!.batches).toBeGreaterThan(1);
        expect(await tableKind(h, 'items_archive')).toBeUndefined();
        await h.contract();
        expect(await tableKind(h, 'items_archive')).toBe('table');
        expect(await indexState(h, 'items', 'items_price_idx')).toBe('valid');
      },
    );
  });
});
