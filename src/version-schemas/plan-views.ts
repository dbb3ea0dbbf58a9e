import type { ViewAdjustment } from '../operations/types.js';

/** A table of the base schema as the catalog shows it: columns in table order. */
export interface CatalogTable {
  /** pg_class oid, as text. */
  relid: string;
  name: string;
  columns: Array<{ name: string; attnum: number }>;
}

/** One view of a version schema: `SELECT <source> AS <name>, … FROM <base>.<table>`. */
export interface ViewSpec {
  name: string;
  table: string;
  relid: string;
  columns: Array<{ name: string; source: string; attnum: number }>;
}

/**
 * The views of a version schema: one per table, named like it, its columns in table order — as
 * adjusted by the migrations whose app version the schema serves (the in-flight ones before it and
 * its own, in order): a type change's twin stands in for its column, dropped and renamed-away
 * columns are hidden, a column renamed through the views shows under its new name, a renamed table's view takes the new name, a dropped table has none. An
 * adjustment whose column is gone (its contract already swapped it in) changes nothing.
 */
export function planViews(tables: CatalogTable[], adjustments: ViewAdjustment[]): ViewSpec[] {
  const viewName = new Map<string, string>();
  // A later migration names a renamed table by its new name: find the table behind it.
  const baseOf = (name: string): string => [...viewName].find(([, view]) => view === name)?.[0] ?? name;
  const dropped = new Set<string>();
  const hidden = new Map<string, Set<string>>();
  const replaced = new Map<string, Map<string, string>>();
  const renamed = new Map<string, Map<string, string>>();
  for (const adjustment of adjustments) {
    switch (adjustment.kind) {
      case 'renameTable':
        viewName.set(baseOf(adjustment.from), adjustment.to);
        break;
      case 'dropTable':
        dropped.add(baseOf(adjustment.table));
        break;
      case 'hideColumn':
        setOf(hidden, baseOf(adjustment.table)).add(adjustment.column);
        break;
      case 'renameColumn':
        mapOf(renamed, baseOf(adjustment.table)).set(adjustment.from, adjustment.to);
        break;
      case 'replaceColumn':
        mapOf(replaced, baseOf(adjustment.table)).set(adjustment.column, adjustment.by);
        break;
    }
  }
  const views: ViewSpec[] = [];
  for (const table of tables) {
    if (dropped.has(table.name)) continue;
    const present = new Map(table.columns.map((column) => [column.name, column]));
    const swaps = new Map([...(replaced.get(table.name) ?? [])].filter(([column, by]) => present.has(column) && present.has(by)));
    const twins = new Set(swaps.values());
    const hide = hidden.get(table.name) ?? new Set<string>();
    // A rename whose contract has run finds `to` in the table (and `from` gone): nothing to show differently.
    const renames = new Map([...(renamed.get(table.name) ?? [])].filter(([from, to]) => present.has(from) && !present.has(to)));
    const columns: ViewSpec['columns'] = [];
    for (const column of table.columns) {
      if (twins.has(column.name) || hide.has(column.name)) continue;
      const source = present.get(swaps.get(column.name) ?? column.name)!;
      columns.push({ name: renames.get(column.name) ?? column.name, source: source.name, attnum: source.attnum });
    }
    views.push({ name: viewName.get(table.name) ?? table.name, table: table.name, relid: table.relid, columns });
  }
  return views;
}

function setOf(map: Map<string, Set<string>>, key: string): Set<string> {
  const set = map.get(key) ?? new Set<string>();
  map.set(key, set);
  return set;
}

function mapOf(map: Map<string, Map<string, string>>, key: string): Map<string, string> {
  const inner = map.get(key) ?? new Map<string, string>();
  map.set(key, inner);
  return inner;
}

/** What a view's comment records, so a contract that must drop it can build it again: column name and source attnum. */
export interface ViewRecord {
  table: string;
  columns: Array<[name: string, attnum: number]>;
}

/** How a version schema's view is marked as tandem's (its comment's start). */
export const COMMENT_PREFIX = 'tandem version view ';

export function viewComment(view: ViewSpec): string {
  const record: ViewRecord = { table: view.table, columns: view.columns.map((c) => [c.name, c.attnum]) };
  return `${COMMENT_PREFIX}${JSON.stringify(record)}`;
}

export function parseViewComment(comment: string | null): ViewRecord | null {
  if (!comment?.startsWith(COMMENT_PREFIX)) return null;
  try {
    const record = JSON.parse(comment.slice(COMMENT_PREFIX.length)) as ViewRecord;
    return typeof record.table === 'string' && Array.isArray(record.columns) ? record : null;
  } catch {
    return null;
  }
}
