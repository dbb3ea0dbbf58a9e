import { setTimeout as delay } from 'node:timers/promises';
import type { Knex } from 'knex';
import { createKnex } from '../db/connect.js';
import type { Session } from '../db/session.js';
import { describeOpenTransaction } from './open-transactions.js';

/** A transaction holding a lock that a step waits for. */
export interface LockHolder {
  pid: number;
  /** pg_stat_activity.state: 'idle in transaction', 'active', … */
  state: string;
  /** How long its transaction has been open. */
  transactionMs: number;
  /** When its transaction started (as the server writes it), to tell when that transaction is over. */
  transactionStart: string;
  applicationName: string;
}

/**
 * The step waited behind a transaction that was not going to let go soon, and LockWatch cancelled
 * the wait. A lock conflict ('55P03'), so the step is retried, once `holders` have ended.
 */
export class HeldByLongTransactionError extends Error {
  readonly code = '55P03';
  /** `relation`: the table (or index) the step waited for, as PostgreSQL names it: a step of several statements fails at its first line, and this tells which one waited. */
  constructor(
    readonly holders: LockHolder[],
    readonly relation: string | null = null,
  ) {
    const first = holders[0]!;
    const who = describeOpenTransaction({ id: first.pid, who: first.applicationName, state: first.state, openMs: first.transactionMs, tables: [] }, 'postgres');
    const more = holders.length > 1 ? ` and ${holders.length - 1} more` : '';
    super(`the ${relation ? `lock on ${relation}` : 'table lock'} is held by ${who}${more}; tandem left the lock queue, so the app's queries queued behind the step went on`);
    this.name = 'HeldByLongTransactionError';
  }
}

/**
 * How often the watch looks while a step runs: soon after it starts, when a step meets a lock it
 * would queue for, then less often (a step that validates a constraint may run for seconds).
 */
const FIRST_LOOK_MS = 5;
const LOOK_EVERY_MAX_MS = 50;
/** How often the retry looks whether the holders have ended. */
const HOLDERS_GONE_EVERY_MS = 20;
/** A holder idle in its transaction this long is waiting for its app, not about to commit. */
const IDLE_HOLDER_MS = 10;

/**
 * PostgreSQL: a DDL step that waits for its table lock holds up every later query on the table
 * behind it in the lock queue, for as long as its lock_timeout on every attempt. When the lock is
 * held by a transaction that will not let go soon (idle in its transaction, or open longer than the
 * step's lock_timeout), that wait can only end in a timeout. The watch looks from a connection of
 * its own while the step runs (5 ms after it starts, then less often); when the step waits behind
 * such a transaction (pg_blocking_pids), it cancels the step, so the queue behind it drains at
 * once, and the retry waits, outside the lock queue, until that transaction has ended. MariaDB
 * gets the same from ALTER … NOWAIT; PostgreSQL's ALTER TABLE has no NOWAIT.
 *
 * Best effort: if the watch's connection fails, the step's lock_timeout still bounds each wait.
 */
export class LockWatch {
  private side: Knex | null = null;

  constructor(private readonly session: Session) {}

  /** The watch needs a second connection to a server: PostgreSQL, not PGlite. */
  static applies(session: Session): boolean {
    return session.adapter.dialect === 'postgres' && session.target.driver === 'pg';
  }

  async backendPid(trx: Knex.Transaction): Promise<number> {
    const result = await trx.raw('SELECT pg_backend_pid() AS pid');
    return Number(this.session.adapter.rows<{ pid: unknown }>(result)[0]?.pid);
  }

  /**
   * Run `step` (on the connection of backend `pid`), cancelling it if it waits for a lock behind a
   * long transaction: then it throws HeldByLongTransactionError.
   */
  async watch<T>(pid: number, lockTimeoutMs: number, step: () => Promise<T>): Promise<T> {
    let finished = false;
    let cancelledFor: LockHolder[] | null = null;
    let awaited: string | null = null;
    // The step's transaction commits only once the watch is done, and it holds its table locks
    // until then: the watch must not sleep on after the step. (It did: the commit waited out the
    // rest of a pause of up to 50 ms, the app queued behind the lock all along.)
    const stepDone = new AbortController();
    const looking = (async () => {
      for (let every = FIRST_LOOK_MS; !finished; every = Math.min(LOOK_EVERY_MAX_MS, every * 1.25)) {
        await delay(every, undefined, { signal: stepDone.signal }).catch(() => undefined);
        if (finished) return;
        // Reading the backend's state is cheap; pg_blocking_pids locks the whole lock table for a moment.
        if (!(await this.waitsForLock(pid))) continue;
        const blocking = await this.holdersBlocking(pid);
        const long = blocking.holders.filter((holder) => holder.state.startsWith('idle') || holder.transactionMs >= lockTimeoutMs);
        if (long.length > 0 && !finished) {
          cancelledFor = long;
          awaited = blocking.relation;
          await this.db().raw('SELECT pg_cancel_backend(?)', [pid]);
          return;
        }
      }
    })().catch(() => undefined);
    try {
      return await step();
    } catch (error) {
      if (cancelledFor) throw new HeldByLongTransactionError(cancelledFor, awaited);
      throw error;
    } finally {
      finished = true;
      stepDone.abort();
      // A cancel under way lands before the step's connection goes back to the pool, where it would
      // cancel someone else's query. A look under way is left to finish on its own: its answer no
      // longer matters, and waiting for it (the first look also opens the watch's connection: 20–25
      // ms on a busy server) kept the step's table locks that much longer.
      if (cancelledFor) await looking;
    }
  }

  /**
   * Open the watch's connection ahead of its first look, which would otherwise spend the first
   * watched step's opening milliseconds connecting. Best effort, not awaited.
   */
  warmUp(): void {
    void this.db()
      .raw('SELECT 1')
      .catch(() => undefined);
  }

  /** Wait, outside any lock queue, until these holders' transactions have ended, or `maxMs` passed. */
  async waitUntilEnded(holders: readonly LockHolder[], maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    while (Date.now() < until) {
      const open = await this.stillOpen(holders).catch(() => false);
      if (!open) return;
      await sleep(HOLDERS_GONE_EVERY_MS);
    }
  }

  async close(): Promise<void> {
    const side = this.side;
    this.side = null;
    await side?.destroy().catch(() => undefined);
  }

  private db(): Knex {
    this.side ??= createKnex(this.session.target, { applicationName: 'tandem lock watch' });
    return this.side;
  }

  private async waitsForLock(pid: number): Promise<boolean> {
    const result = await this.db().raw(`SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ? AND wait_event_type = 'Lock'`, [pid]);
    return Number(this.session.adapter.rows<{ n: unknown }>(result)[0]?.n) > 0;
  }

  /**
   * Transactions that the backend `pid` waits for, if it waits for a lock; the idle ones only once
   * idle a while. And the relation whose lock it waits for (null when it waits for another kind).
   */
  private async holdersBlocking(pid: number): Promise<{ holders: LockHolder[]; relation: string | null }> {
    const result = await this.db().raw(
      `SELECT b.pid, b.state, b.application_name AS app, b.xact_start::text AS started,
              extract(epoch FROM clock_timestamp() - b.xact_start) * 1000 AS xact_ms,
              extract(epoch FROM clock_timestamp() - b.state_change) * 1000 AS state_ms,
              (SELECT l.relation::regclass::text FROM pg_locks l WHERE l.pid = ? AND NOT l.granted AND l.relation IS NOT NULL LIMIT 1) AS relation
         FROM pg_stat_activity b
        WHERE b.pid = ANY (pg_blocking_pids(?)) AND b.xact_start IS NOT NULL`,
      [pid, pid],
    );
    const rows = this.session.adapter.rows<{ pid: unknown; state: string | null; app: string | null; started: string; xact_ms: unknown; state_ms: unknown; relation: string | null }>(result);
    const holders = rows
      .filter((row) => !String(row.state ?? '').startsWith('idle') || Number(row.state_ms) >= IDLE_HOLDER_MS)
      .map((row) => ({ pid: Number(row.pid), state: String(row.state ?? 'unknown'), transactionMs: Number(row.xact_ms), transactionStart: row.started, applicationName: row.app ?? '' }));
    return { holders, relation: rows[0]?.relation ?? null };
  }

  private async stillOpen(holders: readonly LockHolder[]): Promise<boolean> {
    const result = await this.db().raw(
      // Pairwise: each holder's own pid with its own transaction start (a pid that began a new
      // transaction since is not the holder any more).
      `SELECT count(*) AS n
         FROM pg_stat_activity a JOIN unnest(?::int[], ?::text[]) AS h(pid, started) ON a.pid = h.pid AND a.xact_start::text = h.started`,
      [holders.map((holder) => holder.pid), holders.map((holder) => holder.transactionStart)],
    );
    return Number(this.session.adapter.rows<{ n: unknown }>(result)[0]?.n) > 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
