-- The old app (before 20260102000000_widen_account_balance): knows accounts.balance only.
-- Runs at S0, S1 (expanded) and S2 (backfilled). Format: ../../README.md.

DELETE FROM accounts WHERE id = 100000;

-- expect: rows 1
INSERT INTO accounts (id, owner, balance) VALUES (100000, 'old app', 500);

-- expect: rows 1
UPDATE accounts SET balance = balance + 200 WHERE id = 100000;

-- expect: rows 1
SELECT id, balance FROM accounts WHERE id = 100000 AND balance = 700;

-- The new app's row (new.sql), read through balance: it holds what the new app wrote.
-- expect: rows 0
SELECT id, balance FROM accounts WHERE id = 100001 AND NOT (balance <=> 900);
