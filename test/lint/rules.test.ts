/**
 * Every rule's documented examples are its test cases: each "reported" example must produce a
 * finding of that rule, each "not reported" one must not. The same examples are in docs/rules/.
 */
import { describe, expect, it } from 'vitest';
import { RULES } from '../../src/lint/rules/index.js';
import { lintSql } from './support/lint-helpers.js';

describe.each(RULES.map((rule) => [rule.id, rule] as const))('%s', (_id, rule) => {
  it('has examples of both kinds and complete metadata', () => {
    expect(rule.examples.bad.length).toBeGreaterThan(0);
    expect(rule.examples.good.length).toBeGreaterThan(0);
    for (const field of [rule.summary, rule.why, rule.fix, rule.lock]) expect(field.length).toBeGreaterThan(10);
    expect(rule.phases.length).toBeGreaterThan(0);
  });

  it.each(rule.examples.bad.map((example, i) => [i, example] as const))('reports bad example %i', async (_i, example) => {
    const findings = await lintSql(example.sql, example);
    const mine = findings.filter((f) => f.rule === rule.id);
    expect(findings.filter((f) => f.rule === 'parse-error' || f.rule === 'invalid-migration')).toEqual([]);
    expect(mine.length, JSON.stringify(findings, null, 1)).toBeGreaterThan(0);
    for (const finding of mine) {
      expect(finding.line).toBeGreaterThanOrEqual(1);
      expect(finding.column).toBeGreaterThanOrEqual(1);
      expect(finding.message.length).toBeGreaterThan(10);
    }
  });

  it.each(rule.examples.good.map((example, i) => [i, example] as const))('accepts good example %i', async (_i, example) => {
    const findings = await lintSql(example.sql, example);
    expect(findings.filter((f) => f.rule === 'parse-error' || f.rule === 'invalid-migration')).toEqual([]);
    expect(findings.filter((f) => f.rule === rule.id)).toEqual([]);
  });
});

it('has at least 35 rules, with unique ids', () => {
  expect(RULES.length).toBeGreaterThanOrEqual(35);
  expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
  expect(RULES.filter((r) => r.dialects.includes('mysql')).length).toBeGreaterThanOrEqual(15);
  expect(RULES.filter((r) => r.dialects.includes('postgres')).length).toBeGreaterThanOrEqual(20);
});

it('docs/rules is generated from the rule definitions and up to date', async () => {
  const { ruleDocs } = await import('../../src/lint/generate-docs.js');
  const fs = await import('node:fs');
  const path = await import('node:path');
  const dir = path.resolve(import.meta.dirname, '../../docs/rules');
  for (const [name, text] of ruleDocs()) {
    expect(fs.readFileSync(path.join(dir, name), 'utf8'), `${name} is stale: run npm run build && node dist/lint/generate-docs.js`).toBe(text);
  }
});
