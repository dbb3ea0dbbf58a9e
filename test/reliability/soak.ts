/**
 * `npm run soak`: many crash cases per dialect (see harness.ts), printed as survived/total.
 *
 *   npm run soak -- [--runs N] [--seed S] [--dialect postgres|mysql] [--sweep]
 *
 * --runs     cases per dialect (default 200): two thirds at a seeded fault point, one third a
 *            SIGKILL after a random delay within the command's clean duration
 * --seed     the seed of the sample (default: the time); printed, so a failure can be replayed
 * --sweep    instead: every hit of every fault point of one clean run, in order (exhaustive)
 * --points   with --sweep: only these fault points (comma-separated), e.g. step-after-statement
 * --dialect  only one of the two
 *
 * Servers: TANDEM_TEST_PG_URL and TANDEM_TEST_MYSQL_URL (default: the local servers on 5432 and
 * 3306). Exit code 1 when any case did not survive.
 */
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { appKnex } from '../support/app-traffic.js';
import {
  FRAGILE_POINTS,
  buildPrivateCli,
  compareEndStates,
  describeFault,
  endState,
  referenceRun,
  removePrivateCli,
  runCase,
  runnerLockFree,
  sampleFaults,
  seed,
  seededRandom,
  startWriter,
  workdir,
  type Command,
  type Dialect,
  type EndState,
  type Fault,
  type Reference,
  type Scenario,
} from './harness.js';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
};
const runs = Number(option('runs') ?? 200);
const seedValue = Number(option('seed') ?? Date.now() % 1_000_000_007);
const sweep = args.includes('--sweep');
const onlyPoints = option('points')?.split(',');
const dialects = (option('dialect') ? [option('dialect')] : ['postgres', 'mysql']) as Dialect[];
process.env.TANDEM_TEST_PG_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
process.env.TANDEM_TEST_MYSQL_URL ??= 'mysql://root@127.0.0.1:3306/mysql';

async function freshDatabase(dialect: Dialect, label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(dialect, label);
  if (!db || db.kind === 'pglite') throw new Error(`no ${dialect} server: set ${dialect === 'postgres' ? 'TANDEM_TEST_PG_URL' : 'TANDEM_TEST_MYSQL_URL'}`);
  const app = appKnex(db, 1);
  try {
    await seed(app, dialect);
  } finally {
    await app.destroy();
  }
  return db;
}

function plan(dialect: Dialect, references: Record<Scenario, Reference>, random: () => number): Fault[] {
  const counts = { forward: references.forward.counts, rollback: references.rollback.counts };
  if (sweep) {
    const faults: Fault[] = [];
    for (const scenario of ['forward', 'rollback'] as const) {
      for (const [command, points] of counts[scenario]) {
        if (scenario === 'rollback' && command !== 'rollback') continue;
        for (const [point, hits] of points) if (!onlyPoints || onlyPoints.includes(point)) for (let nth = 1; nth <= hits; nth++) faults.push({ kind: 'point', scenario, command, point, nth });
      }
    }
    return faults;
  }
  const atPoints = Math.ceil((runs * 2) / 3);
  const faults = sampleFaults(counts, atPoints, random, FRAGILE_POINTS[dialect]);
  while (faults.length < runs) {
    const scenario: Scenario = random() < 0.5 ? 'forward' : 'rollback';
    const commands = [...references[scenario].durations.keys()];
    const command: Command = commands[Math.floor(random() * commands.length)]!;
    faults.push({ kind: 'time', scenario, command, afterMs: Math.round(random() * references[scenario].durations.get(command)!) });
  }
  // Interleave the two kinds.
  return faults.map((fault) => ({ fault, key: random() })).sort((a, b) => a.key - b.key).map((entry) => entry.fault);
}

async function soak(dialect: Dialect): Promise<{ survived: number; total: number; writerErrors: number }> {
  const random = seededRandom(seedValue);
  const references = {} as Record<Scenario, Reference>;
  const ends = {} as Record<Scenario, EndState>;
  for (const scenario of ['forward', 'rollback'] as const) {
    const db = await freshDatabase(dialect, `rel soak ref`);
    const dir = workdir(dialect);
    try {
      references[scenario] = await referenceRun(db, dir.cwd, scenario);
      ends[scenario] = await endState(db, dialect);
    } finally {
      dir.remove();
      await db.drop();
    }
  }
  const faults = plan(dialect, references, random);
  let survived = 0;
  let writerErrors = 0;
  for (const [index, fault] of faults.entries()) {
    const db = await freshDatabase(dialect, 'rel soak');
    const dir = workdir(dialect);
    const writer = startWriter(db);
    const problems: string[] = [];
    let log: string[] = [];
    try {
      log = (await runCase(db, dir.cwd, fault)).log;
      problems.push(...compareEndStates(await endState(db, dialect), ends[fault.scenario], fault.scenario));
      if (!(await runnerLockFree(db, dialect))) problems.push('the runner lock is still held');
    } catch (error) {
      problems.push(String((error as Error).message ?? error));
    }
    const stats = await writer.stop();
    writerErrors += stats.errors.length;
    problems.push(...stats.errors.map((e) => `writer: ${e}`));
    if (problems.length === 0) survived++;
    process.stdout.write(`${dialect} ${index + 1}/${faults.length} ${problems.length === 0 ? 'ok  ' : 'FAIL'} ${describeFault(fault)} [${log.join('; ')}]\n`);
    for (const problem of problems) process.stdout.write(`    ${problem.split('\n').join('\n    ')}\n`);
    dir.remove();
    await db.drop();
  }
  return { survived, total: faults.length, writerErrors };
}

buildPrivateCli();
process.stdout.write(`tandem soak: seed ${seedValue}, ${sweep ? 'sweep of every fault point hit' : `${runs} case(s) per dialect`}\n`);
let failed = false;
const results: string[] = [];
try {
  for (const dialect of dialects) {
    const started = Date.now();
    const { survived, total, writerErrors } = await soak(dialect);
    failed ||= survived !== total;
    results.push(`${dialect}: ${survived}/${total} survived, writer errors ${writerErrors}, ${Math.round((Date.now() - started) / 1000)} s`);
  }
} finally {
  removePrivateCli();
}
process.stdout.write(`\n${results.join('\n')}\n`);
process.exit(failed ? 1 : 0);
