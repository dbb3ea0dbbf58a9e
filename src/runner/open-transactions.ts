import type { Session } from '../db/session.js';

/**
 * A transaction open on the server when a step ran out of lock retries: who may hold the lock it
 * waited for. Read after the failure, so it is a suspect, not proof: the lock's holder may have
 * ended since, and a hot table's lock may have been busy with a stream of short transactions.
 */
export interface OpenTransaction {
  /** PostgreSQL backend pid, MySQL/MariaDB thread (connection) id. */
  id: number;
  /** application_name (PostgreSQL), user@host (MySQL). */
  who: string;
  /** 'idle in transaction', 'active' (PostgreSQL); the thread's command: 'Sleep', 'Query' (MySQL). */
  state: string;
  openMs: number;
  /** Tables it holds locks on (PostgreSQL; MySQL does not say which). */
  tables: string[];
}

/** The open transactions tandem can see, and how many sessions in the database it cannot (PostgreSQL, a role without pg_read_all_stats). */
export interface OpenTransactions {
  transactions: OpenTransaction[];
  hidden: number;
}

/** How many suspects a message names. */
const LIST_AT_MOST = 3;

/**
 * Transactions open at least `minAgeMs` on the target database, oldest first, other than tandem's
 * own: the caller passes how long its step has met the lock, so these were open all that time.
 * Best effort: null when they cannot be read (PGlite serves one connection; MySQL's list needs the
 * PROCESS privilege).
 */
export async function openTransactions(session: Session, minAgeMs: number): Promise<OpenTransactions | null> {
  if (session.target.driver === 'pglite') return null;
  try {
    return session.adapter.dialect === 'postgres' ? await postgresOpen(session, minAgeMs) : { transactions: await mysqlOpen(session, minAgeMs), hidden: 0 };
  } catch {
    return null;
  }
}

async function postgresOpen({ db, adapter }: Session, minAgeMs: number): Promise<OpenTransactions> {
  // Tables only (not indexes, not the catalog): the ones a migration's statement may wait for.
  const result = await db.raw(
    `SELECT a.pid, a.application_name AS app, a.state,
            extract(epoch FROM clock_timestamp() - a.xact_start) * 1000 AS open_ms,
            ARRAY(SELECT DISTINCT c.oid::regclass::text
                    FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                   WHERE l.pid = a.pid AND l.granted AND c.relkind IN ('r', 'p', 'm')
                     AND c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
                   ORDER BY 1) AS tables
       FROM pg_stat_activity a
      WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
        AND a.application_name NOT LIKE 'tandem%'
        AND a.xact_start <= clock_timestamp() - make_interval(secs => ?)
      ORDER BY a.xact_start
      LIMIT ${LIST_AT_MOST + 1}`,
    [minAgeMs / 1000],
  );
  const transactions = adapter.rows<{ pid: unknown; app: string | null; state: string | null; open_ms: unknown; tables: string[] | null }>(result).map((row) => ({
    id: Number(row.pid),
    who: row.app ?? '',
    state: row.state ?? 'unknown',
    openMs: Number(row.open_ms),
    tables: row.tables ?? [],
  }));
  // Another role's session, to a role without pg_read_all_stats: no state, no xact_start, no backend_type.
  const hidden = await db.raw(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND backend_type IS NULL`);
  return { transactions, hidden: Number(adapter.rows<{ n: unknown }>(hidden)[0]?.n ?? 0) };
}

async function mysqlOpen({ db, adapter }: Session, minAgeMs: number): Promise<OpenTransaction[]> {
  // INNODB_TRX lists every started InnoDB transaction, a read-only one too (which holds the metadata
  // locks of the tables it read); trx_started has whole seconds, so the age is compared in whole seconds.
  const result = await db.raw(
    `SELECT t.trx_mysql_thread_id AS id, p.USER AS user, p.HOST AS host, p.COMMAND AS command,
            TIMESTAMPDIFF(MICROSECOND, t.trx_started, NOW(6)) / 1000 AS open_ms
       FROM information_schema.INNODB_TRX t LEFT JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id
      WHERE t.trx_mysql_thread_id <> CONNECTION_ID() AND t.trx_started <= NOW() - INTERVAL ${Math.floor(minAgeMs / 1000)} SECOND
      ORDER BY t.trx_started
      LIMIT ${LIST_AT_MOST + 1}`,
  );
  return adapter.rows<{ id: unknown; user: string | null; host: string | null; command: string | null; open_ms: unknown }>(result).map((row) => ({
    id: Number(row.id),
    // The host without its port: the port changes with every connection and says nothing.
    who: row.user ? `${row.user}@${String(row.host ?? '').replace(/:\d+$/, '')}` : '',
    state: row.command ?? 'unknown',
    openMs: Number(row.open_ms),
    tables: [],
  }));
}

/** "pid 4711 (psql), idle in transaction, its transaction open for 45.0 s, holding locks on accounts" */
export function describeOpenTransaction(transaction: OpenTransaction, dialect: Session['adapter']['dialect']): string {
  const name = `${sessionName(transaction.id, dialect)}${transaction.who ? ` (${transaction.who})` : ''}`;
  const tables = transaction.tables.length > 0 ? `, holding locks on ${transaction.tables.join(', ')}` : '';
  return `${name}, ${transaction.state}, its transaction open for ${(transaction.openMs / 1000).toFixed(1)} s${tables}`;
}

/**
 * "end the transaction holding the lock, or wait until it ends (pid 4711: SELECT
 * pg_terminate_backend(4711) ends it), then rerun `tandem expand`"
 */
export function endOrWaitFix(ids: readonly number[], dialect: Session['adapter']['dialect'], phase: string): string {
  const ends = ids.map((id) => `${sessionName(id, dialect)}: ${dialect === 'postgres' ? `SELECT pg_terminate_backend(${id})` : `KILL ${id}`} ends it`);
  return `end the transaction holding the lock, or wait until it ends (${ends.join('; ')}), then rerun \`tandem ${phase}\``;
}

/**
 * What a phase that ran out of lock retries reports: the open transactions (the message, which the
 * ledger keeps for `tandem status`) and what to do (the fix).
 */
export function lockRetriesExhausted(
  open: OpenTransactions | null,
  dialect: Session['adapter']['dialect'],
  phase: string,
  attempts: number,
): { message: string; fix: string } {
  const patience = 'more patience per step: retries.count, retries.maxDelayMs';
  const held = `another session held a lock the step needs through all ${attempts} attempts`;
  const hidden = open?.hidden ?? 0;
  const unseen = hidden > 0 ? `; tandem's role cannot see ${hidden} other session(s) in this database, which may hold it` : '';
  if (open === null || (open.transactions.length === 0 && hidden > 0)) {
    const look =
      dialect === 'postgres'
        ? `pg_stat_activity${hidden > 0 ? ' as a role that sees every session (a superuser, or a member of pg_read_all_stats)' : ''} (pg_blocking_pids shows who blocks whom)`
        : 'information_schema.INNODB_TRX and SHOW PROCESSLIST (they need the PROCESS privilege)';
    return {
      message: `${held}${unseen}`,
      fix: `find the long transaction in ${look}, end it or wait until it ends, then rerun \`tandem ${phase}\`; ${patience}`,
    };
  }
  const { transactions } = open;
  if (transactions.length === 0) {
    return {
      message: `${held}; no transaction is open that long now, so short ones kept the lock busy`,
      fix: `rerun \`tandem ${phase}\` when the table is less busy; ${patience}`,
    };
  }
  const named = transactions.slice(0, LIST_AT_MOST);
  const more = transactions.length > LIST_AT_MOST ? ' and more' : '';
  return {
    message: `${held}; open transactions now: ${named.map((t) => describeOpenTransaction(t, dialect)).join('; ')}${more}${unseen}`,
    fix: `${endOrWaitFix(named.map((t) => t.id), dialect, phase)}; ${patience}`,
  };
}

/** "pid 4711" (PostgreSQL backend), "thread 42" (MySQL/MariaDB connection). */
function sessionName(id: number, dialect: Session['adapter']['dialect']): string {
  return `${dialect === 'postgres' ? 'pid' : 'thread'} ${id}`;
}
