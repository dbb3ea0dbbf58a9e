-- UNSAFE ON PURPOSE: renames a column in expand, with nothing that keeps the old name working.
-- Safe: a twin column synced by a trigger (or the renameColumn operation), old name dropped at
-- contract.
-- Verify: old app ✗ at S1 and S2 ("the old app inserts into notes with body, which does
-- not exist").

-- tandem:expand
ALTER TABLE notes RENAME COLUMN body TO content;

-- tandem:rollback
ALTER TABLE notes RENAME COLUMN content TO body;
