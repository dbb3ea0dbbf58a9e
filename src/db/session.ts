import os from 'node:os';
import type { Knex } from 'knex';
import type { TandemConfig } from '../config/schema.js';
import { createKnex, describeConnectionError, type ConnectionHooks } from './connect.js';
import type { DialectAdapter } from './dialect-adapter.js';
import { adapterFor } from './index.js';
import type { ConnectionTarget } from './url.js';
import { assertVersionSchemasSupported } from '../version-schemas/name.js';

/** One database session for one command: the connection, its dialect, and who we are. */
export interface Session {
  target: ConnectionTarget;
  adapter: DialectAdapter;
  db: Knex;
  serverVersion: string;
  /** "user@host pid N": stored in the ledger as who ran a phase, shown to a waiting runner. */
  actor: string;
  config: TandemConfig;
  /** Reconnect hooks: the runner lock registers itself here, so a replaced connection re-takes it. */
  connection?: ConnectionHooks;
  close(): Promise<void>;
}

/** Whether the server is MariaDB (a mysql:// URL may lead to either): its version string says so. */
export function isMariadb(session: Pick<Session, 'serverVersion'>): boolean {
  return /mariadb/i.test(session.serverVersion);
}

/** The server's major version ("15.20 (Debian …)" → 15), 0 when the version string has no number. */
export function serverMajorVersion(session: Pick<Session, 'serverVersion'>): number {
  return Number(/\d+/.exec(session.serverVersion)?.[0] ?? 0);
}

export function describeActor(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    // some containers have no passwd entry for the uid
  }
  return `${user}@${os.hostname()} pid ${process.pid}`;
}

export async function openSession(target: ConnectionTarget, config: TandemConfig, command: string): Promise<Session> {
  assertVersionSchemasSupported(config, target.dialect);
  const actor = describeActor();
  const applicationName = `tandem ${command} (${actor})`;
  const adapter = adapterFor(target.dialect);
  const sessionSetup = adapter.sessionSetup(config, applicationName);
  const connection: ConnectionHooks = {};
  const db = createKnex(target, { applicationName, sessionSetup, hooks: connection });
  let serverVersion: string;
  try {
    serverVersion = await adapter.serverVersion(db);
    // PGlite has no pool hook; its one connection lives as long as the session.
    if (target.driver === 'pglite') for (const statement of sessionSetup) await db.raw(statement);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw describeConnectionError(error, target);
  }
  return { target, adapter, db, serverVersion, actor, config, connection, close: () => db.destroy() };
}
