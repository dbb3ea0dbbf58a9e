import type { LintResult } from '../types.js';
import { generatedNote } from './generated-note.js';

/** GitHub Actions workflow commands: one `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message` per finding. */
export function renderGithub(result: LintResult): string {
  const lines = result.findings.map((f) => {
    const properties = [`file=${property(f.file)}`, `line=${f.line}`, `col=${f.column}`, `endLine=${f.endLine}`, `endColumn=${f.endColumn}`, `title=${property(`tandem lint: ${f.rule}`)}`].join(',');
    return `::${f.severity === 'error' ? 'error' : 'warning'} ${properties}::${data(`${f.message}${generatedNote(f)}. Fix: ${f.fix}`)}`;
  });
  for (const notice of result.notices) lines.push(`::notice file=${property(notice.file)}::${data(notice.message)}`);
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function data(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function property(text: string): string {
  return data(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
