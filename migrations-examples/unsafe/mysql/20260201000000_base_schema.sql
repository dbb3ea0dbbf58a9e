-- Base schema (S0) of the unsafe-on-purpose examples (MySQL 8 / MariaDB 10.11). `tandem verify`
-- must reject each of the three migrations that follow; see ../README.md.

CREATE TABLE users (
  id       BIGINT PRIMARY KEY,
  email    VARCHAR(200) NOT NULL UNIQUE,
  nickname VARCHAR(100) NULL
);

CREATE TABLE orders (
  id     BIGINT PRIMARY KEY,
  amount INT NOT NULL
);

CREATE TABLE notes (
  id   BIGINT PRIMARY KEY,
  body VARCHAR(500) NOT NULL
);

INSERT INTO users (id, email, nickname)
WITH RECURSIVE g (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20)
SELECT n, CONCAT('user', n, '@example.com'), CONCAT('nick', n) FROM g;

INSERT INTO notes (id, body)
WITH RECURSIVE g (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20)
SELECT n, CONCAT('note ', n) FROM g;
