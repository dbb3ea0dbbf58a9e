import path from 'node:path';
import { UsageError } from '../errors/tandem-error.js';

export type Dialect = 'postgres' | 'mysql';
export type Driver = 'pg' | 'mysql' | 'pglite';

export interface ConnectionTarget {
  driver: Driver;
  dialect: Dialect;
  /** The URL as given (may hold a password: never print it, use `display`). */
  url: string;
  /** The URL with any password replaced by ***. */
  display: string;
  /** For pglite: an absolute directory, or null for an in-memory database. */
  pgliteDir: string | null;
  /** MariaDB asked for explicitly (mariadb://); a mysql:// URL may still turn out to be MariaDB. */
  mariadbScheme: boolean;
}

/** Replace the password of a URL-ish string with ***; safe on anything, including non-URLs. */
export function redactUrl(text: string): string {
  // Greedy up to the last @ of the authority: like URL parsers, a raw @ may be part of the password.
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*):[^/?#\s"'<>]*@/gi, '$1:***@');
}

/** Redact every URL password inside free text (error messages from drivers may echo a URL). */
export const redactSecrets = redactUrl;

export const DEFAULT_PGLITE_DIR = '.tandem/pglite';

export function parseConnectionUrl(url: string, cwd: string = process.cwd()): ConnectionTarget {
  const trimmed = url.trim();
  if (trimmed.startsWith('pglite:')) {
    const location = trimmed.slice('pglite:'.length).replace(/^\/\/(?=\/|\.)/, '');
    if (location === '') throw new UsageError(`connection URL "pglite:" names no location`, undefined, 'use pglite:memory or pglite:PATH, e.g. pglite:.tandem/pglite');
    const pgliteDir = location === 'memory' ? null : path.resolve(cwd, location);
    return { driver: 'pglite', dialect: 'postgres', url: trimmed, display: trimmed, pgliteDir, mariadbScheme: false };
  }
  let parsed: URL;
  try {
    parsed = new URL(trimmed);
  } catch {
    // Where a URL does not parse, its password cannot be told apart: show the scheme only.
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(trimmed)?.[0];
    throw new UsageError(
      `connection URL ${scheme ? `"${scheme}…" ` : ''}is not a valid URL`,
      undefined,
      'give postgres://USER@HOST:PORT/DB, mysql://USER@HOST:PORT/DB, mariadb://…, pglite:PATH or pglite:memory',
    );
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  const display = redactUrl(trimmed);
  if (scheme === 'postgres' || scheme === 'postgresql') {
    return { driver: 'pg', dialect: 'postgres', url: trimmed, display, pgliteDir: null, mariadbScheme: false };
  }
  if (scheme === 'mysql' || scheme === 'mariadb') {
    if (parsed.pathname.replace(/^\//, '') === '') {
      throw new UsageError(`connection URL "${display}" names no database`, undefined, 'add the database name to the URL path, e.g. mysql://root@127.0.0.1:3306/app');
    }
    return { driver: 'mysql', dialect: 'mysql', url: trimmed, display, pgliteDir: null, mariadbScheme: scheme === 'mariadb' };
  }
  throw new UsageError(
    `connection URL "${display}" has the unknown scheme "${scheme}:"`,
    undefined,
    'tandem speaks postgres://, postgresql://, mysql://, mariadb:// and pglite:',
  );
}
