/**
 * A constant that MySQL/MariaDB accept as a column's DEFAULT for the type, for columns whose value
 * is never meant to be read while the default applies: it lets a NOT NULL column be added, or an
 * old one be left, without a table rebuild. Null when the type has no safe constant here (ENUM,
 * SET, JSON, spatial types; TEXT and BLOB on MySQL, which allows them no literal default).
 */
export function mysqlPlaceholder(type: string, mariadb: boolean): string | null {
  const base = /^\s*([a-z]+)/i.exec(type)?.[1]?.toLowerCase() ?? '';
  if (/^(tinyint|smallint|mediumint|int|integer|bigint|decimal|dec|numeric|fixed|float|double|real|bit|bool|boolean)$/.test(base)) return '0';
  if (/^(char|varchar|binary|varbinary)$/.test(base)) return "''";
  if (/^(tinytext|text|mediumtext|longtext|tinyblob|blob|mediumblob|longblob)$/.test(base)) return mariadb ? "''" : null;
  // A TIMESTAMP default must lie in 1970–2038 in every session time zone: midnight 2000-01-01 does.
  if (base === 'date') return "'2000-01-01'";
  if (base === 'datetime' || base === 'timestamp') return "'2000-01-01 00:00:00'";
  if (base === 'time') return "'00:00:00'";
  if (base === 'year') return '2000';
  return null;
}
