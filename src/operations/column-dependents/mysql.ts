import { expressionsMention } from '../shims/index.js';
import type { OperationContext } from '../types.js';
import { nothingToCarry, refuseSharedWithEarlier, type CarriedDependents, type Replacement } from './carried.js';

interface KeyPart {
  name: string;
  non_unique: number | string;
  column: string | null;
  sub_part: number | null;
  collation: string | null;
  index_type: string;
}

/**
 * MySQL/MariaDB. Dropping a column that a composite index contains fails on MariaDB (error 1072) and
 * on MySQL 8 removes it from the index, so (a, b) quietly becomes (b), and a UNIQUE one changes what
 * it enforces. Each index on the column gets a copy on the twin at the end of the backfill (one
 * online ALTER, no table rebuild); the ALTER that drops the old column drops the originals and gives
 * the copies their names. Refused: foreign keys on the column either way (MySQL refuses to drop a column a key uses,
 * and for a type change wants the same type on both sides), FULLTEXT, SPATIAL and functional
 * indexes, CHECK constraints, generated columns and triggers that name the column.
 */
export async function mysqlDependents(context: OperationContext, replacement: Replacement, earlier: string[]): Promise<CarriedDependents> {
  const { table, column, by: twin } = replacement;
  const q = context.quote;
  const inspect = context.inspect;
  const carried = nothingToCarry();
  const where = `${table}.${column}`;

  const keys = await foreignKeysOn(context, table, column);
  if (keys.length > 0) {
    throw new Error(`column ${where} is in foreign key ${keys}; MySQL will not drop a column that a foreign key uses, and tandem does not move keys to the new column there: drop the key in an earlier migration and add it again after this one's contract (for a type change, with both columns of the new type: MySQL wants the same type on both sides)`);
  }

  // MariaDB names a CHECK per table (CHECK_CONSTRAINTS has TABLE_NAME); MySQL 8 per schema, and
  // gives the table only in TABLE_CONSTRAINTS.
  const checks = await inspect.catalogRows<{ name: string; clause: string }>(
    context.mariadb
      ? `SELECT CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY CONSTRAINT_NAME`
      : `SELECT cc.CONSTRAINT_NAME AS name, cc.CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS cc
           JOIN information_schema.TABLE_CONSTRAINTS tc ON tc.CONSTRAINT_SCHEMA = cc.CONSTRAINT_SCHEMA AND tc.CONSTRAINT_NAME = cc.CONSTRAINT_NAME
          WHERE tc.TABLE_SCHEMA = DATABASE() AND tc.TABLE_NAME = ? AND tc.CONSTRAINT_TYPE = 'CHECK' ORDER BY 1`,
    [table],
  );
  const generated = await inspect.catalogRows<{ name: string; clause: string }>(
    `SELECT COLUMN_NAME AS name, GENERATION_EXPRESSION AS clause FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COALESCE(GENERATION_EXPRESSION, '') <> '' ORDER BY ORDINAL_POSITION`,
    [table],
  );
  const triggers = await inspect.catalogRows<{ name: string; clause: string }>(
    `SELECT TRIGGER_NAME AS name, ACTION_STATEMENT AS clause FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE = ? AND TRIGGER_NAME NOT LIKE 'tandem\\_%' ORDER BY TRIGGER_NAME`,
    [table],
  );
  const users = [
    ...checks.filter((check) => expressionsMention([check.clause], column) || check.name === column).map((check) => `CHECK constraint ${check.name}`),
    ...generated.filter((g) => expressionsMention([g.clause], column)).map((g) => `generated column ${g.name}`),
    ...triggers.filter((trigger) => expressionsMention([trigger.clause], column)).map((trigger) => `trigger ${trigger.name}`),
  ];
  if (users.length > 0) {
    throw new Error(`column ${where} is used by ${users.join(', ')}; contract drops the old column, which would break ${users.length === 1 ? 'it' : 'them'}: drop ${users.length === 1 ? 'it' : 'them'} in an earlier migration and create ${users.length === 1 ? 'it' : 'them'} again after this one's contract`);
  }

  const parts = await inspect.catalogRows<KeyPart>(
    `SELECT INDEX_NAME AS name, NON_UNIQUE AS non_unique, COLUMN_NAME AS \`column\`, SUB_PART AS sub_part, COLLATION AS collation, INDEX_TYPE AS index_type
       FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
        AND INDEX_NAME IN (SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND COLUMN_NAME = ?)
      ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [table, table, column],
  );
  const indexes = new Map<string, KeyPart[]>();
  for (const part of parts) indexes.set(part.name, [...(indexes.get(part.name) ?? []), part]);
  const adds: string[] = [];
  const copies: string[] = [];
  for (const [name, keyParts] of indexes) {
    const kind = keyParts[0]!.index_type.toUpperCase();
    if (kind !== 'BTREE' && kind !== 'HASH') throw new Error(`column ${where} is in ${kind} index ${name}, which tandem does not rebuild on the new column: drop it in an earlier migration and add it again after this one's contract`);
    if (keyParts.some((part) => part.column === null)) throw new Error(`column ${where} is in functional index ${name}, which tandem does not rebuild on the new column: drop it in an earlier migration and add it again after this one's contract`);
    refuseSharedWithEarlier(`index ${name}`, keyParts.map((part) => part.column ?? ''), replacement, earlier);
    const copy = context.objectName(`ix${copies.length + 1}`);
    const columns = keyParts.map((part) => `${q(part.column === column ? twin : part.column!)}${part.sub_part !== null ? `(${Number(part.sub_part)})` : ''}${part.collation === 'D' ? ' DESC' : ''}`);
    adds.push(`ADD ${Number(keyParts[0]!.non_unique) === 0 ? 'UNIQUE ' : ''}INDEX ${q(copy)} (${columns.join(', ')})`);
    copies.push(copy);
    carried.dropColumnClauses.push(`DROP INDEX ${q(name)}`, `RENAME INDEX ${q(copy)} TO ${q(name)}`);
  }
  if (adds.length > 0) {
    carried.buildCopies.push(`ALTER TABLE ${q(table)} ${adds.join(', ')}, ALGORITHM=INPLACE, LOCK=NONE`);
    // Rollback may come before the backfill built them: MariaDB drops them IF EXISTS. MySQL 8 has no
    // IF EXISTS there, and dropping the twin trims a composite copy to its other columns (not verified: no MySQL 8 server here).
    if (context.mariadb) carried.rollback.push(`ALTER TABLE ${q(table)} ${copies.map((copy) => `DROP INDEX IF EXISTS ${q(copy)}`).join(', ')}, ALGORITHM=NOCOPY`);
  }
  return carried;
}

/** The foreign keys on the column, either way, as `name (table.column → table.column)`, or ''. */
async function foreignKeysOn(context: OperationContext, table: string, column: string): Promise<string> {
  const keys = await context.inspect.catalogRows<{ name: string; table: string; column: string; referenced: string }>(
    `SELECT CONSTRAINT_NAME AS name, TABLE_NAME AS \`table\`, COLUMN_NAME AS \`column\`, CONCAT(REFERENCED_TABLE_NAME, '.', REFERENCED_COLUMN_NAME) AS referenced
       FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL
        AND ((TABLE_NAME = ? AND COLUMN_NAME = ?) OR (REFERENCED_TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME = ? AND REFERENCED_COLUMN_NAME = ?))
      ORDER BY TABLE_NAME, CONSTRAINT_NAME`,
    [table, column, table, column],
  );
  return keys.map((key) => `${key.name} (${key.table}.${key.column} → ${key.referenced})`).join(', ');
}

/**
 * dropColumn on MySQL/MariaDB: the clauses that go with `DROP COLUMN`. PostgreSQL drops every index
 * that contains a dropped column; MariaDB refuses to drop a column that a composite index contains
 * (error 1072) and MySQL 8 keeps the index without it (UNIQUE (a, b) becomes UNIQUE (b)). So the same
 * ALTER drops those indexes, as PostgreSQL would. A foreign key either way is refused: MySQL will
 * not drop a column a key uses, and contract would stop half-way.
 */
export async function mysqlDroppedColumnClauses(context: OperationContext, table: string, column: string): Promise<string[]> {
  const keys = await foreignKeysOn(context, table, column);
  if (keys) throw new Error(`column ${table}.${column} is in foreign key ${keys}; MySQL will not drop a column that a foreign key uses: drop the key in an earlier migration`);
  const composite = await context.inspect.catalogRows<{ name: string }>(
    `SELECT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
      GROUP BY INDEX_NAME HAVING SUM(COLUMN_NAME = ?) > 0 AND COUNT(*) > 1 ORDER BY INDEX_NAME`,
    [table, column],
  );
  return composite.map((index) => `DROP INDEX ${context.quote(index.name)}`);
}
