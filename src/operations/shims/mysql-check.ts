import { stringLiteral } from '../../db/raw-sql.js';
import { mysqlAdapter } from '../../db/dialects/mysql.js';
import { expressionsMention } from './index.js';
import { declareColumns } from './mysql-shim.js';

const q = (name: string) => mysqlAdapter.quoteIdent(name);

export interface MysqlCheckSpec {
  table: string;
  /** The constraint's name, as the error names it. */
  constraint: string;
  expression: string;
  /** Trigger base name, unique per operation. */
  name: string;
  /** The table's columns with their types, so the expression can use bare names. */
  columns: Array<{ name: string; type: string }>;
  mariadb: boolean;
}

/**
 * A CHECK constraint enforced by BEFORE INSERT/UPDATE triggers. MySQL and MariaDB copy the whole
 * table to add a real CHECK (ALGORITHM=COPY, writes blocked throughout); creating a trigger only
 * takes a brief metadata lock. Like a CHECK, a row passes unless the expression is false, and the
 * error is the server's own for a failed check (MariaDB 4025, MySQL 3819), naming the constraint.
 */
export function mysqlCheckTriggers(spec: MysqlCheckSpec): { install: string[]; remove: string[] } {
  const used = spec.columns.filter((column) => expressionsMention([spec.expression], column.name));
  const declarations = declareColumns(used);
  const message = spec.mariadb ? `CONSTRAINT \`${spec.constraint}\` failed for \`${spec.table}\`` : `Check constraint '${spec.constraint}' is violated.`;
  const signal = spec.mariadb ? `SQLSTATE '23000' SET MYSQL_ERRNO = 4025` : `SQLSTATE 'HY000' SET MYSQL_ERRNO = 3819`;
  const trigger = (event: 'INSERT' | 'UPDATE') => `CREATE TRIGGER ${q(`${spec.name}_${event === 'INSERT' ? 'bi' : 'bu'}`)} BEFORE ${event} ON ${q(spec.table)} FOR EACH ROW
BEGIN
${declarations}
  IF NOT (${spec.expression}) THEN
    SIGNAL ${signal}, MESSAGE_TEXT = ${stringLiteral(message.slice(0, 128), 'mysql')};
  END IF;
END`;
  return {
    install: [trigger('INSERT'), trigger('UPDATE')],
    remove: [`DROP TRIGGER IF EXISTS ${q(`${spec.name}_bi`)}`, `DROP TRIGGER IF EXISTS ${q(`${spec.name}_bu`)}`],
  };
}

