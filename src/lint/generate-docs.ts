/** Write docs/rules/*.md from the rule definitions: `node dist/lint/generate-docs.js`. */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderIndex, renderMetaRuleDoc, renderRuleDoc } from './docs.js';
import { META_RULES, RULES } from './rules/index.js';

export function ruleDocs(): Map<string, string> {
  const pages = new Map<string, string>();
  for (const rule of RULES) pages.set(`${rule.id}.md`, renderRuleDoc(rule));
  for (const rule of Object.values(META_RULES)) pages.set(`${rule.id}.md`, renderMetaRuleDoc(rule));
  pages.set('README.md', renderIndex(RULES, Object.values(META_RULES)));
  return pages;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = fileURLToPath(new URL('../../docs/rules/', import.meta.url));
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of ruleDocs()) fs.writeFileSync(`${dir}${name}`, text);
  process.stdout.write(`wrote ${ruleDocs().size} pages to docs/rules/\n`);
}
