/**
 * Ledger version 2 adds `started_statement` / `started_fingerprint` (the crash-safety record of a
 * statement that commits on its own). A ledger written by version 1 is upgraded in place by the
 * next command that takes the runner lock, keeping its rows.
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
      // Write a version 1 ledger: expand one migration, then take the version 2 columns away.
      await tandem.expand();
      for (const column of ['started_statement', 'started_fingerprint']) await tandem.session.db.raw(`ALTER TABLE ${table('migrations')} DROP COLUMN ${column}`);
      await tandem.session.db.raw(`UPDATE ${table('meta')} SET value = '1' WHERE ${mysql ? '`key`' : '"key"'} = 'ledger_version'`);

      writeFileSync(join(dir, '20260902000000_two.sql'), '-- tandem:expand\nCREATE TABLE two_t (id int PRIMARY KEY);\n');
      await tandem.expand();
      const rows = rowsOf<{ id: string; state: string; started_statement: unknown }>(await tandem.session.db.raw(`SELECT id, state, started_statement FROM ${table('migrations')} ORDER BY id`));
      expect(rows.map((row) => [row.id, row.state])).toEqual([
        ['20260901000000_one', 'expanded'],
        ['20260902000000_two', 'expanded'],
      ]);
      const version = rowsOf<{ value: string }>(await tandem.session.db.raw(`SELECT value FROM ${table('meta')} WHERE ${mysql ? '`key`' : '"key"'} = 'ledger_version'`));
      expect(version).toEqual([{ value: '2' }]);
    } finally {
      await tandem.close();
    }
  }, 60_000);
});
