/**
 * Realistic migration directories (tandem sections, plain files, Flyway, dbmate, golang-migrate,
 * Prisma) for both dialects: the whole JSON output must match the reviewed expectation exactly.
 * The repository's own examples must lint clean on every target version.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveVersions } from '../../src/lint/config.js';
import { lintPaths } from '../../src/lint/lint.js';
import { renderJson } from '../../src/lint/report/json.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const CORPUS = path.join(import.meta.dirname, 'corpus');

describe.each(['postgres', 'mysql'] as const)('corpus %s', (dialect) => {
  it('produces exactly the expected findings', async () => {
    const result = await lintPaths([path.join('test/lint/corpus', dialect)], { cwd: REPO, dialect, versions: resolveVersions({}) });
    const actual = JSON.parse(renderJson(result));
    const expectedFile = path.join(CORPUS, `${dialect}.expected.json`);
    if (process.env.UPDATE_LINT_CORPUS) fs.writeFileSync(expectedFile, `${JSON.stringify(actual, null, 2)}\n`);
    expect(actual).toEqual(JSON.parse(fs.readFileSync(expectedFile, 'utf8')));
  });
});

describe('the repository examples', () => {
  const cases = [
    ['postgres', { postgres: '12' }],
    ['postgres', { postgres: '17' }],
    ['mysql', { mysql: '8.0.29' }],
    ['mysql', { mysql: '8.4' }],
    ['mysql', { mariadb: '10.4' }],
    ['mysql', { mariadb: '11.4' }],
  ] as const;
  it.each(cases)('lint clean as %s %o', async (dialect, version) => {
    const result = await lintPaths([path.join('migrations-examples', dialect)], { cwd: REPO, dialect, versions: resolveVersions(version) });
    expect(result.filesLinted).toBe(4);
    expect(result.statementsLinted).toBeGreaterThan(30);
    expect(result.findings).toEqual([]);
  });

  it('flags the MySQL INSTANT drops on a MySQL too old for them', async () => {
    const result = await lintPaths(['migrations-examples/mysql'], { cwd: REPO, dialect: 'mysql', versions: resolveVersions({ mysql: '8.0.20' }) });
    expect(result.findings.map((f) => [f.rule, f.file, f.line, f.severity])).toEqual([
      ['mysql-instant-unsupported', 'migrations-examples/mysql/20260102000000_widen_account_balance.sql', instantDropLine('20260102000000_widen_account_balance.sql'), 'warning'],
      ['mysql-instant-unsupported', 'migrations-examples/mysql/20260103000000_add_required_country.sql', instantDropLine('20260103000000_add_required_country.sql'), 'warning'],
      ['mysql-instant-unsupported', 'migrations-examples/mysql/20260104000000_split_customer_name.sql', instantDropLine('20260104000000_split_customer_name.sql'), 'warning'],
    ]);
  });
});

/** The line of the INSTANT column drop in a MySQL example (the examples may grow above it). */
function instantDropLine(file: string): number {
  const lines = fs.readFileSync(path.join(REPO, 'migrations-examples/mysql', file), 'utf8').split('\n');
  return lines.findIndex((line) => /^ALTER TABLE .*DROP COLUMN .*ALGORITHM=INSTANT/i.test(line)) + 1;
}
