/**
 * What a type change or a rename must carry from a column to the new column that replaces it (the
 * twin, or the column under its new name). Contract drops the old column, and with it every index,
 * key and constraint on it (MySQL removes the column from a composite index, which changes what the
 * index means), so each gets a copy on the new column first, which takes the original's name once
 * the old column is gone. What cannot be carried safely makes the operation refuse, naming it.
 */
export interface CarriedDependents {
  /**
   * Expand, clauses of the ALTER that adds the twin: the column's own settings (PostgreSQL: its
   * statistics target, n_distinct, storage and compression), so that the twin's values are stored and
   * its statistics gathered as the column's were.
   */
  twinClauses: string[];
  /**
   * End of backfill, before the new app is deployed: the twin's copies of the column's indexes, built
   * without blocking writes (and on PostgreSQL of its extended statistics objects, which ANALYZE fills).
   */
  buildCopies: string[];
  /** Contract, first: constraints on the twin, added without checking the rows (PostgreSQL). */
  addConstraints: string[];
  /** Contract, then: their scans, which let the app read and write. */
  validateConstraints: string[];
  /** Contract, in the swap's step before the old column is dropped: let go of what would go with it (PostgreSQL: other tables' foreign keys on it, its sequence). */
  beforeDrop: string[];
  /** Contract, in the swap's step once the old column is gone: the copies take the originals' names, other tables' foreign keys come back unchecked. */
  afterSwap: string[];
  /** Contract, last: the scans of the foreign keys that came back, each in a transaction of its own while the app reads and writes. */
  validateAfterSwap: string[];
  /** MySQL: clauses for the ALTER that drops the old column (drop the originals, rename the copies). */
  dropColumnClauses: string[];
  /** Rollback, before the twin is dropped (MariaDB refuses to drop a column a composite copy contains; MySQL 8 would trim the copy). */
  rollback: string[];
  /**
   * PostgreSQL servers that keep NOT NULL as a named constraint (PGlite, PostgreSQL 18): SET NOT NULL
   * names the twin's after the twin, and this gives it the column's name after a type change's swap.
   */
  renameNotNull: string | null;
}

export const nothingToCarry = (): CarriedDependents => ({ twinClauses: [], buildCopies: [], addConstraints: [], validateConstraints: [], beforeDrop: [], afterSwap: [], validateAfterSwap: [], dropColumnClauses: [], rollback: [], renameNotNull: null });

/** The columns involved: the one contract drops, the one that replaces it, and its name at the end. */
export interface Replacement {
  table: string;
  column: string;
  /** The twin of a type change, or the column under its new name. */
  by: string;
  /** The column's name after contract: `column` for a type change (the twin takes it), `by` for a rename. */
  finalName: string;
  /** A type change's new type (its sequence may need to grow with it). */
  type?: string;
  /** A type change's nullability at the end (an identity column must stay NOT NULL). */
  nullable?: boolean;
}

/**
 * Two columns of one index or constraint replaced by one migration: each operation's contract would
 * drop the other's copy with its own old column. `earlier`: the columns this migration replaced before.
 */
export function refuseSharedWithEarlier(what: string, columns: string[], replacement: Replacement, earlier: string[]): void {
  const shared = columns.find((column) => column !== replacement.column && earlier.includes(column));
  if (shared === undefined) return;
  throw new Error(`${what} is on both ${replacement.table}.${replacement.column} and ${replacement.table}.${shared}, which an earlier operation of this migration replaces too; each contract would drop the other's copy: change one of the two columns in a later migration`);
}

/**
 * Contract's constraint steps: NOT NULL's CHECK and the carried constraints are added unchecked in one
 * transaction, then each is validated (on PostgreSQL each VALIDATE starts a transaction of its own),
 * then the rest of NOT NULL (`setNotNull`'s statements, in its order; none for a nullable column).
 */
export function constraintSteps(setNotNull: string[], carried: CarriedDependents): string[] {
  const [addCheck, validateCheck, ...rest] = setNotNull;
  return [...(addCheck ? [addCheck] : []), ...carried.addConstraints, ...(validateCheck ? [validateCheck] : []), ...carried.validateConstraints, ...rest];
}
