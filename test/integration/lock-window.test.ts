/**
 * How long a PostgreSQL step holds its table lock: an ALTER TABLE's ACCESS EXCLUSIVE lock lasts until
 * the step commits, and app queries queue behind it, so every round trip after the first lock-taking
 * statement is time the app waits. This test records what tandem sends (knex's query events) during
 * a type change's expand and contract and checks the steps' shape: progress record before the
 * statements, SET LOCALs only when they change; over node-pg the step's statements and their
 * settings in one query (a VALIDATE, which scans the table, in one of its own), then the COMMIT —
 * which does not wait for the WAL flush, while the phase's completion record does. PGlite takes one
 * statement per call: the function, the ALTER, then only the CREATE TRIGGER before the COMMIT. And
 * that the result is the same schema as before: the twin and its shim work, and contract swaps it in.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Tandem } from '../../src/index.js';
import { createTestDatabase } from '../support/databases.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

describe.each(['postgres', 'pglite'] as const)('the table-lock window of a transaction step on %s', (kind) => {
  it('a type change: nothing but the step\'s own statements between its first lock and its COMMIT', async (ctx) => {
    const db = await createTestDatabase(kind, `lockwin_${kind}`);
    if (!db) return ctx.skip(`${kind} unavailable`);
    // db.kind decides the checks below: without a server, postgres becomes PGlite.
    cleanups.push(() => db.drop());
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-lockwin-'));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    fs.writeFileSync(path.join(dir, '20260301000000_amount.json'), JSON.stringify({ operations: [{ alterColumn: { table: 'items', column: 'amount', type: 'bigint' } }] }));
    const tandem: Tandem = await connect({ url: db.url, dir, config: { waitSeconds: 5 } });
    cleanups.push(() => tandem.close());
    const sql = tandem.session.db;
    await sql.raw('CREATE TABLE items (id int PRIMARY KEY, amount int NOT NULL)');
    await sql.raw('INSERT INTO items VALUES (1, 10), (2, 20)');

    const sent: string[] = [];
    const record = (query: { sql: string }) => sent.push(query.sql.trim());
    sql.on('query', record);
    await tandem.expand();
    sql.off('query', record);

    const alter = sent.findIndex((q) => /ALTER TABLE "items" ADD COLUMN/.test(q));
    const fn = sent.findIndex((q) => /CREATE OR REPLACE FUNCTION "tandem_\w+_alter_fn"/.test(q));
    const progress = sent.findIndex((q) => /^update "tandem"."migrations" set "statements_done"/.test(q));
    const commit = sent.findIndex((q, i) => i > alter && /^COMMIT/i.test(q));
    expect(alter).toBeGreaterThan(0);
    expect(progress).toBeGreaterThan(-1);
    expect(progress).toBeLessThan(alter);
    const stepStart = sent.lastIndexOf('BEGIN;', alter);
    expect(stepStart).toBeGreaterThan(-1); // else the step checks below would look at nothing
    const step = sent.slice(stepStart, commit + 1);
    if (db.kind === 'postgres') {
      // One query: the function, the ALTER with the blocking-lock timeout riding along, the trigger;
      // then the commit, which does not wait for the WAL flush.
      expect(fn).toBe(alter);
      expect(commit).toBe(alter + 1);
      expect(sent[alter]).toMatch(/^CREATE OR REPLACE FUNCTION [^]*\n;\nSET LOCAL lock_timeout = '50ms'\n;\nALTER TABLE "items" ADD COLUMN [^]*\n;\nCREATE TRIGGER "tandem_\w+_alter" BEFORE INSERT OR UPDATE ON "items"[^;]*$/);
      expect(step).toContain('SET LOCAL synchronous_commit = off');
    } else {
      expect(fn).toBeGreaterThan(progress);
      expect(fn).toBeLessThan(alter);
      // After the lock is taken: the trigger, then the commit.
      expect(sent.slice(alter + 1, commit)).toHaveLength(1);
      expect(sent[alter + 1]).toMatch(/^CREATE TRIGGER "tandem_\w+_alter" BEFORE INSERT OR UPDATE ON "items"/);
      // PGlite runs one statement per call, and lives in tandem's process: commits stay synchronous.
      expect(sent[alter - 1]).toBe("SET LOCAL lock_timeout = '50ms'");
      expect(step.join('\n')).not.toMatch(/synchronous_commit/);
    }
    // A SET LOCAL is sent only when it changes the value: never the same one twice in a row.
    const sets = step.flatMap((q) => q.split(/\s*;\s*/)).filter((q) => /^SET LOCAL/i.test(q));
    const last = new Map<string, string>();
    for (const set of sets) {
      const name = set.split(/\s+/)[2]!;
      expect(last.get(name)).not.toBe(set);
      last.set(name, set);
    }
    expect(sets.filter((set) => set.startsWith('SET LOCAL lock_timeout'))).toHaveLength(2); // the step's, then the ALTER's shorter one
    // The completion record after the step commits with the session's synchronous_commit (on).
    expect(sent.slice(commit + 1).join('\n')).not.toMatch(/synchronous_commit/);
    expect(tandem.session.adapter.rows<{ synchronous_commit: string }>(await sql.raw('SHOW synchronous_commit'))[0]?.synchronous_commit).toBe('on');

    // The schema works as before: the old app's write reaches the twin through the shim.
    await sql.raw('UPDATE items SET amount = 11 WHERE id = 1');
    const twin = tandem.session.adapter.rows<{ column_name: string }>(await sql.raw(`SELECT column_name FROM information_schema.columns WHERE table_name = 'items' AND column_name LIKE 'tandem_%'`))[0]!.column_name;
    const rows = tandem.session.adapter.rows<Record<string, unknown>>(await sql.raw(`SELECT id, "${twin}"::text AS twin FROM items ORDER BY id`));
    expect(rows).toEqual([{ id: 1, twin: '11' }, { id: 2, twin: null }]);

    // Contract: after the VALIDATE (alone: it scans the table), the swap's statements, from SET NOT
    // NULL to the RENAME, in one query on node-pg; each in its own on PGlite.
    await tandem.backfill();
    sent.length = 0;
    sql.on('query', record);
    await tandem.contract();
    sql.off('query', record);
    const validate = sent.findIndex((q) => /VALIDATE CONSTRAINT/.test(q));
    const rename = sent.findIndex((q) => /RENAME COLUMN/.test(q));
    const swapCommit = sent.findIndex((q, i) => i > validate && /^COMMIT/i.test(q));
    expect(validate).toBeGreaterThan(0);
    expect(sent[validate]).not.toMatch(/SET NOT NULL/);
    expect(rename).toBeGreaterThan(validate);
    expect(rename).toBeLessThan(swapCommit);
    const swap = sent.slice(validate + 1, swapCommit);
    if (db.kind === 'postgres') {
      expect(swap).toHaveLength(1);
      expect(swap[0]).toMatch(/SET NOT NULL[^]*DROP TRIGGER[^]*DROP COLUMN "amount"[^]*RENAME COLUMN/);
    } else {
      expect(swap.length).toBeGreaterThan(3);
    }
    const after = tandem.session.adapter.rows<{ data_type: string }>(await sql.raw(`SELECT data_type FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'amount'`));
    expect(after).toEqual([{ data_type: 'bigint' }]);
  }, 60_000);
});
