-- Base schema of a small shop: the state (S0) the three phased examples start from.
--
-- A plain migration (no phase markers): everything runs in the expand phase, and there is no
-- app yet that could mind. The seed data is deterministic (derived from the row number), so a
-- test or the demo can predict every value. Ids below 100000 belong to the seeds; app traffic
-- in the probes and tests uses ids from 100000 up.
--
-- Old app: reads and writes accounts.balance, users.locale, customers.full_name.

CREATE TABLE accounts (
  id         bigint PRIMARY KEY,
  owner      text NOT NULL,
  balance    integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id         bigint PRIMARY KEY,
  email      text NOT NULL UNIQUE,
  locale     text NOT NULL DEFAULT 'en_US',
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
  id         bigint PRIMARY KEY,
  full_name  text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO accounts (id, owner, balance)
SELECT g, 'owner ' || g, (g * 7919) % 100000
FROM generate_series(1, 200) AS g;

-- Every 25th user has a locale without a region ('en'), which says nothing about the country.
INSERT INTO users (id, email, locale)
SELECT g,
       'user' || g || '@example.com',
       CASE WHEN g % 25 = 0 THEN 'en'
            ELSE (ARRAY['en_US', 'de_DE', 'fr_FR', 'pt_BR', 'ja_JP', 'en_GB'])[1 + g % 6] END
FROM generate_series(1, 200) AS g;

-- Mostly "First Last"; every 40th customer has a single name, every 40th (offset 20) a
-- two-word last name, to show how the split treats them (at the first space).
INSERT INTO customers (id, full_name)
SELECT g,
       CASE WHEN g % 40 = 0 THEN 'Cher'
            WHEN g % 40 = 20 THEN 'Guido van Rossum'
            ELSE (ARRAY['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Radia', 'Tim'])[1 + g % 10]
                 || ' ' ||
                 (ARRAY['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Perlman', 'Berners-Lee'])[1 + (g / 10) % 10]
       END
FROM generate_series(1, 200) AS g;
