import type { OperationContext } from './types.js';

/**
 * MySQL/MariaDB: InnoDB adds no column to a table with a FULLTEXT index instantly, and rebuilds such
 * a table (to add a column, or to make one NOT NULL) only with writes blocked (LOCK=SHARED). So an
 * operation that adds a twin or a column, or rebuilds, is refused at compile, naming the index,
 * rather than failing at expand or contract. So is a table that still holds the hidden FTS_DOC_ID
 * column of a dropped FULLTEXT index, where the operation adds a column (`addsColumn`); an online
 * rebuild works there, and removes it.
 */
export async function refuseFulltextTable(context: OperationContext, table: string, addsColumn = true): Promise<void> {
  const { fulltext, hiddenFtsDocId } = await context.inspect.mysqlInstantAddBlockers(table);
  const q = context.quote;
  // An online rebuild (FORCE) with the drop is what removes the hidden column: a plain DROP INDEX leaves it.
  const rebuild = (drops: string[]) => `ALTER TABLE ${q(table)} ${[...drops.map((index) => `DROP INDEX ${q(index)}`), 'FORCE'].join(', ')}, ALGORITHM=INPLACE, LOCK=NONE`;
  if (hiddenFtsDocId && addsColumn) {
    throw new Error(`table ${table} still has InnoDB's hidden FTS_DOC_ID column, left by a FULLTEXT index dropped since its last rebuild: InnoDB adds no column to it without a table rebuild; rebuild it online in an earlier migration (a "sql" operation: ${rebuild([])}), which removes the hidden column`);
  }
  if (fulltext.length === 0) return;
  const indexes = `${fulltext.length === 1 ? 'index' : 'indexes'} ${fulltext.join(', ')}`;
  throw new Error(`table ${table} has FULLTEXT ${indexes}: InnoDB adds no column to it without a table rebuild, and rebuilds it only with writes blocked (LOCK=SHARED); drop the FULLTEXT ${indexes} in an earlier migration with an online rebuild (a "sql" operation: ${rebuild(fulltext)}; a plain DROP INDEX leaves InnoDB's hidden FTS_DOC_ID column behind, which blocks the same) and add ${fulltext.length === 1 ? 'it' : 'them'} back after this one's contract, or make the change in a maintenance window with a "sql" operation`);
}
