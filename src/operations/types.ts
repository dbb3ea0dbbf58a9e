import type { z } from 'zod';
import type { DialectAdapter } from '../db/dialect-adapter.js';
import type { Dialect } from '../db/url.js';
import type { SchemaInspector } from './inspect.js';

/**
 * A statement an operation generates: plain SQL, or a query that must return no rows (the phase
 * fails with `assertEmpty` as its message otherwise), for checks MySQL cannot express as DDL.
 */
export type CompiledStatement = string | { sql: string; assertEmpty: string };

/** The SQL an operation contributes to each phase, in order. Rollback undoes expand (and backfill). */
export interface PhaseSql {
  expand: CompiledStatement[];
  backfill: CompiledStatement[];
  contract: CompiledStatement[];
  rollback: CompiledStatement[];
  /** How the new app version's view of the schema differs from the tables after expand (version schemas, PostgreSQL). */
  views?: ViewAdjustment[];
  /** The operation replaces this whole table by a copy (mysql-table-copy.ts): no other operation of the migration may name it. */
  copiesTable?: string;
}

/**
 * What a version schema's views show instead of a table as expand leaves it, so the new app sees,
 * from expand on, the shape contract will give the table (src/version-schemas/). Each adjustment
 * must keep the views clear of what contract drops: that is why they survive a declarative contract.
 */
export type ViewAdjustment =
  /** A type change's twin, under the column's name and in its place (the twin is not shown at its own). */
  | { kind: 'replaceColumn'; table: string; column: string; by: string }
  /** A column the new version no longer has (dropped, or renamed into a twin that is shown). */
  | { kind: 'hideColumn'; table: string; column: string }
  /** A column under a new name: the view shows `from AS to` until contract renames the column itself. */
  | { kind: 'renameColumn'; table: string; from: string; to: string }
  /** The table's view takes the new name; none under the old one. */
  | { kind: 'renameTable'; from: string; to: string }
  /** No view for the table. */
  | { kind: 'dropTable'; table: string };

export interface OperationContext {
  dialect: Dialect;
  adapter: DialectAdapter;
  /** True on MariaDB (it differs from MySQL in INSTANT/INPLACE support and syntax). */
  mariadb: boolean;
  migrationId: string;
  /**
   * PostgreSQL with `versionSchemas: true`: the new app reads and writes through its version
   * schema's views, so a change the views can express (a rename) needs nothing in the table until contract.
   */
  versionSchemas: boolean;
  /** Position of the operation in its migration, for unique shim names. */
  index: number;
  /** Facts about the live schema (column types, keys), read when the migration is compiled. */
  inspect: SchemaInspector;
  /** A short, stable, unique name for this operation's objects: `tandem_<hash>_<suffix>`. */
  objectName(suffix: string): string;
  quote(name: string): string;
}

/**
 * One declarative operation: its argument schema (zod validates every file), a check against the
 * live schema, and the SQL of each phase for the context's dialect.
 */
export interface Operation<A> {
  name: string;
  /** One sentence for docs and errors. */
  summary: string;
  args: z.ZodType<A>;
  /** Throws an Error naming the problem (the table does not exist, …); the loader adds file and operation index. */
  validate(args: A, context: OperationContext): Promise<void>;
  compile(args: A, context: OperationContext): Promise<PhaseSql>;
}

export const emptyPhases = (): PhaseSql => ({ expand: [], backfill: [], contract: [], rollback: [] });
