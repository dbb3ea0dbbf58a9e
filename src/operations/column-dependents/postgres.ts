import { stringLiteral } from '../../db/raw-sql.js';
import { tokenizeStatement } from '../../lint/parse/tokens.js';
import { COMMENT_PREFIX } from '../../version-schemas/plan-views.js';
import type { OperationContext } from '../types.js';
import { nothingToCarry, refuseSharedWithEarlier, type CarriedDependents, type Replacement } from './carried.js';
import { renameColumnRefs } from './rename-column-refs.js';

/** tandem's version-schema views read every column; they are rebuilt around contract, not carried. */
const TANDEM_VIEW_COMMENT = `${COMMENT_PREFIX}%`;
/** For a `pg_depend d` row: leaves out tandem's version-schema views (bind TANDEM_VIEW_COMMENT). */
const NOT_TANDEM_VIEW = `NOT (d.classid = 'pg_rewrite'::regclass AND EXISTS (SELECT 1 FROM pg_rewrite r WHERE r.oid = d.objid AND obj_description(r.ev_class, 'pg_class') LIKE ?))`;
/** For a `pg_depend d` row, a CASE branch: a view's rewrite rule is named as its view. */
const VIEW_OF_RULE = `WHEN d.classid = 'pg_rewrite'::regclass THEN (SELECT pg_describe_object('pg_class'::regclass, r.ev_class, 0) FROM pg_rewrite r WHERE r.oid = d.objid)`;

interface IndexRow {
  name: string;
  columns: string[];
  definition: string;
  constraint_name: string | null;
  constraint_type: string | null;
  deferrable: boolean;
  deferred: boolean;
}

interface ColumnFacts {
  attnum: number;
  /** 'a' (ALWAYS), 'd' (BY DEFAULT), '' (no identity). */
  identity: string;
  generated: string;
  comment: string | null;
  keeps_not_null: boolean;
  not_null_name: string | null;
  sequence: string | null;
  sequence_schema: string | null;
  sequence_name: string | null;
  /** The sequence's own type and options (text: bigint values). */
  sequence_own_type: string | null;
  increment: string | null;
  min: string | null;
  max: string | null;
  start: string | null;
  cache: string | null;
  cycle: boolean | null;
  /** The wider integer type a serial's sequence must grow to with its column, if any. */
  sequence_type: string | null;
  /** ALTER COLUMN … SET STATISTICS (-1: the server's default). */
  statistics_target: number;
  /** ALTER COLUMN … SET (n_distinct = …, n_distinct_inherited = …), as `key=value`. */
  distinct_options: string[];
  /** attstorage, and its type's default: a column whose storage differs was given one (SET STORAGE). */
  storage: string;
  type_storage: string;
  /** The new type's default storage ('p': plain, which takes no other storage and no compression). */
  new_type_storage: string | null;
  /** SET COMPRESSION: 'p' (pglz), 'l' (lz4), '' (the server's default; PostgreSQL 14+). */
  compression: string;
}

interface StatisticsRow {
  /** The schema as SQL (regnamespace text: quoted where needed). */
  schema: string;
  name: string;
  definition: string;
  /** ALTER STATISTICS … SET STATISTICS (-1: the default). */
  target: number;
  columns: string[];
}

/** Each integer type's range: a sequence bound at its type's default is not one to keep. */
const INTEGER_RANGE: Record<string, [bigint, bigint]> = {
  smallint: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  bigint: [-9223372036854775808n, 9223372036854775807n],
};

/**
 * The identity options that give a new column's sequence the old one's settings. Its type is the
 * new column's, so a bound at the old type's default is left out and becomes the new type's.
 */
function identityOptions(facts: ColumnFacts): string {
  const [low, high] = INTEGER_RANGE[facts.sequence_own_type!] ?? INTEGER_RANGE.bigint!;
  const ascending = BigInt(facts.increment!) > 0n;
  const defaultMin = ascending ? 1n : low;
  const defaultMax = ascending ? high : -1n;
  return [
    `INCREMENT BY ${facts.increment}`,
    ...(BigInt(facts.min!) !== defaultMin ? [`MINVALUE ${facts.min}`] : []),
    ...(BigInt(facts.max!) !== defaultMax ? [`MAXVALUE ${facts.max}`] : []),
    `START WITH ${facts.start}`,
    `CACHE ${facts.cache}`,
    facts.cycle ? 'CYCLE' : 'NO CYCLE',
  ].join(' ');
}

interface ConstraintRow {
  name: string;
  columns: string[];
  type: string;
  definition: string;
  validated: boolean;
}

/**
 * PostgreSQL, for a column that a new one (`twin`) replaces at contract. Indexes (plain, partial, on
 * expressions, unique constraints' too) are rebuilt on the twin with CREATE INDEX CONCURRENTLY at the
 * end of the backfill, when the twin is filled and before the new app reads it; foreign keys and CHECKs are added to the twin NOT VALID at contract (the old
 * app is gone then, so a value only the new type allows cannot fail its writes) and validated while
 * the app reads and writes. DROP COLUMN takes the originals with it, and in the same transaction the
 * copies take their names; a primary key moves to the twin's copy of its index. Foreign keys that
 * reference the column are dropped just before and come back NOT VALID after, then are validated;
 * a sequence the column owns passes to the twin, and an identity column's twin gets an identity that
 * goes on from the old one's sequence and takes its name. Refused: an exclusion constraint, a foreign key that
 * references a column being renamed, and any other object that depends on the column (a view, a
 * trigger on it, …).
 */
export async function postgresDependents(context: OperationContext, replacement: Replacement, earlier: string[]): Promise<CarriedDependents> {
  const { table, column, by: twin, finalName } = replacement;
  const q = context.quote;
  const inspect = context.inspect;
  const regclass = inspect.regclass(table);
  const carried = nothingToCarry();
  // Where the server keeps NOT NULL as a constraint (the ledger's own NOT NULL columns show it), its name.
  // The sequence the column owns (serial, OWNED BY; or its identity's), and the integer type it must grow to with a wider column.
  const [facts] = await inspect.catalogRows<ColumnFacts>(
    `SELECT attnum, attidentity AS identity, attgenerated AS generated, col_description(attrelid, attnum) AS comment,
            EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'n') AS keeps_not_null,
            (SELECT conname FROM pg_constraint WHERE conrelid = attrelid AND contype = 'n' AND conkey = ARRAY[attnum]) AS not_null_name,
            owned.sequence, owned.sequence_schema, owned.sequence_name, owned.sequence_own_type,
            owned.increment, owned.min, owned.max, owned.start, owned.cache, owned.cycle,
            (SELECT format_type(wider.oid, NULL) FROM pg_type wider
              WHERE wider.oid = to_regtype(?) AND wider.oid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
                AND wider.typlen > (SELECT typlen FROM pg_type WHERE oid = owned.seqtypid)) AS sequence_type,
            coalesce(attstattarget, -1)::int AS statistics_target,
            ARRAY(SELECT o FROM unnest(attoptions) o WHERE o LIKE 'n\\_distinct%') AS distinct_options,
            attstorage::text AS storage, (SELECT typstorage::text FROM pg_type WHERE oid = atttypid) AS type_storage,
            (SELECT typstorage::text FROM pg_type WHERE oid = coalesce(to_regtype(?), atttypid)) AS new_type_storage,
            coalesce(to_jsonb(pg_attribute)->>'attcompression', '') AS compression
       FROM pg_attribute
       LEFT JOIN LATERAL (SELECT d.objid::regclass::text AS sequence, n.nspname AS sequence_schema, c.relname AS sequence_name,
                                 s.seqtypid, format_type(s.seqtypid, NULL) AS sequence_own_type, s.seqincrement::text AS increment,
                                 s.seqmin::text AS min, s.seqmax::text AS max, s.seqstart::text AS start, s.seqcache::text AS cache, s.seqcycle AS cycle
                            FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid
                            JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace
                           WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
                             AND d.refobjid = attrelid AND d.refobjsubid = attnum AND d.deptype IN ('a', 'i')) owned ON true
      WHERE attrelid = to_regclass(?) AND attname = ? AND NOT attisdropped`,
    [replacement.type ?? null, replacement.type ?? null, regclass, column],
  );
  if (!facts) return carried;
  carried.twinClauses.push(...columnSettings(facts, q(twin)));
  const where = `${table}.${column}`;
  if (facts.identity && replacement.nullable) throw new Error(`column ${where} is an identity column, which is always NOT NULL: keep it NOT NULL (leave out "nullable"), or drop the identity in an earlier migration (ALTER TABLE … ALTER COLUMN … DROP IDENTITY)`);
  if (facts.generated) throw new Error(`column ${where} is a generated column, which a new column cannot take over: drop it and add it again as it should be`);

  // Other tables' foreign keys (and the table's own, from another column) hang on the column's unique
  // index, which DROP COLUMN takes with it: they let go just before, and come back on the new column.
  const incoming = await incomingForeignKeys(context, replacement, facts.attnum);
  carried.beforeDrop.push(...incoming.map((fk) => `ALTER TABLE ${fk.table} DROP CONSTRAINT ${q(fk.name)}`));
  await refuseOtherDependents(context, table, column, facts.attnum);
  if (facts.sequence !== null) {
    if (!facts.identity) {
      // A serial's sequence would be dropped with the column: the new column takes it over, wide enough for its type.
      carried.beforeDrop.push(`ALTER SEQUENCE ${facts.sequence} OWNED BY ${q(table)}.${q(twin)}`);
      if (facts.sequence_type !== null) carried.beforeDrop.push(`ALTER SEQUENCE ${facts.sequence} AS ${facts.sequence_type}`);
    } else {
      // An identity's sequence belongs to its column and cannot be handed over: the new column (NOT NULL
      // by then) gets an identity of its own with the same options, which goes on from where the old
      // one stands (the swap's lock keeps inserts out meanwhile), and takes the old sequence's name
      // once that is gone with the old column.
      const successor = `${q(facts.sequence_schema!)}.${q(context.objectName('seq'))}`;
      const generated = facts.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT';
      carried.beforeDrop.push(
        `ALTER TABLE ${q(table)} ALTER COLUMN ${q(twin)} ADD GENERATED ${generated} AS IDENTITY (SEQUENCE NAME ${successor} ${identityOptions(facts)})`,
        `SELECT setval(${stringLiteral(successor)}, last_value, is_called) FROM ${facts.sequence}`,
      );
      carried.afterSwap.push(`ALTER SEQUENCE ${successor} RENAME TO ${q(facts.sequence_name!)}`);
    }
  }

  const indexes = await inspect.catalogRows<IndexRow>(
    `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])) AS columns,
            con.conname AS constraint_name, con.contype AS constraint_type,
            coalesce(con.condeferrable, false) AS deferrable, coalesce(con.condeferred, false) AS deferred
       FROM pg_index i
       JOIN pg_class ic ON ic.oid = i.indexrelid
       LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
      WHERE i.indrelid = to_regclass(?)
        AND (?::int2 = ANY (i.indkey::int2[])
             OR EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = i.indexrelid AND d.refobjid = i.indrelid AND d.refobjsubid = ?)
             OR EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_constraint'::regclass AND d.objid = con.oid AND d.refobjid = i.indrelid AND d.refobjsubid = ?))
      ORDER BY ic.relname`,
    [regclass, facts.attnum, facts.attnum, facts.attnum],
  );
  for (const [n, index] of indexes.entries()) {
    if (index.constraint_type === 'x') throw new Error(`column ${where} is in exclusion constraint ${index.constraint_name}, which tandem cannot rebuild on the new column without blocking writes: drop the constraint in an earlier migration and add it again after this one's contract`);
    refuseSharedWithEarlier(`index ${index.name}`, index.columns, replacement, earlier);
    const copy = context.objectName(`ix${n + 1}`);
    carried.buildCopies.push(await indexCopy(context, index, column, twin, copy));
    if (index.constraint_type === 'u' || index.constraint_type === 'p') {
      // The twin is NOT NULL by then (contract's first steps), so PRIMARY KEY USING INDEX scans nothing.
      const timing = index.deferrable ? ` DEFERRABLE${index.deferred ? ' INITIALLY DEFERRED' : ''}` : '';
      const kind = index.constraint_type === 'p' ? 'PRIMARY KEY' : 'UNIQUE';
      carried.afterSwap.push(`ALTER TABLE ${q(table)} ADD CONSTRAINT ${q(index.constraint_name!)} ${kind} USING INDEX ${q(copy)}${timing}`);
    } else carried.afterSwap.push(`ALTER INDEX ${q(copy)} RENAME TO ${q(index.name)}`);
  }

  const constraints = await inspect.catalogRows<ConstraintRow>(
    `SELECT conname AS name, contype AS type, pg_get_constraintdef(oid) AS definition, convalidated AS validated,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = conrelid AND a.attnum = ANY (conkey)) AS columns
       FROM pg_constraint WHERE conrelid = to_regclass(?) AND contype IN ('c', 'f', 't') AND ?::int2 = ANY (conkey) ORDER BY conname`,
    [regclass, facts.attnum],
  );
  for (const [n, constraint] of constraints.entries()) {
    if (constraint.type === 't') throw new Error(`column ${where} is in constraint trigger ${constraint.name}: drop it in an earlier migration and create it again after this one's contract`);
    refuseSharedWithEarlier(`constraint ${constraint.name}`, constraint.columns, replacement, earlier);
    const copy = context.objectName(`${constraint.type === 'f' ? 'fk' : 'ck'}${n + 1}`);
    carried.addConstraints.push(await constraintCopy(context, table, constraint, column, twin, copy));
    if (constraint.validated) carried.validateConstraints.push(`ALTER TABLE ${q(table)} VALIDATE CONSTRAINT ${q(copy)}`);
    carried.afterSwap.push(`ALTER TABLE ${q(table)} RENAME CONSTRAINT ${q(copy)} TO ${q(constraint.name)}`);
  }

  // Extended statistics go with the column too (every column of one, in its list or its expressions,
  // is an automatic dependency): a copy on the twin, made once it is filled, takes the original's name
  // after the swap.
  const tableStatistics = await inspect.catalogRows<StatisticsRow>(
    `SELECT s.stxnamespace::regnamespace::text AS schema, s.stxname AS name, pg_get_statisticsobjdef(s.oid) AS definition,
            coalesce(s.stxstattarget, -1)::int AS target,
            ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = s.stxrelid
                     AND a.attnum IN (SELECT d.refobjsubid FROM pg_depend d WHERE d.classid = 'pg_statistic_ext'::regclass AND d.objid = s.oid AND d.refobjid = s.stxrelid)) AS columns
       FROM pg_statistic_ext s WHERE s.stxrelid = to_regclass(?) ORDER BY s.stxname`,
    [regclass],
  );
  const statistics = tableStatistics.filter((stats) => stats.columns.includes(column));
  for (const [n, stats] of statistics.entries()) {
    refuseSharedWithEarlier(`statistics object ${stats.name}`, stats.columns, replacement, earlier);
    const copy = `${stats.schema}.${q(context.objectName(`st${n + 1}`))}`;
    carried.buildCopies.push(await statisticsCopy(context, stats, column, twin, copy));
    if (stats.target >= 0) carried.buildCopies.push(`ALTER STATISTICS ${copy} SET STATISTICS ${stats.target}`);
    carried.afterSwap.push(`ALTER STATISTICS ${copy} RENAME TO ${q(stats.name)}`);
  }

  if (facts.keeps_not_null && finalName === column) {
    const name = facts.not_null_name ?? postgresGeneratedName(table, column, 'not_null');
    carried.renameNotNull = `ALTER TABLE ${q(table)} RENAME CONSTRAINT ${q(postgresGeneratedName(table, twin, 'not_null'))} TO ${q(name)}`;
  }
  if (facts.comment !== null) carried.afterSwap.push(`COMMENT ON COLUMN ${q(table)}.${q(finalName)} IS ${stringLiteral(facts.comment)}`);
  // After the unique copies took their names: a foreign key needs its referenced unique index. It
  // holds for new rows at once, and its scan of the existing ones comes after the swap commits.
  for (const fk of incoming) {
    carried.afterSwap.push(`ALTER TABLE ${fk.table} ADD CONSTRAINT ${q(fk.name)} ${fk.definition.replace(/\s+NOT VALID$/, '')} NOT VALID`);
    if (fk.validated) carried.validateAfterSwap.push(`ALTER TABLE ${fk.table} VALIDATE CONSTRAINT ${q(fk.name)}`);
  }
  return carried;
}

/**
 * The name PostgreSQL gives an unnamed constraint (makeObjectName): `<table>_<column>_<label>`, the
 * longer of the two names cut first so that the whole fits in 63 bytes. (It adds a number when that
 * name is taken, which a twin's name never is.)
 */
export function postgresGeneratedName(name1: string, name2: string, label: string): string {
  const available = 63 - (label.length + 2);
  let bytes1 = Buffer.byteLength(name1);
  let bytes2 = Buffer.byteLength(name2);
  while (bytes1 + bytes2 > available) {
    if (bytes1 > bytes2) bytes1--;
    else bytes2--;
  }
  return `${clipBytes(name1, bytes1)}_${clipBytes(name2, bytes2)}_${label}`;
}

/** The longest prefix of whole characters within `bytes` UTF-8 bytes. */
function clipBytes(text: string, bytes: number): string {
  let result = '';
  for (const ch of text) {
    if (Buffer.byteLength(result + ch) > bytes) break;
    result += ch;
  }
  return result;
}

interface IncomingForeignKey {
  name: string;
  /** The referencing table as SQL (regclass text: quoted, and qualified when off the search path). */
  table: string;
  definition: string;
  validated: boolean;
}

/**
 * Foreign keys that reference the column. A type change keeps the column's name, so each comes back
 * as it was (PostgreSQL compares an int column with a bigint key; the README tells to widen the
 * referencing columns too). A rename would change what they reference: refused.
 */
async function incomingForeignKeys(context: OperationContext, replacement: Replacement, attnum: number): Promise<IncomingForeignKey[]> {
  const { table, column } = replacement;
  const referencing = await context.inspect.catalogRows<IncomingForeignKey>(
    `SELECT conname AS name, conrelid::regclass::text AS "table", pg_get_constraintdef(oid) AS definition, convalidated AS validated FROM pg_constraint
      WHERE confrelid = to_regclass(?) AND contype = 'f' AND ?::int2 = ANY (confkey) ORDER BY 2, 1`,
    [context.inspect.regclass(table), attnum],
  );
  if (referencing.length === 0 || replacement.finalName === column) return referencing;
  const list = referencing.map((fk) => `${fk.name} of table ${fk.table}`).join(', ');
  throw new Error(`column ${table}.${column} is referenced by foreign key ${list}; contract drops the old column, and the keys with it: drop them in an earlier migration and add them again, referencing ${replacement.finalName}, after this one's contract`);
}

/** Anything else that names the column would break, or be dropped with it, at contract. */
async function refuseOtherDependents(context: OperationContext, table: string, column: string, attnum: number): Promise<void> {
  const others = await context.inspect.catalogRows<{ what: string }>(
    `SELECT DISTINCT CASE ${VIEW_OF_RULE}
                          ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END AS what
       FROM pg_depend d
      WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass(?) AND d.refobjsubid = ?
        AND d.classid NOT IN ('pg_constraint'::regclass, 'pg_statistic_ext'::regclass)
        AND NOT (d.classid = 'pg_class'::regclass AND EXISTS (SELECT 1 FROM pg_index i WHERE i.indexrelid = d.objid))
        AND NOT (d.classid = 'pg_attrdef'::regclass AND EXISTS (SELECT 1 FROM pg_attrdef ad WHERE ad.oid = d.objid AND ad.adrelid = d.refobjid AND ad.adnum = d.refobjsubid))
        AND NOT (d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') AND EXISTS (SELECT 1 FROM pg_class seq WHERE seq.oid = d.objid AND seq.relkind = 'S'))
        AND ${NOT_TANDEM_VIEW}
      ORDER BY 1`,
    [context.inspect.regclass(table), attnum, TANDEM_VIEW_COMMENT],
  );
  if (others.length === 0) return;
  const them = others.length === 1 ? 'it' : 'them';
  throw new Error(`column ${table}.${column} is used by ${others.map((o) => o.what).join(', ')}; contract drops the old column, which would drop or break ${them}: drop ${them} in an earlier migration and create ${them} again after this one's contract`);
}

/**
 * dropColumn: refuse at compile what would make its contract fail. PostgreSQL drops a column's
 * indexes, constraints and statistics with it, but not an object that merely uses the column: a
 * view, another table's foreign key, a trigger with `UPDATE OF` or a WHEN clause on it, a policy, a
 * generated column. Those (the dependencies DROP COLUMN would not take along) are named here, before
 * expand, instead of in contract's error after the deploy.
 */
export async function refuseDropBlockers(context: OperationContext, table: string, column: string): Promise<void> {
  const blockers = await context.inspect.catalogRows<{ what: string }>(
    `SELECT DISTINCT CASE ${VIEW_OF_RULE}
                          WHEN d.classid = 'pg_attrdef'::regclass
                          THEN (SELECT 'generated ' || pg_describe_object('pg_class'::regclass, ad.adrelid, ad.adnum) FROM pg_attrdef ad WHERE ad.oid = d.objid)
                          ELSE pg_describe_object(d.classid, d.objid, d.objsubid) END AS what
       FROM pg_depend d
      WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass(?) AND d.deptype = 'n'
        AND d.refobjsubid = (SELECT attnum FROM pg_attribute WHERE attrelid = to_regclass(?) AND attname = ? AND NOT attisdropped)
        AND NOT EXISTS (SELECT 1 FROM pg_depend own
                         WHERE own.classid = d.classid AND own.objid = d.objid AND own.refclassid = d.refclassid
                           AND own.refobjid = d.refobjid AND own.refobjsubid = d.refobjsubid AND own.deptype IN ('a', 'i'))
        AND ${NOT_TANDEM_VIEW}
      ORDER BY 1`,
    [context.inspect.regclass(table), context.inspect.regclass(table), column, TANDEM_VIEW_COMMENT],
  );
  if (blockers.length === 0) return;
  const them = blockers.length === 1 ? 'it' : 'them';
  throw new Error(
    `column ${table}.${column} is used by ${blockers.map((b) => b.what).join(', ')}; contract drops the column, which PostgreSQL refuses while ${blockers.length === 1 ? 'that depends' : 'those depend'} on it: drop ${them}, or change ${them} not to use the column, in an earlier migration`,
  );
}

/**
 * The column's own settings as ALTER COLUMN clauses for `twin`. Storage and compression only where
 * the column was given its own and the new type can take them (a plain type, such as bigint, stores
 * every value inline).
 */
function columnSettings(facts: ColumnFacts, twin: string): string[] {
  const clauses: string[] = [];
  if (facts.statistics_target >= 0) clauses.push(`ALTER COLUMN ${twin} SET STATISTICS ${facts.statistics_target}`);
  // The catalog keeps them as key=value with a number for a value.
  const options = facts.distinct_options.map((option) => option.split('=')).filter(([key, value]) => /^n_distinct(_inherited)?$/.test(key!) && /^-?[0-9.e+-]+$/.test(value ?? ''));
  if (options.length > 0) clauses.push(`ALTER COLUMN ${twin} SET (${options.map(([key, value]) => `${key} = ${value}`).join(', ')})`);
  const takesStorage = facts.new_type_storage !== null && facts.new_type_storage !== 'p';
  if (takesStorage && facts.storage !== facts.type_storage) clauses.push(`ALTER COLUMN ${twin} SET STORAGE ${STORAGE[facts.storage]}`);
  if (takesStorage && facts.compression !== '') clauses.push(`ALTER COLUMN ${twin} SET COMPRESSION ${COMPRESSION[facts.compression]}`);
  return clauses;
}

const STORAGE: Record<string, string> = { p: 'PLAIN', e: 'EXTERNAL', m: 'MAIN', x: 'EXTENDED' };
const COMPRESSION: Record<string, string> = { p: 'pglz', l: 'lz4' };

/** CREATE STATISTICS named `copy` (SQL), with the twin in the column's place. */
async function statisticsCopy(context: OperationContext, stats: StatisticsRow, column: string, twin: string, copy: string): Promise<string> {
  // CREATE STATISTICS schema.name [(kinds)] ON …: the name ends where the kinds or ON begin.
  const tokens = tokenizeStatement(stats.definition, 'postgres');
  const nameAt = tokens.findIndex((token) => token.upper === 'STATISTICS') + 1;
  const end = tokens.findIndex((token, i) => i > nameAt && (token.text === '(' || (token.kind === 'word' && token.upper === 'ON')));
  const renamed = await renameColumnRefs(`CREATE STATISTICS ${copy}${stats.definition.slice(tokens[end - 1]!.end)}`, column, twin, context.quote);
  if (renamed === null) throw new Error(`statistics object ${stats.name} on column ${column} could not be made on the new column with certainty (${stats.definition}): drop it in an earlier migration and create it again after this one's contract`);
  return renamed;
}

/** `CREATE INDEX CONCURRENTLY` of the index with the twin in the column's place. */
async function indexCopy(context: OperationContext, index: IndexRow, column: string, twin: string, copy: string): Promise<string> {
  const renamed = await renameColumnRefs(index.definition, column, twin, context.quote);
  if (renamed === null) throw new Error(`index ${index.name} on column ${column} could not be rebuilt on the new column with certainty (${index.definition}): drop it in an earlier migration and create it again after this one's contract`);
  const tokens = tokenizeStatement(renamed, 'postgres');
  // CREATE [UNIQUE] INDEX name ON …: everything from ON on stays as the catalog printed it.
  const nameAt = tokens.findIndex((token) => token.upper === 'INDEX') + 1;
  const on = tokens.find((token, i) => i > nameAt && token.kind === 'word' && token.upper === 'ON' && token.depth === 0)!;
  const unique = tokens.slice(0, nameAt).some((token) => token.upper === 'UNIQUE');
  return `CREATE ${unique ? 'UNIQUE ' : ''}INDEX CONCURRENTLY IF NOT EXISTS ${context.quote(copy)} ${renamed.slice(on.start)}`;
}

/** `ADD CONSTRAINT … NOT VALID` of the foreign key or CHECK with the twin in the column's place. */
async function constraintCopy(context: OperationContext, table: string, constraint: ConstraintRow, column: string, twin: string, copy: string): Promise<string> {
  const definition = constraint.definition.replace(/\s+NOT VALID$/, '');
  const prefix = `ALTER TABLE ${context.quote(table)} ADD CONSTRAINT ${context.quote(copy)} `;
  const sql = `${prefix}${definition} NOT VALID`;
  // A foreign key's own columns are the list after FOREIGN KEY; the referenced ones are another table's.
  const within = constraint.type === 'f' ? ownColumnList(sql, prefix.length) : { start: prefix.length, end: sql.length };
  const renamed = within && (await renameColumnRefs(sql, column, twin, context.quote, { within, foreignKeyColumnsOnly: constraint.type === 'f' }));
  if (!renamed) throw new Error(`constraint ${constraint.name} on column ${column} could not be rebuilt on the new column with certainty (${constraint.definition}): drop it in an earlier migration and add it again after this one's contract`);
  return renamed;
}

function ownColumnList(sql: string, from: number): { start: number; end: number } | null {
  const tokens = tokenizeStatement(sql, 'postgres');
  const open = tokens.findIndex((token) => token.start >= from && token.text === '(');
  const close = tokens.findIndex((token, i) => i > open && token.text === ')' && token.depth === tokens[open]!.depth);
  return open >= 0 && close > open ? { start: tokens[open]!.end, end: tokens[close]!.start } : null;
}

