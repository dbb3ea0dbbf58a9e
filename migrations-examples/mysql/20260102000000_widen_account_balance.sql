-- Widen accounts.balance from INT to BIGINT through a twin column, balance_cents.
-- (The MySQL/MariaDB twin of ../postgres/20260102000000_widen_account_balance.sql.)
--
-- MODIFY balance BIGINT changes the column's storage, which InnoDB can only do by copying the
-- table (ALGORITHM=COPY blocks writes for the whole copy). Instead the new type lives in a new
-- column:
--
--   expand    adds balance_cents (nullable, ALGORITHM=INSTANT: a metadata-only change) and
--             triggers that keep the twins equal whichever app version writes.
--             old app: inserts/updates/reads balance only; the triggers copy it to balance_cents.
--             new app: inserts/updates/reads balance_cents only; the triggers copy it to balance,
--             which must happen BEFORE INSERT because balance is NOT NULL (MySQL 5.7+ and
--             MariaDB 10.x check NOT NULL after BEFORE triggers, so the omitted column is NULL
--             in the trigger and filled there).
--   backfill  copies balance into balance_cents for the rows written before expand.
--   contract  (old app retired) drops the triggers and balance, makes balance_cents NOT NULL.
--             new app only.
--   rollback  (refused after contract) drops the triggers and balance_cents. Rows the new app
--             wrote keep their value in balance, so the old app loses nothing.
--
-- Values beyond INT: while the old app still runs it reads balance, so the triggers refuse a
-- balance_cents INT cannot hold (SQLSTATE 22003) instead of clamping it. A clamped balance would be
-- silently wrong money; a refused write is loud. The new app may store such values after contract.
--
-- Each statement is its own step here (MySQL commits around DDL); the ledger records each one, so
-- a rerun after a failure continues after the last statement that completed.

-- tandem:expand
-- INSTANT: MariaDB 10.3+, MySQL 8.0.12+.
ALTER TABLE accounts ADD COLUMN balance_cents BIGINT NULL, ALGORITHM=INSTANT;

DELIMITER //
CREATE TRIGGER accounts_balance_sync_insert BEFORE INSERT ON accounts FOR EACH ROW
BEGIN
  IF NEW.balance_cents IS NULL THEN
    -- The old app's insert (or a NULL balance, which NOT NULL refuses).
    SET NEW.balance_cents = NEW.balance;
  ELSE
    -- The new app's insert: the old app must be able to read the value.
    IF NEW.balance IS NOT NULL AND NEW.balance <> NEW.balance_cents THEN
      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'accounts: balance and balance_cents disagree';
    END IF;
    IF NEW.balance_cents NOT BETWEEN -2147483648 AND 2147483647 THEN
      SIGNAL SQLSTATE '22003' SET MESSAGE_TEXT = 'accounts: balance_cents does not fit the old INT column balance, which the old app still reads; store it after the contract phase';
    END IF;
    SET NEW.balance = NEW.balance_cents;
  END IF;
END//

CREATE TRIGGER accounts_balance_sync_update BEFORE UPDATE ON accounts FOR EACH ROW
BEGIN
  -- Which column did the statement change? That one is the source; the other follows.
  IF NOT (NEW.balance_cents <=> OLD.balance_cents) THEN
    -- The new app (or the backfill) changed balance_cents.
    IF NOT (NEW.balance <=> OLD.balance) AND NOT (NEW.balance <=> NEW.balance_cents) THEN
      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'accounts: balance and balance_cents were both changed, to different values';
    END IF;
    IF NEW.balance_cents NOT BETWEEN -2147483648 AND 2147483647 THEN
      SIGNAL SQLSTATE '22003' SET MESSAGE_TEXT = 'accounts: balance_cents does not fit the old INT column balance, which the old app still reads; store it after the contract phase';
    END IF;
    SET NEW.balance = NEW.balance_cents;
  ELSEIF NOT (NEW.balance <=> OLD.balance) THEN
    -- The old app changed balance.
    SET NEW.balance_cents = NEW.balance;
  END IF;
END//
DELIMITER ;

-- tandem:backfill
-- Runs in keyset batches over accounts.id, each batch its own short transaction.
UPDATE accounts SET balance_cents = balance WHERE balance_cents IS NULL;

-- tandem:contract
DROP TRIGGER accounts_balance_sync_insert;
DROP TRIGGER accounts_balance_sync_update;
-- One ALTER, so the table is rebuilt once. Making a column NOT NULL rebuilds it in place while
-- reads and writes go on (LOCK=NONE); with strict sql_mode it fails, changing nothing, if a row
-- still holds NULL. MySQL 8 and MariaDB 10.x both accept this.
ALTER TABLE accounts
  DROP COLUMN balance,
  MODIFY balance_cents BIGINT NOT NULL,
  ALGORITHM=INPLACE, LOCK=NONE;

-- tandem:rollback
DROP TRIGGER IF EXISTS accounts_balance_sync_insert;
DROP TRIGGER IF EXISTS accounts_balance_sync_update;
-- INSTANT drop: MariaDB 10.4+, MySQL 8.0.29+ (older MySQL 8: use ALGORITHM=INPLACE, LOCK=NONE).
ALTER TABLE accounts DROP COLUMN balance_cents, ALGORITHM=INSTANT;
