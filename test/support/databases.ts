/**
 * Test database harness: every test file gets its own freshly created, uniquely named database.
 *
 * Where does a database server come from? Per server kind, first match wins:
 *
 *   1. An explicit server URL in the environment:
 *        TANDEM_TEST_PG_URL     e.g. postgres://postgres@127.0.0.1:5432/postgres
 *        TANDEM_TEST_MYSQL_URL  e.g. mysql://root@127.0.0.1:3306/mysql
 *      The path names the *admin* database we connect to in order to run CREATE/DROP DATABASE.
 *      If the variable is set but the server cannot be reached, that is an error (never a skip).
 *   2. testcontainers, but only when a container engine is actually reachable (probed once per
 *      process with a short timeout; testcontainers is imported lazily so it costs nothing otherwise).
 *      Images: TANDEM_TEST_PG_IMAGE (default postgres:16-alpine), TANDEM_TEST_MYSQL_IMAGE
 *      (default mariadb:10.11). TANDEM_TEST_CONTAINERS_REUSE=1 shares one container across processes
 *      (testcontainers `withReuse()`; such containers are not reaped automatically).
 *   3. Fallback:
 *        postgres -> embedded PGlite (the returned TestDatabase has kind 'pglite', source 'embedded')
 *                    plus a loud one-time warning on stderr.
 *        mysql    -> null (the caller must declare a skip) plus a loud one-time warning on stderr.
 *      With CI=true (or CI=1) a fallback/skip throws instead: CI must fail, never silently skip.
 *
 * NOTE: when the env vars are unset the harness deliberately does NOT probe 127.0.0.1 on its own.
 * Local servers are opted into explicitly; `.ci/run` exports both variables before `npm test`.
 * To run locally against the machine's servers:
 *
 *   TANDEM_TEST_PG_URL=postgres://postgres@127.0.0.1:5432/postgres \
 *   TANDEM_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/mysql npx vitest run
 *
 * Usage in a test file:
 *
 *   describe.each(ALL_KINDS)('thing on %s', (kind) => {
 *     let db: TestDatabase | null = null;
 *     beforeAll(async () => { db = await createTestDatabase(kind, 'thing'); });
 *     afterAll(async () => { await db?.drop(); });
 *     it('works', async (ctx) => {
 *       if (!db) return ctx.skip(`${kind} unavailable`);
 *       // connect using db.url; branch on db.kind (NOT on `kind`: postgres may have become pglite)
 *     });
 *   });
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import mysql from 'mysql2/promise';

export type TestDbKind = 'postgres' | 'mysql' | 'pglite';

export interface TestDatabase {
  kind: TestDbKind;
  /** Connection URL for this test's fresh database: postgres://…/NAME, mysql://…/NAME, `pglite:memory` or `pglite:/tmp/…dir`. */
  url: string;
  /** Database name. */
  name: string;
  source: 'env' | 'testcontainers' | 'embedded';
  /** Drops the database (no-op for pglite memory; removes the directory for a pglite dir). Idempotent. */
  drop(): Promise<void>;
}

/** The kinds to run database tests against, for describe.each. */
export const ALL_KINDS: TestDbKind[] = ['postgres', 'mysql', 'pglite'];

type ServerKind = 'postgres' | 'mysql';

interface ServerInfo {
  kind: ServerKind;
  /** URL of the admin database on the server (used for CREATE/DROP DATABASE). */
  adminUrl: string;
  source: 'env' | 'testcontainers';
}

const ENV_VAR: Record<ServerKind, string> = {
  postgres: 'TANDEM_TEST_PG_URL',
  mysql: 'TANDEM_TEST_MYSQL_URL',
};

const CONNECT_TIMEOUT_MS = 10_000;
const DOCKER_PROBE_TIMEOUT_MS = 3_000;

// ---------------------------------------------------------------------------------------------
// small helpers

function isCI(): boolean {
  const v = process.env.CI?.trim().toLowerCase();
  return v === 'true' || v === '1';
}

/** Replace `user:pass@` with `user:***@` anywhere in a string. */
export function redact(text: string): string {
  return text.replace(/(\/\/[^/:@\s]*):[^@\s]*@/g, '$1:***@');
}

function errorMessage(err: unknown): string {
  return redact(err instanceof Error ? err.message : String(err));
}

function sanitizeLabel(label: string): string {
  const s = label
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 20)
    .replace(/_+$/g, '');
  return s || 'db';
}

/** `tandem_t_<label>_<pid>_<6 hex>`; at most 9+20+1+7+1+6 = 44 chars, below the 63/64 limits. */
function freshName(label: string): string {
  return `tandem_t_${sanitizeLabel(label)}_${process.pid}_${randomBytes(3).toString('hex')}`;
}

function quotePg(ident: string): string {
  return `"${ident.replace(/"/g, '""')}"`;
}

function quoteMy(ident: string): string {
  return `\`${ident.replace(/`/g, '``')}\``;
}

/** Same server URL, different database (path); keeps credentials and query parameters. */
function withDatabase(serverUrl: string, database: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

const warned = new Set<string>();
function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\n${message}\n${bar}\n\n`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// admin connections (short-lived, driver-level, no knex)

async function withPgAdmin<T>(adminUrl: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  // An idle admin connection that is killed server-side must not crash the worker.
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

async function withMyAdmin<T>(adminUrl: string, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const u = new URL(adminUrl);
  const conn = await mysql.createConnection({
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username) || 'root',
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined,
    connectTimeout: CONNECT_TIMEOUT_MS,
  });
  conn.on('error', () => {});
  try {
    return await fn(conn);
  } finally {
    await conn.end().catch(() => {});
  }
}

function withAdmin(server: ServerInfo, fn: (q: (sql: string, params?: unknown[]) => Promise<unknown[]>) => Promise<void>): Promise<void> {
  if (server.kind === 'postgres') {
    return withPgAdmin(server.adminUrl, (c) => fn(async (sql, params) => (await c.query(sql, params)).rows));
  }
  return withMyAdmin(server.adminUrl, (c) =>
    fn(async (sql, params) => {
      const [rows] = await c.query(sql, params);
      return Array.isArray(rows) ? (rows as unknown[]) : [];
    }),
  );
}

/** Retry a connection until the server answers (containers take a moment after "ready"). */
async function waitForServer(server: ServerInfo, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await withAdmin(server, async (q) => {
        await q('SELECT 1');
      });
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// server resolution (cached per process)

let dockerProbe: Promise<boolean> | undefined;

/** Is a container engine reachable? Never hangs (timeout) and never throws. */
function dockerAvailable(): Promise<boolean> {
  dockerProbe ??= (async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const probe = (async () => {
        const tc = await import('testcontainers');
        await tc.getContainerRuntimeClient();
        return true;
      })();
      probe.catch(() => {}); // if the timeout wins, a late rejection must not be unhandled
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), DOCKER_PROBE_TIMEOUT_MS);
        timer.unref();
      });
      return await Promise.race([probe, timeout]);
    } catch {
      return false;
    } finally {
      if (timer) clearTimeout(timer);
    }
  })();
  return dockerProbe;
}

async function startContainer(kind: ServerKind): Promise<ServerInfo> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const reuse = /^(1|true)$/i.test(process.env.TANDEM_TEST_CONTAINERS_REUSE ?? '');
  let server: ServerInfo;
  if (kind === 'postgres') {
    let c = new GenericContainer(process.env.TANDEM_TEST_PG_IMAGE ?? 'postgres:16-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      .withTmpFs({ '/var/lib/postgresql/data': 'rw' })
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .withStartupTimeout(120_000);
    if (reuse) c = c.withReuse();
    const started = await c.start();
    server = {
      kind,
      adminUrl: `postgres://postgres@${started.getHost()}:${started.getMappedPort(5432)}/postgres`,
      source: 'testcontainers',
    };
  } else {
    let c = new GenericContainer(process.env.TANDEM_TEST_MYSQL_IMAGE ?? 'mariadb:10.11')
      .withEnvironment({ MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1', MYSQL_ALLOW_EMPTY_PASSWORD: '1' })
      .withExposedPorts(3306)
      .withWaitStrategy(Wait.forListeningPorts())
      .withStartupTimeout(120_000);
    if (reuse) c = c.withReuse();
    const started = await c.start();
    server = {
      kind,
      adminUrl: `mysql://root@${started.getHost()}:${started.getMappedPort(3306)}/mysql`,
      source: 'testcontainers',
    };
  }
  await waitForServer(server, 60_000);
  return server;
}

async function resolveServerUncached(kind: ServerKind): Promise<ServerInfo | null> {
  const envVar = ENV_VAR[kind];
  const fromEnv = process.env[envVar]?.trim();
  if (fromEnv) {
    let adminUrl = fromEnv;
    try {
      const u = new URL(fromEnv);
      if (kind === 'postgres' && !/^postgres(ql)?:$/.test(u.protocol)) throw new Error('expected a postgres:// URL');
      if (kind === 'mysql' && !/^(mysql|mariadb):$/.test(u.protocol)) throw new Error('expected a mysql:// URL');
      if (kind === 'postgres' && (u.pathname === '' || u.pathname === '/')) adminUrl = withDatabase(fromEnv, 'postgres');
    } catch (err) {
      throw new Error(`${envVar}=${redact(fromEnv)} is not a valid ${kind} server URL: ${errorMessage(err)}`);
    }
    const server: ServerInfo = { kind, adminUrl, source: 'env' };
    try {
      await withAdmin(server, async (q) => {
        await q('SELECT 1');
      });
    } catch (err) {
      throw new Error(`${envVar}=${redact(fromEnv)} is set but the server is not reachable: ${errorMessage(err)}`);
    }
    return server;
  }

  if (await dockerAvailable()) {
    try {
      return await startContainer(kind);
    } catch (err) {
      // A reachable engine that cannot start the container is a real failure, not a reason to skip.
      throw new Error(`Docker is reachable but starting a ${kind} test container failed: ${errorMessage(err)}`);
    }
  }
  return null;
}

const serverCache = new Map<ServerKind, Promise<ServerInfo | null>>();

function resolveServer(kind: ServerKind): Promise<ServerInfo | null> {
  let p = serverCache.get(kind);
  if (!p) {
    p = resolveServerUncached(kind);
    serverCache.set(kind, p);
  }
  return p;
}

// ---------------------------------------------------------------------------------------------
// database creation

const dropped = new WeakSet<TestDatabase>();
const dropTargets = new WeakMap<TestDatabase, { server?: ServerInfo; dir?: string }>();

async function createPglite(name: string, dir: boolean): Promise<TestDatabase> {
  if (!dir) {
    const db: TestDatabase = {
      kind: 'pglite',
      url: 'pglite:memory',
      name,
      source: 'embedded',
      async drop() {
        dropped.add(db);
      },
    };
    dropTargets.set(db, {});
    return db;
  }
  const path = join(tmpdir(), name);
  const db: TestDatabase = {
    kind: 'pglite',
    url: `pglite:${path}`,
    name,
    source: 'embedded',
    async drop() {
      dropped.add(db);
      await rm(path, { recursive: true, force: true });
    },
  };
  dropTargets.set(db, { dir: path });
  return db;
}

async function createOnServer(server: ServerInfo, name: string): Promise<TestDatabase> {
  if (server.kind === 'postgres') {
    await withPgAdmin(server.adminUrl, (c) => c.query(`CREATE DATABASE ${quotePg(name)}`));
  } else {
    await withMyAdmin(server.adminUrl, (c) => c.query(`CREATE DATABASE ${quoteMy(name)} CHARACTER SET utf8mb4`));
  }
  const url =
    server.kind === 'mysql'
      ? withDatabase(server.adminUrl, name).replace(/^mariadb:/, 'mysql:')
      : withDatabase(server.adminUrl, name);
  const db: TestDatabase = {
    kind: server.kind,
    url,
    name,
    source: server.source,
    async drop() {
      dropped.add(db);
      if (server.kind === 'postgres') {
        // WITH (FORCE) terminates remaining sessions (PG 13+).
        await withPgAdmin(server.adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${quotePg(name)} WITH (FORCE)`));
      } else {
        await withMyAdmin(server.adminUrl, async (c) => {
          // Kill leftover sessions on this database so DROP does not wait on metadata locks.
          const [rows] = await c.query(
            'SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()',
            [name],
          );
          for (const row of rows as Array<{ id: number }>) {
            await c.query(`KILL ${Number(row.id)}`).catch(() => {});
          }
          await c.query(`DROP DATABASE IF EXISTS ${quoteMy(name)}`);
        });
      }
    },
  };
  dropTargets.set(db, { server });
  return db;
}

/**
 * Resolve the server for a kind (cached per process) and create a fresh, uniquely named database on it.
 * Returns null when the kind is unavailable and skipping is allowed (mysql without a server, CI unset).
 * A 'postgres' request without a server yields a PGlite database (kind 'pglite'), again unless CI is set.
 */
export async function createTestDatabase(
  kind: TestDbKind,
  label: string,
  options: { pgliteDir?: boolean } = {},
): Promise<TestDatabase | null> {
  const name = freshName(label);
  if (kind === 'pglite') return createPglite(name, options.pgliteDir ?? false);

  const server = await resolveServer(kind);
  if (server) return createOnServer(server, name);

  const howToFix =
    kind === 'postgres'
      ? 'set TANDEM_TEST_PG_URL=postgres://USER@HOST:5432/postgres (or make a Docker engine reachable for testcontainers), or run .ci/run'
      : 'set TANDEM_TEST_MYSQL_URL=mysql://USER@HOST:3306/mysql (or make a Docker engine reachable for testcontainers), or run .ci/run';

  if (isCI()) {
    throw new Error(
      `CI=true but no ${kind} server is available (${ENV_VAR[kind]} unset, no Docker engine). ` +
        `Refusing to ${kind === 'postgres' ? 'substitute PGlite' : 'skip'} on CI. Fix: ${howToFix}.`,
    );
  }

  if (kind === 'postgres') {
    warnOnce(
      'postgres',
      `POSTGRES SERVER TESTS ARE RUNNING ON PGLITE (embedded), NOT ON A REAL POSTGRESQL SERVER.\n` +
        `${ENV_VAR.postgres} is unset and no Docker engine is reachable.\n` +
        `Fix: ${howToFix}.`,
    );
    return createPglite(name, options.pgliteDir ?? false);
  }

  warnOnce(
    'mysql',
    `MYSQL TESTS SKIPPED: ${ENV_VAR.mysql} is unset and no Docker engine is reachable.\n` + `Fix: ${howToFix}.`,
  );
  return null;
}

/** Does the database still exist? (catalog lookup for postgres/mysql, directory check for a pglite dir). */
export async function databaseExists(db: TestDatabase): Promise<boolean> {
  const target = dropTargets.get(db);
  if (!target) throw new Error('databaseExists: not a database created by createTestDatabase()');
  if (target.dir !== undefined) return existsSync(target.dir);
  const server = target.server;
  if (!server) return !dropped.has(db); // pglite memory lives as long as nobody dropped it
  if (server.kind === 'postgres') {
    return withPgAdmin(server.adminUrl, async (c) => {
      const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
      return (r.rowCount ?? 0) > 0;
    });
  }
  return withMyAdmin(server.adminUrl, async (c) => {
    const [rows] = await c.query('SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [db.name]);
    return (rows as unknown[]).length > 0;
  });
}
