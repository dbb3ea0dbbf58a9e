import { createHash } from 'node:crypto';
import { RefusedError } from '../errors/tandem-error.js';
import type { Session } from '../db/session.js';
import { releasePgliteLock, tryPgliteLock } from '../db/pglite-lock.js';
import type { Ledger } from './ledger.js';
import { isConnectionLost, type RawQuery } from '../db/connect.js';

/**
 * One runner at a time per database. PostgreSQL: a session advisory lock; MySQL/MariaDB: GET_LOCK
 * (server-wide, so the name carries the database). Both die with the session, so a runner that
 * crashed never leaves the lock held. PGlite has one process per data directory: a lock file.
 */
const PG_LOCK_CLASS = 0x74616e64; // 'tand'
const PG_LOCK_OBJECT = 1;
/** The granted runner lock of this database, as a condition on pg_locks `l` (two-int advisory locks have objsubid 2). */
const PG_LOCK_HELD = `l.locktype = 'advisory' AND l.granted AND l.classid = ${PG_LOCK_CLASS} AND l.objid = ${PG_LOCK_OBJECT} AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`;

export interface RunnerLock {
  release(): Promise<void>;
}

export interface LockOptions {
  waitSeconds: number;
  command: string;
  onWaiting?: (holder: string) => void;
}

/** Connection drops survived while taking the lock (each starts the acquisition over on a new connection). */
const LOCK_RECONNECTS = 10;

export async function acquireRunnerLock(session: Session, ledger: Ledger, options: LockOptions): Promise<RunnerLock> {
  // PGlite: the data-directory lock was taken before the database was opened (openTarget).
  if (session.target.driver === 'pglite') {
    await ledger.ensure();
    return { release: async () => undefined };
  }
  for (let attempt = 1; ; attempt++) {
    try {
      // After a drop, the dead session may hold the lock a moment longer (MariaDB ends a killed
      // thread at its next check): wait for it as a reconnect does, whatever --wait says.
      return await acquireOnce(session, ledger, options, attempt === 1 ? 0 : RETAKE_WAIT_MS);
    } catch (error) {
      if (!isConnectionLost(error) || attempt > LOCK_RECONNECTS) throw error;
      // The lock, if this attempt got it, died with the session. Start over on a fresh connection
      // without the re-take hook: taking it twice on one session would stack it (both servers count).
      if (session.connection) session.connection.afterReconnect = undefined;
      session.connection?.markLost?.();
    }
  }
}

async function acquireOnce(session: Session, ledger: Ledger, options: LockOptions, minWaitMs: number): Promise<RunnerLock> {
  const name = await lockName(session);
  const deadline = Date.now() + Math.max(options.waitSeconds * 1000, minWaitMs);
  let told = false;
  for (;;) {
    if (await tryLock(session, name)) break;
    let holder = await describeHolder(session, ledger, name);
    if (Date.now() >= deadline) {
      // A runner that has just taken the lock records itself a moment later (after creating the
      // ledger on a first run): give it that moment, so the refusal can name it.
      for (const giveUp = Date.now() + HOLDER_RECORD_WAIT_MS; !holder.recorded && Date.now() < giveUp; ) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        holder = await describeHolder(session, ledger, name);
      }
      throw new RefusedError(
        `another tandem runner holds the lock on this database: ${holder.text}`,
        options.waitSeconds > 0 ? `waited ${options.waitSeconds} s; wait for it to finish, or give a longer --wait` : 'wait for it to finish, or pass --wait SECONDS to queue behind it',
      );
    }
    if (!told) options.onWaiting?.(holder.text);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(10, deadline - Date.now()))));
  }
  const sessionId = await sessionIdOf(session);
  // From here on a replaced connection must take the lock again before anything runs on it.
  const lost = { sessionId };
  if (session.connection) session.connection.afterReconnect = (query) => retakeLock(session, ledger, name, lost, query);
  await ledger.ensure();
  await ledger.setRunner(name, sessionId, options.command);
  return {
    release: async () => {
      if (session.connection) session.connection.afterReconnect = undefined;
      await unlock(session, name).catch(() => undefined);
    },
  };
}

/** How long a replacement connection waits for the dropped session to let go of the lock. */
const RETAKE_WAIT_MS = 10_000;

/**
 * The connection holding the runner lock dropped, and with it the lock. Before the replacement
 * connection runs anything, take the lock again on it. The dropped session may linger a moment
 * (MariaDB ends a killed thread at its next check), so wait while that session still holds it; if
 * another session holds it, another runner got in: refuse, since what this run read before may be stale.
 */
async function retakeLock(session: Session, ledger: Ledger, name: string, lost: { sessionId: string }, query: RawQuery): Promise<void> {
  const postgres = session.adapter.dialect === 'postgres';
  const deadline = Date.now() + RETAKE_WAIT_MS;
  for (;;) {
    const taken = postgres
      ? (await query('SELECT pg_try_advisory_lock($1, $2) AS ok', [PG_LOCK_CLASS, PG_LOCK_OBJECT]))[0]?.ok === true
      : Number((await query('SELECT GET_LOCK(?, 0) AS ok', [name]))[0]?.ok) === 1;
    if (taken) break;
    const holder = postgres
      ? (await query(`SELECT l.pid AS id FROM pg_locks l WHERE ${PG_LOCK_HELD}`))[0]?.id
      : (await query('SELECT IS_USED_LOCK(?) AS id', [name]))[0]?.id;
    const stillOurs = holder === null || holder === undefined || String(holder) === lost.sessionId;
    if (!stillOurs || Date.now() >= deadline) {
      throw new RefusedError(
        `the database connection dropped and another session took the runner lock meanwhile (${postgres ? 'backend pid' : 'connection'} ${String(holder)}); this run stopped, and the ledger holds what it committed`,
        'check `tandem status`, then rerun the command once the other runner has finished',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const sessionId = String((await query(postgres ? 'SELECT pg_backend_pid() AS id' : 'SELECT CONNECTION_ID() AS id'))[0]?.id);
  const q = session.adapter.quoteIdent;
  const runners = ledger.tables.schema ? `${q(ledger.tables.schema)}.${q(ledger.tables.runners)}` : q(ledger.tables.runners);
  // Informational (a waiting runner's message); on a first run the ledger may not exist yet.
  await query(`UPDATE ${runners} SET session_id = ${postgres ? '$1' : '?'} WHERE lock_name = ${postgres ? '$2' : '?'}`, [sessionId, name]).catch(() => undefined);
  lost.sessionId = sessionId;
}

async function lockName(session: Session): Promise<string> {
  if (session.adapter.dialect === 'postgres') return `advisory(${PG_LOCK_CLASS},${PG_LOCK_OBJECT})`;
  const database = session.adapter.rows<{ db: string }>(await session.db.raw('SELECT DATABASE() AS db'))[0]?.db ?? '';
  const name = `tandem:${database}`;
  // GET_LOCK names are limited to 64 characters.
  return name.length <= 64 ? name : `tandem:${createHash('sha256').update(database).digest('hex').slice(0, 56)}`;
}

async function tryLock(session: Session, name: string): Promise<boolean> {
  const { db, adapter } = session;
  if (adapter.dialect === 'postgres') {
    const result = await db.raw('SELECT pg_try_advisory_lock(?, ?) AS ok', [PG_LOCK_CLASS, PG_LOCK_OBJECT]);
    return adapter.rows<{ ok: boolean }>(result)[0]?.ok === true;
  }
  const result = await db.raw('SELECT GET_LOCK(?, 0) AS ok', [name]);
  return Number(adapter.rows<{ ok: number }>(result)[0]?.ok) === 1;
}

async function unlock(session: Session, name: string): Promise<void> {
  if (session.adapter.dialect === 'postgres') await session.db.raw('SELECT pg_advisory_unlock(?, ?)', [PG_LOCK_CLASS, PG_LOCK_OBJECT]);
  else await session.db.raw('SELECT RELEASE_LOCK(?)', [name]);
}

async function sessionIdOf(session: Session): Promise<string> {
  const sql = session.adapter.dialect === 'postgres' ? 'SELECT pg_backend_pid() AS id' : 'SELECT CONNECTION_ID() AS id';
  return String(session.adapter.rows<{ id: unknown }>(await session.db.raw(sql))[0]?.id);
}

/** How long a refused runner waits for the holder to record itself in the ledger, to name it. */
const HOLDER_RECORD_WAIT_MS = 3000;

/**
 * "tandem expand by alice@ci pid 42, since 12:00:01 (session 1234)": from the ledger, checked
 * against the live session; `recorded` says whether the ledger named it.
 */
async function describeHolder(session: Session, ledger: Ledger, name: string): Promise<{ text: string; recorded: boolean }> {
  const text = await describeHolderText(session, ledger, name);
  return { text, recorded: text.startsWith('tandem ') && text.includes(' run by ') };
}

async function describeHolderText(session: Session, ledger: Ledger, name: string): Promise<string> {
  const { db, adapter } = session;
  let sessionId: string | undefined;
  if (adapter.dialect === 'postgres') {
    const result = await db.raw(
      `SELECT l.pid, a.application_name, a.usename, a.client_addr::text AS client, a.backend_start
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE ${PG_LOCK_HELD}`,
    );
    const row = adapter.rows<{ pid: number; application_name: string; usename: string; client: string | null }>(result)[0];
    if (!row) return 'a session that just released it';
    sessionId = String(row.pid);
    const recorded = await ledger.runner(name).catch(() => undefined);
    if (recorded && recorded.sessionId === sessionId) return `tandem ${recorded.command} run by ${recorded.holder} since ${recorded.since?.toISOString() ?? '?'} (backend pid ${sessionId})`;
    return `${row.application_name || 'a session'} as user ${row.usename}${row.client ? ` from ${row.client}` : ''} (backend pid ${sessionId})`;
  }
  const result = await db.raw('SELECT IS_USED_LOCK(?) AS id', [name]);
  sessionId = String(adapter.rows<{ id: unknown }>(result)[0]?.id ?? '');
  if (!sessionId || sessionId === 'null') return 'a session that just released it';
  const recorded = await ledger.runner(name).catch(() => undefined);
  if (recorded && recorded.sessionId === sessionId) return `tandem ${recorded.command} run by ${recorded.holder} since ${recorded.since?.toISOString() ?? '?'} (connection ${sessionId})`;
  return `connection ${sessionId}`;
}

/** Taken before PGlite opens its directory, by every command, since two processes must never open it together. */
export async function acquirePgliteLock(dir: string | null, options: LockOptions): Promise<RunnerLock> {
  if (!dir) return { release: async () => undefined }; // in-memory: this process is the only one
  const deadline = Date.now() + options.waitSeconds * 1000;
  let told = false;
  for (;;) {
    const holder = tryPgliteLock(dir, options.command);
    if (!holder) break;
    const text = `tandem ${holder.command} run by ${holder.user}@${holder.host} pid ${holder.pid} since ${holder.since}`;
    if (Date.now() >= deadline) throw new RefusedError(`another tandem runner has the embedded database ${dir} open: ${text}`, 'wait for it to finish, or give a longer --wait');
    if (!told) options.onWaiting?.(text);
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { release: async () => releasePgliteLock(dir) };
}


/** Whether some other session holds the runner lock right now (for status: running vs interrupted). */
export async function isRunnerActive(session: Session): Promise<boolean> {
  const { db, adapter } = session;
  if (session.target.driver === 'pglite') return false; // this process holds the directory lock
  if (adapter.dialect === 'postgres') {
    const result = await db.raw(`SELECT count(*) AS n FROM pg_locks l WHERE ${PG_LOCK_HELD} AND l.pid <> pg_backend_pid()`);
    return Number(adapter.rows<{ n: unknown }>(result)[0]?.n) > 0;
  }
  const result = await db.raw('SELECT IS_USED_LOCK(?) AS id', [await lockName(session)]);
  return adapter.rows<{ id: unknown }>(result)[0]?.id != null;
}
