-- Base schema (S0) of the unsafe-on-purpose examples. `tandem verify` must reject each of the
-- three migrations that follow; see ../README.md for the cell and the explanation it gives.

CREATE TABLE users (
  id       bigint PRIMARY KEY,
  email    text NOT NULL UNIQUE,
  nickname text
);

CREATE TABLE orders (
  id     bigint PRIMARY KEY,
  amount integer NOT NULL
);

CREATE TABLE notes (
  id   bigint PRIMARY KEY,
  body text NOT NULL
);

INSERT INTO users (id, email, nickname) SELECT g, 'user' || g || '@example.com', 'nick' || g FROM generate_series(1, 20) AS g;
INSERT INTO notes (id, body) SELECT g, 'note ' || g FROM generate_series(1, 20) AS g;
-- orders stays empty, so that adding a NOT NULL column without a default succeeds (next example).
