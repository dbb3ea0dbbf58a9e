-- UNSAFE ON PURPOSE: adds a NOT NULL column without a default in expand; the old app does not
-- know the column, so its inserts fail. (It even succeeds only because orders is empty.)
-- Safe: add it nullable or with a default (or a trigger that fills it), backfill, and make it
-- NOT NULL at contract.
-- Verify: old app ✗ at S1 and S2 ("the old app inserts into orders without currency,
-- which is NOT NULL without a default").

-- tandem:expand
ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL;

-- tandem:rollback
ALTER TABLE orders DROP COLUMN currency;
