import { atLeast } from '../config.js';
import { findWord, identifier, isWord, readName, spanOf, splitClauses, tokenIndexAt, wordsAt } from '../parse/tokens.js';
import type { Hit, LintPhase, RuleContext, Span, Token, Version } from '../types.js';
import { ALL_PHASES, OLD_APP_PHASES } from '../types.js';

export { ALL_PHASES, OLD_APP_PHASES };
/** Everything but rollback, which undoes expand after the new app was rolled back. */
export const FORWARD: readonly LintPhase[] = ['expand', 'backfill', 'contract', 'plain'];

/**
 * Names tandem gives its own objects (twin columns, parked views): `tandem_<8 hex>_…`. No app
 * version knows them, so renaming one away breaks nobody.
 */
export function isTandemInternalName(name: string): boolean {
  return /^tandem_[0-9a-f]{8}_/.test(name);
}

export function hit(span: Span, message: string, extra: Partial<Hit> = {}): Hit {
  return { span, message, ...extra };
}

/** Span of the statement's leading keywords (up to `count` tokens). */
export function headSpan(context: RuleContext, count = 2): Span {
  const tokens = context.statement.tokens;
  return spanOf(tokens, 0, Math.min(count, tokens.length) - 1);
}

export function pg(context: RuleContext, type: string): any | null {
  return context.statement.pg?.type === type ? context.statement.pg.node : null;
}

export function pgAtLeast(context: RuleContext, major: number): boolean {
  return atLeast(context.versions.postgres, [major]);
}

/** The MySQL or MariaDB version the rule should reason about, and which of the two it is. */
export function mysqlTarget(context: RuleContext): { mariadb: boolean; version: Version; name: string } {
  if (context.versions.mariadb) return { mariadb: true, version: context.versions.mariadb, name: `MariaDB ${context.versions.mariadb.join('.')}` };
  const version = context.versions.mysql ?? [8, 0, 36];
  return { mariadb: false, version, name: `MySQL ${version.join('.')}` };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL ALTER TABLE: each command with the span of its clause.

export interface PgAlterCommand {
  subtype: string;
  cmd: any;
  span: Span;
  /** Token range of the clause. */
  first: number;
  last: number;
}

export interface PgAlter {
  table: string;
  tableSpan: Span;
  commands: PgAlterCommand[];
  /** Whether the table was created earlier in this section (empty: locks cost nothing). */
  isNew: boolean;
}

const pgAlterCache = new WeakMap<object, PgAlter | null>();
const mysqlAlterCache = new WeakMap<object, MysqlAlter | null>();

/** The statement's ALTER TABLE commands with their clause spans (computed once per statement, shared by the rules). */
export function pgAlterTable(context: RuleContext): PgAlter | null {
  const cached = pgAlterCache.get(context.statement);
  if (cached !== undefined) return cached && { ...cached, isNew: context.isNewTable(cached.table) };
  const result = computePgAlterTable(context);
  pgAlterCache.set(context.statement, result);
  return result;
}

function computePgAlterTable(context: RuleContext): PgAlter | null {
  const node = pg(context, 'AlterTableStmt');
  if (!node || (node.objtype && node.objtype !== 'OBJECT_TABLE')) return null;
  const tokens = context.statement.tokens;
  const at = tokenIndexAt(tokens, node.relation?.location ?? 0);
  const name = readName(tokens, at, 'postgres');
  let next = name.next;
  if (tokens[next]?.text === '*') next++;
  const clauses = splitClauses(tokens, next);
  const cmds: any[] = (node.cmds ?? []).map((c: any) => c.AlterTableCmd ?? c);
  const table = String(node.relation?.relname ?? '');
  return {
    table,
    tableSpan: spanOf(tokens, at, name.next - 1),
    isNew: context.isNewTable(table),
    commands: cmds.map((cmd, i) => {
      const clause = clauses.length === cmds.length ? clauses[i]! : { first: 0, last: tokens.length - 1 };
      return { subtype: String(cmd.subtype), cmd, span: spanOf(tokens, clause.first, clause.last), first: clause.first, last: clause.last };
    }),
  };
}

/** The columns an ALTER TABLE adds to a table that existed before this section (PostgreSQL): each ADD COLUMN with its ColumnDef. */
export function pgAddedColumns(context: RuleContext): Array<{ alter: PgAlter; command: PgAlterCommand; def: any }> {
  const alter = pgAlterTable(context);
  if (!alter || alter.isNew) return [];
  return alter.commands.filter((command) => command.subtype === 'AT_AddColumn').map((command) => ({ alter, command, def: command.cmd.def?.ColumnDef }));
}

/** Constraints of a ColumnDef by type. */
export function columnConstraints(columnDef: any, contype: string): any[] {
  return (columnDef?.constraints ?? []).map((c: any) => c.Constraint).filter((c: any) => c?.contype === contype);
}

/** Span from a node location to the end of the clause that holds it. */
export function spanFrom(context: RuleContext, location: number | undefined, clauseLast: number): Span {
  const tokens = context.statement.tokens;
  if (location === undefined || location < 0) return spanOf(tokens, clauseLast, clauseLast);
  return spanOf(tokens, tokenIndexAt(tokens, location), clauseLast);
}

/** Span of the words starting at a node location (e.g. the `serial` of a column type). */
export function spanAt(context: RuleContext, location: number | undefined, count = 1): Span {
  const tokens = context.statement.tokens;
  const at = tokenIndexAt(tokens, location ?? 0);
  return spanOf(tokens, at, at + count - 1);
}

/** Names of functions whose value changes per row: a default calling them cannot be stored once in the catalog. */
const VOLATILE_FUNCTIONS = new Set(['random', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v1mc', 'uuid_generate_v4', 'uuidv4', 'uuidv7', 'clock_timestamp', 'timeofday', 'nextval', 'setseed', 'txid_current', 'pg_current_xact_id', 'random_normal']);
/** Functions known to be stable or immutable (evaluated once for ADD COLUMN … DEFAULT). */
const STABLE_FUNCTIONS = new Set(['now', 'current_timestamp', 'current_date', 'current_time', 'localtimestamp', 'localtime', 'transaction_timestamp', 'statement_timestamp', 'lower', 'upper', 'coalesce', 'concat', 'to_jsonb', 'jsonb_build_object', 'jsonb_build_array', 'json_build_object', 'array', 'make_interval', 'date_trunc', 'timezone', 'current_user', 'current_setting', 'length', 'abs', 'round']);

/** 'volatile' when the expression calls a volatile function, 'unknown' for a function we do not know, else 'constant'. */
export function defaultVolatility(expr: any): { kind: 'constant' | 'volatile' | 'unknown'; name?: string; location?: number } {
  let result: { kind: 'constant' | 'volatile' | 'unknown'; name?: string; location?: number } = { kind: 'constant' };
  const visit = (node: any): void => {
    if (!node || typeof node !== 'object' || result.kind === 'volatile') return;
    if (Array.isArray(node)) return node.forEach(visit);
    if (node.FuncCall) {
      const name = String(node.FuncCall.funcname?.[node.FuncCall.funcname.length - 1]?.String?.sval ?? '').toLowerCase();
      if (VOLATILE_FUNCTIONS.has(name)) result = { kind: 'volatile', name, location: node.FuncCall.location };
      else if (!STABLE_FUNCTIONS.has(name) && result.kind === 'constant') result = { kind: 'unknown', name, location: node.FuncCall.location };
    }
    if (node.SQLValueFunction) {
      // CURRENT_TIMESTAMP etc.: stable, evaluated once.
    }
    for (const value of Object.values(node)) if (value && typeof value === 'object') visit(value);
  };
  visit(expr);
  return result;
}

// ---------------------------------------------------------------------------------------------
// MySQL ALTER TABLE from tokens.

export type MysqlClauseKind =
  | 'add-column' | 'drop-column' | 'modify-column' | 'change-column' | 'alter-column' | 'rename-column'
  | 'add-index' | 'add-unique' | 'add-fulltext' | 'add-spatial' | 'add-primary-key' | 'add-foreign-key' | 'add-check'
  | 'drop-index' | 'drop-primary-key' | 'drop-foreign-key' | 'drop-check' | 'rename-index' | 'alter-index'
  | 'rename-table' | 'convert-charset' | 'table-charset' | 'engine' | 'row-format' | 'force' | 'algorithm' | 'lock'
  | 'partition' | 'table-option' | 'other';

export interface MysqlClause {
  kind: MysqlClauseKind;
  first: number;
  last: number;
  span: Span;
  /** Column (or index) name the clause is about. */
  name: string;
  /** Token index where a column definition starts (after its name), for add/modify/change. */
  defStart: number;
  value: string;
}

export interface MysqlAlter {
  table: string;
  tableSpan: Span;
  clauses: MysqlClause[];
  algorithm: string | null;
  lock: string | null;
  isNew: boolean;
}

export function mysqlAlterTable(context: RuleContext): MysqlAlter | null {
  const cached = mysqlAlterCache.get(context.statement);
  if (cached !== undefined) return cached && { ...cached, isNew: context.isNewTable(cached.table) };
  const result = computeMysqlAlterTable(context);
  mysqlAlterCache.set(context.statement, result);
  return result;
}

/**
 * The partition clauses (ADD/DROP/REORGANIZE/EXCHANGE … PARTITION, PARTITION BY, REMOVE
 * PARTITIONING, …) of a MySQL ALTER TABLE on a table that existed before the file, each with its
 * words in upper case; null for any other statement.
 */
export function mysqlPartitionClauses(context: RuleContext): { table: string; clauses: Array<MysqlClause & { words: string[] }> } | null {
  const alter = mysqlAlterTable(context);
  if (!alter || alter.isNew) return null;
  const tokens = context.statement.tokens;
  const clauses = alter.clauses
    .filter((clause) => clause.kind === 'partition')
    .map((clause) => ({ ...clause, words: tokens.slice(clause.first, clause.last + 1).filter((token) => token.kind === 'word').map((token) => token.upper) }));
  return { table: alter.table, clauses };
}

function computeMysqlAlterTable(context: RuleContext): MysqlAlter | null {
  const tokens = context.statement.tokens;
  if (!isWord(tokens[0], 'ALTER')) return null;
  const tableAt = findWord(tokens, 1, ['TABLE']);
  if (tableAt < 0 || tableAt > 3) return null;
  const name = readName(tokens, tableAt + 1, 'mysql');
  const clauses = splitClauses(tokens, name.next).map((c) => classifyMysqlClause(tokens, c.first, c.last));
  const algorithm = clauses.find((c) => c.kind === 'algorithm')?.value ?? null;
  const lock = clauses.find((c) => c.kind === 'lock')?.value ?? null;
  return { table: name.name, tableSpan: spanOf(tokens, name.first, name.next - 1), clauses, algorithm, lock, isNew: context.isNewTable(name.name) };
}

function optionValue(tokens: Token[], first: number, last: number): string {
  let i = first + 1;
  if (tokens[i]?.text === '=') i++;
  return i <= last ? tokens[i]!.upper.toUpperCase() : '';
}

export function classifyMysqlClause(tokens: Token[], first: number, last: number): MysqlClause {
  const t = (k: number) => tokens[first + k];
  const base = { first, last, span: spanOf(tokens, first, last), name: '', defStart: -1, value: '' };
  const w = (k: number, ...words: string[]) => isWord(t(k), ...words);
  const nameAfter = (k: number): { name: string; next: number } => {
    let i = first + k;
    if (wordsAt(tokens, i, 'IF', 'NOT', 'EXISTS')) i += 3;
    else if (wordsAt(tokens, i, 'IF', 'EXISTS')) i += 2;
    return { name: identifier(tokens[i], 'mysql'), next: i + 1 };
  };
  if (w(0, 'ADD')) {
    if (w(1, 'INDEX', 'KEY')) return { ...base, kind: 'add-index' };
    if (w(1, 'UNIQUE')) return { ...base, kind: 'add-unique' };
    if (w(1, 'FULLTEXT')) return { ...base, kind: 'add-fulltext' };
    if (w(1, 'SPATIAL')) return { ...base, kind: 'add-spatial' };
    if (w(1, 'PRIMARY')) return { ...base, kind: 'add-primary-key' };
    if (w(1, 'FOREIGN')) return { ...base, kind: 'add-foreign-key' };
    if (w(1, 'CHECK')) return { ...base, kind: 'add-check' };
    if (w(1, 'PARTITION')) return { ...base, kind: 'partition' };
    if (w(1, 'CONSTRAINT')) {
      const kindAt = findWord(tokens, first + 1, ['PRIMARY', 'UNIQUE', 'FOREIGN', 'CHECK']);
      const word = kindAt >= 0 && kindAt <= last ? tokens[kindAt]!.upper : '';
      const kind = word === 'PRIMARY' ? 'add-primary-key' : word === 'UNIQUE' ? 'add-unique' : word === 'FOREIGN' ? 'add-foreign-key' : 'add-check';
      return { ...base, kind };
    }
    const { name, next } = nameAfter(w(1, 'COLUMN') ? 2 : 1);
    return { ...base, kind: 'add-column', name, defStart: next };
  }
  if (w(0, 'DROP')) {
    if (w(1, 'INDEX', 'KEY')) return { ...base, kind: 'drop-index', name: nameAfter(2).name };
    if (w(1, 'PRIMARY')) return { ...base, kind: 'drop-primary-key' };
    if (w(1, 'FOREIGN')) return { ...base, kind: 'drop-foreign-key' };
    if (w(1, 'CHECK', 'CONSTRAINT')) return { ...base, kind: 'drop-check' };
    if (w(1, 'PARTITION')) return { ...base, kind: 'partition' };
    return { ...base, kind: 'drop-column', name: nameAfter(w(1, 'COLUMN') ? 2 : 1).name };
  }
  if (w(0, 'MODIFY')) {
    const { name, next } = nameAfter(w(1, 'COLUMN') ? 2 : 1);
    return { ...base, kind: 'modify-column', name, defStart: next };
  }
  if (w(0, 'CHANGE')) {
    const { name, next } = nameAfter(w(1, 'COLUMN') ? 2 : 1);
    return { ...base, kind: 'change-column', name, defStart: next + 1, value: identifier(tokens[next], 'mysql') };
  }
  if (w(0, 'ALTER')) {
    if (w(1, 'INDEX', 'KEY')) return { ...base, kind: 'alter-index' };
    return { ...base, kind: 'alter-column', name: identifier(t(w(1, 'COLUMN') ? 2 : 1), 'mysql') };
  }
  if (w(0, 'RENAME')) {
    if (w(1, 'COLUMN')) return { ...base, kind: 'rename-column', name: identifier(t(2), 'mysql'), value: identifier(t(4), 'mysql') };
    if (w(1, 'INDEX', 'KEY')) return { ...base, kind: 'rename-index' };
    return { ...base, kind: 'rename-table', value: identifier(t(w(1, 'TO', 'AS') ? 2 : 1), 'mysql') };
  }
  if (w(0, 'CONVERT')) return { ...base, kind: 'convert-charset' };
  if (w(0, 'DEFAULT') || w(0, 'CHARACTER', 'CHARSET', 'COLLATE')) return { ...base, kind: 'table-charset' };
  if (w(0, 'ENGINE')) return { ...base, kind: 'engine', value: optionValue(tokens, first, last) };
  if (w(0, 'ROW_FORMAT', 'KEY_BLOCK_SIZE')) return { ...base, kind: 'row-format', value: optionValue(tokens, first, last) };
  if (w(0, 'FORCE')) return { ...base, kind: 'force' };
  if (w(0, 'ALGORITHM')) return { ...base, kind: 'algorithm', value: optionValue(tokens, first, last) };
  if (w(0, 'LOCK')) return { ...base, kind: 'lock', value: optionValue(tokens, first, last) };
  if (w(0, 'PARTITION', 'REMOVE', 'REORGANIZE', 'EXCHANGE', 'COALESCE', 'REBUILD', 'TRUNCATE', 'DISCARD', 'IMPORT')) return { ...base, kind: 'partition' };
  if (w(0, 'COMMENT', 'AUTO_INCREMENT', 'STATS_PERSISTENT', 'STATS_AUTO_RECALC', 'STATS_SAMPLE_PAGES', 'MAX_ROWS', 'MIN_ROWS', 'PACK_KEYS', 'CHECKSUM', 'DELAY_KEY_WRITE')) return { ...base, kind: 'table-option' };
  return { ...base, kind: 'other' };
}

export interface MysqlColumnDef {
  type: string;
  /** Type with its arguments, upper-cased and without spaces: VARCHAR(200). */
  fullType: string;
  notNull: boolean;
  hasDefault: boolean;
  defaultIsExpression: boolean;
  autoIncrement: boolean;
  generated: 'stored' | 'virtual' | null;
  position: 'first' | 'after' | null;
  inlineKey: 'primary' | 'unique' | null;
  charset: boolean;
  /** The column's own CHARACTER SET / COLLATE, upper-cased (`CHARACTER SET LATIN1 COLLATE LATIN1_BIN`), or null. */
  collation: string | null;
  typeSpan: Span;
}

/** The columns an ALTER TABLE adds to a table that existed before this section (MySQL): each ADD COLUMN clause with its definition. */
export function mysqlAddedColumns(context: RuleContext): Array<{ alter: MysqlAlter; clause: MysqlClause; def: MysqlColumnDef }> {
  const alter = context.dialect === 'mysql' ? mysqlAlterTable(context) : null;
  if (!alter || alter.isNew) return [];
  return alter.clauses.filter((clause) => clause.kind === 'add-column').map((clause) => ({ alter, clause, def: mysqlColumnDef(context.statement.tokens, clause.defStart, clause.last) }));
}

/** Read a MySQL column definition from its tokens (type, NULL/NOT NULL, DEFAULT, AUTO_INCREMENT, AS (…) STORED, FIRST/AFTER). */
export function mysqlColumnDef(tokens: Token[], start: number, last: number): MysqlColumnDef {
  const typeToken = tokens[start];
  let fullType = typeToken?.upper ?? '';
  let i = start + 1;
  if (tokens[i]?.text === '(') {
    const depth = tokens[i]!.depth;
    let j = i + 1;
    while (j <= last && !(tokens[j]!.text === ')' && tokens[j]!.depth === depth)) j++;
    fullType += tokens.slice(i, j + 1).map((tk) => tk.text).join('').toUpperCase();
    i = j + 1;
  }
  while (isWord(tokens[i], 'UNSIGNED', 'SIGNED', 'ZEROFILL')) fullType += ` ${tokens[i++]!.upper}`;
  const top = tokens.slice(i, last + 1).filter((tk) => tk.depth === (typeToken?.depth ?? 0));
  const has = (...words: string[]) => top.some((tk) => isWord(tk, ...words));
  const seq = (a: string, b: string) => top.some((tk, k) => isWord(tk, a) && isWord(top[k + 1], b));
  const defaultAt = top.findIndex((tk) => isWord(tk, 'DEFAULT'));
  const afterDefault = defaultAt >= 0 ? top[defaultAt + 1] : undefined;
  const generated = has('AS') || seq('GENERATED', 'ALWAYS') ? (has('STORED', 'PERSISTENT') ? 'stored' : 'virtual') : null;
  return {
    type: typeToken?.upper ?? '',
    fullType,
    notNull: seq('NOT', 'NULL') || seq('PRIMARY', 'KEY'),
    hasDefault: defaultAt >= 0,
    defaultIsExpression: afterDefault?.text === '(',
    autoIncrement: has('AUTO_INCREMENT'),
    generated,
    position: has('FIRST') ? 'first' : has('AFTER') ? 'after' : null,
    inlineKey: seq('PRIMARY', 'KEY') ? 'primary' : has('UNIQUE') ? 'unique' : null,
    charset: seq('CHARACTER', 'SET') || has('CHARSET', 'COLLATE'),
    collation: collationClause(top),
    typeSpan: typeToken ? { start: typeToken.start, end: tokens[Math.max(start, i - 1)]!.end } : { start: 0, end: 0 },
  };
}

/** `CHARACTER SET x COLLATE y` of a column definition's top-level tokens, in that order whatever the spelling, or null. */
function collationClause(top: Token[]): string | null {
  const after = (k: number) => top[k]?.upper.replace(/^[`'"]|[`'"]$/g, '') ?? '';
  let charset = '';
  let collate = '';
  top.forEach((token, k) => {
    if (isWord(token, 'CHARACTER') && isWord(top[k + 1], 'SET')) charset = after(k + 2);
    else if (isWord(token, 'CHARSET')) charset = after(k + 1);
    else if (isWord(token, 'COLLATE')) collate = after(k + 1);
  });
  if (!charset && !collate) return null;
  return [charset && `CHARACTER SET ${charset}`, collate && `COLLATE ${collate}`].filter(Boolean).join(' ');
}

/** An explicit ALGORITHM=INSTANT/INPLACE or LOCK=NONE makes MySQL refuse the ALTER rather than block: it cannot silently copy. */
export function mysqlGuarded(alter: MysqlAlter): boolean {
  return alter.lock === 'NONE' || alter.algorithm === 'INSTANT' || alter.algorithm === 'NOCOPY';
}

/** Table name of a RangeVar-bearing PostgreSQL node. */
export function pgRelName(relation: any): string {
  return String(relation?.relname ?? relation?.RangeVar?.relname ?? '');
}

/**
 * One spelling per MySQL type: INTEGER is INT, BOOLEAN is TINYINT(1), DEC and NUMERIC are DECIMAL,
 * and an integer's display width (`int(11)`, what the server reports) changes nothing stored.
 */
export function mysqlCanonicalType(type: string): string {
  let text = type.toUpperCase().replace(/\s+/g, ' ').trim();
  text = text.replace(/^BOOL(EAN)?\b/, 'TINYINT(1)').replace(/^INTEGER\b/, 'INT').replace(/^(DEC|NUMERIC|FIXED)\b/, 'DECIMAL');
  return text.replace(/^(TINYINT|SMALLINT|MEDIUMINT|INT|BIGINT)\(\d+\)/, (_match, name: string) => (name === 'TINYINT' && /^TINYINT\(1\)/.test(text) ? 'TINYINT(1)' : name));
}
