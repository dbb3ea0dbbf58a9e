import type { Hit, Rule } from '../types.js';
import { ALL_PHASES, hit, mysqlPartitionClauses } from './helpers.js';

/** Partition clauses that move rows (by their first word), and what each does to `table`. */
const MOVES_ROWS: Record<string, (table: string) => string> = {
  PARTITION: (table) => `repartitions ${table}: every row is copied into the new layout`,
  REMOVE: (table) => `removes the partitioning of ${table}: every row is copied into one table`,
  COALESCE: (table) => `merges HASH/KEY partitions of ${table}: their rows are copied into the ones that remain`,
  REBUILD: (table) => `rebuilds partitions of ${table}: their rows are copied`,
  ADD: (table) => `adds HASH/KEY partitions to ${table}: the rows are redistributed over all of them`,
};

export const mysqlPartitionCopy: Rule = {
  id: 'mysql-partition-copy',
  severity: 'error',
  dialects: ['mysql'],
  phases: ALL_PHASES,
  summary: 'Partition maintenance that copies rows while writes wait',
  why: 'Repartitioning, REMOVE PARTITIONING, COALESCE, REBUILD and ADD PARTITION on a HASH/KEY table copy rows, and REORGANIZE PARTITION copies the rows of the partitions it splits or merges; writes to the whole table wait until the copy is done (MySQL allows LOCK=SHARED at best; MariaDB takes no ALGORITHM or LOCK clause with them). Measured on MariaDB 10.11: an INSERT into another partition waited 1.2 s of a 1.7 s REORGANIZE of 300,000 rows, and 2.9 s of a 3.3 s REMOVE PARTITIONING; reads went on. Adding or dropping RANGE/LIST partitions and reorganizing empty ones move no rows.',
  lock: 'Writes to the table blocked for the copy; reads continue.',
  fix: 'Keep partitions ahead of the data: split the MAXVALUE partition while it is still empty (REORGANIZE of empty partitions moves nothing), and drop old ones with DROP PARTITION. To repartition a table that has rows, build a partitioned copy, fill it in batches while a trigger keeps it in step, and swap the tables with RENAME TABLE.',
  examples: {
    bad: [
      { sql: 'ALTER TABLE events PARTITION BY RANGE (y) (PARTITION p0 VALUES LESS THAN (2026), PARTITION p1 VALUES LESS THAN MAXVALUE);', dialect: 'mysql' },
      { sql: 'ALTER TABLE events REMOVE PARTITIONING;', dialect: 'mysql' },
      { sql: 'ALTER TABLE sessions ADD PARTITION PARTITIONS 2;', dialect: 'mysql', note: 'a HASH/KEY partitioned table: every row is redistributed' },
      { sql: 'ALTER TABLE events REORGANIZE PARTITION p2025, p2026 INTO (PARTITION p2026 VALUES LESS THAN (2027));', dialect: 'mysql', note: 'merges partitions that hold rows' },
    ],
    good: [
      { sql: 'ALTER TABLE events ADD PARTITION (PARTITION p2030 VALUES LESS THAN (2031));', dialect: 'mysql' },
      { sql: 'ALTER TABLE events DROP PARTITION p2020;', dialect: 'mysql' },
    ],
  },
  check(context) {
    const partitions = mysqlPartitionClauses(context);
    if (!partitions) return [];
    const hits: Hit[] = [];
    for (const clause of partitions.clauses) {
      const [word = '', next, after] = clause.words;
      if (word === 'REORGANIZE') {
        hits.push(hit(clause.span, `reorganizes partitions of ${partitions.table}: their rows are copied while writes to the whole table wait; fine only while they are empty`, { severity: 'warning' }));
        continue;
      }
      // ADD PARTITION PARTITIONS n: HASH/KEY; ADD PARTITION (…): RANGE/LIST, no rows move.
      if (word === 'ADD' && !(next === 'PARTITION' && after === 'PARTITIONS')) continue;
      if (word === 'PARTITION' && next !== 'BY') continue;
      const does = MOVES_ROWS[word];
      if (does) hits.push(hit(clause.span, `${does(partitions.table)}, while writes to the table wait`));
    }
    return hits;
  },
};
