import { isWord, spanOf } from '../parse/tokens.js';
import type { Rule, RuleContext } from '../types.js';
import { ALL_PHASES, hit } from './helpers.js';
import { memoryKeys } from '../facts.js';

export const lockTimeoutMissing: Rule = {
  id: 'lock-timeout-missing',
  severity: 'warning',
  dialects: ['postgres', 'mysql'],
  phases: ALL_PHASES,
  summary: 'DDL without a lock timeout (migrations not run by tandem)',
  why: 'DDL waits for its lock behind every running query, and while it waits every new query on the table queues behind it: a short ALTER turns into an outage if a long transaction is open. A lock timeout makes it give up (and retry) instead. tandem sets lock_timeout / lock_wait_timeout on every step itself, so this applies only to files other tools run.',
  lock: 'Whatever the DDL needs; while it waits for it, every later query on the table queues behind it.',
  fix: "Start the file with `SET lock_timeout = '2s';` (PostgreSQL) or `SET SESSION lock_wait_timeout = 5;` (MySQL), and retry on timeout — or run the migrations with tandem.",
  examples: {
    bad: [{ sql: 'ALTER TABLE users ADD COLUMN bio text;', tool: 'flyway' }, { sql: 'ALTER TABLE users ADD COLUMN bio TEXT;', dialect: 'mysql', tool: 'sql' }],
    good: [{ sql: "SET lock_timeout = '2s';\nALTER TABLE users ADD COLUMN bio text;", tool: 'flyway' }, { sql: 'ALTER TABLE users ADD COLUMN bio text;', tool: 'tandem' }],
  },
  check(context) {
    if (context.tool === 'tandem' || context.memory.get(memoryKeys.lockTimeout) === true || context.memory.get('lockTimeoutReported') === true) return [];
    const table = lockingDdlTable(context);
    if (table === null || context.isNewTable(table)) return [];
    context.memory.set('lockTimeoutReported', true);
    const tokens = context.statement.tokens;
    const setting = context.dialect === 'postgres' ? 'lock_timeout' : 'lock_wait_timeout';
    return [hit(spanOf(tokens, 0, Math.min(2, tokens.length - 1)), `DDL on ${table} without a ${setting} set earlier in the file: while it waits for its lock, every query on ${table} queues behind it`)];
  },
};

function lockingDdlTable(context: RuleContext): string | null {
  const node = context.statement.pg;
  if (node) {
    if (node.type === 'AlterTableStmt' || node.type === 'RenameStmt') return String(node.node.relation?.relname ?? '');
    if (node.type === 'IndexStmt' && !node.node.concurrent) return String(node.node.relation?.relname ?? '');
    if (node.type === 'DropStmt' && ['OBJECT_TABLE', 'OBJECT_INDEX'].includes(node.node.removeType) && !node.node.concurrent) return '';
    return null;
  }
  const tokens = context.statement.tokens;
  if (context.dialect === 'mysql' && isWord(tokens[0], 'ALTER', 'RENAME', 'DROP', 'CREATE') && tokens.slice(1, 4).some((t) => isWord(t, 'TABLE', 'INDEX'))) {
    if (isWord(tokens[0], 'CREATE') && isWord(tokens[1], 'TABLE')) return null;
    const at = tokens.findIndex((t, i) => i > 0 && isWord(t, 'TABLE'));
    return at > 0 ? tokens[at + 1]?.upper.toLowerCase() ?? '' : '';
  }
  return null;
}
