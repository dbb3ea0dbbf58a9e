import type { Session } from '../db/session.js';

/**
 * A failed or killed CREATE INDEX CONCURRENTLY leaves an INVALID index behind: it slows every write
 * and blocks a rerun ("already exists"). The runner drops such leftovers before and after a build.
 */
const CONCURRENT_INDEX = /^create (unique )?index concurrently (if not exists )?((?:"(?:[^"]|"")+"|[\w$]+)(?:\.(?:"(?:[^"]|"")+"|[\w$]+))?) on\b/i;

export function isConcurrentIndexBuild(normalizedSql: string): boolean {
  return /^create (unique )?index concurrently\b/i.test(normalizedSql);
}

export async function invalidIndexes(session: Session): Promise<Set<string>> {
  const result = await session.db.raw(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid`,
  );
  return new Set(session.adapter.rows<{ name: string }>(result).map((row) => row.name));
}

/** Before a build: an INVALID index of the same name is a leftover of an earlier failed attempt. */
export async function dropLeftoverOf(session: Session, normalizedSql: string): Promise<string | null> {
  const name = CONCURRENT_INDEX.exec(normalizedSql)?.[3];
  if (!name) return null;
  const result = await session.db.raw(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT i.indisvalid AND c.oid = to_regclass(?)`,
    [name],
  );
  const leftover = session.adapter.rows<{ name: string }>(result)[0]?.name;
  if (!leftover) return null;
  await session.db.raw(`DROP INDEX CONCURRENTLY IF EXISTS ${leftover}`);
  return leftover;
}

/** After a failed build: drop every INVALID index that was not there before it. */
export async function dropNewInvalid(session: Session, before: Set<string>): Promise<string[]> {
  const dropped: string[] = [];
  for (const name of await invalidIndexes(session)) {
    if (before.has(name)) continue;
    await session.db.raw(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
    dropped.push(name);
  }
  return dropped;
}
