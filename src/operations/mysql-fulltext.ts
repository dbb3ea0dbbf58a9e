import type { OperationContext } from './types.js';

/**
 * MySQL/MariaDB: InnoDB adds no column to a table with a FULLTEXT index instantly, and rebuilds such
 * a table (to add a column, or to make one NOT NULL) only with writes blocked (LOCK=SHARED). So an
 * operation that adds a twin or a column, or rebuilds, is refused at compile, naming the index,
 * rather than failing at expand or contract.
 */
export async function refuseFulltextTable(context: OperationContext, table: string): Promise<void> {
  const { fulltext } = await context.inspect.mysqlInstantAddBlockers(table);
  if (fulltext.length === 0) return;
  const indexes = `${fulltext.length === 1 ? 'index' : 'indexes'} ${fulltext.join(', ')}`;
  throw new Error(`table ${table} has FULLTEXT ${indexes}: InnoDB adds no column to it without a table rebuild, and rebuilds it only with writes blocked (LOCK=SHARED); drop the FULLTEXT ${indexes} in an earlier migration and add ${fulltext.length === 1 ? 'it' : 'them'} back after this one's contract, or make the change in a maintenance window with a "sql" operation`);
}
