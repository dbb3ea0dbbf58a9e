import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import { UsageError } from '../errors/tandem-error.js';
import { redactSecrets, type ConnectionTarget } from './url.js';

/**
 * One knex instance per command with a pool of exactly one connection: the runner lock
 * (pg_advisory_lock / GET_LOCK) belongs to a session, so every statement of a run goes through
 * the same session that holds it. PGlite allows only one connection anyway.
 */
export function createKnex(target: ConnectionTarget, options: { applicationName?: string; sessionSetup?: string[] } = {}): Knex {
  // Session settings (lock timeouts) run on every new connection, so a reconnect keeps them.
  const afterCreate = (connection: { query(sql: string, callback: (error: Error | null) => void): unknown }, done: (error: Error | null, connection: unknown) => void) => {
    const statements = [...(options.sessionSetup ?? [])];
    const next = (error: Error | null): void => {
      const sql = statements.shift();
      if (error || sql === undefined) done(error, connection);
      else connection.query(sql, next);
    };
    next(null);
  };
  const common = { pool: { min: 1, max: 1, afterCreate }, acquireConnectionTimeout: 30_000, log: knexLog };
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

/** knex logs every failed connection attempt itself; tandem reports the failure once, without a password. */
const knexLog = {
  warn: (message: unknown) => {
    if (!String(message).startsWith('Acquire connection error')) process.stderr.write(`${redactSecrets(String(message))}\n`);
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
  } else if (code === '3D000' || code === 'ER_BAD_DB_ERROR' || err.errno === 1049) {
    reason = 'the database does not exist';
    fix = 'create it first, or fix the database name in the URL';
  }
  return new UsageError(`cannot connect to ${where}: ${reason}${reason === raw ? '' : ` (${raw})`}`, undefined, fix);
}
