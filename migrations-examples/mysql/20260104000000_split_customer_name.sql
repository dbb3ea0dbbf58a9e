-- Split customers.full_name into first_name and last_name.
-- (The MySQL/MariaDB twin of ../postgres/20260104000000_split_customer_name.sql.)
--
-- The split is at the first space: 'Ada Lovelace' -> 'Ada' + 'Lovelace',
-- 'Guido van Rossum' -> 'Guido' + 'van Rossum', 'Cher' -> 'Cher' + NULL. The join is
-- CONCAT_WS(' ', first_name, last_name) (just first_name when there is no last name).
--
--   expand    adds first_name and last_name (nullable, ALGORITHM=INSTANT) and triggers that keep
--             the old and the new columns in step.
--             old app: inserts/updates full_name only; the triggers split it.
--             new app: inserts/updates first_name/last_name only. full_name is NOT NULL and the
--             new app does not send it, so the trigger must join it BEFORE INSERT.
--   backfill  splits full_name for the rows written before expand, then builds an index on
--             last_name (the new app searches by it) once, over the filled column, in place.
--             both apps as above.
--   contract  (old app retired) makes first_name NOT NULL (a customer keeps a name), drops the
--             triggers and full_name. new app only.
--   rollback  (refused after contract) drops the triggers and the new columns (and so the index).
--
-- The triggers compare names with COLLATE utf8mb4_bin: under the columns' case-insensitive
-- collation 'ada' = 'Ada', and a case-only correction would not be copied to the other side.

-- tandem:expand
-- INSTANT: MariaDB 10.3+, MySQL 8.0.12+.
ALTER TABLE customers
  ADD COLUMN first_name VARCHAR(200) NULL,
  ADD COLUMN last_name VARCHAR(200) NULL,
  ALGORITHM=INSTANT;

DELIMITER //
CREATE TRIGGER customers_name_sync_insert BEFORE INSERT ON customers FOR EACH ROW
BEGIN
  IF NEW.full_name IS NULL THEN
    -- The new app's insert. An empty result stays NULL, so NOT NULL still refuses a nameless row.
    SET NEW.full_name = NULLIF(CONCAT_WS(' ', NEW.first_name, NEW.last_name), '');
  ELSEIF NEW.first_name IS NULL AND NEW.last_name IS NULL THEN
    -- The old app's insert.
    SET NEW.first_name = SUBSTRING_INDEX(NEW.full_name, ' ', 1);
    SET NEW.last_name = NULLIF(SUBSTRING(NEW.full_name, CHAR_LENGTH(NEW.first_name) + 2), '');
  END IF;
END//

CREATE TRIGGER customers_name_sync_update BEFORE UPDATE ON customers FOR EACH ROW
BEGIN
  DECLARE split_first VARCHAR(200) CHARACTER SET utf8mb4;
  DECLARE split_last VARCHAR(200) CHARACTER SET utf8mb4;
  IF NOT (NEW.first_name COLLATE utf8mb4_bin <=> OLD.first_name)
     OR NOT (NEW.last_name COLLATE utf8mb4_bin <=> OLD.last_name) THEN
    -- The new app (or the backfill) wrote the new columns.
    IF OLD.first_name IS NULL AND OLD.last_name IS NULL THEN
      -- A row not split yet: the half the statement did not set comes from full_name,
      -- so updating only last_name does not lose the first name.
      SET split_first = SUBSTRING_INDEX(OLD.full_name, ' ', 1);
      SET split_last = NULLIF(SUBSTRING(OLD.full_name, CHAR_LENGTH(split_first) + 2), '');
      SET NEW.first_name = COALESCE(NEW.first_name, split_first);
      SET NEW.last_name = COALESCE(NEW.last_name, split_last);
    END IF;
    IF NEW.full_name COLLATE utf8mb4_bin <=> OLD.full_name THEN
      -- Rewrite full_name only when the new columns say something it does not: the backfill,
      -- which writes exactly the split, leaves the old text untouched.
      SET split_first = SUBSTRING_INDEX(NEW.full_name, ' ', 1);
      SET split_last = NULLIF(SUBSTRING(NEW.full_name, CHAR_LENGTH(split_first) + 2), '');
      IF NOT (NEW.first_name COLLATE utf8mb4_bin <=> split_first AND NEW.last_name COLLATE utf8mb4_bin <=> split_last) THEN
        SET NEW.full_name = NULLIF(CONCAT_WS(' ', NEW.first_name, NEW.last_name), '');
      END IF;
    END IF;
  ELSEIF NOT (NEW.full_name COLLATE utf8mb4_bin <=> OLD.full_name) THEN
    -- The old app's update.
    SET NEW.first_name = SUBSTRING_INDEX(NEW.full_name, ' ', 1);
    SET NEW.last_name = NULLIF(SUBSTRING(NEW.full_name, CHAR_LENGTH(NEW.first_name) + 2), '');
  END IF;
END//
DELIMITER ;

-- tandem:backfill
UPDATE customers
   SET first_name = SUBSTRING_INDEX(full_name, ' ', 1),
       last_name = NULLIF(SUBSTRING(full_name, CHAR_LENGTH(SUBSTRING_INDEX(full_name, ' ', 1)) + 2), '')
 WHERE first_name IS NULL AND last_name IS NULL;

-- Built once over the filled column rather than kept up to date through every backfill batch;
-- in place, with reads and writes going on (MySQL 8 and MariaDB 10.x).
ALTER TABLE customers ADD INDEX customers_last_name_idx (last_name), ALGORITHM=INPLACE, LOCK=NONE;

-- tandem:contract
-- Every customer keeps a name: full_name was NOT NULL, so first_name becomes NOT NULL (the new
-- app must give it). An online rebuild: reads and writes go on.
ALTER TABLE customers MODIFY first_name VARCHAR(200) NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;
DROP TRIGGER customers_name_sync_insert;
DROP TRIGGER customers_name_sync_update;
-- INSTANT drop: MariaDB 10.4+, MySQL 8.0.29+ (older MySQL 8: use ALGORITHM=INPLACE, LOCK=NONE).
ALTER TABLE customers DROP COLUMN full_name, ALGORITHM=INSTANT;

-- tandem:rollback
DROP TRIGGER IF EXISTS customers_name_sync_insert;
DROP TRIGGER IF EXISTS customers_name_sync_update;
-- Not INSTANT: after the backfill an index covers last_name, and dropping it needs a rebuild.
-- Dropping the column drops customers_last_name_idx with it.
ALTER TABLE customers DROP COLUMN first_name, DROP COLUMN last_name, ALGORITHM=INPLACE, LOCK=NONE;
