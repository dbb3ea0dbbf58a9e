-- The new app (after 20260102000000_widen_account_balance): knows accounts.balance_cents only.
-- Runs at S1 (expanded), S2 (backfilled) and S3 (contracted). Format: ../../README.md.

DELETE FROM accounts WHERE id = 100001;

-- expect: rows 1
INSERT INTO accounts (id, owner, balance_cents) VALUES (100001, 'new app', 800);

-- expect: rows 1
UPDATE accounts SET balance_cents = balance_cents + 100 WHERE id = 100001;

-- expect: rows 1
SELECT id, balance_cents FROM accounts WHERE id = 100001 AND balance_cents = 900;

-- The old app's row (old.sql), read through balance_cents: it holds what the old app wrote.
-- expect: rows 0
SELECT id, balance_cents FROM accounts WHERE id = 100000 AND NOT (balance_cents <=> 700);
