import { Chalk } from 'chalk';
import type { Finding, LintResult } from '../types.js';
import { docsUrl } from './docs-url.js';

/** Human output: each finding with its statement lines, a caret span under the exact words, the reason, the fix and the docs link. */
export function renderPretty(result: LintResult, options: { color: boolean; docsBaseUrl?: string }): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const out: string[] = [];
  for (const f of result.findings) {
    const label = f.severity === 'error' ? c.red.bold('error') : c.yellow.bold('warning');
    out.push(`${c.bold(`${f.file}:${f.line}:${f.column}`)} ${label} ${c.dim(`[${f.rule}]`)}${f.phase ? c.dim(` (${f.phase})`) : ''}`);
    if (f.generated) {
      const g = f.generated;
      out.push(c.dim(`  operation ${g.index} (${g.operation}) generates:`));
      out.push(...excerpt({ ...f, line: g.line, column: g.column, endLine: g.endLine, endColumn: g.endColumn, statement: { sql: g.sql, line: 1, column: 1 } }, c));
    } else out.push(...excerpt(f, c));
    out.push(`  ${f.message}`);
    out.push(`  ${c.green('fix:')} ${f.fix}`);
    out.push(`  ${c.dim(`docs: ${docsUrl(f.rule, options.docsBaseUrl)}`)}`);
    out.push('');
  }
  for (const notice of result.notices) out.push(c.dim(`${notice.file}: ${notice.message}`));
  const errors = result.findings.filter((f) => f.severity === 'error').length;
  const warnings = result.findings.length - errors;
  const summary = `${result.filesLinted} file${result.filesLinted === 1 ? '' : 's'}, ${result.statementsLinted} statement${result.statementsLinted === 1 ? '' : 's'}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  out.push(errors > 0 ? c.red(summary) : warnings > 0 ? c.yellow(summary) : c.green(summary));
  return `${out.join('\n')}\n`;
}

/** The statement lines the finding spans (at most 3 around its start), with carets under the span. */
function excerpt(f: Finding, c: InstanceType<typeof Chalk>): string[] {
  if (!f.statement) return [];
  const lines = f.statement.sql.split('\n');
  const first = f.statement.line;
  const lastShown = Math.min(f.endLine, f.line + 2);
  const width = String(lastShown).length;
  const out: string[] = [];
  for (let line = f.line; line <= lastShown; line++) {
    const index = line - first;
    const prefix = index === 0 ? ' '.repeat(f.statement.column - 1) : '';
    const text = prefix + (lines[index] ?? '');
    out.push(`  ${c.dim(`${String(line).padStart(width)} |`)} ${text}`);
    const from = line === f.line ? f.column : firstNonSpace(text);
    const to = line === f.endLine ? f.endColumn : text.length + 1;
    if (to > from) out.push(`  ${' '.repeat(width)} ${c.dim('|')} ${' '.repeat(from - 1)}${(f.severity === 'error' ? c.red : c.yellow)('^'.repeat(to - from))}`);
  }
  if (f.endLine > lastShown) out.push(`  ${' '.repeat(width)} ${c.dim('|')} …`);
  return out;
}

function firstNonSpace(text: string): number {
  const match = /\S/.exec(text);
  return match ? match.index + 1 : 1;
}
