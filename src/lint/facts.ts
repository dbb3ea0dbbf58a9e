import { findWord, identifier, isWord, readName } from './parse/tokens.js';
import type { RuleContext } from './types.js';
import { mysqlAlterTable, mysqlColumnDef } from './rules/helpers.js';

/** A CHECK (col IS NOT NULL) constraint seen in the file, and whether it is validated. */
export interface NotNullCheck {
  table: string;
  column: string;
  validated: boolean;
}

export const memoryKeys = {
  notNullChecks: 'notNullChecks',
  checks: 'checks',
  lockTimeout: 'lockTimeout',
  fkChecksOff: 'fkChecksOff',
  explicitTransaction: 'explicitTransaction',
  transactionStart: 'transactionStart',
  droppedInTransaction: 'droppedInTransaction',
} as const;

/**
 * Tables, views (`name`) and columns (`table.column`) dropped earlier in the current transaction
 * (PostgreSQL): a rename into such a name in the same transaction is an atomic swap — queries
 * naming it keep working.
 */
export function droppedInTransaction(context: Pick<RuleContext, 'memory'>): Set<string> {
  let dropped = context.memory.get(memoryKeys.droppedInTransaction) as Set<string> | undefined;
  if (!dropped) context.memory.set(memoryKeys.droppedInTransaction, (dropped = new Set()));
  return dropped;
}

export function notNullChecks(context: Pick<RuleContext, 'memory'>): Map<string, NotNullCheck> {
  let checks = context.memory.get(memoryKeys.notNullChecks) as Map<string, NotNullCheck> | undefined;
  if (!checks) {
    checks = new Map();
    context.memory.set(memoryKeys.notNullChecks, checks);
  }
  return checks;
}

/** Every CHECK constraint added in the file (PostgreSQL), by name: its table, and whether it is validated. */
export function checkConstraints(context: Pick<RuleContext, 'memory'>): Map<string, { table: string; validated: boolean }> {
  let checks = context.memory.get(memoryKeys.checks) as Map<string, { table: string; validated: boolean }> | undefined;
  if (!checks) context.memory.set(memoryKeys.checks, (checks = new Map()));
  return checks;
}

/** After the rules ran on a statement: remember what later statements depend on. */
export function trackFacts(context: RuleContext): void {
  const { statement, memory } = context;
  const tokens = statement.tokens;
  if (statement.pg) {
    const { type, node } = statement.pg;
    trackDrops(context, type, node);
    if (type === 'CreateStmt') context.createdTables.add(String(node.relation?.relname ?? '').toLowerCase());
    if (type === 'CreateTableAsStmt') context.createdTables.add(String(node.into?.rel?.relname ?? '').toLowerCase());
    if (type === 'TransactionStmt') {
      const kind = String(node.kind);
      if (kind === 'TRANS_STMT_BEGIN' || kind === 'TRANS_STMT_START') {
        memory.set(memoryKeys.explicitTransaction, true);
        memory.set(memoryKeys.transactionStart, statement.index);
      } else if (['TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_PREPARE', 'TRANS_STMT_COMMIT_PREPARED'].includes(kind)) {
        memory.set(memoryKeys.explicitTransaction, false);
      }
    }
    if (type === 'VariableSetStmt' && ['lock_timeout', 'statement_timeout'].includes(String(node.name))) memory.set(memoryKeys.lockTimeout, true);
    if (type === 'AlterTableStmt') trackNotNullChecks(context, node);
    return;
  }
  // MySQL
  if (isWord(tokens[0], 'CREATE')) {
    const at = findWord(tokens, 1, ['TABLE']);
    if (at > 0 && at <= 2) {
      let i = at + 1;
      if (isWord(tokens[i], 'IF')) i += 3;
      context.createdTables.add(readName(tokens, i, 'mysql').name);
    }
  }
  if (isWord(tokens[0], 'SET')) {
    const names = tokens.filter((t) => t.kind === 'word').map((t) => t.upper);
    if (names.includes('LOCK_WAIT_TIMEOUT')) memory.set(memoryKeys.lockTimeout, true);
    const fk = tokens.findIndex((t) => isWord(t, 'FOREIGN_KEY_CHECKS'));
    if (fk >= 0) {
      const value = tokens[fk + 2]?.upper;
      memory.set(memoryKeys.fkChecksOff, value === '0' || value === 'OFF' || value === 'FALSE');
    }
  }
}

function trackDrops(context: RuleContext, type: string, node: any): void {
  const dropped = droppedInTransaction(context);
  if (!context.inTransaction) {
    dropped.clear();
    return;
  }
  if (type === 'DropStmt' && ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW'].includes(String(node.removeType))) {
    for (const object of node.objects ?? []) {
      const parts = (object.List?.items ?? []).map((item: any) => String(item.String?.sval ?? ''));
      if (parts.length > 0) dropped.add(parts[parts.length - 1]);
    }
  }
  if (type === 'AlterTableStmt') {
    const table = String(node.relation?.relname ?? '');
    for (const raw of node.cmds ?? []) {
      const cmd = raw.AlterTableCmd ?? raw;
      if (cmd.subtype === 'AT_DropColumn') dropped.add(`${table}.${String(cmd.name)}`);
    }
  }
}

function trackNotNullChecks(context: RuleContext, node: any): void {
  const checks = notNullChecks(context);
  const allChecks = checkConstraints(context);
  const table = String(node.relation?.relname ?? '');
  for (const raw of node.cmds ?? []) {
    const cmd = raw.AlterTableCmd ?? raw;
    if (cmd.subtype === 'AT_AddConstraint' && cmd.def?.Constraint?.contype === 'CONSTR_CHECK') {
      const constraint = cmd.def.Constraint;
      allChecks.set(String(constraint.conname ?? `${table}.check${allChecks.size}`), { table, validated: !constraint.skip_validation });
      const test = constraint.raw_expr?.NullTest;
      if (test?.nulltesttype === 'IS_NOT_NULL' && test.arg?.ColumnRef) {
        const fields = test.arg.ColumnRef.fields ?? [];
        const column = String(fields[fields.length - 1]?.String?.sval ?? '');
        checks.set(String(constraint.conname ?? `${table}.${column}`), { table, column, validated: !constraint.skip_validation });
      }
    }
    if (cmd.subtype === 'AT_ValidateConstraint') {
      const check = checks.get(String(cmd.name));
      if (check) check.validated = true;
      const any = allChecks.get(String(cmd.name));
      if (any) any.validated = true;
    }
    if (cmd.subtype === 'AT_DropConstraint') allChecks.delete(String(cmd.name));
  }
}

/** Whether a validated CHECK constraint added in the file is on the table (ATTACH PARTITION may then skip its scan). */
export function hasValidatedCheck(context: RuleContext, table: string): boolean {
  for (const check of checkConstraints(context).values()) if (check.table === table && check.validated) return true;
  return false;
}

/** Whether a validated CHECK (column IS NOT NULL) exists for the column (PostgreSQL 12+ then skips the SET NOT NULL scan). */
export function hasValidatedNotNullCheck(context: RuleContext, table: string, column: string): boolean {
  for (const check of notNullChecks(context).values()) if (check.table === table && check.column === column && check.validated) return true;
  return false;
}

export { identifier };

/** Record column types from CREATE TABLE and ADD COLUMN, for rules that compare an old type with a new one. */
export function trackSchema(context: RuleContext): void {
  const { statement, schema } = context;
  const table = (name: string): Map<string, string> => {
    let columns = schema.get(name);
    if (!columns) schema.set(name, (columns = new Map()));
    return columns;
  };
  if (statement.pg) {
    const { type, node } = statement.pg;
    const typeText = (typeName: any): string => {
      const names = (typeName?.names ?? []).map((n: any) => String(n.String?.sval ?? '')).filter((n: string) => n !== 'pg_catalog');
      const mods = (typeName?.typmods ?? []).map((m: any) => m?.A_Const?.ival?.ival ?? '').join(',');
      return `${names.join('.')}${mods ? `(${mods})` : ''}`.toLowerCase();
    };
    if (type === 'CreateStmt') {
      const columns = table(String(node.relation?.relname ?? ''));
      for (const element of node.tableElts ?? []) if (element.ColumnDef) columns.set(String(element.ColumnDef.colname), typeText(element.ColumnDef.typeName));
    }
    if (type === 'AlterTableStmt') {
      const columns = table(String(node.relation?.relname ?? ''));
      for (const raw of node.cmds ?? []) {
        const cmd = raw.AlterTableCmd ?? raw;
        if (cmd.subtype === 'AT_AddColumn' && cmd.def?.ColumnDef) columns.set(String(cmd.def.ColumnDef.colname), typeText(cmd.def.ColumnDef.typeName));
        if (cmd.subtype === 'AT_AlterColumnType' && cmd.def?.ColumnDef) columns.set(String(cmd.name), typeText(cmd.def.ColumnDef.typeName));
        if (cmd.subtype === 'AT_DropColumn') columns.delete(String(cmd.name));
      }
    }
    return;
  }
  const tokens = statement.tokens;
  const alter = mysqlAlterTable(context);
  if (alter) {
    const columns = table(alter.table);
    for (const clause of alter.clauses) {
      const record = (name: string) => {
        const def = mysqlColumnDef(tokens, clause.defStart, clause.last);
        columns.set(name, mysqlTypeText(tokens, clause.defStart));
        columns.set(nullabilityKey(name), def.notNull ? 'not null' : 'null');
        columns.set(collationKey(name), def.collation ?? '');
      };
      if (clause.kind === 'add-column' || clause.kind === 'modify-column') record(clause.name);
      if (clause.kind === 'change-column') {
        columns.delete(clause.name);
        record(clause.value);
      }
      if (clause.kind === 'drop-column') columns.delete(clause.name);
    }
    return;
  }
  if (isWord(tokens[0], 'CREATE')) {
    const at = findWord(tokens, 1, ['TABLE']);
    if (at < 0 || at > 2) return;
    let i = at + 1;
    if (isWord(tokens[i], 'IF')) i += 3;
    const name = readName(tokens, i, 'mysql');
    const open = name.next;
    if (tokens[open]?.text !== '(') return;
    const columns = table(name.name);
    // Column definitions: depth-1 comma-separated items that do not start with a key word.
    let start = open + 1;
    for (let k = open + 1; k <= tokens.length; k++) {
      const token = tokens[k];
      const ends = !token || (token.depth === 1 && token.text === ',') || (token.depth === 0 && token.text === ')');
      if (!ends) continue;
      const first = tokens[start];
      if (first && !isWord(first, 'PRIMARY', 'KEY', 'INDEX', 'UNIQUE', 'CONSTRAINT', 'FOREIGN', 'CHECK', 'FULLTEXT', 'SPATIAL')) {
        const name = identifier(first, 'mysql');
        columns.set(name, mysqlTypeText(tokens, start + 1));
        const def = mysqlColumnDef(tokens, start + 1, k - 1);
        columns.set(nullabilityKey(name), def.notNull ? 'not null' : 'null');
        columns.set(collationKey(name), def.collation ?? '');
      }
      start = k + 1;
      if (!token || token.depth === 0) break;
    }
  }
}

/** `VARCHAR(200)`, `BIGINT UNSIGNED`: the type of a MySQL column definition starting at `at`. */
export function mysqlTypeText(tokens: RuleContext['statement']['tokens'], at: number): string {
  let text = tokens[at]?.upper ?? '';
  let i = at + 1;
  if (tokens[i]?.text === '(') {
    const depth = tokens[i]!.depth;
    let j = i + 1;
    while (j < tokens.length && !(tokens[j]!.text === ')' && tokens[j]!.depth === depth)) j++;
    text += tokens.slice(i, j + 1).map((t) => t.text).join('').toUpperCase();
    i = j + 1;
  }
  while (isWord(tokens[i], 'UNSIGNED', 'SIGNED', 'ZEROFILL')) text += ` ${tokens[i++]!.upper}`;
  return text;
}

/**
 * Where trackSchema keeps a MySQL column's own character set and collation as its definition stated
 * them (`CHARACTER SET LATIN1 COLLATE LATIN1_BIN`; '' for the table's), next to its type.
 */
export function collationKey(column: string): string {
  return `${column}\u0000collation`;
}

/** Where trackSchema keeps a MySQL column's nullability ('null' | 'not null') next to its type. */
export function nullabilityKey(column: string): string {
  return `${column}\u0000nullability`;
}
