// `npm run bench`: the live-traffic benchmark, then the lint and verify benchmarks; writes
// bench/results/latest.json, one SVG per scenario and (full runs only) bench/RESULTS.md.
// `npm run bench -- --quick`: 100,000 rows, one run per cell, no lint/verify, RESULTS.md untouched
// (its figures must come from a full run). Filters: --db postgres|mysql, --scenario a,b, --tool naive|tandem.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RESULTS_DIR, runLive } from './live/main.mjs';
import { SCENARIOS } from './live/scenarios.mjs';
import { resultsMarkdown } from './results-markdown.mjs';
import { SERVERS } from './live/run.mjs';
import pg from 'pg';
import mysql from 'mysql2/promise';

const here = path.dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);

// A mistyped flag must not start a 40-minute run.
const FLAGS = { '--quick': false, '--live-only': false, '--write-results': false, '--rewrite-results': false, '--unnamed': false, '--no-version-schemas': false, '--variants': false, '--db': true, '--scenario': true, '--tool': true, '--rows': true, '--repeats': true, '--tandem-config': true };
const USAGE = `usage: npm run bench [-- options]
  --quick                 every scenario at 100,000 rows, one run each (RESULTS.md untouched)
  --db postgres|mysql     one database (or mariadb)  --scenario a,b   some scenarios (${SCENARIOS.map((s) => s.name).join(', ')})
  --tool naive|tandem     one tool              --rows N         table size       --repeats N   runs per cell
  --variants              also tandem with one setting changed, and the bound without a trigger (~35 min more)
  --unnamed               PostgreSQL app without named prepared statements
  --no-version-schemas    PostgreSQL new app reads the tables, not tandem's views
  --tandem-config JSON    tandem config overrides, e.g. '{"backfill":{"targetBatchMs":40}}'
  --live-only             skip the lint and verify benchmarks
  --write-results         write RESULTS.md from a filtered run too
  --rewrite-results       write RESULTS.md again from results/latest.json, run nothing`;
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
for (let i = 0; i < argv.length; i++) {
  if (!(argv[i] in FLAGS)) {
    console.error(`bench: unknown option ${argv[i]}\n${USAGE}`);
    process.exit(2);
  }
  if (FLAGS[argv[i]]) i++;
}
const quick = argv.includes('--quick');
const filtered = ['--db', '--scenario', '--tool', '--rows', '--repeats'].some((f) => argv.includes(f));
const latestFile = path.join(RESULTS_DIR, 'latest.json');

if (argv.includes('--rewrite-results')) {
  // RESULTS.md again from the last run's latest.json (after a change to how it is written).
  const latest = JSON.parse(fs.readFileSync(latestFile, 'utf8'));
  fs.writeFileSync(path.join(here, 'RESULTS.md'), resultsMarkdown(latest, svgsOf(latest)));
  console.log('wrote bench/RESULTS.md from bench/results/latest.json');
  process.exit(0);
}

const started = Date.now();
const { latest } = await runLive(argv);

const side = [];
if (!quick && !argv.includes('--live-only')) {
  for (const name of ['lint', 'verify']) {
    const run = spawnSync(process.execPath, [path.join(here, name, 'bench.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(run.stdout);
    side.push({ name, ok: run.status === 0, output: run.stdout.trim() });
  }
}
const seconds = Math.round((Date.now() - started) / 1000);
console.log(`bench: ${seconds} s`);

// What RESULTS.md needs besides the live figures, kept with them so it can be written again.
latest.side = side;
latest.duration_s = seconds;
latest.variants_s = latest.scenarios.filter((s) => s.tool.startsWith('tandem, ')).reduce((sum, s) => sum + s.runs.reduce((t, r) => t + (r.run_s ?? 0), 0), 0);
latest.versions = await serverVersions();
fs.writeFileSync(latestFile, `${JSON.stringify(latest, null, 2)}\n`);

if ((!quick && !filtered) || argv.includes('--write-results')) {
  fs.writeFileSync(path.join(here, 'RESULTS.md'), resultsMarkdown(latest, svgsOf(latest)));
  console.log('wrote bench/RESULTS.md');
}

/** The pictures main.mjs drew: one per scenario with a naive or tandem row. */
function svgsOf(latest) {
  return SCENARIOS.filter((scenario) => latest.scenarios.some((s) => s.name === scenario.name && (s.tool === 'naive' || s.tool === 'tandem'))).map((scenario) => ({ scenario: scenario.name, title: scenario.title, file: `${scenario.name}.svg` }));
}

async function serverVersions() {
  const out = {};
  try {
    const client = new pg.Client({ connectionString: SERVERS.postgres });
    await client.connect();
    out.postgres = (await client.query('SHOW server_version')).rows[0].server_version;
    await client.end();
  } catch {}
  try {
    const connection = await mysql.createConnection({ uri: SERVERS.mysql });
    out.mysql = (await connection.query('SELECT VERSION() AS v'))[0][0].v;
    await connection.end();
  } catch {}
  return out;
}
