import { tokenizeStatement } from '../../lint/parse/tokens.js';
import { loadPostgresParser, parsePostgres } from '../../lint/parse/postgres.js';
import type { Token } from '../../lint/types.js';

export interface RenameOptions {
  /** Rewrite only inside this part of the text (a constraint's definition, a foreign key's own columns). */
  within?: { start: number; end: number };
  /** Only a foreign key's own columns are the column (its referenced columns are another table's). */
  foreignKeyColumnsOnly?: boolean;
}

/**
 * PostgreSQL: a statement as the catalog prints it (`pg_get_indexdef`, a constraint's definition),
 * with every reference to column `from` turned into one to `to`, or null when that cannot be done
 * with certainty.
 *
 * The rewrite works on tokens: a name equal to `from` is a column reference unless it is a function
 * (followed by `(`), part of a qualified name, a type after `::`, or a collation. Then
 * PostgreSQL's parser checks it: the rewritten statement must parse to the original's tree with
 * exactly the column references renamed (index columns, column references in expressions, foreign
 * key columns) and nothing else changed.
 */
export async function renameColumnRefs(sql: string, from: string, to: string, quote: (name: string) => string, options: RenameOptions = {}): Promise<string | null> {
  const { within, foreignKeyColumnsOnly = false } = options;
  await loadPostgresParser();
  const tokens = tokenizeStatement(sql, 'postgres');
  let rewritten = '';
  let copied = 0;
  tokens.forEach((token, i) => {
    if (within && (token.start < within.start || token.end > within.end)) return;
    if (!namesColumn(token, from) || !isColumnPosition(tokens, i)) return;
    rewritten += sql.slice(copied, token.start) + quote(to);
    copied = token.end;
  });
  rewritten += sql.slice(copied);
  const before = parsePostgres(sql);
  const after = parsePostgres(rewritten);
  if (!before.ok || !after.ok || before.type !== after.type) return null;
  const expected = comparable(renameInTree(before.node, from, to, !foreignKeyColumnsOnly));
  return JSON.stringify(expected) === JSON.stringify(comparable(after.node)) ? rewritten : null;
}

function namesColumn(token: Token, column: string): boolean {
  if (token.kind === 'quoted') return token.upper === column;
  return token.kind === 'word' && token.text.toLowerCase() === column && !/[A-Z]/.test(column);
}

function isColumnPosition(tokens: Token[], i: number): boolean {
  const previous = tokens[i - 1];
  const next = tokens[i + 1];
  if (next?.text === '(' || next?.text === '.' || previous?.text === '.') return false;
  if (previous?.text === ':' && tokens[i - 2]?.text === ':') return false;
  return !(previous?.kind === 'word' && previous.upper === 'COLLATE');
}

/**
 * The tree with `from` renamed to `to` where it names a column: an index or statistics element, a column
 * reference's last field, a foreign key's own column. `expressions` false: foreign key columns only.
 */
function renameInTree(node: unknown, from: string, to: string, expressions: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => renameInTree(item, from, to, expressions));
  if (!node || typeof node !== 'object') return node;
  const record = node as Record<string, unknown>;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record)) {
    if (expressions && (key === 'IndexElem' || key === 'StatsElem') && (value as { name?: string }).name === from) result[key] = { ...(renameInTree(value, from, to, expressions) as object), name: to };
    else if (expressions && key === 'ColumnRef') result[key] = renameColumnRef(value as { fields?: unknown[] }, from, to);
    else if (key === 'fk_attrs') result[key] = (value as Array<{ String?: { sval?: string } }>).map((item) => (item.String?.sval === from ? { String: { sval: to } } : item));
    else result[key] = renameInTree(value, from, to, expressions);
  }
  return result;
}

function renameColumnRef(ref: { fields?: unknown[] }, from: string, to: string): unknown {
  const fields = (ref.fields ?? []) as Array<{ String?: { sval?: string } }>;
  if (fields.at(-1)?.String?.sval !== from) return ref;
  // A qualified reference (t.col) is not rewritten by the tokens: make sure the trees then differ.
  return fields.length === 1 ? { ...ref, fields: [{ String: { sval: to } }] } : { unrenamed: fields };
}

/** Locations move when a name's length changes: they are not part of what must stay equal. */
function comparable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(comparable);
  if (!node || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node as Record<string, unknown>).filter(([key]) => key !== 'location').map(([key, value]) => [key, comparable(value)]));
}
