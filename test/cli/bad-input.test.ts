/**
 * Bad input through the real CLI, as one table of cases: each case writes files into a migrations
 * directory whose baseline migration already ran, runs one command, and expects an exit code and a
 * message naming the file, line or field (or the URL and what to check). Afterwards the database is
 * what it was: the app's schema snapshot and every ledger row are compared before and after (except
 * where a statement failed in a phase: then the ledger says failed at the line, PostgreSQL's
 * transaction left nothing, and MySQL has nothing after the failing statement).
 *
 * The README's troubleshooting table lists the same cases with these messages.
 *
 * What the local servers allow us to test honestly: PostgreSQL at 127.0.0.1 uses `trust`, so a wrong
 * password is accepted there; "wrong credentials" on PostgreSQL is a role (or a database) that does
 * not exist. MariaDB checks passwords, so there it is a real wrong password.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect } from '../../src/index.js';
import { rowsOf } from '../support/app-traffic.js';
import { ALL_KINDS, createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases.js';
import { schemaSnapshot } from '../support/operation-harness.js';
import { runCli, type CliResult } from '../support/spawn-cli.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

const PASSWORD = 'S3cret-pw';
const SUFFIX = `${process.pid}_${randomBytes(2).toString('hex')}`;
/** Roles and users this file creates (dropped in afterAll). */
const RO_USER = `tandem_bad_ro_${SUFFIX}`;
const PW_USER = `tandem_bad_pw_${SUFFIX}`;

const BASE_ID = '20260101000000_base';
const BASE_SQL = `-- tandem:expand
CREATE TABLE base (id int PRIMARY KEY, name varchar(50));
-- tandem:rollback
DROP TABLE base;
`;

type Dialect = 'postgres' | 'mysql';

/** Everything a case may need to know about where it runs. */
interface Env {
  kind: TestDbKind;
  dialect: Dialect;
  db: TestDatabase;
  cwd: string;
  /** The test database's URL. */
  url: string;
  /** The same server and database with another user and password. */
  urlAs(user: string, password?: string): string;
  /** The same URL with the port of a closed socket. */
  closedPortUrl: string;
  run(args: string[]): Promise<CliResult>;
  write(file: string, text: string): void;
}

interface Case {
  name: string;
  /** Where the case applies (default: every kind). */
  kinds?: TestDbKind[];
  /** Files written into migrations/ (name → text); `null` deletes the file. */
  files?: Record<string, string | null>;
  /** Runs before the "before" snapshot: brings the database to the state the case needs. */
  prepare?: (env: Env) => Promise<void>;
  /** Files changed after `prepare` (e.g. an edit after the migration ran). */
  then?: Record<string, string | null>;
  command: (env: Env) => string[];
  exit: number;
  /** Fragments the stderr must contain, in this order of importance: place first. */
  messages: (env: Env) => string[];
  /** What the database looks like afterwards: unchanged (default), or failed at a statement. */
  after?: (env: Env, before: Snapshot, after: Snapshot) => Promise<void>;
}

const expandIt = () => ['expand'];

/** `url` without its `user:password@` part, as tandem prints it, with *** for a password. */
function shown(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}

const CASES: Case[] = [
  {
    name: 'malformed JSON',
    files: { '20260201000000_bad.json': '{\n  "operations": [\n    { "createTable": { "table": "t", "columns": [ } }\n  ]\n}\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_bad.json:3:51: not valid JSON: Unexpected token \'}\'\n'],
  },
  {
    name: 'truncated YAML',
    files: { '20260201000000_bad.yaml': 'operations:\n  - createTable:\n      table: t\n      columns:\n        - name: id\n          type: "int\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_bad.yaml:', 'not valid YAML', 'Missing closing "quote'],
  },
  {
    name: 'truncated SQL (unterminated quote)',
    files: { '20260201000000_bad.sql': "-- tandem:expand\nCREATE TABLE t (id int);\nINSERT INTO t VALUES ('x);\n" },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_bad.sql:3:23', "unterminated string literal (') opened at line 3, column 23"],
  },
  {
    name: 'unknown phase marker',
    files: { '20260201000000_bad.sql': '-- tandem:expand\nCREATE TABLE t (id int);\n-- tandem:expnad\nCREATE TABLE u (id int);\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_bad.sql:3', 'unknown phase marker "-- tandem:expnad"'],
  },
  {
    name: 'a statement before the first phase marker',
    files: { '20260201000000_bad.sql': 'CREATE TABLE t (id int);\n-- tandem:expand\nCREATE TABLE u (id int);\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_bad.sql:1:1: statement before the first phase marker', 'move it under a marker'],
  },
  {
    name: 'unknown operation',
    files: { '20260201000000_bad.json': '{\n  "operations": [\n    { "createTabel": { "table": "t" } }\n  ]\n}\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_bad.json:3', 'operation 0: unknown operation "createTabel"', 'use one of createTable'],
  },
  {
    name: 'unknown field',
    files: { '20260201000000_bad.yaml': 'operations:\n  - addColumn:\n      table: base\n      colour: red\n      column: { name: note, type: text }\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_bad.yaml:4', 'operation 0 (addColumn): field "colour"', 'remove "colour"'],
  },
  {
    name: 'wrong type',
    files: { '20260201000000_bad.json': '{\n  "operations": [\n    { "addColumn": { "table": "base", "column": { "name": "note", "type": "text", "nullable": "no" } } }\n  ]\n}\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_bad.json:3', 'field "column.nullable"', 'expected boolean, received string'],
  },
  {
    name: 'operation on a table that does not exist',
    files: { '20260201000000_bad.json': '{\n  "operations": [\n    { "addColumn": { "table": "nosuch", "column": { "name": "note", "type": "text" } } }\n  ]\n}\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_bad.json:3', 'operation 0 (addColumn): table nosuch does not exist'],
  },
  {
    name: 'config: wrong type',
    files: { '../tandem.config.json': '{\n  "dir": "migrations",\n  "lockTimeoutMs": "fast"\n}\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['tandem.config.json:3:20', 'field "lockTimeoutMs": Invalid input: expected number, received string'],
  },
  {
    name: 'SQL syntax error in a phase',
    files: { '20260201000000_bad.sql': '-- tandem:expand\nCREATE TABLE first_ok (id int);\nCREATE TABEL second_bad (id int);\nCREATE TABLE third_never (id int);\n' },
    command: expandIt,
    exit: 1,
    messages: () => ['migrations/20260201000000_bad.sql:3', 'expand of 20260201000000_bad failed', 'CREATE TABEL second_bad', 'syntax'],
    async after(env, before, after) {
      const status = await statusOf(env, '20260201000000_bad');
      expect(status).toMatchObject({ phase: 'failed', activePhase: 'expand', errorLine: 3 });
      expect(String(status.error)).toContain('syntax');
      const tables = (snapshot: Snapshot) => [...new Set(snapshot.schema.columns.map((line) => line.split('.')[0]))];
      expect(tables(after)).not.toContain('third_never');
      // PostgreSQL: the phase's transaction left nothing; MySQL commits each DDL, so the first statement stays.
      if (env.dialect === 'postgres') {
        expect(after.schema).toEqual(before.schema);
        expect(status.statementsDone).toBe(0);
      } else {
        expect(tables(after)).toEqual([...tables(before), 'first_ok'].sort());
        expect(status.statementsDone).toBe(1);
      }
    },
  },
  {
    name: 'duplicate migration id',
    files: { '20260201000000_one.sql': 'CREATE TABLE one (id int);\n', '20260201000000_two.sql': 'CREATE TABLE two (id int);\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_two.sql:1', 'migration version 20260201000000 is used twice', '20260201000000_one.sql and 20260201000000_two.sql'],
  },
  {
    name: 'a dbmate file (to tandem its markers are comments: the down section would run forward)',
    files: { '20260201000000_dbmate.sql': '-- migrate:up\nCREATE TABLE t (id int);\n\n-- migrate:down\nDROP TABLE t;\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/20260201000000_dbmate.sql:1', 'dbmate\'s "-- migrate:up" marker: tandem would run the whole file forward, its down section too', '`-- tandem:rollback` instead of `-- migrate:down`'],
  },
  {
    name: 'a Flyway undo script',
    files: { 'U1__undo_base.sql': 'DROP TABLE base;\n' },
    command: expandIt,
    exit: 2,
    messages: () => ['migrations/U1__undo_base.sql:1', 'U1__undo_base.sql is a Flyway undo script, not a migration tandem can run', '`-- tandem:rollback` section of the migration with the same version'],
  },
  {
    name: 'out-of-order (late-merged) id',
    files: { '20251231000000_late.sql': 'CREATE TABLE late (id int);\n' },
    command: expandIt,
    exit: 3,
    messages: () => ['migrations/20251231000000_late.sql:1', 'is pending but sorts before 20260101000000_base, which has already run', 'rename it with a version later'],
  },
  {
    name: 'migration edited after it ran (checksum drift)',
    then: { [`${BASE_ID}.sql`]: BASE_SQL.replace('varchar(50)', 'varchar(80)') },
    command: expandIt,
    exit: 3,
    messages: () => [`migrations/${BASE_ID}.sql:1`, 'the expand section(s) changed after they ran (checksum mismatch)', 'restore the file'],
  },
  {
    name: 'missing file the ledger knows (in flight)',
    files: { '20260201000000_inflight.sql': '-- tandem:expand\nCREATE TABLE inflight (id int);\n-- tandem:contract\nDROP TABLE inflight;\n' },
    async prepare(env) {
      expect((await env.run(['expand'])).code).toBe(0);
    },
    then: { '20260201000000_inflight.sql': null },
    command: () => ['backfill'],
    exit: 3,
    messages: () => ['migration 20260201000000_inflight is expanded in the ledger, but its file is missing', 'restore 20260201000000_inflight.sql'],
  },
  {
    name: 'unreachable server (closed port)',
    kinds: ['postgres', 'mysql'],
    command: (env) => ['--url', env.closedPortUrl, 'expand'],
    exit: 2,
    messages: (env) => [`cannot connect to ${shown(env.closedPortUrl)}`, 'connection refused', 'is the server running'],
  },
  {
    name: 'wrong credentials',
    kinds: ['postgres', 'mysql'],
    // PostgreSQL trusts 127.0.0.1 (any password works): a role that does not exist is what fails there.
    command: (env) => ['--url', env.dialect === 'mysql' ? env.urlAs(PW_USER, 'wrong-pw') : env.urlAs(`tandem_bad_nobody_${SUFFIX}`, 'wrong-pw'), 'expand'],
    exit: 2,
    messages: (env) => [
      `cannot connect to ${shown(env.dialect === 'mysql' ? env.urlAs(PW_USER, 'x') : env.urlAs(`tandem_bad_nobody_${SUFFIX}`, 'x'))}`,
      'authentication failed',
      env.dialect === 'mysql' ? `Access denied for user '${PW_USER}'` : `role "tandem_bad_nobody_${SUFFIX}" does not exist`,
      'check the user name and password',
    ],
  },
  {
    name: 'database that does not exist',
    kinds: ['postgres', 'mysql'],
    command: (env) => ['--url', env.url.replace(env.db.name, 'tandem_bad_nodb'), 'expand'],
    exit: 2,
    messages: () => ['the database does not exist', 'tandem_bad_nodb', 'create it first'],
  },
  {
    name: 'read-only user',
    kinds: ['postgres', 'mysql'],
    files: { '20260201000000_more.sql': 'CREATE TABLE more (id int);\n' },
    command: (env) => ['--url', env.urlAs(RO_USER, PASSWORD), 'expand'],
    exit: 2,
    messages: (env) => [
      `the database user "${RO_USER}" lacks a privilege tandem needs`,
      env.dialect === 'postgres' ? 'permission denied' : 'command denied',
      env.dialect === 'postgres' ? 'INSERT, UPDATE, DELETE on the tables of schema "tandem"' : 'INSERT, UPDATE, DELETE on the tandem_* tables',
    ],
  },
  {
    name: 'read-only user, before the ledger exists',
    kinds: ['postgres', 'mysql'],
    files: { '20260201000000_more.sql': 'CREATE TABLE more (id int);\n' },
    async prepare(env) {
      // As the admin: the app's schema stays, tandem's ledger goes (a database tandem never ran on).
      const tandem = await connect({ url: env.url, dir: env.cwd });
      try {
        const statements =
          env.dialect === 'postgres'
            ? ['DROP SCHEMA "tandem" CASCADE']
            : LEDGER_TABLES.map((table) => `DROP TABLE \`tandem_${table}\``);
        for (const statement of statements) await tandem.session.db.raw(statement);
      } finally {
        await tandem.close();
      }
    },
    command: (env) => ['--url', env.urlAs(RO_USER, PASSWORD), 'expand'],
    exit: 2,
    messages: (env) => [
      `the database user "${RO_USER}" lacks a privilege tandem needs`,
      env.dialect === 'postgres' ? 'permission denied for database' : 'CREATE command denied',
      env.dialect === 'postgres' ? 'CREATE on the database' : 'CREATE, SELECT, INSERT, UPDATE, DELETE on the tandem_* tables',
    ],
  },
];

// ---------------------------------------------------------------------------------------------

interface Snapshot {
  schema: Awaited<ReturnType<typeof schemaSnapshot>>;
  ledger: Record<string, unknown[]>;
}

const LEDGER_TABLES = ['migrations', 'events', 'backfills', 'runners', 'meta'];

/** The app's schema and every ledger row (timestamps included: nothing may have been touched). */
async function snapshot(env: Env): Promise<Snapshot> {
  const tandem = await connect({ url: env.url, dir: path.join(env.cwd, 'migrations') });
  try {
    const k = tandem.session.db;
    const schema = await schemaSnapshot(k, env.dialect);
    const ledger: Record<string, unknown[]> = {};
    for (const table of LEDGER_TABLES) {
      const name = env.dialect === 'postgres' ? `"tandem"."${table}"` : `\`tandem_${table}\``;
      if (!(await tandem.ledger.exists())) continue; // a database tandem never ran on: nothing may appear
      ledger[table] = rowsOf<Record<string, unknown>>(await k.raw(`SELECT * FROM ${name} ORDER BY 1`)).map((row) =>
        Object.fromEntries(Object.entries(row).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value])),
      );
    }
    return { schema, ledger };
  } finally {
    await tandem.close();
  }
}

/**
 * `runners` says who last took the runner lock: a command that was refused after taking it (drift,
 * a missing file) rewrites that row, and nothing else. Everything else must be byte for byte equal.
 */
function withoutRunners(snapshot: Snapshot): Snapshot {
  const { runners: _runners, ...ledger } = snapshot.ledger;
  return { ...snapshot, ledger };
}

async function statusOf(env: Env, id: string): Promise<Record<string, unknown>> {
  const result = await env.run(['status', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const migration = (JSON.parse(result.stdout) as { migrations: Array<Record<string, unknown>> }).migrations.find((m) => m.id === id);
  expect(migration).toBeDefined();
  return migration!;
}

function withUser(url: string, user: string, password?: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password ?? '';
  return u.toString();
}

/** Run a statement as the server's admin (the URL the harness was given). */
async function admin(dialect: Dialect, statements: string[]): Promise<void> {
  const url = dialect === 'postgres' ? process.env.TANDEM_TEST_PG_URL : process.env.TANDEM_TEST_MYSQL_URL;
  const tandem = await connect({ url: url!, dir: os.tmpdir() });
  try {
    for (const statement of statements) await tandem.session.db.raw(statement);
  } finally {
    await tandem.close();
  }
}

/** The first PGlite directory with the baseline contracted, copied for every later case. */
let pgliteTemplate: string | null = null;

async function prepareEnv(kind: TestDbKind, db: TestDatabase, label: string): Promise<Env> {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), `tandem-bad-${label}-`));
  fs.mkdirSync(path.join(cwd, 'migrations'));
  const dialect: Dialect = db.kind === 'mysql' ? 'mysql' : 'postgres';
  const closedPortUrl = (() => {
    if (db.kind === 'pglite') return db.url;
    const u = new URL(withUser(db.url, dialect === 'mysql' ? 'root' : 'postgres', PASSWORD));
    u.port = '1';
    return u.toString();
  })();
  const env: Env = {
    kind,
    dialect,
    db,
    cwd,
    url: db.url,
    urlAs: (user, password) => withUser(db.url, user, password),
    closedPortUrl,
    run: (args) => runCli(args.includes('--url') ? args : ['--url', db.url, ...args], { cwd }),
    write(file, text) {
      fs.writeFileSync(path.join(cwd, 'migrations', file), text);
    },
  };
  env.write(`${BASE_ID}.sql`, BASE_SQL);
  if (db.kind === 'pglite' && pgliteTemplate && fs.existsSync(pgliteTemplate)) {
    // A copy of a data directory where the baseline ran: PGlite's start-up is the slow part.
    fs.cpSync(pgliteTemplate, db.url.slice('pglite:'.length), { recursive: true });
    return env;
  }
  const tandem = await connect({ url: db.url, dir: path.join(cwd, 'migrations') });
  try {
    await tandem.expand();
    await tandem.backfill();
    await tandem.contract();
  } finally {
    await tandem.close();
  }
  if (db.kind === 'pglite') {
    pgliteTemplate = path.join(os.tmpdir(), `tandem-bad-template-${SUFFIX}`);
    fs.cpSync(db.url.slice('pglite:'.length), pgliteTemplate, { recursive: true });
  }
  return env;
}

function applyFiles(env: Env, files: Record<string, string | null> | undefined): void {
  for (const [file, text] of Object.entries(files ?? {})) {
    const target = path.join(env.cwd, 'migrations', file);
    if (text === null) fs.rmSync(target);
    else fs.writeFileSync(target, text);
  }
}


describe.each(ALL_KINDS)('bad input on %s', (kind) => {
  const created: TestDatabase[] = [];
  const dirs: string[] = [];
  let available: boolean | null = null;

  beforeAll(async () => {
    const probe = await createTestDatabase(kind, 'bad_probe');
    available = probe !== null && !(kind === 'postgres' && probe.kind === 'pglite');
    await probe?.drop();
    if (!available || kind === 'pglite') return;
    const dialect: Dialect = kind === 'mysql' ? 'mysql' : 'postgres';
    if (dialect === 'mysql') {
      await admin('mysql', [`CREATE USER '${RO_USER}'@'%' IDENTIFIED BY '${PASSWORD}'`, `CREATE USER '${PW_USER}'@'%' IDENTIFIED BY '${PASSWORD}'`]);
    } else {
      await admin('postgres', [`CREATE ROLE "${RO_USER}" LOGIN PASSWORD '${PASSWORD}'`]);
    }
  });

  afterAll(async () => {
    for (const db of created) await db.drop().catch(() => undefined);
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    if (kind === 'pglite' && pgliteTemplate) fs.rmSync(pgliteTemplate, { recursive: true, force: true });
    if (!available || kind === 'pglite') return;
    if (kind === 'mysql') await admin('mysql', [`DROP USER IF EXISTS '${RO_USER}'@'%'`, `DROP USER IF EXISTS '${PW_USER}'@'%'`]);
    else await admin('postgres', [`DROP ROLE IF EXISTS "${RO_USER}"`]);
  });

  /** A fresh database with the baseline migration contracted (and the users' grants on it). */
  async function freshEnv(label: string): Promise<Env | null> {
    const db = await createTestDatabase(kind, label, { pgliteDir: true });
    if (!db) return null;
    created.push(db);
    const env = await prepareEnv(kind, db, label);
    dirs.push(env.cwd);
    if (db.kind === 'mysql') {
      await admin('mysql', [`GRANT SELECT ON \`${db.name}\`.* TO '${RO_USER}'@'%'`, `GRANT ALL ON \`${db.name}\`.* TO '${PW_USER}'@'%'`]);
    } else if (db.kind === 'postgres') {
      const grants = [`GRANT CONNECT ON DATABASE "${db.name}" TO "${RO_USER}"`];
      const inDb = [`GRANT USAGE ON SCHEMA public, tandem TO "${RO_USER}"`, `GRANT SELECT ON ALL TABLES IN SCHEMA public, tandem TO "${RO_USER}"`];
      await admin('postgres', grants);
      const tandem = await connect({ url: db.url, dir: env.cwd });
      try {
        for (const statement of inDb) await tandem.session.db.raw(statement);
      } finally {
        await tandem.close();
      }
    }
    return env;
  }

  it.for(CASES.filter((c) => !c.kinds || c.kinds.includes(kind)).map((c) => [c.name, c] as const))('%s', async ([, c], ctx) => {
    if (available === false) return ctx.skip(`${kind} unavailable`);
    const env = await freshEnv('bad');
    if (!env) return ctx.skip(`${kind} unavailable`);
    applyFiles(env, c.files);
    await c.prepare?.(env);
    applyFiles(env, c.then);
    const before = await snapshot(env);

    const result = await env.run(c.command(env));
    const output = `exit ${result.code}\n${result.stderr}${result.stdout}`;
    expect(result.code, output).toBe(c.exit);
    for (const fragment of c.messages(env)) expect(result.stderr, output).toContain(fragment);
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain('wrong-pw');

    const after = await snapshot(env);
    if (c.after) await c.after(env, before, after);
    else expect(withoutRunners(after)).toEqual(withoutRunners(before));
  });

  it('a password in the URL never appears in output, errors or the ledger', async (ctx) => {
    if (kind === 'pglite') return ctx.skip('PGlite URLs carry no password');
    if (available === false) return ctx.skip(`${kind} unavailable`);
    const env = await freshEnv('badpw');
    if (!env) return ctx.skip(`${kind} unavailable`);
    // MySQL checks the password (a user made for this test); PostgreSQL at 127.0.0.1 trusts, but the URL still carries one.
    const url = env.dialect === 'mysql' ? env.urlAs(PW_USER, PASSWORD) : env.urlAs('postgres', PASSWORD);
    const outputs: string[] = [];
    const run = async (args: string[], expected: number) => {
      const result = await runCli(['--url', url, ...args], { cwd: env.cwd });
      outputs.push(result.stdout, result.stderr);
      expect(result.code, result.stderr).toBe(expected);
      return result;
    };
    env.write('20260201000000_good.sql', '-- tandem:expand\nCREATE TABLE good (id int PRIMARY KEY, n int);\nINSERT INTO good VALUES (1, 0), (2, 0);\n-- tandem:backfill\nUPDATE good SET n = id;\n-- tandem:rollback\nDROP TABLE good;\n');
    await run(['expand'], 0);
    await run(['backfill'], 0);
    await run(['--json', 'contract'], 0);
    await run(['status'], 0);
    await run(['status', '--json'], 0);
    await run(['plan'], 0);
    env.write('20260202000000_broken.sql', '-- tandem:expand\nCREATE TABEL broken (id int);\n');
    const failed = await run(['expand'], 1);
    expect(failed.stderr).toContain('20260202000000_broken.sql:2');
    await run(['status'], 0);
    await run(['--json', 'rollback', '20260202000000_broken'], 0);
    fs.rmSync(path.join(env.cwd, 'migrations', '20260202000000_broken.sql'));
    // Failures around the connection, which echo the URL.
    const badDb = new URL(url);
    badDb.pathname = '/tandem_bad_nodb';
    const noDb = await run(['--url', badDb.toString(), 'status'], 2);
    expect(noDb.stderr).toContain(':***@');
    const badPort = new URL(url);
    badPort.port = '1';
    const refused = await run(['--url', badPort.toString(), 'expand'], 2);
    expect(refused.stderr).toContain(':***@');
    // A password with URL delimiters in it, raw and percent-encoded.
    for (const secret of ['p@ss:w0rd', encodeURIComponent('p@ss:w0rd/x')]) {
      const odd = await runCli(['--url', `${env.dialect === 'mysql' ? 'mysql' : 'postgres'}://someone:${secret}@127.0.0.1:1/db`, 'status'], { cwd: env.cwd });
      expect(odd.code, odd.stderr).toBe(2);
      for (const part of ['p@ss', 'w0rd', secret]) expect(`${odd.stdout}${odd.stderr}`).not.toContain(part);
    }
    // Succeeding commands show the URL redacted, too.
    expect(outputs.join('\n')).toContain(':***@');
    expect(outputs.join('\n')).not.toContain(PASSWORD);

    const ledger = (await snapshot(env)).ledger;
    const text = JSON.stringify(ledger);
    expect(ledger.migrations!.length).toBeGreaterThan(1);
    expect(ledger.events!.length).toBeGreaterThan(3);
    expect(text).not.toContain(PASSWORD);
  });
});
