-- Widen accounts.balance from INTEGER to BIGINT through a twin column, balance_cents.
--
-- ALTER COLUMN balance TYPE bigint would rewrite the whole table under an ACCESS EXCLUSIVE lock
-- (no reads, no writes until it is done). Instead the new type lives in a new column:
--
--   expand    adds balance_cents (nullable, no default: a catalog-only change) and a trigger that
--             keeps the twins equal whichever app version writes.
--             old app: inserts/updates/reads balance only; the trigger copies it to balance_cents.
--             new app: inserts/updates/reads balance_cents only; the trigger copies it to balance,
--             which must happen BEFORE INSERT because balance is NOT NULL.
--   backfill  copies balance into balance_cents for the rows written before expand.
--             both apps as above; from now on balance_cents is filled on every row.
--   contract  (old app retired) drops the trigger and balance, makes balance_cents NOT NULL.
--             new app only.
--   rollback  (refused after contract) drops the trigger and balance_cents. Rows the new app
--             wrote keep their value in balance, so the old app loses nothing.
--
-- Values beyond INTEGER: while the old app still runs it reads balance, so the trigger refuses a
-- balance_cents INTEGER cannot hold (SQLSTATE 22003, numeric_value_out_of_range) instead of
-- clamping it. A clamped balance would be silently wrong money; a refused write is loud and
-- retryable. The new app may store such values once contract has run.

-- tandem:expand
ALTER TABLE accounts ADD COLUMN balance_cents bigint;

CREATE FUNCTION accounts_balance_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Which column did the statement write? That one is the source; the other follows.
  IF TG_OP = 'INSERT' THEN
    IF NEW.balance_cents IS NULL THEN
      NEW.balance_cents := NEW.balance;  -- the old app's insert (or a NULL, which NOT NULL refuses)
      RETURN NEW;
    END IF;
    IF NEW.balance IS NOT NULL AND NEW.balance <> NEW.balance_cents THEN
      RAISE EXCEPTION 'accounts %: balance (%) and balance_cents (%) disagree', NEW.id, NEW.balance, NEW.balance_cents;
    END IF;
  ELSE
    IF NEW.balance_cents IS NOT DISTINCT FROM OLD.balance_cents THEN
      IF NEW.balance IS DISTINCT FROM OLD.balance THEN
        NEW.balance_cents := NEW.balance;  -- the old app's update
      END IF;
      RETURN NEW;
    END IF;
    IF NEW.balance IS DISTINCT FROM OLD.balance AND NEW.balance IS DISTINCT FROM NEW.balance_cents THEN
      RAISE EXCEPTION 'accounts %: balance and balance_cents were both changed, to different values', NEW.id;
    END IF;
  END IF;
  -- The new app (or the backfill) wrote balance_cents: the old app must be able to read it.
  IF NEW.balance_cents NOT BETWEEN -2147483648 AND 2147483647 THEN
    RAISE EXCEPTION 'accounts %: balance_cents % does not fit the old INTEGER column balance', NEW.id, NEW.balance_cents
      USING ERRCODE = 'numeric_value_out_of_range',
            HINT = 'the old app still reads balance; store values beyond INTEGER after the contract phase';
  END IF;
  NEW.balance := NEW.balance_cents;
  RETURN NEW;
END
$$;

CREATE TRIGGER accounts_balance_sync
  BEFORE INSERT OR UPDATE OF balance, balance_cents ON accounts
  FOR EACH ROW EXECUTE FUNCTION accounts_balance_sync();

-- tandem:backfill
-- Runs in keyset batches over accounts.id, each batch its own short transaction.
UPDATE accounts SET balance_cents = balance WHERE balance_cents IS NULL;

-- tandem:contract
DROP TRIGGER accounts_balance_sync ON accounts;
DROP FUNCTION accounts_balance_sync();

-- SET NOT NULL alone would scan the table under ACCESS EXCLUSIVE. The safe way: a NOT VALID
-- check (instant), VALIDATE it (scans, but under SHARE UPDATE EXCLUSIVE: reads and writes go on;
-- the runner starts a new transaction at VALIDATE so the lock taken just above is not held
-- through the scan), then SET NOT NULL, which PostgreSQL 12+ proves from the valid check without
-- scanning, and drop the check, now redundant.
ALTER TABLE accounts ADD CONSTRAINT accounts_balance_cents_not_null CHECK (balance_cents IS NOT NULL) NOT VALID;
ALTER TABLE accounts VALIDATE CONSTRAINT accounts_balance_cents_not_null;
ALTER TABLE accounts ALTER COLUMN balance_cents SET NOT NULL;
ALTER TABLE accounts DROP CONSTRAINT accounts_balance_cents_not_null;
ALTER TABLE accounts DROP COLUMN balance;

-- tandem:rollback
DROP TRIGGER IF EXISTS accounts_balance_sync ON accounts;
DROP FUNCTION IF EXISTS accounts_balance_sync();
ALTER TABLE accounts DROP COLUMN IF EXISTS balance_cents;
