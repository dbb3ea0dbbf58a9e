import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PGlite } from '@electric-sql/pglite';
import knexFactory, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { TandemConfig } from '../config/schema.js';
import { adapterFor } from '../db/index.js';
import { describeActor, type Session } from '../db/session.js';
import { parseConnectionUrl } from '../db/url.js';

/**
 * The embedded PostgreSQL verify and lint run on: ONE PGlite for the whole run (starting one costs seconds
 * of WebAssembly; resetting its schemas costs milliseconds), in memory, or in a temporary
 * directory when an app command must open it from another process.
 *
 * A fresh PGlite runs initdb, which is slow; its result is the same every time, so the first run
 * keeps it as a tarball in the cache directory and later runs start from that.
 */
export class EmbeddedPostgres {
  private pglite: PGlite | null = null;
  private knex: Knex | null = null;
  private current: Session | null = null;

  private constructor(
    private readonly config: TandemConfig,
    readonly dir: string | null,
    private readonly purpose: string,
  ) {}

  static async start(config: TandemConfig, onDisk: boolean, purpose: string): Promise<EmbeddedPostgres> {
    const embedded = new EmbeddedPostgres(config, onDisk ? fs.mkdtempSync(path.join(os.tmpdir(), `tandem-${purpose}-`)) : null, purpose);
    await embedded.open(true);
    return embedded;
  }

  get url(): string {
    return this.dir ? `pglite:${this.dir}` : 'pglite:memory';
  }

  session(): Session {
    if (!this.current) throw new Error('the embedded database is closed');
    return this.current;
  }

  /** Back to an empty database: every schema the migrations made, and tandem's ledger, dropped. */
  async reset(): Promise<void> {
    await this.session().db.raw(`DO $$ DECLARE s record; BEGIN
      FOR s IN SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND nspname NOT LIKE 'pg\\_%' LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', s.nspname);
      END LOOP;
      DROP SCHEMA IF EXISTS public CASCADE;
      CREATE SCHEMA public;
    END $$`);
  }

  /** Close it (another process may open the directory now); `open` again afterwards. */
  async close(): Promise<void> {
    const knex = this.knex;
    this.knex = null;
    this.current = null;
    this.pglite = null;
    await knex?.destroy(); // closes the PGlite too
  }

  async open(fresh = false): Promise<void> {
    const cached = fresh ? readCachedDataDir() : null;
    const options = { ...(this.dir ? { dataDir: this.dir } : {}), ...(cached ? { loadDataDir: new Blob([cached]) } : {}) };
    this.pglite = await PGlite.create(options);
    if (fresh && !cached) await saveCachedDataDir(this.pglite);
    this.knex = knexFactory({ client: ClientPgLite as unknown as typeof Knex.Client, dialect: 'postgres', connection: { pglite: this.pglite } } as Knex.Config);
    const adapter = adapterFor('postgres');
    for (const statement of adapter.sessionSetup(this.config, `tandem ${this.purpose}`)) await this.knex.raw(statement);
    const serverVersion = await adapter.serverVersion(this.knex);
    const knex = this.knex;
    this.current = { target: parseConnectionUrl(this.url), adapter, db: knex, serverVersion, actor: describeActor(), config: this.config, close: async () => undefined };
  }

  async dispose(): Promise<void> {
    await this.close();
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function pgliteVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const manifest = path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
    return String((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version?: string }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

function cacheFile(): string {
  const base = process.env.TANDEM_CACHE_DIR ?? (process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, 'tandem') : path.join(os.homedir(), '.cache', 'tandem'));
  return path.join(base, `pglite-${pgliteVersion()}-initdb.tar`);
}

function readCachedDataDir(): Buffer | null {
  try {
    return fs.readFileSync(cacheFile());
  } catch {
    return null;
  }
}

/** Keep the fresh data directory for the next run; a cache that cannot be written only costs time. */
async function saveCachedDataDir(pglite: PGlite): Promise<void> {
  try {
    const file = cacheFile();
    const dump = await pglite.dumpDataDir('none');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, Buffer.from(await dump.arrayBuffer()));
    fs.renameSync(temporary, file);
  } catch {
    // read-only home, full disk: start from initdb next time too
  }
}
