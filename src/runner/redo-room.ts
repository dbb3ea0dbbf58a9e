import type { Session } from '../db/session.js';
import { isMariadb } from '../db/session.js';
import { checkpointAge } from '../backfill/redo-throttle.js';

/** How long a DDL step waits for the redo log at most: past that it runs anyway. */
const MAX_WAIT_MS = 30_000;

/**
 * MariaDB: before an ALTER TABLE that may rewrite a table (`rewrittenTable`), wait until the redo
 * log has room for it. A rebuild writes about the table's size in redo within a fraction of a
 * second (a 50 MB table: the checkpoint age went from 24.5 to 77.5 MB of its 80.8 MB maximum in
 * 0.3 s). After a throttled backfill the log sits near `redoThrottlePercent`, so a rebuild run then
 * reaches the maximum, where every write on the server, the app's too, waits for page flushing.
 * Bounded: after 30 s the step runs anyway. A small table does not wait (`redoRoomLevel`).
 * `redoThrottlePercent: 100` turns it off with the throttle.
 */
export async function waitForRedoRoom(session: Session, sql: string, onNotice: (message: string) => void): Promise<void> {
  const percent = session.config.backfill.redoThrottlePercent;
  if (session.adapter.dialect !== 'mysql' || !isMariadb(session) || percent >= 100) return;
  const table = rewrittenTable(sql);
  if (!table) return;
  const bytes = await tableBytes(session, table);
  if (bytes === null) return;
  const started = Date.now();
  let announced = false;
  for (;;) {
    const checkpoint = await checkpointAge(session);
    const startLevel = checkpoint ? redoRoomLevel(checkpoint.max, bytes, percent) : null;
    if (!checkpoint || startLevel === null || checkpoint.age <= startLevel || Date.now() - started >= MAX_WAIT_MS) return;
    if (!announced) {
      announced = true;
      onNotice(`waiting up to ${MAX_WAIT_MS / 1000} s for the InnoDB redo log to have room before rewriting ${table.name} (~${Math.round(bytes / 1024 ** 2)} MB; the log is at ${Math.round((checkpoint.age / checkpoint.max) * 100)} % of its maximum), so app writes never wait for page flushing; backfill.redoThrottlePercent sets the level`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The checkpoint age (bytes) a rewrite of `tableBytes` may start from: its redo must fit under the
 * throttle's level; for a table too large for that, a seventh of the level, the most room there will
 * be. Null for a table under 1/32 of the level: its redo cannot move the log much, and whoever
 * filled the log, waiting for a small table would only delay the deploy (up to 30 s per statement).
 */
export function redoRoomLevel(maxAge: number, tableBytes: number, percent: number): number | null {
  const level = (maxAge * percent) / 100;
  if (tableBytes * 32 <= level) return null;
  return Math.max(level - tableBytes, level / 7);
}

/**
 * The table an ALTER TABLE may rewrite, or null. ALGORITHM=INPLACE or COPY says so. Without a clause
 * the server picks INSTANT where it can, as for adding or dropping a column, a rename or a default
 * (MariaDB 10.4+), so only the clauses that usually rewrite rows or build an index count.
 */
export function rewrittenTable(sql: string): { schema: string | null; name: string } | null {
  const match = /^\s*ALTER\s+(?:ONLINE\s+)?(?:IGNORE\s+)?TABLE\s+(`(?:[^`]|``)+`|[\w$]+)(?:\s*\.\s*(`(?:[^`]|``)+`|[\w$]+))?/i.exec(sql);
  if (!match) return null;
  const clauses = sql.slice(match[0].length).replace(/`(?:[^`]|``)*`|'(?:[^'\\]|\\.|'')*'/g, '');
  const algorithm = /\bALGORITHM\s*=?\s*(\w+)/i.exec(clauses)?.[1]?.toUpperCase();
  const rewrites = algorithm
    ? algorithm === 'INPLACE' || algorithm === 'COPY'
    : /\b(MODIFY|CHANGE|FORCE|ENGINE|CONVERT|ORDER\s+BY|PARTITION\s+BY|ADD\s+(INDEX|KEY|UNIQUE|PRIMARY|FULLTEXT|SPATIAL|CONSTRAINT|FOREIGN))\b/i.test(clauses);
  if (!rewrites) return null;
  const unquote = (identifier: string) => (identifier.startsWith('`') ? identifier.slice(1, -1).replace(/``/g, '`') : identifier);
  return match[2] ? { schema: unquote(match[1]!), name: unquote(match[2]) } : { schema: null, name: unquote(match[1]!) };
}

async function tableBytes(session: Session, table: { schema: string | null; name: string }): Promise<number | null> {
  const result = await session.db.raw('SELECT DATA_LENGTH + INDEX_LENGTH AS bytes FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?', [table.schema, table.name]);
  const bytes = Number(session.adapter.rows<{ bytes: unknown }>(result)[0]?.bytes);
  return Number.isFinite(bytes) ? bytes : null;
}
