/**
 * Ledger version 2 adds `started_statement` / `started_fingerprint` (the crash-safety record of a
 * statement that commits on its own), version 3 `backfills.paused_for` / `paused_since`. A ledger
 * written by version 1 is upgraded in place by the next command that takes the runner lock, keeping its rows.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/index.js';
import { ALL_KINDS, createTestDatabase, type TestDatabase } from '../support/databases.js';
import { rowsOf } from '../support/app-traffic.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe.each(ALL_KINDS)('ledger upgrade on %s', (kind) => {
  let db: TestDatabase | null = null;
  afterAll(async () => {
    await db?.drop();
  });

  it('a version 1 ledger gets the new columns and keeps its rows', async (ctx) => {
    db = await createTestDatabase(kind, 'rel ledger v1');
    if (!db) return ctx.skip(`${kind} unavailable`);
    const dir = mkdtempSync(join(tmpdir(), 'tandem-rel-ledger-'));
    dirs.push(dir);
    writeFileSync(join(dir, '20260901000000_one.sql'), '-- tandem:expand\nCREATE TABLE one_t (id int PRIMARY KEY);\n');
    const tandem = await connect({ url: db.url, dir });
    try {
      const mysql = tandem.session.adapter.dialect === 'mysql';
      const table = (name: string) => (mysql ? `tandem_${name}` : `tandem.${name}`);
      // Write a version 1 ledger: expand one migration, then take the columns of versions 2 and 3 away.
      await tandem.expand();
      for (const column of ['started_statement', 'started_fingerprint']) await tandem.session.db.raw(`ALTER TABLE ${table('migrations')} DROP COLUMN ${column}`);
      for (const column of ['paused_for', 'paused_since']) await tandem.session.db.raw(`ALTER TABLE ${table('backfills')} DROP COLUMN ${column}`);
      await tandem.session.db.raw(`UPDATE ${table('meta')} SET value = '1' WHERE ${mysql ? '`key`' : '"key"'} = 'ledger_version'`);

      writeFileSync(join(dir, '20260902000000_two.sql'), '-- tandem:expand\nCREATE TABLE two_t (id int PRIMARY KEY);\n');
      await tandem.expand();
      const rows = rowsOf<{ id: string; state: string; started_statement: unknown }>(await tandem.session.db.raw(`SELECT id, state, started_statement FROM ${table('migrations')} ORDER BY id`));
      expect(rows.map((row) => [row.id, row.state])).toEqual([
        ['20260901000000_one', 'expanded'],
        ['20260902000000_two', 'expanded'],
      ]);
      const version = rowsOf<{ value: string }>(await tandem.session.db.raw(`SELECT value FROM ${table('meta')} WHERE ${mysql ? '`key`' : '"key"'} = 'ledger_version'`));
      expect(version).toEqual([{ value: '3' }]);
      // Version 3's columns are back too: a paused backfill can say why.
      expect(rowsOf(await tandem.session.db.raw(`SELECT paused_for, paused_since FROM ${table('backfills')}`))).toEqual([]);
    } finally {
      await tandem.close();
    }
  }, 60_000);
});
