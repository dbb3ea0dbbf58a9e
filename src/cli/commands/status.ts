import chalk from 'chalk';
import type { MigrationStatus, StatusPhase } from '../../runner/migration-status.js';
import type { CurrentVersionSchema } from '../../version-schemas/lifecycle.js';

const COLOURS: Record<StatusPhase, (text: string) => string> = {
  pending: chalk.dim,
  expanded: chalk.cyan,
  backfilled: chalk.blue,
  contracted: chalk.green,
  rolled_back: chalk.magenta,
  failed: chalk.red,
};

export function statusJson(statuses: MigrationStatus[], database: string, versionSchema: CurrentVersionSchema | null = null): string {
  return JSON.stringify({ database, ...(versionSchema ? { versionSchema } : {}), migrations: statuses }, null, 2);
}

/** A table: one row per migration, then what went wrong and what to run next. */
export function renderStatusTable(statuses: MigrationStatus[], database: string, versionSchema: CurrentVersionSchema | null = null): string {
  if (statuses.length === 0) return `${database}: no migrations yet (tandem new NAME makes one)\n`;
  const rows = statuses.map((s) => [s.id, s.running ? `${s.activePhase}…` : s.phase, detail(s), s.next ?? '']);
  const header = ['MIGRATION', 'PHASE', 'DETAIL', 'NEXT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const pad = (text: string, i: number) => text.padEnd(widths[i]!);
  const lines = [`${database}`, chalk.bold(header.map(pad).join('  ')).trimEnd()];
  statuses.forEach((s, index) => {
    const row = rows[index]!;
    lines.push([pad(row[0]!, 0), COLOURS[s.phase](pad(row[1]!, 1)), pad(row[2]!, 2), chalk.dim(row[3]!)].join('  ').trimEnd());
  });
  const problems = statuses.filter((s) => s.error || s.drift.length > 0 || !s.file);
  for (const s of problems) {
    if (s.error) lines.push(`\n${chalk.red(s.id)}: ${s.error}`);
    if (s.drift.length > 0) lines.push(`\n${chalk.red(s.id)}: the ${s.drift.join(', ')} section(s) of ${s.file} changed after they ran; restore the file, and put new changes in a new migration`);
    if (!s.file && s.phase !== 'contracted' && s.phase !== 'rolled_back') lines.push(`\n${chalk.red(s.id)}: is in the ledger but has no file in the migrations directory`);
  }
  if (versionSchema) lines.push(`\nnew app version (${versionSchema.migration}): reads through schema ${versionSchema.schema}: ${versionSchema.searchPath}; or connection option ${versionSchema.connectionOption}`);
  return `${lines.join('\n')}\n`;
}

function detail(s: MigrationStatus): string {
  const parts: string[] = [];
  if (s.plain) parts.push('plain');
  if (s.baselined) parts.push('baselined: recorded, not run by tandem');
  if (s.running) parts.push(`running ${s.activePhase}`);
  else if (s.interrupted) parts.push(`${s.activePhase} interrupted after ${s.statementsDone}/${s.statementsTotal ?? '?'} statements`);
  else if (s.activePhase) parts.push(`${s.activePhase} failed${s.errorLine ? ` at line ${s.errorLine}` : ''} (${s.statementsDone}/${s.statementsTotal ?? '?'} statements done)`);
  for (const b of s.backfill) {
    const pct = b.rowsTotal ? ` ${Math.min(100, Math.floor((b.rowsDone / b.rowsTotal) * 100))}%` : '';
    const paused = b.pausedFor ? `, waiting${b.pausedSince ? ` ${seconds(Date.now() - Date.parse(b.pausedSince))}` : ''} while ${b.pausedFor}` : '';
    parts.push(`backfill ${b.table}${pct} (${b.rowsDone.toLocaleString('en-US')}${b.rowsTotal !== null ? `/${b.rowsTotal.toLocaleString('en-US')}` : ''} rows${paused})`);
  }
  if (s.drift.length) parts.push('CHANGED SINCE RUN');
  if (!s.file) parts.push('file missing');
  return parts.join('; ');
}

/** A pause's length as a person reads it: 42 s, 3 min 5 s. */
function seconds(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  return total < 60 ? `${total} s` : `${Math.floor(total / 60)} min ${total % 60} s`;
}
