/**
 * Declarative migrations (JSON, YAML, TypeScript) are linted through the SQL they generate: the
 * earlier migrations of their directory are applied to a scratch database (embedded PGlite for
 * PostgreSQL, a throw-away database on --scratch-url for MySQL), the operations compiled there, and
 * each finding placed at the operation's line with the generated statement attached.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveVersions } from '../../src/lint/config.js';
import { lintPaths } from '../../src/lint/lint.js';
import { renderJson } from '../../src/lint/report/json.js';
import type { Finding } from '../../src/lint/types.js';
import { parseConnectionUrl } from '../../src/db/url.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { REPO_ROOT, runCli } from '../support/spawn-cli.js';

const S0 = {
  postgres: 'CREATE TABLE users (id int PRIMARY KEY, email text, nickname text, legacy text);\n',
  mysql: 'CREATE TABLE users (id int PRIMARY KEY, email varchar(200), nickname varchar(200), legacy varchar(200));\n',
};

/** Operations tandem makes safe, then one raw SQL operation that drops a column under the old app. */
const YAML = `# users.nickname becomes handle; the raw SQL below is the mistake the linter must find
operations:
  - renameColumn:
      table: users
      from: nickname
      to: handle
  - sql:
      expand: ALTER TABLE users DROP COLUMN legacy
`;

const TS = `import { defineMigration } from 'tandem';

export default defineMigration({
  operations: [
    { addColumn: { table: 'users', column: { name: 'bio', type: 'text', nullable: true } } },
    {
      sql: { expand: 'ALTER TABLE users DROP COLUMN email' },
    },
  ],
});
`;

const INVALID = `{
  "operations": [
    { "renameColumn": { "table": "users", "from": "no_such_column", "to": "x" } }
  ]
}
`;

function lineOf(text: string, needle: string): number {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error(`fixture lacks ${needle}`);
  return text.slice(0, at).split('\n').length;
}

function makeDir(dialect: 'postgres' | 'mysql', files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-lint-decl-${dialect}-`));
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(path.join(dir, 'migrations/20260101000000_s0.sql'), S0[dialect]);
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'migrations', name), text);
  return dir;
}

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function fixture(dialect: 'postgres' | 'mysql', files: Record<string, string>): string {
  const dir = makeDir(dialect, files);
  dirs.push(dir);
  return dir;
}

const summary = (f: Finding) => [f.rule, path.basename(f.file), f.line, f.phase, f.generated?.index, f.generated?.operation];

describe('PostgreSQL: compiled on embedded PGlite', () => {
  it('finds what the generated SQL does, at the operation that generates it', async () => {
    const cwd = fixture('postgres', { '20260102000000_rename.yaml': YAML, '20260103000000_bio.ts': TS });
    const result = await lintPaths(['migrations'], { cwd, dialect: 'postgres', versions: resolveVersions({}), tandemDirs: ['migrations'] });
    expect(result.notices).toEqual([]);
    expect(result.filesLinted).toBe(3);
    expect(result.findings.map(summary)).toEqual([
      ['drop-column', '20260102000000_rename.yaml', lineOf(YAML, '- sql:'), 'expand', 1, 'sql'],
      ['drop-column', '20260103000000_bio.ts', lineOf(TS, 'sql:'), 'expand', 1, 'sql'],
    ]);
    const [yaml] = result.findings;
    expect(yaml!.message).toMatch(/^operation 1 \(sql\): /);
    expect(yaml!.generated!.sql).toBe('ALTER TABLE users DROP COLUMN legacy');
    // The span inside the generated statement points at the DROP COLUMN clause.
    expect(yaml!.generated!.sql.slice(yaml!.generated!.column - 1, yaml!.generated!.endColumn - 1)).toMatch(/^DROP COLUMN legacy/);
    // The statements tandem generated for renameColumn (view, shim trigger, function…) were linted too.
    expect(result.statementsLinted).toBeGreaterThan(6);
  });

  it('with versionSchemas, a renameColumn compiles as the runner compiles it: a contract RENAME through the views, not reported', async () => {
    const rename = '{ "operations": [\n  { "renameColumn": { "table": "users", "from": "nickname", "to": "handle" } }\n] }\n';
    const cwd = fixture('postgres', { '20260102000000_rename.json': rename });
    const views = await lintPaths(['migrations'], { cwd, dialect: 'postgres', versions: resolveVersions({}), tandemDirs: ['migrations'], versionSchemas: true });
    expect(views.notices).toEqual([]);
    expect(views.findings).toEqual([]);
    // S0's statements and the one RENAME of the contract: no twin, no shim.
    const s0 = await lintPaths(['migrations/20260101000000_s0.sql'], { cwd, dialect: 'postgres', versions: resolveVersions({}), tandemDirs: ['migrations'] });
    expect(views.statementsLinted - s0.statementsLinted).toBe(1);
    // The same RENAME written by hand in a contract section is reported: the exemption is the views'.
    const hand = fixture('postgres', { '20260102000000_rename.sql': '-- tandem:contract\nALTER TABLE "users" RENAME COLUMN "nickname" TO "handle";\n' });
    const byHand = await lintPaths(['migrations'], { cwd: hand, dialect: 'postgres', versions: resolveVersions({}), tandemDirs: ['migrations'], versionSchemas: true });
    expect(byHand.findings.map((f) => [f.rule, f.phase])).toEqual([['rename-column', 'contract']]);
    // Without version schemas it is a twin column with a shim: many statements.
    const twin = await lintPaths(['migrations'], { cwd, dialect: 'postgres', versions: resolveVersions({}), tandemDirs: ['migrations'] });
    expect(twin.statementsLinted - s0.statementsLinted).toBeGreaterThan(4);
  });

  it('json output carries the generated statement', async () => {
    const cwd = fixture('postgres', { '20260102000000_rename.yaml': YAML });
    const json = JSON.parse(renderJson(await lintPaths(['migrations'], { cwd, dialect: 'postgres', versions: resolveVersions({}) })));
    expect(json.findings).toHaveLength(1);
    expect(json.findings[0]).toMatchObject({ rule: 'drop-column', line: lineOf(YAML, '- sql:'), column: 1, phase: 'expand', generated: { operation: 'sql', index: 1, sql: 'ALTER TABLE users DROP COLUMN legacy' } });
  });

  it('an operation that does not fit the schema is an invalid-migration error naming the operation', async () => {
    const cwd = fixture('postgres', { '20260102000000_bad.json': INVALID, '20260103000000_later.yaml': YAML });
    const result = await lintPaths(['migrations'], { cwd, dialect: 'postgres', versions: resolveVersions({}) });
    expect(result.findings.map((f) => [f.rule, path.basename(f.file), f.line, f.severity])).toEqual([['invalid-migration', '20260102000000_bad.json', lineOf(INVALID, '{ "renameColumn"'), 'error']]);
    expect(result.findings[0]!.message).toMatch(/operation 0 \(renameColumn\).*no_such_column/);
    // The later migration cannot be compiled on a schema that never existed: said, not skipped silently.
    expect(result.notices).toEqual([{ file: 'migrations/20260103000000_later.yaml', message: expect.stringMatching(/^not linted: the earlier migration migrations\/20260102000000_bad\.json does not compile/) }]);
  });

  it('disables in YAML (#) and TypeScript (//) comments cover the next operation or the rest of the file', async () => {
    const yaml = YAML.replace('  - sql:', '  # tandem-lint-disable-next-statement drop-column legacy has been unused since 2025\n  - sql:');
    const ts = TS.replace('    {\n      sql:', '    // tandem-lint-disable drop-column\n    {\n      sql:');
    const cwd = fixture('postgres', { '20260102000000_rename.yaml': yaml, '20260103000000_bio.ts': ts });
    const result = await lintPaths(['migrations'], { cwd, dialect: 'postgres', versions: resolveVersions({}) });
    // The YAML finding is waved through with a reason; the TypeScript disable gives none, which is itself reported.
    expect(result.findings.map((f) => [f.rule, path.basename(f.file), f.line])).toEqual([['disable-without-reason', '20260103000000_bio.ts', lineOf(ts, '// tandem-lint-disable')]]);
  });

  it('TypeScript phase functions are code: a notice says they are not linted', async () => {
    const result = await lintPaths(['migrations-examples/operations'], { cwd: REPO_ROOT, dialect: 'postgres', versions: resolveVersions({}) });
    // tandem's own operations generate SQL its linter accepts.
    expect(result.findings).toEqual([]);
    expect(result.filesLinted).toBe(7);
    expect(result.notices).toEqual([{ file: 'migrations-examples/operations/20260308000000_order_totals.ts', message: expect.stringMatching(/TypeScript functions \(code, not SQL\)/) }]);
  });
});

describe('MySQL: compiled in a throw-away database on --scratch-url', () => {
  let db: TestDatabase | null = null;
  beforeAll(async () => {
    db = await createTestDatabase('mysql', 'lintdecl');
  }, 180_000);
  afterAll(async () => {
    await db?.drop();
  });

  async function scratchDatabases(url: string): Promise<string[]> {
    const connection = await mysql.createConnection(url);
    try {
      const [rows] = await connection.query("SHOW DATABASES LIKE 'tandem\\_lint\\_%'");
      return (rows as Array<Record<string, string>>).map((row) => Object.values(row)[0]!);
    } finally {
      await connection.end();
    }
  }

  it('lints the generated MySQL and drops its scratch database', async (ctx) => {
    if (!db) return ctx.skip('MySQL unavailable');
    const cwd = fixture('mysql', { '20260102000000_rename.yaml': YAML, '20260103000000_bio.ts': TS });
    const before = await scratchDatabases(db.url);
    const result = await lintPaths(['migrations'], { cwd, dialect: 'mysql', versions: resolveVersions({ mariadb: '10.11' }), scratch: parseConnectionUrl(db.url) });
    expect(result.notices).toEqual([]);
    // MySQL also learns that the raw ALTER states no ALGORITHM/LOCK; tandem's own statements state theirs.
    expect(result.findings.map(summary)).toEqual([
      ['drop-column', '20260102000000_rename.yaml', lineOf(YAML, '- sql:'), 'expand', 1, 'sql'],
      ['mysql-unguarded-alter', '20260102000000_rename.yaml', lineOf(YAML, '- sql:'), 'expand', 1, 'sql'],
      ['drop-column', '20260103000000_bio.ts', lineOf(TS, 'sql:'), 'expand', 1, 'sql'],
      ['mysql-unguarded-alter', '20260103000000_bio.ts', lineOf(TS, 'sql:'), 'expand', 1, 'sql'],
    ]);
    expect(await scratchDatabases(db.url)).toEqual(before);
  });

  it("tandem's own operations generate MySQL its linter accepts (MariaDB 10.11 and MySQL 8.0)", async (ctx) => {
    if (!db) return ctx.skip('MySQL unavailable');
    for (const versions of [{ mariadb: '10.11' }, { mysql: '8.0.36' }]) {
      const result = await lintPaths(['migrations-examples/operations'], { cwd: REPO_ROOT, dialect: 'mysql', versions: resolveVersions(versions), scratch: parseConnectionUrl(db.url) });
      expect(result.findings).toEqual([]);
      expect(result.filesLinted).toBe(7);
    }
  });

  it('a key column\'s type change copies the table on MariaDB: the copy\'s statements (a block, triggers, RENAME, the foreign keys renamed) lint clean', async (ctx) => {
    if (!db) return ctx.skip('MySQL unavailable');
    // Replaces the directory's S0.
    const cwd = fixture('mysql', {
      '20260101000000_s0.sql': 'CREATE TABLE accounts (id int PRIMARY KEY);\nCREATE TABLE orders (id int AUTO_INCREMENT PRIMARY KEY, account int NOT NULL, CONSTRAINT orders_account FOREIGN KEY (account) REFERENCES accounts (id));\n',
      '20260102000000_orders_id.json': JSON.stringify({ operations: [{ alterColumn: { table: 'orders', column: 'id', type: 'bigint' } }] }),
    });
    const result = await lintPaths(['migrations'], { cwd, dialect: 'mysql', versions: resolveVersions({ mariadb: '10.11' }), scratch: parseConnectionUrl(db.url) });
    expect(result.notices).toEqual([]);
    expect(result.findings).toEqual([]);
    expect(result.statementsLinted).toBeGreaterThan(10);
  });

  it('without a server: a notice per file says how to lint it, and nothing is counted as linted', async () => {
    const cwd = fixture('mysql', { '20260102000000_rename.yaml': YAML });
    const result = await lintPaths(['migrations'], { cwd, dialect: 'mysql', versions: resolveVersions({}) });
    expect(result.filesLinted).toBe(1); // the SQL file
    expect(result.notices).toEqual([{ file: 'migrations/20260102000000_rename.yaml', message: expect.stringMatching(/--scratch-url mysql:\/\//) }]);
  });

  it('the CLI: --scratch-url, exit 1, and the pretty output shows the generated statement', async (ctx) => {
    if (!db) return ctx.skip('MySQL unavailable');
    const cwd = fixture('mysql', { '20260102000000_rename.yaml': YAML });
    const result = await runCli(['lint', '--dialect', 'mysql', '--scratch-url', db.url], { cwd, env: { NO_COLOR: '1' } });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toContain(`migrations/20260102000000_rename.yaml:${lineOf(YAML, '- sql:')}:1 error [drop-column] (expand)`);
    expect(result.stdout).toContain('operation 1 (sql) generates:');
    expect(result.stdout).toMatch(/1 \| ALTER TABLE users DROP COLUMN legacy\n\s+\|\s+\^+/);
    const wrong = await runCli(['lint', '--dialect', 'postgres', '--scratch-url', db.url], { cwd, env: { NO_COLOR: '1' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--scratch-url is a mysql server, but the files are linted as postgres');
  });
});
