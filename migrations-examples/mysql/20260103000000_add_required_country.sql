-- Add a required column: users.country_code, derived from the region part of users.locale
-- ('de_DE' -> 'DE'; a locale without a region, such as 'en', keeps the default 'US').
-- (The MySQL/MariaDB twin of ../postgres/20260103000000_add_required_country.sql.)
--
--   expand    adds country_code CHAR(2) DEFAULT 'US' with ALGORITHM=INSTANT: metadata only,
--             existing rows read 'US' until the backfill. Triggers derive the country from the
--             locale on the old app's writes.
--             old app: inserts/updates users without knowing country_code; the triggers fill it.
--             new app: inserts/updates/reads country_code itself.
--   backfill  derives country_code from locale for the rows written before expand.
--   contract  (old app retired) drops the triggers and makes country_code NOT NULL.
--             new app only.
--   rollback  (refused after contract) drops the triggers and the column.
--
-- Adding it NOT NULL DEFAULT 'US' at once would be instant too. It is tightened at contract so
-- that NOT NULL is promised only once every row has its real value.
--
-- The triggers cannot tell the default 'US' from an explicit 'US', so on insert they treat 'US'
-- next to a non-US locale as "not given". The new app sets locale and country together anyway.

-- tandem:expand
-- INSTANT: MariaDB 10.3+, MySQL 8.0.12+.
ALTER TABLE users ADD COLUMN country_code CHAR(2) NULL DEFAULT 'US', ALGORITHM=INSTANT;

DELIMITER //
CREATE TRIGGER users_country_from_locale_insert BEFORE INSERT ON users FOR EACH ROW
BEGIN
  -- The old app's insert leaves the default; derive the country when the locale names a region.
  IF SUBSTRING(NEW.locale, 3, 1) = '_' AND CHAR_LENGTH(NEW.locale) >= 5
     AND (NEW.country_code IS NULL OR NEW.country_code = 'US') THEN
    SET NEW.country_code = UPPER(SUBSTRING(NEW.locale, 4, 2));
  END IF;
END//

CREATE TRIGGER users_country_from_locale_update BEFORE UPDATE ON users FOR EACH ROW
BEGIN
  -- The old app moved the user to another locale (and did not touch the country it does not know).
  IF NOT (NEW.locale <=> OLD.locale) AND NEW.country_code <=> OLD.country_code
     AND SUBSTRING(NEW.locale, 3, 1) = '_' AND CHAR_LENGTH(NEW.locale) >= 5 THEN
    SET NEW.country_code = UPPER(SUBSTRING(NEW.locale, 4, 2));
  END IF;
END//
DELIMITER ;

-- tandem:backfill
UPDATE users
   SET country_code = UPPER(SUBSTRING(locale, 4, 2))
 WHERE SUBSTRING(locale, 3, 1) = '_' AND CHAR_LENGTH(locale) >= 5
   AND NOT (country_code <=> UPPER(SUBSTRING(locale, 4, 2)));

-- tandem:contract
DROP TRIGGER users_country_from_locale_insert;
DROP TRIGGER users_country_from_locale_update;
-- An in-place rebuild while reads and writes go on; with strict sql_mode it fails, changing
-- nothing, if a row still holds NULL. MySQL 8 and MariaDB 10.x both accept this.
ALTER TABLE users MODIFY country_code CHAR(2) NOT NULL DEFAULT 'US', ALGORITHM=INPLACE, LOCK=NONE;

-- tandem:rollback
DROP TRIGGER IF EXISTS users_country_from_locale_insert;
DROP TRIGGER IF EXISTS users_country_from_locale_update;
-- INSTANT drop: MariaDB 10.4+, MySQL 8.0.29+ (older MySQL 8: use ALGORITHM=INPLACE, LOCK=NONE).
ALTER TABLE users DROP COLUMN country_code, ALGORITHM=INSTANT;
