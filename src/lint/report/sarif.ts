import { META_RULES, RULES } from '../rules/index.js';
import type { LintResult } from '../types.js';
import { generatedNote } from './generated-note.js';
import { docsUrl } from './docs-url.js';

const VERSION = '0.1.0';

/** SARIF 2.1.0, with every rule's metadata (so code-scanning UIs show the why and the fix). */
export function renderSarif(result: LintResult, options: { docsBaseUrl?: string } = {}): string {
  const all = [...RULES.map((r) => ({ id: r.id, severity: r.severity, summary: r.summary, why: r.why, fix: r.fix })), ...Object.values(META_RULES)];
  const index = new Map(all.map((rule, i) => [rule.id, i]));
  const sarif = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'tandem lint',
            version: VERSION,
            informationUri: docsUrl('README', options.docsBaseUrl).replace(/README\.md$/, ''),
            rules: all.map((rule) => ({
              id: rule.id,
              name: rule.id.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase()),
              shortDescription: { text: rule.summary },
              fullDescription: { text: rule.why },
              help: { text: `${rule.why}\n\nFix: ${rule.fix}`, markdown: `${rule.why}\n\n**Fix:** ${rule.fix}` },
              helpUri: docsUrl(rule.id, options.docsBaseUrl),
              defaultConfiguration: { level: rule.severity === 'error' ? 'error' : 'warning' },
            })),
          },
        },
        results: result.findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: index.get(f.rule) ?? -1,
          level: f.severity === 'error' ? 'error' : 'warning',
          message: { text: `${f.message}${generatedNote(f)}. Fix: ${f.fix}` },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: f.file.replace(/\\/g, '/') },
                region: { startLine: f.line, startColumn: f.column, endLine: f.endLine, endColumn: f.endColumn },
              },
            },
          ],
          ...(f.phase || f.generated ? { properties: { ...(f.phase ? { phase: f.phase } : {}), ...(f.generated ? { generatedSql: f.generated.sql } : {}) } } : {}),
        })),
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
