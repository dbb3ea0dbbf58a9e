import fs from 'node:fs';
import path from 'node:path';
import chalk from 'chalk';
import { Option, type Command } from 'commander';
import { parseConfigText } from '../../config/load-config.js';
import { CONFIG_FILE, configSchema, type TandemConfig } from '../../config/schema.js';
import { parseConnectionUrl } from '../../db/url.js';
import { UsageError } from '../../errors/tandem-error.js';
import { verifyConfigSchema, type VerifyConfig } from '../../verify/config.js';
import { FORMATS, renderReport, type VerifyFormat } from '../../verify/report.js';
import { dropAllScratch } from '../../scratch/scratch-database.js';
import { verifyMigrations } from '../../verify/verify.js';
import { resolveContext, type GlobalOptions } from '../context.js';

interface VerifyFlags {
  old?: string[];
  new?: string[];
  oldCmd?: string;
  newCmd?: string;
  seed?: string;
  format?: VerifyFormat;
  color?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `tandem verify [ID…]`: register the command on the program. */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .argument('[ids...]', 'migrations to verify: id, unique prefix, name or file path (default: the pending ones)')
    .description('prove the old and the new app version work at every schema state, on scratch databases (embedded PostgreSQL by default)')
    .option('--old <file>', 'SQL probe file: statements the old app issues (repeatable; default "verify.old" in the config)', collect)
    .option('--new <file>', 'SQL probe file: statements the new app issues (repeatable; default "verify.new" in the config)', collect)
    .option('--old-cmd <command>', "the old app's tests, run at S0, S1, S2 and R with DATABASE_URL, TANDEM_ROLE=old and TANDEM_STATE")
    .option('--new-cmd <command>', "the new app's tests, run at S1, S2 and S3 with DATABASE_URL, TANDEM_ROLE=new and TANDEM_STATE")
    .option('--seed <file>', 'SQL run at S0, after the earlier migrations: rows for the probes to work with')
    .addOption(new Option('--format <format>', 'output format (default: pretty; json with --json)').choices([...FORMATS]))
    .option('--no-color', 'no colours in pretty output')
    .addHelpText(
      'after',
      `
States: S0 before the migrations, S1 expanded, S2 backfilled, S3 contracted, R rolled back (from S1 and from S2).
Required: the old app at S0, S1, S2 and R; the new app at S1, S2 and S3.
Server: --url, else DATABASE_URL, else "url" in the config; with none the migrations (PostgreSQL)
run on embedded PGlite; with one, on that server, in scratch databases tandem creates and drops.
Exit codes: 0 every required cell works, 1 a required cell fails, 2 usage or configuration error.`,
    )
    .action(async (ids: string[], flags: VerifyFlags, command: Command) => {
      process.exitCode = await runVerify(ids, flags, command.optsWithGlobals() as GlobalOptions);
    });
}

export async function runVerify(ids: string[], flags: VerifyFlags, globals: GlobalOptions): Promise<number> {
  const cwd = process.cwd();
  const context = resolveVerifyContext(globals, cwd);
  const { verify } = context;
  const url = globals.url ?? process.env.DATABASE_URL ?? context.config.url;
  const server = url ? parseConnectionUrl(url) : null;
  const format: VerifyFormat = flags.format ?? (globals.json ? 'json' : 'pretty');
  const pick = (given: string[] | undefined, configured: string | undefined) => (given && given.length > 0 ? given : configured ? [configured] : []);

  // Ctrl-C: drop the scratch databases before leaving.
  const interrupt = () => void dropAllScratch().finally(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    const report = await verifyMigrations({
      dir: context.dir,
      ids,
      server,
      config: context.config,
      seed: flags.seed ?? verify.seed,
      oldProbes: pick(flags.old, verify.old),
      newProbes: pick(flags.new, verify.new),
      oldCmd: flags.oldCmd ?? verify.oldCmd,
      newCmd: flags.newCmd ?? verify.newCmd,
      cwd,
      log: (line) => process.stderr.write(`${chalk.dim(line)}\n`),
    });
    process.stdout.write(renderReport(report, format, { color: flags.color !== false && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }));
    return report.ok ? 0 : 1;
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    await dropAllScratch();
  }
}

/**
 * The usual command context plus the `verify` section of the config file. Until the config schema
 * knows `verify`, the section is taken out before the rest is validated.
 */
function resolveVerifyContext(globals: GlobalOptions, cwd: string): { config: TandemConfig; dir: string; verify: VerifyConfig } {
  const file = path.resolve(cwd, globals.config ?? CONFIG_FILE);
  const display = path.relative(cwd, file) || file;
  let raw: Record<string, unknown> | null = null;
  if (fs.existsSync(file)) {
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      raw = null; // resolveContext reports the syntax error with its position
    }
  }
  const section = verifyConfigSchema.safeParse(raw?.verify ?? {});
  if (!section.success) {
    const issue = section.error.issues[0]!;
    throw new UsageError(`${display}: field "verify${issue.path.length ? `.${issue.path.join('.')}` : ''}": ${issue.message}`, { file: display }, 'known fields of "verify": old, new, oldCmd, newCmd, seed');
  }
  if (raw && 'verify' in raw && !('verify' in configSchema.shape)) {
    const { verify: _verify, ...rest } = raw;
    const config = parseConfigText(JSON.stringify(rest), display);
    const flags = (name: string, value: string | undefined) => {
      const n = Number(value);
      if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} takes a non-negative number, got "${value}"`);
      return n;
    };
    const merged = {
      ...config,
      ...(globals.wait !== undefined ? { waitSeconds: flags('--wait', globals.wait) } : {}),
      ...(globals.lockTimeout !== undefined ? { lockTimeoutMs: flags('--lock-timeout', globals.lockTimeout) } : {}),
      ...(globals.retries !== undefined ? { retries: { ...config.retries, count: flags('--retries', globals.retries) } } : {}),
    };
    return { config: merged, dir: globals.dir ?? config.dir, verify: section.data };
  }
  const context = resolveContext(globals, { quiet: true });
  return { config: context.config, dir: context.dir, verify: section.data };
}
