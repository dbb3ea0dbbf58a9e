import { createHash } from 'node:crypto';
import { isMariadb, type Session } from '../db/session.js';
import { RefusedError, UsageError } from '../errors/tandem-error.js';
import type { Phase, Statement } from '../migrations/model.js';
import { InFlightRenameError, SchemaInspector } from './inspect.js';
import { OPERATIONS, type OperationName } from './registry.js';
import type { CompiledStatement, Operation, OperationContext, PhaseSql, ViewAdjustment } from './types.js';

/** One operation as written in a migration file: its name, validated arguments, and where it stands. */
export interface OperationCall {
  name: OperationName;
  args: unknown;
  index: number;
  /** Line in the file where the operation starts, when the format tells (JSON, YAML). */
  line?: number;
}

export type CompiledPhases = Record<Phase, Statement[]>;

/** What the runner keeps in the ledger: the statements, and what the version schema's views show differently. */
export type CompiledMigration = CompiledPhases & { views?: ViewAdjustment[] };

/**
 * Turn a declarative migration into the statements of each phase for this database, reading the
 * live schema for what the operations need (column types, keys) — or, for a plan of several
 * pending migrations, a shared inspector that has seen what the earlier ones will change. Expand, backfill and contract
 * run the operations' SQL in order; rollback undoes them in reverse order.
 */
export async function compileOperations(calls: OperationCall[], session: Session, migrationId: string, file: string, inspect = new SchemaInspector(session.db, session.adapter)): Promise<CompiledPhases> {
  const { views: _views, ...phases } = await compileMigration(calls, session, migrationId, file, inspect);
  return phases;
}

/** compileOperations, plus the operations' view adjustments (src/version-schemas/). */
export async function compileMigration(calls: OperationCall[], session: Session, migrationId: string, file: string, inspect = new SchemaInspector(session.db, session.adapter)): Promise<CompiledMigration> {
  try {
    return await compileCalls(calls, session, migrationId, file, inspect);
  } catch (error) {
    // A plan goes on to the next migration with the same inspector: nothing of this one carries over.
    inspect.abandonMigration();
    throw error;
  }
}

async function compileCalls(calls: OperationCall[], session: Session, migrationId: string, file: string, inspect: SchemaInspector): Promise<CompiledMigration> {
  const result: CompiledMigration = { expand: [], backfill: [], contract: [], rollback: [] };
  const rollbacks: Statement[][] = [];
  const copied: Array<{ table: string; call: OperationCall }> = [];
  for (const call of calls) {
    const operation = OPERATIONS[call.name] as unknown as Operation<unknown>;
    const context = operationContext(session, migrationId, call.index, inspect);
    let phases: PhaseSql;
    try {
      await operation.validate(call.args, context);
      phases = await operation.compile(call.args, context);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      if (error instanceof InFlightRenameError) throw new RefusedError(`operation ${call.index} (${call.name}): ${error.message}`, 'expand this migration after the rename has contracted (tandem contract), in a later deploy', { file, ...(call.line ? { line: call.line } : {}) });
      throw new UsageError(`operation ${call.index} (${call.name}): ${(error as Error).message}`, { file, ...(call.line ? { line: call.line } : {}) }, 'fix the operation, or the schema it expects');
    }
    const toStatements = (list: CompiledStatement[]): Statement[] => list.map((item) => toStatement(item, call));
    result.expand.push(...functionsFirst(toStatements(phases.expand), session.adapter.dialect));
    result.backfill.push(...toStatements(phases.backfill));
    result.contract.push(...toStatements(phases.contract));
    rollbacks.push(toStatements(phases.rollback));
    if (phases.views?.length) (result.views ??= []).push(...phases.views);
    if (phases.copiesTable !== undefined) copied.push({ table: phases.copiesTable, call });
  }
  refuseOthersOnCopiedTables(calls, copied, file);
  result.rollback = rollbacks.reverse().flat();
  inspect.settleMigration(migrationId);
  return result;
}

/**
 * A table that an operation copies (mysql-table-copy.ts) is swapped for its copy at contract: a
 * change another operation of the migration made to it at expand would be lost, and one made at
 * contract would run on the wrong table. Any argument that names the table counts.
 */
function refuseOthersOnCopiedTables(calls: OperationCall[], copied: Array<{ table: string; call: OperationCall }>, file: string): void {
  const names = (value: unknown): string[] => (typeof value === 'string' ? [value] : Array.isArray(value) ? value.flatMap(names) : value && typeof value === 'object' ? Object.values(value).flatMap(names) : []);
  for (const { table, call } of copied) {
    const other = calls.find((candidate) => candidate !== call && names(candidate.args).some((name) => name.toLowerCase() === table.toLowerCase()));
    if (!other) continue;
    throw new UsageError(
      `operation ${other.index} (${other.name}) names table ${table}, which operation ${call.index} (${call.name}) replaces by a copy at contract`,
      { file, ...(other.line ? { line: other.line } : {}) },
      'move one of the two operations to a migration of its own',
    );
  }
}

/**
 * PostgreSQL: an operation's shim functions are created before its ALTER TABLE. The ALTER's ACCESS
 * EXCLUSIVE lock is held until the step commits and app queries queue behind it, so the lock is
 * best taken as late as possible; a function body is only parsed at creation, never checked
 * against the table, so it may come first.
 */
function functionsFirst(statements: Statement[], dialect: Session['adapter']['dialect']): Statement[] {
  if (dialect !== 'postgres') return statements;
  const isFunction = (statement: Statement) => /^\s*create\s+(or\s+replace\s+)?function\b/i.test(statement.sql);
  return [...statements.filter(isFunction), ...statements.filter((statement) => !isFunction(statement))];
}

export function operationContext(session: Session, migrationId: string, index: number, inspect: SchemaInspector): OperationContext {
  const hash = createHash('sha256').update(`${migrationId}#${index}`).digest('hex').slice(0, 8);
  return {
    dialect: session.adapter.dialect,
    adapter: session.adapter,
    mariadb: isMariadb(session),
    migrationId,
    versionSchemas: session.adapter.dialect === 'postgres' && session.config.versionSchemas,
    index,
    inspect,
    objectName: (suffix) => `tandem_${hash}_${suffix}`,
    quote: (name) => session.adapter.quoteIdent(checkIdentifier(name, session.adapter.dialect)),
  };
}

function toStatement(item: CompiledStatement, call: OperationCall): Statement {
  const line = call.line ?? 1;
  const operation = { index: call.index, name: call.name };
  return typeof item === 'string' ? { sql: item, line, column: 1, endLine: line, operation } : { sql: item.sql, line, column: 1, endLine: line, assertEmpty: item.assertEmpty, operation };
}

/**
 * Names the database would refuse or, worse, change: PostgreSQL silently cuts a name to 63 bytes
 * (so two long names can become one); MySQL refuses more than 64 characters and a trailing space.
 */
export function checkIdentifier(name: string, dialect: 'postgres' | 'mysql'): string {
  if (dialect === 'postgres') {
    const bytes = Buffer.byteLength(name, 'utf8');
    if (bytes > 63) throw new Error(`the name "${name}" is ${bytes} bytes long; PostgreSQL allows 63 bytes and would silently cut it`);
  } else {
    const characters = [...name].length;
    if (characters > 64) throw new Error(`the name "${name}" is ${characters} characters long; MySQL allows 64`);
    if (name.endsWith(' ')) throw new Error(`the name "${name}" ends with a space, which MySQL does not allow`);
  }
  return name;
}
