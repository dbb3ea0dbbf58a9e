import { Command, CommanderError } from 'commander';
import chalk from 'chalk';
import { ExitCode, TandemError } from '../errors/tandem-error.js';
import { redactSecrets } from '../db/url.js';
import { Runner, type PhaseSummary } from '../runner/runner.js';
import { isRunnerActive } from '../runner/runner-lock.js';
import { readMigrations, resolveContext, withSession, type CommandContext, type GlobalOptions } from './context.js';
import type { Migration } from '../migrations/model.js';
import { runInit } from './commands/init.js';
import { runNew } from './commands/new-migration.js';
import { renderPlan } from './commands/plan.js';
import { scratchTarget } from './scratch-url.js';
import { renderStatusTable, statusJson } from './commands/status.js';
import { cliReporter } from './output.js';
import { registerLintCommand } from './commands/lint.js';
import { registerVerifyCommand } from './commands/verify.js';
import { runDemo } from '../demo/run-demo.js';

const VERSION = '0.1.0';

const EXIT_CODES_HELP = `
Exit codes:
  0  done (or nothing to do)
  1  a phase failed: the ledger records where; \`tandem status\` explains, a rerun or rollback resolves
  2  usage or configuration error: nothing was run
  3  refused by a guard (phase order, edited migration, runner lock held): the refused migration
     did not run; migrations before it in version order may have completed (the output lists them)

Connection: --url, else DATABASE_URL, else "url" in tandem.config.json, else the embedded
PostgreSQL (PGlite) in .tandem/pglite. URLs: postgres://…, mysql://…, mariadb://…, pglite:PATH,
pglite:memory.`;

type PhaseName = 'expand' | 'backfill' | 'contract';

export function buildProgram(): Command {
  const program = new Command('tandem')
    .description('Zero-downtime schema migrations in expand → backfill → contract phases, for PostgreSQL and MySQL/MariaDB.')
    .version(VERSION)
    .option('--url <url>', 'database URL (postgres://, mysql://, mariadb://, pglite:PATH, pglite:memory)')
    .option('--dir <dir>', 'migrations directory (default: "dir" in the config, else migrations)')
    .option('--config <file>', 'config file (default: tandem.config.json)')
    .option('--wait <seconds>', 'how long to wait for another runner holding the lock (default 10)')
    .option('--lock-timeout <ms>', 'PostgreSQL lock_timeout of each step (default 1000); DDL that queues app queries while it waits (ALTER TABLE, triggers) gets blockingLockTimeoutMs (default 50) when that is shorter')
    .option('--retries <n>', 'retries of a step after a lock timeout (default 10)')
    .option('--json', 'machine-readable output: one JSON object per line (status: one document)')
    .showHelpAfterError()
    // Before the subcommands are added, so they inherit it: their usage errors must exit 2, not 1.
    .exitOverride()
    .addHelpText('after', EXIT_CODES_HELP);

  const globals = (command: Command) => command.optsWithGlobals() as GlobalOptions;

  program
    .command('init')
    .description('write tandem.config.json and create the migrations directory')
    .action((_options, command: Command) => {
      const options = globals(command);
      runInit({ dir: options.dir ?? 'migrations', ...(options.url ? { url: options.url } : {}) });
    });

  program
    .command('new')
    .argument('<name...>', 'what the migration does, e.g. add_full_name or "add full name"')
    .description('create a timestamped migration file with the four phase sections')
    .action((words: string[], _options, command: Command) => {
      const name = words.join(' ');
      const context = resolveContext(globals(command), { quiet: true });
      process.stdout.write(`created ${runNew(name, { dir: context.dir, dialect: context.target.dialect })}\n`);
    });

  program
    .command('status')
    .description('the phase of every migration, what failed, and what to run next')
    .action(async (_options, command: Command) => {
      const context = resolveContext(globals(command));
      const migrations = readMigrations(context);
      await withSession(context, 'status', { lock: false }, async (session) => {
        const runner = new Runner(session, migrations, cliReporter({ json: context.json, tty: false }));
        const statuses = await runner.status(await isRunnerActive(session));
        const versionSchema = await runner.versionSchemas.current();
        process.stdout.write(context.json ? `${statusJson(statuses, session.target.display, versionSchema)}\n` : renderStatusTable(statuses, session.target.display, versionSchema));
      });
    });

  program
    .command('plan')
    .argument('[id]', 'one migration (id, unique prefix, or name)')
    .description('print the SQL each phase will run, step by step; runs nothing')
    .option('--scratch-url <url>', 'a server where tandem may create and drop a throw-away database, to compile a pending declarative migration that needs the pending migrations before it (default: PostgreSQL embedded PGlite; MySQL needs one)')
    .action(async (id: string | undefined, options: { scratchUrl?: string }, command: Command) => {
      const context = resolveContext(globals(command));
      const migrations = readMigrations(context);
      const scratch = options.scratchUrl ? scratchTarget(options.scratchUrl, context.target.dialect, { why: `the database is ${context.target.dialect}`, fix: `give a ${context.target.dialect} server of the database's version` }) : null;
      await withSession(context, 'plan', { lock: false }, async (session, ledger) => {
        const runner = new Runner(session, migrations, cliReporter({ json: false, tty: false }));
        const selected = id ? [runner.findMigration(id)] : migrations;
        process.stdout.write(await renderPlan(runner, selected, await ledger.all(), { scratch }));
      });
    });

  const phaseCommands: Array<[PhaseName, string, string]> = [
    ['expand', 'pre-deploy', 'pre-deploy: run the expand section of every pending migration (additive; the old app keeps working)'],
    ['backfill', 'deploy', 'deploy: run the backfill section of every expanded migration, in resumable keyset batches'],
    ['contract', 'post-deploy', 'post-deploy: run the contract section of every backfilled migration (drops what only the old app used)'],
  ];
  for (const [phase, alias, description] of phaseCommands) {
    const command = program.command(phase).alias(alias).description(description);
    if (phase === 'backfill') {
      command.option('--replica <url>', 'a replica whose lag the backfill waits for (repeat for each; replaces backfill.replicas and TANDEM_REPLICA_URLS); needed on MySQL/MariaDB, on PostgreSQL instead of every standby of the primary', (url: string, urls: string[]) => [...urls, url], [] as string[]);
      command.option('--pause-file <path>', 'while this file exists, wait before the next batch; delete it to go on (backfill.pauseFile)');
    }
    command.action(async (options: BackfillOptions, self: Command) => runPhaseCommand(globals(self), phase, undefined, options));
  }

  program
    .command('rollback')
    .argument('[id]', 'one migration; without it, every in-flight migration, newest first')
    .description('undo expand (and backfill) of migrations not yet contracted, with their rollback sections')
    .action(async (id: string | undefined, _options, command: Command) => runPhaseCommand(globals(command), 'rollback', id));

  program
    .command('baseline')
    .argument('<version>', 'the last migration the database already holds: its version (50, 1.2, 20261127120000), id or name')
    .description('adopt an existing database: record every migration up to VERSION as applied, without running it')
    .action(async (target: string, _options, command: Command) => {
      const { result, reporter, migrations } = await withRunner(resolveContext(globals(command)), 'baseline', (runner) => runner.baseline(target));
      const { baselined } = result;
      const later = migrations.length - baselined.length;
      reporter.info(
        `recorded ${baselined.length} migration${baselined.length === 1 ? '' : 's'} as applied without running ${baselined.length === 1 ? 'it' : 'them'}, up to ${baselined.at(-1)}; ${later === 0 ? 'none is pending' : `tandem expand runs the ${later} after ${baselined.length === 1 ? 'it' : 'them'}`}`,
      );
    });

  program
    .command('repair')
    .argument('<id>', 'the migration whose file was edited after it ran (id, unique prefix, or name)')
    .description('accept an edit of sections that already ran: record their checksums as the file has them now; runs nothing')
    .action(async (id: string, _options, command: Command) => {
      const { result, reporter } = await withRunner(resolveContext(globals(command)), 'repair', (runner) => runner.repair(id));
      const { repaired } = result;
      reporter.info(
        repaired.length === 0
          ? 'nothing to repair: the sections that ran match the file'
          : `repaired: recorded the ${repaired.join(', ')} section${repaired.length === 1 ? '' : 's'} as the file has ${repaired.length === 1 ? 'it' : 'them'} now; ${repaired.length === 1 ? 'it did' : 'they did'} not run again, and what ran before stays on this database`,
      );
    });

  program
    .command('demo')
    .description('run the example migrations through every phase on an in-memory embedded PostgreSQL while a simulated old and new app read and write')
    .option('--examples <dir>', 'examples directory (default: the migrations-examples/postgres shipped with tandem)')
    .action(async (options: { examples?: string }) => {
      process.exitCode = await runDemo(options.examples ? { examplesDir: options.examples } : {});
    });

  registerLintCommand(program);
  registerVerifyCommand(program);
  return program;
}

/** The backfill command's own options. */
interface BackfillOptions {
  replica?: string[];
  pauseFile?: string;
}

async function runPhaseCommand(options: GlobalOptions, phase: PhaseName | 'rollback', id?: string, backfillOptions: BackfillOptions = {}): Promise<void> {
  const context = resolveContext(options);
  const { replica = [], pauseFile } = backfillOptions;
  if (replica.length > 0) context.config = { ...context.config, backfill: { ...context.config.backfill, replicas: replica } };
  if (pauseFile !== undefined) context.config = { ...context.config, backfill: { ...context.config.backfill, pauseFile } };
  const { result, reporter } = await withRunner(context, phase, async (runner, reporter) => {
    try {
      return phase === 'rollback' ? await runner.rollback(id) : await runner[phase]();
    } finally {
      reporter.finishProgress();
    }
  }, { tty: Boolean(process.stderr.isTTY) && !context.json });
  reportSummary(result, reporter);
}

type CliReporter = ReturnType<typeof cliReporter>;

/** A command that changes the ledger: the migrations, a reporter, and a runner under the runner lock. */
async function withRunner<T>(
  context: CommandContext,
  command: string,
  body: (runner: Runner, reporter: CliReporter) => Promise<T>,
  options: { tty?: boolean } = {},
): Promise<{ result: T; reporter: CliReporter; migrations: Migration[] }> {
  const migrations = readMigrations(context);
  const reporter = cliReporter({ json: context.json, tty: options.tty ?? false });
  const onWaiting = (holder: string) => reporter.info(`waiting up to ${context.config.waitSeconds} s for the runner lock, held by ${holder}`);
  const result = await withSession(context, command, { lock: true, onWaiting }, (session) => body(new Runner(session, migrations, reporter), reporter));
  return { result, reporter, migrations };
}

function reportSummary(summary: PhaseSummary, reporter: CliReporter): void {
  const verb = { expand: 'expanded', backfill: 'backfilled', contract: 'contracted', rollback: 'rolled back' }[summary.phase];
  if (summary.ran.length === 0) reporter.info(`nothing to ${summary.phase}: no migration is ready for it (tandem status shows where each one is)`);
  else reporter.info(`${verb} ${summary.ran.length} migration${summary.ran.length === 1 ? '' : 's'}`);
}

/** Run the CLI; returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.exitOverride();
  program.configureOutput({ writeErr: (text) => process.stderr.write(text) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return ExitCode.ok;
      return ExitCode.usage;
    }
    return reportError(error);
  }
}

export function reportError(error: unknown): number {
  if (error instanceof TandemError) {
    const where = error.where ? `${error.where}: ` : '';
    process.stderr.write(`${chalk.red('error:')} ${where}${redactSecrets(error.message)}\n`);
    if (error.fix) process.stderr.write(`  ${chalk.bold('fix:')} ${error.fix}\n`);
    return error.exitCode;
  }
  const err = error as Error;
  process.stderr.write(`${chalk.red('error:')} ${redactSecrets(err?.message ?? String(error))}\n`);
  if (process.env.TANDEM_DEBUG && err?.stack) process.stderr.write(`${redactSecrets(err.stack)}\n`);
  return ExitCode.phaseFailed;
}
