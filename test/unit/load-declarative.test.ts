/**
 * Loading declarative migrations (JSON, YAML, TypeScript) without a database: what valid files turn
 * into, and how every kind of mistake is reported (file, line, operation index, field).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors/tandem-error.js';
import { loadMigrations } from '../../src/migrations/load-migrations.js';
import type { Migration } from '../../src/migrations/model.js';
import { OPERATIONS } from '../../src/operations/registry.js';

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-load-declarative-'));
afterAll(() => fs.rmSync(ROOT, { recursive: true, force: true }));

let dirCounter = 0;

/** A fresh migrations directory holding `files` (name → text); returns its path relative to ROOT. */
function writeDir(files: Record<string, string>): string {
  const dir = `m${++dirCounter}`;
  fs.mkdirSync(path.join(ROOT, dir));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(ROOT, dir, name), text);
  return dir;
}

/** Load a directory with ROOT as working directory, so file names in errors are `mN/<file>`. */
function load(dir: string): Migration[] {
  return loadMigrations(dir, 'postgres', ROOT);
}

function loadOne(name: string, text: string): Migration {
  const migrations = load(writeDir({ [name]: text }));
  expect(migrations).toHaveLength(1);
  return migrations[0]!;
}

/** Load a single file, expecting a UsageError; check it names the file (and line when given). */
function loadError(name: string, text: string, line?: number): UsageError {
  const dir = writeDir({ [name]: text });
  try {
    load(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    const usage = error as UsageError;
    expect(usage.exitCode).toBe(2);
    expect(usage.place.file).toBe(`${dir}/${name}`);
    if (line !== undefined) expect(usage.place.line).toBe(line);
    expect(usage.fix).toBeTruthy();
    return usage;
  }
  throw new Error(`expected loading ${name} to fail`);
}

const JSON_NAME = '20260101000000_change.json';
const YAML_NAME = '20260101000000_change.yaml';
const TS_NAME = '20260101000000_change.ts';

describe('valid declarative files', () => {
  it('JSON: operations with their index, line, parsed arguments and a checksum', () => {
    const text = [
      '{', // 1
      '  "operations": [', // 2
      '    {"renameColumn": {"table": "users", "from": "nickname", "to": "handle"}},', // 3
      '    {', // 4
      '      "createTable": {', // 5
      '        "table": "things",', // 6
      '        "columns": [{"name": "id", "type": "bigint", "primaryKey": true}]', // 7
      '      }', // 8
      '    }', // 9
      '  ]', // 10
      '}', // 11
    ].join('\n');
    const m = loadOne(JSON_NAME, text);
    expect(m).toMatchObject({ id: '20260101000000_change', name: 'change', version: '20260101000000', format: 'json', plain: false });
    expect(m.operations).toEqual([
      { name: 'renameColumn', index: 0, line: 3, args: { table: 'users', from: 'nickname', to: 'handle' } },
      // zod applied the column default (nullable: true).
      { name: 'createTable', index: 1, line: 4, args: { table: 'things', columns: [{ name: 'id', type: 'bigint', primaryKey: true, nullable: true }] } },
    ]);
    expect(m.sourceChecksum).toMatch(/^[0-9a-f]{64}$/);
    // Sections exist for every phase (compiled later) and carry the source checksum.
    for (const phase of ['expand', 'backfill', 'contract', 'rollback'] as const) {
      expect(m.sections[phase]).toMatchObject({ phase, statements: [], checksum: m.sourceChecksum });
    }
  });

  it('YAML (.yaml and .yml): operations with the line where each starts', () => {
    const text = [
      '# widen a column', // 1
      'operations:', // 2
      '  - alterColumn:', // 3
      '      table: orders', // 4
      '      column: quantity', // 5
      '      type: bigint', // 6
      '  - createIndex:', // 7
      '      table: orders', // 8
      '      name: orders_q_idx', // 9
      '      columns: [quantity]', // 10
    ].join('\n');
    for (const name of [YAML_NAME, '20260101000000_change.yml']) {
      const m = loadOne(name, text);
      expect(m.format).toBe('yaml');
      expect(m.operations).toEqual([
        { name: 'alterColumn', index: 0, line: 3, args: { table: 'orders', column: 'quantity', type: 'bigint' } },
        { name: 'createIndex', index: 1, line: 7, args: { table: 'orders', name: 'orders_q_idx', columns: ['quantity'] } },
      ]);
    }
  });

  it("TypeScript: `import { defineMigration } from 'tandem'` with operations", () => {
    const m = loadOne(
      TS_NAME,
      [
        "import { defineMigration } from 'tandem';",
        'const table: string = "orders";',
        'export default defineMigration({',
        '  operations: [',
        '    { addCheck: { table, name: "q_pos", expression: "quantity > 0" } },',
        '    { dropIndex: { table, name: "old_idx" } },',
        '  ],',
        '});',
      ].join('\n'),
    );
    expect(m.format).toBe('ts');
    // TypeScript gives no positions: operations carry their index only.
    expect(m.operations).toEqual([
      { name: 'addCheck', index: 0, args: { table: 'orders', name: 'q_pos', expression: 'quantity > 0' } },
      { name: 'dropIndex', index: 1, args: { table: 'orders', name: 'old_idx' } },
    ]);
  });

  it('TypeScript: phase functions become one runnable statement per phase given', async () => {
    const m = loadOne(
      TS_NAME,
      [
        "import { defineMigration } from 'tandem';",
        'export default defineMigration({',
        '  async expand(db) { await db.raw("SELECT 1"); },',
        '  async rollback(db) { await db.raw("SELECT 2"); },',
        '});',
      ].join('\n'),
    );
    expect(m.operations).toBeUndefined();
    expect(Object.keys(m.sections).sort()).toEqual(['expand', 'rollback']);
    const expand = m.sections.expand!.statements;
    expect(expand).toHaveLength(1);
    expect(typeof expand[0]!.run).toBe('function');
    expect(expand[0]!.sql).toContain('expand()');
    // The function is the file's own: it calls what it is given.
    const calls: string[] = [];
    await expand[0]!.run!({ raw: async (sql: string) => void calls.push(sql) } as never);
    expect(calls).toEqual(['SELECT 1']);
    expect(m.sections.expand!.checksum).not.toBe(m.sections.rollback!.checksum);
  });

  it('.d.ts files and other files are not migrations; .mts and .js are', () => {
    const dir = writeDir({
      'README.md': '# notes',
      '20260101000000_types.d.ts': 'export {};',
      '20260102000000_a.mts': "import { defineMigration } from 'tandem';\nexport default defineMigration({ operations: [{ dropTable: { table: 't' } }] });",
      '20260103000000_b.js': "export default { operations: [{ dropTable: { table: 'u' } }] };",
    });
    expect(load(dir).map((m) => [m.id, m.format])).toEqual([
      ['20260102000000_a', 'ts'],
      ['20260103000000_b', 'ts'],
    ]);
  });
});

describe('errors name the file, the line, the operation index and the field', () => {
  it('malformed JSON: the line and column of the syntax error', () => {
    // A missing comma: V8's message gives a position.
    const e1 = loadError(JSON_NAME, '{\n  "operations": [\n    {"dropTable": {"table": "a"}}\n    {"dropTable": {"table": "b"}}\n  ]\n}', 4);
    expect(e1.message).toMatch(/not valid JSON/);
    expect(e1.place.column).toBe(5);
    // A trailing comma: V8's message has no position, tandem finds it itself.
    const e2 = loadError(JSON_NAME, '{\n  "operations": [\n    {"dropTable": {"table": "a"}},\n  ]\n}', 4);
    expect(e2.place.column).toBe(3);
  });

  it('malformed YAML: the line of the syntax error', () => {
    // Line 4 is indented like neither the list item nor its fields.
    const e = loadError(YAML_NAME, 'operations:\n  - dropTable:\n      table: a\n   bad: b\n', 4);
    expect(e.message).toMatch(/not valid YAML/);
    // An unclosed bracket is found where the file ends.
    expect(loadError(YAML_NAME, 'operations:\n  - dropTable:\n      table: [a\n', 4).message).toMatch(/not valid YAML/);
  });

  it('unknown operation: its index, its line and the list of known operations', () => {
    const text = '{"operations": [\n  {"dropTable": {"table": "a"}},\n  {"renameColumns": {"table": "a"}}\n]}';
    const e = loadError(JSON_NAME, text, 3);
    expect(e.message).toMatch(/operation 1: unknown operation "renameColumns"/);
    for (const name of Object.keys(OPERATIONS)) expect(e.fix).toContain(name);
    // The same in YAML.
    const y = loadError(YAML_NAME, 'operations:\n  - dropTable: {table: a}\n  - dropTables:\n      table: a\n', 3);
    expect(y.message).toMatch(/operation 1: unknown operation "dropTables"/);
  });

  it('an operation object with two keys', () => {
    const e = loadError(JSON_NAME, '{"operations": [\n  {"dropTable": {"table": "a"}, "dropIndex": {"table": "a", "name": "i"}}\n]}', 2);
    expect(e.message).toMatch(/operation 0 has 2 keys \(dropTable, dropIndex\)/);
    const none = loadError(YAML_NAME, 'operations:\n  - dropTable: {table: a}\n  - {}\n', 3);
    expect(none.message).toMatch(/operation 1 has 0 keys/);
  });

  it('a field of the wrong type: the field and its line', () => {
    const text = [
      '{"operations": [', // 1
      '  {"dropTable": {"table": "a"}},', // 2
      '  {"createIndex": {', // 3
      '    "table": "a",', // 4
      '    "name": "a_idx",', // 5
      '    "columns": "x"', // 6
      '  }}', // 7
      ']}', // 8
    ].join('\n');
    const e = loadError(JSON_NAME, text, 6);
    expect(e.message).toMatch(/^operation 1 \(createIndex\): field "columns": .*array/i);
    const yaml = ['operations:', '  - createIndex:', '      table: a', '      name: 7', '      columns: [x]'].join('\n');
    const y = loadError(YAML_NAME, yaml, 4);
    expect(y.message).toMatch(/^operation 0 \(createIndex\): field "name": .*string/i);
  });

  it('a nested field of the wrong type: its full path and line', () => {
    const text = [
      '{"operations": [{"createTable": {', // 1
      '  "table": "t",', // 2
      '  "columns": [', // 3
      '    {"name": "id", "type": "bigint"},', // 4
      '    {"name": "n", "type": "text", "nullable": "no"}', // 5
      '  ]', // 6
      '}}]}', // 7
    ].join('\n');
    const e = loadError(JSON_NAME, text, 5);
    expect(e.message).toMatch(/operation 0 \(createTable\): field "columns\.1\.nullable": .*boolean/i);
  });

  it('a missing required field: the field, at the operation', () => {
    const text = '{"operations": [\n  {"dropTable": {"table": "a"}},\n  {"renameColumn": {"table": "users",\n    "from": "a"}}\n]}';
    const e = loadError(JSON_NAME, text);
    expect(e.message).toMatch(/operation 1 \(renameColumn\): field "to"/);
    expect([3, 4]).toContain(e.place.line);
    const y = loadError(YAML_NAME, 'operations:\n  - addCheck:\n      table: t\n      name: c\n', 2);
    expect(y.message).toMatch(/operation 0 \(addCheck\): field "expression"/);
  });

  it('an unknown field: the field, its line, and the fields the operation takes', () => {
    const text = '{"operations": [\n  {"dropIndex": {\n    "table": "a",\n    "name": "i",\n    "concurrently": true\n  }}\n]}';
    const e = loadError(JSON_NAME, text, 5);
    expect(e.message).toMatch(/operation 0 \(dropIndex\): field "concurrently"/);
    expect(e.fix).toMatch(/remove "concurrently"; dropIndex takes table, name/);
    const y = loadError(YAML_NAME, 'operations:\n  - dropIndex:\n      table: a\n      name: i\n      colour: red\n', 5);
    expect(y.message).toMatch(/field "colour"/);
  });

  it('an unknown top-level key: the key and its line', () => {
    const e = loadError(JSON_NAME, '{\n  "operations": [{"dropTable": {"table": "a"}}],\n  "operation": []\n}', 3);
    expect(e.message).toMatch(/operation/);
    expect(e.message).toMatch(/unrecognized|unknown/i);
    const y = loadError(YAML_NAME, 'operations:\n  - dropTable: {table: a}\ndescription: hi\n', 3);
    expect(y.message).toMatch(/description/);
  });

  it('operations that is not a list, or an entry that is not an object', () => {
    const e = loadError(JSON_NAME, '{"operations": {"dropTable": {"table": "a"}}}', 1);
    expect(e.message).toMatch(/^operations: /);
    const y = loadError(YAML_NAME, 'operations:\n  - dropTable: {table: a}\n  - dropTable\n', 3);
    expect(y.message).toMatch(/operations\.1/);
  });

  it('neither operations nor phase functions', () => {
    expect(loadError(JSON_NAME, '{}', 1).message).toMatch(/neither operations nor phase functions/);
    expect(loadError(YAML_NAME, '# nothing yet\n', 1).message).toMatch(/(neither operations nor phase functions|object)/);
  });

  it('both operations and phase functions (TypeScript)', () => {
    const e = loadError(TS_NAME, "import { defineMigration } from 'tandem';\nexport default defineMigration({ operations: [{ dropTable: { table: 'a' } }], async expand() {} });\n");
    expect(e.message).toMatch(/either operations or phase functions, not both/);
  });

  it('phase functions in JSON are a type error, not code', () => {
    const e = loadError(JSON_NAME, '{"expand": "DROP TABLE users"}', 1);
    expect(e.message).toMatch(/^expand: /);
  });

  it('TypeScript: an operation error names the index and the field (no line)', () => {
    const e = loadError(TS_NAME, "export default { operations: [{ dropTable: { table: 'a' } }, { addUnique: { table: 'a', name: 'u', columns: [] } }] };\n");
    expect(e.message).toMatch(/operation 1 \(addUnique\): field "columns"/);
  });

  it('TypeScript: a syntax error names the file', () => {
    const e = loadError(TS_NAME, "import { defineMigration } from 'tandem';\nexport default defineMigration({ operations: [ { dropTable: { table: 'a' } }, ] ;\n");
    expect(e.message).toMatch(/cannot load the migration/);
  });

  it('TypeScript: an error thrown while the module runs names the file and the error', () => {
    const e = loadError(TS_NAME, "import { defineMigration } from 'tandem';\nthrow new Error('no config for region eu-2');\nexport default defineMigration({ operations: [] });\n");
    expect(e.message).toMatch(/cannot load the migration: .*no config for region eu-2/);
  });

  it('TypeScript: an import that does not resolve names the file and the module', () => {
    const e = loadError(TS_NAME, "import { helper } from './not-there.js';\nexport default { operations: [{ dropTable: { table: helper } }] };\n");
    expect(e.message).toMatch(/not-there/);
  });

  it('TypeScript: no default export', () => {
    const e = loadError(TS_NAME, "export const operations = [{ dropTable: { table: 'a' } }];\n", 1);
    expect(e.message).toMatch(/no default export/);
  });
});

describe('checksums', () => {
  const text = '{"operations": [{"dropTable": {"table": "a"}}]}\n';

  it('changes when the file changes, and not otherwise', () => {
    const dir = writeDir({ [JSON_NAME]: text });
    const first = load(dir)[0]!.sourceChecksum;
    expect(load(dir)[0]!.sourceChecksum).toBe(first);
    // Another directory with the same content: the checksum depends on the text only.
    expect(loadOne(JSON_NAME, text).sourceChecksum).toBe(first);
    // Line endings do not count (a checkout on Windows is the same migration).
    expect(loadOne(JSON_NAME, text.replace(/\n/g, '\r\n')).sourceChecksum).toBe(first);
    fs.writeFileSync(path.join(ROOT, dir, JSON_NAME), text.replace('"a"', '"b"'));
    const edited = load(dir)[0]!;
    expect(edited.sourceChecksum).not.toBe(first);
    expect(edited.sections.expand!.checksum).toBe(edited.sourceChecksum);
  });

  it('YAML and TypeScript: an edit changes the checksum; a reload does not', () => {
    const yaml = 'operations:\n  - dropTable: {table: a}\n';
    const yamlDir = writeDir({ [YAML_NAME]: yaml });
    const y1 = load(yamlDir)[0]!.sourceChecksum;
    expect(load(yamlDir)[0]!.sourceChecksum).toBe(y1);
    fs.writeFileSync(path.join(ROOT, yamlDir, YAML_NAME), yaml.replace('a}', 'b}'));
    expect(load(yamlDir)[0]!.sourceChecksum).not.toBe(y1);

    const ts = "export default { async expand(db) { await db.raw('SELECT 1'); } };\n";
    const tsDir = writeDir({ [TS_NAME]: ts });
    const t1 = load(tsDir)[0]!.sections.expand!.checksum;
    expect(load(tsDir)[0]!.sections.expand!.checksum).toBe(t1);
    fs.writeFileSync(path.join(ROOT, tsDir, TS_NAME), ts.replace('SELECT 1', 'SELECT 2'));
    // jiti's module cache must not hand back the old function.
    const edited = load(tsDir)[0]!;
    expect(edited.sections.expand!.checksum).not.toBe(t1);
    expect(edited.sections.expand!.statements[0]!.run!.toString()).toContain('SELECT 2');
  });
});

describe('a directory mixing formats', () => {
  it('orders SQL, JSON, YAML and TypeScript migrations by file name', () => {
    const dir = writeDir({
      '20260104000000_d.ts': "export default { operations: [{ dropTable: { table: 'd' } }] };\n",
      '20260102000000_b.json': '{"operations": [{"dropTable": {"table": "b"}}]}',
      '20260101000000_a.sql': 'CREATE TABLE a (id int);\n',
      '20260103000000_c.yml': 'operations:\n  - dropTable: {table: c}\n',
      '20260105000000_e.sql': '-- tandem:expand\nCREATE TABLE e (id int);\n',
    });
    expect(load(dir).map((m) => [m.id, m.format])).toEqual([
      ['20260101000000_a', 'sql'],
      ['20260102000000_b', 'json'],
      ['20260103000000_c', 'yaml'],
      ['20260104000000_d', 'ts'],
      ['20260105000000_e', 'sql'],
    ]);
  });

  it('a version used by two files of different formats is an error', () => {
    const dir = writeDir({
      '20260101000000_a.sql': 'CREATE TABLE a (id int);\n',
      '20260101000000_a.json': '{"operations": [{"dropTable": {"table": "a"}}]}',
    });
    expect(() => load(dir)).toThrow(/version 20260101000000 is used twice: 20260101000000_a\.json and 20260101000000_a\.sql/);
    const other = writeDir({
      '20260101000000_a.yaml': 'operations:\n  - dropTable: {table: a}\n',
      '20260101000000_b.ts': "export default { operations: [{ dropTable: { table: 'b' } }] };\n",
    });
    try {
      load(other);
      throw new Error('expected a duplicate-version error');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toMatch(/used twice/);
      expect((error as UsageError).place.file).toBe(`${other}/20260101000000_b.ts`);
    }
  });
});
