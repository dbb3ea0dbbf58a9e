import { randomBytes } from 'node:crypto';
import type { TandemConfig } from '../config/schema.js';
import { createKnex } from '../db/connect.js';
import { openSession, type Session } from '../db/session.js';
import { EmbeddedPostgres } from './embedded-postgres.js';
import { parseConnectionUrl, type ConnectionTarget } from '../db/url.js';

/**
 * A throw-away database (a verify path, a lint compile). On a server: a uniquely named database created and
 * dropped through a separate admin connection to the database the URL names. Embedded: a PGlite in
 * memory, or in a temporary directory when another process (the app's command) must open it.
 */
export interface ScratchDatabase {
  /** The URL an app connects with (pglite:DIR for an embedded one on disk). */
  url: string;
  /** Name of the database on the server, or the directory / "memory". */
  name: string;
  session(): Session;
  /** Close tandem's connection so another process can open the database (PGlite: one process at a time). */
  suspend(): Promise<void>;
  resume(): Promise<void>;
  drop(): Promise<void>;
}

export interface ScratchServer {
  /** For messages: "PGlite (embedded, in memory)", "postgres://…@host/postgres". */
  display: string;
  dialect: ConnectionTarget['dialect'];
  create(label: string): Promise<ScratchDatabase>;
  /** Release what the server side holds (the embedded PostgreSQL). */
  dispose(): Promise<void>;
}

/** Scratch databases still alive, so an interrupted verify (Ctrl-C) can drop them. */
const live = new Set<ScratchDatabase>();
const liveServers = new Set<ScratchServer>();

export async function dropAllScratch(): Promise<void> {
  await Promise.all([...live].map((db) => db.drop().catch(() => undefined)));
  await Promise.all([...liveServers].map((server) => server.dispose().catch(() => undefined)));
}

export interface ScratchOptions {
  /** When an app command in another process must connect (PGlite: a temporary directory). */
  onDisk: boolean;
  /** Who makes them, for database names and connection labels: `tandem_<purpose>_…`. */
  purpose: 'verify' | 'lint';
}

/** `server` is the target to create databases on (or null for embedded PGlite). */
export function scratchServer(server: ConnectionTarget | null, config: TandemConfig, options: ScratchOptions): ScratchServer {
  if (!server || server.driver === 'pglite') return embeddedServer(config, options);
  const scratch: ScratchServer = {
    display: server.display,
    dialect: server.dialect,
    create: (label) => createOnServer(server, config, uniqueName(options.purpose, label), options.purpose),
    dispose: async () => {
      liveServers.delete(scratch);
    },
  };
  liveServers.add(scratch);
  return scratch;
}

function uniqueName(purpose: string, label: string): string {
  return `tandem_${purpose}_${label}_${process.pid}_${randomBytes(4).toString('hex')}`.slice(0, 63);
}

/** One embedded PostgreSQL, started on first use; each "new" scratch database is that one, reset. */
function embeddedServer(config: TandemConfig, { onDisk, purpose }: ScratchOptions): ScratchServer {
  let embedded: Promise<EmbeddedPostgres> | null = null;
  let used = false;
  const scratch: ScratchServer = {
    display: onDisk ? 'PGlite (embedded, temporary directory)' : 'PGlite (embedded, in memory)',
    dialect: 'postgres',
    create: async () => {
      embedded ??= EmbeddedPostgres.start(config, onDisk, purpose);
      const pg = await embedded;
      if (used) await pg.reset();
      used = true;
      const database: ScratchDatabase = {
        url: pg.url,
        name: pg.dir ?? 'memory',
        session: () => pg.session(),
        suspend: () => pg.close(),
        resume: () => pg.open(),
        drop: async () => {
          live.delete(database);
        },
      };
      live.add(database);
      return database;
    },
    dispose: async () => {
      liveServers.delete(scratch);
      const pg = embedded;
      embedded = null;
      if (pg) await (await pg).dispose();
    },
  };
  liveServers.add(scratch);
  return scratch;
}

async function createOnServer(server: ConnectionTarget, config: TandemConfig, name: string, purpose: string): Promise<ScratchDatabase> {
  const quoted = server.dialect === 'postgres' ? `"${name}"` : `\`${name}\``;
  await admin(server, purpose, async (run) => run(server.dialect === 'postgres' ? `CREATE DATABASE ${quoted}` : `CREATE DATABASE ${quoted} CHARACTER SET utf8mb4`));
  const url = withDatabase(server.url, name);
  const target = parseConnectionUrl(url);
  return track(url, name, target, config, purpose, () =>
    admin(server, purpose, async (run) => {
      if (server.dialect === 'postgres') {
        // Sessions an app command left open would make DROP DATABASE fail.
        await run(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`);
      } else {
        const rows = await run(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = '${name}' AND ID <> CONNECTION_ID()`);
        for (const row of rows) await run(`KILL ${Number(row.id)}`).catch(() => undefined);
      }
      await run(`DROP DATABASE IF EXISTS ${quoted}`);
    }),
  );
}

async function track(url: string, name: string, target: ConnectionTarget, config: TandemConfig, purpose: string, remove: () => Promise<void>): Promise<ScratchDatabase> {
  let session: Session | null = null;
  let dropped = false;
  const open = async () => {
    session = await openSession(target, config, purpose);
  };
  const database: ScratchDatabase = {
    url,
    name,
    session: () => {
      if (!session) throw new Error(`scratch database ${name} is not open`);
      return session;
    },
    suspend: async () => {
      await session?.close();
      session = null;
    },
    resume: open,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      live.delete(database);
      await session?.close().catch(() => undefined);
      session = null;
      await remove();
    },
  };
  live.add(database);
  try {
    await open();
  } catch (error) {
    await database.drop().catch(() => undefined);
    throw error;
  }
  return database;
}

/** A short-lived connection to the database the URL names, for CREATE/DROP DATABASE. */
async function admin(server: ConnectionTarget, purpose: string, body: (run: (sql: string) => Promise<Array<Record<string, unknown>>>) => Promise<unknown>): Promise<void> {
  const db = createKnex(server, { applicationName: `tandem ${purpose} (admin)` });
  try {
    await body(async (sql) => {
      const result = await db.raw(sql);
      const rows = server.dialect === 'postgres' ? (result as { rows?: unknown[] }).rows : (result as unknown[])[0];
      return (Array.isArray(rows) ? rows : []) as Array<Record<string, unknown>>;
    });
  } finally {
    await db.destroy();
  }
}

/** Same server URL, another database; keeps credentials and parameters. */
function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
