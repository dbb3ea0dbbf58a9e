import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors/tandem-error.js';
import type { Migration } from './model.js';
import { DECLARATIVE_EXTENSIONS, loadDeclarativeMigration } from './load-declarative.js';
import { parseSqlMigration } from './parse-sql-migration.js';
import type { SqlDialect } from './split-statements.js';

const VERSION_PREFIX = /^(\d+)[_-]?(.*)$/;

/** Split `20261127120000_rename_user_name` into its version and its name. */
export function idParts(id: string): { version: string; name: string } {
  const match = VERSION_PREFIX.exec(id);
  return match ? { version: match[1]!, name: match[2] || id } : { version: id, name: id };
}

/**
 * Read every migration file of a directory, ordered by file name. Files of other kinds (README.md,
 * probes/ folders) are left alone.
 */
export function loadMigrations(dir: string, dialect: SqlDialect, cwd: string = process.cwd()): Migration[] {
  const absolute = path.resolve(cwd, dir);
  if (!fs.existsSync(absolute) || !fs.statSync(absolute).isDirectory()) {
    throw new UsageError(`migrations directory ${dir} does not exist`, { file: dir }, 'run `tandem init`, or point --dir (or "dir" in tandem.config.json) at your migrations');
  }
  const migrations: Migration[] = [];
  const byVersion = new Map<string, string>();
  for (const fileName of migrationFileNames(absolute)) {
    const { version } = idParts(fileName.slice(0, -path.extname(fileName).length));
    const clash = byVersion.get(version);
    if (clash && /^\d+$/.test(version)) {
      const display = path.relative(cwd, path.join(absolute, fileName)) || fileName;
      throw new UsageError(`migration version ${version} is used twice: ${clash} and ${fileName}`, { file: display, line: 1 }, 'give one of them a new version (tandem new NAME makes a fresh timestamp)');
    }
    byVersion.set(version, fileName);
    migrations.push(loadMigrationFile(path.join(absolute, fileName), dialect, cwd));
  }
  return migrations;
}

/** The migration files of a directory (absolute path), by name: the order tandem runs them in. */
export function migrationFileNames(directory: string): string[] {
  return fs
    .readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isFile() && isMigrationFile(entry.name))
    .map((entry) => entry.name)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Read one migration file (SQL sections, or a declarative JSON, YAML or TypeScript file). */
export function loadMigrationFile(absolute: string, dialect: SqlDialect, cwd: string = process.cwd()): Migration {
  const fileName = path.basename(absolute);
  const extension = path.extname(fileName);
  const id = fileName.slice(0, -extension.length);
  const display = path.relative(cwd, absolute) || fileName;
  const { version, name } = idParts(id);
  if (extension.toLowerCase() === '.sql') return parseSqlMigration(fs.readFileSync(absolute, 'utf8'), { file: display, id, name, version, dialect });
  return loadDeclarativeMigration(absolute, { file: display, id, name, version });
}

/** SQL files and declarative migrations (JSON, YAML, TypeScript); not type declarations or other files. */
function isMigrationFile(name: string): boolean {
  const lower = name.toLowerCase();
  if (lower.endsWith('.d.ts')) return false;
  return lower.endsWith('.sql') || DECLARATIVE_EXTENSIONS.some((extension) => lower.endsWith(extension));
}
