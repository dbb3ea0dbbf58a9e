import { z } from 'zod';
import type { Severity, TargetVersions, Version } from './types.js';

const versionString = z.union([z.string().regex(/^\d+(\.\d+){0,2}$/, 'a version such as "16", "8.0.36" or "10.11"'), z.number().positive()]);

/** The `lint` section of tandem.config.json. */
export const lintConfigSchema = z
  .object({
    dialect: z.enum(['postgres', 'mysql']).optional().describe('default dialect; else from the url'),
    paths: z.array(z.string().min(1)).optional().describe('what `tandem lint` without paths lints (default: the migrations dir)'),
    exclude: z.array(z.string().min(1)).default([]).describe('glob patterns (relative paths) of files to skip, e.g. "migrations/legacy/**"'),
    rules: z.record(z.string(), z.enum(['off', 'warning', 'error'])).default({}).describe('per rule id: off, or a severity that replaces its own'),
    postgresVersion: versionString.optional().describe('target PostgreSQL major version (default 14)'),
    mysqlVersion: versionString.optional().describe('target MySQL version (default 8.0.36)'),
    mariadbVersion: versionString.optional().describe('target MariaDB version: lint for MariaDB instead of MySQL'),
    scratchUrl: z.string().min(1).optional().describe('a server where declarative migrations are compiled in throw-away databases (needed for MySQL; PostgreSQL uses embedded PGlite)'),
    docsBaseUrl: z.string().url().optional().describe('where rule pages live; default: the docs/rules shipped with tandem'),
  })
  .strict();

export type LintConfig = z.infer<typeof lintConfigSchema>;
export type RuleSetting = 'off' | Severity;

export const DEFAULT_VERSIONS = { postgres: [14], mysql: [8, 0, 36], mariadb: [10, 11] } as const;

export function parseVersion(value: string | number, what: string): Version {
  const text = String(value).trim();
  if (!/^\d+(\.\d+){0,2}$/.test(text)) throw new Error(`${what} takes a version such as 16, 8.0.36 or 10.11, got "${value}"`);
  return text.split('.').map(Number);
}

/** a >= b, comparing missing parts as 0. */
export function atLeast(version: Version | null, minimum: Version): boolean {
  if (!version) return false;
  for (let i = 0; i < Math.max(version.length, minimum.length); i++) {
    const a = version[i] ?? 0;
    const b = minimum[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

export function formatVersion(version: Version): string {
  return version.join('.');
}

export function resolveVersions(options: { postgres?: string | number | undefined; mysql?: string | number | undefined; mariadb?: string | number | undefined; mariadbScheme?: boolean }): TargetVersions {
  const postgres = options.postgres !== undefined ? parseVersion(options.postgres, '--pg-version') : DEFAULT_VERSIONS.postgres;
  if (options.mariadb !== undefined || (options.mariadbScheme && options.mysql === undefined)) {
    return { postgres, mysql: null, mariadb: options.mariadb !== undefined ? parseVersion(options.mariadb, '--mariadb-version') : DEFAULT_VERSIONS.mariadb };
  }
  return { postgres, mysql: options.mysql !== undefined ? parseVersion(options.mysql, '--mysql-version') : DEFAULT_VERSIONS.mysql, mariadb: null };
}

/** Minimal glob: `**` any path, `*` any name part, `?` one character. */
export function globMatcher(patterns: string[]): (file: string) => boolean {
  const regexps = patterns.map((pattern) => {
    let source = '';
    const p = pattern.replace(/\\/g, '/').replace(/^\.\//, '');
    for (let i = 0; i < p.length; i++) {
      const ch = p[i]!;
      if (ch === '*' && p[i + 1] === '*') {
        source += '.*';
        i++;
        if (p[i + 1] === '/') i++;
      } else if (ch === '*') source += '[^/]*';
      else if (ch === '?') source += '[^/]';
      else source += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
    return new RegExp(`^${source}$`);
  });
  return (file) => {
    const normalized = file.replace(/\\/g, '/').replace(/^\.\//, '');
    return regexps.some((re) => re.test(normalized) || re.test(normalized.split('/').pop()!));
  };
}
