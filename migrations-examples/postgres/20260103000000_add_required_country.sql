-- Add a required column: users.country_code, derived from the region part of users.locale
-- ('de_DE' -> 'DE'; a locale without a region, such as 'en', keeps the default 'US').
--
--   expand    adds country_code CHAR(2) DEFAULT 'US'. A constant default is catalog-only on
--             PostgreSQL 11+: no rewrite, existing rows read 'US' until the backfill.
--             A trigger derives the country from the locale on the old app's writes.
--             old app: inserts/updates users without knowing country_code; the trigger fills it.
--             new app: inserts/updates/reads country_code itself.
--   backfill  derives country_code from locale for the rows written before expand.
--   contract  (old app retired) drops the trigger and makes country_code NOT NULL.
--             new app only.
--   rollback  (refused after contract) drops the trigger and the column.
--
-- Adding it NOT NULL DEFAULT 'US' at once would be catalog-only too. It is tightened at contract
-- so that NOT NULL is promised only once every row has its real value, and to show SET NOT NULL
-- on a populated table without a long exclusive lock.
--
-- The trigger cannot tell the default 'US' from an explicit 'US', so on insert it treats 'US'
-- next to a non-US locale as "not given". The new app sets locale and country together anyway.

-- tandem:expand
ALTER TABLE users ADD COLUMN country_code char(2) DEFAULT 'US';

CREATE FUNCTION users_country_from_locale() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  region text := CASE WHEN substr(NEW.locale, 3, 1) = '_' AND length(NEW.locale) >= 5
                      THEN upper(substr(NEW.locale, 4, 2)) END;
BEGIN
  IF region IS NULL THEN
    RETURN NEW;  -- the locale says nothing about the country
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.country_code IS NULL OR NEW.country_code = 'US' THEN
      NEW.country_code := region;  -- the old app's insert, which leaves the default
    END IF;
  ELSIF NEW.locale IS DISTINCT FROM OLD.locale AND NEW.country_code IS NOT DISTINCT FROM OLD.country_code THEN
    NEW.country_code := region;  -- the old app moved the user to another locale
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER users_country_from_locale
  BEFORE INSERT OR UPDATE OF locale ON users
  FOR EACH ROW EXECUTE FUNCTION users_country_from_locale();

-- tandem:backfill
UPDATE users
   SET country_code = upper(substr(locale, 4, 2))
 WHERE substr(locale, 3, 1) = '_' AND length(locale) >= 5
   AND country_code IS DISTINCT FROM upper(substr(locale, 4, 2));

-- tandem:contract
DROP TRIGGER users_country_from_locale ON users;
DROP FUNCTION users_country_from_locale();

-- NOT NULL the safe way (see 20260102000000_widen_account_balance.sql): NOT VALID check,
-- VALIDATE in its own transaction, SET NOT NULL without a scan, drop the check.
ALTER TABLE users ADD CONSTRAINT users_country_code_not_null CHECK (country_code IS NOT NULL) NOT VALID;
ALTER TABLE users VALIDATE CONSTRAINT users_country_code_not_null;
ALTER TABLE users ALTER COLUMN country_code SET NOT NULL;
ALTER TABLE users DROP CONSTRAINT users_country_code_not_null;

-- tandem:rollback
DROP TRIGGER IF EXISTS users_country_from_locale ON users;
DROP FUNCTION IF EXISTS users_country_from_locale();
ALTER TABLE users DROP COLUMN IF EXISTS country_code;
