// Types for the tests that import results-markdown.mjs (the benchmark itself is plain JavaScript).

/** One row of results/latest.json `scenarios` (the fields the targets read). */
export interface ScenarioSummary {
  db: 'postgres' | 'mariadb';
  name: string;
  tool: string;
  errors: number;
  mismatches?: number;
  migration_failed?: number;
  p99_before_ms: number | null;
  p99_phase_max_ms: number | null;
  max_ms: number | null;
  backfill_ratio?: number | null;
  size_ratio?: number | null;
  /** Each phase's p99, worst request and requests due during it, medians over the repeats. */
  phase_medians?: Record<string, { p99_ms: number | null; max_ms: number | null; requests?: number | null }>;
  /** Server settings a variant changed for its runs (main.mjs VARIANTS); such rows are checked, not counted. */
  server_settings?: Record<string, string | number> | null;
}

export function resultsMarkdown(latest: unknown, svgs: { scenario: string; title: string; file: string }[]): string;

/** RESULTS.md's "The targets, row by row": its lines. */
export function targetsSection(latest: { scenarios: ScenarioSummary[] }): string[];

/** A value and its limit as text, with as many more digits (up to 3) as it takes for unequal values to print unequal. */
export function compared(value: number | null | undefined, limit: number, digits?: number): [string, string];
