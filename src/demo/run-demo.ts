import path from 'node:path';
import { fileURLToPath } from 'node:url';
import chalk from 'chalk';
import { configSchema } from '../config/schema.js';
import { openSession, type Session } from '../db/session.js';
import { parseConnectionUrl } from '../db/url.js';
import { loadMigrations } from '../migrations/load-migrations.js';
import type { Migration } from '../migrations/model.js';
import { Ledger } from '../runner/ledger.js';
import type { Reporter } from '../runner/reporter.js';
import { acquireRunnerLock } from '../runner/runner-lock.js';
import { Runner } from '../runner/runner.js';
import { SCENARIOS, type AppStatement, type Scenario } from './scenarios.js';
import { schemaSnapshot } from './schema-snapshot.js';

type AppVersion = 'old' | 'new';
/** S0…S3 and R are schema states; `backfill` is the traffic between backfill batches. */
type State = 'S0' | 'S1' | 'backfill' | 'S2' | 'S3' | 'R';

interface Cell {
  ran: number;
  failed: string[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The two stories the demo tells: SQL migrations with hand-written shims, then declarative operations. */
export const BUNDLED_EXAMPLES = [
  { dir: path.resolve(here, '../../migrations-examples/postgres'), title: 'SQL migrations with hand-written dual-write triggers' },
  { dir: path.resolve(here, '../../migrations-examples/operations'), title: 'declarative operations (JSON, YAML, TypeScript) with generated shims' },
];

/**
 * `tandem demo`: the examples through every phase on an in-memory embedded PostgreSQL, while a
 * simulated old and new app version write and read (also between backfill batches), then a
 * rollback on a second database. Prints what happened; exit 1 if any app statement failed where
 * it must work.
 */
export async function runDemo(options: { examplesDir?: string; log?: (line: string) => void } = {}): Promise<number> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const stories = options.examplesDir ? [{ dir: path.resolve(options.examplesDir), title: path.basename(options.examplesDir) }] : BUNDLED_EXAMPLES;
  let failures = 0;
  for (const [index, story] of stories.entries()) {
    if (index > 0) log('');
    log(chalk.bold.underline(`Part ${index + 1} of ${stories.length}: ${story.title}`));
    failures += await runStory(story.dir, log);
  }
  return failures === 0 ? 0 : 1;
}

/** One examples directory: its first migration is the base schema (S0), the rest are the changes. */
async function runStory(dir: string, log: (line: string) => void): Promise<number> {
  const migrations = loadMigrations(dir, 'postgres', process.cwd());
  const base = migrations.slice(0, 1);
  const phased = migrations.slice(1);
  const scenarios = SCENARIOS.filter((s) => phased.some((m) => m.name === s.migration));
  const matrix = new Map<string, Cell>();
  let nextId = 100_000;

  const session = await openDemoDatabase();
  log(chalk.bold(`tandem demo: ${migrations.length} example migrations on an embedded PostgreSQL (PGlite ${session.serverVersion}, in memory)`));
  log(chalk.dim(`no server, nothing installed, nothing left behind; migrations from ${path.relative(process.cwd(), dir) || dir}`));
  try {
    const app = (version: AppVersion, state: State, scenario: Scenario, kind: 'write' | 'read', id: number) =>
      runApp(session, matrix, version, state, scenario, kind, id);
    /** Each app version writes a row; where both run, each reads the other's row. */
    const traffic = async (state: State, versions: AppVersion[], quiet = false) => {
      for (const scenario of scenarios) {
        const oldId = nextId++;
        const newId = nextId++;
        if (versions.includes('old')) await app('old', state, scenario, 'write', oldId);
        if (versions.includes('new')) await app('new', state, scenario, 'write', newId);
        if (versions.includes('old') && versions.includes('new')) {
          await app('new', state, scenario, 'read', oldId);
          await app('old', state, scenario, 'read', newId);
        }
      }
      if (!quiet) log(`  ${versions.map((v) => cellText(matrix, v, state)).join('   ')}`);
    };
    const reporter = demoReporter(log);
    const runner = (subset: Migration[], betweenBatches?: () => Promise<void>) => new Runner(session, subset, reporter, betweenBatches ? { betweenBatches } : {});

    await runner(base).expand();
    await runner(base).backfill();
    await runner(base).contract();
    log('');
    log(`${chalk.bold('S0')} the base schema (${base.map((m) => m.name).join(', ')}); the old app version serves traffic`);
    log(chalk.dim(`  simulated apps: ${scenarios.map((s) => `${s.table} (${s.migration})`).join(', ')}`));
    await traffic('S0', ['old']);

    const all = () => runner(migrations);
    log('');
    log(`${chalk.cyan('▶ tandem expand')}   ${chalk.dim('pre-deploy: additive changes and dual-write triggers; the old app keeps working')}`);
    await all().expand();
    log(`${chalk.bold('S1')} expanded: the new version rolls out beside the old one`);
    await traffic('S1', ['old', 'new']);

    log('');
    log(`${chalk.cyan('▶ tandem backfill')} ${chalk.dim('deploy: keyset batches; both versions keep writing between batches')}`);
    await runner(migrations, () => traffic('backfill', ['old', 'new'], true)).backfill();
    log(`  between the batches: ${cellText(matrix, 'old', 'backfill')}   ${cellText(matrix, 'new', 'backfill')}`);
    log(`${chalk.bold('S2')} backfilled: every row has its new columns filled`);
    await traffic('S2', ['old', 'new']);

    log('');
    log(`${chalk.cyan('▶ tandem contract')} ${chalk.dim('post-deploy: the old version is retired; its columns and the triggers go')}`);
    await all().contract();
    log(`${chalk.bold('S3')} contracted: only the new version runs`);
    await traffic('S3', ['new']);
    const retired = await tryOldAppAt(session, scenarios[0], nextId++);
    if (retired) log(chalk.dim(`  (the old version would now fail, as expected once it is retired: ${retired})`));

    await rollbackStory(log, base, phased, matrix, (n) => (nextId += n) - n);
    await ledgerSummary(session, log);
  } finally {
    await session.close();
  }
  return printMatrix(log, matrix);
}

async function openDemoDatabase(): Promise<Session> {
  // Small batches, so the simulated apps get to write between them.
  const config = configSchema.parse({ backfill: { initialBatchSize: 50, maxBatchSize: 50 } });
  const session = await openSession(parseConnectionUrl('pglite:memory'), config, 'demo');
  await acquireRunnerLock(session, new Ledger(session), { waitSeconds: 0, command: 'demo' });
  return session;
}

async function runApp(session: Session, matrix: Map<string, Cell>, version: AppVersion, state: State, scenario: Scenario, kind: 'write' | 'read', id: number): Promise<void> {
  const statement: AppStatement = version === 'old' ? (kind === 'write' ? scenario.oldWrite : scenario.oldRead) : kind === 'write' ? scenario.newWrite : scenario.newRead;
  const key = `${version} ${state}`;
  const cell = matrix.get(key) ?? { ran: 0, failed: [] };
  matrix.set(key, cell);
  cell.ran++;
  try {
    const bindings = Array.from(statement.sql.matchAll(/\?/g), () => id);
    const rows = session.adapter.rows<{ v: unknown }>(await session.db.raw(statement.sql, bindings));
    if (statement.expect !== undefined) {
      const got = rows[0]?.v === undefined || rows[0]?.v === null ? 'nothing' : String(rows[0].v);
      if (got !== statement.expect) cell.failed.push(`the ${version} app read ${got} from ${scenario.table} row ${id}, expected ${statement.expect}`);
    }
  } catch (error) {
    cell.failed.push(`the ${version} app's ${kind} on ${scenario.table} failed: ${(error as Error).message.split('\n')[0]}`);
  }
}

async function tryOldAppAt(session: Session, scenario: Scenario | undefined, id: number): Promise<string | null> {
  if (!scenario) return null;
  try {
    await session.db.transaction(async (trx) => {
      await trx.raw(scenario.oldWrite.sql, Array.from(scenario.oldWrite.sql.matchAll(/\?/g), () => id));
      throw new Error('rollback');
    });
    return null;
  } catch (error) {
    const message = (error as Error).message.split('\n')[0]!;
    return message === 'rollback' ? null : message;
  }
}

/** On a fresh database: expand, let the old app write, roll back, and compare the schema with S0. */
async function rollbackStory(log: (line: string) => void, base: Migration[], phased: Migration[], matrix: Map<string, Cell>, ids: (n: number) => number): Promise<void> {
  const session = await openDemoDatabase();
  try {
    const runner = (subset: Migration[]) => new Runner(session, subset, demoReporter(() => undefined), {});
    await runner(base).expand();
    await runner(base).backfill();
    await runner(base).contract();
    const s0 = await schemaSnapshot(session);
    await runner([...base, ...phased]).expand();
    const scenarios = SCENARIOS.filter((s) => phased.some((m) => m.name === s.migration));
    for (const scenario of scenarios) await runApp(session, matrix, 'old', 'R', scenario, 'write', ids(1));
    const summary = await runner([...base, ...phased]).rollback();
    const after = await schemaSnapshot(session);
    const same = JSON.stringify(s0) === JSON.stringify(after);
    log('');
    log(`${chalk.cyan('▶ tandem rollback')} ${chalk.dim('on a second embedded database, after expand: undo before contract')}`);
    log(`  rolled back ${summary.ran.length} migrations, newest first`);
    log(same ? `  ${chalk.green('✓')} the schema equals S0 again (${s0.length} columns, indexes and triggers compared)` : `  ${chalk.red('✗')} the schema differs from S0: ${diff(s0, after)}`);
    if (!same) matrix.set('old R', { ran: 1, failed: [`rollback left the schema different from S0: ${diff(s0, after)}`] });
    for (const scenario of scenarios) await runApp(session, matrix, 'old', 'R', scenario, 'write', ids(1));
    log(`  ${cellText(matrix, 'old', 'R')}`);
  } finally {
    await session.close();
  }
}

function diff(a: string[], b: string[]): string {
  const missing = a.filter((x) => !b.includes(x));
  const extra = b.filter((x) => !a.includes(x));
  return [...missing.map((x) => `missing ${x}`), ...extra.map((x) => `extra ${x}`)].join('; ');
}

async function ledgerSummary(session: Session, log: (line: string) => void): Promise<void> {
  const events = await new Ledger(session).events();
  const succeeded = events.filter((e) => e.outcome === 'succeeded').length;
  log('');
  log(`${chalk.bold('Ledger')} tandem.events holds ${events.length} phase transitions (${succeeded} succeeded); \`tandem status\` reads the same ledger`);
}

function cellText(matrix: Map<string, Cell>, version: AppVersion, state: State): string {
  const cell = matrix.get(`${version} ${state}`);
  if (!cell) return '';
  const label = `${version} app`;
  if (cell.failed.length === 0) return `${chalk.green('✓')} ${label}: ${cell.ran} statements`;
  return `${chalk.red('✗')} ${label}: ${cell.failed.length} of ${cell.ran} failed: ${cell.failed[0]}`;
}

function printMatrix(log: (line: string) => void, matrix: Map<string, Cell>): number {
  const states: State[] = ['S0', 'S1', 'backfill', 'S2', 'S3', 'R'];
  const width = (state: State) => Math.max(5, state.length + 2);
  log('');
  log(chalk.bold(`            ${states.map((s) => s.padEnd(width(s))).join('')}`));
  let failures = 0;
  for (const version of ['old', 'new'] as const) {
    const cells = states.map((state) => {
      const cell = matrix.get(`${version} ${state}`);
      if (!cell) return chalk.dim('—'.padEnd(width(state)));
      failures += cell.failed.length;
      return cell.failed.length === 0 ? chalk.green('✓'.padEnd(width(state))) : chalk.red('✗'.padEnd(width(state)));
    });
    log(`  ${`${version} app`.padEnd(10)}${cells.join('')}`);
  }
  log('');
  if (failures === 0) log(chalk.green('Both app versions worked at every schema state they run at. Zero downtime.'));
  else log(chalk.red(`${failures} app statement(s) failed where they must work.`));
  return failures;
}

function demoReporter(log: (line: string) => void): Reporter {
  return {
    info: () => undefined,
    warn: (message) => log(chalk.yellow(`  warning: ${message}`)),
    phaseStarted: () => undefined,
    phaseFinished: (id, phase, outcome, ms, detail) => log(`  ${outcome === 'succeeded' ? chalk.green('✓') : chalk.red('✗')} ${phase} ${id} ${chalk.dim(`${detail}, ${Math.round(ms)} ms`)}`),
    retry: (id, where) => log(chalk.yellow(`  retry ${id} at ${where}`)),
    progress: (snapshot) => {
      if (snapshot.done) log(chalk.dim(`    backfilled ${snapshot.table}: ${snapshot.rowsDone} rows in ${snapshot.batches} batches`));
    },
  };
}
