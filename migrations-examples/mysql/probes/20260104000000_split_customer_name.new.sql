-- The new app (after 20260104000000_split_customer_name): knows first_name and last_name only.
-- Runs at S1 (expanded), S2 (backfilled) and S3 (contracted). Format: ../../README.md.

DELETE FROM customers WHERE id = 100001;

-- expect: rows 1
INSERT INTO customers (id, first_name, last_name) VALUES (100001, 'Grace', 'Murray');

-- expect: rows 1
UPDATE customers SET last_name = 'Hopper' WHERE id = 100001;

-- expect: rows 1
SELECT id, first_name, last_name FROM customers WHERE id = 100001 AND first_name = 'Grace' AND last_name = 'Hopper';

-- The old app's row (old.sql), read as first and last name.
-- expect: rows 0
SELECT id, first_name, last_name FROM customers
 WHERE id = 100000 AND (NOT (first_name <=> 'Ada') OR NOT (last_name <=> 'King'));
