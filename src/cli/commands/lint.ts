import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { positionOfJsonPath } from '../../config/json-position.js';
import { CONFIG_FILE } from '../../config/schema.js';
import { parseConnectionUrl } from '../../db/url.js';
import { scratchTarget } from '../scratch-url.js';
import { UsageError } from '../../errors/tandem-error.js';
import { globMatcher, lintConfigSchema, resolveVersions, type LintConfig } from '../../lint/config.js';
import { lintPaths } from '../../lint/lint.js';
import { renderGithub } from '../../lint/report/github.js';
import { renderJson } from '../../lint/report/json.js';
import { renderPretty } from '../../lint/report/pretty.js';
import { renderSarif } from '../../lint/report/sarif.js';
import { META_RULES, RULES } from '../../lint/rules/index.js';
import { LINT_PHASES, type LintDialect, type LintPhase } from '../../lint/types.js';

interface LintFlags {
  dialect?: string;
  phase?: string;
  pgVersion?: string;
  mysqlVersion?: string;
  mariadbVersion?: string;
  format?: string;
  color?: boolean;
  listRules?: boolean;
  scratchUrl?: string;
}

const FORMATS = ['pretty', 'json', 'github', 'sarif'] as const;

/** `tandem lint [PATHS…]`: register the command on the program. */
export function registerLintCommand(program: Command): void {
  program
    .command('lint')
    .argument('[paths...]', 'migration files or directories (default: "lint.paths" in the config, else the migrations dir)')
    .description('check migrations for breaking changes and dangerous locks, phase by phase; runs nothing')
    .addOption(new Option('--dialect <dialect>', 'SQL dialect (default: "lint.dialect" in the config, else from the URL, else postgres)').choices(['postgres', 'mysql']))
    .addOption(new Option('--phase <phase>', 'phase of files without phase markers (default: plain, which runs under live traffic like expand)').choices([...LINT_PHASES]))
    .option('--pg-version <version>', 'target PostgreSQL major version (default 14)')
    .option('--mysql-version <version>', 'target MySQL version (default 8.0.36)')
    .option('--mariadb-version <version>', 'target MariaDB version (lints for MariaDB)')
    .option('--scratch-url <url>', 'server where tandem may create and drop throw-away databases to compile declarative migrations (default: "lint.scratchUrl"; PostgreSQL needs none: embedded PGlite; MySQL needs one)')
    .addOption(new Option('--format <format>', 'output format (default: pretty; json with --json)').choices([...FORMATS]))
    .option('--no-color', 'no colours in pretty output')
    .option('--list-rules', 'list the rules and exit')
    .addHelpText('after', '\nExit codes: 0 no errors (warnings allowed), 1 at least one error, 2 usage or configuration error.\nDisable a rule inline: -- tandem-lint-disable-next-statement RULE reason (or -- tandem-lint-disable RULE reason for the rest of the file).')
    .action(async (paths: string[], flags: LintFlags, command: Command) => {
      const globals = command.optsWithGlobals() as { url?: string; dir?: string; config?: string; json?: boolean };
      process.exitCode = await runLint(paths, flags, globals);
    });
}

export async function runLint(paths: string[], flags: LintFlags, globals: { url?: string; dir?: string; config?: string; json?: boolean }): Promise<number> {
  const cwd = process.cwd();
  if (flags.listRules) {
    process.stdout.write(listRules());
    return 0;
  }
  const { lint, url, dir, versionSchemas } = readLintConfig(cwd, globals.config);
  const connection = globals.url ?? process.env.DATABASE_URL ?? url;
  const target = connection ? safeParseUrl(connection) : null;
  const dialect = (flags.dialect ?? lint.dialect ?? target?.dialect ?? (flags.mysqlVersion || flags.mariadbVersion ? 'mysql' : 'postgres')) as LintDialect;
  let versions;
  try {
    versions = resolveVersions({
      postgres: flags.pgVersion ?? lint.postgresVersion,
      mysql: flags.mysqlVersion ?? (flags.mariadbVersion ? undefined : lint.mysqlVersion),
      mariadb: flags.mariadbVersion ?? (flags.mysqlVersion ? undefined : lint.mariadbVersion),
      mariadbScheme: target?.mariadbScheme ?? false,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const migrationsDir = globals.dir ?? dir ?? 'migrations';
  const inputs = paths.length > 0 ? paths : (lint.paths ?? [migrationsDir]);
  for (const input of inputs) {
    if (!fs.existsSync(path.resolve(cwd, input))) throw new UsageError(`${input}: no such file or directory`, { file: input }, 'give migration files or directories to lint');
  }
  const format = flags.format ?? (globals.json ? 'json' : 'pretty');
  const scratchUrl = flags.scratchUrl ?? lint.scratchUrl;
  const scratch = scratchUrl ? scratchTarget(scratchUrl, dialect, { why: `the files are linted as ${dialect}`, fix: `give a ${dialect} server, or --dialect ${dialect === 'postgres' ? 'mysql' : 'postgres'}` }) : null;
  const result = await lintPaths(inputs, {
    cwd,
    dialect,
    versions,
    ...(flags.phase ? { phase: flags.phase as LintPhase } : {}),
    rules: lint.rules,
    exclude: globMatcher(lint.exclude),
    tandemDirs: [migrationsDir],
    scratch,
    versionSchemas: versionSchemas === true && dialect === 'postgres',
  });
  const docs = lint.docsBaseUrl ? { docsBaseUrl: lint.docsBaseUrl } : {};
  const output =
    format === 'json' ? renderJson(result) : format === 'github' ? renderGithub(result) : format === 'sarif' ? renderSarif(result, docs) : renderPretty(result, { color: flags.color !== false && Boolean(process.stdout.isTTY) && !process.env.NO_COLOR, ...docs });
  process.stdout.write(output);
  return result.findings.some((finding) => finding.severity === 'error') ? 1 : 0;
}

function safeParseUrl(url: string) {
  try {
    return parseConnectionUrl(url);
  } catch {
    return null;
  }
}

/**
 * The `lint` section of the config file (plus `url`, `dir` and `versionSchemas`, which changes the SQL
 * some operations generate). Read here rather than through the
 * full config loader so that `tandem lint` needs nothing else from the file to be valid.
 */
function readLintConfig(cwd: string, configFile?: string): { lint: LintConfig; url?: string; dir?: string; versionSchemas?: boolean } {
  const file = path.resolve(cwd, configFile ?? CONFIG_FILE);
  if (!fs.existsSync(file)) {
    if (configFile) throw new UsageError(`config file ${configFile} does not exist`, { file: configFile }, 'fix the --config path');
    return { lint: lintConfigSchema.parse({}) };
  }
  const display = path.relative(cwd, file) || file;
  const text = fs.readFileSync(file, 'utf8');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`${display} is not valid JSON: ${(error as Error).message}`, { file: display }, 'fix the JSON syntax');
  }
  const parsed = lintConfigSchema.safeParse(raw?.lint ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const fieldPath = ['lint', ...issue.path, ...('keys' in issue && Array.isArray(issue.keys) ? [issue.keys[0] as string] : [])] as Array<string | number>;
    const place = positionOfJsonPath(text, fieldPath) ?? { line: 1, column: 1 };
    throw new UsageError(`${display}: field "${fieldPath.join('.')}": ${issue.message}`, { file: display, ...place }, `known lint fields: ${Object.keys(lintConfigSchema.shape).join(', ')}`);
  }
  const known = new Set([...RULES.map((r) => r.id), ...Object.values(META_RULES).map((r) => r.id)]);
  for (const id of Object.keys(parsed.data.rules)) {
    if (!known.has(id)) {
      const place = positionOfJsonPath(text, ['lint', 'rules', id]) ?? { line: 1, column: 1 };
      throw new UsageError(`${display}: lint.rules names an unknown rule "${id}"`, { file: display, ...place }, 'see `tandem lint --list-rules` for the rule ids');
    }
  }
  return { lint: parsed.data, ...(typeof raw.url === 'string' ? { url: raw.url } : {}), ...(typeof raw.dir === 'string' ? { dir: raw.dir } : {}), versionSchemas: raw.versionSchemas === true };
}

function listRules(): string {
  const rows = RULES.map((rule) => `${rule.id.padEnd(36)} ${rule.severity.padEnd(8)} ${rule.dialects.join(',').padEnd(15)} ${rule.summary}`);
  const meta = Object.values(META_RULES).map((rule) => `${rule.id.padEnd(36)} ${rule.severity.padEnd(8)} ${'both'.padEnd(15)} ${rule.summary}`);
  return `${[...rows, ...meta].join('\n')}\n`;
}
