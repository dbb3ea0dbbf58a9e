import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { UsageError } from '../errors/tandem-error.js';
import { redactSecrets, type ConnectionTarget } from './url.js';

/** A query on a raw driver connection (pg Client or mysql2 Connection), before knex hands it out. */
export type RawQuery = (sql: string, bindings?: unknown[]) => Promise<Array<Record<string, unknown>>>;

/**
 * Hooks on the command's one connection. A connection the server dropped (restart, idle timeout,
 * pg_terminate_backend, KILL) is replaced by the pool on the next query; `afterReconnect` runs on
 * the replacement before anything else may use it: the runner lock, once held, re-takes itself there.
 */
export interface ConnectionHooks {
  afterReconnect?: (query: RawQuery) => Promise<void>;
  /**
   * Called when tandem saw the connection fail as lost: the pool then replaces it on the next query
   * instead of handing it out again (the driver may not have noticed the socket closing yet).
   * Connections opened after the call are not affected. Set by createKnex.
   */
  markLost?: () => void;
}

/**
 * One knex instance per command with a pool of exactly one connection: the runner lock
 * (pg_advisory_lock / GET_LOCK) belongs to a session, so every statement of a run goes through
 * the same session that holds it. PGlite allows only one connection anyway.
 */
export function createKnex(target: ConnectionTarget, options: { applicationName?: string; sessionSetup?: string[]; hooks?: ConnectionHooks } = {}): Knex {
  let opened = 0;
  // Session settings (lock timeouts) run on every new connection, so a reconnect keeps them.
  const afterCreate = (connection: RawConnection, done: (error: Error | null, connection: unknown) => void) => {
    const query = rawQuery(connection);
    const setup = async (): Promise<void> => {
      for (const sql of options.sessionSetup ?? []) await query(sql);
      opened += 1;
      (connection as { __tandemSerial?: number }).__tandemSerial = opened;
      if (opened > 1) await options.hooks?.afterReconnect?.(query);
    };
    setup().then(
      () => done(null, connection),
      (error: Error) => done(error, connection),
    );
  };
  // Each connection carries the number it was opened as; markLost() condemns those opened so far.
  let lostUpTo = 0;
  if (options.hooks) options.hooks.markLost = () => void (lostUpTo = opened);
  const validate = (connection: { __tandemSerial?: number }) => (connection.__tandemSerial ?? 0) > lostUpTo;
  const common = { pool: { min: 1, max: 1, afterCreate, validate }, acquireConnectionTimeout: 30_000, log: knexLog };
  switch (target.driver) {
    case 'pg':
      return knexFactory({
        client: 'pg',
        connection: { connectionString: target.url, application_name: options.applicationName ?? 'tandem', connectionTimeoutMillis: 10_000 },
        ...common,
      });
    case 'mysql': {
      const url = new URL(target.url.replace(/^mariadb:/i, 'mysql:'));
      return knexFactory({
        client: 'mysql2',
        connection: {
          host: url.hostname,
          port: url.port ? Number(url.port) : 3306,
          user: decodeURIComponent(url.username),
          password: decodeURIComponent(url.password),
          database: decodeURIComponent(url.pathname.replace(/^\//, '')),
          // Exact keys: big integers and dates come back as strings, never as rounded numbers or shifted Dates.
          supportBigNumbers: true,
          bigNumberStrings: true,
          dateStrings: true,
          connectTimeout: 10_000,
          ...Object.fromEntries(url.searchParams),
        },
        ...common,
      });
    }
    case 'pglite': {
      if (target.pgliteDir) fs.mkdirSync(path.dirname(target.pgliteDir), { recursive: true });
      return knexFactory({
        client: ClientPgLite as unknown as typeof Knex.Client,
        dialect: 'postgres',
        connection: target.pgliteDir ? { filename: target.pgliteDir } : {},
      } as Knex.Config);
    }
  }
}

interface RawConnection {
  query(sql: string, bindings: unknown[], callback: (error: Error | null, result: unknown) => void): unknown;
}

function rawQuery(connection: RawConnection): RawQuery {
  return (sql, bindings = []) =>
    new Promise((resolve, reject) => {
      connection.query(sql, bindings, (error, result) => {
        if (error) reject(error);
        // pg: a result with rows; mysql2: the rows themselves.
        else resolve((Array.isArray(result) ? result : ((result as { rows?: unknown[] })?.rows ?? [])) as Array<Record<string, unknown>>);
      });
    });
}

/** knex logs every failed connection attempt itself; tandem reports the failure once, without a password. */
const knexLog = {
  warn: (message: unknown) => {
    // Failed connection attempts are reported once by tandem; a dropped connection is reported by the runner as it resumes.
    if (!/^(Acquire connection error|Connection Error)/.test(String(message))) process.stderr.write(`${redactSecrets(String(message))}\n`);
  },
  error: (message: unknown) => void process.stderr.write(`${redactSecrets(String(message))}\n`),
  deprecate: () => undefined,
  debug: () => undefined,
};

/** Turn a driver's connection failure into a message that says what to check, without the password. */
export function describeConnectionError(error: unknown, target: ConnectionTarget): UsageError {
  const err = error as { code?: string; errno?: number; message?: string };
  const raw = redactSecrets(err.message ?? String(error));
  const where = target.display;
  const code = err.code ?? '';
  let reason = raw;
  let fix = 'check the URL given by --url, DATABASE_URL or tandem.config.json';
  if (code === 'ECONNREFUSED') {
    reason = 'connection refused';
    fix = 'is the server running and listening on that host and port?';
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    reason = 'host not found';
    fix = 'check the host name in the URL';
  } else if (code === 'ETIMEDOUT' || /timeout/i.test(raw)) {
    reason = 'connection timed out';
    fix = 'check the host, port and firewall';
  } else if (code === '28P01' || code === '28000' || code === 'ER_ACCESS_DENIED_ERROR' || err.errno === 1045) {
    reason = 'authentication failed';
    fix = 'check the user name and password in the URL';
  } else if (code === 'ER_DBACCESS_DENIED_ERROR' || err.errno === 1044) {
    reason = 'the user may not use that database';
    fix = 'GRANT the user privileges on the database, or fix the database name in the URL';
  } else if (code === '3D000' || code === 'ER_BAD_DB_ERROR' || err.errno === 1049) {
    reason = 'the database does not exist';
    fix = 'create it first, or fix the database name in the URL';
  }
  return new UsageError(`cannot connect to ${where}: ${reason}${reason === raw ? '' : ` (${raw})`}`, undefined, fix);
}

/** PostgreSQL insufficient_privilege; MySQL table, column, routine, database, "you need X" and trigger-with-binlog (1419) denials. */
const PRIVILEGE_ERRNOS = new Set([1044, 1142, 1143, 1227, 1370, 1419]);

/**
 * A statement tandem itself issues (creating or writing its ledger, taking the lock) was refused for
 * lack of a privilege: a usage error that names the user and what tandem needs, or null for any
 * other error. Statements of a migration fail as their phase instead (the ledger records them).
 */
export function describePrivilegeError(error: unknown, target: ConnectionTarget): UsageError | null {
  const err = error as { code?: string; errno?: number; message?: string };
  if (!(err?.code === '42501' || (typeof err?.errno === 'number' && PRIVILEGE_ERRNOS.has(err.errno)))) return null;
  let user = '';
  try {
    user = decodeURIComponent(new URL(target.url).username);
  } catch {
    // pglite: no user
  }
  // knex prefixes the statement ("insert into … - permission denied …"): the server's words are enough.
  const message = String((err as { sqlMessage?: string }).sqlMessage ?? err.message ?? error);
  const raw = redactSecrets(message.includes(' - ') ? message.slice(message.lastIndexOf(' - ') + 3) : message).split('\n')[0];
  const needs =
    target.dialect === 'postgres'
      ? 'CONNECT and (for the first run, which creates the schema "tandem") CREATE on the database, then USAGE on schema "tandem" and SELECT, INSERT, UPDATE, DELETE on the tables of schema "tandem" and USAGE on its sequences'
      : 'CREATE, SELECT, INSERT, UPDATE, DELETE on the tandem_* tables of the database (the first run creates them, which also needs TRIGGER)';
  return new UsageError(
    `the database user ${user ? `"${user}" ` : ''}lacks a privilege tandem needs: ${raw}; nothing was changed`,
    undefined,
    `tandem needs ${needs}, plus the privileges the migrations' own statements need; GRANT them, or run tandem as the schema owner`,
  );
}

const LOST_CODES = new Set([
  // PostgreSQL: terminated by pg_terminate_backend or a shutdown, or the link broke.
  '57P01', '57P02', '57P03', '08000', '08003', '08006',
  // MySQL/MariaDB: killed (KILL), server gone away or lost mid-query.
  'PROTOCOL_CONNECTION_LOST', 'ER_CONNECTION_KILLED', 'ER_SERVER_SHUTDOWN', 'CR_SERVER_LOST', 'CR_SERVER_GONE_ERROR',
  // Either: the socket broke.
  'ECONNRESET', 'EPIPE',
]);
const LOST_ERRNOS = new Set([1927, 1053, 2006, 2013]);
const LOST_MESSAGES = /connection terminated|connection was killed|closed state|not queryable|connection lost|server has gone away|server closed the connection/i;

/** Whether an error means the database connection went away (the statement may or may not have run). */
export function isConnectionLost(error: unknown): boolean {
  for (let e = error as { code?: unknown; errno?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && LOST_CODES.has(e.code)) return true;
    if (typeof e.errno === 'number' && LOST_ERRNOS.has(e.errno)) return true;
    if (typeof e.message === 'string' && LOST_MESSAGES.test(e.message)) return true;
  }
  return false;
}
