import type { SqlStatement } from './split-statements.js';

export const PHASES = ['expand', 'backfill', 'contract', 'rollback'] as const;
export type Phase = (typeof PHASES)[number];

/** The forward phases in the order a migration goes through them. */
export const FORWARD_PHASES = ['expand', 'backfill', 'contract'] as const satisfies readonly Phase[];
export type ForwardPhase = (typeof FORWARD_PHASES)[number];

export interface Section {
  phase: Phase;
  /** Line of the `-- tandem:PHASE` marker (1 for a plain migration's implicit expand section). */
  line: number;
  statements: SqlStatement[];
  /** sha256 of the normalized statements: comments and spacing between statements do not count. */
  checksum: string;
}

export interface Migration {
  /** File name without its extension: unique, stable, and what the ledger keys on. */
  id: string;
  /** The human part of the id, after the leading version number. */
  name: string;
  /** The version prefix (digits before the first underscore), used for ordering checks. */
  version: string;
  /** Path as given relative to the working directory, for messages. */
  file: string;
  format: 'sql';
  /** A file without phase markers: everything runs in expand, under live traffic. */
  plain: boolean;
  sections: Partial<Record<Phase, Section>>;
}

export function statementsOf(migration: Migration, phase: Phase): SqlStatement[] {
  return migration.sections[phase]?.statements ?? [];
}
