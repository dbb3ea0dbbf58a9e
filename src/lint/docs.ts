import type { MetaRule } from './rules/index.js';
import type { Rule, RuleExample } from './types.js';

const PHASE_NOTE: Record<string, string> = {
  expand: 'expand',
  backfill: 'backfill',
  contract: 'contract',
  rollback: 'rollback',
  plain: 'plain (no markers: runs under live traffic, like expand)',
};

/** The page docs/rules/<id>.md of a rule: what, why, the lock, the safe way, examples. */
export function renderRuleDoc(rule: Rule): string {
  const dialects = rule.dialects.map((d) => (d === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB')).join(', ');
  const lines = [
    `# ${rule.id}`,
    '',
    `**${rule.summary}.**`,
    '',
    `| severity | dialects | phases where it reports |`,
    `|---|---|---|`,
    `| ${rule.severity} | ${dialects} | ${rule.phases.map((p) => PHASE_NOTE[p]).join(', ')} |`,
    '',
    '## Why',
    '',
    rule.why,
    '',
    '## Lock taken',
    '',
    rule.lock,
    '',
    '## The safe way',
    '',
    rule.fix,
    '',
    '## Examples',
    '',
    '### Reported',
    '',
    ...rule.examples.bad.flatMap((example) => renderExample(example)),
    '### Not reported',
    '',
    ...rule.examples.good.flatMap((example) => renderExample(example)),
    '## Disabling',
    '',
    'When the statement is safe for a reason the linter cannot see (the table is tiny, the app never used the column), say so next to it:',
    '',
    '```sql',
    `-- tandem-lint-disable-next-statement ${rule.id} <why it is safe here>`,
    '```',
    '',
    `or turn the rule off (or change its severity) in tandem.config.json: \`{"lint": {"rules": {"${rule.id}": "off"}}}\`.`,
    '',
  ];
  return lines.join('\n');
}

function renderExample(example: RuleExample): string[] {
  const context = [
    example.dialect === 'mysql' ? 'MySQL/MariaDB' : 'PostgreSQL',
    example.phase ? `phase ${example.phase}` : 'plain migration',
    example.tool && example.tool !== 'tandem' ? `run by ${example.tool}` : '',
    example.versions ? Object.entries(example.versions).map(([k, v]) => `${k} ${(v as number[]).join('.')}`).join(', ') : '',
    example.note ?? '',
  ].filter(Boolean);
  return [`${context.join(', ')}:`, '', '```sql', example.sql, '```', ''];
}

export function renderMetaRuleDoc(rule: MetaRule): string {
  return [`# ${rule.id}`, '', `**${rule.summary}.**`, '', `Severity: ${rule.severity}. Cannot be disabled inline${rule.id === 'parse-error' ? '' : ' by itself; turn it off in the config if needed'}.`, '', '## Why', '', rule.why, '', '## Fix', '', rule.fix, ''].join('\n');
}

export function renderIndex(rules: readonly Rule[], meta: readonly MetaRule[]): string {
  const rows = rules.map((r) => `| [${r.id}](${r.id}.md) | ${r.severity} | ${r.dialects.join(', ')} | ${r.summary} |`);
  const metaRows = meta.map((r) => `| [${r.id}](${r.id}.md) | ${r.severity} | both | ${r.summary} |`);
  return [
    '# tandem lint rules',
    '',
    'Generated from the rule definitions in src/lint/rules (`node dist/lint/generate-docs.js`). Severity `error` is reserved for what breaks a running app version or blocks reads/writes for longer than a catalog change; everything else is a warning.',
    '',
    '| rule | severity | dialects | what |',
    '|---|---|---|---|',
    ...rows,
    ...metaRows,
    '',
  ].join('\n');
}
