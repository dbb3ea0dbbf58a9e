-- A plain tandem migration creating a table: everything on the new table is free.
CREATE TABLE orders (
  id         bigserial PRIMARY KEY,
  user_id    bigint NOT NULL,
  status     text NOT NULL DEFAULT 'new',
  total      numeric(12, 2) NOT NULL,
  note       varchar(200),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_id_idx ON orders (user_id);
ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0);
INSERT INTO orders (user_id, total) SELECT g, g * 1.5 FROM generate_series(1, 10) AS g;
