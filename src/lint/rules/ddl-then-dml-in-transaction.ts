import { postgresAdapter } from '../../db/dialects/postgres.js';
import { parseUpdate } from '../../backfill/parse-update.js';
import { normalizeStatement } from '../../migrations/split-statements.js';
import { spanOf } from '../parse/tokens.js';
import type { LintStatement, Rule, RuleContext } from '../types.js';
import { ALL_PHASES, hit } from './helpers.js';
import { memoryKeys } from '../facts.js';

export const ddlThenDmlInTransaction: Rule = {
  id: 'ddl-then-dml-in-transaction',
  severity: 'error',
  dialects: ['postgres'],
  phases: ALL_PHASES,
  summary: 'Bulk DML in the same transaction as DDL that took a strong lock',
  why: 'Locks last until the transaction ends. After an ALTER TABLE (ACCESS EXCLUSIVE), an UPDATE/DELETE/INSERT … SELECT in the same transaction runs while that lock is still held: the table is closed to reads and writes for the whole data change, not just for the catalog change. tandem runs consecutive statements of a phase in one transaction; Flyway, dbmate and friends wrap a whole file.',
  lock: 'The DDL\'s lock (ACCESS EXCLUSIVE for ALTER TABLE), held through the DML.',
  fix: 'Put the data change in the backfill section (tandem batches it, each batch its own transaction) or in a separate migration, so the DDL commits first.',
  examples: {
    bad: [{ sql: 'ALTER TABLE users ADD COLUMN country char(2);\nUPDATE users SET country = \'US\';', phase: 'expand' }],
    good: [{ sql: "-- tandem:expand\nALTER TABLE users ADD COLUMN country char(2);\n-- tandem:backfill\nUPDATE users SET country = 'US' WHERE country IS NULL;" }],
  },
  check(context) {
    const dmlTable = bulkDmlTable(context.statement);
    if (!dmlTable || context.isNewTable(dmlTable) || !context.inTransaction) return [];
    if (context.phase === 'backfill' && context.tool === 'tandem' && context.statement.pg?.type === 'UpdateStmt' && parseUpdate(normalizeStatement(context.statement.sql, 'postgres'), 'postgres')?.batchable) return [];
    for (const peer of transactionPeers(context)) {
      const locked = strongLockTable(peer);
      if (!locked || context.isNewTable(locked)) continue;
      const span = spanOf(context.statement.tokens, 0, Math.min(2, context.statement.tokens.length - 1));
      const message = `runs in the same transaction as the ${peer.tokens.slice(0, 2).map((t) => t.upper).join(' ')} at line ${peer.line}, whose lock on ${locked} is held until the end of this data change`;
      return [hit(span, message, locked === dmlTable ? {} : { severity: 'warning' })];
    }
    return [];
  },
};

function bulkDmlTable(statement: LintStatement): string | null {
  const node = statement.pg;
  if (!node) return null;
  if (node.type === 'UpdateStmt' || node.type === 'DeleteStmt') return String(node.node.relation?.relname ?? '');
  if (node.type === 'InsertStmt' && node.node.selectStmt?.SelectStmt && !node.node.selectStmt.SelectStmt.valuesLists) return String(node.node.relation?.relname ?? '');
  return null;
}

function strongLockTable(statement: LintStatement): string | null {
  const node = statement.pg;
  if (!node) return null;
  if (node.type === 'AlterTableStmt' && (node.node.objtype ?? 'OBJECT_TABLE') === 'OBJECT_TABLE') {
    const validateOnly = (node.node.cmds ?? []).every((c: any) => (c.AlterTableCmd ?? c).subtype === 'AT_ValidateConstraint');
    return validateOnly ? null : String(node.node.relation?.relname ?? '');
  }
  if (node.type === 'IndexStmt' && !node.node.concurrent) return String(node.node.relation?.relname ?? '');
  if (node.type === 'LockStmt' || node.type === 'TruncateStmt') return String(node.node.relations?.[0]?.RangeVar?.relname ?? '');
  return null;
}

/** Earlier statements whose locks are still held when this one runs. */
function transactionPeers(context: RuleContext): LintStatement[] {
  const { statement, statements } = context;
  if (context.memory.get(memoryKeys.explicitTransaction) === true) {
    const start = (context.memory.get(memoryKeys.transactionStart) as number | undefined) ?? 0;
    return statements.slice(start, statement.index).reverse();
  }
  if (context.tool !== 'tandem') return statements.slice(0, statement.index).filter((s) => s.phase === statement.phase).reverse();
  // tandem: consecutive statements of a phase share a transaction; VALIDATE starts a new one.
  const peers: LintStatement[] = [];
  for (let i = statement.index - 1; i >= 0; i--) {
    const peer = statements[i]!;
    if (peer.phase !== statement.phase) break;
    const normalized = normalizeStatement(peer.sql, 'postgres');
    if (postgresAdapter.mustRunOutsideTransaction(normalized)) break;
    if (peer.phase === 'backfill' && peer.pg?.type === 'UpdateStmt' && parseUpdate(normalized, 'postgres')?.batchable) break;
    peers.push(peer);
    if (/^alter table\b.*\bvalidate constraint\b/i.test(normalized)) break;
  }
  return peers;
}
