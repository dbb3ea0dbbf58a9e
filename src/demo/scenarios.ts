/**
 * The demo's simulated app versions: for each example migration, what the old and the new app
 * write and read. Each version uses only the columns it knows. A cross check writes with one
 * version and reads with the other, which is what the dual-write shims must make work.
 */
export interface AppStatement {
  sql: string;
  /** The value the read must return (as text), given the id written. */
  expect?: string;
}

export interface Scenario {
  /** Name part of the example migration's id. */
  migration: string;
  table: string;
  oldWrite: AppStatement;
  oldRead: AppStatement;
  newWrite: AppStatement;
  newRead: AppStatement;
}

export const SCENARIOS: Scenario[] = [
  {
    migration: 'widen_account_balance',
    table: 'accounts',
    oldWrite: { sql: `INSERT INTO accounts (id, owner, balance) VALUES (?, 'old app', 500)` },
    newRead: { sql: `SELECT balance_cents::text AS v FROM accounts WHERE id = ?`, expect: '500' },
    newWrite: { sql: `INSERT INTO accounts (id, owner, balance_cents) VALUES (?, 'new app', 700)` },
    oldRead: { sql: `SELECT balance::text AS v FROM accounts WHERE id = ?`, expect: '700' },
  },
  {
    migration: 'add_required_country',
    table: 'users',
    oldWrite: { sql: `INSERT INTO users (id, email, locale) VALUES (?, 'old' || ?::text || '@example.com', 'de_DE')` },
    newRead: { sql: `SELECT (country_code IS NOT NULL)::text AS v FROM users WHERE id = ?`, expect: 'true' },
    newWrite: { sql: `INSERT INTO users (id, email, locale, country_code) VALUES (?, 'new' || ?::text || '@example.com', 'fr_FR', 'FR')` },
    oldRead: { sql: `SELECT locale AS v FROM users WHERE id = ?`, expect: 'fr_FR' },
  },
  {
    migration: 'split_customer_name',
    table: 'customers',
    oldWrite: { sql: `INSERT INTO customers (id, full_name) VALUES (?, 'Ada Lovelace')` },
    newRead: { sql: `SELECT first_name || '|' || last_name AS v FROM customers WHERE id = ?`, expect: 'Ada|Lovelace' },
    newWrite: { sql: `INSERT INTO customers (id, first_name, last_name) VALUES (?, 'Grace', 'Hopper')` },
    oldRead: { sql: `SELECT full_name AS v FROM customers WHERE id = ?`, expect: 'Grace Hopper' },
  },
];
