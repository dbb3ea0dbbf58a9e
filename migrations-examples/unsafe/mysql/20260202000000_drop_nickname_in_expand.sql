-- UNSAFE ON PURPOSE: drops a column in expand, while the old app still reads it.
-- Safe: drop it in the contract section, after the old app is retired.
-- Verify: old app ✗ at S1 and S2 ("the old app reads users.nickname, which does not exist").

-- tandem:expand
ALTER TABLE users DROP COLUMN nickname;

-- tandem:rollback
ALTER TABLE users ADD COLUMN nickname VARCHAR(100) NULL;
