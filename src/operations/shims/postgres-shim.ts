import { postgresAdapter } from '../../db/dialects/postgres.js';
import type { ShimSpec, SyncRule } from './sync-rules.js';

const q = (name: string) => postgresAdapter.quoteIdent(name);
const ROLE = `coalesce(current_setting('tandem.role', true), '')`;

/** CREATE FUNCTION + CREATE TRIGGER for a shim, and the statements that remove it. */
export function postgresShim(spec: ShimSpec): { install: string[]; remove: string[] } {
  const fn = q(`${spec.name}_fn`);
  const trigger = q(spec.name);
  const table = q(spec.table);
  const declarations = spec.columns.map((c) => `  ${q(c.name)} ${c.type} := NEW.${q(c.name)};`).join('\n');
  const body = `#variable_conflict use_column
DECLARE
  tandem_role text := ${ROLE};
${declarations}
BEGIN
  IF tandem_role = 'backfill' THEN
    RETURN NEW;
  END IF;
${spec.rules.map(ruleSql).join('\n')}
  RETURN NEW;
END`;
  return {
    install: [
      `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $tandem$\n${body}\n$tandem$`,
      `CREATE TRIGGER ${trigger} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW WHEN (${ROLE} <> 'backfill') EXECUTE FUNCTION ${fn}()`,
    ],
    remove: [`DROP TRIGGER IF EXISTS ${trigger} ON ${table}`, `DROP FUNCTION IF EXISTS ${fn}()`],
  };
}

function ruleSql(rule: SyncRule): string {
  if (rule.kind === 'fill') {
    const column = `NEW.${q(rule.column)}`;
    return `  IF ${column} IS NULL THEN\n    ${column} := (${rule.expression});\n  END IF;`;
  }
  if (rule.kind === 'copy') return `  NEW.${q(rule.column)} := (${rule.expression});`;
  const oldCol = `NEW.${q(rule.oldColumn)}`;
  const newCol = `NEW.${q(rule.newColumn)}`;
  // A nested block re-declares the scoped name with the new value, shadowing the old one.
  const down = rule.downScope
    ? `DECLARE ${q(rule.downScope.column)} ${rule.downScope.type} := ${newCol}; BEGIN ${oldCol} := (${rule.down}); END;`
    : `${oldCol} := (${rule.down});`;
  return `  IF TG_OP = 'INSERT' THEN
    IF tandem_role = 'new' OR (tandem_role <> 'old' AND ${newCol} IS NOT NULL) THEN
      ${down}
    ELSE
      ${newCol} := (${rule.up});
    END IF;
  ELSIF tandem_role = 'new' OR (tandem_role <> 'old' AND ${newCol} IS DISTINCT FROM OLD.${q(rule.newColumn)}) THEN
    ${down}
  ELSIF tandem_role = 'old' OR ${oldCol} IS DISTINCT FROM OLD.${q(rule.oldColumn)} THEN
    ${newCol} := (${rule.up});
  END IF;`;
}
