/**
 * renameColumnRefs: the catalog's text of an index or constraint, with one column's references
 * moved to the type change's twin. Every rewrite must be exact, or refused (null), never a guess.
 */
import { describe, expect, it } from 'vitest';
import { renameColumnRefs } from '../../src/operations/column-dependents/rename-column-refs.js';

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const rename = (sql: string, from: string, options = {}) => renameColumnRefs(sql, from, 'twin', quote, options);

describe('renameColumnRefs', () => {
  it('renames plain index columns, INCLUDE columns, expressions and the predicate', async () => {
    expect(await rename('CREATE INDEX i ON public.t USING btree (v DESC, acct) INCLUDE (acct, note)', 'acct')).toBe(
      'CREATE INDEX i ON public.t USING btree (v DESC, "twin") INCLUDE ("twin", note)',
    );
    expect(await rename('CREATE INDEX i ON public.t USING btree (((acct)::text) text_pattern_ops) WHERE (acct > 5)', 'acct')).toBe(
      'CREATE INDEX i ON public.t USING btree ((("twin")::text) text_pattern_ops) WHERE ("twin" > 5)',
    );
  });

  it('leaves alone a function, a type, a collation or a schema that has the column\'s name', async () => {
    expect(await rename('CREATE INDEX i ON public.t USING btree (lower(lower))', 'lower')).toBe('CREATE INDEX i ON public.t USING btree (lower("twin"))');
    expect(await rename('CREATE INDEX i ON public.t USING btree (((v)::date)) WHERE (date IS NOT NULL)', 'date')).toBe(
      'CREATE INDEX i ON public.t USING btree (((v)::date)) WHERE ("twin" IS NOT NULL)',
    );
    expect(await rename('CREATE INDEX i ON public.t USING btree (name COLLATE "C")', 'C')).toBe('CREATE INDEX i ON public.t USING btree (name COLLATE "C")');
    expect(await rename('CREATE INDEX i ON acct.t USING btree (acct)', 'acct')).toBe('CREATE INDEX i ON acct.t USING btree ("twin")');
  });

  it('matches quoted names exactly, and bare names only when they are lower case', async () => {
    expect(await rename('CREATE INDEX i ON public.t USING btree ("Acct Id", acct)', 'Acct Id')).toBe('CREATE INDEX i ON public.t USING btree ("twin", acct)');
    expect(await rename('CREATE INDEX i ON public.t USING btree ("Acct", acct)', 'Acct')).toBe('CREATE INDEX i ON public.t USING btree ("twin", acct)');
    // A string constant that spells the name is not a reference.
    expect(await rename("CREATE INDEX i ON public.t USING btree (acct) WHERE (note <> 'acct')", 'acct')).toBe(
      'CREATE INDEX i ON public.t USING btree ("twin") WHERE (note <> \'acct\')',
    );
  });

  it('renames a CHECK\'s references, and only a foreign key\'s own columns', async () => {
    const check = 'ALTER TABLE t ADD CONSTRAINT c CHECK (((acct > 0) AND (v IS DISTINCT FROM acct))) NOT VALID';
    expect(await rename(check, 'acct', { within: { start: 'ALTER TABLE t ADD CONSTRAINT c '.length, end: check.length } })).toBe(
      'ALTER TABLE t ADD CONSTRAINT c CHECK ((("twin" > 0) AND (v IS DISTINCT FROM "twin"))) NOT VALID',
    );
    const fk = 'ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY (acct, v) REFERENCES accounts(acct, v) ON DELETE CASCADE NOT VALID';
    const list = { start: fk.indexOf('(') + 1, end: fk.indexOf(')') };
    expect(await rename(fk, 'acct', { within: list, foreignKeyColumnsOnly: true })).toBe(
      'ALTER TABLE t ADD CONSTRAINT c FOREIGN KEY ("twin", v) REFERENCES accounts(acct, v) ON DELETE CASCADE NOT VALID',
    );
  });

  it('refuses when the text cannot be rewritten to exactly the renamed tree', async () => {
    // A qualified reference (t.acct) is left as it is by the tokens, so the trees differ: refused.
    expect(await rename('CREATE INDEX i ON public.t USING btree (acct) WHERE (t.acct > 0)', 'acct')).toBeNull();
    // An opclass named like the column is taken for a reference, which the parser shows is wrong.
    expect(await rename('CREATE INDEX i ON public.t USING btree (v acct)', 'acct')).toBeNull();
  });
});
