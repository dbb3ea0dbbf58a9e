import { spanOf } from '../parse/tokens.js';
import type { Hit, Rule, RuleContext } from '../types.js';
import { collationKey } from '../facts.js';
import { resolvedCollation } from '../mysql-collations.js';
import { FORWARD, hit, mysqlAlterTable, mysqlCanonicalType, mysqlColumnDef, mysqlGuarded, pgAlterTable } from './helpers.js';

export const changeColumnType: Rule = {
  id: 'change-column-type',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'Changing a column type in a way that rewrites the table',
  why: 'Most type changes rewrite every row and rebuild every index while holding the strongest lock: PostgreSQL ACCESS EXCLUSIVE (no reads, no writes), MySQL ALGORITHM=COPY (no writes). A narrowing change also breaks the app version that still writes wider values. Only a few changes are catalog-only: varchar(n) to a longer varchar or text, numeric(p,s) to a larger precision, a MySQL ENUM gaining values at the end, a VARCHAR growing within its length-byte size.',
  lock: 'PostgreSQL: ACCESS EXCLUSIVE for the whole rewrite. MySQL: ALGORITHM=COPY, writes blocked for the whole copy.',
  fix: 'Add a new column of the new type in expand with a trigger keeping it in step, backfill it, switch the app to it, drop the old column in contract (see migrations-examples/*/20260102000000_widen_account_balance.sql).',
  examples: {
    bad: [
      { sql: 'ALTER TABLE accounts ALTER COLUMN balance TYPE bigint;' },
      { sql: 'ALTER TABLE users ALTER COLUMN code TYPE varchar(10) USING left(code, 10);' },
      { sql: 'ALTER TABLE accounts MODIFY balance BIGINT NOT NULL;', dialect: 'mysql' },
      { sql: '-- tandem:expand\nCREATE TABLE tags (id int PRIMARY KEY, name varchar(20) CHARACTER SET latin1 COLLATE latin1_bin NULL);\n-- tandem:contract\nALTER TABLE tags MODIFY name varchar(20) CHARACTER SET utf8mb4 NOT NULL;', dialect: 'mysql' },
      { sql: '-- tandem:expand\nCREATE TABLE tags (id int PRIMARY KEY, name varchar(20) CHARACTER SET latin1 NULL);\n-- tandem:contract\nALTER TABLE tags MODIFY name varchar(20) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL;', dialect: 'mysql' },
    ],
    good: [
      { sql: '-- tandem:expand\nCREATE TABLE users (id bigint PRIMARY KEY, email varchar(100));\n-- tandem:contract\nALTER TABLE users ALTER COLUMN email TYPE varchar(200);', note: 'the old type is known from the CREATE TABLE: a longer varchar is catalog-only' },
      { sql: 'ALTER TABLE users ADD COLUMN balance_cents bigint;', phase: 'expand' },
      { sql: "ALTER TABLE users MODIFY status ENUM('a','b','c') NOT NULL, ALGORITHM=INSTANT;", dialect: 'mysql' },
      { sql: '-- tandem:expand\nCREATE TABLE orders (id int PRIMARY KEY, product_id integer);\n-- tandem:contract\nALTER TABLE orders MODIFY product_id int(11) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;', dialect: 'mysql', note: 'INTEGER and int(11) are the same type: only the nullability changes, in place' },
      { sql: '-- tandem:expand\nCREATE TABLE tags (id int PRIMARY KEY, name varchar(20) CHARACTER SET latin1 COLLATE latin1_bin NULL);\n-- tandem:contract\nALTER TABLE tags MODIFY name varchar(20) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;', dialect: 'mysql', note: 'the character set and collation the column already has, re-stated (MODIFY would reset them otherwise): only the nullability changes' },
      { sql: '-- tandem:expand\nCREATE TABLE tags (id int PRIMARY KEY, name varchar(20) CHARACTER SET latin1 NULL, code varchar(5) COLLATE ascii_bin NULL, note text CHARACTER SET utf8 NULL);\n-- tandem:contract\nALTER TABLE tags MODIFY name varchar(20) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL, MODIFY code varchar(5) CHARACTER SET ascii COLLATE ascii_bin NOT NULL, MODIFY note text CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;', dialect: 'mysql', versions: { mariadb: [10, 11] }, note: 'the same character sets and collations spelled out: latin1\'s default collation, ascii_bin\'s character set, utf8 as utf8mb3 with its default collation on MariaDB 10.11' },
    ],
  },
  check(context) {
    return context.dialect === 'postgres' ? checkPostgres(context) : checkMysql(context);
  },
};

const TEXTUAL = new Set(['text', 'varchar', 'character varying', 'citext']);

/** Whether PostgreSQL changes the type without rewriting (binary-coercible and not narrowing). */
function pgNoRewrite(oldType: string, newType: string): boolean | null {
  const parse = (type: string) => {
    const match = /^([a-z_. ]+?)(?:\((\d+)(?:,(\d+))?\))?$/.exec(type);
    return match ? { name: match[1]!, p: match[2] ? Number(match[2]) : null, s: match[3] ? Number(match[3]) : null } : null;
  };
  const a = parse(oldType);
  const b = parse(newType);
  if (!a || !b) return null;
  if (TEXTUAL.has(a.name) && (b.name === 'text' || (b.name === 'varchar' && (b.p === null || (a.name === 'varchar' && a.p !== null && b.p >= a.p))))) return true;
  if (a.name === 'numeric' && b.name === 'numeric') return b.p === null || (a.p !== null && b.p >= a.p && (b.s ?? 0) === (a.s ?? 0));
  if ((a.name === 'varbit' || a.name === 'bit varying') && b.name === a.name) return b.p === null || (a.p !== null && b.p >= a.p);
  if (a.name === 'cidr' && b.name === 'inet') return true;
  if (a.name === b.name && a.p === b.p && a.s === b.s) return true;
  return false;
}

function checkPostgres(context: RuleContext): Hit[] {
  const alter = pgAlterTable(context);
  if (!alter || alter.isNew) return [];
  const hits: Hit[] = [];
  const columns = context.schema.get(alter.table);
  for (const command of alter.commands) {
    if (command.subtype !== 'AT_AlterColumnType') continue;
    const def = command.cmd.def?.ColumnDef;
    const names = (def?.typeName?.names ?? []).map((n: any) => String(n.String?.sval ?? '')).filter((n: string) => n !== 'pg_catalog');
    const mods = (def?.typeName?.typmods ?? []).map((m: any) => m?.A_Const?.ival?.ival ?? '').join(',');
    const newType = `${names.join('.')}${mods ? `(${mods})` : ''}`.toLowerCase();
    const column = String(command.cmd.name);
    const oldType = columns?.get(column);
    const target = `${alter.table}.${column}`;
    if (def?.raw_default) {
      hits.push(hit(command.span, `changes the type of ${target} to ${newType} with USING: PostgreSQL rewrites the table under ACCESS EXCLUSIVE (no reads or writes until done)`));
      continue;
    }
    const safe = oldType ? pgNoRewrite(oldType, newType) : null;
    if (safe === true) continue;
    if (safe === false) {
      hits.push(hit(command.span, `changes the type of ${target} from ${oldType} to ${newType}: PostgreSQL rewrites the table and its indexes under ACCESS EXCLUSIVE (no reads or writes until done)`));
    } else if (/^(text|varchar|numeric)/.test(newType)) {
      hits.push(hit(command.span, `changes the type of ${target} to ${newType}: catalog-only if the old type is a shorter varchar/numeric of the same kind, a full rewrite under ACCESS EXCLUSIVE otherwise (the old type is not known from the linted files)`, { severity: 'warning' }));
    } else {
      hits.push(hit(command.span, `changes the type of ${target} to ${newType}: PostgreSQL rewrites the table and its indexes under ACCESS EXCLUSIVE (no reads or writes until done)`));
    }
  }
  return hits;
}

function checkMysql(context: RuleContext): Hit[] {
  const alter = mysqlAlterTable(context);
  if (!alter || alter.isNew) return [];
  const hits: Hit[] = [];
  const tokens = context.statement.tokens;
  const columns = context.schema.get(alter.table);
  for (const clause of alter.clauses) {
    if (clause.kind !== 'modify-column' && clause.kind !== 'change-column') continue;
    const def = mysqlColumnDef(tokens, clause.defStart, clause.last);
    const oldType = columns?.get(clause.name);
    const target = `${alter.table}.${clause.name}`;
    const span = def.typeSpan.end > def.typeSpan.start ? def.typeSpan : spanOf(tokens, clause.first, clause.last);
    // A re-stated character set and collation that the column already had (tandem repeats them,
    // since MySQL would otherwise reset them to the table's) changes nothing, however spelled.
    const had = columns?.get(collationKey(clause.name));
    const sameCharset = !def.charset || (def.collation !== null && !!had && resolvedCollation(had, context.versions) === resolvedCollation(def.collation, context.versions));
    if (oldType !== undefined) {
      if (mysqlCanonicalType(oldType) === mysqlCanonicalType(def.fullType) && sameCharset) continue;
      if (mysqlInPlace(oldType, def.fullType) && sameCharset) continue;
    }
    const what = oldType !== undefined ? `from ${oldType} to ${def.fullType}` : `to ${def.fullType}`;
    if (mysqlGuarded(alter)) {
      if (oldType === undefined) continue; // the server refuses a copying change under LOCK=NONE/INSTANT, and the old type is unknown
      hits.push(hit(span, `changes ${target} ${what}, which needs ALGORITHM=COPY: with ${alter.algorithm ? `ALGORITHM=${alter.algorithm}` : `LOCK=${alter.lock}`} the server refuses the statement`, { severity: 'warning' }));
    } else if (oldType === undefined) {
      hits.push(hit(span, `redefines ${target} ${what}: if the type differs from the current one, MySQL copies the table (ALGORITHM=COPY, writes blocked throughout); the current type is not known from the linted files`, { severity: 'warning', fix: 'state ALGORITHM=INPLACE, LOCK=NONE (or ALGORITHM=INSTANT) so MySQL refuses instead of copying; for a real type change use a new column, a trigger and a backfill' }));
    } else {
      hits.push(hit(span, `changes ${target} ${what}: MySQL copies the table (ALGORITHM=COPY), blocking writes for the whole copy`));
    }
  }
  return hits;
}

/** MySQL changes that avoid a copy: ENUM/SET values appended, VARCHAR growing within the same length-byte size. */
function mysqlInPlace(oldType: string, newType: string): boolean {
  const enumOld = /^(ENUM|SET)\((.*)\)$/.exec(oldType);
  const enumNew = /^(ENUM|SET)\((.*)\)$/.exec(newType);
  if (enumOld && enumNew && enumOld[1] === enumNew[1]) return enumNew[2]!.startsWith(enumOld[2]!);
  const a = /^VARCHAR\((\d+)\)$/.exec(oldType);
  const b = /^VARCHAR\((\d+)\)$/.exec(newType);
  if (a && b) {
    const from = Number(a[1]);
    const to = Number(b[1]);
    // utf8mb4: up to 4 bytes a character; the length prefix grows from 1 to 2 bytes past 255 bytes.
    return to >= from && (to * 4 <= 255 || from * 4 > 255);
  }
  return false;
}
