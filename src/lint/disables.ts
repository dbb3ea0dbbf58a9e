import type { RuleSetting } from './config.js';
import { META_RULES, RULES } from './rules/index.js';
import type { Finding, LintStatement } from './types.js';

export interface Disable {
  kind: 'file' | 'next-statement';
  rules: string[];
  reason: string;
  line: number;
  column: number;
  /** next-statement: the lines of the statement it covers. */
  covers?: { from: number; to: number } | null;
  used: Set<string>;
}

/** How a comment starts: `--` in SQL, `#` in YAML, `//` in TypeScript and JavaScript. */
export type CommentStyle = 'sql' | 'yaml' | 'script';
const COMMENT: Record<CommentStyle, string> = { sql: '--', yaml: '#', script: '//' };

function directivePattern(style: CommentStyle): RegExp {
  return new RegExp(`${COMMENT[style]}\\s*tandem-lint-(disable-next-statement|disable)(?=\\s|$)\\s*([^\\s]*)\\s*(.*)$`);
}

/**
 * The `-- tandem-lint-disable RULE reason` and `-- tandem-lint-disable-next-statement RULE reason`
 * comments of a file (`#` or `//` comments in declarative migrations, where a "statement" is an operation).
 */
export function readDisables(text: string, statements: LintStatement[], style: CommentStyle = 'sql'): Disable[] {
  const DIRECTIVE = directivePattern(style);
  const disables: Disable[] = [];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  lines.forEach((content, index) => {
    const match = DIRECTIVE.exec(content);
    if (!match || insideStatementText(statements, index + 1, content, match.index)) return;
    const line = index + 1;
    const kind = match[1] === 'disable' ? 'file' : 'next-statement';
    const next = kind === 'next-statement' ? statements.find((statement) => statement.line > line) : undefined;
    disables.push({
      kind,
      rules: match[2] ? match[2].split(',').map((rule) => rule.trim()).filter(Boolean) : [],
      reason: match[3]!.trim(),
      line,
      column: match.index + 1,
      covers: next ? { from: next.line, to: next.endLine } : kind === 'next-statement' ? null : undefined,
      used: new Set(),
    });
  });
  return disables;
}

/** A directive quoted inside a string of a statement (e.g. a function body) is text, not a directive. */
function insideStatementText(statements: LintStatement[], line: number, content: string, at: number): boolean {
  const statement = statements.find((s) => s.line <= line && s.endLine >= line);
  if (!statement) return false;
  // Only a comment of its own counts: the directive's `--` must not sit inside a quoted token.
  const lineOffset = offsetOfLine(statement, line);
  if (lineOffset === null) return false;
  const offset = lineOffset + at;
  return statement.tokens.some((token) => token.kind === 'string' && token.start <= offset && token.end > offset);
}

function offsetOfLine(statement: LintStatement, line: number): number | null {
  if (line === statement.line) return -(statement.column - 1);
  let current = statement.line;
  for (let i = 0; i < statement.sql.length; i++) {
    if (statement.sql.charCodeAt(i) === 10 && ++current === line) return i + 1;
  }
  return null;
}

const KNOWN = new Set([...RULES.map((rule) => rule.id), ...Object.values(META_RULES).map((rule) => rule.id)]);

/** Drop the findings a disable covers; report disables without a reason, naming unknown rules, or unused. */
export function applyDisables(findings: Finding[], disables: Disable[], file: string, settings: Record<string, RuleSetting>): Finding[] {
  const kept = findings.filter((finding) => {
    if (finding.rule === META_RULES.parseError.id) return true; // a statement that does not parse cannot be waved through
    const disable = disables.find((d) => d.rules.includes(finding.rule) && (d.kind === 'file' ? finding.line >= d.line : d.covers !== null && d.covers !== undefined && finding.line >= d.covers.from && finding.line <= d.covers.to));
    if (!disable) return true;
    disable.used.add(finding.rule);
    return false;
  });
  const meta = (rule: { id: string; severity: 'error' | 'warning'; fix: string }, d: Disable, message: string, fix = rule.fix): Finding | null => {
    if (settings[rule.id] === 'off') return null;
    const setting = settings[rule.id];
    return { rule: rule.id, severity: setting === 'error' || setting === 'warning' ? setting : rule.severity, file, line: d.line, column: d.column, endLine: d.line, endColumn: d.column + 1, message, phase: null, fix };
  };
  const directive = (d: Disable) => (d.kind === 'file' ? 'tandem-lint-disable' : 'tandem-lint-disable-next-statement');
  for (const d of disables) {
    const extra: Array<Finding | null> = [];
    if (d.rules.length === 0) {
      extra.push(meta(META_RULES.unusedDisable, d, `${directive(d)} names no rule`, `write \`-- ${directive(d)} RULE-ID why it is safe here\``));
    }
    if (d.rules.length > 0 && d.reason === '') {
      extra.push(meta(META_RULES.disableWithoutReason, d, `${directive(d)} ${d.rules.join(',')} gives no reason`));
    }
    for (const rule of d.rules) {
      if (!KNOWN.has(rule)) extra.push(meta(META_RULES.unusedDisable, d, `${directive(d)} names an unknown rule "${rule}"`, 'use a rule id from `tandem lint --list-rules`'));
      else if (!d.used.has(rule)) {
        const target = d.kind === 'next-statement' ? (d.covers ? 'the next statement' : 'no statement (none follows)') : 'anything below it';
        extra.push(meta(META_RULES.unusedDisable, d, `unused ${directive(d)}: rule ${rule} reports nothing in ${target}`));
      }
    }
    for (const finding of extra) if (finding) kept.push(finding);
  }
  return kept;
}
