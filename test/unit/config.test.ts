import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText } from '../../src/config/load-config.js';
import { configSchema } from '../../src/config/schema.js';
import { UsageError } from '../../src/errors/tandem-error.js';

const FILE = 'tandem.config.json';

function configError(text: string): UsageError {
  try {
    parseConfigText(text, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return error as UsageError;
  }
  throw new Error('expected parseConfigText to throw');
}

/** Names the file (in the message and the place), and the line (and column) to fix. */
function expectAt(error: UsageError, line: number, column?: number): void {
  expect(error.exitCode).toBe(2);
  expect(error.message).toContain(FILE);
  expect(error.place.file).toBe(FILE);
  expect(error.place.line).toBe(line);
  if (column !== undefined) expect(error.place.column).toBe(column);
  expect(error.where).toBe(`${FILE}:${line}:${error.place.column}`);
  expect(error.fix).toBeTruthy();
}

describe('config: defaults and valid files', () => {
  it('an empty object gives every default', () => {
    const config = parseConfigText('{}', FILE);
    expect(config).toEqual(configSchema.parse({}));
    expect(config).toMatchObject({ dir: 'migrations', waitSeconds: 10, lockTimeoutMs: 1000, mysqlLockWaitTimeoutSeconds: 2, parallelWorkers: 0 });
    expect(config.retries).toEqual({ count: 10, initialDelayMs: 250, maxDelayMs: 15_000 });
    expect(config.backfill).toMatchObject({ targetBatchMs: 30, initialBatchSize: 1000, minBatchSize: 100, maxBatchSize: 20_000, pauseMs: 0 });
  });

  it('partial nested objects keep the other defaults', () => {
    const config = parseConfigText('{ "retries": { "count": 3 }, "backfill": { "pauseMs": 5 }, "url": "pglite:memory" }', FILE);
    expect(config.retries).toEqual({ count: 3, initialDelayMs: 250, maxDelayMs: 15_000 });
    expect(config.backfill.pauseMs).toBe(5);
    expect(config.backfill.initialBatchSize).toBe(1000);
    expect(config.url).toBe('pglite:memory');
  });

  it('accepts "$schema"', () => {
    expect(parseConfigText('{ "$schema": "./schema.json" }', FILE).dir).toBe('migrations');
  });
});

describe('config: schema errors name the file, the field and its line', () => {
  it('a value of the wrong type', () => {
    const error = configError('{\n  "dir": "db",\n  "lockTimeoutMs": "fast"\n}\n');
    expect(error.message).toContain('"lockTimeoutMs"');
    expectAt(error, 3, 20);
    expect(error.fix).toContain('lockTimeoutMs');
  });

  it('a value out of range in a nested object', () => {
    const error = configError('{\n  "retries": {\n    "initialDelayMs": 10,\n    "count": -1\n  }\n}\n');
    expect(error.message).toContain('"retries.count"');
    expectAt(error, 4, 14);
  });

  it('a non-integer where an integer is required', () => {
    const error = configError('{\n  "backfill": {\n    "pauseMs": 0,\n    "initialBatchSize": 2.5\n  }\n}');
    expect(error.message).toContain('"backfill.initialBatchSize"');
    expectAt(error, 4);
  });

  it('an unknown top-level field (a typo) names it and lists the known ones', () => {
    const error = configError('{\n  "dir": "db",\n\n  "lockTimeout": 500\n}\n');
    expect(error.message).toContain('"lockTimeout"');
    expectAt(error, 4);
    expect(error.fix).toContain('lockTimeoutMs');
    expect(error.fix).not.toContain('$schema');
  });

  it('an unknown nested field', () => {
    const error = configError('{\n  "backfill": {\n    "batchSize": 10\n  }\n}');
    expect(error.message).toContain('"backfill.batchSize"');
    expectAt(error, 3);
  });

  it('an empty string where a non-empty one is required', () => {
    expectAt(configError('{"waitSeconds": 1,\n"dir": ""}'), 2, 8);
  });

  it('several problems: the first is located, the count of the others is given', () => {
    const error = configError('{\n  "waitSeconds": -1,\n  "lockTimeoutMs": "x"\n}');
    expect(error.message).toContain('"waitSeconds"');
    expect(error.message).toContain('1 more problem');
    expectAt(error, 2);
  });

  it('not an object at all', () => {
    const error = configError('[1, 2]');
    expect(error.message).toContain('(top level)');
    expectAt(error, 1, 1);
  });

  it('a key with the same name earlier in another object does not confuse the position', () => {
    const error = configError('{\n  "retries": { "count": 1 },\n  "backfill": { "count": 2 }\n}');
    expect(error.message).toContain('"backfill.count"');
    expectAt(error, 3);
  });
});

describe('config: invalid JSON gives the position of the syntax error', () => {
  it.each([
    ['a missing comma', '{\n  "dir": "db",\n  "waitSeconds": 1\n  "lockTimeoutMs": 5\n}', 4, 3],
    ['a trailing comma', '{\n  "dir": "db",\n  "waitSeconds": 1,\n}', 4, 1],
    ['an unquoted key', '{\n  "dir": "db",\n  waitSeconds: 1\n}', 3, 3],
    ['a single-quoted string', '{\n  "waitSeconds": 1,\n  "dir": \'db\'\n}', 3, 10],
    ['a comment', '{\n  "waitSeconds": 1,\n  // why\n  "dir": "db"\n}', 3, 3],
    ['a bad literal', '{\n  "waitSeconds": tru\n}', 2, 18],
    ['a missing colon', '{\n  "dir" "db"\n}', 2, 9],
  ])('%s', (_label, text, line, column) => {
    const error = configError(text);
    expect(error.message).toContain('not valid JSON');
    expectAt(error, line, column);
  });

  it('text that ends early points at its end', () => {
    const error = configError('{\n  "dir": "db",\n  "retries": {\n');
    expect(error.message).toContain('not valid JSON');
    expectAt(error, 4, 1);
  });
});

describe('loadConfig', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-config-unit-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('no file: defaults, and file null', () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    expect(loadConfig({ cwd: empty })).toEqual({ config: configSchema.parse({}), file: null });
  });

  it('reads tandem.config.json from the cwd and reports its path', () => {
    const cwd = fs.mkdtempSync(path.join(dir, 'ok-'));
    fs.writeFileSync(path.join(cwd, 'tandem.config.json'), '{ "dir": "db/migrations", "waitSeconds": 0 }');
    const loaded = loadConfig({ cwd });
    expect(loaded.file).toBe(path.join(cwd, 'tandem.config.json'));
    expect(loaded.config.dir).toBe('db/migrations');
    expect(loaded.config.waitSeconds).toBe(0);
  });

  it('an error names the file relative to the cwd', () => {
    const cwd = fs.mkdtempSync(path.join(dir, 'bad-'));
    fs.mkdirSync(path.join(cwd, 'conf'));
    fs.writeFileSync(path.join(cwd, 'conf', 'tandem.json'), '{\n  "retries": { "count": "many" }\n}\n');
    try {
      loadConfig({ cwd, file: 'conf/tandem.json' });
      throw new Error('expected loadConfig to throw');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      const usage = error as UsageError;
      expect(usage.place).toMatchObject({ file: path.join('conf', 'tandem.json'), line: 2 });
      expect(usage.message).toContain('conf/tandem.json');
      expect(usage.message).toContain('"retries.count"');
    }
  });

  it('a config file given explicitly that does not exist is an error, not defaults', () => {
    expect(() => loadConfig({ cwd: dir, file: 'nope.json' })).toThrow(/nope\.json does not exist/);
  });
});
