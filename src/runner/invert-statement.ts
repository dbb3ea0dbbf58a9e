import { identifierOf, isKeyword, tokenize, type Token } from '../backfill/tokenize.js';
import type { SqlDialect } from '../migrations/split-statements.js';

/**
 * The statement that undoes an additive expand statement, for migrations without a rollback
 * section: ADD COLUMN, CREATE TABLE/INDEX/VIEW/TRIGGER/FUNCTION/SEQUENCE/TYPE, ADD CONSTRAINT.
 * Returns null for anything whose undo would lose or invent data (DROP, ALTER TYPE, DML).
 */
export function invertStatement(sql: string, dialect: SqlDialect): string[] | null {
  const tokens = tokenize(sql, dialect);
  const text = (token: Token | undefined) => token?.text ?? '';
  let i = 0;
  const accept = (...words: string[]): boolean => {
    if (isKeyword(tokens[i], ...words)) {
      i++;
      return true;
    }
    return false;
  };
  /** A possibly schema-qualified name, as written, and its schema part (null when unqualified). */
  const qualifiedName = (): { sql: string; schema: string | null } | null => {
    const start = tokens[i];
    if (!start || (start.kind !== 'word' && start.kind !== 'quoted')) return null;
    let end = start;
    let schema: string | null = null;
    i++;
    while (tokens[i]?.text === '.' && tokens[i + 1]) {
      schema = sql.slice(start.start, end.end);
      end = tokens[i + 1]!;
      i += 2;
    }
    return { sql: sql.slice(start.start, end.end), schema };
  };
  const name = (): string | null => qualifiedName()?.sql ?? null;
  const ifNotExists = (): boolean => {
    if (!(isKeyword(tokens[i], 'IF') && isKeyword(tokens[i + 1], 'NOT') && isKeyword(tokens[i + 2], 'EXISTS'))) return false;
    i += 3;
    return true;
  };

  if (accept('CREATE')) {
    // OR REPLACE / IF NOT EXISTS: the object may have existed before this migration, and the old app
    // may use it; dropping it is not an undo. (An index holds no data of its own: it is dropped.)
    if (accept('OR')) return null;
    accept('TEMP', 'TEMPORARY', 'UNLOGGED');
    const unique = accept('UNIQUE');
    if (accept('INDEX')) {
      const concurrently = accept('CONCURRENTLY');
      ifNotExists();
      if (isKeyword(tokens[i], 'ON')) return null; // unnamed index: its generated name is not known here
      const index = name();
      if (!index || !accept('ON')) return null;
      accept('ONLY');
      const table = qualifiedName();
      if (dialect === 'mysql') return table ? [`DROP INDEX ${index} ON ${table.sql}`] : null;
      // PostgreSQL puts the index in its table's schema, which need not be on the search_path.
      const qualified = table?.schema ? `${table.schema}.${index}` : index;
      return [`DROP INDEX ${concurrently ? 'CONCURRENTLY ' : ''}IF EXISTS ${qualified}`];
    }
    if (unique) return null;
    for (const kind of ['TABLE', 'VIEW', 'SEQUENCE', 'TYPE', 'FUNCTION', 'PROCEDURE'] as const) {
      if (accept(kind)) {
        if (ifNotExists()) return null;
        const object = name();
        return object ? [`DROP ${kind} IF EXISTS ${object}`] : null;
      }
    }
    if (accept('MATERIALIZED') && accept('VIEW')) {
      if (ifNotExists()) return null;
      const object = name();
      return object ? [`DROP MATERIALIZED VIEW IF EXISTS ${object}`] : null;
    }
    if (accept('TRIGGER')) {
      if (ifNotExists()) return null;
      const trigger = name();
      if (!trigger) return null;
      if (dialect === 'mysql') return [`DROP TRIGGER IF EXISTS ${trigger}`];
      const on = tokens.findIndex((token, index) => index > i && isKeyword(token, 'ON'));
      if (on < 0) return null;
      i = on + 1;
      const table = name();
      return table ? [`DROP TRIGGER IF EXISTS ${trigger} ON ${table}`] : null;
    }
    return null;
  }

  if (accept('ALTER') && accept('TABLE')) {
    if (isKeyword(tokens[i], 'IF') && isKeyword(tokens[i + 1], 'EXISTS')) i += 2;
    accept('ONLY');
    const table = name();
    if (!table) return null;
    // Each top-level comma-separated action must be an ADD we can undo.
    const undo: string[] = [];
    const actions = splitTopLevel(tokens.slice(i));
    for (const action of actions) {
      let j = 0;
      const at = (k: number) => action[j + k];
      if (isKeyword(at(0), 'ALGORITHM', 'LOCK')) continue; // MySQL table options, not actions
      if (!isKeyword(at(0), 'ADD')) return null;
      j++;
      if (isKeyword(at(0), 'CONSTRAINT')) {
        const constraint = at(1);
        if (!constraint) return null;
        const isForeignKey = action.some((token, k) => isKeyword(token, 'FOREIGN') && isKeyword(action[k + 1], 'KEY'));
        const isCheck = action.some((token) => isKeyword(token, 'CHECK'));
        const isUnique = action.some((token) => isKeyword(token, 'UNIQUE'));
        const isPrimary = action.some((token, k) => isKeyword(token, 'PRIMARY') && isKeyword(action[k + 1], 'KEY'));
        if (dialect === 'mysql') {
          // MariaDB's DROP CONSTRAINT knows CHECK constraints only; a primary key's name is always PRIMARY.
          undo.push(isForeignKey ? `DROP FOREIGN KEY ${constraint.text}` : isPrimary ? 'DROP PRIMARY KEY' : isCheck ? `DROP CONSTRAINT ${constraint.text}` : isUnique ? `DROP INDEX ${constraint.text}` : `DROP CONSTRAINT ${constraint.text}`);
        } else undo.push(`DROP CONSTRAINT IF EXISTS ${constraint.text}`);
        continue;
      }
      if (isKeyword(at(0), 'INDEX', 'KEY', 'UNIQUE', 'PRIMARY', 'FOREIGN', 'CHECK', 'FULLTEXT', 'SPATIAL')) return null; // unnamed
      if (isKeyword(at(0), 'COLUMN')) j++;
      if (isKeyword(at(0), 'IF') && isKeyword(at(1), 'NOT') && isKeyword(at(2), 'EXISTS')) return null; // the column may have existed: its data is not ours to drop
      const column = at(0);
      if (!column || (column.kind !== 'word' && column.kind !== 'quoted')) return null;
      if (column.kind === 'word' && identifierOf(column, dialect) === '(') return null;
      undo.push(`DROP COLUMN ${text(column)}`);
    }
    return undo.length ? [`ALTER TABLE ${table} ${undo.join(', ')}`] : null;
  }
  return null;
}

function splitTopLevel(tokens: Token[]): Token[][] {
  const parts: Token[][] = [[]];
  for (const token of tokens) {
    if (token.text === ',' && token.depth === 0) parts.push([]);
    else parts[parts.length - 1]!.push(token);
  }
  return parts.filter((part) => part.length > 0);
}
