import { UsageError } from '../errors/tandem-error.js';
import { checksumStatements } from './checksum.js';
import { PHASES, type Migration, type Phase, type Section } from './model.js';
import { SqlSplitError, splitStatements, type SqlDialect } from './split-statements.js';

const MARKER = /^\s*--\s*tandem:\s*(\S*)\s*$/i;
/** Lines that look meant as a marker but are not one (a typo such as `--tandem expand`). */
const NEAR_MARKER = /^\s*--\s*tandem\s*[:\s]/i;
/** dbmate's section markers: to tandem a comment, so its down section would run forward with the rest. */
const DBMATE_MARKER = /^\s*--\s*migrate:\s*(up|down)\b/i;

/** Statements tandem manages itself: a migration must not open or close transactions. */
const TRANSACTION_CONTROL = /^(begin|start\s+transaction|commit|rollback|abort|end|savepoint|release|prepare\s+transaction|xa)\b/i;

export function parseSqlMigration(text: string, options: { file: string; id: string; name: string; version: string; dialect: SqlDialect }): Migration {
  const { file, dialect } = options;
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const markers: Array<{ phase: Phase; line: number }> = [];

  lines.forEach((content, index) => {
    const line = index + 1;
    const dbmate = DBMATE_MARKER.exec(content);
    if (dbmate) {
      throw new UsageError(
        `dbmate's "-- migrate:${dbmate[1]!.toLowerCase()}" marker: tandem would run the whole file forward, its down section too`,
        { file, line },
        'use tandem\'s markers: `-- tandem:expand` instead of `-- migrate:up`, and `-- tandem:rollback` instead of `-- migrate:down`',
      );
    }
    const match = MARKER.exec(content);
    if (!match) {
      if (NEAR_MARKER.test(content) && !/^\s*--\s*tandem-lint/i.test(content)) {
        throw new UsageError(`malformed phase marker "${content.trim()}"`, { file, line }, 'write markers exactly as `-- tandem:expand`, `-- tandem:backfill`, `-- tandem:contract` or `-- tandem:rollback`');
      }
      return;
    }
    const phase = match[1]!.toLowerCase();
    if (!(PHASES as readonly string[]).includes(phase)) {
      throw new UsageError(`unknown phase marker "-- tandem:${match[1]}"`, { file, line }, `use one of ${PHASES.map((p) => `-- tandem:${p}`).join(', ')}`);
    }
    const earlier = markers.find((marker) => marker.phase === phase);
    if (earlier) {
      throw new UsageError(`duplicate section "-- tandem:${phase}" (first at line ${earlier.line})`, { file, line }, `merge the two ${phase} sections into one`);
    }
    markers.push({ phase: phase as Phase, line });
  });

  const sections: Partial<Record<Phase, Section>> = {};
  const addSection = (phase: Phase, markerLine: number, bodyStart: number, bodyEnd: number): void => {
    const body = lines.slice(bodyStart - 1, bodyEnd).join('\n');
    const statements = split(body, dialect, bodyStart, file);
    for (const statement of statements) {
      if (TRANSACTION_CONTROL.test(statement.sql)) {
        throw new UsageError(`transaction control "${statement.sql.split(/\s/)[0]}" in a migration`, { file, line: statement.line, column: statement.column }, 'remove it: tandem runs each phase in transactions of its own (and outside one where PostgreSQL requires it)');
      }
    }
    sections[phase] = { phase, line: markerLine, statements, checksum: checksumStatements(statements, dialect) };
  };

  if (markers.length === 0) {
    addSection('expand', 1, 1, lines.length);
    return { ...options, format: 'sql', plain: true, sections } satisfies Migration;
  }

  const before = split(lines.slice(0, markers[0]!.line - 1).join('\n'), dialect, 1, file);
  if (before.length > 0) {
    throw new UsageError(`statement before the first phase marker`, { file, line: before[0]!.line, column: before[0]!.column }, `move it under a marker such as -- tandem:expand (line ${markers[0]!.line} starts the first section)`);
  }
  markers.forEach((marker, i) => {
    const next = markers[i + 1];
    addSection(marker.phase, marker.line, marker.line + 1, next ? next.line - 1 : lines.length);
  });
  return { id: options.id, name: options.name, version: options.version, file, format: 'sql', plain: false, sections };
}

function split(text: string, dialect: SqlDialect, firstLine: number, file: string) {
  try {
    return splitStatements(text, dialect, firstLine);
  } catch (error) {
    if (error instanceof SqlSplitError) {
      throw new UsageError(error.message, { file, line: error.line, column: error.column }, 'close the quote, dollar quote or comment');
    }
    throw error;
  }
}
