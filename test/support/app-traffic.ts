/**
 * A stand-in for the application during a migration: its own connection pool (separate from
 * tandem's single session) sending short reads and writes, timing every query. Also a "long
 * transaction" that holds a table lock the way a slow report or a forgotten BEGIN in the app would.
 *
 * Server databases only: PGlite has one connection per process, so nothing can run beside tandem.
 */
import knex, { type Knex } from 'knex';
import ClientPgLite from 'knex-pglite';
import type { TestDatabase } from './databases.js';

/** A knex for a TestDatabase with a pool of `connections` (PGlite: its one connection). */
export function appKnex(db: TestDatabase, connections = 2): Knex {
  const pool = { min: 0, max: connections };
  switch (db.kind) {
    case 'postgres':
      return knex({ client: 'pg', connection: db.url, pool });
    case 'mysql':
      return knex({ client: 'mysql2', connection: db.url, pool });
    case 'pglite': {
      const filename = db.url === 'pglite:memory' ? undefined : db.url.slice('pglite:'.length);
      return knex({ client: ClientPgLite, dialect: 'postgres', connection: filename ? { filename } : {} } as Knex.Config);
    }
  }
}

/** Rows of a raw() result, for either driver. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return (Array.isArray(result[0]) ? result[0] : []) as T[]; // mysql2: [rows, fields]
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface QuerySample {
  /** Date.now() when the query was sent. */
  startedAt: number;
  ms: number;
}

export interface TrafficStats {
  samples: QuerySample[];
  errors: string[];
  /** The slowest query of the run, in ms. */
  worstMs: number;
}

export interface AppTraffic {
  stop(): Promise<TrafficStats>;
}

/**
 * Start `connections` workers, each looping: read one row by id, then bump a counter on one row.
 * Autocommit and no lock timeout, as an ordinary app: a query waits as long as the database makes it.
 */
export function startAppTraffic(db: TestDatabase, options: { table: string; ids: number[]; connections?: number; counterColumn?: string }): AppTraffic {
  const connections = options.connections ?? 3;
  const k = appKnex(db, connections);
  const counter = options.counterColumn ?? 'n';
  const samples: QuerySample[] = [];
  const errors: string[] = [];
  let running = true;

  const timed = async (query: () => Promise<unknown>): Promise<void> => {
    const startedAt = Date.now();
    try {
      await query();
    } catch (error) {
      errors.push((error as Error).message);
    }
    samples.push({ startedAt, ms: Date.now() - startedAt });
  };

  const worker = async (w: number): Promise<void> => {
    for (let i = w; running; i++) {
      const id = options.ids[i % options.ids.length]!;
      await timed(() => k(options.table).select('id').where({ id }).first());
      await timed(() => k(options.table).where({ id }).increment(counter, 1));
      await sleep(5);
    }
  };
  const workers = Array.from({ length: connections }, (_, w) => worker(w));

  return {
    async stop() {
      running = false;
      await Promise.all(workers);
      await k.destroy();
      return { samples, errors, worstMs: samples.reduce((worst, s) => Math.max(worst, s.ms), 0) };
    },
  };
}

export interface LongTransaction {
  /** Resolves once the transaction holds its lock on the table. */
  acquired: Promise<void>;
  /** Resolves with Date.now() right after COMMIT returned. */
  committed: Promise<number>;
}

/**
 * BEGIN; SELECT … FROM table; (idle for holdMs); COMMIT — on a connection of its own. PostgreSQL
 * keeps ACCESS SHARE on the table until COMMIT, MySQL/MariaDB a shared metadata lock: either blocks
 * an ALTER TABLE, and the ALTER waiting in the lock queue blocks everyone behind it.
 */
export function holdTableLock(db: TestDatabase, table: string, holdMs: number): LongTransaction {
  const k = appKnex(db, 1);
  let signal!: () => void;
  const acquired = new Promise<void>((resolve) => (signal = resolve));
  const committed = (async () => {
    try {
      await k.transaction(async (trx) => {
        await trx(table).count({ n: '*' });
        signal();
        await sleep(holdMs);
      });
      return Date.now();
    } finally {
      await k.destroy();
    }
  })();
  committed.catch(() => signal()); // a failure surfaces through `committed`; never leave `acquired` hanging
  return { acquired, committed };
}
