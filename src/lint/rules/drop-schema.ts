import { findWord, isWord, spanOf } from '../parse/tokens.js';
import type { Rule } from '../types.js';
import { FORWARD, hit, pg } from './helpers.js';

export const dropSchema: Rule = {
  id: 'drop-schema',
  severity: 'error',
  dialects: ['postgres', 'mysql'],
  phases: FORWARD,
  summary: 'Dropping a schema or database from a migration',
  why: 'Every table, view and function inside it disappears at once, with its data, for every app version.',
  lock: 'ACCESS EXCLUSIVE on everything inside.',
  fix: 'Drop the objects one by one in contract migrations after the app stopped using them, or do it by hand outside the migration history.',
  examples: {
    bad: [{ sql: 'DROP SCHEMA reporting CASCADE;' }, { sql: 'DROP DATABASE analytics;', dialect: 'mysql' }],
    good: [{ sql: 'DROP VIEW reporting.daily_totals;', phase: 'contract' }],
  },
  check(context) {
    const node = pg(context, 'DropStmt');
    const tokens = context.statement.tokens;
    const all = spanOf(tokens, 0, tokens.length - 1);
    if (node && (node.removeType === 'OBJECT_SCHEMA' || node.removeType === 'OBJECT_DATABASE')) return [hit(all, 'drops a whole schema with everything in it')];
    if (pg(context, 'DropdbStmt')) return [hit(all, 'drops a whole database')];
    if (context.dialect === 'mysql' && isWord(tokens[0], 'DROP') && findWord(tokens, 1, ['DATABASE', 'SCHEMA']) === 1) return [hit(all, 'drops a whole database with everything in it')];
    return [];
  },
};
