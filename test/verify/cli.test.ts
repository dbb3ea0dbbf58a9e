/**
 * `tandem verify` as CI runs it: the built CLI in a scratch directory (embedded PGlite, no server),
 * the output formats, the config section, app commands with DATABASE_URL / TANDEM_ROLE /
 * TANDEM_STATE, and the exit codes (0 every required cell works, 1 one fails, 2 usage error).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/spawn-cli.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../migrations-examples');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-verify-cli-'));
  // Each app command appends what it saw, so the test can tell where and how it ran.
  fs.writeFileSync(path.join(dir, 'app-test.mjs'), `import fs from 'node:fs';
fs.appendFileSync(${JSON.stringify(path.join(dir, 'seen.log'))}, [process.env.TANDEM_ROLE, process.env.TANDEM_STATE, process.env.DATABASE_URL].join(' ') + '\\n');
process.exit(process.env.TANDEM_STATE === 'R' ? 7 : 0);
`);
}, 180_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The real CLI's `verify` command, through the shared launcher of test/support/spawn-cli.ts. */
function verify(args: string[], cwd = dir) {
  return runCli(['verify', ...args], { cwd, env: { NO_COLOR: '1' } });
}

describe('tandem verify CLI (embedded PGlite)', () => {
  it('exits 1 on an unsafe migration and names the cell in every format', async () => {
    const unsafe = path.join(EXAMPLES, 'unsafe/postgres');
    const json = await verify(['--dir', unsafe, '--format', 'json', '20260203000000_add_required_currency']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { ok: boolean; migrations: string[]; cells: Array<{ app: string; state: string; status: string; first_failure: string | null }> };
    expect(report.ok).toBe(false);
    expect(report.migrations).toEqual(['20260203000000_add_required_currency']);
    const failed = report.cells.filter((c) => c.status === 'failed');
    expect(failed.map((c) => `${c.app} ${c.state}`)).toEqual(['old S1', 'old S2']);
    expect(failed[0]!.first_failure).toBe('the old app inserts into orders without currency, which is NOT NULL without a default at S1 (expanded)');

    // A file path works as the id (what `git diff --name-only` prints).
    const markdown = await verify(['--dir', unsafe, '--format', 'markdown', path.join(unsafe, '20260202000000_drop_nickname_in_expand.sql')]);
    expect(markdown.code).toBe(1);
    expect(markdown.stdout).toContain('### tandem verify ❌');
    expect(markdown.stdout).toContain('| old app | ✅ | ❌ | ❌ | · | ✅ |');
    expect(markdown.stdout).toContain('- **old app at S1 (expanded)**: the old app reads users.nickname, which does not exist at S1 (expanded)');
  }, 240_000);

  it('exits 0 on a safe migration; the config section gives probe files, commands run with DATABASE_URL and TANDEM_ROLE', async () => {
    const safe = path.join(EXAMPLES, 'postgres');
    fs.writeFileSync(path.join(dir, 'extra.old.sql'), '-- expect: rows 1\nSELECT 1 AS one;\n-- expect: error\nSELECT no_such_column FROM accounts;\n');
    fs.writeFileSync(path.join(dir, 'tandem.config.json'), JSON.stringify({ dir: safe, verify: { old: 'extra.old.sql' } }));
    const pretty = await verify(['20260102000000']);
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toContain('old app  ✓    ✓    ✓    ·    ✓');
    expect(pretty.stdout).toContain('new app  ·    ✓    ✓    ✓    ·');
    expect(pretty.stdout).toContain('Both app versions work at every state they run at.');

    // The old app's own tests: run at S0, S1, S2 and R (failing at R on purpose) on a PGlite directory.
    fs.rmSync(path.join(dir, 'seen.log'), { force: true });
    const withCommand = await verify(['20260102000000', '--old-cmd', `"${process.execPath}" app-test.mjs`]);
    expect(withCommand.code).toBe(1);
    const seen = fs.readFileSync(path.join(dir, 'seen.log'), 'utf8').trim().split('\n');
    expect(seen.map((line) => line.split(' ').slice(0, 2).join(' ')).sort()).toEqual(['old R', 'old R', 'old S0', 'old S1', 'old S2']);
    expect(seen.every((line) => / pglite:\/.+tandem-verify-/.test(line))).toBe(true);
    expect(withCommand.stdout).toMatch(/old app at R \(rolled back\): the old app's command `.+app-test\.mjs` exits with 7 at R \(rolled back\), after rollback from S2/);
    fs.rmSync(path.join(dir, 'tandem.config.json'));
  }, 300_000);

  it('exits 2 on usage errors: an unknown migration, a gap, a missing probe file, a bad format', async () => {
    const safe = path.join(EXAMPLES, 'postgres');
    const unknown = await verify(['--dir', safe, 'no_such_migration']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no migration matches "no_such_migration"');
    const gap = await verify(['--dir', safe, '20260102000000', '20260104000000']);
    expect(gap.code).toBe(2);
    expect(gap.stderr).toContain('20260103000000_add_required_country lies between the ones named');
    const missing = await verify(['--dir', safe, '--old', 'nope.sql', '20260102000000']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('probe file nope.sql does not exist');
    const format = await verify(['--dir', safe, '--format', 'html']);
    expect(format.code).toBe(2);
  }, 120_000);
});
