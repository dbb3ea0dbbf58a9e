-- tandem:expand
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL DEFAULT 'EUR';
ALTER TABLE orders ALTER COLUMN note TYPE varchar(500);

-- tandem:backfill
UPDATE orders SET shipped_at = created_at WHERE status = 'shipped' AND shipped_at IS NULL;
CREATE INDEX CONCURRENTLY orders_shipped_at_idx ON orders (shipped_at);

-- tandem:contract
-- tandem-lint-disable-next-statement drop-index-blocking the index is unused and tiny
DROP INDEX orders_user_id_idx;
ALTER TABLE orders DROP COLUMN status;
