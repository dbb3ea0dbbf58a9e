import type { Knex } from 'knex';
import type { BackfillConfig, RetryConfig } from '../config/schema.js';
import { literalSql, stringLiteral } from '../db/raw-sql.js';
import type { Session } from '../db/session.js';
import type { BackfillProgress, Ledger } from '../runner/ledger.js';
import { withLockRetry, type RetryNotice } from '../runner/lock-retry.js';
import { faultPoint } from '../runner/fault-points.js';
import { assignedColumns, type BatchableUpdate } from './parse-update.js';
import { BackfillVacuum } from './backfill-vacuum.js';
import { RedoThrottle } from './redo-throttle.js';
import { ReplicaLagThrottle } from './replica-lag/throttle.js';
import { PauseFile } from './pause-file.js';
import { RunningQueriesThrottle } from './running-queries.js';

export interface BackfillSnapshot {
  migrationId: string;
  table: string;
  rowsDone: number;
  rowsTotal: number | null;
  batches: number;
  batchSize: number;
  rowsPerSecond: number;
  etaSeconds: number | null;
  /** Time this run spent pausing: for the MariaDB redo log (redo-throttle.ts), replicas behind (replica-lag/), a pause file (pause-file.ts), a busy database (running-queries.ts). */
  throttledMs: number;
  /** What it paused for, when it did: 'redo log', 'replica lag', 'pause file', 'busy database'. */
  pausedFor: string[];
  done: boolean;
}

export interface BatchedUpdateOptions {
  session: Session;
  ledger: Ledger;
  migrationId: string;
  statementIndex: number;
  update: BatchableUpdate;
  backfill: BackfillConfig;
  retries: RetryConfig;
  onProgress?: (snapshot: BackfillSnapshot) => void;
  onRetry?: (notice: RetryNotice) => void | Promise<void>;
  /** Something the user should know that does not stop the backfill (a VACUUM that failed). */
  onNotice?: (message: string) => void;
  /** Awaited between batches (the demo lets its simulated apps write here). */
  betweenBatches?: () => Promise<void>;
}

/**
 * MySQL: rows per INSERT of a batched INSERT … SELECT that locks its rows (see lockFirst). About 2–5 ms
 * of holding the target's AUTO-INC lock here; the benchmark's key type change on MariaDB (100,000
 * rows) had an app p99 of 23 ms with one INSERT per 30 ms batch.
 */
const INSERT_CHUNK_ROWS = 1000;

/** Above this many rows (catalog estimate) the total is taken from the estimate instead of a count. */
const EXACT_COUNT_LIMIT = 2_000_000;

/**
 * Run a single-table UPDATE (or an INSERT … SELECT from one table) in keyset batches over the
 * (source) table's primary key. Each batch is its own short transaction that also saves the
 * batch's last key in the ledger, so a killed backfill resumes after the last committed batch and
 * no row is updated twice. The batch size adapts so one batch takes about targetBatchMs. The walk
 * ends at the largest key seen when it started, then makes one more pass up to the largest key at
 * that moment, so it finishes even while rows keep arriving (rows inserted after that are the
 * app's, or a shim's, to fill).
 */
export async function runBatchedUpdate(options: BatchedUpdateOptions): Promise<BackfillProgress> {
  const { session, ledger, migrationId, statementIndex, update, backfill } = options;
  const { adapter, db } = session;
  const tableSql = adapter.quoteTable(update.table);
  const keyColumns = await adapter.primaryKey(db, update.table);
  if (keyColumns.length === 0) {
    throw new Error(`table ${tableSql} has no primary key, which a batched backfill walks; add a primary key, or run the update in the expand or contract section`);
  }
  // A batch that moves a row's key ahead of the walk would reach that row again and update it twice.
  const fold = (name: string) => (adapter.dialect === 'mysql' ? name.toLowerCase() : name);
  const assigned = new Set(assignedColumns(update.head, adapter.dialect).map(fold));
  const movedKeys = keyColumns.filter((column) => assigned.has(fold(column)));
  if (movedKeys.length > 0) {
    throw new Error(
      `the backfill UPDATE of ${tableSql} changes its primary key (${movedKeys.join(', ')}), which a batched backfill walks: a row moved ahead of the walk would be updated again; run this update in the expand or contract section, where it runs as one statement`,
    );
  }
  // Identifiers may hold a `?`, which knex would take for a placeholder: escaped on PostgreSQL; on
  // MySQL, where knex has no escape, tandem binds nothing and writes the key values as literals.
  const literal = (text: string) => literalSql(text, adapter.dialect);
  const tableRef = literal(tableSql);
  const plainKeys = keyColumns.map((column) => literal(adapter.quoteIdent(column)));
  const qualifiedKeys = keyColumns.map((column) => literal(`${update.qualifier}.${adapter.quoteIdent(column)}`));
  const keySelect = plainKeys.map((column, i) => `${adapter.keyAsText(column)} AS k${i}`).join(', ');
  // mysql2 returns BINARY/VARBINARY keys as bytes, which String() would mangle (most bytes are not
  // UTF-8): the ledger keeps such a key as hex, and it is bound as bytes again.
  const binary = keyColumns.map(() => false);
  const keyText = (value: unknown, i: number): string => {
    if (!Buffer.isBuffer(value)) return String(value);
    binary[i] = true;
    return value.toString('hex');
  };
  const readKey = (row: Record<string, unknown> | undefined): string[] | null => (row ? keyColumns.map((_, i) => keyText(row[`k${i}`], i)) : null);
  // keyCompare only places the values among its bindings, and knex binds a Buffer as bytes.
  const bindable = (key: string[]): string[] => key.map((value, i) => (binary[i] ? Buffer.from(value, 'hex') : value)) as unknown as string[];

  // MySQL: key values are written as literals (see rangeCondition); an integer key compared with a
  // string literal costs a conversion per row (a fifth of the batch's time on an INT key).
  // PostgreSQL: a single integer key is walked by value (`stepping`, below).
  const integerKeys = await integerColumns(session, update.table, keyColumns);
  // Every read of the table waits in its lock queue too (behind someone's ALTER): retry it like the batches.
  const retrying = <T>(step: () => Promise<T>): Promise<T> => withLockRetry(adapter, options.retries, step, (notice) => options.onRetry?.(notice));
  const maxKey = (): Promise<string[] | null> =>
    retrying(async () => readKey(adapter.rows<Record<string, unknown>>(await db.raw(`SELECT ${keySelect} FROM ${tableRef} ORDER BY ${plainKeys.map((c) => `${c} DESC`).join(', ')} LIMIT 1`))[0]));
  const minKey = (): Promise<string[] | null> =>
    retrying(async () => readKey(adapter.rows<Record<string, unknown>>(await db.raw(`SELECT ${keySelect} FROM ${tableRef} ORDER BY ${plainKeys.join(', ')} LIMIT 1`))[0]));

  let progress = await ledger.getBackfill(db, migrationId, statementIndex);
  if (progress && !progress.done) await maxKey(); // a resumed walk: learn which key columns are binary before binding saved keys
  if (!progress) {
    progress = {
      migrationId,
      statementIndex,
      tableName: tableSql,
      keyColumns,
      lastKey: null,
      ceilingKey: await maxKey(),
      pass: 1,
      rowsDone: 0,
      rowsTotal: await retrying(() => countRows(options)),
      batches: 0,
      batchSize: backfill.initialBatchSize,
      done: false,
    };
    if (!progress.ceilingKey) progress.done = true; // empty table
    await ledger.saveBackfill(db, progress);
  }
  if (JSON.stringify(progress.keyColumns) !== JSON.stringify(keyColumns)) {
    throw new Error(`the primary key of ${tableSql} changed from (${progress.keyColumns.join(', ')}) to (${keyColumns.join(', ')}) while its backfill was paused; run rollback, or finish the backfill with the old key`);
  }

  let batchSize = Math.min(backfill.maxBatchSize, Math.max(backfill.minBatchSize, progress.batchSize ?? backfill.initialBatchSize));
  const throttle = new RedoThrottle(session, backfill.redoThrottlePercent, options.onNotice);
  const replicaLag = new ReplicaLagThrottle(session, backfill, options.onNotice);
  const pauseFile = new PauseFile(backfill.pauseFile, options.onNotice);
  const busy = new RunningQueriesThrottle(session, backfill.maxRunningQueries, options.onNotice);
  // What the walker may wait for before a batch, by the name the progress report gives it.
  const waits: Array<[string, { waitedMs: number }]> = [['redo log', throttle], ['replica lag', replicaLag], ['pause file', pauseFile], ['busy database', busy]];
  const startedAt = Date.now();
  const rowsAtStart = progress.rowsDone;
  const report = (): void => {
    const elapsed = (Date.now() - startedAt) / 1000;
    const rate = elapsed > 0 ? (progress!.rowsDone - rowsAtStart) / elapsed : 0;
    const left = progress!.rowsTotal !== null ? Math.max(0, progress!.rowsTotal - progress!.rowsDone) : null;
    options.onProgress?.({
      migrationId,
      table: tableSql,
      rowsDone: progress!.rowsDone,
      rowsTotal: progress!.rowsTotal,
      batches: progress!.batches,
      batchSize,
      rowsPerSecond: rate,
      etaSeconds: progress!.done ? 0 : left !== null && rate > 0 ? left / rate : null,
      throttledMs: waits.reduce((sum, [, wait]) => sum + wait.waitedMs, 0),
      pausedFor: waits.filter(([, wait]) => wait.waitedMs > 0).map(([name]) => name),
      done: progress!.done,
    });
  };

  // While a pause lasts: the progress line, and the reason in the ledger for `tandem status` (the next batch clears it).
  const waiting = async (reason: string): Promise<void> => {
    report();
    await ledger.markBackfillPaused(db, migrationId, progress!.statementIndex, reason);
  };

  const vacuum = new BackfillVacuum(session, tableRef, progress.rowsTotal, backfill.minBatchSize, options.onNotice);
  // A batch commits together with its saved progress, so a server crash that loses an asynchronously
  // committed batch loses its progress record with it, and the resumed walk runs that batch again:
  // still exactly once. Any later synchronous commit (the phase's ledger record, an app write) first
  // flushes the WAL before it, so a crash may take back the last few batches (and the progress shown
  // for them), never a finished phase. Saves a WAL flush per batch. Not on PGlite: the database
  // lives in tandem's process, so killing tandem is a server crash, and the batches it reported done
  // would be lost.
  const batchSetup = session.target.driver === 'pg' ? ['SET LOCAL synchronous_commit = off'] : [];
  const settings = [...adapter.transactionSetup(session.config), ...adapter.backfillRole, ...batchSetup];
  // node-pg takes the whole batch as one query (PGlite runs one statement per call, mysql2 only when
  // asked): PostgreSQL runs a query of several statements as one implicit transaction, rolled back
  // whole if any part fails. Its settings, UPDATE and ledger record then cost one round trip instead
  // of five (BEGIN, settings, UPDATE, record, COMMIT), and under load every round trip waits for a
  // core: on 2 cores serving 1,000 requests/s, they and the upper-key lookup (below) took a fifth of
  // the walk's time.
  const oneTrip = session.target.driver === 'pg';
  // A single integer key holds at most n rows in any n consecutive values, so the next batch can end
  // n values on instead of n rows on, which an index walk of n entries finds (~8 % of the batch's
  // time under load). A batch over a gap in the keys is short, the batch size adapts, and the query
  // also returns the first key after the batch, so the walk jumps over a gap of any width at once.
  const stepping = oneTrip && keyColumns.length === 1 && integerKeys[0]!;
  const alreadyDone = progress.done;
  let lastBatchMs = 0; // so the first batch waits only the throttle's minimum (redo-throttle.ts)
  try {
    while (!progress.done) {
      const ceiling: string[] = progress.ceilingKey!;
      let lower = progress.lastKey;
      let next: string[] | null;
      if (stepping) {
        // The first batch starts just below the smallest key (an emptied table: at the ceiling); none
        // ends past the ceiling of this pass.
        const first = lower ? null : await minKey();
        lower ??= first ? [String(BigInt(first[0]!) - 1n)] : ceiling;
        const end = BigInt(lower[0]!) + BigInt(batchSize);
        next = end < BigInt(ceiling[0]!) ? [String(end)] : null;
      } else {
        // The key `batchSize` rows further on, but never past the ceiling of this pass.
        const bound = rangeCondition(adapter, plainKeys, integerKeys, lower && bindable(lower), bindable(ceiling));
        next = await retrying(async () =>
          readKey(
            adapter.rows<Record<string, unknown>>(
              await rawWith(db, `SELECT ${keySelect} FROM ${tableRef} WHERE ${bound.sql} ORDER BY ${plainKeys.join(', ')} LIMIT 1 OFFSET ${batchSize - 1}`, bound.bindings),
            )[0],
          ),
        );
      }
      const upper = next ?? ceiling;
      const range = rangeCondition(adapter, qualifiedKeys, integerKeys, lower && bindable(lower), bindable(upper), oneTrip);
      const whereFor = (range: { sql: string }) => `WHERE ${range.sql}${update.condition ? ` AND (${literal(update.condition)})` : ''}`;
      const statementFor = (range: { sql: string }) => `${literal(update.head)} ${whereFor(range)}${update.tail ? ` ${literal(update.tail)}` : ''}`;
      const sql = statementFor(range);
      // MySQL/MariaDB, an INSERT … SELECT that locks its rows: lock them first, in the batch's
      // transaction, then insert them in chunks. With innodb_autoinc_lock_mode 1 (MariaDB's default)
      // an INSERT … SELECT holds the target's table-level AUTO-INC lock from its start to its end,
      // and every other insert into the target waits for it: an app write's trigger that copies
      // into it (mysql-table-copy.ts) waits a whole batch, and had the batch then waited for that
      // app's row lock, the two would deadlock (InnoDB rolls the app's write back). Locked first,
      // the rows keep the INSERTs from waiting; chunked, each holds AUTO-INC only briefly.
      const lockFirst = adapter.dialect === 'mysql' && update.lockRows
        ? `SELECT ${keySelect} FROM ${literal(update.fromSql)} FORCE INDEX (PRIMARY) ${whereFor(range)} ORDER BY ${plainKeys.join(', ')} ${literal(update.lockRows)}`
        : null;
      /** The batch's INSERT in chunks of INSERT_CHUNK_ROWS locked keys, each a key range like the batch's own. */
      const chunked = (locked: Array<Record<string, unknown>>): string[] => {
        if (locked.length <= INSERT_CHUNK_ROWS) return [sql];
        const ends: string[][] = [];
        for (let i = INSERT_CHUNK_ROWS - 1; i < locked.length - 1; i += INSERT_CHUNK_ROWS) ends.push(readKey(locked[i])!);
        const bounds: Array<string[] | null> = [lower, ...ends, upper];
        return bounds.slice(1).map((end, i) => {
          const from = bounds[i] ?? null;
          return statementFor(rangeCondition(adapter, qualifiedKeys, integerKeys, from && bindable(from), bindable(end!)));
        });
      };

      await throttle.beforeBatch(lastBatchMs);
      await pauseFile.beforeBatch(waiting);
      await replicaLag.beforeBatch(waiting);
      await busy.beforeBatch(waiting);
      const batchStarted = Date.now();
      const rowsBeforeBatch = progress.rowsDone;
      const batch: BackfillProgress = { ...progress, lastKey: upper, batches: progress.batches + 1, batchSize };
      let gapped = false; // the keys end before the ceiling: the rest of this pass is empty
      const updated = await retrying(async (): Promise<BackfillProgress> => {
        if (oneTrip) {
          const rowsDone = (affected: string) => `${batch.rowsDone} + ${affected}`;
          // Killed while the query runs: the server commits the batch with its record, or neither.
          faultPoint('batch-after-update', 2);
          const following = stepping ? `SELECT ${keySelect} FROM ${tableRef} WHERE ${plainKeys[0]} > ${literal(stringLiteral(upper[0]!))} ORDER BY ${plainKeys[0]} LIMIT 1` : null;
          const results = await db.raw(oneTripBatchSql(settings, sql, (affected) => literal(ledger.batchRecordSql(batch, rowsDone(affected))), following));
          const row = adapter.rows<Record<string, unknown>>(results.at(-1))[0]!;
          const done = { ...batch, rowsDone: batch.rowsDone + Number(row.affected) };
          if (!stepping || !next) return done;
          // Over a gap: go on from just below the next key (the ledger keeps this batch's end; a resumed walk jumps again).
          const gapEnd = row.k0 === null ? BigInt(ceiling[0]!) : BigInt(String(row.k0)) - 1n;
          if (gapEnd <= BigInt(upper[0]!)) return done;
          gapped = gapEnd >= BigInt(ceiling[0]!);
          return { ...done, lastKey: [String(gapped ? BigInt(ceiling[0]!) : gapEnd)] };
        }
        return db.transaction(async (trx) => {
          for (const statement of settings) await trx.raw(statement);
          let affected = 0;
          if (lockFirst) {
            const locked = adapter.rows<Record<string, unknown>>(await trx.raw(lockFirst));
            for (const chunk of chunked(locked)) affected += adapter.affectedRows(await trx.raw(chunk));
          } else affected = adapter.affectedRows(await rawWith(trx, sql, range.bindings));
          faultPoint('batch-after-update');
          const saved: BackfillProgress = { ...batch, rowsDone: batch.rowsDone + affected };
          await ledger.saveBackfill(trx, saved);
          return saved;
        });
      });
      progress = updated;
      faultPoint('batch-after-commit');
      for (const statement of adapter.backfillRoleReset) await db.raw(statement);
      lastBatchMs = Date.now() - batchStarted;
      batchSize = Math.min(vacuum.every, nextBatchSize(batchSize, lastBatchMs, backfill.targetBatchMs, backfill));
      await vacuum.rowsUpdated(updated.rowsDone - rowsBeforeBatch);

      if (!next || gapped) {
        // End of this pass: look once more for rows that arrived since the walk began.
        const newest = progress.pass === 1 ? await maxKey() : null;
        const moved: boolean = newest !== null && JSON.stringify(newest) !== JSON.stringify(ceiling);
        progress = moved ? { ...progress, pass: 2, ceilingKey: newest } : { ...progress, done: true };
        await ledger.saveBackfill(db, { ...progress, batchSize });
      }
      report();
      if (!progress.done) {
        if (backfill.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, backfill.pauseMs));
        await options.betweenBatches?.();
      }
    }
  } finally {
    await replicaLag.close();
    await vacuum.finish();
  }
  if (alreadyDone) report();
  return progress;
}

/**
 * `key > lower AND key <= upper` (lower absent on the first batch). The values are bound, or on
 * MySQL, and where asked (a batch sent as one query), written as literals.
 */
function rangeCondition(
  adapter: Session['adapter'],
  keys: string[],
  integerKeys: boolean[],
  lower: string[] | null,
  upper: string[],
  asLiterals = false,
): { sql: string; bindings: string[] } {
  // Literals: the columns stand in as marks while the literals replace the placeholders, so a `?` in
  // a column's name is never taken for one.
  const mysql = adapter.dialect === 'mysql';
  const inline = mysql || asLiterals;
  const columns = inline ? keys.map((_, i) => `\u0000${i}\u0000`) : keys;
  const literal = (value: string, i: number): string => (mysql ? mysqlLiteral(value, integerKeys[i]!) : literalSql(stringLiteral(value)));
  const values = (key: string[]): string[] => (inline ? key.map(literal) : key);
  const parts = [];
  if (lower) parts.push(adapter.keyCompare(columns, '>', values(lower)));
  parts.push(adapter.keyCompare(columns, '<=', values(upper)));
  const sql = parts.map((part) => part.sql).join(' AND ');
  const bindings = parts.flatMap((part) => part.bindings);
  if (!inline) return { sql, bindings };
  let next = 0;
  const inlined = sql.replace(/\?/g, () => bindings[next++]!).replace(/\u0000(\d+)\u0000/g, (_, i: string) => keys[Number(i)]!);
  return { sql: inlined, bindings: [] };
}

/**
 * One batch as one query (node-pg): the settings, then the UPDATE and the ledger record of the rows it
 * updated, in a single statement so the record can count them. Returns one row: `affected`.
 */
function oneTripBatchSql(settings: string[], update: string, record: (affectedSql: string) => string, following: string | null): string {
  // A data-modifying CTE runs whether or not the query reads it.
  const counted = `WITH batch AS (${update} RETURNING 1), counted AS (SELECT count(*) AS n FROM batch), recorded AS (${record('(SELECT n FROM counted)')})`;
  // `following`: the first key after the batch (column k0), NULL when there is none.
  const after = following ? `, (${following}) AS k0` : '';
  return [...settings, `${counted} SELECT (SELECT n FROM counted) AS affected${after}`].join(';\n');
}

/** knex counts every `?` against the bindings given, even an empty list: give none when there are none. */
function rawWith(db: Knex | Knex.Transaction, sql: string, bindings: string[]): Knex.Raw {
  return bindings.length > 0 ? db.raw(sql, bindings) : db.raw(sql);
}

/**
 * A key value as a MySQL literal: an integer column's value as a number (checked to be one), bytes
 * as hex, text as utf8mb4 hex, which needs no escaping under any sql_mode and, being a literal, takes
 * the column's collation (or its date type).
 */
function mysqlLiteral(value: unknown, integer: boolean): string {
  if (Buffer.isBuffer(value)) return `X'${value.toString('hex')}'`;
  const text = String(value);
  if (integer && /^-?\d+$/.test(text)) return text;
  return `_utf8mb4 X'${Buffer.from(text, 'utf8').toString('hex')}'`;
}

/**
 * Which of the key columns have an integer type: MySQL TINYINT … BIGINT, signed or not; PostgreSQL
 * smallint, integer, bigint, or a domain over one (information_schema gives the domain's type).
 */
async function integerColumns({ db, adapter }: Session, table: BatchableUpdate['table'], keyColumns: string[]): Promise<boolean[]> {
  const mysql = adapter.dialect === 'mysql';
  const result = await db.raw(
    `SELECT column_name AS name, data_type AS type FROM information_schema.columns WHERE table_schema = COALESCE(?, ${mysql ? 'DATABASE()' : 'current_schema()'}) AND table_name = ?`,
    [table.schema ?? null, table.name],
  );
  // MySQL column names compare without case; PostgreSQL's as written.
  const fold = (name: string) => (mysql ? name.toLowerCase() : name);
  const types = new Map(adapter.rows<{ name: string; type: string }>(result).map((row) => [fold(row.name), row.type.toLowerCase()]));
  return keyColumns.map((column) => /^(tiny|small|medium|big)?int(eger)?$/.test(types.get(fold(column)) ?? ''));
}

/** Aim at the target batch time, changing by at most 2× per batch so one slow batch does not whipsaw the size. */
export function nextBatchSize(current: number, elapsedMs: number, targetMs: number, config: BackfillConfig): number {
  const ideal = current * (targetMs / Math.max(1, elapsedMs));
  const bounded = Math.min(current * 2, Math.max(current / 2, ideal));
  return Math.round(Math.min(config.maxBatchSize, Math.max(config.minBatchSize, bounded)));
}

async function countRows(options: BatchedUpdateOptions): Promise<number | null> {
  const { session, update } = options;
  const estimate = await session.adapter.estimatedRows(session.db, update.table).catch(() => 0);
  if (estimate > EXACT_COUNT_LIMIT) return estimate;
  const where = update.condition ? ` WHERE ${update.condition}` : '';
  const result = await session.db.raw(literalSql(`SELECT COUNT(*) AS n FROM ${update.fromSql}${where}`, session.adapter.dialect));
  return Number(session.adapter.rows<{ n: unknown }>(result)[0]?.n ?? 0);
}
