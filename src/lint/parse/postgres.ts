import { loadModule, parseSync } from 'libpg-query';

let loaded: Promise<void> | null = null;

/** libpg-query (PostgreSQL 17's own parser, compiled to WASM) must be loaded once before parseSync. */
export function loadPostgresParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

export type PgParse = { ok: true; type: string; node: any } | { ok: false; message: string; offset: number };

/**
 * Parse one statement. Locations in the tree are turned from UTF-8 byte offsets into string
 * offsets, so that spans are right in text with non-ASCII characters.
 */
export function parsePostgres(sql: string): PgParse {
  let tree: any;
  try {
    tree = parseSync(sql);
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    const byteOffset = typeof details?.cursorPosition === 'number' ? details.cursorPosition : 0;
    return { ok: false, message: (error as Error).message, offset: byteToCharOffset(sql, byteOffset) };
  }
  const raw = tree?.stmts?.[0]?.stmt;
  if (!raw) return { ok: true, type: 'Empty', node: {} };
  if (!isAscii(sql)) relocate(raw, byteOffsetTable(sql));
  const type = Object.keys(raw)[0]!;
  return { ok: true, type, node: raw[type] };
}

function isAscii(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x00-\x7f]*$/.test(text);
}

/** For each UTF-8 byte offset, the string offset it belongs to. */
function byteOffsetTable(text: string): number[] {
  const table: number[] = [];
  let charIndex = 0;
  for (const ch of text) {
    const bytes = Buffer.byteLength(ch, 'utf8');
    for (let b = 0; b < bytes; b++) table.push(charIndex);
    charIndex += ch.length;
  }
  table.push(charIndex);
  return table;
}

function byteToCharOffset(text: string, byteOffset: number): number {
  if (isAscii(text)) return Math.min(byteOffset, text.length);
  const table = byteOffsetTable(text);
  return table[Math.min(byteOffset, table.length - 1)] ?? 0;
}

function relocate(node: unknown, table: number[]): void {
  if (Array.isArray(node)) {
    for (const item of node) relocate(item, table);
  } else if (node && typeof node === 'object') {
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const value = record[key];
      if (key === 'location' && typeof value === 'number' && value >= 0) record[key] = table[Math.min(value, table.length - 1)];
      else if (value && typeof value === 'object') relocate(value, table);
    }
  }
}

/** `{ String: { sval: 'x' } }` lists (qualified names) to their last part. */
export function lastName(names: any[] | undefined): string {
  const last = names?.[names.length - 1];
  return String(last?.String?.sval ?? '').toLowerCase();
}

/** The type name of a TypeName node, without `pg_catalog.`: int4, varchar, text, numeric, … */
export function typeNameOf(typeName: any): string {
  return lastName(typeName?.names);
}

/** Integer modifiers of a type (varchar(20) → [20], numeric(10,2) → [10, 2]). */
export function typeModifiers(typeName: any): number[] {
  return (typeName?.typmods ?? []).map((mod: any) => Number(mod?.A_Const?.ival?.ival ?? NaN));
}
