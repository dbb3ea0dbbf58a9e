import type { LintResult } from '../types.js';

/** `{"findings":[{"rule","severity","file","line","column","endLine","endColumn","message","phase","fix"}], "summary": {…}}` */
export function renderJson(result: LintResult): string {
  const findings = result.findings.map(({ rule, severity, file, line, column, endLine, endColumn, message, phase, fix }) => ({ rule, severity, file, line, column, endLine, endColumn, message, phase, fix }));
  const errors = findings.filter((f) => f.severity === 'error').length;
  return `${JSON.stringify({ findings, notices: result.notices, summary: { files: result.filesLinted, statements: result.statementsLinted, errors, warnings: findings.length - errors } })}\n`;
}
