import fs from 'node:fs';
import path from 'node:path';
import type { MigrationTool } from '../types.js';

export const DECLARATIVE_EXTENSIONS = ['.json', '.yaml', '.yml', '.ts', '.mts', '.js', '.mjs'];

export interface FoundFile {
  /** Path for messages: relative to the working directory. */
  display: string;
  absolute: string;
  kind: 'sql' | 'declarative' | 'skipped';
  reason?: string;
}

/**
 * Expand the paths given on the command line: files as given, directories to their migration
 * files — *.sql at the top level (tandem, Flyway, dbmate, golang-migrate) and migration.sql one
 * level down (Prisma). Sorted by path, so migrations are read in the order they run.
 */
export function findFiles(paths: string[], options: { cwd: string; exclude: (display: string) => boolean }): FoundFile[] {
  const found = new Map<string, FoundFile>();
  const add = (absolute: string, explicit: boolean): void => {
    const display = path.relative(options.cwd, absolute) || absolute;
    if (options.exclude(display)) return;
    const base = path.basename(absolute).toLowerCase();
    const ext = path.extname(base);
    if (ext === '.sql') {
      if (base === 'structure.sql' && !explicit) found.set(absolute, { display, absolute, kind: 'skipped', reason: 'a schema dump (Rails structure.sql), not a migration' });
      else if (base.endsWith('.down.sql') && !explicit) return; // golang-migrate down files undo; only up files are linted
      else found.set(absolute, { display, absolute, kind: 'sql' });
    } else if (DECLARATIVE_EXTENSIONS.includes(ext) && /^\d/.test(base)) {
      found.set(absolute, { display, absolute, kind: 'declarative' });
    }
  };
  for (const given of paths) {
    const absolute = path.resolve(options.cwd, given);
    if (!fs.existsSync(absolute)) throw new Error(`${given}: no such file or directory`);
    const stat = fs.statSync(absolute);
    if (stat.isFile()) {
      add(absolute, true);
      continue;
    }
    for (const entry of fs.readdirSync(absolute, { withFileTypes: true })) {
      const child = path.join(absolute, entry.name);
      if (entry.isFile()) add(child, false);
      else if (entry.isDirectory() && fs.existsSync(path.join(child, 'migration.sql'))) add(path.join(child, 'migration.sql'), false);
    }
  }
  return [...found.values()].sort((a, b) => (a.absolute < b.absolute ? -1 : a.absolute > b.absolute ? 1 : 0));
}

const TANDEM_MARKER = /^\s*--\s*tandem:\s*\S+\s*$/im;
const DBMATE_UP = /^\s*--\s*migrate:up\b/im;

/** Which tool's migration the file is, from its markers and its name. */
export function detectTool(fileName: string, text: string, inTandemDir: boolean): MigrationTool {
  const base = path.basename(fileName);
  if (TANDEM_MARKER.test(text)) return 'tandem';
  if (DBMATE_UP.test(text)) return 'dbmate';
  if (inTandemDir) return 'tandem';
  if (/^[VRU]\d*(?:[._]\d+)*__.+\.sql$/i.test(base) || /^R__.+\.sql$/i.test(base)) return 'flyway';
  if (/\.up\.sql$/i.test(base)) return 'golang-migrate';
  if (base.toLowerCase() === 'migration.sql') return 'prisma';
  return 'sql';
}

export interface Region {
  /** 1-based first line of the region in the file. */
  firstLine: number;
  text: string;
  /** dbmate `-- migrate:up transaction:false`. */
  noTransaction: boolean;
}

/** dbmate: only the `-- migrate:up` section runs forward; the down section is its undo. */
export function dbmateUpRegion(text: string): Region {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const up = lines.findIndex((line) => DBMATE_UP.test(line));
  if (up < 0) return { firstLine: 1, text, noTransaction: false };
  let end = lines.findIndex((line, i) => i > up && /^\s*--\s*migrate:down\b/i.test(line));
  if (end < 0) end = lines.length;
  return {
    firstLine: up + 2,
    text: lines.slice(up + 1, end).join('\n'),
    noTransaction: /transaction\s*:\s*false/i.test(lines[up]!),
  };
}
