/**
 * A type change (and a rename through a twin column) swaps a new column in at contract and drops
 * the old one, and with it every index, key and constraint on it. tandem copies each to the new
 * column first, so that after contract the table has the same indexes and constraints as a plain
 * ALTER … TYPE (or RENAME COLUMN) would have left: the test compares them with `ref`, a table
 * created in S0 with the same definitions and the column as the change leaves it. What cannot be
 * carried is refused before expand changes anything.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi, type TestContext } from 'vitest';
import { connect } from '../../src/index.js';
import { postgresGeneratedName } from '../../src/operations/column-dependents/postgres.js';
import { rowsOf } from '../support/app-traffic.js';
import { ALL_KINDS, createTestDatabase, type TestDbKind } from '../support/databases.js';
import { innodbTableId } from '../support/innodb.js';
import { OP_ID, withOperationHarness, type OperationHarness, type OperationHarnessSpec, type SchemaSnapshot } from '../support/operation-harness.js';

vi.setConfig({ testTimeout: 180_000 });

const ROWS = 40;
const CHANGE = [{ alterColumn: { table: 't', column: 'acct', type: 'bigint' } }];

/**
 * The table, and its reference: the same definitions with `ref_` names and the column as the change
 * leaves it (bigint, or the new name). Index and constraint names do not change with the column's.
 */
function postgresTable(name: 't' | 'ref', type: string, c = 'acct'): string {
  return `
CREATE TABLE ${name} (id int PRIMARY KEY, ${c} ${type} NOT NULL, v int, note text,
  CONSTRAINT ${name}_acct_fk FOREIGN KEY (${c}) REFERENCES accounts (id) ON DELETE CASCADE,
  CONSTRAINT ${name}_acct_pos CHECK (${c} > 0 AND v IS DISTINCT FROM ${c} + 1000),
  CONSTRAINT ${name}_uq UNIQUE (${c}, v) DEFERRABLE);
CREATE INDEX ${name}_acct_idx ON ${name} (${c});
CREATE INDEX ${name}_desc ON ${name} (v DESC, ${c}) INCLUDE (note);
CREATE INDEX ${name}_expr ON ${name} ((${c}::text) text_pattern_ops) WHERE ${c} > 5;
COMMENT ON COLUMN ${name}.${c} IS 'the owner''s account';`;
}

function mysqlTable(name: 't' | 'ref', type: string, c = 'acct'): string {
  return `
CREATE TABLE ${name} (id int PRIMARY KEY, ${c} ${type} NOT NULL, v int NULL, note varchar(100) NULL,
  KEY ${name}_acct_idx (${c}), UNIQUE KEY ${name}_uq (${c}, v), KEY ${name}_desc (v, ${c} DESC), KEY ${name}_note (note(10), ${c}));`;
}

const values = Array.from({ length: ROWS }, (_, i) => `(${i + 1}, ${i + 1}, ${i + 1}, 'n${i + 1}')`).join(', ');

/** S0 for a change whose result `ref` shows: its column's type and name afterwards. */
function setup(type: string, column: string) {
  return {
    postgres: `CREATE TABLE accounts (id int PRIMARY KEY);
INSERT INTO accounts SELECT generate_series(1, 100);
${postgresTable('t', 'int')}
${postgresTable('ref', type, column)}
INSERT INTO t VALUES ${values};`,
    mysql: `${mysqlTable('t', 'int')}
${mysqlTable('ref', type, column)}
INSERT INTO t VALUES ${values};`,
  };
}

const SETUP = setup('bigint', 'acct');
const RENAME = [{ renameColumn: { table: 't', from: 'acct', to: 'account' } }];

const scenario = (ctx: TestContext, kind: TestDbKind, spec: OperationHarnessSpec, body: (h: OperationHarness) => Promise<void>): Promise<void> => withOperationHarness(ctx, kind, 'typedeps', spec, body);

/** Index and constraint definitions of `t`, and of `ref` written as if it were `t`. */
async function definitions(h: OperationHarness): Promise<{ t: string[]; ref: string[] }> {
  if (h.dialect === 'mysql') {
    // The whole table as MariaDB prints it: columns in order (the new column stands where the old one
    // stood), types, defaults and keys.
    const definition = async (table: string) => {
      const [row] = await h.newClient.raw<Record<string, string>>(`SHOW CREATE TABLE ${table}`);
      return row!['Create Table']!.split('\n').map((line) => line.trim().replace(/,$/, ''));
    };
    return { t: await definition('t'), ref: (await definition('ref')).map((line) => line.replace(/`ref_/g, '`t_').replace(/`ref`/g, '`t`')) };
  }
  const snapshot = await h.schemaSnapshot();
  const lines = [...snapshot.indexes, ...snapshot.constraints];
  const asT = (line: string) => line.replace(/\bref_/g, 't_').replace(/\bref\b/g, 't');
  return {
    t: lines.filter((line) => /^(t_|t )/.test(line) && !line.startsWith('t_pkey')).sort(),
    ref: lines.filter((line) => /^(ref_|ref )/.test(line) && !line.startsWith('ref_pkey')).map(asT).sort(),
  };
}

async function comment(h: OperationHarness, column = 'acct'): Promise<string | null> {
  const [row] = await h.newClient.raw<{ c: string | null }>(`SELECT col_description('t'::regclass, attnum) AS c FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = ?`, [column]);
  return row!.c;
}

describe.each(ALL_KINDS)('a replaced column\'s indexes and constraints are kept (%s)', (kind) => {
  it('copies every index, unique key, foreign key, CHECK and comment to the twin, and contract leaves the definitions a plain ALTER … TYPE gives', async (ctx) => {
    await scenario(ctx, kind, { setup: SETUP, operations: CHANGE }, async (h) => {
      const before = await definitions(h);
      expect(before.t.length).toBeGreaterThanOrEqual(7);
      if (h.dialect === 'postgres') expect(before.t).toEqual(before.ref);
      const tableId = h.dialect === 'mysql' ? await innodbTableId(h.newClient, 't') : null;

      await h.expand();
      await h.backfill();
      // The copies exist once the twin is filled, before the new app is deployed, and are usable.
      const copies = (await h.schemaSnapshot()).indexes.filter((line) => /tandem_[0-9a-f]{8}_ix\d/.test(line));
      expect(copies).toHaveLength(4);
      expect(copies.filter((line) => line.endsWith(' INVALID'))).toEqual([]);

      await h.contract();
      const after = await definitions(h);
      expect(after.t).toEqual(after.ref);
      expect((await h.schemaSnapshot()).indexes.filter((line) => line.includes('tandem_'))).toEqual([]);
      if (tableId !== null) expect(await innodbTableId(h.newClient, 't')).toBe(tableId);

      // They are enforced under their own names.
      const neu = h.newClient;
      await expect(neu.insert('t', { id: 101, acct: 7, v: 7 })).rejects.toThrow(/t_uq/);
      if (h.dialect === 'postgres') {
        await expect(neu.insert('t', { id: 102, acct: 999, v: 1 })).rejects.toThrow(/t_acct_fk/);
        await expect(neu.insert('t', { id: 103, acct: 9, v: 1009 })).rejects.toThrow(/t_acct_pos/);
        await neu.raw('DELETE FROM accounts WHERE id = 3');
        expect(await neu.select('t', { acct: 3 })).toEqual([]);
        expect(await comment(h)).toBe("the owner's account");
      }
    });
  });

  it('a rename through a twin column (no version schemas) keeps them too, under their names', async (ctx) => {
    await scenario(ctx, kind, { setup: setup('int', 'account'), operations: RENAME }, async (h) => {
      await h.expand();
      await h.backfill();
      await h.contract();
      const after = await definitions(h);
      expect(after.t.length).toBeGreaterThanOrEqual(7);
      expect(after.t).toEqual(after.ref);
      await expect(h.newClient.insert('t', { id: 101, account: 7, v: 7 })).rejects.toThrow(/t_uq/);
      if (h.dialect === 'postgres') expect(await comment(h, 'account')).toBe("the owner's account");
    });
  });

  it('a unique copy that the new values break fails the backfill, before anything is swapped, and rollback restores S0', async (ctx) => {
    const setup = { postgres: "CREATE TABLE codes (id int PRIMARY KEY, code varchar(10) NOT NULL UNIQUE); INSERT INTO codes VALUES (1, 'a'), (2, 'b'), (3, 'cc');", mysql: "CREATE TABLE codes (id int PRIMARY KEY, code varchar(10) NOT NULL, UNIQUE KEY codes_code_key (code)); INSERT INTO codes VALUES (1, 'a'), (2, 'b'), (3, 'cc');" };
    const operations = [{ alterColumn: { table: 'codes', column: 'code', type: 'integer', up: 'length(code)', down: "'x'" } }];
    await scenario(ctx, kind, { setup, operations }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await h.expand();
      await expect(h.backfill()).rejects.toThrow(/could not create unique index|Duplicate entry '1' for key/);
      // No half-built copy is left behind (PostgreSQL marks a failed concurrent build INVALID).
      expect((await h.schemaSnapshot()).indexes.filter((line) => line.includes('INVALID'))).toEqual([]);
      await h.rollback();
      expect(await h.schemaSnapshot()).toEqual(s0);
    });
  });

  it('rollback after the backfill drops the copies with the twin and leaves the originals as they were', async (ctx) => {
    await scenario(ctx, kind, { setup: SETUP, operations: CHANGE }, async (h) => {
      const before = await definitions(h);
      await rollbackRestoresS0(h);
      expect(await definitions(h)).toEqual(before);
    });
  });
});

/** A serial primary key that other tables (and the table itself) reference: the classic int → bigint. */
const PARENTS = `
CREATE TABLE parents (id serial PRIMARY KEY, boss_id int REFERENCES parents (id), name text NOT NULL);
CREATE TABLE children (id int PRIMARY KEY, parent_id int NOT NULL,
  CONSTRAINT children_parent_fk FOREIGN KEY (parent_id) REFERENCES parents (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED);
CREATE TABLE orphans (id int PRIMARY KEY, parent_id int);
INSERT INTO parents (name) SELECT 'p' || g FROM generate_series(1, 40) g;
UPDATE parents SET boss_id = 1 WHERE id > 1;
INSERT INTO children SELECT g, g FROM generate_series(1, 40) g;
INSERT INTO orphans VALUES (1, 999);
ALTER TABLE orphans ADD CONSTRAINT orphans_parent_fk FOREIGN KEY (parent_id) REFERENCES parents (id) NOT VALID;`;

async function sequenceOf(h: OperationHarness): Promise<{ name: string | null; type: string; max: string }> {
  const [row] = await h.newClient.raw<{ name: string | null; type: string; max: string }>(
    `SELECT pg_get_serial_sequence('parents', 'id') AS name, format_type(seqtypid, NULL) AS type, seqmax::text AS max
       FROM pg_sequence WHERE seqrelid = 'parents_id_seq'::regclass`,
  );
  return row!;
}

/** All three phases; the keys, constraints and indexes afterwards are S0's, under the same names. */
async function contractKeepsKeys(h: OperationHarness): Promise<SchemaSnapshot> {
  const s0 = await h.schemaSnapshot();
  await h.expand();
  await h.backfill();
  await h.contract();
  const after = await h.schemaSnapshot();
  expect(after.constraints).toEqual(s0.constraints);
  expect(after.indexes).toEqual(s0.indexes);
  return after;
}

/** Expand and backfill, then rollback: the schema is S0's again. */
async function rollbackRestoresS0(h: OperationHarness): Promise<void> {
  const s0 = await h.schemaSnapshot();
  await h.expand();
  await h.backfill();
  await h.rollback();
  expect(await h.schemaSnapshot()).toEqual(s0);
}

describe.each(['postgres', 'pglite'] as const)('a primary key\'s type change (%s)', (kind) => {
  it('moves the key, the foreign keys that reference it and its sequence to the bigint column; the old app inserts all along', async (ctx) => {
    await scenario(ctx, kind, { setup: PARENTS, operations: [change('parents', 'id')] }, async (h) => {
      const s0 = await h.schemaSnapshot();
      expect(s0.constraints.filter((line) => line.includes('REFERENCES parents(id)'))).toHaveLength(3);
      expect(await sequenceOf(h)).toEqual({ name: 'public.parents_id_seq', type: 'integer', max: '2147483647' });

      await h.expand();
      await h.oldClient.insert('parents', { name: 'during expand' });
      await h.backfill();
      await h.newClient.insert('parents', { name: 'new app' });
      await h.contract();

      const after = await h.schemaSnapshot();
      // Same keys and constraints under the same names, validated as they were (orphans' stays NOT VALID).
      expect(after.constraints).toEqual(s0.constraints);
      expect(after.indexes).toEqual(s0.indexes);
      // The column is bigint now, last (PostgreSQL adds the twin at the end), with its default.
      const idLine = (lines: string[]) => lines.find((line) => line.startsWith('parents.id '));
      expect(idLine(after.columns)).toBe(idLine(s0.columns)!.replace(' integer ', ' bigint '));
      expect(after.columns.filter((line) => line.startsWith('parents.'))).toEqual([...s0.columns.filter((line) => line.startsWith('parents.') && !line.startsWith('parents.id ')), idLine(after.columns)]);
      // The sequence stays the column's, grown with it.
      expect(await sequenceOf(h)).toEqual({ name: 'public.parents_id_seq', type: 'bigint', max: '9223372036854775807' });
      const neu = h.newClient;
      expect((await neu.select('parents', { name: 'during expand' })).map((row) => Number(row.id))).toEqual([41]);
      expect((await neu.select('parents', { name: 'new app' })).map((row) => Number(row.id))).toEqual([42]);
      await neu.raw(`SELECT setval('parents_id_seq', 3000000000)`);
      await neu.insert('parents', { name: 'past int' });
      expect((await neu.select('parents', { name: 'past int' })).map((row) => String(row.id))).toEqual(['3000000001']);

      // Enforced: the key, each foreign key, and ON DELETE CASCADE.
      await expect(neu.insert('parents', { id: 5, name: 'dup' })).rejects.toThrow(/parents_pkey/);
      await expect(neu.insert('children', { id: 100, parent_id: 99999 })).rejects.toThrow(/children_parent_fk/);
      await expect(neu.insert('parents', { name: 'x', boss_id: 99999 })).rejects.toThrow(/parents_boss_id_fkey/);
      await expect(neu.insert('orphans', { id: 2, parent_id: 99999 })).rejects.toThrow(/orphans_parent_fk/);
      await neu.raw('DELETE FROM parents WHERE id = 7');
      expect(await neu.select('children', { parent_id: 7 })).toEqual([]);
    });
  });

  it('the key and the columns that reference it, all to bigint in one migration (a referencing column changed before the key, and one after)', async (ctx) => {
    const operations = [change('children', 'parent_id'), change('parents', 'id'), change('parents', 'boss_id')];
    await scenario(ctx, kind, { setup: PARENTS, operations }, async (h) => {
      const after = await contractKeepsKeys(h);
      for (const column of ['children.parent_id', 'parents.id', 'parents.boss_id']) {
        expect(after.columns.find((line) => line.startsWith(`${column} `))).toMatch(/ bigint /);
      }
      await expect(h.newClient.insert('children', { id: 100, parent_id: 99999 })).rejects.toThrow(/children_parent_fk/);
      await expect(h.newClient.insert('parents', { name: 'x', boss_id: 99999 })).rejects.toThrow(/parents_boss_id_fkey/);
    });
  });

  it('rollback after the backfill leaves the key, the foreign keys and the sequence as they were', async (ctx) => {
    await scenario(ctx, kind, { setup: PARENTS, operations: [change('parents', 'id')] }, async (h) => {
      await rollbackRestoresS0(h);
      expect(await sequenceOf(h)).toEqual({ name: 'public.parents_id_seq', type: 'integer', max: '2147483647' });
    });
  });

  it('a unique column that another table\'s foreign key references: the key comes back on the new column', async (ctx) => {
    const setup = `CREATE TABLE parent (id int PRIMARY KEY, code int NOT NULL UNIQUE);
CREATE TABLE child (id int PRIMARY KEY, code int REFERENCES parent (code) ON UPDATE CASCADE);
INSERT INTO parent SELECT g, g * 10 FROM generate_series(1, 20) g;
INSERT INTO child SELECT g, g * 10 FROM generate_series(1, 20) g;`;
    await scenario(ctx, kind, { setup, operations: [change('parent', 'code')] }, async (h) => {
      await contractKeepsKeys(h);
      await expect(h.newClient.insert('child', { id: 100, code: 5 })).rejects.toThrow(/child_code_fkey/);
      await h.newClient.update('parent', { code: 11 }, { id: 1 });
      expect((await h.newClient.select('child', { id: 1 })).map((row) => row.code)).toEqual([11]);
    });
  });
});

/** A serial column that is not the key, and a serial key that no other table references. */
const TICKETS = `
CREATE TABLE tickets (id int PRIMARY KEY, number serial NOT NULL, note text);
INSERT INTO tickets (id, note) SELECT g, 't' || g FROM generate_series(1, 40) g;
CREATE TABLE labels (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO labels (name) SELECT 'l' || g FROM generate_series(1, 40) g;`;

async function serialOf(h: OperationHarness, table: string, column: string): Promise<string | null> {
  const [row] = await h.newClient.raw<{ name: string | null }>(`SELECT pg_get_serial_sequence(?, ?) AS name`, [table, column]);
  return row!.name;
}

describe.each(['postgres', 'pglite'] as const)('a serial column renamed through a twin (no version schemas) (%s)', (kind) => {
  it('passes its sequence to the new column: the old app, then the new one, get the next numbers, and the sequence goes with the column', async (ctx) => {
    const operations = [{ renameColumn: { table: 'tickets', from: 'number', to: 'ticket_no' } }];
    await scenario(ctx, kind, { setup: TICKETS, operations }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await h.expand();
      await h.oldClient.insert('tickets', { id: 41, note: 'old app, expand' });
      await h.backfill();
      await h.newClient.insert('tickets', { id: 42, note: 'new app, backfill' });
      await h.contract();

      expect(await serialOf(h, 'tickets', 'ticket_no')).toBe('public.tickets_number_seq');
      // The same column under its new name (last: PostgreSQL appends the twin), default nextval included.
      const after = await h.schemaSnapshot();
      expect(after.columns.filter((line) => /^tickets\.(number|ticket_no) /.test(line))).toEqual([
        s0.columns.find((line) => line.startsWith('tickets.number '))!.replace('tickets.number ', 'tickets.ticket_no '),
      ]);

      await h.newClient.insert('tickets', { id: 43, note: 'new app, after contract' });
      expect((await h.newClient.select('tickets', undefined, 'id')).slice(-3).map((row) => [row.id, row.ticket_no])).toEqual([
        [41, 41],
        [42, 42],
        [43, 43],
      ]);
      // Owned by the new column: dropping the column drops the sequence with it.
      await h.newClient.raw('ALTER TABLE tickets DROP COLUMN ticket_no');
      expect(await h.newClient.raw(`SELECT to_regclass('tickets_number_seq') AS seq`)).toEqual([{ seq: null }]);
    });
  });

  it('a serial key renamed: the key, its index and its sequence pass to the new column', async (ctx) => {
    await scenario(ctx, kind, { setup: TICKETS, operations: [{ renameColumn: { table: 'labels', from: 'id', to: 'label_id' } }] }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await h.expand();
      await h.oldClient.insert('labels', { name: 'old app, expand' });
      await h.backfill();
      await h.newClient.insert('labels', { name: 'new app, backfill' });
      await h.contract();
      const after = await h.schemaSnapshot();
      // NOT NULL constraints (PGlite names them) are named after the new column, as if it had been created so.
      const keys = (lines: string[]) => lines.filter((line) => line.includes('labels') && !line.includes(' NOT NULL '));
      expect(keys(after.constraints)).toEqual(keys(s0.constraints).map((line) => line.replace('(id)', '(label_id)')));
      expect(keys(after.constraints)).toContain('labels labels_pkey PRIMARY KEY (label_id)');
      expect(after.indexes.filter((line) => line.includes('labels'))).toEqual(s0.indexes.filter((line) => line.includes('labels')).map((line) => line.replace('(id)', '(label_id)')));
      expect(await serialOf(h, 'labels', 'label_id')).toBe('public.labels_id_seq');
      await h.newClient.insert('labels', { name: 'new app, contract' });
      expect((await h.newClient.select('labels', undefined, 'label_id')).slice(-3).map((row) => [row.label_id, row.name])).toEqual([
        [41, 'old app, expand'],
        [42, 'new app, backfill'],
        [43, 'new app, contract'],
      ]);
      await expect(h.newClient.insert('labels', { label_id: 43, name: 'duplicate' })).rejects.toThrow(/labels_pkey/);
    });
  });

  it('rollback after the backfill leaves the sequence with the old column', async (ctx) => {
    const operations = [{ renameColumn: { table: 'tickets', from: 'number', to: 'ticket_no' } }];
    await scenario(ctx, kind, { setup: TICKETS, operations }, async (h) => {
      await rollbackRestoresS0(h);
      expect(await serialOf(h, 'tickets', 'number')).toBe('public.tickets_number_seq');
      await h.oldClient.insert('tickets', { id: 41, note: 'after rollback' });
      expect((await h.oldClient.select('tickets', { id: 41 })).map((row) => row.number)).toEqual([41]);
    });
  });
});

/** An identity key (the modern serial) that another table references, and an identity column that is not the key. */
const IDENTITIES = `
CREATE TABLE orders (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
CREATE TABLE lines (id int PRIMARY KEY, order_id int NOT NULL REFERENCES orders (id));
INSERT INTO orders (note) SELECT 'o' || g FROM generate_series(1, 40) g;
INSERT INTO lines SELECT g, g FROM generate_series(1, 40) g;
CREATE TABLE tallies (id int PRIMARY KEY, n int GENERATED BY DEFAULT AS IDENTITY (START WITH 100 INCREMENT BY 5 CACHE 3), note text);
INSERT INTO tallies (id, note) SELECT g, 't' || g FROM generate_series(1, 10) g;`;

async function identityOf(h: OperationHarness, table: string, column: string): Promise<Record<string, unknown>> {
  const [row] = await h.newClient.raw(
    `SELECT a.attidentity AS identity, format_type(a.atttypid, a.atttypmod) AS type, pg_get_serial_sequence(?, ?) AS sequence,
            format_type(s.seqtypid, NULL) AS sequence_type, s.seqincrement::text AS increment, s.seqmax::text AS max, s.seqcache::text AS cache, s.seqstart::text AS start
       FROM pg_attribute a JOIN pg_sequence s ON s.seqrelid = pg_get_serial_sequence(?, ?)::regclass
      WHERE a.attrelid = ?::regclass AND a.attname = ?`,
    [table, column, table, column, table, column],
  );
  return row!;
}

describe.each(['postgres', 'pglite'] as const)('an identity column\'s type change and rename (%s)', (kind) => {
  it('an identity key to bigint: the new column is the same identity, going on from the old sequence under its name, wide enough for bigint', async (ctx) => {
    await scenario(ctx, kind, { setup: IDENTITIES, operations: [change('orders', 'id')] }, async (h) => {
      expect(await identityOf(h, 'orders', 'id')).toEqual({ identity: 'a', type: 'integer', sequence: 'public.orders_id_seq', sequence_type: 'integer', increment: '1', max: '2147483647', cache: '1', start: '1' });
      await h.expand();
      await h.oldClient.insert('orders', { note: 'old app, expand' });
      await h.backfill();
      await h.newClient.insert('orders', { note: 'new app, backfill' });
      await h.oldClient.insert('orders', { note: 'old app, backfill' });
      const s1 = await h.schemaSnapshot();
      await h.contract();

      expect(await identityOf(h, 'orders', 'id')).toEqual({ identity: 'a', type: 'bigint', sequence: 'public.orders_id_seq', sequence_type: 'bigint', increment: '1', max: '9223372036854775807', cache: '1', start: '1' });
      expect((await h.schemaSnapshot()).constraints.filter((line) => /orders/.test(line))).toEqual(s1.constraints.filter((line) => /orders/.test(line)));
      await h.newClient.insert('orders', { note: 'new app, contract' });
      expect((await h.newClient.select('orders', undefined, 'id')).slice(-4).map((row) => [Number(row.id), row.note])).toEqual([
        [41, 'old app, expand'],
        [42, 'new app, backfill'],
        [43, 'old app, backfill'],
        [44, 'new app, contract'],
      ]);
      // ALWAYS still refuses a value of the app's own; past int's range; the referencing key holds.
      await expect(h.newClient.insert('orders', { id: 1000, note: 'explicit' })).rejects.toThrow(/cannot insert a non-DEFAULT value into column "id"/);
      await h.newClient.raw(`SELECT setval('orders_id_seq', 3000000000)`);
      await h.newClient.insert('orders', { note: 'past int' });
      expect((await h.newClient.select('orders', { note: 'past int' })).map((row) => String(row.id))).toEqual(['3000000001']);
      await expect(h.newClient.insert('lines', { id: 100, order_id: 99999 })).rejects.toThrow(/lines_order_id_fkey/);
    });
  });

  it('a BY DEFAULT identity with its own options, renamed through a twin: the options and the numbering go on', async (ctx) => {
    await scenario(ctx, kind, { setup: IDENTITIES, operations: [{ renameColumn: { table: 'tallies', from: 'n', to: 'tally' } }] }, async (h) => {
      expect(await identityOf(h, 'tallies', 'n')).toEqual({ identity: 'd', type: 'integer', sequence: 'public.tallies_n_seq', sequence_type: 'integer', increment: '5', max: '2147483647', cache: '3', start: '100' });
      await h.expand();
      await h.oldClient.insert('tallies', { id: 11, note: 'old app' });
      await h.backfill();
      await h.contract();
      expect(await identityOf(h, 'tallies', 'tally')).toEqual({ identity: 'd', type: 'integer', sequence: 'public.tallies_n_seq', sequence_type: 'integer', increment: '5', max: '2147483647', cache: '3', start: '100' });
      await h.newClient.insert('tallies', { id: 12, note: 'new app' });
      await h.newClient.insert('tallies', { id: 13, tally: 7, note: 'its own value' });
      // The rows of S0 took 100 … 145; with CACHE 3 a session holds numbers back, so what each insert
      // gets depends on its session: steps of 5 from 100, and the new column's never one handed out before.
      const [oldApp, newApp, own] = (await h.newClient.select('tallies', undefined, 'id')).slice(-3).map((row) => Number(row.tally));
      expect(oldApp).toBeGreaterThanOrEqual(150);
      expect(newApp).toBeGreaterThan(oldApp!);
      expect([oldApp! % 5, newApp! % 5, own]).toEqual([0, 0, 7]);
    });
  });

  it('rollback after the backfill leaves the identity and its sequence as they were', async (ctx) => {
    await scenario(ctx, kind, { setup: IDENTITIES, operations: [change('orders', 'id')] }, async (h) => {
      await rollbackRestoresS0(h);
      expect(await identityOf(h, 'orders', 'id')).toMatchObject({ identity: 'a', type: 'integer', sequence: 'public.orders_id_seq', sequence_type: 'integer' });
    });
  });
});

/**
 * Extended statistics on `a`, and settings of `a` and `d` of their own: what a plain ALTER … TYPE or
 * RENAME keeps. `ref` has the columns in the order the swaps leave (the new ones come last), which is
 * the order a statistics object lists them in.
 */
function statisticsTable(name: 't' | 'ref', a: string, aType: string, d: string, dType: string): string {
  const columns = name === 't' ? `${a} ${aType}, b int` : `b int, ${a} ${aType}`;
  return `
CREATE TABLE ${name} (id int PRIMARY KEY, ${columns}, ${d} ${dType});
CREATE STATISTICS ${name}_ab (ndistinct, dependencies) ON ${a}, b FROM ${name};
CREATE STATISTICS ${name}_expr ON (${a} + 1), b FROM ${name};
ALTER STATISTICS ${name}_ab SET STATISTICS 500;
ALTER TABLE ${name} ALTER COLUMN ${a} SET STATISTICS 700, ALTER COLUMN ${a} SET (n_distinct = -0.5),
  ALTER COLUMN ${d} SET STORAGE EXTERNAL, ALTER COLUMN ${d} SET COMPRESSION pglz, ALTER COLUMN ${d} SET STATISTICS 50;`;
}

const STATISTICS_ROWS = `INSERT INTO t (id, a, b, d) SELECT g, g % 10, g % 5, repeat('x', g) FROM generate_series(1, ${ROWS}) g;`;

/** `t`'s statistics objects and column settings, and `ref`'s written as if it were `t`. */
async function statisticsAndSettings(h: OperationHarness): Promise<{ t: string[]; ref: string[] }> {
  const lines = await h.newClient.raw<{ relname: string; line: string }>(
    `SELECT c.relname, pg_get_statisticsobjdef(s.oid) || ' target ' || coalesce(s.stxstattarget, -1) AS line
       FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid WHERE c.relname IN ('t', 'ref')
     UNION ALL
     SELECT c.relname, a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' target ' || coalesce(a.attstattarget, -1)
                       || ' ' || coalesce(array_to_string(ARRAY(SELECT o FROM unnest(a.attoptions) o WHERE o LIKE 'n\\_distinct%'), ','), '')
                       || ' storage ' || a.attstorage::text || ' compression ' || coalesce(to_jsonb(a)->>'attcompression', '')
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname IN ('t', 'ref') AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  const of = (table: string) => lines.filter((row) => row.relname === table).map((row) => row.line.replace(/\bref_/g, 't_').replace(/\bref\b/g, 't')).sort();
  return { t: of('t'), ref: of('ref') };
}

describe.each(['postgres', 'pglite'] as const)('a replaced column\'s extended statistics and settings are kept (%s)', (kind) => {
  const CHANGES = [{ alterColumn: { table: 't', column: 'a', type: 'bigint' } }, { alterColumn: { table: 't', column: 'd', type: 'varchar(500)' } }];

  it('a type change: statistics objects (with their targets) are copied to the twin at the end of the backfill and take their names at contract; the statistics target, n_distinct, storage and compression are the twin\'s from expand', async (ctx) => {
    const setup = `${statisticsTable('t', 'a', 'int', 'd', 'text')}\n${statisticsTable('ref', 'a', 'bigint', 'd', 'varchar(500)')}\n${STATISTICS_ROWS}`;
    await scenario(ctx, kind, { setup, operations: CHANGES }, async (h) => {
      const before = await statisticsAndSettings(h);
      expect(before.t.filter((line) => line.startsWith('CREATE STATISTICS'))).toHaveLength(2);
      await h.expand();
      await h.backfill();
      const copies = await h.newClient.raw<{ line: string }>(`SELECT pg_get_statisticsobjdef(oid) AS line FROM pg_statistic_ext WHERE stxname LIKE 'tandem\\_%' ORDER BY 1`);
      expect(copies.map((row) => row.line.replace(/tandem_[0-9a-f]{8}_/g, 'tandem_'))).toEqual([
        'CREATE STATISTICS public.tandem_st1 (ndistinct, dependencies) ON b, tandem_new FROM t',
        'CREATE STATISTICS public.tandem_st2 ON b, (tandem_new + 1) FROM t',
      ]);
      // The backfill ends with ANALYZE (with autovacuum off, as on these servers, nothing else would): the twins have the
      // statistics of filled columns before the new app reads them, and the copies are filled.
      const twinStats = await h.newClient.raw<{ null_frac: number }>(`SELECT null_frac FROM pg_stats WHERE tablename = 't' AND attname LIKE 'tandem\\_%\\_new'`);
      expect(twinStats.map((row) => row.null_frac)).toEqual([0, 0]);
      await h.contract();
      const after = await statisticsAndSettings(h);
      expect(after.t).toEqual(after.ref);
      const [filled] = await h.newClient.raw<{ n: number }>(`SELECT count(*)::int AS n FROM pg_statistic_ext_data d JOIN pg_statistic_ext s ON s.oid = d.stxoid WHERE s.stxrelid = 't'::regclass AND s.stxname LIKE 't\\_%'`);
      expect(filled!.n).toBe(2);
    });
  });

  it('a rename through a twin keeps them under the new names; rollback after the backfill leaves S0', async (ctx) => {
    const setup = `${statisticsTable('t', 'a', 'int', 'd', 'text')}\n${statisticsTable('ref', 'a2', 'int', 'd2', 'text')}\n${STATISTICS_ROWS}`;
    const renames = [{ renameColumn: { table: 't', from: 'a', to: 'a2' } }, { renameColumn: { table: 't', from: 'd', to: 'd2' } }];
    await scenario(ctx, kind, { setup, operations: renames }, async (h) => {
      const before = await statisticsAndSettings(h);
      await rollbackRestoresS0(h);
      expect(await statisticsAndSettings(h)).toEqual(before);
      await h.expand();
      await h.backfill();
      await h.contract();
      const after = await statisticsAndSettings(h);
      expect(after.t).toEqual(after.ref);
    });
  });
});

describe.each(ALL_KINDS)('dropColumn drops the indexes that contain the column (%s)', (kind) => {
  it('on both databases: MariaDB would refuse the DROP COLUMN (error 1072) and MySQL 8 would keep UNIQUE (b) of UNIQUE (a, b)', async (ctx) => {
    const setup = `CREATE TABLE d (id int PRIMARY KEY, a int, b int, c int);
CREATE INDEX d_a ON d (a);
CREATE INDEX d_ab ON d (a, b);
CREATE UNIQUE INDEX d_ba ON d (b, a);
CREATE INDEX d_bc ON d (b, c);
INSERT INTO d VALUES (1, 1, 1, 1), (2, 2, 1, 2);`;
    await scenario(ctx, kind, { setup, operations: [{ dropColumn: { table: 'd', column: 'a' } }] }, async (h) => {
      await h.expand();
      await h.backfill();
      await h.contract();
      const indexes = (await h.schemaSnapshot()).indexes.map((line) => (h.dialect === 'mysql' ? line.split(' ')[1]! : line.split(' ')[0]!)).filter((name) => !/pkey|PRIMARY/.test(name));
      expect(indexes).toEqual(['d_bc']);
      // b alone was never unique: rows with the same b go in.
      await h.newClient.insert('d', { id: 3, b: 1, c: 3 });
    });
  });
});

/** Each refusal: expand fails naming the object and the fix, and the schema is as it was. */
async function expectRefused(h: OperationHarness, operation: unknown, message: RegExp): Promise<void> {
  const operations = Array.isArray(operation) ? operation : [operation];
  await writeFile(join(h.dir, `${OP_ID}.json`), `${JSON.stringify({ operations })}\n`);
  const s0 = await h.schemaSnapshot();
  await expect(h.expand()).rejects.toThrow(message);
  expect(await h.schemaSnapshot()).toEqual(s0);
}

const change = (table: string, column: string) => ({ alterColumn: { table, column, type: 'bigint' } });

describe.each(['postgres', 'pglite'] as const)('type change refuses what it cannot carry (%s)', (kind) => {
  it('a foreign key of another table on a renamed column, a view, an exclusion constraint, an identity column made nullable', async (ctx) => {
    const setup = `
CREATE TABLE parent (id int PRIMARY KEY, code int NOT NULL UNIQUE);
CREATE TABLE child (id int PRIMARY KEY, code int REFERENCES parent (code));
CREATE TABLE viewed (id int PRIMARY KEY, x int);
CREATE VIEW viewed_x AS SELECT x FROM viewed;
CREATE TABLE excl (id int PRIMARY KEY, r int, EXCLUDE USING btree (r WITH =));
CREATE TABLE pair (id int PRIMARY KEY, a int, b int);
CREATE INDEX pair_ab ON pair (a, b);
CREATE TABLE ident (id int PRIMARY KEY, n int GENERATED ALWAYS AS IDENTITY);`;
    await scenario(ctx, kind, { setup, operations: [change('parent', 'code')] }, async (h) => {
      await expectRefused(h, { renameColumn: { table: 'parent', from: 'code', to: 'ref_code' } }, /column parent\.code is referenced by foreign key child_code_fkey of table child; contract drops the old column, and the keys with it: drop them in an earlier migration and add them again, referencing ref_code, after this one's contract/);
      await expectRefused(h, change('viewed', 'x'), /column viewed\.x is used by view viewed_x; contract drops the old column.*drop it in an earlier migration and create it again after this one's contract/);
      await expectRefused(h, change('excl', 'r'), /column excl\.r is in exclusion constraint excl_r_excl/);
      await expectRefused(h, { alterColumn: { table: 'ident', column: 'n', type: 'bigint', nullable: true } }, /column ident\.n is an identity column, which is always NOT NULL: keep it NOT NULL/);
      await expectRefused(h, [change('pair', 'a'), { renameColumn: { table: 'pair', from: 'b', to: 'c' } }], /index pair_ab is on both pair\.b and pair\.a, which an earlier operation of this migration replaces too/);
      // An index or constraint the same migration adds on the column is not in the catalog to be carried: refused either way round.
      await expectRefused(h, [{ createIndex: { table: 'pair', name: 'pair_b', columns: ['b'] } }, change('pair', 'b')], /index pair_b, which an earlier operation of this migration adds, uses pair\.b; this operation replaces that column/);
      await expectRefused(h, [{ addCheck: { table: 'pair', name: 'pair_b_pos', expression: 'b > 0' } }, change('pair', 'b')], /CHECK pair_b_pos, which an earlier operation of this migration adds, uses pair\.b/);
      await expectRefused(h, [change('pair', 'b'), { createIndex: { table: 'pair', name: 'pair_b', columns: ['b'] } }], /index pair_b uses pair\.b, which an earlier operation of this migration replaces with a new column/);
      await expectRefused(h, [{ renameColumn: { table: 'pair', from: 'b', to: 'c' } }, { addCheck: { table: 'pair', name: 'pair_b_pos', expression: 'b > 0' } }], /CHECK pair_b_pos uses pair\.b, which an earlier operation of this migration replaces/);
    });
  });
});

describe.each(['postgres', 'pglite'] as const)('dropColumn refuses at expand what would fail its contract (%s)', (kind) => {
  it('a view, another table\'s foreign key, a trigger, a policy, a generated column; not what DROP COLUMN takes along', async (ctx) => {
    const setup = `
CREATE TABLE parent (id int PRIMARY KEY, code int UNIQUE, a int, b int, c int, d int, e int, g int GENERATED ALWAYS AS (e * 2) STORED, CHECK (a > 0));
CREATE INDEX parent_ab ON parent (a, b);
CREATE STATISTICS parent_ab_stats ON a, b FROM parent;
CREATE TABLE child (id int PRIMARY KEY, code int REFERENCES parent (code));
CREATE VIEW parent_b AS SELECT id, b FROM parent;
CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER parent_c BEFORE UPDATE OF c ON parent FOR EACH ROW EXECUTE FUNCTION noop();
ALTER TABLE parent ENABLE ROW LEVEL SECURITY;
CREATE POLICY parent_d ON parent USING (d > 0);`;
    const drop = (column: string) => ({ dropColumn: { table: 'parent', column } });
    await scenario(ctx, kind, { setup, operations: [drop('a')] }, async (h) => {
      const fix = /; contract drops the column, which PostgreSQL refuses while (that depends|those depend) on it: drop (it|them), or change (it|them) not to use the column, in an earlier migration/;
      const refused = (what: string) => new RegExp(`column parent\\.\\w+ is used by ${what}${fix.source}`);
      await expectRefused(h, drop('b'), refused('view parent_b'));
      await expectRefused(h, drop('code'), refused('constraint child_code_fkey on table child'));
      await expectRefused(h, drop('c'), refused('trigger parent_c on table parent'));
      await expectRefused(h, drop('d'), refused('policy parent_d on table parent'));
      await expectRefused(h, drop('e'), refused('generated column g of table parent'));
      // Its index, CHECK and statistics go with the column: the whole migration runs.
      await writeFile(join(h.dir, `${OP_ID}.json`), `${JSON.stringify({ operations: [drop('a')] })}\n`);
      await h.expand();
      await h.backfill();
      await h.contract();
      expect(await h.newClient.columns('parent')).not.toContain('a');
    });
  });
});

describe('type change refuses what it cannot carry (mysql)', () => {
  it('a foreign key either way, a CHECK, a generated column and a trigger that name the column', async (ctx) => {
    const setup = `
CREATE TABLE parent (id int PRIMARY KEY, code int NOT NULL, UNIQUE KEY (code));
CREATE TABLE child (id int PRIMARY KEY, code int NULL, CONSTRAINT child_code_fk FOREIGN KEY (code) REFERENCES parent (code));
CREATE TABLE checked (id int PRIMARY KEY, x int NOT NULL, CONSTRAINT checked_x_pos CHECK (x > 0));
CREATE TABLE derived (id int PRIMARY KEY, x int NOT NULL, y int AS (x * 2) VIRTUAL);
CREATE TABLE audited (id int PRIMARY KEY, x int NOT NULL);
CREATE TRIGGER audited_x BEFORE UPDATE ON audited FOR EACH ROW SET NEW.x = NEW.x + 0;
CREATE TABLE pair (id int PRIMARY KEY, a int NOT NULL, b int NOT NULL, KEY pair_ab (a, b));
CREATE TABLE posts (id int PRIMARY KEY, title varchar(50) NULL, body text NULL, FULLTEXT KEY posts_body (body));`;
    await scenario(ctx, 'mysql', { setup, operations: [change('parent', 'code')] }, async (h) => {
      await expectRefused(h, change('parent', 'code'), /column parent\.code is in foreign key child_code_fk \(child\.code → parent\.code\); MySQL will not drop a column that a foreign key uses/);
      await expectRefused(h, change('child', 'code'), /column child\.code is in foreign key child_code_fk/);
      await expectRefused(h, change('checked', 'x'), /column checked\.x is used by CHECK constraint checked_x_pos/);
      await expectRefused(h, change('derived', 'x'), /column derived\.x is used by generated column y/);
      await expectRefused(h, change('audited', 'x'), /column audited\.x is used by trigger audited_x/);
      await expectRefused(h, [change('pair', 'a'), change('pair', 'b')], /index pair_ab is on both pair\.b and pair\.a, which an earlier operation of this migration replaces too/);
      await expectRefused(h, [change('pair', 'a'), { addUnique: { table: 'pair', name: 'pair_a_key', columns: ['a'] } }], /unique key pair_a_key uses pair\.a, which an earlier operation of this migration replaces/);
      await expectRefused(h, { renameColumn: { table: 'pair', from: 'id', to: 'pair_id' } }, /column id is part of the primary key of pair; on MySQL\/MariaDB both names must work through a twin column, and InnoDB moves its clustered key/);
      await expectRefused(h, { dropColumn: { table: 'child', column: 'code' } }, /column child\.code is in foreign key child_code_fk \(child\.code → parent\.code\); MySQL will not drop a column that a foreign key uses: drop the key in an earlier migration/);
      // InnoDB adds a column to a table with a FULLTEXT index, or rebuilds it, only with writes blocked.
      const fulltext = /table posts has FULLTEXT index posts_body: InnoDB adds no column to it without a table rebuild, and rebuilds it only with writes blocked \(LOCK=SHARED\); drop the FULLTEXT index posts_body in an earlier migration/;
      await expectRefused(h, { addColumn: { table: 'posts', column: { name: 'slug', type: 'varchar(50)' } } }, fulltext);
      await expectRefused(h, { renameColumn: { table: 'posts', from: 'title', to: 'headline' } }, fulltext);
      await expectRefused(h, { alterColumn: { table: 'posts', column: 'title', type: 'varchar(80)' } }, fulltext);
      await expectRefused(h, { alterColumn: { table: 'posts', column: 'title', nullable: false } }, fulltext);
      await expectRefused(h, { alterColumn: { table: 'posts', column: 'title', nullable: false, rebuild: true } }, fulltext);
    });
  });

  it('a FULLTEXT index dropped without a rebuild leaves InnoDB\'s hidden FTS_DOC_ID: what adds a column is refused, naming the online rebuild that removes it; SET NOT NULL rebuilds online instead', async (ctx) => {
    const setup = `
CREATE TABLE posts (id int PRIMARY KEY, body text NULL, n int NULL, FULLTEXT KEY posts_body (body));
INSERT INTO posts VALUES (1, 'hello world', 1), (2, 'goodbye', 2);
ALTER TABLE posts DROP INDEX posts_body;`;
    const setNotNull = { alterColumn: { table: 'posts', column: 'n', nullable: false } };
    await scenario(ctx, 'mysql', { setup, operations: [setNotNull] }, async (h) => {
      const hidden = /table posts still has InnoDB's hidden FTS_DOC_ID column, left by a FULLTEXT index dropped since its last rebuild: InnoDB adds no column to it without a table rebuild; rebuild it online in an earlier migration \(a "sql" operation: ALTER TABLE `posts` FORCE, ALGORITHM=INPLACE, LOCK=NONE\)/;
      await expectRefused(h, { addColumn: { table: 'posts', column: { name: 'slug', type: 'varchar(50)' } } }, hidden);
      await expectRefused(h, { renameColumn: { table: 'posts', from: 'body', to: 'text' } }, hidden);
      await expectRefused(h, { alterColumn: { table: 'posts', column: 'n', type: 'bigint' } }, hidden);
      // The server says the same, later: INSTANT is what tandem pins.
      await expect(h.newClient.raw('ALTER TABLE posts ADD COLUMN probe int, ALGORITHM=INSTANT')).rejects.toThrow(/ALGORITHM=INSTANT is not supported/);
      const tableId = await innodbTableId(h.newClient, 'posts');
      await writeFile(join(h.dir, `${OP_ID}.json`), `${JSON.stringify({ operations: [setNotNull] })}\n`);
      await h.expand();
      await h.backfill();
      await h.contract();
      // An online rebuild (a new table id), which took the hidden column along: a column is added instantly now.
      expect(await innodbTableId(h.newClient, 'posts')).not.toBe(tableId);
      expect((await h.schemaSnapshot()).columns).toContain('posts.n int(11) NOT NULL');
      await h.newClient.raw('ALTER TABLE posts ADD COLUMN probe int, ALGORITHM=INSTANT');
    });
  });
});

describe('the NOT NULL constraint\'s name on a server that keeps one (pglite)', () => {
  it('is the name PostgreSQL generates for the twin, so the swap can give it the original\'s, also for long and non-ASCII names', async (ctx) => {
    const db = await createTestDatabase('pglite', 'nnname');
    if (!db) return ctx.skip('pglite unavailable');
    const tandem = await connect({ url: db.url, dir: tmpdir() });
    try {
      const tables = ['t', 'a_table_name_long_enough_to_be_cut_when_a_suffix_is_added', 'tabellé_ünïcode_ñame_with_sëveral_multibyte_chàracters_x'];
      for (const table of tables) {
        await tandem.session.db.raw(`CREATE TABLE "${table}" (id int PRIMARY KEY, "tandem_0123abcd_new" int NOT NULL)`);
        const rows = rowsOf<{ name: string }>(await tandem.session.db.raw(`SELECT conname AS name FROM pg_constraint WHERE conrelid = '"${table}"'::regclass AND contype = 'n' AND conkey = '{2}'`));
        expect(rows.map((row) => row.name)).toEqual([postgresGeneratedName(table, 'tandem_0123abcd_new', 'not_null')]);
      }
    } finally {
      await tandem.close();
      await db.drop();
    }
  });
});
