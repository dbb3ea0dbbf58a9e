// Entry of the live-traffic benchmark: every scenario × database × tool, repeated; medians; the
// table on stdout; bench/results/latest.json and one SVG per scenario in bench/results/.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanUpAfterInterrupt, dropTemplates, runOnce } from './run.mjs';
import { SCENARIOS } from './scenarios.mjs';
import { scenarioSvg } from './svg.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.resolve(here, '../results');

export function parseOptions(argv) {
  const value = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  return {
    quick,
    rows: Number(value('--rows') ?? (quick ? 100_000 : 1_000_000)),
    repeats: Number(value('--repeats') ?? (quick ? 1 : 3)),
    dbs: value('--db') ? [value('--db') === 'mariadb' ? 'mysql' : value('--db')] : ['postgres', 'mysql'],
    scenarios: value('--scenario') ? value('--scenario').split(',') : SCENARIOS.map((s) => s.name),
    tools: value('--tool') ? [value('--tool')] : ['naive', 'tandem'],
    rate: 1000,
    connections: 8,
    named: !argv.includes('--unnamed'),
    // PostgreSQL: tandem's version schemas for the new app (off: the new app reads the tables).
    versionSchemas: !argv.includes('--no-version-schemas'),
    // tandem config overrides, to compare settings (e.g. '{"backfill":{"targetBatchMs":40}}'); defaults otherwise.
    tandemConfig: value('--tandem-config') ? JSON.parse(value('--tandem-config')) : undefined,
    beforeMs: quick ? 1000 : 3000,
    afterMs: quick ? 300 : 800,
    // --variants also measures tandem with a setting changed (VARIANTS below): ~35 minutes more.
    variants: argv.includes('--variants'),
    // The bound on a copy without any trigger ("vs no trigger"): with --variants, beside the rows it explains.
    plainBound: argv.includes('--variants'),
    warmupMs: 300,
  };
}

/**
 * tandem with one setting changed, next to its defaults: what each default costs and buys.
 * MariaDB without the redo-log throttle (backfill speed against app latency); PostgreSQL without
 * version schemas (the named-prepared-statement errors they prevent). Server settings that tandem
 * cannot change for the app, and what they buy: a MariaDB redo log of 2 GB instead of the stock
 * 96 MB (the throttle then seldom waits), innodb_io_capacity 2000 instead of 200 (the page cleaner,
 * whose pace the throttled backfill follows, flushes faster), and PL/pgSQL loaded when a PostgreSQL
 * session starts (each app connection's first write after expand otherwise loads it, ~4 ms, all at
 * once).
 */
const VARIANTS = [
  { tool: 'tandem, no redo throttle', kinds: ['mysql'], applies: (scenario) => Boolean(scenario.bound), options: { tandemConfig: { backfill: { redoThrottlePercent: 100 } } } },
  { tool: 'tandem, 2 GB redo log', kinds: ['mysql'], applies: (scenario) => Boolean(scenario.bound), options: { serverSettings: { mysql: { innodb_log_file_size: 2 * 1024 ** 3 } } } },
  { tool: 'tandem, io_capacity 2000', kinds: ['mysql'], applies: (scenario) => Boolean(scenario.bound), options: { serverSettings: { mysql: { innodb_io_capacity: 2000 } } } },
  { tool: 'tandem, no version schemas', kinds: ['postgres'], applies: (scenario) => scenario.name === 'type-change', options: { versionSchemas: false } },
  { tool: 'tandem, PL/pgSQL preloaded', kinds: ['postgres'], applies: (scenario) => Boolean(scenario.bound) && !scenario.renamesThroughViews, options: { serverSettings: { postgres: { session_preload_libraries: 'plpgsql' } } } },
];

/** The tools to run for one scenario and database: [label, options]. */
function toolsFor(scenario, kind, options) {
  const tools = options.tools.map((tool) => [tool, options]);
  if (!options.variants || !options.tools.includes('tandem')) return tools;
  for (const variant of VARIANTS) {
    if (variant.kinds.includes(kind) && variant.applies(scenario)) tools.push([variant.tool, { ...options, ...variant.options, tandemConfig: { ...options.tandemConfig, ...variant.options.tandemConfig } }]);
  }
  return tools;
}

const medianOf = (values) => {
  const present = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  if (!present.length) return null;
  const mid = Math.floor(present.length / 2);
  return present.length % 2 ? present[mid] : (present[mid - 1] + present[mid]) / 2;
};

const ratioOf = (runs, bound) => medianOf(runs.map((r) => (r.backfill_rows_per_s && r[bound] ? r.backfill_rows_per_s / r[bound] : null)));

/** Medians over the repeats; errors and mismatches are the worst repeat's (they must be 0 every time). */
function summarize(runs) {
  const first = runs[0];
  const m = (key) => medianOf(runs.map((r) => r[key]));
  const representative = [...runs].sort((a, b) => a.max_ms - b.max_ms)[Math.floor((runs.length - 1) / 2)];
  return {
    db: first.db,
    name: first.name,
    tool: first.tool,
    rows: first.rows,
    repeats: runs.length,
    errors: Math.max(...runs.map((r) => r.errors)),
    mismatches: Math.max(...runs.map((r) => r.mismatches)),
    p99_before_ms: m('p99_before_ms'),
    p99_during_ms: m('p99_during_ms'),
    p99_phase_max_ms: m('p99_phase_max_ms'),
    max_ms: m('max_ms'),
    wall_ms: m('wall_ms'),
    backfill_rows_per_s: m('backfill_rows_per_s'),
    walk_rows_per_s: m('walk_rows_per_s'),
    bound_rows_per_s: m('bound_rows_per_s'),
    bound_plain_rows_per_s: m('bound_plain_rows_per_s'),
    // Ratios per run (bound and backfill measured in the same run), then the median.
    backfill_ratio: ratioOf(runs, 'bound_rows_per_s'),
    backfill_plain_ratio: ratioOf(runs, 'bound_plain_rows_per_s'),
    size_ratio: m('size_ratio'),
    loadavg: m('loadavg'),
    retries: m('retries'),
    error_messages: [...new Set(runs.flatMap((r) => r.error_messages))].slice(0, 3),
    migration_failed: runs.filter((r) => r.migration_error).length,
    migration_errors: [...new Set(runs.map((r) => r.migration_error).filter(Boolean))],
    phases: representative.phases,
    // Each phase's p99, worst request and number of requests, medians over the repeats (phases above: one run's).
    phase_medians: Object.fromEntries((first.phases ?? []).map(({ label }) => {
      const of = (key) => medianOf(runs.map((r) => r.phases?.find((p) => p.label === label)?.[key]));
      return [label, { p99_ms: of('p99_ms'), max_ms: of('max_ms'), requests: of('requests') }];
    })),
    server_settings: first.server_settings ?? null,
    runs: runs.map(({ trace, ...rest }) => rest),
    trace: representative.trace,
  };
}

const fmt = (v, digits = 1) => (v === null || v === undefined ? '–' : typeof v === 'number' ? v.toFixed(digits) : String(v));

export function table(scenarios) {
  const header = ['db', 'scenario', 'tool', 'errors', 'p99 before', 'p99 during', 'worst phase p99', 'max ms', 'wall ms', 'backfill/bound', 'vs no trigger', 'size ×'];
  const rows = scenarios.map((s) => [
    s.db,
    s.name,
    s.tool,
    String(s.errors) + (s.mismatches ? ` (+${s.mismatches} mism.)` : '') + (s.migration_failed ? ` (DDL failed ${s.migration_failed}×)` : ''),
    fmt(s.p99_before_ms),
    fmt(s.p99_during_ms),
    fmt(s.p99_phase_max_ms),
    fmt(s.max_ms),
    fmt(s.wall_ms, 0),
    s.backfill_ratio !== null ? `${(s.backfill_ratio * 100).toFixed(0)} %` : '–',
    s.backfill_plain_ratio !== null ? `${(s.backfill_plain_ratio * 100).toFixed(0)} %` : '–',
    fmt(s.size_ratio, 2),
  ]);
  return { header, rows };
}

export async function runLive(argv) {
  const options = parseOptions(argv);
  const started = new Date();
  // Read when the run starts, next to the build it measures: src/ may be edited while it runs.
  const commit = gitCommit();
  const loadavgStart = os.loadavg();
  const summaries = [];
  const kinds = options.dbs;
  // Interrupted (Ctrl-C, kill, a closed terminal) or its reader gone (`| head`: the next write fails
  // with EPIPE): put back what the run changed on the servers, as its own `finally` blocks would.
  const stop = (code) => cleanUpAfterInterrupt().finally(() => process.exit(code));
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) process.once(signal, () => stop(code));
  for (const stream of [process.stdout, process.stderr]) stream.on('error', (error) => (error.code === 'EPIPE' ? stop(141) : undefined));
  try {
    for (const scenario of SCENARIOS.filter((s) => options.scenarios.includes(s.name))) {
      for (const kind of kinds.filter((k) => !scenario.kinds || scenario.kinds.includes(k))) {
        for (const [tool, toolOptions] of toolsFor(scenario, kind, options)) {
          const runs = [];
          for (let i = 0; i < options.repeats; i++) {
            const runStarted = Date.now();
            const result = await runOnce(kind, scenario, tool, toolOptions);
            result.run_s = Math.round((Date.now() - runStarted) / 1000);
            runs.push(result);
            process.stderr.write(`  ${result.db} ${scenario.name} ${tool} #${i + 1}: errors ${result.errors}, p99 ${result.p99_before_ms} → ${result.p99_during_ms} ms, max ${result.max_ms} ms, wall ${result.wall_ms} ms${result.backfill_rows_per_s ? `, backfill ${result.backfill_rows_per_s}/s vs bound ${result.bound_rows_per_s}/s (${result.bound_plain_rows_per_s ? `no trigger ${result.bound_plain_rows_per_s}/s; ` : ''}the walk alone ${result.walk_rows_per_s}/s in ${result.walk_batches} batches)` : ''}${result.size_ratio ? `, size ×${result.size_ratio}` : ''} (load ${result.loadavg.toFixed(1)}; run ${result.run_s} s)\n`);
          }
          summaries.push(summarize(runs));
        }
      }
    }
  } finally {
    await dropTemplates();
  }
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const svgs = [];
  for (const scenario of SCENARIOS.filter((s) => options.scenarios.includes(s.name))) {
    const panels = summaries.filter((s) => s.name === scenario.name && (s.tool === 'naive' || s.tool === 'tandem'));
    if (!panels.length) continue;
    const file = `${scenario.name}.svg`;
    fs.writeFileSync(path.join(RESULTS_DIR, file), scenarioSvg(scenario, panels));
    svgs.push({ scenario: scenario.name, title: scenario.title, file });
  }
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadavg_start: loadavgStart };
  const latest = {
    date: started.toISOString(),
    commit,
    quick: options.quick,
    options: { rows: options.rows, repeats: options.repeats, variants: options.variants, plain_bound: options.plainBound, rate: options.rate, connections: options.connections, pg_named_statements: options.named, tandem_config: options.tandemConfig ?? 'defaults' },
    machine,
    loadavg_end: os.loadavg(),
    scenarios: summaries.map(({ trace, runs, ...rest }) => ({ ...rest, runs })),
  };
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), `${JSON.stringify(latest, null, 2)}\n`);
  const { header, rows } = table(summaries);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  return { latest, summaries, svgs };
}

/** The code the run measured: the commit, marked when the tree had changes; null outside git. */
function gitCommit() {
  try {
    const run = (args) => execFileSync('git', args, { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return `${run(['rev-parse', '--short', 'HEAD'])}${run(['status', '--porcelain', '--', '../../src']) ? ' with uncommitted changes to src/' : ''}`;
  } catch {
    return null;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await runLive(process.argv.slice(2));
