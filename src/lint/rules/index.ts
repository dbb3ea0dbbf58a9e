import type { Rule, Severity } from '../types.js';
import { addCheckValidating } from './add-check-validating.js';
import { addColumnAutoIncrement } from './add-column-auto-increment.js';
import { addColumnRequired } from './add-column-required.js';
import { addColumnStoredGenerated } from './add-column-stored-generated.js';
import { addColumnVolatileDefault } from './add-column-volatile-default.js';
import { addExclusionConstraint } from './add-exclusion-constraint.js';
import { addForeignKeyValidating } from './add-foreign-key-validating.js';
import { addPrimaryKeyBlocking } from './add-primary-key-blocking.js';
import { addUniqueBlocking } from './add-unique-blocking.js';
import { attachPartitionScan } from './attach-partition-scan.js';
import { changeColumnType } from './change-column-type.js';
import { cluster } from './cluster.js';
import { concurrentlyInTransaction } from './concurrently-in-transaction.js';
import { createIndexBlocking } from './create-index-blocking.js';
import { createPartitionOfBlocking } from './create-partition-of-blocking.js';
import { ddlThenDmlInTransaction } from './ddl-then-dml-in-transaction.js';
import { detachPartitionBlocking } from './detach-partition-blocking.js';
import { dropColumnDefault } from './drop-column-default.js';
import { dropColumn } from './drop-column.js';
import { dropIndexBlocking } from './drop-index-blocking.js';
import { dropSchema } from './drop-schema.js';
import { dropTable } from './drop-table.js';
import { enumChange } from './enum-change.js';
import { lockTable } from './lock-table.js';
import { lockTimeoutMissing } from './lock-timeout-missing.js';
import { mysqlBlockingLock } from './mysql-blocking-lock.js';
import { mysqlConvertCharset } from './mysql-convert-charset.js';
import { mysqlCopyAlgorithm } from './mysql-copy-algorithm.js';
import { mysqlDropPrimaryKey } from './mysql-drop-primary-key.js';
import { mysqlExchangePartition } from './mysql-exchange-partition.js';
import { mysqlFulltextSpatialIndex } from './mysql-fulltext-spatial-index.js';
import { mysqlInstantUnsupported } from './mysql-instant-unsupported.js';
import { mysqlPartitionCopy } from './mysql-partition-copy.js';
import { mysqlTableRebuild } from './mysql-table-rebuild.js';
import { mysqlUnguardedAlter } from './mysql-unguarded-alter.js';
import { refreshMaterializedViewBlocking } from './refresh-materialized-view-blocking.js';
import { reindexBlocking } from './reindex-blocking.js';
import { renameColumn } from './rename-column.js';
import { renameTable } from './rename-table.js';
import { setNotNull } from './set-not-null.js';
import { tableRewrite } from './table-rewrite.js';
import { truncate } from './truncate.js';
import { unbatchedDml } from './unbatched-dml.js';
import { vacuumFull } from './vacuum-full.js';

/** Every rule, in the order they are documented. */
export const RULES: readonly Rule[] = [
  addCheckValidating,
  addColumnAutoIncrement,
  addColumnRequired,
  addColumnStoredGenerated,
  addColumnVolatileDefault,
  addExclusionConstraint,
  addForeignKeyValidating,
  addPrimaryKeyBlocking,
  addUniqueBlocking,
  attachPartitionScan,
  changeColumnType,
  cluster,
  concurrentlyInTransaction,
  createIndexBlocking,
  createPartitionOfBlocking,
  ddlThenDmlInTransaction,
  detachPartitionBlocking,
  dropColumnDefault,
  dropColumn,
  dropIndexBlocking,
  dropSchema,
  dropTable,
  enumChange,
  lockTable,
  lockTimeoutMissing,
  mysqlBlockingLock,
  mysqlConvertCharset,
  mysqlCopyAlgorithm,
  mysqlDropPrimaryKey,
  mysqlExchangePartition,
  mysqlFulltextSpatialIndex,
  mysqlInstantUnsupported,
  mysqlPartitionCopy,
  mysqlTableRebuild,
  mysqlUnguardedAlter,
  refreshMaterializedViewBlocking,
  reindexBlocking,
  renameColumn,
  renameTable,
  setNotNull,
  tableRewrite,
  truncate,
  unbatchedDml,
  vacuumFull,
];

/** Findings about the files and the disable comments themselves, not about a statement's effect. */
export interface MetaRule {
  id: string;
  severity: Severity;
  summary: string;
  why: string;
  fix: string;
}

export const META_RULES = {
  parseError: {
    id: 'parse-error',
    severity: 'error',
    summary: 'A statement the database\'s parser rejects',
    why: 'A statement that does not parse fails when the migration runs, and nothing else about it can be checked. It is reported, never skipped.',
    fix: 'fix the syntax at the place shown (check the --dialect and the target version)',
  },
  invalidMigration: {
    id: 'invalid-migration',
    severity: 'error',
    summary: 'A tandem migration file tandem would refuse to run',
    why: 'Malformed or duplicate phase markers, statements before the first marker, or transaction control (BEGIN/COMMIT) make tandem refuse the file.',
    fix: 'write markers exactly as `-- tandem:expand` (backfill, contract, rollback) and leave transactions to tandem',
  },
  disableWithoutReason: {
    id: 'disable-without-reason',
    severity: 'warning',
    summary: 'A tandem-lint-disable comment without a reason',
    why: 'A disabled check is a decision the next reader must be able to trust: say why the statement is safe here.',
    fix: 'add the reason after the rule id: `-- tandem-lint-disable-next-statement RULE table is empty at this point`',
  },
  unusedDisable: {
    id: 'unused-disable',
    severity: 'warning',
    summary: 'A tandem-lint-disable comment that disables nothing',
    why: 'A disable that matches no finding (or names an unknown rule) is stale: it would silently hide a future problem.',
    fix: 'remove the comment, or correct the rule id',
  },
} as const satisfies Record<string, MetaRule>;

export function findRule(id: string): Rule | MetaRule | undefined {
  return RULES.find((rule) => rule.id === id) ?? Object.values(META_RULES).find((rule) => rule.id === id);
}
