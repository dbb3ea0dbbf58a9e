import fs from 'node:fs';
import path from 'node:path';
import type { ConnectionTarget } from '../db/url.js';
import { parseSqlMigration } from '../migrations/parse-sql-migration.js';
import { splitStatements, type SqlStatement } from '../migrations/split-statements.js';
import { idParts } from '../migrations/migration-order.js';
import { compileDeclarative } from './compile-declarative.js';
import type { RuleSetting } from './config.js';
import { applyDisables, readDisables } from './disables.js';
import { lintDeclarative } from './lint-declarative.js';
import { dbmateUpRegion, detectTool, findFiles } from './parse/files.js';
import { loadPostgresParser } from './parse/postgres.js';
import { analyse, fileLevelFinding, runRules } from './run-rules.js';
import type { FileContext, Finding, LintDialect, LintPhase, LintResult, LintStatement, MigrationTool, Notice, TargetVersions } from './types.js';

export interface LintOptions {
  dialect: LintDialect;
  versions: TargetVersions;
  /** Phase for files without phase markers (default: plain, which runs under live traffic like expand). */
  phase?: LintPhase;
  /** Per-rule overrides from the config. */
  rules?: Record<string, RuleSetting>;
}

export interface LintTextOptions extends LintOptions {
  file: string;
  /** Which tool runs the file; detected from markers and the name when not given. */
  tool?: MigrationTool;
  /** Column types known from earlier files of the same run. */
  schema?: Map<string, Map<string, string>>;
}

export interface LintPathsOptions extends LintOptions {
  cwd: string;
  exclude?: (display: string) => boolean;
  /** Directories whose files tandem runs (the configured migrations dir): plain files there are tandem migrations. */
  tandemDirs?: string[];
  /** A server where declarative migrations may be compiled in throw-away databases; default: embedded PGlite (PostgreSQL). */
  scratch?: ConnectionTarget | null;
  /** PostgreSQL `versionSchemas: true`: declarative migrations compile as the runner compiles them then. */
  versionSchemas?: boolean;
}

/** Lint every migration file under the given paths. */
export async function lintPaths(paths: string[], options: LintPathsOptions): Promise<LintResult> {
  const files = findFiles(paths, { cwd: options.cwd, exclude: options.exclude ?? (() => false) });
  const findings: Finding[] = [];
  const notices: Notice[] = [];
  let filesLinted = 0;
  let statementsLinted = 0;
  const schema = new Map<string, Map<string, string>>();
  const tandemDirs = (options.tandemDirs ?? []).map((dir) => path.resolve(options.cwd, dir));
  const declarative = files.filter((file) => file.kind === 'declarative').map((file) => file.absolute);
  const compiled = await compileDeclarative(declarative, { dialect: options.dialect, cwd: options.cwd, scratch: options.scratch ?? null, versionSchemas: options.versionSchemas ?? false });
  for (const file of files) {
    if (file.kind === 'skipped') {
      notices.push({ file: file.display, message: `skipped: ${file.reason}` });
      continue;
    }
    if (file.kind === 'declarative') {
      const result = await lintDeclarative(file, compiled.get(file.absolute)!, { ...options, schema });
      findings.push(...result.findings);
      if (result.notice) notices.push({ file: file.display, message: result.notice });
      statementsLinted += result.statements;
      if (result.linted) filesLinted++;
      continue;
    }
    const text = fs.readFileSync(file.absolute, 'utf8');
    const inTandemDir = tandemDirs.includes(path.dirname(file.absolute));
    const tool = detectTool(file.display, text, inTandemDir);
    const result = await lintText(text, { ...options, file: file.display, tool, schema });
    findings.push(...result.findings);
    statementsLinted += result.statements;
    filesLinted++;
  }
  return { findings, notices, filesLinted, statementsLinted };
}

interface SectionInput {
  phase: LintPhase;
  statements: SqlStatement[];
}

/** Lint the text of one migration file. */
export async function lintText(text: string, options: LintTextOptions): Promise<{ findings: Finding[]; statements: number }> {
  if (options.dialect === 'postgres') await loadPostgresParser();
  const tool = options.tool ?? detectTool(options.file, text, false);
  const base = path.basename(options.file);
  let noTransaction = false;
  let sections: SectionInput[];
  try {
    if (tool === 'tandem') {
      const id = base.replace(/\.sql$/i, '');
      const migration = parseSqlMigration(text, { file: options.file, id, ...idParts(id), dialect: options.dialect });
      sections = Object.values(migration.sections)
        .sort((a, b) => a!.line - b!.line)
        .map((section) => ({ phase: migration.plain ? (options.phase ?? 'plain') : section!.phase, statements: section!.statements }));
    } else {
      const region = tool === 'dbmate' ? dbmateUpRegion(text) : { firstLine: 1, text, noTransaction: false };
      noTransaction = region.noTransaction;
      const phase: LintPhase = tool === 'flyway' && /^U/i.test(base) ? 'rollback' : (options.phase ?? 'plain');
      sections = [{ phase, statements: splitStatements(region.text, options.dialect, region.firstLine) }];
    }
  } catch (error) {
    return { findings: [fileLevelFinding(error, options.file)], statements: 0 };
  }

  const statements: LintStatement[] = [];
  for (const section of sections) {
    for (const statement of section.statements) statements.push(analyse(statement, section.phase, statements.length, options.dialect));
  }
  const file: FileContext = {
    file: options.file,
    dialect: options.dialect,
    tool,
    versions: options.versions,
    statements,
    createdTables: new Set(),
    memory: new Map(),
    noTransaction,
    schema: options.schema ?? new Map(),
  };
  const findings = runRules(file, options.rules ?? {});
  const disables = readDisables(text, statements);
  const kept = applyDisables(findings, disables, options.file, options.rules ?? {});
  kept.sort((a, b) => a.line - b.line || a.column - b.column || a.rule.localeCompare(b.rule));
  return { findings: kept, statements: statements.length };
}
