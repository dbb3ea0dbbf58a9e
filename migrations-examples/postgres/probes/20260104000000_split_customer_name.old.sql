-- The old app (before 20260104000000_split_customer_name): knows customers.full_name only.
-- Runs at S0, S1 (expanded) and S2 (backfilled). Format: ../../README.md.

DELETE FROM customers WHERE id = 100000;

-- expect: rows 1
INSERT INTO customers (id, full_name) VALUES (100000, 'Ada Lovelace');

-- expect: rows 1
UPDATE customers SET full_name = 'Ada King' WHERE id = 100000;

-- expect: rows 1
SELECT id, full_name FROM customers WHERE id = 100000 AND full_name = 'Ada King';

-- The new app's row (new.sql), read as one full name.
-- expect: rows 0
SELECT id, full_name FROM customers WHERE id = 100001 AND full_name IS DISTINCT FROM 'Grace Hopper';
