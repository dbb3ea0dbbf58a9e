/**
 * Crash anywhere (issue 7 parts 1, 2 and 7): the CLI is SIGKILLed at a fixed, seeded sample of
 * fault points in expand, backfill, contract and rollback — before a step, inside a step's
 * transaction, between a MySQL DDL statement and its ledger record, inside a backfill batch, during
 * a concurrent index build, between migrations — then the same command is rerun and the pipeline
 * goes on (or, in the rollback scenario, rolls back instead). Each end state must equal a clean
 * run's: schema (no twin column, orphan trigger or function left), ledger, a checksum of every row,
 * no INVALID index, and a free runner lock. A background writer writes all along and must see no
 * error and lose no write. See harness.ts; `npm run soak` runs many more cases, random-time kills too.
 *
 * TANDEM_RELIABILITY_SEED and TANDEM_RELIABILITY_CASES change the sample.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appKnex } from '../support/app-traffic.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import {
  buildPrivateCli,
  compareEndStates,
  describeFault,
  endState,
  referenceRun,
  removePrivateCli,
  runCase,
  runnerLockFree,
  FRAGILE_POINTS,
  sampleFaults,
  seed,
  seededRandom,
  startWriter,
  workdir,
  type Dialect,
  type EndState,
  type Scenario,
} from './harness.js';

const SEED = Number(process.env.TANDEM_RELIABILITY_SEED ?? 20261127);
// Sized to stay near 60-90 s per dialect on a loaded 2-core machine (MySQL DDL is the slower).
const CASES: Record<Dialect, number> = {
  postgres: Number(process.env.TANDEM_RELIABILITY_CASES ?? 7),
  mysql: Number(process.env.TANDEM_RELIABILITY_CASES ?? 5),
};

beforeAll(() => void buildPrivateCli(), 180_000);
afterAll(() => removePrivateCli());

describe.each(['postgres', 'mysql'] as const)('crash anywhere on %s', (dialect: Dialect) => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function freshDatabase(label: string): Promise<TestDatabase | null> {
    const db = await createTestDatabase(dialect, label);
    if (!db || db.kind === 'pglite') return null;
    cleanups.push(() => db.drop());
    const app = appKnex(db, 1);
    try {
      await seed(app, dialect);
    } finally {
      await app.destroy();
    }
    return db;
  }

  it(`survives ${CASES[dialect]} seeded kills (seed ${SEED}): schema, ledger, every row and the writer's writes as after a clean run`, async (ctx) => {
    const started = Date.now();
    const writerErrors: string[] = [];
    const references = {} as Record<Scenario, EndState>;
    const counts = {} as Parameters<typeof sampleFaults>[0];
    for (const scenario of ['forward', 'rollback'] as const) {
      const db = await freshDatabase(`rel ref ${scenario}`);
      if (!db) return ctx.skip(`${dialect} server unavailable`);
      const dir = workdir(dialect);
      cleanups.push(dir.remove);
      const writer = startWriter(db);
      counts[scenario] = (await referenceRun(db, dir.cwd, scenario)).counts;
      writerErrors.push(...(await writer.stop()).errors.map((e) => `reference ${scenario}: ${e}`));
      references[scenario] = await endState(db, dialect);
      expect(await runnerLockFree(db, dialect)).toBe(true);
    }
    // The reference itself is what the migrations mean to do.
    expect(references.forward.invalidIndexes).toEqual([]);
    expect(references.forward.schema.filter((line) => /^col (public\.)?accounts\.(handle|nickname|score) /.test(line)).map((line) => line.split(' ').slice(0, 3).join(' '))).toEqual(
      dialect === 'postgres' ? ['col public.accounts.handle character', 'col public.accounts.score bigint'] : ['col accounts.handle varchar(50)', 'col accounts.score bigint(20)'],
    );
    expect(references.forward.schema.some((line) => line.startsWith('trg accounts.') || line.startsWith('trg orders.'))).toBe(false);
    expect(references.forward.ledger.map((row) => row.state)).toEqual(['contracted', 'contracted', 'contracted']);
    expect(references.rollback.ledger.map((row) => row.state)).toEqual(['rolled_back', 'rolled_back', 'rolled_back']);

    const faults = sampleFaults(counts, CASES[dialect], seededRandom(SEED), FRAGILE_POINTS[dialect]);
    const failures: string[] = [];
    const lines: string[] = [];
    let killed = 0;
    for (const fault of faults) {
      const db = await freshDatabase('rel crash');
      const dir = workdir(dialect);
      cleanups.push(dir.remove);
      const writer = startWriter(db!);
      let problems: string[] = [];
      let log: string[] = [];
      try {
        const outcome = await runCase(db!, dir.cwd, fault);
        log = outcome.log;
        if (outcome.killed) killed++;
        problems = compareEndStates(await endState(db!, dialect), references[fault.scenario], fault.scenario);
        if (!(await runnerLockFree(db!, dialect))) problems.push('the runner lock is still held');
      } catch (error) {
        problems.push(String((error as Error).message ?? error));
      }
      const stats = await writer.stop();
      writerErrors.push(...stats.errors.map((e) => `${describeFault(fault)}: ${e}`));
      lines.push(`${problems.length === 0 ? 'ok  ' : 'FAIL'} ${describeFault(fault)} [${log.join('; ')}] writer ${stats.inserts} inserts, ${stats.updates} updates`);
      if (problems.length > 0) failures.push(`${describeFault(fault)}:\n  ${problems.join('\n  ')}`);
      await db!.drop();
    }
    console.log(`[reliability ${dialect}] seed ${SEED}: ${faults.length - failures.length}/${faults.length} survived (${killed} killed at their point) in ${Math.round((Date.now() - started) / 1000)} s\n${lines.join('\n')}`);
    expect(killed).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    expect(writerErrors).toEqual([]);
  }, 600_000);
});
