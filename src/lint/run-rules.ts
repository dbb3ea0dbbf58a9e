import { postgresAdapter } from '../db/dialects/postgres.js';
import { TandemError } from '../errors/tandem-error.js';
import { normalizeStatement, SqlSplitError, type SqlStatement } from '../migrations/split-statements.js';
import type { RuleSetting } from './config.js';
import { memoryKeys, trackFacts, trackSchema } from './facts.js';
import { parseMysql } from './parse/mysql.js';
import { parsePostgres } from './parse/postgres.js';
import { isWord, tokenizeStatement } from './parse/tokens.js';
import { META_RULES, RULES } from './rules/index.js';
import type { FileContext, Finding, LintDialect, LintPhase, LintStatement, Rule, RuleContext, Span, Token } from './types.js';

/** Parse one statement with the dialect's real parser, keeping its tokens for the rules. */
export function analyse(statement: SqlStatement, phase: LintPhase, index: number, dialect: LintDialect): LintStatement {
  const tokens = tokenizeStatement(statement.sql, dialect);
  if (dialect === 'mysql') {
    const scoped = setStatementFor(statement, tokens);
    if (scoped) return { ...analyse(scoped.inner, phase, index, dialect), statementSettings: scoped.settings };
  }
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

/**
 * MariaDB's `SET STATEMENT foreign_key_checks = 0 FOR ALTER TABLE …` (no MySQL parser knows it):
 * the rules look at the inner statement, placed where it stands in the file, with the settings.
 */
function setStatementFor(statement: SqlStatement, tokens: Token[]): { inner: SqlStatement; settings: Map<string, string> } | null {
  if (!isWord(tokens[0], 'SET') || !isWord(tokens[1], 'STATEMENT')) return null;
  const forAt = tokens.findIndex((token, i) => i > 1 && token.depth === 0 && isWord(token, 'FOR'));
  if (forAt < 0 || !tokens[forAt + 1]) return null;
  const settings = new Map<string, string>();
  for (let i = 2; i + 2 < forAt; i++) {
    if (tokens[i]!.kind === 'word' && tokens[i + 1]!.text === '=') settings.set(tokens[i]!.upper, tokens[i + 2]!.upper || tokens[i + 2]!.text.toUpperCase());
  }
  const start = tokens[forAt + 1]!.start;
  const before = statement.sql.slice(0, start);
  const newlines = before.split('\n').length - 1;
  const column = newlines === 0 ? statement.column + start : start - before.lastIndexOf('\n');
  return { inner: { ...statement, sql: statement.sql.slice(start), line: statement.line + newlines, column }, settings };
}

/** Run every active rule over the file's statements, in order, tracking what earlier statements did. */
export function runRules(file: FileContext, settings: Record<string, RuleSetting>): Finding[] {
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
      file.memory.delete(memoryKeys.droppedInTransaction);
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

/** A finding for a file that cannot be read as a migration at all (bad sections, unterminated quotes, invalid operations). */
export function fileLevelFinding(error: unknown, file: string): Finding {
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
