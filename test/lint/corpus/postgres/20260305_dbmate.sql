-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);
LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;

-- migrate:down
DROP INDEX orders_total_idx;
DROP TABLE orders;
