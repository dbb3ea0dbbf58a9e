-- A migration written in a hurry: what a reviewer should hear about.
-- tandem:expand
ALTER TABLE orders
  DROP COLUMN note,
  ADD COLUMN reference uuid NOT NULL DEFAULT gen_random_uuid();
CREATE INDEX orders_reference_idx ON orders (reference);
ALTER TABLE orders ALTER COLUMN total TYPE numeric(10, 2);
ALTER TABLE orders RENAME COLUMN shipped_at TO sent_at;
UPDATE orders SET currency = 'USD' WHERE currency = 'EUR';
ALTER TABLE orders ADD CONSTRAINT orders_reference_key UNIQUE (reference);
-- tandem-lint-disable set-not-null
ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;

-- tandem:contract
ALTER TABLE orders ALTER COLUMN sent_at SET NOT NULL;
VACUUM FULL orders;
