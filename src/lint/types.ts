import type { SqlStatement } from '../migrations/split-statements.js';

export type LintDialect = 'postgres' | 'mysql';
export type Severity = 'error' | 'warning';
/** `plain`: a file without phase markers (or another tool's migration): it runs under live traffic, like expand. */
export type LintPhase = 'expand' | 'backfill' | 'contract' | 'rollback' | 'plain';
export const LINT_PHASES: readonly LintPhase[] = ['expand', 'backfill', 'contract', 'rollback', 'plain'];
/** Phases that run while the old app version still serves traffic. */
export const OLD_APP_PHASES: readonly LintPhase[] = ['expand', 'backfill', 'plain'];
export const ALL_PHASES: readonly LintPhase[] = LINT_PHASES;

/** Which tool runs the file, which decides transactions and lock timeouts. */
export type MigrationTool = 'tandem' | 'flyway' | 'dbmate' | 'golang-migrate' | 'prisma' | 'sql';

/** A version as numbers: [17] for PostgreSQL 17, [8, 0, 36] for MySQL 8.0.36. */
export type Version = readonly number[];

export interface TargetVersions {
  postgres: Version;
  /** Set when the target is MySQL. */
  mysql: Version | null;
  /** Set when the target is MariaDB (mysql dialect with MariaDB's own facts). */
  mariadb: Version | null;
}

/** Offsets into a statement's text: [start, end). */
export interface Span {
  start: number;
  end: number;
}

export interface Token {
  kind: 'word' | 'quoted' | 'string' | 'number' | 'punct';
  text: string;
  start: number;
  end: number;
  depth: number;
  /** Upper-cased text for words; the unquoted name for quoted identifiers. */
  upper: string;
}

/** A statement of a file, with what the parser made of it. */
export interface LintStatement extends SqlStatement {
  phase: LintPhase;
  tokens: Token[];
  /** PostgreSQL: the libpg-query node of the statement, `{ AlterTableStmt: {...} }` unwrapped to `type` + `node`. */
  pg?: { type: string; node: any };
  /** MySQL: the node-sql-parser AST, when its grammar covers the statement. */
  mysqlAst?: any;
  /** The parser rejected the statement: message and offset. */
  parseError?: { message: string; offset: number };
  /** Index among the file's statements. */
  index: number;
  /** MariaDB `SET STATEMENT var = value [, …] FOR <statement>`: the variables (upper-cased) for this statement only. */
  statementSettings?: Map<string, string>;
}

export interface FileContext {
  file: string;
  dialect: LintDialect;
  tool: MigrationTool;
  versions: TargetVersions;
  statements: LintStatement[];
  /** Tables created earlier in this file: empty, so locks and rewrites on them cost nothing. */
  createdTables: Set<string>;
  /** State a rule wants to remember across statements of the file (e.g. validated NOT NULL checks). */
  memory: Map<string, unknown>;
  /** dbmate `transaction:false` and similar: statements of the file are not wrapped in a transaction. */
  noTransaction: boolean;
  /** Column types seen so far in this run (CREATE TABLE, ADD COLUMN), by table then column: `varchar(200)`, `BIGINT`. */
  schema: Map<string, Map<string, string>>;
  /**
   * Declarative migrations with version schemas: columns the new app already sees under their new
   * names through its views (`table.from.to`), whose contract rename therefore breaks no app.
   */
  viewRenames?: Set<string>;
}

export interface RuleContext extends FileContext {
  statement: LintStatement;
  phase: LintPhase;
  /** Whether the statement runs inside a transaction with others (explicit BEGIN, or the tool's wrapping). */
  inTransaction: boolean;
  /** Normalized name of a table (lower-case unless quoted, schema dropped). */
  isNewTable(name: string): boolean;
}

export interface Hit {
  span: Span;
  message: string;
  /** Overrides the rule's severity for this hit (e.g. an error only in some phases). */
  severity?: Severity;
  fix?: string;
}

export interface RuleExample {
  sql: string;
  /** Phase the example runs in (default plain). */
  phase?: LintPhase;
  dialect?: LintDialect;
  /** Tool running the file (default tandem). */
  tool?: MigrationTool;
  /** Target versions for the example, e.g. { postgres: [10] }. */
  versions?: Partial<TargetVersions>;
  note?: string;
}

export interface Rule {
  id: string;
  severity: Severity;
  dialects: readonly LintDialect[];
  /** Phases where the rule reports at all. */
  phases: readonly LintPhase[];
  summary: string;
  why: string;
  /** The lock taken, for the docs. */
  lock: string;
  fix: string;
  examples: { bad: RuleExample[]; good: RuleExample[] };
  check(context: RuleContext): Hit[];
}

export interface Finding {
  rule: string;
  severity: Severity;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  message: string;
  phase: LintPhase | null;
  fix: string;
  /** The statement's text (for pretty output), and where the span sits in it. */
  statement?: { sql: string; line: number; column: number };
  /**
   * Declarative migrations: the finding is about a statement an operation generates. `line` and
   * `column` above are the operation's place in the file; these are the span's place in that statement.
   */
  generated?: { operation: string; index: number; sql: string; line: number; column: number; endLine: number; endColumn: number };
}

export interface Notice {
  file: string;
  message: string;
}

export interface LintResult {
  findings: Finding[];
  notices: Notice[];
  filesLinted: number;
  statementsLinted: number;
}
