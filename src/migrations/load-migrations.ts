import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors/tandem-error.js';
import type { Migration } from './model.js';
import { DECLARATIVE_EXTENSIONS, loadDeclarativeMigration } from './load-declarative.js';
import { parseSqlMigration } from './parse-sql-migration.js';
import type { SqlDialect } from './split-statements.js';
import { foreignScript } from './foreign-scripts.js';
import { compareMigrationIds, idParts, versionKey } from './migration-order.js';

/**
 * Read every migration file of a directory, in the order they run (by version, migration-order.ts).
 * Files of other kinds (README.md, probes/ folders) are left alone.
 */
export function loadMigrations(dir: string, dialect: SqlDialect, cwd: string = process.cwd()): Migration[] {
  const absolute = path.resolve(cwd, dir);
  if (!fs.existsSync(absolute) || !fs.statSync(absolute).isDirectory()) {
    throw new UsageError(`migrations directory ${dir} does not exist`, { file: dir }, 'run `tandem init`, or point --dir (or "dir" in tandem.config.json) at your migrations');
  }
  const migrations: Migration[] = [];
  const byVersion = new Map<string, string>();
  for (const fileName of migrationFileNames(absolute)) {
    const id = fileName.slice(0, -path.extname(fileName).length);
    const display = path.relative(cwd, path.join(absolute, fileName)) || fileName;
    const foreign = foreignScript(id);
    if (foreign) throw new UsageError(`${fileName} is ${foreign.what}, not a migration tandem can run`, { file: display, line: 1 }, foreign.fix);
    const version = versionKey(id);
    const clash = version === null ? undefined : byVersion.get(version);
    if (clash) {
      throw new UsageError(`migration version ${idParts(id).version} is used twice: ${clash} and ${fileName}`, { file: display, line: 1 }, 'give one of them a new version (tandem new NAME makes a fresh timestamp)');
    }
    if (version !== null) byVersion.set(version, fileName);
    migrations.push(loadMigrationFile(path.join(absolute, fileName), dialect, cwd));
  }
  return migrations;
}

/** The migration files of a directory (absolute path), in the order tandem runs them. */
export function migrationFileNames(directory: string): string[] {
  const id = (fileName: string) => fileName.slice(0, -path.extname(fileName).length);
  return fs
    .readdirSync(directory, { withFileTypes: true })
    .filter((entry) => entry.isFile() && isMigrationFile(entry.name))
    .map((entry) => entry.name)
    .sort((a, b) => compareMigrationIds(id(a), id(b)) || (a < b ? -1 : a > b ? 1 : 0));
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
