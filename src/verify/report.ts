import chalk, { Chalk } from 'chalk';
import { STATE_TEXT, type AppVersion, type StateName } from './explain.js';
import { STATES, type CellResult, type VerifyReport } from './verify.js';

export const FORMATS = ['pretty', 'json', 'markdown'] as const;
export type VerifyFormat = (typeof FORMATS)[number];

export function renderReport(report: VerifyReport, format: VerifyFormat, options: { color?: boolean } = {}): string {
  if (format === 'json') return `${JSON.stringify(jsonReport(report), null, 2)}\n`;
  if (format === 'markdown') return renderMarkdown(report);
  return renderPretty(report, options.color ?? false);
}

function jsonReport(report: VerifyReport) {
  return {
    ok: report.ok,
    dialect: report.dialect,
    database: report.database,
    migrations: report.migrations,
    before: report.before,
    tables: report.tables,
    duration_ms: Math.round(report.durationMs),
    cells: report.cells.map((cell) => ({ app: cell.app, state: cell.state, required: cell.required, status: cell.status, checks: cell.checks, first_failure: cell.failures[0] ?? null, failures: cell.failures })),
    notes: report.notes,
  };
}

const find = (report: VerifyReport, app: AppVersion, state: StateName): CellResult | undefined => report.cells.find((c) => c.app === app && c.state === state);
const failed = (report: VerifyReport) => report.cells.filter((c) => c.status === 'failed');
const heading = (report: VerifyReport) =>
  report.migrations.length === 0
    ? 'nothing to verify: no pending migration'
    : `${report.migrations.length === 1 ? 'migration' : `${report.migrations.length} migrations`} ${report.migrations.join(', ')} on ${report.database}, ${(report.durationMs / 1000).toFixed(1)} s`;

function renderPretty(report: VerifyReport, color: boolean): string {
  const c = color ? chalk : new Chalk({ level: 0 });
  const lines = [`${c.bold('tandem verify')}: ${heading(report)}`];
  if (report.migrations.length === 0) return `${lines.join('\n')}\n`;
  lines.push('', `  ${''.padEnd(9)}${STATES.map((s) => s.padEnd(5)).join('')}`);
  for (const app of ['old', 'new'] as const) {
    const marks = STATES.map((state) => {
      const cell = find(report, app, state);
      if (!cell || cell.status === 'not run') return c.dim('·'.padEnd(5));
      return cell.status === 'passed' ? c.green('✓'.padEnd(5)) : c.red('✗'.padEnd(5));
    });
    lines.push(`  ${`${app} app`.padEnd(9)}${marks.join('')}`);
  }
  lines.push(c.dim(`  ✓ works  ✗ fails  · not run (old app: S0 S1 S2 R, new app: S1 S2 S3 required)`));
  for (const cell of failed(report)) {
    lines.push('', `${c.red('✗')} ${c.bold(`${cell.app} app at ${STATE_TEXT[cell.state]}`)}: ${cell.failures[0]}`);
    if (cell.failures.length > 1) lines.push(c.dim(`  (${cell.failures.length - 1} more failure${cell.failures.length > 2 ? 's' : ''} in this cell; --format json lists them)`));
  }
  for (const note of report.notes) lines.push(`${c.yellow('note:')} ${note}`);
  lines.push('', report.ok ? c.green('Both app versions work at every state they run at.') : c.red(`${failed(report).filter((x) => x.required).length} required cell(s) fail: deploying this would break a running app version.`));
  return `${lines.join('\n')}\n`;
}

function renderMarkdown(report: VerifyReport): string {
  const lines = [`### tandem verify ${report.ok ? '✅' : '❌'}`, '', heading(report)];
  if (report.migrations.length === 0) return `${lines.join('\n')}\n`;
  lines.push('', `| app | ${STATES.join(' | ')} |`, `| --- | ${STATES.map(() => ':---:').join(' | ')} |`);
  for (const app of ['old', 'new'] as const) {
    const marks = STATES.map((state) => {
      const cell = find(report, app, state);
      return !cell || cell.status === 'not run' ? '·' : cell.status === 'passed' ? '✅' : '❌';
    });
    lines.push(`| ${app} app | ${marks.join(' | ')} |`);
  }
  const failures = failed(report);
  if (failures.length > 0) {
    lines.push('');
    for (const cell of failures) lines.push(`- **${cell.app} app at ${STATE_TEXT[cell.state]}**: ${escapeMarkdown(cell.failures[0]!)}`);
  }
  for (const note of report.notes) lines.push('', `> note: ${escapeMarkdown(note)}`);
  lines.push('', report.ok ? 'Both app versions work at every state they run at.' : 'Deploying this would break a running app version.');
  return `${lines.join('\n')}\n`;
}

const escapeMarkdown = (text: string) => text.replace(/\|/g, '\\|').replace(/</g, '&lt;');
