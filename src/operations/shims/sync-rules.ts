import type { UnsetMarker } from '../mysql-unset-marker.js';

/**
 * What a dual-write shim keeps in sync while both app versions run. Expressions use bare column
 * names of the table; the trigger makes each column's incoming value available under its name.
 *
 * Direction, without any app change: on INSERT, a value in the new column means the writer knows
 * the new schema; on UPDATE, whichever column the statement changed wins. An app may also say who it
 * is: PostgreSQL `SET tandem.role = 'old' | 'new'`, MySQL `SET @tandem_role = 'old' | 'new'`.
 * tandem's own backfill batches run with the role `backfill`, which the shims leave alone, so a
 * backfill that fills the new column never writes back into the old one.
 */
export type SyncRule =
  | {
      kind: 'twin';
      /** The column the old app version writes. */
      oldColumn: string;
      /** The column the new app version writes. */
      newColumn: string;
      /** New value from the old version's columns. */
      up: string;
      /** Old value from the new version's columns. */
      down: string;
      /**
       * In `down`, the bare name `column` stands for the new column's value (of `type`): a type
       * change keeps the column's name, so its `down` converts "the column" back, not the old value.
       */
      downScope?: { column: string; type: string };
      /**
       * MySQL: the new column is NOT NULL with this value as its DEFAULT while the shim runs, so on
       * INSERT a new column holding it counts as not written (NULL otherwise plays that part): an
       * unset marker (mysql-unset-marker.ts) where the new app writes the column, or a type change's
       * placeholder as a plain value.
       */
      unset?: UnsetMarker;
    }
  | {
      kind: 'fill';
      /** A column the old version does not know; filled when a write leaves it NULL. */
      column: string;
      expression: string;
      /**
       * MySQL: the column is NOT NULL with this marker as its DEFAULT while the shim runs, so a write
       * that leaves it holding the marker is filled instead (unless the writer's role is 'new').
       */
      unset?: UnsetMarker;
    }
  | {
      kind: 'copy';
      /** A column set from the expression on every write, one way (a twin while it is swapped in). */
      column: string;
      expression: string;
    };

export interface ShimSpec {
  table: string;
  /** Trigger (and PostgreSQL function) base name, unique per operation. */
  name: string;
  /** Every column of the table with its type, so expressions can use bare names. */
  columns: Array<{ name: string; type: string }>;
  rules: SyncRule[];
}
