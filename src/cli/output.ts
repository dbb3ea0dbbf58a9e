import chalk from 'chalk';
import type { BackfillSnapshot } from '../backfill/batched-update.js';
import { redactSecrets } from '../db/url.js';
import type { Reporter } from '../runner/reporter.js';

export interface OutputOptions {
  json: boolean;
  /** stderr is a terminal: draw a live progress bar there. */
  tty: boolean;
}

const formatNumber = (n: number) => Math.round(n).toLocaleString('en-US');
export const formatDuration = (ms: number) => (ms < 1000 ? `${Math.round(ms)} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`);

/** Piped (a deploy pipeline's log), a backfill's progress line comes at most this often, and when it ends. */
const PIPED_PROGRESS_MS = 5_000;

/** rows done of total, rate, ETA, batch size and pauses; with `bar`, the bar a terminal redraws. */
function describeProgress(snapshot: BackfillSnapshot, bar: boolean): string {
  const total = snapshot.rowsTotal ?? 0;
  const fraction = total > 0 ? Math.min(1, snapshot.rowsDone / total) : snapshot.done ? 1 : 0;
  const width = 24;
  const filled = Math.round(fraction * width);
  const drawn = bar ? ` ${'█'.repeat(filled)}${'░'.repeat(width - filled)}` : '';
  const eta = snapshot.etaSeconds === null ? '?' : formatDuration(snapshot.etaSeconds * 1000);
  const paused = snapshot.throttledMs > 0 ? `  paused ${formatDuration(snapshot.throttledMs)} (${snapshot.pausedFor.join(', ')})` : '';
  return `${snapshot.table}${drawn} ${(fraction * 100).toFixed(0).padStart(3)}%  ${formatNumber(snapshot.rowsDone)}/${total ? formatNumber(total) : '?'} rows  ${formatNumber(snapshot.rowsPerSecond)} rows/s  ${snapshot.done ? 'done' : `ETA ${eta}`}  batch ${formatNumber(snapshot.batchSize)}${paused}`;
}

/**
 * The CLI's reporter. Human text on stdout, with backfill progress as a live bar on a terminal
 * (stderr) or, piped, as a line every few seconds; with --json, one JSON object per line (events,
 * and backfill progress at most once a second).
 */
export function cliReporter(options: OutputOptions): Reporter & { finishProgress(): void } {
  const writeJson = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
  let lastJsonProgress = 0;
  let lastPipedProgress = 0;
  let barShown = false;

  const clearBar = () => {
    if (barShown) {
      process.stderr.write('\r\x1b[2K');
      barShown = false;
    }
  };
  const say = (text: string) => {
    clearBar();
    process.stdout.write(`${text}\n`);
  };

  const drawBar = (snapshot: BackfillSnapshot) => {
    process.stderr.write(`\r\x1b[2K  ${describeProgress(snapshot, true)}`);
    barShown = true;
  };

  return {
    info: (message) => (options.json ? writeJson({ event: 'info', message }) : say(message)),
    warn: (message) => (options.json ? writeJson({ event: 'warning', message }) : (clearBar(), process.stderr.write(`${chalk.yellow('warning:')} ${message}\n`))),
    phaseStarted: (id, phase, detail) => (options.json ? writeJson({ event: 'phase_started', migration: id, phase, detail }) : say(`${chalk.cyan('▶')} ${phase} ${chalk.bold(id)} ${chalk.dim(detail)}`)),
    phaseFinished: (id, phase, outcome, durationMs, detail) => {
      if (options.json) return writeJson({ event: 'phase_finished', migration: id, phase, outcome, duration_ms: Math.round(durationMs), detail });
      if (outcome === 'succeeded') say(`${chalk.green('✓')} ${phase} ${chalk.bold(id)} ${chalk.dim(`${detail}, ${formatDuration(durationMs)}`)}`);
      else say(`${chalk.red('✗')} ${phase} ${chalk.bold(id)} ${chalk.dim(`after ${formatDuration(durationMs)}`)}`);
    },
    retry: (id, where, notice) => {
      const error = notice.error as { code?: string; message?: string };
      const reason = redactSecrets(error.message ?? String(notice.error)).split('\n')[0];
      const untilHolderEnds = notice.untilHolderEnds === true;
      if (options.json) return writeJson({ event: 'retry', migration: id, where, attempt: notice.attempt, of: notice.of, delay_ms: notice.delayMs, until_holder_ends: untilHolderEnds, code: error.code ?? null, reason });
      clearBar();
      const when = untilHolderEnds ? `when that transaction ends (at most ${formatDuration(notice.delayMs)})` : `in ${formatDuration(notice.delayMs)}`;
      process.stderr.write(`${chalk.yellow('⟳')} ${where}: ${reason}${error.code ? ` [${error.code}]` : ''}; retry ${notice.attempt}/${notice.of} ${when}\n`);
    },
    progress: (snapshot) => {
      const now = Date.now();
      if (!options.json && !options.tty) {
        if (now - lastPipedProgress < PIPED_PROGRESS_MS && !snapshot.done) return;
        lastPipedProgress = snapshot.done ? 0 : now; // the next statement's walk reports at once
        return say(`  ${describeProgress(snapshot, false)}`);
      }
      if (options.json) {
        if (now - lastJsonProgress < 1000 && !snapshot.done) return;
        lastJsonProgress = now;
        writeJson({ event: 'progress', migration: snapshot.migrationId, table: snapshot.table, rows_done: snapshot.rowsDone, rows_total: snapshot.rowsTotal, batches: snapshot.batches, batch_size: snapshot.batchSize, rows_per_s: Math.round(snapshot.rowsPerSecond), eta_s: snapshot.etaSeconds === null ? null : Math.round(snapshot.etaSeconds), throttled_ms: snapshot.throttledMs, paused_for: snapshot.pausedFor, done: snapshot.done });
        return;
      }
      drawBar(snapshot);
      if (snapshot.done) clearBar();
    },
    finishProgress: clearBar,
  };
}
