import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { jsonErrorReason, jsonSyntaxErrorOffset, positionOfJsonPath, toPosition } from '../config/json-position.js';
import { UsageError } from '../errors/tandem-error.js';
import type { OperationCall } from '../operations/compile.js';
import { isOperationName, OPERATIONS } from '../operations/registry.js';
import { PHASES, type Migration, type PhaseFunction, type Section } from './model.js';

export const DECLARATIVE_EXTENSIONS = ['.json', '.yaml', '.yml', '.ts', '.mts', '.js', '.mjs'];

interface Identity {
  file: string;
  id: string;
  name: string;
  version: string;
}

/** Where a value sits in the file, for error messages; formats without positions answer undefined. */
type Locate = (path: Array<string | number>) => number | undefined;

export function loadDeclarativeMigration(absolute: string, identity: Identity): Migration {
  const extension = path.extname(absolute).toLowerCase();
  if (extension === '.json') {
    const text = fs.readFileSync(absolute, 'utf8');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      // V8 leaves the position out of some messages (a trailing comma): then find it ourselves.
      const offset = /position (\d+)/.exec((error as Error).message)?.[1];
      throw new UsageError(`not valid JSON: ${jsonErrorReason((error as Error).message)}`, { file: identity.file, ...toPosition(text, offset !== undefined ? Number(offset) : jsonSyntaxErrorOffset(text)) }, 'fix the JSON syntax at that place');
    }
    return fromDefinition(raw, identity, (p) => positionOfJsonPath(text, p)?.line, text);
  }
  if (extension === '.yaml' || extension === '.yml') {
    const text = fs.readFileSync(absolute, 'utf8');
    const lineCounter = new LineCounter();
    const document = parseDocument(text, { lineCounter, prettyErrors: false });
    const problem = document.errors[0];
    if (problem) {
      const place = lineCounter.linePos(problem.pos[0]);
      throw new UsageError(`not valid YAML: ${problem.message.split('\n')[0]}`, { file: identity.file, line: place.line, column: place.col }, 'fix the YAML syntax at that place');
    }
    const locate: Locate = (p) => {
      const node = document.getIn(p, true) as { range?: [number, number, number] } | undefined;
      return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
    };
    return fromDefinition(document.toJS(), identity, locate, text);
  }
  const module = importTypeScript(absolute, identity.file) as { default?: unknown; __esModule?: boolean };
  // An ES module must export its migration as default; a CommonJS one may be the migration itself.
  const exported = module.__esModule ? module.default : (module.default ?? module);
  if (exported === undefined) {
    throw new UsageError('the module has no default export', { file: identity.file, line: 1 }, 'write `export default defineMigration({ operations: [...] })`');
  }
  return fromDefinition(exported, identity, () => undefined, fs.readFileSync(absolute, 'utf8'));
}

// Not z.function(): zod 4 hands back a wrapper, whose source (the checksum) is the same for every function.
const phaseFunction = z.custom<PhaseFunction>((value) => typeof value === 'function', 'expected a function');

const definitionShape = z
  .object({
    operations: z.array(z.record(z.string(), z.unknown())).optional(),
    expand: phaseFunction.optional(),
    backfill: phaseFunction.optional(),
    contract: phaseFunction.optional(),
    rollback: phaseFunction.optional(),
  })
  .strict();

function fromDefinition(raw: unknown, identity: Identity, locate: Locate, source: string): Migration {
  const shape = definitionShape.safeParse(raw);
  if (!shape.success) {
    const issue = shape.error.issues[0]!;
    const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(top level)');
    // An unknown key is reported at its own line, not at the object that holds it.
    const at = [...issue.path, ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [])] as Array<string | number>;
    throw new UsageError(`${field}: ${issue.message}`, { file: identity.file, line: locate(at) ?? 1 }, 'a migration is an object with "operations" (a list of {operationName: {…}}), or phase functions in TypeScript');
  }
  const definition = shape.data;
  const functions = PHASES.filter((phase) => typeof definition[phase] === 'function');
  if (definition.operations && functions.length > 0) {
    throw new UsageError('give either operations or phase functions, not both', { file: identity.file, line: 1 }, 'move the functions into a separate migration, or use the sql operation');
  }
  if (!definition.operations && functions.length === 0) {
    throw new UsageError('the migration has neither operations nor phase functions', { file: identity.file, line: 1 }, 'add "operations": [ … ]');
  }
  const checksum = createHash('sha256').update(source.replace(/\r\n?/g, '\n')).digest('hex');
  const base = { ...identity, format: formatOf(identity.file), plain: false, sourceChecksum: checksum } as const;

  if (functions.length > 0) {
    const sections: Migration['sections'] = {};
    for (const phase of functions) {
      const run = definition[phase] as PhaseFunction;
      sections[phase] = { phase, line: 1, checksum: createHash('sha256').update(run.toString()).digest('hex'), statements: [{ sql: `-- ${phase}() of ${identity.file}`, line: 1, column: 1, endLine: 1, run }] } satisfies Section;
    }
    return { ...base, sections };
  }

  const operations = definition.operations!.map((entry, index): OperationCall => {
    const line = locate(['operations', index]);
    const keys = Object.keys(entry);
    const where = { file: identity.file, ...(line ? { line } : {}) };
    if (keys.length !== 1) {
      throw new UsageError(`operation ${index} has ${keys.length} keys (${keys.join(', ') || 'none'}); each operation is an object with exactly one key, its name`, where, `write it as {"renameColumn": {…}}`);
    }
    const name = keys[0]!;
    if (!isOperationName(name)) {
      throw new UsageError(`operation ${index}: unknown operation "${name}"`, where, `use one of ${Object.keys(OPERATIONS).join(', ')}`);
    }
    const parsed = OPERATIONS[name].args.safeParse(entry[name]);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const fieldPath = [...issue.path, ...(issue.code === 'unrecognized_keys' ? [issue.keys[0]!] : [])] as Array<string | number>;
      const field = fieldPath.join('.') || '(arguments)';
      const fieldLine = locate(['operations', index, name, ...fieldPath]) ?? line;
      throw new UsageError(`operation ${index} (${name}): field "${field}": ${issue.message}`, { file: identity.file, ...(fieldLine ? { line: fieldLine } : {}) }, issue.code === 'unrecognized_keys' ? `remove "${field}"; ${name} takes ${Object.keys((OPERATIONS[name].args as unknown as { shape?: object }).shape ?? {}).join(', ') || 'other fields'}` : `fix "${field}"`);
    }
    return { name, args: parsed.data, index, ...(line ? { line } : {}) };
  });
  const sections: Migration['sections'] = {};
  for (const phase of PHASES) sections[phase] = { phase, line: 1, checksum, statements: [] };
  return { ...base, sections, operations };
}

function formatOf(file: string): Migration['format'] {
  const extension = path.extname(file).toLowerCase();
  return extension === '.json' ? 'json' : extension === '.yaml' || extension === '.yml' ? 'yaml' : 'ts';
}

/**
 * TypeScript migrations are loaded with jiti (no build step), synchronously so that loading stays
 * one simple call. `import { defineMigration } from 'tandem'` resolves to the small module that
 * defines it, wherever the migration lives, without loading (and transpiling) all of tandem.
 */
function importTypeScript(file: string, display: string): unknown {
  const require = createRequire(import.meta.url);
  const { createJiti } = require('jiti') as typeof import('jiti');
  const defineModule = fileURLToPath(new URL('../operations/define-migration.js', import.meta.url));
  const jiti = createJiti(pathToFileURL(file).href, { alias: { tandem: defineModule }, moduleCache: false, fsCache: false, interopDefault: false });
  try {
    return jiti(file);
  } catch (error) {
    const message = (error as Error).message.split('\n')[0];
    throw new UsageError(`cannot load the migration: ${message}`, { file: display, line: 1 }, 'fix the TypeScript error; a migration imports only defineMigration (and types) from tandem');
  }
}
