import type { Finding } from '../types.js';

/** For one-line formats: the start of the generated statement a declarative finding is about. */
export function generatedNote(finding: Finding): string {
  if (!finding.generated) return '';
  const sql = finding.generated.sql.replace(/\s+/g, ' ').trim();
  return ` (generated: ${sql.length > 120 ? `${sql.slice(0, 117)}...` : sql})`;
}
