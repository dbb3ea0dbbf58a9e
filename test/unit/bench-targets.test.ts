import { describe, expect, it } from 'vitest';
import { compared, targetsSection, type ScenarioSummary } from '../../bench/results-markdown.mjs';

// RESULTS.md checks tandem's rows against the benchmark's targets; a wrong ✓ there would claim a
// target met that was not.
const row = (overrides: Partial<ScenarioSummary>): ScenarioSummary => ({
  db: 'postgres',
  name: 'type-change',
  tool: 'tandem',
  errors: 0,
  mismatches: 0,
  migration_failed: 0,
  p99_before_ms: 5,
  p99_phase_max_ms: 7.5,
  max_ms: 40,
  backfill_ratio: 0.95,
  size_ratio: 1.1,
  ...overrides,
});

/** The table row of one scenario, split into its cells. */
function cells(rows: ScenarioSummary[], db: string, name: string): string[] {
  const line = targetsSection({ scenarios: rows }).find((l) => l.startsWith(`| ${db} | ${name} |`));
  if (!line) throw new Error(`no row for ${db} ${name}`);
  return line.split('|').slice(1, -1).map((c) => c.trim());
}

describe('the targets section of RESULTS.md', () => {
  it('marks a row that meets every target', () => {
    const marks = cells([row({})], 'postgres', 'type-change').slice(2).map((c) => c.charAt(0));
    expect(marks).toEqual(['✓', '✓', '–', '✓', '✓']);
  });

  it('prints a figure and its limit with the digits that tell them apart', () => {
    // p99 5.74 against a limit of 5.7 fails, and must not read "5.7 ≤ 5.7".
    expect(cells([row({ p99_before_ms: 2.7, p99_phase_max_ms: 5.74 })], 'postgres', 'type-change')[3]).toMatch(/^✗ 5\.74 ≤ 5\.70/);
    expect(cells([row({ backfill_ratio: 0.897 })], 'postgres', 'type-change')[5]).toMatch(/^✗ 89\.7 % ≥ 90\.0 %/);
    expect(cells([row({ size_ratio: 1.2004 })], 'postgres', 'type-change')[6]).toMatch(/^✗ 1\.2004 ≤ 1\.2000/);
    expect(cells([row({ p99_before_ms: 2.7, p99_phase_max_ms: 5.1 })], 'postgres', 'type-change')[3]).toMatch(/^✓ 5\.1 ≤ 5\.7/);
    expect(compared(5.7, 5.7)).toEqual(['5.7', '5.7']);
  });

  it('fails each target on its own figure', () => {
    const failing = cells([row({ errors: 2, p99_phase_max_ms: 8.1, backfill_ratio: 0.89, size_ratio: 1.21 })], 'postgres', 'type-change');
    expect(failing.slice(2).map((c) => c.charAt(0))).toEqual(['✗', '✗', '–', '✗', '✗']);
    // Lost writes fail target 1 even without errors; one slow request fails target 2.
    expect(cells([row({ mismatches: 3 })], 'postgres', 'type-change')[2]).toMatch(/^✗ 0 \+3 mism\./);
    expect(cells([row({ max_ms: 50.5 })], 'postgres', 'type-change')[3]).toMatch(/^✗/);
  });

  it('names the phase with the highest p99 and the requests it spans', () => {
    const phases = { expand: { p99_ms: 6.2, max_ms: 6.2, requests: 61 }, backfill: { p99_ms: 5.1, max_ms: 30, requests: 4_402 }, contract: { p99_ms: 9.3, max_ms: 9.8, requests: 134 } };
    expect(cells([row({ p99_phase_max_ms: 9.3, phase_medians: phases })], 'postgres', 'type-change')[3]).toBe('✗ 9.3 ≤ 8.0 (contract, 134 requests), max 40 ≤ 50');
    // Older results without the counts name the phase only.
    expect(cells([row({ phase_medians: { backfill: { p99_ms: 7.5, max_ms: 40 } } })], 'postgres', 'type-change')[3]).toBe('✓ 7.5 ≤ 8.0 (backfill), max 40 ≤ 50');
  });

  it('uses each database\'s own limits', () => {
    // Backfill: 90 % on PostgreSQL, 85 % on MariaDB; the size target is PostgreSQL's only.
    expect(cells([row({ db: 'mariadb', backfill_ratio: 0.86, size_ratio: null })], 'mariadb', 'type-change').slice(5)).toEqual(['✓ 86 % ≥ 85 %', '–']);
    expect(cells([row({ backfill_ratio: 0.86 })], 'postgres', 'type-change')[5]).toBe('✗ 86 % ≥ 90 %');
    // Long transaction: 60 ms on PostgreSQL, 20 ms on MariaDB, and it must complete.
    const long = { name: 'long-transaction', max_ms: 30, backfill_ratio: null };
    expect(cells([row(long)], 'postgres', 'long-transaction')[4]).toBe('✓ max 30 ≤ 60');
    expect(cells([row({ ...long, db: 'mariadb' })], 'mariadb', 'long-transaction')[4]).toBe('✗ max 30 ≤ 20');
    expect(cells([row({ ...long, migration_failed: 1 })], 'postgres', 'long-transaction')[4]).toMatch(/^✗/);
  });

  it('counts the rows that met each target, and leaves out naive and variant rows', () => {
    const lines = targetsSection({
      scenarios: [row({}), row({ db: 'mariadb', backfill_ratio: 0.5, size_ratio: null }), row({ tool: 'naive', errors: 9 }), row({ tool: 'tandem, no redo throttle', errors: 9 })],
    });
    expect(lines.filter((l) => l.startsWith('| postgres') || l.startsWith('| mariadb'))).toHaveLength(2);
    expect(lines.join('\n')).toContain('1: 2 of 2; 2: 2 of 2; 3: 0 of 0; 4: 1 of 2; 5: 1 of 1');
  });

  it('checks a row with a server setting changed, names it, and does not count it', () => {
    const large = row({ db: 'mariadb', tool: 'tandem, 2 GB redo log', backfill_ratio: 0.97, size_ratio: null, server_settings: { innodb_log_file_size: 2 ** 31 } });
    const lines = targetsSection({ scenarios: [row({ db: 'mariadb', backfill_ratio: 0.15, size_ratio: null }), large] });
    expect(cells([row({ db: 'mariadb', backfill_ratio: 0.15, size_ratio: null }), large], 'mariadb', 'type-change (tandem, 2 GB redo log)')[5]).toBe('✓ 97 % ≥ 85 %');
    expect(lines.join('\n')).toContain('4: 0 of 1;');
    expect(lines.join('\n')).toContain('named in brackets, are not counted');
  });
});
