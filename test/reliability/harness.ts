/**
 * Crash harness for the reliability suite (crash.test.ts) and the soak (soak.ts).
 *
 * A realistic migration set per dialect runs through the real CLI on a fresh database while a
 * background writer plays the app. A fault kills the CLI with SIGKILL — at the n-th pass of a named
 * fault point (src/runner/fault-points.ts, TANDEM_FAULT) or after a random delay — and the harness
 * then reruns the same command and goes on (or, in the rollback scenario, rolls back instead). The
 * end state is compared with a clean reference run: schema, ledger, a checksum of every row, no
 * INVALID index, and a runner lock that a new session gets at once.
 *
 * The writer and the comparison: the writer inserts accounts with ids from WRITER_FIRST_ID up and
 * updates only those rows, through the columns the old app knows (id, email, score), so its writes
 * go through the migrations' shims and batches like any app's. The row checksums leave its rows
 * out (their number depends on timing); instead every write it made must be there afterwards
 * (count of its rows = its successful inserts, sum of their scores = inserts + updates), and it must
 * see no error at all.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { appKnex, rowsOf } from '../support/app-traffic.js';
import type { TestDatabase } from '../support/databases.js';
import { REPO_ROOT, type CliResult } from '../support/spawn-cli.js';

export type Dialect = 'postgres' | 'mysql';
export type Command = 'expand' | 'backfill' | 'contract' | 'rollback';
export type Scenario = 'forward' | 'rollback';

export const SCENARIOS: Record<Scenario, Command[]> = {
  forward: ['expand', 'backfill', 'contract'],
  rollback: ['expand', 'backfill', 'rollback'],
};

export const WRITER_FIRST_ID = 1_000_000;
const ACCOUNTS = 3000;
const ORDERS = 3000;
const BATCH = 250;

// ---------------------------------------------------------------------------------------------
// the database and its migrations

export async function seed(app: Knex, dialect: Dialect): Promise<void> {
  const series = (n: number) => (dialect === 'postgres' ? `SELECT g AS i FROM generate_series(1, ${n}) g` : `WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) SELECT i FROM s`);
  const concat = (...parts: string[]) => (dialect === 'postgres' ? parts.join(' || ') : `CONCAT(${parts.join(', ')})`);
  if (dialect === 'mysql') await app.raw('SET SESSION max_recursive_iterations = 100000'); // MariaDB; MySQL: cte_max_recursion_depth
  await app.raw(`CREATE TABLE accounts (id int PRIMARY KEY, email varchar(100) NOT NULL, nickname varchar(50) NULL, score int NOT NULL DEFAULT 0, legacy varchar(20) NULL)`);
  await app.raw(`CREATE TABLE orders (id int PRIMARY KEY, account_id int NOT NULL, qty int NOT NULL)`);
  await app.raw(`INSERT INTO accounts (id, email, nickname, score, legacy) SELECT i, ${concat("'a'", dialect === 'postgres' ? 'i::text' : 'i', "'@example.com'")}, ${concat("'nick'", dialect === 'postgres' ? 'i::text' : 'i')}, MOD(i * 37, 101), CASE WHEN MOD(i, 3) = 0 THEN 'x' END FROM (${series(ACCOUNTS)}) s`);
  await app.raw(`INSERT INTO orders (id, account_id, qty) SELECT i, 1 + MOD(i * 7, ${ACCOUNTS}), 1 + MOD(i, 9) FROM (${series(ORDERS)}) s`);
}

/** SQL sections (a column, a concurrent/online index, a backfill, a contract drop) and declarative operations with shims. */
export function migrationFiles(dialect: Dialect): Record<string, string> {
  const sections =
    dialect === 'postgres'
      ? `-- tandem:expand
ALTER TABLE accounts ADD COLUMN score_band varchar(10);
CREATE INDEX CONCURRENTLY accounts_email_idx ON accounts (email);

-- tandem:backfill
UPDATE accounts SET score_band = CASE WHEN score > 50 THEN 'high' ELSE 'low' END;

-- tandem:contract
ALTER TABLE accounts DROP COLUMN legacy;

-- tandem:rollback
DROP INDEX CONCURRENTLY IF EXISTS accounts_email_idx;
ALTER TABLE accounts DROP COLUMN IF EXISTS score_band;
`
      : `-- tandem:expand
ALTER TABLE accounts ADD COLUMN score_band varchar(10) NULL;
CREATE INDEX accounts_email_idx ON accounts (email) ALGORITHM=INPLACE LOCK=NONE;

-- tandem:backfill
UPDATE accounts SET score_band = CASE WHEN score > 50 THEN 'high' ELSE 'low' END;

-- tandem:contract
ALTER TABLE accounts DROP COLUMN legacy;

-- tandem:rollback
DROP INDEX accounts_email_idx ON accounts;
ALTER TABLE accounts DROP COLUMN score_band;
`;
  const typeAndRename = {
    operations: [
      { alterColumn: { table: 'accounts', column: 'score', type: 'bigint' } },
      { renameColumn: { table: 'accounts', from: 'nickname', to: 'handle' } },
    ],
  };
  const orders = {
    operations: [
      { addColumn: { table: 'orders', column: { name: 'size_class', type: 'varchar(10)', nullable: false }, up: "CASE WHEN qty > 5 THEN 'bulk' ELSE 'single' END" } },
      { createIndex: { table: 'orders', name: 'orders_account_idx', columns: ['account_id'] } },
      { addForeignKey: { table: 'orders', name: 'orders_account_fk', columns: ['account_id'], references: { table: 'accounts', columns: ['id'] } } },
    ],
  };
  return {
    '20260801000000_score_band.sql': sections,
    '20260802000000_widen_score_rename_nickname.json': JSON.stringify(typeAndRename, null, 2),
    '20260803000000_order_size_class.json': JSON.stringify(orders, null, 2),
  };
}

/** A scratch working directory with tandem.config.json and the migrations. */
export function workdir(dialect: Dialect): { cwd: string; remove(): void } {
  const cwd = mkdtempSync(join(tmpdir(), 'tandem-rel-'));
  mkdirSync(join(cwd, 'migrations'));
  for (const [name, text] of Object.entries(migrationFiles(dialect))) writeFileSync(join(cwd, 'migrations', name), text);
  const config = { dir: 'migrations', waitSeconds: 60, backfill: { targetBatchMs: 200, initialBatchSize: BATCH, minBatchSize: BATCH, maxBatchSize: BATCH, pauseMs: 0 } };
  writeFileSync(join(cwd, 'tandem.config.json'), JSON.stringify(config, null, 2));
  return { cwd, remove: () => rmSync(cwd, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------
// the background writer

export interface WriterStats {
  inserts: number;
  updates: number;
  errors: string[];
}

export interface Writer {
  stop(): Promise<WriterStats>;
}

/** Continuous inserts and updates of its own rows, as the old app would make them; every error is kept. */
export function startWriter(db: TestDatabase, firstId = WRITER_FIRST_ID): Writer {
  const app = appKnex(db, 2);
  const stats: WriterStats = { inserts: 0, updates: 0, errors: [] };
  let running = true;
  let nextId = firstId;
  const loop = (async () => {
    while (running) {
      try {
        const id = nextId++;
        await app.raw('INSERT INTO accounts (id, email, score) VALUES (?, ?, 1)', [id, `w${id}@example.com`]);
        stats.inserts++;
        const target = firstId + Math.floor(Math.random() * (nextId - firstId));
        await app.raw('UPDATE accounts SET score = score + 1 WHERE id = ?', [target]);
        stats.updates++;
      } catch (error) {
        stats.errors.push(String((error as Error).message ?? error).slice(0, 300));
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      // Every write it made is still there: none lost by a crash, a rerun or a rollback.
      try {
        const row = rowsOf<{ n: unknown; total: unknown }>(await app.raw('SELECT COUNT(*) AS n, SUM(score) AS total FROM accounts WHERE id >= ?', [firstId]))[0]!;
        if (Number(row.n) !== stats.inserts) stats.errors.push(`writer rows: ${Number(row.n)} present, ${stats.inserts} inserted`);
        if (Number(row.total ?? 0) !== stats.inserts + stats.updates) stats.errors.push(`writer scores: sum ${Number(row.total)}, expected ${stats.inserts + stats.updates}`);
      } finally {
        await app.destroy();
      }
      return stats;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// running the CLI with a fault

export type Fault =
  | { kind: 'point'; scenario: Scenario; command: Command; point: string; nth: number }
  | { kind: 'time'; scenario: Scenario; command: Command; afterMs: number };

export function describeFault(fault: Fault): string {
  return fault.kind === 'point' ? `${fault.scenario}: ${fault.command} killed at ${fault.point} #${fault.nth}` : `${fault.scenario}: ${fault.command} killed after ${fault.afterMs} ms`;
}

let privateCli: string | null = null;

/**
 * Compile src/ once into a private directory and run the CLI from there: a crash run takes minutes,
 * and other work on the same tree rebuilding dist/ meanwhile must not change the code under test
 * half-way. node_modules is linked in, so packages resolve as from the repository.
 */
export function buildPrivateCli(): string {
  if (privateCli) return privateCli;
  const root = mkdtempSync(join(tmpdir(), 'tandem-rel-dist-'));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }));
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', join(root, 'dist')], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch (error) {
    // tsc emits despite type errors elsewhere in the tree; only a missing CLI is fatal.
    if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) throw new Error(`tsc wrote no CLI: ${String((error as { stdout?: Buffer }).stdout ?? error).slice(0, 2000)}`);
  }
  privateCli = join(root, 'dist', 'cli', 'main.js');
  return privateCli;
}

export function removePrivateCli(): void {
  if (privateCli) rmSync(join(privateCli, '..', '..', '..'), { recursive: true, force: true });
  privateCli = null;
}

/** Start the privately built CLI on a database (JSON lines output, as a pipeline sees it). */
export function spawnTandem(db: TestDatabase, cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): { pid: number; kill(): void; stdout(): string; exited: Promise<CliResult> } {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0', ...env };
  delete childEnv.DATABASE_URL;
  if (!env.TANDEM_FAULT) delete childEnv.TANDEM_FAULT;
  const child = spawn(process.execPath, [buildPrivateCli(), '--url', db.url, '--json', ...args], { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { pid: child.pid!, kill: () => void child.kill('SIGKILL'), stdout: () => stdout, exited };
}

export async function tandem(db: TestDatabase, cwd: string, command: Command, env: NodeJS.ProcessEnv = {}, killAfterMs?: number): Promise<CliResult> {
  const running = spawnTandem(db, cwd, [command], env);
  const timer = killAfterMs !== undefined ? setTimeout(() => running.kill(), killAfterMs) : undefined;
  const result = await running.exited;
  if (timer) clearTimeout(timer);
  return result;
}

function expectSuccess(result: CliResult, what: string): void {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code ?? result.signal}:\n${result.stderr.slice(0, 2000)}\n${result.stdout.slice(-1500)}`);
}

export interface CaseOutcome {
  /** Whether the fault actually killed the process (a point hit fewer times than n does not). */
  killed: boolean;
  log: string[];
}

/** Run a scenario's commands, killing one as the fault says, then rerunning it (or rolling back instead) and going on. */
export async function runCase(db: TestDatabase, cwd: string, fault: Fault): Promise<CaseOutcome> {
  const log: string[] = [];
  let killed = false;
  for (const command of SCENARIOS[fault.scenario]) {
    if (command !== fault.command || killed) {
      expectSuccess(await tandem(db, cwd, command), command);
      log.push(`${command}: ok`);
      continue;
    }
    const result = fault.kind === 'point' ? await tandem(db, cwd, command, { TANDEM_FAULT: `${fault.point}:${fault.nth}` }) : await tandem(db, cwd, command, {}, fault.afterMs);
    if (result.signal !== 'SIGKILL') {
      expectSuccess(result, `${command} (fault not reached)`);
      log.push(`${command}: finished before the fault`);
      continue;
    }
    killed = true;
    log.push(`${command}: killed`);
    if (fault.scenario === 'rollback' && command !== 'rollback') {
      // The variant: roll back instead of finishing.
      expectSuccess(await tandem(db, cwd, 'rollback'), 'rollback after the kill');
      log.push('rollback: ok');
      break;
    }
    expectSuccess(await tandem(db, cwd, command), `${command} rerun after the kill`);
    log.push(`${command} rerun: ok`);
  }
  return { killed, log };
}

export interface Reference {
  /** How often each fault point was passed, per command. */
  counts: Map<Command, Map<string, number>>;
  /** How long each command took, in ms (random-time kills draw their delay from it). */
  durations: Map<Command, number>;
}

/** A clean run of a scenario that also counts how often each fault point is passed, per command. */
export async function referenceRun(db: TestDatabase, cwd: string, scenario: Scenario): Promise<Reference> {
  const counts = new Map<Command, Map<string, number>>();
  const durations = new Map<Command, number>();
  for (const command of SCENARIOS[scenario]) {
    const logFile = join(cwd, `faults-${command}-${randomBytes(3).toString('hex')}.log`);
    const started = Date.now();
    expectSuccess(await tandem(db, cwd, command, { TANDEM_FAULT_LOG: logFile }), `reference ${command}`);
    durations.set(command, Date.now() - started);
    const perPoint = new Map<string, number>();
    if (existsSync(logFile)) for (const point of readFileSync(logFile, 'utf8').split('\n').filter(Boolean)) perPoint.set(point, (perPoint.get(point) ?? 0) + 1);
    counts.set(command, perPoint);
  }
  return { counts, durations };
}

// ---------------------------------------------------------------------------------------------
// choosing faults

/** A small deterministic PRNG (mulberry32), so a seed names a sample. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` faults spread over every (scenario, command, point) seen in the reference runs, round
 * robin in a seeded order so a small sample still covers each kind of point; n is drawn within the
 * reference's hit count.
 */
export function sampleFaults(counts: Record<Scenario, Map<Command, Map<string, number>>>, count: number, random: () => number, first: string[] = []): Fault[] {
  const groups: Array<{ scenario: Scenario; command: Command; point: string; hits: number }> = [];
  for (const scenario of Object.keys(counts) as Scenario[]) {
    for (const [command, points] of counts[scenario]) {
      // The forward scenario's expand and backfill equal the rollback scenario's: sample them once.
      if (scenario === 'rollback' && command !== 'rollback' && random() < 0.5) continue;
      for (const [point, hits] of points) groups.push({ scenario, command, point, hits });
    }
  }
  // Points named in `first` lead (in seeded order among themselves), so a small sample covers them.
  const rank = (point: string) => (first.includes(point) ? 0 : 1);
  const shuffled = groups
    .map((group) => ({ group, key: rank(group.point) + random() }))
    .sort((a, b) => a.key - b.key)
    .map((entry) => entry.group);
  const faults: Fault[] = [];
  for (let round = 0; faults.length < count && shuffled.length > 0; round++) {
    for (const group of shuffled) {
      if (faults.length >= count) break;
      const nth = 1 + Math.floor(random() * group.hits);
      faults.push({ kind: 'point', scenario: group.scenario, command: group.command, point: group.point, nth });
    }
  }
  return faults;
}

/** The points where each dialect is most fragile, which a small sample must include. */
export const FRAGILE_POINTS: Record<Dialect, string[]> = {
  // Transactions around every step except the concurrent index build.
  postgres: ['index-build', 'step-in-transaction', 'batch-after-update', 'step-after-statement'],
  // DDL that commits on its own, before the ledger records it.
  mysql: ['step-after-statement', 'batch-after-update', 'step-after-commit'],
};

// ---------------------------------------------------------------------------------------------
// the end state

export interface EndState {
  schema: string[];
  ledger: Array<Record<string, unknown>>;
  rows: Record<string, { count: number; checksum: string; perRow: string[] }>;
  invalidIndexes: string[];
}

const LEDGER_COLUMNS = 'id, state, active_phase, failed, statements_done';

export async function endState(db: TestDatabase, dialect: Dialect): Promise<EndState> {
  const app = appKnex(db, 1);
  try {
    const schemaSql =
      dialect === 'postgres'
        ? `SELECT 'col ' || table_schema || '.' || table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS x
             FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema')
           UNION ALL SELECT 'idx ' || c.relname || ' ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
           UNION ALL SELECT 'con ' || conname || ' ' || contype::text || ' ' || convalidated || ' ' || pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           UNION ALL SELECT 'trg ' || c.relname || '.' || tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal
           UNION ALL SELECT 'fn ' || n.nspname || '.' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           UNION ALL SELECT 'view ' || table_name FROM information_schema.views WHERE table_schema NOT IN ('pg_catalog', 'information_schema')`
        : `SELECT CONCAT('col ', TABLE_NAME, '.', COLUMN_NAME, ' ', COLUMN_TYPE, ' ', IS_NULLABLE, ' ', IFNULL(COLUMN_DEFAULT, '')) AS x FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
           UNION ALL SELECT CONCAT('idx ', TABLE_NAME, '.', INDEX_NAME, ' ', SEQ_IN_INDEX, ' ', COLUMN_NAME, ' ', NON_UNIQUE) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE()
           UNION ALL SELECT CONCAT('con ', TABLE_NAME, '.', CONSTRAINT_NAME, ' ', CONSTRAINT_TYPE) FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = DATABASE()
           UNION ALL SELECT CONCAT('trg ', EVENT_OBJECT_TABLE, '.', TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()
           UNION ALL SELECT CONCAT('view ', TABLE_NAME) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()`;
    const schema = rowsOf<{ x: string }>(await app.raw(schemaSql)).map((row) => String(row.x)).sort();
    const ledgerTable = dialect === 'postgres' ? 'tandem.migrations' : 'tandem_migrations';
    const ledger = rowsOf<Record<string, unknown>>(await app.raw(`SELECT ${LEDGER_COLUMNS} FROM ${ledgerTable} ORDER BY id`)).map((row) => ({
      id: String(row.id),
      state: String(row.state),
      active_phase: row.active_phase ?? null,
      failed: row.failed === true || Number(row.failed) === 1,
      statements_done: Number(row.statements_done),
    }));
    const rows: EndState['rows'] = {};
    for (const table of ['accounts', 'orders']) {
      const data = rowsOf<Record<string, unknown>>(await app.raw(`SELECT * FROM ${table} WHERE id < ? ORDER BY id`, [WRITER_FIRST_ID]));
      const perRow = data.map((row) => createHash('sha256').update(JSON.stringify(Object.keys(row).sort().map((key) => [key, row[key] === null ? null : String(row[key])]))).digest('hex').slice(0, 16));
      rows[table] = { count: data.length, checksum: createHash('sha256').update(perRow.join('')).digest('hex'), perRow };
    }
    const invalidIndexes =
      dialect === 'postgres' ? rowsOf<{ name: string }>(await app.raw('SELECT c.relname AS name FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid')).map((row) => row.name) : [];
    return { schema, ledger, rows, invalidIndexes };
  } finally {
    await app.destroy();
  }
}

/** A new session takes the runner lock at once: nobody, dead or alive, still holds it. */
export async function runnerLockFree(db: TestDatabase, dialect: Dialect): Promise<boolean> {
  const app = appKnex(db, 1);
  try {
    return await app.transaction(async (trx) => {
      if (dialect === 'postgres') {
        const ok = rowsOf<{ ok: boolean }>(await trx.raw('SELECT pg_try_advisory_lock(1952542308, 1) AS ok'))[0]?.ok === true;
        if (ok) await trx.raw('SELECT pg_advisory_unlock(1952542308, 1)');
        return ok;
      }
      const ok = Number(rowsOf<{ ok: unknown }>(await trx.raw(`SELECT GET_LOCK(CONCAT('tandem:', DATABASE()), 0) AS ok`))[0]?.ok) === 1;
      if (ok) await trx.raw(`SELECT RELEASE_LOCK(CONCAT('tandem:', DATABASE()))`);
      return ok;
    });
  } finally {
    await app.destroy();
  }
}

/** What differs between an end state and the reference, in words (empty: none). */
export function compareEndStates(actual: EndState, reference: EndState, scenario: Scenario): string[] {
  const problems: string[] = [];
  const missing = reference.schema.filter((line) => !actual.schema.includes(line));
  const extra = actual.schema.filter((line) => !reference.schema.includes(line));
  if (missing.length > 0) problems.push(`schema lacks: ${missing.join(' | ')}`);
  if (extra.length > 0) problems.push(`schema has extra: ${extra.join(' | ')}`);
  if (actual.invalidIndexes.length > 0) problems.push(`INVALID indexes: ${actual.invalidIndexes.join(', ')}`);
  if (scenario === 'forward') {
    if (JSON.stringify(actual.ledger) !== JSON.stringify(reference.ledger)) problems.push(`ledger ${JSON.stringify(actual.ledger)} != ${JSON.stringify(reference.ledger)}`);
  } else {
    // Rolled back after a kill in expand: migrations that never started stay pending (or have no row).
    const unsettled = actual.ledger.filter((row) => !(row.state === 'rolled_back' || row.state === 'pending') || row.active_phase !== null || row.failed);
    if (unsettled.length > 0) problems.push(`ledger not settled: ${JSON.stringify(unsettled)}`);
  }
  for (const table of Object.keys(reference.rows)) {
    const a = actual.rows[table]!;
    const r = reference.rows[table]!;
    if (a.checksum === r.checksum) continue;
    const first = r.perRow.findIndex((hash, i) => a.perRow[i] !== hash);
    problems.push(`${table}: rows differ (${a.count} vs ${r.count} rows; first difference at row ${first + 1})`);
  }
  return problems;
}
