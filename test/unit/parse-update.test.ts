import { describe, expect, it } from 'vitest';
import { parseBatchable, parseUpdate, type BatchableUpdate } from '../../src/backfill/parse-update.js';
import { normalizeStatement, type SqlDialect } from '../../src/migrations/split-statements.js';

/** The runner hands parseUpdate normalized SQL (comments removed, spacing collapsed). */
const parse = (sql: string, dialect: SqlDialect) => parseUpdate(normalizeStatement(sql, dialect), dialect);

function batchable(sql: string, dialect: SqlDialect): BatchableUpdate {
  const result = parse(sql, dialect);
  if (!result?.batchable) throw new Error(`expected a batchable UPDATE, got ${JSON.stringify(result)}`);
  return result;
}

function reason(sql: string, dialect: SqlDialect): string {
  const result = parse(sql, dialect);
  if (!result || result.batchable) throw new Error(`expected an unbatchable UPDATE, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe.each<SqlDialect>(['postgres', 'mysql'])('parseUpdate: batchable forms (%s)', (dialect) => {
  it('UPDATE t SET … WHERE …', () => {
    expect(batchable('UPDATE users SET full_name = name WHERE full_name IS NULL', dialect)).toEqual({
      batchable: true,
      table: { name: 'users' },
      qualifier: 'users',
      head: 'UPDATE users SET full_name = name',
      condition: 'full_name IS NULL',
      fromSql: 'users',
      tail: '',
    });
  });

  it('without WHERE: every row', () => {
    const update = batchable('UPDATE users SET flag = 1', dialect);
    expect(update.condition).toBeNull();
    expect(update.head).toBe('UPDATE users SET flag = 1');
  });

  it('with an alias, with and without AS', () => {
    const withAs = batchable('UPDATE users AS u SET full_name = u.name WHERE u.full_name IS NULL', dialect);
    expect(withAs).toMatchObject({ table: { name: 'users' }, qualifier: 'u', fromSql: 'users AS u', condition: 'u.full_name IS NULL' });
    const bare = batchable('UPDATE users u SET full_name = u.name', dialect);
    expect(bare).toMatchObject({ table: { name: 'users' }, qualifier: 'u', fromSql: 'users AS u', condition: null });
  });

  it('schema-qualified', () => {
    expect(batchable('UPDATE app.users SET a = 1 WHERE b = 2', dialect)).toMatchObject({
      table: { schema: 'app', name: 'users' },
      qualifier: 'app.users',
      fromSql: 'app.users',
      tail: '',
      condition: 'b = 2',
    });
  });

  it('comments and line breaks are normalized away first', () => {
    const update = batchable('UPDATE users -- fill it\n   SET a = 1 /* all */\n WHERE\n  b = 2', dialect);
    expect(update.head).toBe('UPDATE users SET a = 1');
    expect(update.condition).toBe('b = 2');
  });

  it('subqueries and nested clauses inside SET and WHERE are fine', () => {
    const update = batchable(
      'UPDATE orders SET total = (SELECT SUM(amount) FROM items WHERE items.order_id = orders.id ORDER BY 1 LIMIT 1) WHERE id IN (SELECT order_id FROM items)',
      dialect,
    );
    expect(update.table).toEqual({ name: 'orders' });
    expect(update.condition).toBe('id IN (SELECT order_id FROM items)');
  });

  it('keywords inside strings do not count', () => {
    const update = batchable("UPDATE notes SET body = 'see FROM x WHERE y ORDER BY z' WHERE kind = 'LIMIT'", dialect);
    expect(update.head).toBe("UPDATE notes SET body = 'see FROM x WHERE y ORDER BY z'");
    expect(update.condition).toBe("kind = 'LIMIT'");
  });

  it('lower-case keywords', () => {
    expect(batchable('update users as u set a = 1 where u.b = 2', dialect)).toMatchObject({ qualifier: 'u', condition: 'u.b = 2' });
  });
});

describe('parseUpdate: quoted names', () => {
  it('PostgreSQL double quotes keep case; bare names fold to lower case', () => {
    expect(batchable('UPDATE "App"."User Accounts" SET a = 1', 'postgres')).toMatchObject({
      table: { schema: 'App', name: 'User Accounts' },
      qualifier: '"App"."User Accounts"',
    });
    expect(batchable('UPDATE App.Users SET a = 1', 'postgres').table).toEqual({ schema: 'app', name: 'users' });
    expect(batchable('UPDATE "we""ird" AS "W" SET a = 1', 'postgres')).toMatchObject({ table: { name: 'we"ird' }, qualifier: '"W"' });
  });

  it('MySQL backticks; names keep their case', () => {
    expect(batchable('UPDATE `shop`.`Order Items` AS oi SET oi.qty = 1 WHERE oi.qty IS NULL', 'mysql')).toMatchObject({
      table: { schema: 'shop', name: 'Order Items' },
      qualifier: 'oi',
      fromSql: '`shop`.`Order Items` AS oi',
      tail: '',
    });
    expect(batchable('UPDATE Users SET a = 1', 'mysql').table).toEqual({ name: 'Users' });
  });

  it('PostgreSQL ONLY, MySQL LOW_PRIORITY / IGNORE', () => {
    expect(batchable('UPDATE ONLY parent SET a = 1', 'postgres').table).toEqual({ name: 'parent' });
    expect(batchable('UPDATE LOW_PRIORITY IGNORE t SET a = 1', 'mysql').table).toEqual({ name: 't' });
  });
});

describe.each<SqlDialect>(['postgres', 'mysql'])('parseUpdate: each unbatchable reason (%s)', (dialect) => {
  it('a WITH clause', () => {
    expect(reason('WITH x AS (SELECT 1) UPDATE t SET a = 1', dialect)).toBe('it starts with a WITH clause');
  });

  it('several tables: comma or JOIN', () => {
    expect(reason('UPDATE a, b SET a.x = b.x WHERE a.id = b.id', dialect)).toBe('it updates several tables');
    expect(reason('UPDATE a LEFT JOIN b ON a.id = b.id SET a.x = b.x', dialect)).toBe('it updates several tables');
    // A bare JOIN is read as an alias named JOIN: still never batched, though the reason is vaguer.
    expect(reason('UPDATE a JOIN b ON a.id = b.id SET a.x = b.x', dialect)).toMatch(/several tables|no SET clause/);
    expect(reason('UPDATE a AS aa INNER JOIN b ON aa.id = b.id SET aa.x = b.x', dialect)).toBe('it updates several tables');
  });

  it('FROM, RETURNING, ORDER BY, LIMIT at the top level', () => {
    expect(reason('UPDATE a SET x = b.x FROM b WHERE a.id = b.id', dialect)).toBe('it has a FROM clause');
    expect(reason('UPDATE a SET x = 1 WHERE y = 2 RETURNING id', dialect)).toBe('it has a RETURNING clause');
    expect(reason('UPDATE a SET x = 1 ORDER BY id', dialect)).toBe('it has a ORDER clause');
    expect(reason('UPDATE a SET x = 1 WHERE y = 2 LIMIT 10', dialect)).toBe('it has a LIMIT clause');
  });

  it('WHERE CURRENT OF', () => {
    expect(reason('UPDATE a SET x = 1 WHERE CURRENT OF cur', dialect)).toBe('it uses WHERE CURRENT OF');
  });

  it('a table name that cannot be read', () => {
    expect(reason('UPDATE db.app.t SET x = 1', dialect)).toBe('its table name could not be read');
    expect(reason('UPDATE SET x = 1', dialect)).toBe('its table name could not be read');
  });

  it('no SET after the table', () => {
    expect(reason('UPDATE t a b SET x = 1', dialect)).toBe('no SET clause follows the table');
    expect(reason('UPDATE t', dialect)).toBe('no SET clause follows the table');
  });

  it('anything that is not an UPDATE is not parsed at all', () => {
    expect(parse('INSERT INTO t VALUES (1)', dialect)).toBeNull();
    expect(parse('DELETE FROM t WHERE a = 1', dialect)).toBeNull();
    expect(parse('SELECT 1', dialect)).toBeNull();
  });
});

/** INSERT … SELECT from one table: batched over the source table's key (parse-insert-select.ts). */
const parseCopy = (sql: string, dialect: SqlDialect) => parseBatchable(normalizeStatement(sql, dialect), dialect);

describe.each<SqlDialect>(['postgres', 'mysql'])('parseBatchable: INSERT … SELECT (%s)', (dialect) => {
  it('INSERT INTO target (columns) SELECT … FROM source WHERE …: the range joins the WHERE, the clauses after it stay after it', () => {
    expect(parseCopy('INSERT INTO archive (id, v) SELECT id, v * 2 FROM events WHERE v > 0 FOR SHARE', dialect)).toEqual({
      batchable: true,
      table: { name: 'events' },
      qualifier: 'events',
      head: 'INSERT INTO archive (id, v) SELECT id, v * 2 FROM events',
      condition: 'v > 0',
      fromSql: 'events',
      tail: 'FOR SHARE',
      lockRows: 'FOR SHARE',
    });
  });

  it('without WHERE, with an alias, with a conflict clause', () => {
    expect(parseCopy('INSERT INTO archive SELECT * FROM events', dialect)).toMatchObject({ batchable: true, head: 'INSERT INTO archive SELECT * FROM events', condition: null, tail: '' });
    expect(parseCopy('INSERT INTO archive SELECT e.id FROM events AS e ON CONFLICT DO NOTHING', dialect)).toMatchObject({ batchable: true, qualifier: 'e', fromSql: 'events AS e', condition: null, tail: 'ON CONFLICT DO NOTHING' });
    expect(parseCopy('INSERT INTO archive SELECT e.id FROM events e WHERE e.id > 3 LOCK IN SHARE MODE ON DUPLICATE KEY UPDATE archive.id = archive.id', dialect)).toMatchObject({
      batchable: true,
      qualifier: 'e',
      condition: 'e.id > 3',
      tail: 'LOCK IN SHARE MODE ON DUPLICATE KEY UPDATE archive.id = archive.id',
      lockRows: 'LOCK IN SHARE MODE',
    });
  });

  it('a subquery, EXTRACT … FROM and IS DISTINCT FROM in the SELECT list are not its FROM', () => {
    expect(parseCopy('INSERT INTO archive (y, d) SELECT (SELECT max(x) FROM other), a IS DISTINCT FROM b FROM events WHERE id IN (SELECT id FROM other)', dialect)).toMatchObject({ batchable: true, table: { name: 'events' }, condition: 'id IN (SELECT id FROM other)' });
  });

  it('what a batch would change the meaning of runs as one statement, with the reason', () => {
    const reasonOf = (sql: string) => {
      const result = parseCopy(sql, dialect);
      return result && !result.batchable ? result.reason : JSON.stringify(result);
    };
    expect(reasonOf('INSERT INTO a SELECT DISTINCT x FROM b')).toBe('it selects DISTINCT rows');
    expect(reasonOf('INSERT INTO a SELECT x, count(*) FROM b GROUP BY x')).toBe('its SELECT has a GROUP clause');
    expect(reasonOf('INSERT INTO a SELECT x FROM b ORDER BY x LIMIT 10')).toBe('its SELECT has a ORDER clause');
    expect(reasonOf('INSERT INTO a SELECT x FROM b UNION SELECT x FROM c')).toBe('its SELECT has a UNION clause');
    expect(reasonOf('INSERT INTO a SELECT b.x FROM b JOIN c ON c.id = b.id')).toBe('it reads several tables');
    expect(reasonOf('INSERT INTO a SELECT b.x FROM b, c WHERE c.id = b.id')).toBe('it reads several tables');
    expect(reasonOf('INSERT INTO a SELECT b.x FROM b WHERE true JOIN c')).toBe('it reads several tables');
    expect(reasonOf('INSERT INTO a SELECT 1')).toBe('its SELECT reads no table');
    expect(reasonOf('INSERT INTO a WITH s AS (SELECT 1) SELECT * FROM s')).toBe('it has a WITH clause');
  });

  it('other INSERTs are not parsed at all', () => {
    expect(parseCopy('INSERT INTO a VALUES (1)', dialect)).toBeNull();
    expect(parseCopy('INSERT INTO a (x) VALUES ((SELECT 1 FROM b))', dialect)).toBeNull();
    expect(parseCopy('SELECT 1 FROM b', dialect)).toBeNull();
  });
});
