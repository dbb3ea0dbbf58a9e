// The schema changes the benchmark runs, each as the naive DDL and as tandem's operation.
//
// The app (load.mjs) reads `id, account_id, amount, <note>[, <extra>]` by primary key, updates
// `amount` and `<note>` together and inserts rows. Every write keeps `<note> = 'n' || amount`, so a
// scenario's `check` query can count rows where a write was lost or a shim copied a wrong value.
//
// The backfill's bound (scenarios with a backfill on that database: `bound.column` names them): the backfill's UPDATE as one unbatched
// statement on a copy of the table, measured in the same run, twice: on `items_bound`, a plain
// copy with the new column added by hand (`bound.update`, with `{table}` and `{column}` filled in),
// and on `items_bound_shim`, where tandem's expand of the same operations put the new column and
// its shim in place: there the statement is the backfill UPDATE tandem compiled for that copy, run
// as the backfill runs it (the backfill role).
//
// App versions: `old` runs until the deploy, `new` after it. tandem deploys between backfill and
// contract (both versions work in S1/S2); the naive run deploys right after its DDL.

const OLD = { note: 'note' };

/** Count of rows that break the app's invariant (must be 0). */
const noteCheck = (column) => ({
  postgres: `SELECT count(*) AS n FROM items WHERE ${column} IS DISTINCT FROM 'n' || amount`,
  mysql: `SELECT count(*) AS n FROM items WHERE NOT (${column} <=> CONCAT('n', amount))`,
});

export const SCENARIOS = [
  {
    name: 'type-change',
    title: 'int → bigint column type change',
    apps: { old: OLD, new: OLD },
    naive: {
      postgres: ['ALTER TABLE items ALTER COLUMN amount TYPE bigint'],
      mysql: ['ALTER TABLE items MODIFY amount BIGINT NOT NULL'],
    },
    operations: [{ alterColumn: { table: 'items', column: 'amount', type: 'bigint' } }],
    check: noteCheck('note'),
    after: { postgres: `SELECT data_type AS t FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'amount'`, mysql: `SELECT DATA_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'amount'`, expect: 'bigint' },
    bound: { column: { postgres: 'amount_new bigint', mysql: 'amount_new BIGINT NULL' }, update: 'UPDATE {table} SET {column} = amount WHERE {column} IS NULL' },
  },
  {
    name: 'key-type-change',
    title: 'int → bigint of a serial / AUTO_INCREMENT primary key',
    apps: { old: OLD, new: OLD },
    naive: { postgres: ['ALTER TABLE items ALTER COLUMN id TYPE bigint'], mysql: ['ALTER TABLE items MODIFY id BIGINT NOT NULL AUTO_INCREMENT'] },
    // PostgreSQL: a twin column; MariaDB: a copy of the table (InnoDB moves its clustered key only by rewriting the table).
    operations: [{ alterColumn: { table: 'items', column: 'id', type: 'bigint' } }],
    check: noteCheck('note'),
    after: {
      postgres: `SELECT data_type AS t FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'id'`,
      mysql: `SELECT DATA_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'items' AND COLUMN_NAME = 'id'`,
      expect: 'bigint',
    },
    // MariaDB's bound is the copy's INSERT … SELECT as one statement: into a copy made by hand with the
    // key column changed (`copy`), and tandem's own backfill statement on a copy its expand made.
    bound: { column: { postgres: 'id_new bigint' }, update: 'UPDATE {table} SET {column} = id WHERE {column} IS NULL', copy: { mysql: 'id BIGINT NOT NULL AUTO_INCREMENT' } },
  },
  {
    name: 'rename-column',
    title: 'rename column note → memo',
    apps: { old: OLD, new: { note: 'memo' } },
    naive: {
      postgres: ['ALTER TABLE items RENAME COLUMN note TO memo'],
      mysql: ['ALTER TABLE items RENAME COLUMN note TO memo'],
    },
    operations: [{ renameColumn: { table: 'items', from: 'note', to: 'memo' } }],
    // PostgreSQL with version schemas: the views show note as memo until contract renames it (no twin, no backfill).
    renamesThroughViews: true,
    check: noteCheck('memo'),
    bound: { column: { postgres: 'memo text', mysql: 'memo VARCHAR(100) NULL' }, update: 'UPDATE {table} SET {column} = note WHERE {column} IS NULL AND note IS NOT NULL' },
  },
  {
    name: 'add-not-null-column',
    title: 'add a NOT NULL column filled from other columns',
    apps: { old: OLD, new: { note: 'note', extra: { column: 'priority', formula: 'mod10' } } },
    naive: {
      postgres: ['ALTER TABLE items ADD COLUMN priority integer', 'UPDATE items SET priority = account_id % 10', 'ALTER TABLE items ALTER COLUMN priority SET NOT NULL'],
      mysql: ['ALTER TABLE items ADD COLUMN priority INT NULL', 'UPDATE items SET priority = account_id % 10', 'ALTER TABLE items MODIFY priority INT NOT NULL'],
    },
    operations: [{ addColumn: { table: 'items', column: { name: 'priority', type: 'integer', nullable: false }, up: 'account_id % 10' } }],
    check: {
      postgres: `SELECT count(*) AS n FROM items WHERE priority IS DISTINCT FROM account_id % 10 OR note IS DISTINCT FROM 'n' || amount`,
      mysql: `SELECT count(*) AS n FROM items WHERE NOT (priority <=> account_id % 10) OR NOT (note <=> CONCAT('n', amount))`,
    },
    bound: { column: { postgres: 'priority integer', mysql: 'priority INT NULL' }, update: 'UPDATE {table} SET {column} = (account_id % 10) WHERE {column} IS NULL' },
  },
  {
    name: 'create-index',
    title: 'create an index',
    apps: { old: OLD, new: OLD },
    naive: {
      postgres: ['CREATE INDEX items_amount_idx ON items (amount)'],
      mysql: ['ALTER TABLE items ADD INDEX items_amount_idx (amount), ALGORITHM=COPY'],
    },
    operations: [{ createIndex: { table: 'items', name: 'items_amount_idx', columns: ['amount'] } }],
    check: noteCheck('note'),
  },
  {
    name: 'add-foreign-key',
    title: 'add a foreign key',
    apps: { old: OLD, new: OLD },
    naive: {
      postgres: ['ALTER TABLE items ADD CONSTRAINT items_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)'],
      mysql: ['ALTER TABLE items ADD CONSTRAINT items_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id)'],
    },
    operations: [{ addForeignKey: { table: 'items', name: 'items_account_fk', columns: ['account_id'], references: { table: 'accounts', columns: ['id'] } } }],
    check: noteCheck('note'),
  },
  {
    name: 'add-check',
    title: 'add a CHECK constraint',
    apps: { old: OLD, new: OLD },
    naive: {
      postgres: ['ALTER TABLE items ADD CONSTRAINT items_amount_nonneg CHECK (amount >= 0)'],
      mysql: ['ALTER TABLE items ADD CONSTRAINT items_amount_nonneg CHECK (amount >= 0)'],
    },
    operations: [{ addCheck: { table: 'items', name: 'items_amount_nonneg', expression: 'amount >= 0' } }],
    check: noteCheck('note'),
  },
  {
    name: 'set-not-null',
    title: 'SET NOT NULL on an existing column',
    apps: { old: OLD, new: OLD },
    naive: {
      postgres: ['ALTER TABLE items ALTER COLUMN note SET NOT NULL'],
      mysql: ['ALTER TABLE items MODIFY note VARCHAR(100) NOT NULL'],
    },
    operations: [{ alterColumn: { table: 'items', column: 'note', nullable: false } }],
    check: noteCheck('note'),
    // MySQL/MariaDB: a NOT NULL twin that the backfill fills (PostgreSQL only checks for NULLs: no walk, nothing to bound).
    bound: { column: { mysql: "note_nn VARCHAR(100) NOT NULL DEFAULT ''" }, update: "UPDATE {table} SET {column} = COALESCE(note, '') WHERE {column} <=> ''" },
  },
  {
    name: 'long-transaction',
    title: 'metadata-only ADD COLUMN while a 3 s transaction holds the table',
    apps: { old: OLD, new: OLD },
    longTransactionMs: 3000,
    naive: {
      postgres: ['ALTER TABLE items ADD COLUMN flag text'],
      mysql: ['ALTER TABLE items ADD COLUMN flag VARCHAR(20) NULL'],
    },
    operations: [{ addColumn: { table: 'items', column: { name: 'flag', type: 'varchar(20)' } } }],
    check: noteCheck('note'),
  },
];
