import { fileURLToPath, pathToFileURL } from 'node:url';

/** The docs/rules directory shipped with tandem (dist/lint/report → ../../../docs/rules). */
const SHIPPED = pathToFileURL(fileURLToPath(new URL('../../../docs/rules/', import.meta.url))).href;

export function docsUrl(ruleId: string, base?: string): string {
  const root = base ? (base.endsWith('/') ? base : `${base}/`) : SHIPPED;
  return `${root}${ruleId}.md`;
}

/** Path of a rule page relative to the package root, for messages. */
export function docsPath(ruleId: string): string {
  return `docs/rules/${ruleId}.md`;
}
