import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { UsageError } from '../errors/tandem-error.js';
import { jsonErrorReason, jsonSyntaxErrorOffset, positionOfJsonPath, toPosition } from './json-position.js';
import { CONFIG_FILE, configSchema, type TandemConfig } from './schema.js';
import { VERSION_SCHEMAS_MYSQL } from '../version-schemas/name.js';

export interface LoadedConfig {
  config: TandemConfig;
  /** Absolute path of the file read, or null when none exists and defaults are used. */
  file: string | null;
}

/** Read tandem.config.json (or the file given); a missing default file means all defaults. */
export function loadConfig(options: { file?: string; cwd?: string } = {}): LoadedConfig {
  const cwd = options.cwd ?? process.cwd();
  const file = path.resolve(cwd, options.file ?? CONFIG_FILE);
  if (!fs.existsSync(file)) {
    if (options.file) throw new UsageError(`config file ${options.file} does not exist`, { file: options.file }, 'create it with `tandem init` or fix the --config path');
    return { config: configSchema.parse({}), file: null };
  }
  const display = path.relative(cwd, file) || file;
  const text = fs.readFileSync(file, 'utf8');
  return { config: parseConfigText(text, display), file };
}

export function parseConfigText(text: string, displayName: string): TandemConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const offset = /position (\d+)/.exec(message)?.[1];
    const place = toPosition(text, offset !== undefined ? Number(offset) : jsonSyntaxErrorOffset(text));
    throw new UsageError(`${displayName} is not valid JSON: ${jsonErrorReason(message)}`, { file: displayName, ...place }, 'fix the JSON syntax at that place');
  }
  const result = configSchema.safeParse(raw);
  if (result.success) {
    // Caught here when the file's own URL says MySQL; otherwise when the session opens (src/db/session.ts).
    if (result.data.versionSchemas && result.data.url && /^(mysql|mariadb):/i.test(result.data.url.trim())) {
      const place = positionOfJsonPath(text, ['versionSchemas']) ?? { line: 1, column: 1 };
      throw new UsageError(`${displayName}: field "versionSchemas": ${VERSION_SCHEMAS_MYSQL}`, { file: displayName, ...place }, 'remove "versionSchemas", or set it to false');
    }
    return result.data;
  }
  throw configIssueError(result.error.issues, text, displayName);
}

function configIssueError(issues: z.core.$ZodIssue[], text: string, displayName: string): UsageError {
  const first = issues[0]!;
  const fieldPath = [...first.path, ...('keys' in first && Array.isArray(first.keys) ? [first.keys[0] as string] : [])] as Array<string | number>;
  const field = fieldPath.join('.') || '(top level)';
  const place = positionOfJsonPath(text, fieldPath) ?? { line: 1, column: 1 };
  const known = Object.keys(configSchema.shape).filter((key) => key !== '$schema').join(', ');
  const fix =
    first.code === 'unrecognized_keys'
      ? `remove or rename "${field}"; known top-level fields: ${known}`
      : `set "${field}" to a valid value (${first.message})`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return new UsageError(`${displayName}: field "${field}": ${first.message}${more}`, { file: displayName, ...place }, fix);
}
