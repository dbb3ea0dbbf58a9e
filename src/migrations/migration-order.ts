/**
 * The order migrations run in. A file name starts with its version: tandem's own UTC timestamp
 * (`20261127120000_add_email`), any number (`7_add_email`, `0007-add-email`), or Flyway's
 * `V1_2__add_email` / `V1.2__add_email` (version 1.2). Versions compare as numbers, part by part,
 * so `2_x` runs before `10_x` and `V2__x` before `V10__x`, where text order would put 10 first and
 * run them out of order on a fresh database. Names without a version come after every versioned
 * one, in text order.
 */

const TANDEM_VERSION = /^(\d+)[_-]?(.*)$/;
const FLYWAY_VERSION = /^V(\d+(?:[._]\d+)*)__(.+)$/;

/** Split `20261127120000_rename_user_name` (or `V1_2__rename`) into its version and its name. */
export function idParts(id: string): { version: string; name: string } {
  const flyway = FLYWAY_VERSION.exec(id);
  if (flyway) return { version: flyway[1]!.replaceAll('_', '.'), name: flyway[2]! };
  const match = TANDEM_VERSION.exec(id);
  return match ? { version: match[1]!, name: match[2] || id } : { version: id, name: id };
}

/** The version's numbers (`1.2` → [1, 2]); null for an id without a version. */
function versionNumbers(id: string): bigint[] | null {
  const { version } = idParts(id);
  return /^\d+(\.\d+)*$/.test(version) ? version.split('.').map((part) => BigInt(part)) : null;
}

/**
 * The version as a key that equal versions share however they are written (`0007` and `7`, `1_2`
 * and `1.2`), for finding a version used twice; null for an id without a version.
 */
export function versionKey(id: string): string | null {
  return versionNumbers(id)?.join('.') ?? null;
}

/** A version as given on its own (`50`, `V50`, `1.2`, `1_2`), as the key versionKey gives the ids that have it; null when it is not one. */
export function bareVersionKey(text: string): string | null {
  const match = /^V?(\d+(?:[._]\d+)*)$/.exec(text);
  return match ? match[1]!.split(/[._]/).map((part) => BigInt(part).toString()).join('.') : null;
}

/** Negative when migration `a` runs before `b`, positive after, 0 for the same id. */
export function compareMigrationIds(a: string, b: string): number {
  const left = versionNumbers(a);
  const right = versionNumbers(b);
  if (left && !right) return -1;
  if (!left && right) return 1;
  if (left && right) {
    for (let i = 0; i < Math.min(left.length, right.length); i++) {
      if (left[i] !== right[i]) return left[i]! < right[i]! ? -1 : 1;
    }
    // 1 before 1.1; the same version written two ways falls through to the text.
    if (left.length !== right.length) return left.length - right.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}
