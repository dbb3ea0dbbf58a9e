import { redactSecrets } from '../db/url.js';

export type AppVersion = 'old' | 'new';
export type StateName = 'S0' | 'S1' | 'S2' | 'S3' | 'R';

export const STATE_TEXT: Record<StateName, string> = {
  S0: 'S0 (before the migration)',
  S1: 'S1 (expanded)',
  S2: 'S2 (backfilled)',
  S3: 'S3 (contracted)',
  R: 'R (rolled back)',
};

export type Action = 'insert' | 'read' | 'update';

interface DbError {
  code?: string;
  errno?: number;
  column?: string;
  sqlMessage?: string;
  message?: string;
}

/** The database's own message, without the SQL text knex puts in front of it. */
export function databaseMessage(error: unknown): string {
  const err = error as DbError;
  const raw = err.sqlMessage ?? err.message ?? String(error);
  const cut = err.sqlMessage ? raw : raw.slice(raw.lastIndexOf(' - ') >= 0 ? raw.lastIndexOf(' - ') + 3 : 0);
  return redactSecrets(cut).split('\n')[0]!.trim();
}

/**
 * Say what went wrong in the terms a developer acts on: which app version, what it did to which
 * table and column, and what the schema at that state does not allow.
 */
export function explainFailure(error: unknown, context: { version: AppVersion; action: Action; table: string; state: string; knownNullable?: (column: string) => boolean }): string {
  const err = error as DbError;
  const app = `the ${context.version} app`;
  const { table, state } = context;
  const message = databaseMessage(error);
  const code = String(err.code ?? '');
  const errno = Number(err.errno ?? 0);
  const verb = { insert: 'inserts into', read: 'reads', update: 'updates' }[context.action];

  if (code === '23502' || errno === 1364 || errno === 1048) {
    const column = err.column ?? /(?:Field|Column) '([^']+)'/.exec(message)?.[1] ?? /column "([^"]+)"/.exec(message)?.[1] ?? '?';
    if (context.action === 'insert') {
      const left = context.knownNullable?.(column) ? ` (it is optional in the schema the ${context.version} app was built for)` : '';
      return `${app} inserts into ${table} without ${column}${left}, which is NOT NULL without a default at ${state}`;
    }
    return `${app} ${verb} ${table} and leaves ${column} NULL, which is NOT NULL at ${state}`;
  }
  if (code === '42703' || errno === 1054) {
    const column = /column "([^"]+)"/.exec(message)?.[1] ?? /Unknown column '([^']+)'/.exec(message)?.[1]?.split('.').pop() ?? '?';
    if (context.action === 'insert') return `${app} inserts into ${table} with ${column}, which does not exist at ${state}`;
    return `${app} ${verb} ${table}.${column}, which does not exist at ${state}`;
  }
  if (code === '42P01' || errno === 1146) return `${app} ${verb} ${table}, which does not exist at ${state}`;
  if (code === '23503' || errno === 1452) return `${app}'s insert into ${table} references a row that does not exist (foreign key) at ${state}: ${message}; give verify rows to reference with --seed`;
  if (code === '428C9' || errno === 3105) return `${app} ${verb} ${table} and writes a generated column at ${state}: ${message}`;
  if (code === '23514' || errno === 3819 || errno === 4025) return `${app}'s ${context.action} on ${table} violates a CHECK constraint at ${state}: ${message}`;
  if (code === 'P0001' || code === '45000' || errno === 1644) return `${app}'s ${context.action} on ${table} is refused by a trigger at ${state}: ${message}`;
  if (code === '42809' || errno === 1471 || errno === 1288) return `${app} ${verb} ${table}, which cannot be written at ${state} (not an updatable table): ${message}`;
  return `${app}'s ${context.action} on ${table} fails at ${state}: ${message}`;
}
