/**
 * Old and new app versions writing at the same time through expand → backfill → contract of a
 * renameColumn + alterColumn (type change) migration, on PostgreSQL and MySQL/MariaDB servers.
 *
 * Each writer has its own connection and loops: insert a row, update a row, with only the columns
 * its version knows. Rows are partitioned between the writers (odd seed ids and the old writer's
 * inserts belong to the old one, even seed ids and its own inserts to the new one), so the value
 * each row must end with is exactly what its writer last wrote, which the writer keeps in memory.
 * The old writer is retired before contract; the new one keeps writing through it.
 *
 * At the end an md5 over every row (id, handle, balance in id order) must equal the md5 of what
 * the writers intended: no write was lost, and no row was left with new columns out of sync.
 *
 * PGlite is skipped: it has a single connection, so nothing can write beside tandem.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase, type TestDbKind } from '../support/databases.js';
import { openOperationHarness, type AppClient, type OperationHarness } from '../support/operation-harness.js';
import { sleep } from '../support/app-traffic.js';

const SEED = 3000;
const OLD_INSERT_BASE = 1_000_000;
const NEW_INSERT_BASE = 2_000_000;
/** How long each stage runs with the writers going, so every stage sees writes from both. */
const STAGE_MS = 400;

type Stage = 'S0' | 'expanded' | 'backfilling' | 'backfilled' | 'contracting' | 'contracted';

interface Intended {
  name: string;
  balance: number;
}

function seedSql(dialect: 'postgres' | 'mysql'): string {
  const values = Array.from({ length: SEED }, (_, i) => `(${i + 1}, 's${i + 1}', ${i + 1})`).join(', ');
  const table =
    dialect === 'postgres'
      ? 'CREATE TABLE accounts (id integer PRIMARY KEY, nickname varchar(100) NOT NULL, balance integer NOT NULL DEFAULT 0);'
      : 'CREATE TABLE accounts (id int PRIMARY KEY, nickname varchar(100) NOT NULL, balance int NOT NULL DEFAULT 0) ENGINE=InnoDB;';
  return `${table}\nINSERT INTO accounts (id, nickname, balance) VALUES ${values};`;
}

const OPERATIONS = [
  { renameColumn: { table: 'accounts', from: 'nickname', to: 'handle' } },
  { alterColumn: { table: 'accounts', column: 'balance', type: 'bigint' } },
];

/**
 * One app version writing in a loop. `nameColumn` is the column it knows the name by; it records
 * what it wrote to each row only after the write succeeded.
 */
class Writer {
  readonly errors: Array<{ stage: Stage; message: string }> = [];
  readonly writesByStage = new Map<Stage, number>();
  private running = true;
  private loop: Promise<void> | undefined;
  private inserted = 0;
  private n = 0;

  constructor(
    private readonly client: AppClient,
    private readonly nameColumn: 'nickname' | 'handle',
    private readonly insertBase: number,
    /** Seed rows this writer owns. */
    private readonly owns: (id: number) => boolean,
    private readonly intended: Map<number, Intended>,
    private readonly stage: () => Stage,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.attempt(() => this.insertOne());
      await this.attempt(() => this.updateOne());
    }
  }

  private async attempt(write: () => Promise<void>): Promise<void> {
    const stage = this.stage();
    try {
      await write();
      this.writesByStage.set(stage, (this.writesByStage.get(stage) ?? 0) + 1);
    } catch (error) {
      this.errors.push({ stage, message: (error as Error).message });
      await sleep(20);
    }
  }

  private async insertOne(): Promise<void> {
    const id = this.insertBase + this.inserted + 1;
    const row = { name: `${this.client.name}-i${id}`, balance: (id * 7) % 100_000 };
    await this.client.insert('accounts', { id, [this.nameColumn]: row.name, balance: row.balance });
    this.inserted += 1;
    this.intended.set(id, row);
  }

  private async updateOne(): Promise<void> {
    const id = this.pickOwnedRow();
    const row = { name: `${this.client.name}-u${++this.n}`, balance: Math.floor(Math.random() * 2_000_000_000) };
    const updated = await this.client.update('accounts', { [this.nameColumn]: row.name, balance: row.balance }, { id });
    if (updated !== 1) throw new Error(`update of row ${id} matched ${updated} rows`);
    this.intended.set(id, row);
  }

  /** A seed row it owns, or (a third of the time) one it inserted itself. */
  private pickOwnedRow(): number {
    if (this.inserted > 0 && Math.random() < 1 / 3) return this.insertBase + 1 + Math.floor(Math.random() * this.inserted);
    for (;;) {
      const id = 1 + Math.floor(Math.random() * SEED);
      if (this.owns(id)) return id;
    }
  }
}

function md5Of(lines: string[]): string {
  return createHash('md5').update(lines.join('\n')).digest('hex');
}

/** md5 over `id:handle:balance` of every row in id order, computed by the database. */
async function tableChecksum(h: OperationHarness): Promise<string> {
  if (h.dialect === 'postgres') {
    const [row] = await h.newClient.raw<{ sum: string }>(`SELECT md5(string_agg(id || ':' || handle || ':' || balance, E'\\n' ORDER BY id)) AS sum FROM accounts`);
    return row!.sum;
  }
  await h.newClient.raw('SET SESSION group_concat_max_len = 100000000');
  const [row] = await h.newClient.raw<{ sum: string }>(`SELECT MD5(GROUP_CONCAT(CONCAT(id, ':', handle, ':', balance) ORDER BY id SEPARATOR '\\n')) AS sum FROM accounts`);
  return row!.sum;
}

describe.each<TestDbKind>(['postgres', 'mysql', 'pglite'])('old and new writers through every phase on %s', (kind) => {
  let db: TestDatabase | null = null;
  let h: OperationHarness | undefined;

  afterEach(async () => {
    await h?.close();
    await db?.drop();
  });

  it('loses no write and leaves no row unsynced (checksum of every row)', async (ctx) => {
    if (kind === 'pglite') return ctx.skip('PGlite has a single connection: no app can write beside tandem');
    db = await createTestDatabase(kind, 'opconc');
    if (!db) return ctx.skip(`${kind} unavailable`);
    if (db.kind === 'pglite') return ctx.skip('no PostgreSQL server (PGlite fallback has a single connection)');
    const dialect = db.kind === 'mysql' ? 'mysql' : 'postgres';
    h = await openOperationHarness(db, {
      setup: seedSql(dialect),
      operations: OPERATIONS,
      // Batches of at most 200 rows, paused between, so the backfill takes many batches while both write.
      config: { backfill: { targetBatchMs: 50, initialBatchSize: 100, minBatchSize: 20, maxBatchSize: 200, pauseMs: 20 } },
    });

    const intended = new Map<number, Intended>();
    for (let id = 1; id <= SEED; id++) intended.set(id, { name: `s${id}`, balance: id });
    let stage: Stage = 'S0';
    const current = () => stage;
    const oldWriter = new Writer(h.oldClient, 'nickname', OLD_INSERT_BASE, (id) => id % 2 === 1, intended, current);
    const newWriter = new Writer(h.newClient, 'handle', NEW_INSERT_BASE, (id) => id % 2 === 0, intended, current);

    // The old version runs alone at S0; the new one is deployed once expand made its columns.
    oldWriter.start();
    await sleep(STAGE_MS);
    await h.expand();
    stage = 'expanded';
    newWriter.start();
    await sleep(STAGE_MS);
    stage = 'backfilling';
    await h.backfill();
    stage = 'backfilled';
    await sleep(STAGE_MS);
    await oldWriter.stop(); // retired before contract
    stage = 'contracting';
    await h.contract();
    stage = 'contracted';
    await sleep(STAGE_MS);
    await newWriter.stop();

    expect(oldWriter.errors).toEqual([]);
    expect(newWriter.errors).toEqual([]);
    for (const s of ['S0', 'expanded', 'backfilling', 'backfilled'] as const) expect(oldWriter.writesByStage.get(s) ?? 0, `old writes while ${s}`).toBeGreaterThan(0);
    for (const s of ['expanded', 'backfilling', 'backfilled', 'contracted'] as const) expect(newWriter.writesByStage.get(s) ?? 0, `new writes while ${s}`).toBeGreaterThan(0);

    // Contract left only the new shape.
    expect(await h.newClient.columns('accounts')).toEqual(['id', 'handle', 'balance']);
    expect((await h.schemaSnapshot()).triggers).toEqual([]);

    // Row by row first, for a readable failure; then the checksum over every row.
    const rows = await h.newClient.raw<{ id: unknown; handle: string | null; balance: unknown }>('SELECT id, handle, balance FROM accounts ORDER BY id');
    const actual = new Map(rows.map((r) => [Number(r.id), { name: r.handle, balance: Number(r.balance) }]));
    const wrong = [...intended].filter(([id, want]) => actual.get(id)?.name !== want.name || actual.get(id)?.balance !== want.balance).map(([id, want]) => ({ id, want, got: actual.get(id) }));
    expect(wrong.slice(0, 10)).toEqual([]);
    expect(rows.length).toBe(intended.size);

    const expectedLines = [...intended.keys()].sort((a, b) => a - b).map((id) => `${id}:${intended.get(id)!.name}:${intended.get(id)!.balance}`);
    expect(await tableChecksum(h)).toBe(md5Of(expectedLines));
  });
});
