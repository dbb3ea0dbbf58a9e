import fs from 'node:fs';
import path from 'node:path';
import { PHASES, type Statement } from '../migrations/model.js';
import type { OperationCall } from '../operations/compile.js';
import type { DeclarativeOutcome } from './compile-declarative.js';
import { applyDisables, readDisables, type CommentStyle } from './disables.js';
import type { LintOptions } from './lint.js';
import type { FoundFile } from './parse/files.js';
import { loadPostgresParser } from './parse/postgres.js';
import { analyse, fileLevelFinding, runRules } from './run-rules.js';
import type { FileContext, Finding, LintStatement } from './types.js';

export interface DeclarativeLintResult {
  findings: Finding[];
  statements: number;
  notice?: string;
  /** Whether any SQL of the file was linted. */
  linted: boolean;
}

/**
 * Lint the SQL a declarative migration generates, phase by phase, as tandem will run it. Each
 * finding is placed at the operation that generates the statement (its line in the file) and
 * carries the generated statement with the span inside it.
 */
export async function lintDeclarative(file: FoundFile, outcome: DeclarativeOutcome, options: LintOptions & { schema: Map<string, Map<string, string>> }): Promise<DeclarativeLintResult> {
  switch (outcome.kind) {
    case 'not-compiled':
      return { findings: [], statements: 0, notice: outcome.reason, linted: false };
    case 'invalid':
      return { findings: [fileLevelFinding(outcome.error, file.display)], statements: 0, linted: true };
    case 'code':
      return { findings: [], statements: 0, notice: 'not linted: its phases are TypeScript functions (code, not SQL); tandem runs them as written', linted: false };
  }
  if (options.dialect === 'postgres') await loadPostgresParser();
  const text = fs.readFileSync(file.absolute, 'utf8');
  const operations = outcome.migration.operations ?? [];
  const operationLine = operationLines(text, operations);

  // The generated statements laid out one after another, as `tandem plan` lists them: a statement's
  // place in this listing tells which statement (and so which operation) a finding is about.
  const statements: LintStatement[] = [];
  const origins: Array<{ statement: Statement; firstLine: number }> = [];
  let nextLine = 1;
  for (const phase of PHASES) {
    for (const generated of outcome.phases[phase]) {
      const lines = generated.sql.split('\n').length;
      statements.push(analyse({ sql: generated.sql, line: nextLine, column: 1, endLine: nextLine + lines - 1 }, phase, statements.length, options.dialect));
      origins.push({ statement: generated, firstLine: nextLine });
      nextLine += lines;
    }
  }
  const context: FileContext = {
    file: file.display,
    dialect: options.dialect,
    tool: 'tandem',
    versions: options.versions,
    statements,
    createdTables: new Set(),
    memory: new Map(),
    noTransaction: false,
    schema: options.schema,
    viewRenames: new Set((outcome.phases.views ?? []).flatMap((view) => (view.kind === 'renameColumn' ? [`${view.table}.${view.from}.${view.to}`] : []))),
  };
  const placed = runRules(context, options.rules ?? {}).map(({ statement: _listing, ...finding }) => {
    const origin = [...origins].reverse().find((o) => o.firstLine <= finding.line)!;
    const operation = origin.statement.operation ?? { index: 0, name: operations[0]?.name ?? 'operation' };
    const line = operationLine[operation.index] ?? 1;
    return {
      ...finding,
      line,
      column: 1,
      endLine: line,
      endColumn: 2,
      message: `operation ${operation.index} (${operation.name}): ${finding.message}`,
      generated: {
        operation: operation.name,
        index: operation.index,
        sql: origin.statement.sql,
        line: finding.line - origin.firstLine + 1,
        column: finding.column,
        endLine: finding.endLine - origin.firstLine + 1,
        endColumn: finding.endColumn,
      },
    } satisfies Finding;
  });
  const style = commentStyle(file.absolute);
  const disables = style ? readDisables(text, operationSpans(operationLine, text), style) : [];
  const kept = applyDisables(placed, disables, file.display, options.rules ?? {});
  kept.sort((a, b) => a.line - b.line || (a.generated?.index ?? 0) - (b.generated?.index ?? 0) || a.rule.localeCompare(b.rule));
  return { findings: kept, statements: statements.length, linted: true };
}

/**
 * The line where each operation starts. JSON and YAML files tell; for TypeScript, the n-th
 * operation is the n-th `name:` key of its kind after the previous one.
 */
function operationLines(text: string, operations: OperationCall[]): number[] {
  let from = 0;
  return operations.map((call) => {
    if (call.line) return call.line;
    const pattern = new RegExp(`["']?\\b${call.name}\\b["']?\\s*:`, 'g');
    pattern.lastIndex = from;
    const match = pattern.exec(text);
    if (!match) return 1;
    from = match.index + match[0].length;
    return text.slice(0, match.index).split('\n').length;
  });
}

/** Each operation as a "statement" for disable comments: from its line to the line before the next. */
function operationSpans(lines: number[], text: string): LintStatement[] {
  const lastLine = text.split('\n').length;
  return lines.map((line, index) => ({ sql: '', line, column: 1, endLine: Math.max(line, (lines[index + 1] ?? lastLine + 1) - 1), phase: 'expand', tokens: [], index }));
}

/** JSON has no comments: its findings are turned off in the config instead. */
function commentStyle(file: string): CommentStyle | null {
  const extension = path.extname(file).toLowerCase();
  return extension === '.yaml' || extension === '.yml' ? 'yaml' : extension === '.json' ? null : 'script';
}
