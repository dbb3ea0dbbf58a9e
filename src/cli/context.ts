import chalk from 'chalk';
import { loadConfig } from '../config/load-config.js';
import type { TandemConfig } from '../config/schema.js';
import { openSession, type Session } from '../db/session.js';
import { DEFAULT_PGLITE_DIR, parseConnectionUrl, type ConnectionTarget } from '../db/url.js';
import { TandemError, UsageError } from '../errors/tandem-error.js';
import { describePrivilegeError } from '../db/connect.js';
import { loadMigrations } from '../migrations/load-migrations.js';
import type { Migration } from '../migrations/model.js';
import { acquirePgliteLock, acquireRunnerLock } from '../runner/runner-lock.js';
import { Ledger } from '../runner/ledger.js';

/** Options every command accepts (defined once on the program). */
export interface GlobalOptions {
  url?: string;
  dir?: string;
  config?: string;
  wait?: string;
  json?: boolean;
  lockTimeout?: string;
  retries?: string;
}

export interface CommandContext {
  config: TandemConfig;
  target: ConnectionTarget;
  dir: string;
  json: boolean;
}

/** Where the connection comes from: --url, then DATABASE_URL, then the config file, then the embedded default. */
export function resolveContext(options: GlobalOptions, { quiet = false } = {}): CommandContext {
  const { config } = loadConfig(options.config ? { file: options.config } : {});
  // Replica URLs may hold passwords: like DATABASE_URL, they can come from the environment instead of the file.
  const replicasFromEnv = process.env.TANDEM_REPLICA_URLS?.split(/[\s,]+/).filter(Boolean);
  const merged: TandemConfig = {
    ...config,
    ...(replicasFromEnv && replicasFromEnv.length > 0 ? { backfill: { ...config.backfill, replicas: replicasFromEnv } } : {}),
    ...(options.wait !== undefined ? { waitSeconds: parseNumber(options.wait, '--wait') } : {}),
    ...(options.lockTimeout !== undefined ? { lockTimeoutMs: parseNumber(options.lockTimeout, '--lock-timeout') } : {}),
    ...(options.retries !== undefined ? { retries: { ...config.retries, count: parseNumber(options.retries, '--retries') } } : {}),
  };
  const url = options.url ?? process.env.DATABASE_URL ?? config.url;
  let target: ConnectionTarget;
  if (url) target = parseConnectionUrl(url);
  else {
    target = parseConnectionUrl(`pglite:${DEFAULT_PGLITE_DIR}`);
    if (!quiet) process.stderr.write(chalk.dim(`tandem: no --url, DATABASE_URL or "url" in tandem.config.json; using the embedded PostgreSQL (PGlite) in ${DEFAULT_PGLITE_DIR}\n`));
  }
  return { config: merged, target, dir: options.dir ?? config.dir, json: options.json === true };
}

function parseNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${flag} takes a non-negative number, got "${value}"`);
  return n;
}

export function readMigrations(context: CommandContext): Migration[] {
  return loadMigrations(context.dir, context.target.dialect);
}

/**
 * Open the database for a command and close it afterwards. Commands that change anything hold the
 * runner lock for their whole run; an embedded database is locked for every command, since PGlite
 * must never be opened by two processes at once.
 */
export async function withSession<T>(
  context: CommandContext,
  command: string,
  options: { lock: boolean; onWaiting?: (holder: string) => void },
  body: (session: Session, ledger: Ledger) => Promise<T>,
): Promise<T> {
  const lockOptions = { waitSeconds: context.config.waitSeconds, command, ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}) };
  const fileLock = context.target.driver === 'pglite' ? await acquirePgliteLock(context.target.pgliteDir, lockOptions) : null;
  try {
    const session = await openSession(context.target, context.config, command);
    try {
      const ledger = new Ledger(session);
      const runnerLock = options.lock ? await acquireRunnerLock(session, ledger, lockOptions) : null;
      try {
        return await body(session, ledger);
      } finally {
        await runnerLock?.release();
      }
    } catch (error) {
      // Statements of a migration fail as their phase (a TandemError); what is left is tandem's own.
      throw (error instanceof TandemError ? null : describePrivilegeError(error, context.target)) ?? error;
    } finally {
      await session.close();
    }
  } finally {
    await fileLock?.release();
  }
}
