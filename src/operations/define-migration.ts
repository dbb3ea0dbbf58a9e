import type { z } from 'zod';
import type { PhaseFunction } from '../migrations/model.js';
import type { OPERATIONS, OperationName } from './registry.js';

/** `{ renameColumn: { table, from, to } }`: one key, the operation's name. */
export type OperationInput = { [K in OperationName]: { [P in K]: z.input<(typeof OPERATIONS)[K]['args']> } }[OperationName];

export interface MigrationDefinition {
  /** Declarative operations, compiled per dialect into phases and shims. */
  operations?: OperationInput[];
  /** Or phase functions that receive the runner's knex (inside a transaction on PostgreSQL). */
  expand?: PhaseFunction;
  backfill?: PhaseFunction;
  contract?: PhaseFunction;
  rollback?: PhaseFunction;
}

/** Typed helper for TypeScript migrations: `export default defineMigration({ operations: [...] })`. */
export function defineMigration(definition: MigrationDefinition): MigrationDefinition {
  return definition;
}
