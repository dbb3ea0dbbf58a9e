import type { Session } from '../db/session.js';
import type { Migration } from '../migrations/model.js';
import type { CompiledMigration } from '../operations/compile.js';
import type { ViewAdjustment } from '../operations/types.js';
import type { Ledger, LedgerRow } from '../runner/ledger.js';
import type { Reporter } from '../runner/reporter.js';
import type { PhaseExtras } from '../runner/run-phase.js';
import { searchPathFor, versionSchemaName, versionSchemaNameOrNull } from './name.js';
import { baseSchemaOf, createVersionSchema, detachViews, dropVersionSchemas, existingSchemas } from './version-schemas.js';
import { compareMigrationIds } from '../migrations/migration-order.js';

/**
 * When version schemas are made and dropped, for the runner:
 *
 * - expand of m (SQL or declarative) ends by creating m's schema, its views adjusted by the
 *   in-flight migrations before m and by m itself;
 * - contract of m first drops the schemas of earlier migrations (their app is retired). m's own
 *   views survive a declarative contract (their adjustments keep them clear of what it drops); a
 *   contract that may drop anything (SQL, a `sql` operation, phase functions) drops the views of m
 *   and of later schemas in each of its transactions and builds them again after its statements;
 * - rollback of m first drops m's schema (its views read the twins rollback drops).
 *
 * Creating needs `versionSchemas: true`; dropping happens on PostgreSQL whenever such schemas
 * exist, so turning the setting off never leaves views that block a contract.
 */
export class VersionSchemaLifecycle {
  private base: string | undefined;

  constructor(
    private readonly session: Session,
    private readonly migrations: Migration[],
    private readonly ledger: Ledger,
    private readonly reporter: Reporter,
  ) {}

  get creates(): boolean {
    return this.session.config.versionSchemas && this.session.adapter.dialect === 'postgres';
  }

  private get postgres(): boolean {
    return this.session.adapter.dialect === 'postgres';
  }

  async baseSchema(): Promise<string> {
    return (this.base ??= await baseSchemaOf(this.session));
  }

  /** Before expand runs anything: every migration about to expand must have a schema name that fits. */
  async checkNames(migrations: Migration[]): Promise<void> {
    if (!this.creates) return;
    const base = await this.baseSchema();
    for (const migration of migrations) versionSchemaName(base, migration.id, migration.file);
  }

  expandExtras(migration: Migration): PhaseExtras {
    if (!this.creates) return {};
    return {
      finish: async () => {
        const base = await this.baseSchema();
        const schema = versionSchemaName(base, migration.id, migration.file);
        const adjustments = await this.adjustmentsFor(migration);
        try {
          const views = await createVersionSchema(this.session, schema, base, adjustments, (notice) => this.reporter.retry(migration.id, `version schema ${schema}`, notice));
          this.reporter.info(`${migration.id}: version schema ${schema} (${views} view${views === 1 ? '' : 's'}); the new app version uses it with ${searchPathFor(schema, base).sql}`);
        } catch (error) {
          if (error instanceof Error) error.message = `creating version schema ${schema}: ${error.message}`;
          throw error;
        }
      },
    };
  }

  /** Before contract of m: drop the earlier schemas; a contract that may drop anything gets its views rebuilt around each transaction. */
  async contractExtras(migration: Migration): Promise<PhaseExtras> {
    if (!this.postgres) return {};
    const base = await this.baseSchema();
    const names = (ids: string[]) => ids.map((id) => versionSchemaNameOrNull(base, id)).filter((name): name is string => name !== null);
    const ids = await this.knownIds();
    const dropped = await dropVersionSchemas(this.session, names(ids.filter((id) => compareMigrationIds(id, migration.id) < 0)), (notice) => this.reporter.retry(migration.id, 'dropping earlier version schemas', notice));
    if (dropped.length > 0) this.reporter.info(`${migration.id}: dropped the version schema(s) of earlier migrations: ${dropped.join(', ')}`);
    if (!contractMayDropAnything(migration)) return {};
    const kept = await existingSchemas(this.session, names(ids.filter((id) => compareMigrationIds(id, migration.id) >= 0)));
    if (kept.length === 0) return {};
    return { aroundTransaction: (trx) => detachViews(trx, this.session, kept, base) };
  }

  async beforeRollback(migration: Migration): Promise<void> {
    if (!this.postgres) return;
    const name = versionSchemaNameOrNull(await this.baseSchema(), migration.id);
    if (!name) return;
    const dropped = await dropVersionSchemas(this.session, [name], (notice) => this.reporter.retry(migration.id, `dropping version schema ${name}`, notice));
    if (dropped.length > 0) this.reporter.info(`${migration.id}: dropped its version schema ${name}`);
  }

  /** The schema the newest expanded migration's app version reads through, when it exists: what `status` shows. */
  async current(): Promise<CurrentVersionSchema | null> {
    if (!this.postgres) return null;
    const rows = await this.ledger.all();
    const newest = [...rows.values()].filter((row) => row.state === 'expanded' || row.state === 'backfilled' || row.state === 'contracted').sort((a, b) => compareMigrationIds(b.id, a.id))[0];
    if (!newest) return null;
    const base = await this.baseSchema();
    const schema = versionSchemaNameOrNull(base, newest.id);
    if (!schema || (await existingSchemas(this.session, [schema])).length === 0) return null;
    const { sql, option, value } = searchPathFor(schema, base);
    return { migration: newest.id, schema, searchPath: sql, connectionOption: option, searchPathValue: value };
  }

  /**
   * The adjustments m's views need: those of the migrations before it that are still in flight
   * (the new app version expects their changes too, and their contract must find the views clear
   * of what it drops), then m's own — all as compiled when each expand started (the ledger).
   */
  private async adjustmentsFor(migration: Migration): Promise<ViewAdjustment[]> {
    const rows = await this.ledger.all();
    const adjustments: ViewAdjustment[] = [];
    for (const other of [...this.migrations].sort((a, b) => compareMigrationIds(a.id, b.id))) {
      if (compareMigrationIds(other.id, migration.id) > 0) break;
      const row = rows.get(other.id);
      if (other.id !== migration.id && !isInFlight(row)) continue;
      if (row?.compiled) adjustments.push(...((JSON.parse(row.compiled) as CompiledMigration).views ?? []));
    }
    return adjustments;
  }

  private async knownIds(): Promise<string[]> {
    return [...new Set([...this.migrations.map((m) => m.id), ...(await this.ledger.all()).keys()])];
  }
}

export interface CurrentVersionSchema {
  migration: string;
  schema: string;
  /** `SET search_path TO …`, for the app's connection setup. */
  searchPath: string;
  /** The same as a libpq connection option (`options=-c search_path=…`). */
  connectionOption: string;
  /** The search_path itself (`schema, base`), for `set_config('search_path', …)`. */
  searchPathValue: string;
}

function isInFlight(row: LedgerRow | undefined): boolean {
  return row !== undefined && (row.state === 'expanded' || row.state === 'backfilled');
}

/** SQL sections, phase functions and `sql` operations may drop any column; the other operations' contracts drop only what their adjustments hide. */
function contractMayDropAnything(migration: Migration): boolean {
  if (!migration.operations) return true;
  return migration.operations.some((call) => call.name === 'sql');
}
