import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import knex, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import {
  ALL_KINDS,
  createTestDatabase,
  databaseExists,
  type TestDatabase,
  type TestDbKind,
} from '../support/databases.js';

const NAME_RE = /^tandem_t_[a-z0-9_]{1,20}_\d+_[0-9a-f]{6}$/;

/** Open knex on a TestDatabase. Branch on db.kind: a 'postgres' request may have been served by PGlite. */
function connect(db: TestDatabase): Knex {
  switch (db.kind) {
    case 'postgres':
      return knex({ client: 'pg', connection: db.url, pool: { min: 0, max: 2 } });
    case 'mysql':
      return knex({ client: 'mysql2', connection: db.url, pool: { min: 0, max: 2 } });
    case 'pglite': {
      const filename = db.url === 'pglite:memory' ? undefined : db.url.slice('pglite:'.length);
      return knex({
        client: ClientPgLite,
        dialect: 'postgres',
        connection: filename ? { filename } : {},
      } as Knex.Config);
    }
  }
}

async function roundTrip(db: TestDatabase): Promise<Knex> {
  const k = connect(db);
  await k.schema.createTable('harness_items', (t) => {
    t.increments('id').primary();
    t.string('label', 50).notNullable();
  });
  await k('harness_items').insert([{ label: 'alpha' }, { label: 'beta' }]);
  const rows = await k('harness_items').select('id', 'label').orderBy('id');
  expect(rows.map((r: { label: string }) => r.label)).toEqual(['alpha', 'beta']);
  return k;
}

describe.each(ALL_KINDS)('test database harness: %s', (kind: TestDbKind) => {
  let db: TestDatabase | null = null;
  let k: Knex | undefined;

  beforeAll(async () => {
    db = await createTestDatabase(kind, `harness ${kind}!`);
  });

  afterAll(async () => {
    await k?.destroy();
    await db?.drop();
  });

  it('creates a fresh, uniquely named database', async (ctx) => {
    const d = db;
    if (!d) return ctx.skip(`${kind} server unavailable (see the warning on stderr)`);
    expect(d.name).toMatch(NAME_RE);
    expect(d.name).toContain(`_${process.pid}_`);
    if (kind === 'postgres' && d.kind === 'pglite') {
      expect(d.source).toBe('embedded'); // substituted: no server, not CI
    } else {
      expect(d.kind).toBe(kind);
    }
    if (d.kind === 'pglite') {
      expect(d.url).toBe('pglite:memory');
      expect(d.source).toBe('embedded');
    } else {
      expect(['env', 'testcontainers']).toContain(d.source);
      expect(new URL(d.url).pathname).toBe(`/${d.name}`);
      expect(await databaseExists(d)).toBe(true);
    }
  });

  it('creates a table, inserts and reads back', async (ctx) => {
    const d = db;
    if (!d) return ctx.skip(`${kind} server unavailable (see the warning on stderr)`);
    k = await roundTrip(d);
  });

  it('drop() removes the database, even with a connection still open', async (ctx) => {
    const d = await createTestDatabase(kind, 'harness_drop', { pgliteDir: true });
    if (!d) return ctx.skip(`${kind} server unavailable (see the warning on stderr)`);
    const other = connect(d);
    try {
      await other.schema.createTable('t', (t) => t.integer('x'));
      await other('t').insert({ x: 1 });
      expect(await databaseExists(d)).toBe(true);
      if (d.kind !== 'pglite') {
        // keep a server connection busy-open while dropping: drop() must terminate it
        await d.drop();
      } else {
        // PGlite dir: close first (single-process engine), then remove the directory
        await other.destroy();
        await d.drop();
      }
      expect(await databaseExists(d)).toBe(false);
      await d.drop(); // idempotent
    } finally {
      await other.destroy().catch(() => {});
    }
  });
});

describe('pglite directory databases', () => {
  it('persists across connections until dropped', async () => {
    const d = await createTestDatabase('pglite', 'Dir/Label With Spaces & a very long tail', { pgliteDir: true });
    expect(d).not.toBeNull();
    if (!d) return;
    expect(d.name).toMatch(NAME_RE);
    expect(d.url).toMatch(/^pglite:\/.+tandem_t_dir_label_with_space_\d+_/);
    try {
      const k1 = await roundTrip(d);
      await k1.destroy();
      const k2 = connect(d);
      const [row] = await k2('harness_items').count({ n: '*' });
      expect(Number(row?.n)).toBe(2);
      await k2.destroy();
      expect(await databaseExists(d)).toBe(true);
    } finally {
      await d.drop();
    }
    expect(await databaseExists(d)).toBe(false);
  });
});
