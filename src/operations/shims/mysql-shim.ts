import { mysqlAdapter } from '../../db/dialects/mysql.js';
import type { ShimSpec, SyncRule } from './sync-rules.js';
import { holdsUnsetMarker } from '../mysql-unset-marker.js';

const q = (name: string) => mysqlAdapter.quoteIdent(name);
const ROLE = `COALESCE(@tandem_role, '')`;

/**
 * Two triggers (BEFORE INSERT, BEFORE UPDATE) for a shim. Each starts by declaring a local variable
 * per column, holding the incoming value, so the op's expressions can use bare column names.
 */
export function mysqlShim(spec: ShimSpec): { install: string[]; remove: string[] } {
  const table = q(spec.table);
  const declarations = declareColumns(spec.columns);
  const trigger = (event: 'INSERT' | 'UPDATE') => {
    const name = q(`${spec.name}_${event === 'INSERT' ? 'bi' : 'bu'}`);
    return `CREATE TRIGGER ${name} BEFORE ${event} ON ${table} FOR EACH ROW
BEGIN
${declarations}
  IF ${ROLE} <> 'backfill' THEN
${spec.rules.map((rule) => ruleSql(rule, event)).join('\n')}
  END IF;
END`;
  };
  return {
    // UPDATE first: with only the INSERT trigger in place, a row inserted with its twin filled and
    // then updated would leave the twin stale, and the backfill (WHERE twin IS NULL) skips it. The
    // two statements commit apart, and a crash can hold that moment open for as long as it lasts.
    install: [trigger('UPDATE'), trigger('INSERT')],
    remove: [`DROP TRIGGER IF EXISTS ${q(`${spec.name}_bi`)}`, `DROP TRIGGER IF EXISTS ${q(`${spec.name}_bu`)}`],
  };
}

/** A trigger body's local variables: each column's incoming value under the column's own name, so expressions can use bare names. */
export function declareColumns(columns: Array<{ name: string; type: string }>): string {
  return columns.map((c) => `  DECLARE ${q(c.name)} ${c.type} DEFAULT NEW.${q(c.name)};`).join('\n');
}

function ruleSql(rule: SyncRule, event: 'INSERT' | 'UPDATE'): string {
  if (rule.kind === 'fill') {
    if (rule.unset) {
      // A NULL from the expression keeps the marker (the backfill's check then finds the row)
      // rather than failing the old app's write on the NOT NULL column.
      return `    IF ${ROLE} <> 'new' AND ${holdsUnsetMarker(`NEW.${q(rule.column)}`, rule.unset)} THEN\n      SET NEW.${q(rule.column)} = COALESCE((${rule.expression}), NEW.${q(rule.column)});\n    END IF;`;
    }
    return `    IF NEW.${q(rule.column)} IS NULL THEN\n      SET NEW.${q(rule.column)} = (${rule.expression});\n    END IF;`;
  }
  if (rule.kind === 'copy') return `    SET NEW.${q(rule.column)} = (${rule.expression});`;
  const oldCol = `NEW.${q(rule.oldColumn)}`;
  const newCol = `NEW.${q(rule.newColumn)}`;
  // An inner block re-declares the scoped name with the new value, shadowing the old one.
  const down = rule.downScope
    ? `BEGIN DECLARE ${q(rule.downScope.column)} ${rule.downScope.type} DEFAULT ${newCol}; SET ${oldCol} = (${rule.down}); END;`
    : `SET ${oldCol} = (${rule.down});`;
  if (event === 'INSERT') {
    const written = rule.unset === undefined ? `${newCol} IS NOT NULL` : `NOT ${holdsUnsetMarker(newCol, rule.unset)}`;
    return `    IF ${ROLE} = 'new' OR (${ROLE} <> 'old' AND ${written}) THEN
      ${down}
    ELSE
      SET ${newCol} = (${rule.up});
    END IF;`;
  }
  // Compared as bytes: under a _ci collation 'Ada' <=> 'ADA' is true, which would hide a case-only change.
  return `    IF ${ROLE} = 'new' OR (${ROLE} <> 'old' AND NOT (CAST(${newCol} AS BINARY) <=> CAST(OLD.${q(rule.newColumn)} AS BINARY))) THEN
      ${down}
    ELSEIF ${ROLE} = 'old' OR NOT (CAST(${oldCol} AS BINARY) <=> CAST(OLD.${q(rule.oldColumn)} AS BINARY)) THEN
      SET ${newCol} = (${rule.up});
    END IF;`;
}
