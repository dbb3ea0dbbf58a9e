import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * PGlite keeps its data directory open in one process only: a second process opening the same
 * directory would corrupt it. So an embedded database is guarded by a lock file beside it, holding
 * who owns it; a lock whose process is gone is stale and is taken over.
 */
export interface PgliteLockHolder {
  pid: number;
  host: string;
  user: string;
  command: string;
  since: string;
}

export function pgliteLockFile(dir: string): string {
  return `${dir}.lock`;
}

export function readPgliteLock(dir: string): PgliteLockHolder | null {
  try {
    return JSON.parse(fs.readFileSync(pgliteLockFile(dir), 'utf8')) as PgliteLockHolder;
  } catch {
    return null;
  }
}

function isAlive(holder: PgliteLockHolder): boolean {
  if (holder.host !== os.hostname()) return true; // cannot tell: assume it is
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Try once to take the lock; returns the live holder when someone else has it. */
export function tryPgliteLock(dir: string, command: string): PgliteLockHolder | null {
  const file = pgliteLockFile(dir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const me: PgliteLockHolder = { pid: process.pid, host: os.hostname(), user: os.userInfo().username, command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
      return null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readPgliteLock(dir);
      if (holder && holder.pid === process.pid && holder.host === me.host) return null;
      if (holder && isAlive(holder)) return holder;
      fs.rmSync(file, { force: true }); // stale: its process died
    }
  }
  return readPgliteLock(dir);
}

export function releasePgliteLock(dir: string): void {
  const holder = readPgliteLock(dir);
  if (holder && holder.pid === process.pid && holder.host === os.hostname()) fs.rmSync(pgliteLockFile(dir), { force: true });
}
