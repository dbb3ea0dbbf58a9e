-- Base schema of a small shop: the state (S0) the three phased examples start from.
-- (The MySQL/MariaDB twin of ../postgres/20260101000000_base_schema.sql; same tables, same data.)
--
-- A plain migration (no phase markers): everything runs in the expand phase, and there is no
-- app yet that could mind. The seed data is deterministic (derived from the row number), so a
-- test or the demo can predict every value. Ids below 100000 belong to the seeds; app traffic
-- in the probes and tests uses ids from 100000 up.
--
-- Old app: reads and writes accounts.balance, users.locale, customers.full_name.
--
-- The seeds use a recursive CTE, which MySQL 8 and MariaDB both run (MariaDB's seq_1_to_200
-- sequence table would be shorter, but exists on MariaDB only).

CREATE TABLE accounts (
  id         BIGINT NOT NULL PRIMARY KEY,
  owner      VARCHAR(200) NOT NULL,
  balance    INT NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE users (
  id         BIGINT NOT NULL PRIMARY KEY,
  email      VARCHAR(200) NOT NULL UNIQUE,
  locale     VARCHAR(20) NOT NULL DEFAULT 'en_US',
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

CREATE TABLE customers (
  id         BIGINT NOT NULL PRIMARY KEY,
  full_name  VARCHAR(200) NOT NULL,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;

INSERT INTO accounts (id, owner, balance)
WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 200)
SELECT n, CONCAT('owner ', n), (n * 7919) % 100000 FROM seq;

-- Every 25th user has a locale without a region ('en'), which says nothing about the country.
INSERT INTO users (id, email, locale)
WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 200)
SELECT n,
       CONCAT('user', n, '@example.com'),
       CASE WHEN n % 25 = 0 THEN 'en'
            ELSE ELT(1 + n % 6, 'en_US', 'de_DE', 'fr_FR', 'pt_BR', 'ja_JP', 'en_GB') END
FROM seq;

-- Mostly "First Last"; every 40th customer has a single name, every 40th (offset 20) a
-- two-word last name, to show how the split treats them (at the first space).
INSERT INTO customers (id, full_name)
WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 200)
SELECT n,
       CASE WHEN n % 40 = 0 THEN 'Cher'
            WHEN n % 40 = 20 THEN 'Guido van Rossum'
            ELSE CONCAT(ELT(1 + n % 10, 'Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tim'),
                        ' ',
                        ELT(1 + (n DIV 10) % 10, 'Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Berners-Lee'))
       END
FROM seq;
