/**
 * `tandem lint` as CI runs it: the built CLI in a scratch directory, every output format, the
 * config section, and the exit codes (0 clean or warnings only, 1 errors, 2 usage/config errors).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/spawn-cli.js';

const REPO = path.resolve(import.meta.dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-lint-cli-'));
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(path.join(dir, 'migrations/20260101000000_bad.sql'), '-- tandem:expand\nALTER TABLE users DROP COLUMN nickname;\nCREATE INDEX users_email_idx ON users (email);\n');
  fs.writeFileSync(path.join(dir, 'migrations/20260102000000_warn.sql'), '-- tandem:expand\nDROP INDEX users_old_idx;\n');
  fs.mkdirSync(path.join(dir, 'clean'));
  fs.writeFileSync(path.join(dir, 'clean/20260101000000_ok.sql'), '-- tandem:expand\nALTER TABLE users ADD COLUMN bio text;\n-- tandem:contract\nALTER TABLE users DROP COLUMN nickname;\n');
  fs.mkdirSync(path.join(dir, 'my'));
  fs.writeFileSync(path.join(dir, 'my/20260101000000_copy.sql'), 'ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4;\n');
}, 180_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The real CLI's `lint` command, through the shared launcher of test/support/spawn-cli.ts. */
function lint(args: string[], cwd = dir) {
  return runCli(['lint', ...args], { cwd, env: { NO_COLOR: '1' } });
}

describe('exit codes', () => {
  it('1 when an error is found (default path: the migrations dir)', async () => {
    const result = await lint([]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('2 files, 3 statements: 2 errors, 1 warning');
  });
  it('0 when only warnings are found', async () => expect((await lint(['migrations/20260102000000_warn.sql'])).code).toBe(0));
  it('0 on clean files', async () => {
    const result = await lint(['clean']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('0 errors, 0 warnings');
  });
  it.each([
    [['--format', 'xml']],
    [['--dialect', 'oracle']],
    [['--pg-version', 'latest']],
    [['no/such/dir']],
    [['--no-such-flag']],
  ])('2 on a usage error: %j', async (args) => {
    const result = await lint(args);
    expect(result.code).toBe(2);
    expect(result.stderr).not.toBe('');
  });
});

describe('formats', () => {
  it('json: the findings with 1-based lines and columns', async () => {
    const result = await lint(['--format', 'json']);
    const output = JSON.parse(result.stdout);
    expect(output.findings.map((f: Record<string, unknown>) => [f.rule, f.severity, f.file, f.line, f.column, f.phase])).toEqual([
      ['drop-column', 'error', 'migrations/20260101000000_bad.sql', 2, 19, 'expand'],
      ['create-index-blocking', 'error', 'migrations/20260101000000_bad.sql', 3, 1, 'expand'],
      ['drop-index-blocking', 'warning', 'migrations/20260102000000_warn.sql', 2, 1, 'expand'],
    ]);
    for (const finding of output.findings) expect(Object.keys(finding)).toEqual(expect.arrayContaining(['rule', 'severity', 'file', 'line', 'column', 'message', 'phase', 'fix']));
    expect((await lint(['--json'])).stdout).toBe(result.stdout);
  });

  it('github: workflow annotations', async () => {
    const lines = (await lint(['--format', 'github'])).stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^::error file=migrations\/20260101000000_bad\.sql,line=2,col=19,endLine=2,endColumn=39,title=tandem lint%3A drop-column::drops column users\.nickname /);
    expect(lines[2]).toMatch(/^::warning file=migrations\/20260102000000_warn\.sql,line=2,col=1,/);
  });

  it('sarif: 2.1.0 with rule metadata and help links', async () => {
    const sarif = JSON.parse((await lint(['--format', 'sarif'])).stdout);
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0];
    const rules = run.tool.driver.rules as Array<{ id: string; helpUri: string; shortDescription: { text: string } }>;
    expect(rules.length).toBeGreaterThanOrEqual(39);
    const result = run.results[0];
    expect(result.ruleId).toBe('drop-column');
    expect(result.level).toBe('error');
    expect(rules[result.ruleIndex]!.id).toBe('drop-column');
    expect(rules[result.ruleIndex]!.helpUri).toMatch(/^file:\/\/.*\/docs\/rules\/drop-column\.md$/);
    expect(fs.existsSync(fileURLToPath(rules[result.ruleIndex]!.helpUri))).toBe(true);
    expect(result.locations[0].physicalLocation).toEqual({ artifactLocation: { uri: 'migrations/20260101000000_bad.sql' }, region: { startLine: 2, startColumn: 19, endLine: 2, endColumn: 39 } });
  });

  it('pretty: the statement, a caret span, the reason, the fix and the docs link', async () => {
    const out = (await lint(['migrations/20260101000000_bad.sql'])).stdout;
    expect(out).toContain(['migrations/20260101000000_bad.sql:2:19 error [drop-column] (expand)', '  2 | ALTER TABLE users DROP COLUMN nickname', `    | ${' '.repeat(18)}${'^'.repeat(20)}`, '  drops column users.nickname while the old app version may still use it'].join('\n'));
    expect(out).toMatch(/ {2}fix: Stop using the column/);
    expect(out).toMatch(/ {2}docs: file:\/\/.*docs\/rules\/drop-column\.md/);
  });
});

describe('configuration', () => {
  it('lint section: severities, rules off, exclude, dialect, versions', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-lint-config-'));
    fs.cpSync(path.join(dir, 'migrations'), path.join(cwd, 'migrations'), { recursive: true });
    fs.cpSync(path.join(dir, 'my'), path.join(cwd, 'my'), { recursive: true });
    const write = (lintConfig: unknown) => fs.writeFileSync(path.join(cwd, 'tandem.config.json'), JSON.stringify({ dir: 'migrations', lint: lintConfig }, null, 2));
    try {
      write({ rules: { 'drop-column': 'warning', 'create-index-blocking': 'off' } });
      let result = await lint(['--format', 'json'], cwd);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout).findings.map((f: { rule: string; severity: string }) => `${f.rule}:${f.severity}`)).toEqual(['drop-column:warning', 'drop-index-blocking:warning']);

      write({ exclude: ['migrations/*_bad.sql'] });
      result = await lint(['--format', 'json'], cwd);
      expect(JSON.parse(result.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(['drop-index-blocking']);

      write({ dialect: 'mysql', paths: ['my'] });
      result = await lint(['--format', 'json'], cwd);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(['lock-timeout-missing', 'mysql-unguarded-alter', 'mysql-convert-charset']);

      write({ postgresVersion: '10' });
      fs.writeFileSync(path.join(cwd, 'migrations/20260103000000_default.sql'), "ALTER TABLE t ADD COLUMN a text DEFAULT 'x';\n");
      result = await lint(['--format', 'json', 'migrations/20260103000000_default.sql'], cwd);
      expect(JSON.parse(result.stdout).findings.map((f: { rule: string }) => f.rule)).toEqual(['add-column-volatile-default']);
      result = await lint(['--format', 'json', '--pg-version', '16', 'migrations/20260103000000_default.sql'], cwd);
      expect(JSON.parse(result.stdout).findings).toEqual([]);

      write({ rules: { 'no-such-rule': 'off' } });
      result = await lint([], cwd);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('unknown rule "no-such-rule"');

      write({ rules: { 'drop-column': 'loud' } });
      result = await lint([], cwd);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('tandem.config.json:');
      expect(result.stderr).toContain('lint.rules.drop-column');
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('--list-rules lists every rule', async () => {
    const result = await lint(['--list-rules'], REPO);
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(39);
  });
});
