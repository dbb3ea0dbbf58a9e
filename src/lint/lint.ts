import fs from 'node:fs';
import path from 'node:path';
import { postgresAdapter } from '../db/dialects/postgres.js';
import { TandemError } from '../errors/tandem-error.js';
import { parseSqlMigration } from '../migrations/parse-sql-migration.js';
import { normalizeStatement, SqlSplitError, splitStatements, type SqlStatement } from '../migrations/split-statements.js';
import { idParts } from '../migrations/load-migrations.js';
import type { RuleSetting } from './config.js';
import { applyDisables, readDisables } from './disables.js';
import { dbmateUpRegion, detectTool, findFiles } from './parse/files.js';
import { parseMysql } from './parse/mysql.js';
import { loadPostgresParser, parsePostgres } from './parse/postgres.js';
import { tokenizeStatement } from './parse/tokens.js';
import { trackFacts, trackSchema } from './facts.js';
import { META_RULES, RULES } from './rules/index.js';
import type { FileContext, Finding, LintDialect, LintPhase, LintResult, LintStatement, MigrationTool, Notice, Rule, RuleContext, Span, TargetVersions } from './types.js';

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
  for (const file of files) {
    if (file.kind === 'skipped') {
      notices.push({ file: file.display, message: `skipped: ${file.reason}` });
      continue;
    }
    if (file.kind === 'declarative') {
      notices.push({ file: file.display, message: 'skipped: declarative migrations are linted through the SQL they generate against a database, which `tandem lint` does not compile yet (run `tandem plan` to see that SQL)' });
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

function analyse(statement: SqlStatement, phase: LintPhase, index: number, dialect: LintDialect): LintStatement {
  const tokens = tokenizeStatement(statement.sql, dialect);
  const result: LintStatement = { ...statement, phase, tokens, index };
  if (dialect === 'postgres') {
    const parsed = parsePostgres(statement.sql);
    if (parsed.ok) result.pg = { type: parsed.type, node: parsed.node };
    else result.parseError = { message: parsed.message, offset: parsed.offset };
  } else {
    const parsed = parseMysql(statement.sql, tokens);
    if (parsed.ok) result.mysqlAst = parsed.ast;
    else result.parseError = { message: parsed.message, offset: parsed.offset };
  }
  return result;
}

function runRules(file: FileContext, settings: Record<string, RuleSetting>): Finding[] {
  const findings: Finding[] = [];
  const active = RULES.filter((rule) => rule.dialects.includes(file.dialect) && settings[rule.id] !== 'off');
  let phase: LintPhase | null = null;
  // One context per file, pointed at each statement in turn (rules must not keep it).
  const context: RuleContext = {
    ...file,
    statement: file.statements[0]!,
    phase: 'plain',
    inTransaction: false,
    isNewTable: (name: string) => file.createdTables.has(name.toLowerCase()),
  };
  for (const statement of file.statements) {
    if (statement.phase !== phase) {
      // A table created in another phase has had traffic since: it is no longer new.
      phase = statement.phase;
      file.createdTables.clear();
      file.memory.set('txGroup', []);
    }
    if (statement.parseError) {
      const { message, offset } = statement.parseError;
      const end = statement.tokens.find((token) => token.start >= offset)?.end ?? offset + 1;
      findings.push(toFinding(META_RULES.parseError, file.file, statement, { start: offset, end }, `the ${file.dialect === 'postgres' ? 'PostgreSQL' : 'MySQL'} parser rejects this statement: ${message}`, META_RULES.parseError.fix, settings));
      continue;
    }
    context.statement = statement;
    context.phase = statement.phase;
    context.inTransaction = inTransactionFor(file, statement);
    for (const rule of active) {
      if (!rule.phases.includes(statement.phase)) continue;
      for (const hit of rule.check(context)) {
        findings.push(toFinding(rule, file.file, statement, hit.span, hit.message, hit.fix ?? rule.fix, settings, hit.severity));
      }
    }
    trackFacts(context);
    trackSchema(context);
  }
  return findings;
}

/** Whether the statement shares a transaction with others (so its locks last until they finish too). */
function inTransactionFor(file: FileContext, statement: LintStatement): boolean {
  if (file.dialect !== 'postgres') return false;
  if (file.memory.get('explicitTransaction') === true) return true;
  switch (file.tool) {
    case 'tandem':
      return !postgresAdapter.mustRunOutsideTransaction(normalizeStatement(statement.sql, 'postgres'));
    case 'flyway':
      return true;
    case 'dbmate':
      return !file.noTransaction;
    case 'golang-migrate':
    case 'prisma':
      // The whole file is sent as one multi-statement query, which PostgreSQL runs as one implicit transaction.
      return file.statements.length > 1;
    default:
      return false;
  }
}

export function toFinding(rule: Pick<Rule, 'id' | 'severity'>, file: string, statement: LintStatement, span: Span, message: string, fix: string, settings: Record<string, RuleSetting>, severity = rule.severity): Finding {
  const setting = settings[rule.id];
  const start = positionIn(statement, span.start);
  const end = positionIn(statement, Math.max(span.start, span.end - 1));
  return {
    rule: rule.id,
    severity: setting === 'error' || setting === 'warning' ? setting : severity,
    file,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column + 1,
    message,
    phase: statement.phase,
    fix,
    statement: { sql: statement.sql, line: statement.line, column: statement.column },
  };
}

/** File line/column (from 1) of an offset in the statement's text. */
function positionIn(statement: SqlStatement, offset: number): { line: number; column: number } {
  let line = statement.line;
  let lineStart = -1;
  for (let i = 0; i < offset && i < statement.sql.length; i++) {
    if (statement.sql.charCodeAt(i) === 10) {
      line++;
      lineStart = i;
    }
  }
  const column = lineStart < 0 ? statement.column + offset : offset - lineStart;
  return { line, column };
}

function fileLevelFinding(error: unknown, file: string): Finding {
  const split = error instanceof SqlSplitError;
  const place = error instanceof TandemError ? error.place : split ? { line: (error as SqlSplitError).line, column: (error as SqlSplitError).column } : {};
  if (!(error instanceof TandemError) && !split) throw error;
  const rule = split || /unterminated/.test((error as Error).message) ? META_RULES.parseError : META_RULES.invalidMigration;
  const line = place.line ?? 1;
  const column = place.column ?? 1;
  return {
    rule: rule.id,
    severity: 'error',
    file,
    line,
    column,
    endLine: line,
    endColumn: column + 1,
    message: (error as Error).message,
    phase: null,
    fix: (error as TandemError).fix ?? rule.fix,
  };
}
