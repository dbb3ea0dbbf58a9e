// Benchmark: `tandem lint` vs squawk on the same generated PostgreSQL migrations (>= 10,000 statements).
// Run: npm run bench:lint   (builds dist/ first). Options: --statements N (default 12000), --files N (default 400).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lintPaths } from '../../dist/lint/lint.js';
import { resolveVersions } from '../../dist/lint/config.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const STATEMENTS = option('--statements', 12000);
const FILES = option('--files', 400);

/** A mix of safe and unsafe statements, like a real migration history. */
const TEMPLATES = [
  (t, i) => `ALTER TABLE ${t} ADD COLUMN c${i} text`,
  (t, i) => `ALTER TABLE ${t} ADD COLUMN d${i} integer NOT NULL DEFAULT 0`,
  (t, i) => `CREATE INDEX CONCURRENTLY ${t}_c${i}_idx ON ${t} (c${i})`,
  (t, i) => `CREATE INDEX ${t}_d${i}_idx ON ${t} (d${i})`,
  (t, i) => `ALTER TABLE ${t} ADD CONSTRAINT ${t}_d${i}_positive CHECK (d${i} >= 0) NOT VALID`,
  (t, i) => `ALTER TABLE ${t} VALIDATE CONSTRAINT ${t}_d${i}_positive`,
  (t, i) => `ALTER TABLE ${t} ALTER COLUMN c${i} TYPE varchar(200)`,
  (t, i) => `UPDATE ${t} SET c${i} = lower(c${i}) WHERE c${i} IS NOT NULL`,
  (t, i) => `CREATE TABLE ${t}_log${i} (id bigserial PRIMARY KEY, ${t}_id bigint NOT NULL REFERENCES ${t} (id), payload jsonb, created_at timestamptz NOT NULL DEFAULT now())`,
  (t, i) => `ALTER TABLE ${t} ADD CONSTRAINT ${t}_fk${i} FOREIGN KEY (d${i}) REFERENCES ${t}_ref (id)`,
  (t, i) => `ALTER TABLE ${t} DROP COLUMN old${i}`,
  (t, i) => `ALTER TABLE ${t} ALTER COLUMN d${i} SET NOT NULL`,
  (t, i) => `CREATE OR REPLACE FUNCTION ${t}_sync${i}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.c${i} := coalesce(NEW.c${i}, 'x');\n  RETURN NEW;\nEND\n$$`,
  (t, i) => `INSERT INTO ${t}_settings (key, value) VALUES ('k${i}', 'v${i}')`,
];

function generate(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const perFile = Math.ceil(STATEMENTS / FILES);
  let written = 0;
  for (let f = 0; f < FILES && written < STATEMENTS; f++) {
    const table = `t${f % 37}`;
    const lines = [`-- generated migration ${f}`];
    for (let s = 0; s < perFile && written < STATEMENTS; s++, written++) lines.push(`${TEMPLATES[(f * 7 + s) % TEMPLATES.length](table, f * perFile + s)};`, '');
    fs.writeFileSync(path.join(dir, `V${String(f + 1).padStart(5, '0')}__m${f}.sql`), lines.join('\n'));
  }
  return written;
}

/**
 * squawk is the baseline, not a dependency: it is installed on first use into bench/.tools (its npm
 * package ships per-platform binaries as optional dependencies, which a lock file cannot pin for
 * every platform at once).
 */
const SQUAWK_VERSION = '2.66.0';
function squawkBinary() {
  const tools = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '.tools');
  const pkg = path.join(tools, 'node_modules', 'squawk-cli');
  if (!fs.existsSync(pkg)) {
    fs.mkdirSync(tools, { recursive: true });
    const install = spawnSync('npm', ['install', '--no-save', '--no-package-lock', '--prefix', tools, `squawk-cli@${SQUAWK_VERSION}`], { stdio: 'inherit' });
    if (install.status !== 0) return null;
  }
  const platform = `${process.platform}-${process.arch}`;
  const candidates = [path.join(pkg, '..', '@squawk-cli', platform, 'bin', 'squawk'), path.join(pkg, 'js', 'bin', 'squawk')];
  return candidates.find((candidate) => fs.existsSync(candidate)) ?? null;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-lint-bench-'));
try {
  const statements = generate(dir);
  const files = fs.readdirSync(dir).filter((name) => name.endsWith('.sql')).map((name) => path.join(dir, name));
  const versions = resolveVersions({ postgres: '16' });

  // Warm-up (loads the WASM parser, JIT), then the timed run.
  await lintPaths([files[0]], { cwd: dir, dialect: 'postgres', versions });
  const started = process.hrtime.bigint();
  const result = await lintPaths([dir], { cwd: dir, dialect: 'postgres', versions });
  const tandemSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const tandemRate = result.statementsLinted / tandemSeconds;

  const binary = squawkBinary();
  let squawk = null;
  if (binary) {
    const version = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
    spawnSync(binary, [files[0]], { encoding: 'utf8' }); // warm the page cache
    const t0 = process.hrtime.bigint();
    const run = spawnSync(binary, ['--reporter', 'json', '--pg-version', '16', ...files], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    let violations = null;
    try {
      violations = JSON.parse(run.stdout).length;
    } catch {
      /* older squawk prints one object per line */
    }
    squawk = { version, seconds, rate: statements / seconds, exit: run.status, violations };
  }

  const lines = [
    `statements: ${statements} in ${files.length} files`,
    `tandem lint: ${tandemSeconds.toFixed(2)} s, ${Math.round(tandemRate)} statements/s, ${result.findings.length} findings (${result.findings.filter((f) => f.severity === 'error').length} errors)`,
    squawk
      ? `${squawk.version}: ${squawk.seconds.toFixed(2)} s, ${Math.round(squawk.rate)} statements/s${squawk.violations !== null ? `, ${squawk.violations} violations` : ''} (exit ${squawk.exit})`
      : 'squawk: binary not found (the squawk-cli package installs it as an optional dependency)',
    squawk ? `ratio (tandem statements/s ÷ squawk statements/s): ${(tandemRate / squawk.rate).toFixed(3)}` : '',
  ].filter(Boolean);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify({ statements, files: files.length, tandem: { seconds: tandemSeconds, rate: tandemRate, findings: result.findings.length }, squawk })}\n`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
