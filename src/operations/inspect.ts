import type { Knex } from 'knex';
import type { DialectAdapter } from '../db/dialect-adapter.js';

export interface ColumnFacts {
  name: string;
  /** The full type as the database spells it (`integer`, `character varying(200)`, `int(11)`). */
  type: string;
  nullable: boolean;
  /** The default expression, or null. */
  default: string | null;
  /**
   * MySQL/MariaDB: what else a statement that re-states the column (MODIFY, CHANGE) must repeat, or
   * the server resets it: a string column's character set and collation (to the table's), its comment.
   */
  mysql?: {
    /** ` CHARACTER SET … COLLATE …` when the column's differ from the table's default, else ''. */
    collation: string;
    /** The comment, or ''. */
    comment: string;
    /** information_schema's EXTRA: `VIRTUAL GENERATED`, `on update current_timestamp()`, `INVISIBLE`, `auto_increment`, or ''. */
    extra: string;
  };
}

/** What keeps InnoDB from adding a column instantly (mysqlInstantAddBlockers). */
export interface InstantAddBlockers {
  /** The table's FULLTEXT indexes. */
  fulltext: string[];
  /** No FULLTEXT index, but the hidden FTS_DOC_ID column of one dropped since the last rebuild. */
  hiddenFtsDocId: boolean;
  compressed: boolean;
}

/** An operation on a column's new name while the migration that renames it through the views is in flight: a matter of phase order, not of the file. */
export class InFlightRenameError extends Error {}

/**
 * Reads the facts operations need from the live schema. While a migration compiles, each operation
 * also records what its expand will change (a column added, a table renamed), so a later operation
 * of the same migration sees the schema as it will be when its own statements run.
 */
export class SchemaInspector {
  private readonly cache = new Map<string, ColumnFacts[] | null>();
  private readonly indexCache = new Map<string, string[][]>();
  /** Renames through the views by this migration's operations so far (see noteColumnRenamedByView). */
  private pendingRenames: Array<{ table: string; from: string; to: string }> = [];
  /** `table.column` → why a name that an in-flight migration's rename gives may not be used yet. */
  private readonly renamedInFlight = new Map<string, string>();
  /** table → columns this migration replaces by a twin or a new name (column-dependents). */
  private readonly replacedColumns = new Map<string, Array<{ column: string; keepsName: boolean }>>();
  private readonly instantAddBlockers = new Map<string, InstantAddBlockers>();
  /** `table.column` → the operation of this migration that changes, adds, renames or drops it. */
  private readonly claimedColumns = new Map<string, string>();
  /** Indexes and constraints this migration's operations add, not yet in the catalog. */
  private readonly addedDependents: Array<{ table: string; what: string; uses: (column: string) => boolean }> = [];

  constructor(
    private readonly db: Knex | Knex.Transaction,
    private readonly adapter: DialectAdapter,
  ) {}

  /** Columns of a table in order, or null when the table does not exist. */
  async columns(table: string): Promise<ColumnFacts[] | null> {
    if (this.cache.has(table)) return this.cache.get(table)!;
    const facts = this.adapter.dialect === 'postgres' ? await this.postgresColumns(table) : await this.mysqlColumns(table);
    this.cache.set(table, facts);
    return facts;
  }

  /**
   * One column's facts, or null. Throws for a name that a rename through the version schema's views
   * holds: the table has neither name as the new app means it until contract, so an operation on it
   * would generate SQL against the wrong column (or none).
   */
  async column(table: string, column: string): Promise<ColumnFacts | null> {
    const pending = this.pendingRenames.find((rename) => rename.table === table && (rename.from === column || rename.to === column));
    if (pending) throw new Error(`column ${table}.${pending.from} is renamed to ${pending.to} by an earlier operation of this migration, through the version schema's views; the table itself takes the new name at contract: change the column in a later migration`);
    const held = this.renamedInFlight.get(`${table}.${column}`);
    if (held) throw new InFlightRenameError(held);
    return (await this.columns(table))?.find((c) => c.name === column) ?? null;
  }

  /** Record that a rename is the views' until contract renames the column itself (version schemas). */
  noteColumnRenamedByView(table: string, from: string, to: string): void {
    this.pendingRenames.push({ table, from, to });
  }

  /** Record that a migration in flight renames a column through its views: the table has no `to` until it contracts. */
  noteInFlightRename(table: string, from: string, to: string, migrationId: string): void {
    this.renamedInFlight.set(
      `${table}.${to}`,
      `column ${table}.${to} is the new name of ${table}.${from}, which migration ${migrationId} (in flight) gives it through the version schema's views; the table takes that name when ${migrationId} contracts: run tandem contract first`,
    );
  }

  /**
   * A migration has compiled: a plan of several pending migrations goes on as `tandem expand` does,
   * which runs their expands one after the other. The columns its expand adds are in the cache
   * already; a column it renames through the views is in flight, as the runner sees it in the
   * ledger (inspectorBesideInFlight): the table keeps the old name until contract.
   */
  settleMigration(migrationId: string): void {
    for (const { table, from, to } of this.pendingRenames) this.noteInFlightRename(table, from, to, migrationId);
    this.abandonMigration();
  }

  /** Forget what the migration compiling now recorded (it failed to compile, or has settled). */
  abandonMigration(): void {
    this.replacedColumns.clear();
    this.claimedColumns.clear();
    this.addedDependents.length = 0;
    this.pendingRenames = [];
  }

  /** A catalog query for facts with no method of their own here (a column's dependents). */
  async catalogRows<T>(sql: string, bindings: unknown[]): Promise<T[]> {
    // Without bindings, knex sends MySQL the SQL as written (a quoted name may hold a `?`).
    return this.adapter.rows<T>(await (bindings.length > 0 ? this.db.raw(sql, bindings as never) : this.db.raw(sql)));
  }

  /** The table's name as `to_regclass` takes it (PostgreSQL). */
  regclass(table: string): string {
    return this.adapter.quoteIdent(table);
  }

  async tableExists(table: string): Promise<boolean> {
    return (await this.columns(table)) !== null;
  }

  async primaryKey(table: string): Promise<string[]> {
    return this.adapter.primaryKey(this.db, { name: table });
  }

  /**
   * Record that this migration's contract drops `column` for a new column that takes over its indexes
   * and constraints; returns the columns of the table recorded so before it. Throws when an earlier
   * operation of the migration adds an index or constraint on it: that one is not in the catalog
   * yet, so it would not be carried, and contract would drop it with the column.
   */
  noteColumnReplaced(table: string, column: string, keepsName: boolean): string[] {
    const added = this.addedDependents.find((dependent) => dependent.table === table && dependent.uses(column));
    if (added) throw new Error(`${added.what}, which an earlier operation of this migration adds, uses ${table}.${column}; this operation replaces that column with a new one and drops it at contract, with everything on it: add it in a later migration`);
    const earlier = this.replacedColumns.get(table) ?? [];
    this.replacedColumns.set(table, [...earlier, { column, keepsName }]);
    return earlier.map((replaced) => replaced.column);
  }

  /**
   * MySQL/MariaDB: what keeps InnoDB from adding a column to the table instantly. A FULLTEXT index
   * (its hidden FTS_DOC_ID column) rules out INSTANT, and every online rebuild too: those want
   * LOCK=SHARED, writes blocked. ROW_FORMAT=COMPRESSED rules out INSTANT; an online rebuild works.
   */
  async mysqlInstantAddBlockers(table: string): Promise<InstantAddBlockers> {
    const known = this.instantAddBlockers.get(table);
    if (known) return known;
    const rows = this.adapter.rows<{ fulltext: string | null; row_format: string | null }>(
      await this.db.raw(
        `SELECT (SELECT GROUP_CONCAT(DISTINCT INDEX_NAME ORDER BY INDEX_NAME SEPARATOR ',') FROM information_schema.STATISTICS
                  WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_TYPE = 'FULLTEXT') AS \`fulltext\`,
                (SELECT ROW_FORMAT FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?) AS \`row_format\``,
        [table, table],
      ),
    );
    const fulltext = rows[0]?.fulltext ? rows[0].fulltext.split(',') : [];
    const blockers = { fulltext, hiddenFtsDocId: fulltext.length === 0 && (await this.hiddenFtsDocId(table)), compressed: rows[0]?.row_format?.toLowerCase() === 'compressed' };
    this.instantAddBlockers.set(table, blockers);
    return blockers;
  }

  /**
   * A FULLTEXT index dropped since the table's last rebuild leaves InnoDB's hidden FTS_DOC_ID column
   * behind, which blocks an instant ADD COLUMN as the index did. Only InnoDB's own tables show it
   * (MariaDB's INNODB_SYS_*, under the table's file name), and only to a user with PROCESS: false
   * when they cannot be read, and the server's own refusal of INSTANT at expand says it then.
   */
  private async hiddenFtsDocId(table: string): Promise<boolean> {
    try {
      const rows = this.adapter.rows<{ n: unknown }>(
        await this.db.raw(
          `SELECT COUNT(*) AS n FROM information_schema.INNODB_SYS_COLUMNS c JOIN information_schema.INNODB_SYS_TABLES t ON t.TABLE_ID = c.TABLE_ID
            WHERE t.NAME = CONCAT(CAST(CONVERT(DATABASE() USING filename) AS BINARY), '/', CAST(CONVERT(? USING filename) AS BINARY)) AND c.NAME = 'FTS_DOC_ID'
              AND NOT EXISTS (SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = 'FTS_DOC_ID')`,
          [table, table],
        ),
      );
      return Number(rows[0]?.n) > 0;
    } catch (error) {
      // 1227: no PROCESS privilege; 1109: no such view (MySQL 8 names them INNODB_TABLES/INNODB_COLUMNS).
      if ([1227, 1109].includes((error as { errno?: number }).errno ?? 0)) return false;
      throw error;
    }
  }

  /**
   * Record that `operation` changes the column (adds, alters, renames or drops it). Throws when an
   * earlier operation of this migration does too: each compiles against the column as the catalog
   * has it, so the second would undo or break the first (a rename would carry the old nullability;
   * two twins' shims would race).
   */
  claimColumn(table: string, column: string, operation: string): void {
    const earlier = this.claimedColumns.get(`${table}.${column}`);
    if (earlier !== undefined) throw new Error(`column ${table}.${column} is changed by an earlier operation of this migration (${earlier}); each operation works from the column as it was before the migration: change it again in a later migration, or say it all in one alterColumn (type, nullable, default)`);
    this.claimedColumns.set(`${table}.${column}`, operation);
  }

  /** Undo noteColumnReplaced: the operation replaces the column some other way after all. */
  forgetColumnReplaced(table: string, column: string): void {
    const replaced = this.replacedColumns.get(table) ?? [];
    const last = replaced.at(-1);
    if (last?.column === column) this.replacedColumns.set(table, replaced.slice(0, -1));
  }

  /**
   * Record that an operation of this migration adds an index or constraint (`what`) on the columns of
   * `table` for which `uses` is true. Throws when an earlier operation replaces one of them and the
   * index or constraint would land on the old column, which contract drops — unless it is only added
   * at contract (`atContract`), after the earlier operation's swap, so on the new column, which has the
   * old one's name after a type change.
   */
  noteDependentAdded(table: string, what: string, uses: (column: string) => boolean, options: { atContract?: boolean } = {}): void {
    const replaced = (this.replacedColumns.get(table) ?? []).find(({ column, keepsName }) => uses(column) && !(options.atContract && keepsName));
    if (replaced !== undefined) throw new Error(`${what} uses ${table}.${replaced.column}, which an earlier operation of this migration replaces with a new column and drops at contract, with everything on it: add it in a later migration`);
    this.addedDependents.push({ table, what, uses });
  }

  /** Record that expand adds a column (or creates the table, with `columns` of its own). */
  async noteColumnAdded(table: string, column: ColumnFacts): Promise<void> {
    const columns = (await this.columns(table)) ?? [];
    this.cache.set(table, [...columns.filter((c) => c.name !== column.name), column]);
  }

  noteTableCreated(table: string, columns: ColumnFacts[]): void {
    this.cache.set(table, columns);
  }

  async noteTableRenamed(from: string, to: string): Promise<void> {
    this.cache.set(to, await this.columns(from));
    this.indexCache.set(to, await this.indexes(from));
  }

  /** The column lists of a table's indexes (primary key included), in index order; [] for a table that does not exist. */
  async indexes(table: string): Promise<string[][]> {
    if (this.indexCache.has(table)) return this.indexCache.get(table)!;
    const sql =
      this.adapter.dialect === 'postgres'
        ? `SELECT i.indexrelid::text AS name, a.attname AS "column" FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE i.indrelid = to_regclass(?) ORDER BY i.indexrelid, k.ord`
        : 'SELECT INDEX_NAME AS name, COLUMN_NAME AS `column` FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX';
    const rows = this.adapter.rows<{ name: string; column: string }>(await this.db.raw(sql, [this.adapter.dialect === 'postgres' ? this.adapter.quoteIdent(table) : table]));
    const byName = new Map<string, string[]>();
    for (const row of rows) byName.set(row.name, [...(byName.get(row.name) ?? []), row.column]);
    const indexes = [...byName.values()];
    this.indexCache.set(table, indexes);
    return indexes;
  }

  /** Record that expand builds an index (or a key that has one) on these columns. */
  async noteIndex(table: string, columns: string[]): Promise<void> {
    this.indexCache.set(table, [...(await this.indexes(table)), columns]);
  }

  private async postgresColumns(table: string): Promise<ColumnFacts[] | null> {
    const result = await this.db.raw(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable, pg_get_expr(d.adbin, d.adrelid) AS "default"
         FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [this.adapter.quoteIdent(table)],
    );
    const rows = this.adapter.rows<ColumnFacts>(result);
    if (rows.length > 0) return rows;
    const exists = this.adapter.rows<{ ok: boolean }>(await this.db.raw('SELECT to_regclass(?) IS NOT NULL AS ok', [this.adapter.quoteIdent(table)]))[0]?.ok;
    return exists ? [] : null;
  }

  private async mysqlColumns(table: string): Promise<ColumnFacts[] | null> {
    const result = await this.db.raw(
      `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE = 'YES' AS nullable, COLUMN_DEFAULT AS \`default\`,
              CHARACTER_SET_NAME AS \`charset\`, COLLATION_NAME AS \`collation\`, COLUMN_COMMENT AS \`comment\`, EXTRA AS \`extra\`,
              (SELECT TABLE_COLLATION FROM information_schema.TABLES t WHERE t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME) AS table_collation
         FROM information_schema.COLUMNS c WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
      [table],
    );
    type Row = { name: string; type: string; nullable: unknown; default: string | null; charset: string | null; collation: string | null; comment: string | null; extra: string | null; table_collation: string | null };
    const rows = this.adapter.rows<Row>(result);
    if (rows.length === 0) return null;
    return rows.map((row) => ({
      name: row.name,
      type: row.type,
      nullable: row.nullable === 1 || row.nullable === '1' || row.nullable === true,
      default: row.default,
      mysql: {
        // Only a collation other than the table's: a re-statement without one gets the table's.
        // (Binary strings report the `binary` character set, which their type already implies.)
        collation: row.charset && row.collation && row.charset !== 'binary' && row.collation !== row.table_collation ? ` CHARACTER SET ${row.charset} COLLATE ${row.collation}` : '',
        comment: row.comment ?? '',
        extra: (row.extra ?? '').trim(),
      },
    }));
  }
}
