/**
 * MariaDB: a key column's type change (int → bigint of an AUTO_INCREMENT primary key) through a
 * copy of the table (src/operations/mysql-table-copy.ts). After contract the table must be what a
 * plain `ALTER TABLE … MODIFY id bigint` would have left (compared with `ref`, created so in S0),
 * hold exactly the rows the old table held at the swap, including every write the app made while
 * the copy ran, and keep counting AUTO_INCREMENT where the old table stopped.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, vi, type TestContext } from 'vitest';
import { holdTableLock, sleep, startAppTraffic } from '../support/app-traffic.js';
import { OP_ID, withOperationHarness, type OperationHarness, type OperationHarnessSpec, type Row } from '../support/operation-harness.js';

vi.setConfig({ testTimeout: 180_000 });

const ROWS = 60;
const CHANGE = { alterColumn: { table: 't', column: 'id', type: 'bigint' } };

/** `t` and its reference `ref`: the same definitions, with the key as the change leaves it. */
function table(name: 't' | 'ref', keyType: string): string {
  return `
CREATE TABLE ${name} (
  id ${keyType} NOT NULL AUTO_INCREMENT COMMENT 'the order''s number',
  account int NOT NULL,
  note varchar(20) CHARACTER SET latin1 NULL,
  n int NOT NULL DEFAULT 0,
  doubled int AS (account * 2) VIRTUAL,
  PRIMARY KEY (id),
  UNIQUE KEY ${name}_note (note),
  KEY ${name}_account_n (account, n),
  CONSTRAINT ${name}_account_fk FOREIGN KEY (account) REFERENCES accounts (id) ON DELETE CASCADE,
  CONSTRAINT ${name}_positive CHECK (account > 0)
) ROW_FORMAT=DYNAMIC COMMENT='orders';`;
}

const SETUP = `
CREATE TABLE accounts (id int PRIMARY KEY);
INSERT INTO accounts VALUES (1), (2), (3);
${table('t', 'int')}
${table('ref', 'bigint')}
INSERT INTO t (account, note) SELECT 1 + seq % 3, CONCAT('note ', seq) FROM seq_1_to_${ROWS};
DELETE FROM t WHERE id > ${ROWS - 5};`;

const scenario = (ctx: TestContext, spec: OperationHarnessSpec, body: (h: OperationHarness) => Promise<void>): Promise<void> => withOperationHarness(ctx, 'mysql', 'tablecopy', spec, body);

/** SHOW CREATE TABLE as lines, `ref`'s written as if it were `t`, without the AUTO_INCREMENT counter (checked on its own). */
async function definition(h: OperationHarness, name: 't' | 'ref'): Promise<string[]> {
  const [row] = await h.newClient.raw<Record<string, string>>(`SHOW CREATE TABLE ${name}`);
  return row!['Create Table']!.split('\n').map((line) => line.trim().replace(/,$/, '').replace(/ AUTO_INCREMENT=\d+/, '').replace(/`ref_/g, '`t_').replace(/`ref`/g, '`t`'));
}

async function counter(h: OperationHarness): Promise<number> {
  const [row] = await h.newClient.raw<{ next: number }>(`SELECT AUTO_INCREMENT AS next FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't'`);
  return Number(row!.next);
}

const rows = (h: OperationHarness): Promise<Row[]> => h.newClient.raw('SELECT id, account, note, n, doubled FROM t ORDER BY id');

/** The copy's objects left in the database: tables (the copy, the old table) and triggers (not the ledger's own). */
async function leftovers(h: OperationHarness): Promise<string[]> {
  const found = await h.newClient.raw<{ name: string }>(
    `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND (TABLE_NAME LIKE '%\\_copy' OR TABLE_NAME LIKE '%\\_old')
     UNION ALL SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE NOT LIKE 'tandem\\_%'`,
  );
  return found.map((row) => row.name);
}

describe('a key column\'s type change copies the table (mariadb)', () => {
  it('ends as a plain MODIFY would: the same table, every row and every write made during the copy, the AUTO_INCREMENT counter where it was', async (ctx) => {
    await scenario(ctx, { setup: SETUP, operations: [CHANGE] }, async (h) => {
      const countBefore = await counter(h);
      // Past the deleted tail (InnoDB reserves ids for an INSERT … SELECT in powers of two): ids of deleted rows are not given out again.
      expect(countBefore).toBeGreaterThan(ROWS);
      await h.expand();
      // Both versions use the table as it was until contract.
      expect((await definition(h, 't')).join('\n')).toContain('`id` int(11) NOT NULL AUTO_INCREMENT');
      // Writes before the backfill: an insert (a new AUTO_INCREMENT id), an update, a key moved, a delete.
      await h.oldClient.insert('t', { account: 2, note: 'before walk' });
      await h.oldClient.update('t', { note: 'changed early' }, { id: 2 });
      await h.oldClient.update('t', { id: 1000 }, { id: 3 });
      await h.oldClient.raw('DELETE FROM t WHERE id = 4');
      // App traffic on other rows while the backfill walks in small batches.
      const traffic = startAppTraffic(h.db, { table: 't', ids: [5, 6, 7, 20, 40, 50] });
      await h.backfill();
      const stats = await traffic.stop();
      expect(stats.errors).toEqual([]);
      expect(stats.samples.length).toBeGreaterThan(10);
      // Writes after the walk, before the swap: through the triggers alone.
      await h.oldClient.insert('t', { account: 3, note: 'after walk' });
      await h.oldClient.update('t', { id: 2000 }, { id: 1000 });
      await h.oldClient.update('t', { n: 99 }, { id: 10 });
      await h.oldClient.raw('DELETE FROM t WHERE id = 11');
      const before = await rows(h);
      const nextId = await counter(h);
      await h.contract();

      expect(await rows(h)).toEqual(before);
      expect(await definition(h, 't')).toEqual(await definition(h, 'ref'));
      expect(await counter(h)).toBe(nextId);
      await h.newClient.insert('t', { account: 1, note: 'after contract' });
      const [latest] = await h.newClient.raw<{ id: number }>(`SELECT id FROM t WHERE note = 'after contract'`);
      expect(Number(latest!.id)).toBe(nextId);
      // The foreign key has its name back and still acts.
      await h.newClient.raw('DELETE FROM accounts WHERE id = 3');
      expect(await h.newClient.raw('SELECT id FROM t WHERE account = 3')).toEqual([]);
      expect(await leftovers(h)).toEqual([]);
    });
  });

  it('under random inserts, updates, key moves and deletes from 3 connections all through a backfill of 100+ batches, the table after the swap holds exactly the rows it held before', async (ctx) => {
    const rowsTotal = 3000;
    const setup = SETUP.replace(`seq_1_to_${ROWS}`, `seq_1_to_${rowsTotal}`).replace(`id > ${ROWS - 5}`, `id > ${rowsTotal - 5}`).replace(`CONCAT('note ', seq)`, 'NULL');
    await scenario(ctx, { setup, operations: [CHANGE], config: { backfill: { targetBatchMs: 50, initialBatchSize: 25, minBatchSize: 25, maxBatchSize: 25, pauseMs: 0 } } }, async (h) => {
      await h.expand();
      let writing = true;
      let writes = 0;
      const errors: string[] = [];
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      const writer = async () => {
        while (writing) {
          const id = 1 + random(rowsTotal + 200);
          try {
            const pick = random(10);
            if (pick < 4) await h.oldClient.raw('UPDATE t SET n = n + 1, account = 1 + MOD(n, 3) WHERE id = ?', [id]);
            else if (pick < 6) await h.oldClient.raw('INSERT INTO t (account, n) VALUES (2, ?)', [id]);
            else if (pick < 8) await h.oldClient.raw('DELETE FROM t WHERE id = ?', [id]);
            else await h.oldClient.raw('UPDATE IGNORE t SET id = id + 100000 WHERE id = ?', [id]);
            writes++;
          } catch (error) {
            errors.push((error as Error).message);
          }
        }
      };
      const writers = [writer(), writer(), writer()];
      await h.backfill();
      writing = false;
      await Promise.all(writers);
      expect(errors).toEqual([]);
      const walk = h.reporter.snapshots.at(-1)!;
      expect(walk.batches).toBeGreaterThan(100);
      expect(writes).toBeGreaterThan(100);
      const before = await rows(h);
      await h.contract();
      expect(await rows(h)).toEqual(before);
    });
  });

  it('behind a 3 s open transaction on the table, contract\'s swap never queues the app (NOWAIT with retries) and finishes once the transaction ends', async (ctx) => {
    const config = { retries: { count: 40, initialDelayMs: 100, maxDelayMs: 400 } };
    await scenario(ctx, { setup: SETUP, operations: [CHANGE], config }, async (h) => {
      await h.expand();
      await h.backfill();
      const traffic = startAppTraffic(h.db, { table: 't', ids: [5, 6, 7, 20, 40, 50] });
      try {
        await sleep(300); // the pool's connections are made before the lock is taken
        const long = holdTableLock(h.db, 't', 3000);
        await long.acquired;
        await sleep(200);
        await h.contract();
        const contractedAt = Date.now();
        const committedAt = await long.committed;
        await sleep(200);
        const stats = await traffic.stop();
        console.log(`[table copy] worst app query behind a 3 s transaction: ${stats.worstMs} ms (${stats.samples.length} queries, ${h.reporter.retries.length} retries)`);
        // The RENAME waited for the transaction by retrying, not in the lock queue, where every app query would have waited behind it.
        expect(contractedAt).toBeGreaterThanOrEqual(committedAt - 50);
        expect(h.reporter.retries.length).toBeGreaterThanOrEqual(1);
        expect(stats.errors).toEqual([]);
        expect(stats.samples.length).toBeGreaterThan(50);
        expect(stats.worstMs).toBeLessThan(500);
      } catch (error) {
        await traffic.stop().catch(() => undefined);
        throw error;
      }
      expect((await definition(h, 't')).join('\n')).toContain('`id` bigint(20) NOT NULL AUTO_INCREMENT');
    });
  });

  it('rolls back after the backfill to the table as it was, with the app\'s writes', async (ctx) => {
    await scenario(ctx, { setup: SETUP, operations: [CHANGE] }, async (h) => {
      const s0 = await h.schemaSnapshot();
      await h.expand();
      await h.backfill();
      await h.oldClient.insert('t', { account: 2, note: 'kept' });
      const before = await rows(h);
      await h.rollback();
      expect(await h.schemaSnapshot()).toEqual(s0);
      expect(await rows(h)).toEqual(before);
      expect(await leftovers(h)).toEqual([]);
    });
  });

  it('a row the copy misses fails contract before the swap, and a rerun of the backfill copies it', async (ctx) => {
    await scenario(ctx, { setup: SETUP, operations: [CHANGE] }, async (h) => {
      await h.expand();
      await h.backfill();
      // What a lost write would leave: a row in the table and not in its copy.
      const [copy] = await h.newClient.raw<{ name: string }>(`SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'tandem\\_%\\_copy'`);
      await h.newClient.raw(`DELETE FROM \`${copy!.name}\` WHERE id = 7`);
      await expect(h.contract()).rejects.toThrow(/rows of t are missing from its copy tandem_\w+_copy .*nothing was swapped: run `tandem rollback` \(it drops the copy\), then expand and backfill again/);
      expect((await definition(h, 't')).join('\n')).toContain('`id` int(11) NOT NULL AUTO_INCREMENT');
      await h.tandem.rollback(OP_ID);
      await h.expand();
      await h.backfill();
      await h.contract();
      expect((await definition(h, 't')).join('\n')).toContain('`id` bigint(20) NOT NULL AUTO_INCREMENT');
      expect(await h.newClient.raw('SELECT id FROM t WHERE id = 7')).toHaveLength(1);
    });
  });

  it('refuses what a copy cannot carry, before expand changes anything', async (ctx) => {
    const setup = `
${SETUP}
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (id int PRIMARY KEY, parent_id int, CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id));
CREATE TABLE audited (id int PRIMARY KEY, x int);
CREATE TRIGGER audited_x BEFORE UPDATE ON audited FOR EACH ROW SET NEW.x = NEW.x + 0;
CREATE TABLE extension (id int PRIMARY KEY, CONSTRAINT extension_of FOREIGN KEY (id) REFERENCES accounts (id));
CREATE TABLE history (id int PRIMARY KEY, x int) WITH SYSTEM VERSIONING;`;
    await scenario(ctx, { setup, operations: [] }, async (h) => {
      const refused = async (operations: unknown[], message: RegExp) => {
        await writeFile(join(h.dir, `${OP_ID}.json`), `${JSON.stringify({ operations })}\n`);
        const s0 = await h.schemaSnapshot();
        await expect(h.expand()).rejects.toThrow(message);
        expect(await h.schemaSnapshot()).toEqual(s0);
      };
      const change = (name: string) => ({ alterColumn: { table: name, column: 'id', type: 'bigint' } });
      await refused([change('parent')], /tandem copies parent to change its key column id online, and foreign keys reference it \(child\.child_parent\).*drop them before this migration/);
      await refused([change('audited')], /its triggers \(audited_x\) would stay on the old table: drop them before this migration and create them again after its contract/);
      await refused([change('extension')], /id is in its foreign key extension_of, whose referenced column must have the same type/);
      await refused([change('history')], /a system-versioned table's history cannot be copied/);
      await refused([{ alterColumn: { table: 't', column: 'id', type: 'bigint', up: 'id + 1' } }], /"up" and "down" are for a twin column; a key column's type change copies the table/);
      await refused([CHANGE, { addColumn: { table: 't', column: { name: 'extra', type: 'int' } } }], /operation 1 \(addColumn\) names table t, which operation 0 \(alterColumn\) replaces by a copy at contract/);
    });
  });
});
