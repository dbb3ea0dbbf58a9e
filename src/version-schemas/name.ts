import type { TandemConfig } from '../config/schema.js';
import type { Dialect } from '../db/url.js';
import { UsageError } from '../errors/tandem-error.js';

/** PostgreSQL cuts longer names silently, so two version schemas could end up as one. */
const MAX_BYTES = 63;

export const VERSION_SCHEMAS_MYSQL =
  '"versionSchemas" is PostgreSQL only: MySQL re-prepares statements itself when a table changes, so it needs no version schemas';

/**
 * The schema of views an app version reads through: `<base schema>_<migration id>`, e.g.
 * `public_20260101000000_widen_amount`. One definition for the runner, status, plan and scripts.
 * Throws when the name would not fit PostgreSQL's 63 bytes; `file` (the migration's) makes the
 * message point at it.
 */
export function versionSchemaName(baseSchema: string, migrationId: string, file?: string): string {
  const name = `${baseSchema}_${migrationId}`;
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_BYTES) {
    const room = MAX_BYTES - Buffer.byteLength(`${baseSchema}_`, 'utf8');
    throw new UsageError(
      `the version schema of migration ${migrationId} would be named "${name}", ${bytes} bytes long; PostgreSQL allows ${MAX_BYTES}`,
      file ? { file, line: 1 } : undefined,
      `give the migration a shorter name: its id (the file name without extension) may have at most ${room} bytes with base schema "${baseSchema}"`,
    );
  }
  return name;
}

/** The name, or null when it cannot exist (too long): for dropping whatever version schemas exist. */
export function versionSchemaNameOrNull(baseSchema: string, migrationId: string): string | null {
  const name = `${baseSchema}_${migrationId}`;
  return Buffer.byteLength(name, 'utf8') <= MAX_BYTES ? name : null;
}

/** How an app selects a version schema: views first, then the base schema for everything else (functions, sequences, types). */
export function searchPathFor(versionSchema: string, baseSchema: string): { sql: string; option: string; value: string } {
  const list = [versionSchema, baseSchema].map(quoteIfNeeded);
  return { sql: `SET search_path TO ${list.join(', ')}`, option: `options=-c search_path=${list.join(',')}`, value: list.join(', ') };
}

function quoteIfNeeded(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/** MySQL/MariaDB need no version schemas; asking for them there is a configuration mistake. */
export function assertVersionSchemasSupported(config: Pick<TandemConfig, 'versionSchemas'>, dialect: Dialect): void {
  if (config.versionSchemas && dialect !== 'postgres') {
    throw new UsageError(VERSION_SCHEMAS_MYSQL, undefined, 'remove "versionSchemas" from tandem.config.json (or from the config given to connect())');
  }
}
