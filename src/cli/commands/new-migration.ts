import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors/tandem-error.js';
import type { Dialect } from '../../db/url.js';

/** UTC timestamp YYYYMMDDHHMMSS: sorts in creation order across time zones. */
export function timestampVersion(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function migrationTemplate(name: string, dialect: Dialect): string {
  const example = dialect === 'postgres'
    ? { add: 'ALTER TABLE users ADD COLUMN full_name text;', fill: 'UPDATE users SET full_name = name WHERE full_name IS NULL;', drop: 'ALTER TABLE users DROP COLUMN name;', undo: 'ALTER TABLE users DROP COLUMN full_name;' }
    : { add: 'ALTER TABLE users ADD COLUMN full_name VARCHAR(200) NULL, ALGORITHM=INSTANT;', fill: 'UPDATE users SET full_name = name WHERE full_name IS NULL;', drop: 'ALTER TABLE users DROP COLUMN name, ALGORITHM=INPLACE, LOCK=NONE;', undo: 'ALTER TABLE users DROP COLUMN full_name;' };
  return `-- ${name}
-- Each section runs at one step of the deploy. The old app version keeps running until contract.

-- tandem:expand
-- Pre-deploy: additive changes only, so the old app keeps working (new nullable columns, new
-- tables, indexes built concurrently, triggers that keep old and new columns in sync).
-- ${example.add}

-- tandem:backfill
-- Deploy: data moves. A single-table UPDATE here runs in keyset batches by primary key,
-- resumable after a crash.
-- ${example.fill}

-- tandem:contract
-- Post-deploy, once no old app version runs: drop what only the old version used.
-- ${example.drop}

-- tandem:rollback
-- Undo expand (and backfill); runs on \`tandem rollback\` before contract.
-- ${example.undo}
`;
}

export function runNew(name: string, options: { dir: string; dialect: Dialect; now?: Date }): string {
  const slug = name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!slug) throw new UsageError(`migration name "${name}" has no letters or digits`, undefined, 'give a name such as add_full_name');
  const dir = path.resolve(options.dir);
  if (!fs.existsSync(dir)) throw new UsageError(`migrations directory ${options.dir} does not exist`, { file: options.dir }, 'run `tandem init` first, or pass --dir');
  const existing = fs.readdirSync(dir).map((file) => /^(\d{14})/.exec(file)?.[1]).filter((v): v is string => Boolean(v)).sort();
  let version = timestampVersion(options.now ?? new Date());
  const latest = existing[existing.length - 1];
  // Two migrations made within one second, or a clock behind the last one, still sort after it.
  if (latest && version <= latest) version = String(BigInt(latest) + 1n);
  const file = path.join(dir, `${version}_${slug}.sql`);
  fs.writeFileSync(file, migrationTemplate(slug, options.dialect), { flag: 'wx' });
  return path.relative(process.cwd(), file);
}
