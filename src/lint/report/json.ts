import type { LintResult } from '../types.js';

/**
 * `{"findings":[{"rule","severity","file","line","column","endLine","endColumn","message","phase","fix"}], "summary": {…}}`;
 * a finding in a declarative migration also has `generated`: the statement its operation generates and the span in it.
 */
export function renderJson(result: LintResult): string {
  const findings = result.findings.map(({ rule, severity, file, line, column, endLine, endColumn, message, phase, fix, generated }) => ({ rule, severity, file, line, column, endLine, endColumn, message, phase, fix, ...(generated ? { generated } : {}) }));
  const errors = findings.filter((f) => f.severity === 'error').length;
  return `${JSON.stringify({ findings, notices: result.notices, summary: { files: result.filesLinted, statements: result.statementsLinted, errors, warnings: findings.length - errors } })}\n`;
}
