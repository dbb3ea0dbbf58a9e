import { DEFAULT_VERSIONS } from '../../../src/lint/config.js';
import { lintText } from '../../../src/lint/lint.js';
import type { Finding, LintDialect, LintPhase, MigrationTool, TargetVersions } from '../../../src/lint/types.js';

export interface LintSqlOptions {
  dialect?: LintDialect;
  phase?: LintPhase;
  tool?: MigrationTool;
  versions?: Partial<TargetVersions>;
  file?: string;
}

/** Lint SQL text as one migration file (tandem by default) and return the findings. */
export async function lintSql(sql: string, options: LintSqlOptions = {}): Promise<Finding[]> {
  const dialect = options.dialect ?? 'postgres';
  const versions: TargetVersions = {
    postgres: options.versions?.postgres ?? DEFAULT_VERSIONS.postgres,
    mysql: options.versions?.mariadb ? null : (options.versions?.mysql ?? DEFAULT_VERSIONS.mysql),
    mariadb: options.versions?.mariadb ?? null,
  };
  const result = await lintText(sql, { file: options.file ?? 'migration.sql', dialect, versions, tool: options.tool ?? 'tandem', ...(options.phase ? { phase: options.phase } : {}) });
  return result.findings;
}
