import { findWord, isWord, readName, spanOf } from '../parse/tokens.js';
import type { Hit, Rule } from '../types.js';
import { OLD_APP_PHASES, hit, pg } from './helpers.js';

export const dropTable: Rule = {
  id: 'drop-table',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: OLD_APP_PHASES,
  summary: 'Dropping a table while the old app version still runs',
  why: 'The running app still queries the table; every such query fails from the moment it is gone. The data is gone too, so a rollback cannot bring it back.',
  lock: 'ACCESS EXCLUSIVE (PostgreSQL) / exclusive metadata lock (MySQL), briefly.',
  fix: 'Stop using the table in the app first; drop it in the contract phase, after the old version is retired.',
  examples: {
    bad: [{ sql: 'DROP TABLE legacy_sessions;', phase: 'expand' }, { sql: 'DROP TABLE IF EXISTS legacy_sessions;', dialect: 'mysql' }],
    good: [{ sql: 'DROP TABLE legacy_sessions;', phase: 'contract' }, { sql: 'CREATE TABLE tmp_import (id int);\nDROP TABLE tmp_import;' }],
  },
  check(context) {
    const hits: Hit[] = [];
    const node = pg(context, 'DropStmt');
    const tokens = context.statement.tokens;
    if (node && node.removeType === 'OBJECT_TABLE') {
      for (const object of node.objects ?? []) {
        const items = object.List?.items ?? [];
        const name = String(items[items.length - 1]?.String?.sval ?? '');
        if (!context.isNewTable(name)) hits.push(hit(spanOf(tokens, 0, tokens.length - 1), `drops table ${name} while the old app version may still use it`));
      }
    }
    if (context.dialect === 'mysql' && isWord(tokens[0], 'DROP')) {
      const at = findWord(tokens, 1, ['TABLE']);
      if (at > 0 && at <= 2) {
        let i = at + 1;
        if (isWord(tokens[i], 'IF')) i += 2;
        while (i < tokens.length) {
          const name = readName(tokens, i, 'mysql');
          if (!context.isNewTable(name.name)) hits.push(hit(spanOf(tokens, 0, name.next - 1), `drops table ${name.name} while the old app version may still use it`));
          if (tokens[name.next]?.text !== ',') break;
          i = name.next + 1;
        }
      }
    }
    return hits;
  },
};
