/**
 * MariaDB: a DDL step that rewrites a table first waits (at most 30 s) until the InnoDB redo log has
 * room for the table's redo, so a rebuild right after a backfill does not fill the log, where every
 * write on the server waits. At redoThrottlePercent 1 the room is a sliver of the log, so the
 * backfill's own redo leaves too little: the wait must engage, say so, end within its bound, and the
 * contract must still complete. At 100 it is off, with the throttle.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectingReporter, connect } from '../../src/index.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

const ROWS = 6_000;
const MIGRATION = `-- tandem:expand
ALTER TABLE pings ADD COLUMN hits int NOT NULL DEFAULT 0, ALGORITHM=INSTANT;

-- tandem:backfill
UPDATE pings SET hits = hits + 1;

-- tandem:contract
ALTER TABLE pings MODIFY payload varchar(200) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
`;

describe('redo room before a table rewrite on mysql', () => {
  // One database per test: each runs the same migration from the start.
  const dbs: (TestDatabase | null)[] = [];
  const dirs: string[] = [];
  beforeAll(async () => {
    dbs.push(await createTestDatabase('mysql', 'redo room'), await createTestDatabase('mysql', 'redo room off'));
  });
  afterAll(async () => {
    for (const db of dbs) await db?.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  async function migrate(db: TestDatabase, percent: number) {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-redo-room-'));
    dirs.push(dir);
    writeFileSync(join(dir, '20260201000000_room.sql'), MIGRATION);
    const reporter = collectingReporter();
    const tandem = await connect({ url: db.url, dir, reporter, config: { waitSeconds: 5, backfill: { targetBatchMs: 200, initialBatchSize: 1_500, minBatchSize: 1_500, maxBatchSize: 1_500, pauseMs: 0, redoThrottlePercent: percent } } });
    const sql = tandem.session.db;
    try {
      if (!/mariadb/i.test(tandem.session.serverVersion)) return null;
      await sql.raw('CREATE TABLE pings (id int PRIMARY KEY, payload varchar(200))');
      await sql.raw(`INSERT INTO pings (id, payload) SELECT seq, REPEAT('x', 200) FROM seq_1_to_${ROWS}`);
      await tandem.expand();
      await tandem.backfill();
      const started = Date.now();
      await tandem.contract();
      const contractMs = Date.now() - started;
      const [columns] = await sql.raw(`SELECT IS_NULLABLE AS n FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'pings' AND COLUMN_NAME = 'payload'`);
      const notices = reporter.messages.filter((m) => /room before rewriting/.test(m));
      return { contractMs, nullable: columns[0].n as string, notices, phase: (await tandem.status())[0]?.phase };
    } finally {
      await tandem.close();
    }
  }

  it('waits for room before the rebuild, says so once, and stays within 30 s', async (ctx) => {
    const db = dbs[0];
    if (!db) return ctx.skip('mysql server unavailable');
    const result = await migrate(db, 1);
    if (!result) return ctx.skip('the wait reads MariaDB status variables');
    expect(result.notices).toHaveLength(1);
    expect(result.notices[0]).toMatch(/waiting up to 30 s for the InnoDB redo log to have room before rewriting pings \(~\d+ MB; the log is at \d+ % of its maximum\).*redoThrottlePercent/);
    expect(result.contractMs).toBeLessThan(30_000 + 10_000);
    expect(result.nullable).toBe('NO');
    expect(result.phase).toBe('contracted');
  }, 90_000);

  it('does not wait when redoThrottlePercent is 100', async (ctx) => {
    const db = dbs[1];
    if (!db) return ctx.skip('mysql server unavailable');
    const result = await migrate(db, 100);
    if (!result) return ctx.skip('the wait reads MariaDB status variables');
    expect(result.notices).toEqual([]);
    expect(result.nullable).toBe('NO');
    expect(result.phase).toBe('contracted');
  }, 90_000);
});
