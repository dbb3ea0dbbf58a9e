// Benchmark: `tandem verify` of one example migration on embedded PostgreSQL (PGlite, in memory).
// Run: npm run bench:verify   (builds dist/ first). Options: --runs N (default 5),
// --migration ID (default 20260102000000_widen_account_balance), --url URL (a server instead).
//
// Two figures, each the median of N runs:
//   cli      the whole command as CI runs it: a fresh node process, module loading, PGlite start
//            (from the cached initdb tarball; the first run ever builds the cache), three scratch
//            paths, probes, output;
//   verify   verifyMigrations() alone inside one process (module loading excluded; PGlite still
//            started once per verify).
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema } from '../../dist/config/schema.js';
import { parseConnectionUrl } from '../../dist/db/url.js';
import { verifyMigrations } from '../../dist/verify/verify.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(option('--runs', '5'));
const MIGRATION = option('--migration', '20260102000000_widen_account_balance');
const URL = option('--url', undefined);
const DIALECT = URL && /^(mysql|mariadb):/.test(URL) ? 'mysql' : 'postgres';
const DIR = path.resolve(here, '../../migrations-examples', DIALECT);
const LAUNCHER = path.resolve(here, '../../bin/tandem.js');

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

// Warm-up (and the PGlite initdb cache, if it does not exist yet): not counted.
const warm = spawnSync(process.execPath, [LAUNCHER, 'verify', '--dir', DIR, MIGRATION, ...(URL ? ['--url', URL] : [])], { encoding: 'utf8' });
if (warm.status !== 0) {
  process.stderr.write(`warm-up run failed (exit ${warm.status}):\n${warm.stdout}${warm.stderr}`);
  process.exit(1);
}

const cli = [];
for (let i = 0; i < RUNS; i++) {
  const started = performance.now();
  const run = spawnSync(process.execPath, [LAUNCHER, 'verify', '--dir', DIR, MIGRATION, ...(URL ? ['--url', URL] : [])], { encoding: 'utf8' });
  cli.push(performance.now() - started);
  if (run.status !== 0) throw new Error(`run ${i + 1} exited ${run.status}`);
}

const inProcess = [];
const config = configSchema.parse({});
for (let i = 0; i < RUNS; i++) {
  const started = performance.now();
  const report = await verifyMigrations({ dir: DIR, ids: [MIGRATION], server: URL ? parseConnectionUrl(URL) : null, config });
  inProcess.push(performance.now() - started);
  if (!report.ok) throw new Error(`verify run ${i + 1} failed`);
}

const where = URL ? URL.replace(/:[^:@/]*@/, ':***@') : 'PGlite (embedded, in memory)';
console.log(`tandem verify ${MIGRATION} on ${where}, ${RUNS} runs each`);
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}`);
console.log(`cli     median ${seconds(median(cli))}  (min ${seconds(Math.min(...cli))}, max ${seconds(Math.max(...cli))})`);
console.log(`verify  median ${seconds(median(inProcess))}  (min ${seconds(Math.min(...inProcess))}, max ${seconds(Math.max(...inProcess))})`);
