import { describe, expect, it } from 'vitest';
import { normalizeStatement, type SqlDialect } from '../../src/migrations/split-statements.js';
import { invertStatement } from '../../src/runner/invert-statement.js';

const invert = (sql: string, dialect: SqlDialect) => invertStatement(normalizeStatement(sql, dialect), dialect);

describe('invertStatement: PostgreSQL', () => {
  const pg = (sql: string) => invert(sql, 'postgres');

  it.each([
    ['ALTER TABLE users ADD COLUMN full_name text', ['ALTER TABLE users DROP COLUMN full_name']],
    ['ALTER TABLE users ADD full_name text NOT NULL DEFAULT \'\'', ['ALTER TABLE users DROP COLUMN full_name']],
    ['ALTER TABLE ONLY app.users ADD COLUMN "Full Name" text', ['ALTER TABLE app.users DROP COLUMN "Full Name"']],
    ['ALTER TABLE IF EXISTS users ADD COLUMN a int, ADD COLUMN b int CHECK (b > 0)', ['ALTER TABLE users DROP COLUMN a, DROP COLUMN b']],
    ['ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)', ['ALTER TABLE users DROP CONSTRAINT IF EXISTS users_email_key']],
    ['ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID', ['ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_user_fk']],
    ['ALTER TABLE orders ADD CONSTRAINT positive CHECK (total >= 0) NOT VALID', ['ALTER TABLE orders DROP CONSTRAINT IF EXISTS positive']],
    ['CREATE TABLE audit (id bigint PRIMARY KEY, at timestamptz)', ['DROP TABLE IF EXISTS audit']],
    ['CREATE UNLOGGED TABLE app.scratch (id int)', ['DROP TABLE IF EXISTS app.scratch']],
    ['CREATE INDEX users_email_idx ON users (email)', ['DROP INDEX IF EXISTS users_email_idx']],
    ['CREATE UNIQUE INDEX users_email_key ON users (lower(email))', ['DROP INDEX IF EXISTS users_email_key']],
    ['CREATE INDEX CONCURRENTLY users_name_idx ON users (name)', ['DROP INDEX CONCURRENTLY IF EXISTS users_name_idx']],
    ['CREATE INDEX CONCURRENTLY IF NOT EXISTS users_name_idx ON ONLY users (name)', ['DROP INDEX CONCURRENTLY IF EXISTS users_name_idx']],
    // An index lives in its table's schema, which need not be on the search_path when rollback runs.
    ['CREATE INDEX users_email_idx ON app.users (email)', ['DROP INDEX IF EXISTS app.users_email_idx']],
    ['CREATE INDEX "Idx" ON "App"."Users" (email)', ['DROP INDEX IF EXISTS "App"."Idx"']],
    ['CREATE VIEW active_users AS SELECT * FROM users WHERE active', ['DROP VIEW IF EXISTS active_users']],
    ['CREATE MATERIALIZED VIEW totals AS SELECT 1', ['DROP MATERIALIZED VIEW IF EXISTS totals']],
    ['CREATE SEQUENCE app.invoice_no', ['DROP SEQUENCE IF EXISTS app.invoice_no']],
    ["CREATE TYPE mood AS ENUM ('ok', 'sad')", ['DROP TYPE IF EXISTS mood']],
    ['CREATE FUNCTION sync_name() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.full_name := NEW.name; RETURN NEW; END $$', ['DROP FUNCTION IF EXISTS sync_name']],
    ['CREATE TRIGGER users_sync BEFORE INSERT OR UPDATE ON app.users FOR EACH ROW EXECUTE FUNCTION sync_name()', ['DROP TRIGGER IF EXISTS users_sync ON app.users']],
  ])('%s', (sql, expected) => {
    expect(pg(sql)).toEqual(expected);
  });

  it.each([
    ['DROP TABLE users'],
    ['ALTER TABLE users DROP COLUMN name'],
    ['ALTER TABLE users ALTER COLUMN balance TYPE numeric(12,2)'],
    ['ALTER TABLE users RENAME COLUMN name TO full_name'],
    ['ALTER TABLE users ADD COLUMN a int, DROP COLUMN b'],
    ['ALTER TABLE users ADD PRIMARY KEY (id)'],
    ['ALTER TABLE users ADD UNIQUE (email)'],
    ['CREATE INDEX ON users (email)'],
    ['CREATE INDEX CONCURRENTLY ON users (email)'],
    ['UPDATE users SET a = 1'],
    ['INSERT INTO users (id) VALUES (1)'],
    ['DELETE FROM users'],
    ['COMMENT ON TABLE users IS \'x\''],
    ['GRANT SELECT ON users TO app'],
    // The object may have existed before the migration: dropping it would destroy what the old app uses.
    ['CREATE OR REPLACE FUNCTION sync_name() RETURNS trigger LANGUAGE sql AS $$ SELECT 1 $$'],
    ['CREATE OR REPLACE VIEW active_users AS SELECT 1'],
    ['CREATE TABLE IF NOT EXISTS audit (id int)'],
    ['ALTER TABLE users ADD COLUMN IF NOT EXISTS full_name text'],
  ])('not invertible: %s', (sql) => {
    expect(pg(sql)).toBeNull();
  });
});

describe('invertStatement: MySQL/MariaDB', () => {
  const my = (sql: string) => invert(sql, 'mysql');

  it.each([
    ['ALTER TABLE users ADD COLUMN full_name VARCHAR(200) NULL, ALGORITHM=INSTANT', ['ALTER TABLE users DROP COLUMN full_name']],
    ['ALTER TABLE `shop`.`users` ADD `Full Name` TEXT AFTER id, LOCK=NONE', ['ALTER TABLE `shop`.`users` DROP COLUMN `Full Name`']],
    ['ALTER TABLE users ADD COLUMN a INT, ADD COLUMN b INT', ['ALTER TABLE users DROP COLUMN a, DROP COLUMN b']],
    ['ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id)', ['ALTER TABLE orders DROP FOREIGN KEY orders_user_fk']],
    ['ALTER TABLE orders ADD CONSTRAINT positive CHECK (total >= 0)', ['ALTER TABLE orders DROP CONSTRAINT positive']],
    ['ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email)', ['ALTER TABLE users DROP INDEX users_email_key']],
    ['ALTER TABLE users ADD CONSTRAINT pk PRIMARY KEY (id)', ['ALTER TABLE users DROP PRIMARY KEY']],
    ['CREATE TABLE audit (id BIGINT PRIMARY KEY) ENGINE=InnoDB', ['DROP TABLE IF EXISTS audit']],
    ['CREATE INDEX users_email_idx ON users (email)', ['DROP INDEX users_email_idx ON users']],
    ['CREATE UNIQUE INDEX users_email_key ON shop.users (email)', ['DROP INDEX users_email_key ON shop.users']],
    ['CREATE VIEW active_users AS SELECT * FROM users', ['DROP VIEW IF EXISTS active_users']],
    ['CREATE TRIGGER users_sync BEFORE INSERT ON users FOR EACH ROW SET NEW.full_name = NEW.name', ['DROP TRIGGER IF EXISTS users_sync']],
    ['CREATE PROCEDURE p() BEGIN SELECT 1; END', ['DROP PROCEDURE IF EXISTS p']],
  ])('%s', (sql, expected) => {
    expect(my(sql)).toEqual(expected);
  });

  it.each([
    ['DROP TABLE users'],
    ['ALTER TABLE users DROP COLUMN name, ALGORITHM=INPLACE, LOCK=NONE'],
    ['ALTER TABLE users MODIFY COLUMN balance DECIMAL(12,2)'],
    ['ALTER TABLE users CHANGE name full_name VARCHAR(200)'],
    ['ALTER TABLE users ADD INDEX (email)'],
    ['ALTER TABLE users ADD KEY k (email)'],
    ['ALTER TABLE users ADD (a INT, b INT)'],
    ['ALTER TABLE users ALGORITHM=INSTANT'],
    ['RENAME TABLE a TO b'],
    ['UPDATE users SET a = 1'],
    ['CREATE DEFINER=`root`@`%` TRIGGER t BEFORE INSERT ON users FOR EACH ROW SET NEW.a = 1'],
    ['CREATE OR REPLACE VIEW v AS SELECT 1'],
    ['CREATE TABLE IF NOT EXISTS audit (id INT)'],
  ])('not invertible: %s', (sql) => {
    expect(my(sql)).toBeNull();
  });
});
