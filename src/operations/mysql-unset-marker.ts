/**
 * MySQL/MariaDB: a value that stands for "not filled yet" in a NOT NULL column while a shim and the
 * backfill fill it, where PostgreSQL uses NULL. InnoDB cannot make a column NOT NULL without
 * rebuilding the table, so addColumn adds a required column NOT NULL at once, with this marker as
 * its DEFAULT (instant), and contract only drops the default. The marker is the one value tandem
 * reserves while the column is filled: the type's most negative value (the largest when unsigned),
 * one NUL character for strings, the first day of year 1000 for dates. A write of exactly the marker
 * counts as "not written", unless the writer says it is the new version (`@tandem_role = 'new'`).
 */
export interface UnsetMarker {
  /** The DEFAULT literal. */
  literal: string;
  /** Strings compare by length and code point, so no collation or padding rule can match another value. */
  kind: 'string' | 'value';
}

const INTEGER_RANGES: Record<string, { min: string; unsignedMax: string }> = {
  tinyint: { min: '-128', unsignedMax: '255' },
  bool: { min: '-128', unsignedMax: '255' },
  boolean: { min: '-128', unsignedMax: '255' },
  smallint: { min: '-32768', unsignedMax: '65535' },
  mediumint: { min: '-8388608', unsignedMax: '16777215' },
  int: { min: '-2147483648', unsignedMax: '4294967295' },
  integer: { min: '-2147483648', unsignedMax: '4294967295' },
  bigint: { min: '-9223372036854775808', unsignedMax: '18446744073709551615' },
};

/**
 * The marker for a column type, or null when the type has none that is both a legal DEFAULT and
 * unlikely as real data (FLOAT/DOUBLE compare inexactly, BINARY pads, ENUM/SET/JSON/spatial have no
 * spare value, a TIMESTAMP's range depends on the session time zone, and MySQL gives TEXT/BLOB no
 * literal default).
 */
export function mysqlUnsetMarker(type: string, mariadb: boolean): UnsetMarker | null {
  const spelled = type.trim().toLowerCase();
  const base = /^([a-z]+)/.exec(spelled)?.[1] ?? '';
  const unsigned = /\b(unsigned|zerofill)\b/.test(spelled);
  const integer = INTEGER_RANGES[base];
  if (integer) return { literal: unsigned ? integer.unsignedMax : integer.min, kind: 'value' };
  if (/^(decimal|dec|numeric|fixed)$/.test(base)) {
    const [, precision = '10', scale = '0'] = /^\w+\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?/.exec(spelled) ?? [];
    const digits = Number(precision) - Number(scale);
    const largest = `${digits > 0 ? '9'.repeat(digits) : '0'}${Number(scale) > 0 ? `.${'9'.repeat(Number(scale))}` : ''}`;
    return { literal: unsigned ? largest : `-${largest}`, kind: 'value' };
  }
  if (/^(char|varchar|varbinary)$/.test(base)) return { literal: "X'00'", kind: 'string' };
  if (/^(tinytext|text|mediumtext|longtext|tinyblob|blob|mediumblob|longblob)$/.test(base)) return mariadb ? { literal: "X'00'", kind: 'string' } : null;
  if (base === 'date') return { literal: "'1000-01-01'", kind: 'value' };
  if (base === 'datetime') return { literal: "'1000-01-01 00:00:00'", kind: 'value' };
  if (base === 'time') return { literal: "'-838:59:59'", kind: 'value' };
  if (base === 'year') return { literal: '1901', kind: 'value' };
  return null;
}

/** SQL that is true when `expression` (a NOT NULL value of the column) holds the marker. */
export function holdsUnsetMarker(expression: string, marker: UnsetMarker): string {
  // One character whose code is 0, in whatever character set and collation the column has.
  if (marker.kind === 'string') return `(CHAR_LENGTH(${expression}) = 1 AND ORD(${expression}) = 0)`;
  return `(${expression} <=> ${marker.literal})`;
}
