-- Split customers.full_name into first_name and last_name.
--
-- The split is at the first space: 'Ada Lovelace' -> 'Ada' + 'Lovelace',
-- 'Guido van Rossum' -> 'Guido' + 'van Rossum', 'Cher' -> 'Cher' + NULL. The join is
-- first_name || ' ' || last_name (just first_name when there is no last name).
--
--   expand    adds first_name and last_name (nullable: catalog-only) and a trigger that keeps
--             the old and the new columns in step.
--             old app: inserts/updates full_name only; the trigger splits it.
--             new app: inserts/updates first_name/last_name only. full_name is NOT NULL and the
--             new app does not send it, so the trigger must join it BEFORE INSERT.
--   backfill  splits full_name for the rows written before expand, then builds an index on
--             last_name (the new app searches by it) once, over the filled column, CONCURRENTLY.
--             both apps as above.
--   contract  (old app retired) makes first_name NOT NULL (a customer keeps a name), drops the
--             trigger and full_name. new app only.
--   rollback  (refused after contract) drops the trigger and the new columns (and so the index).

-- tandem:expand
ALTER TABLE customers ADD COLUMN first_name text, ADD COLUMN last_name text;

CREATE FUNCTION customers_name_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  split_first text;
  split_last text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.full_name IS NULL THEN
      -- The new app's insert. An empty result stays NULL, so NOT NULL still refuses a nameless row.
      NEW.full_name := NULLIF(concat_ws(' ', NEW.first_name, NEW.last_name), '');
    ELSIF NEW.first_name IS NULL AND NEW.last_name IS NULL THEN
      -- The old app's insert.
      NEW.first_name := split_part(NEW.full_name, ' ', 1);
      NEW.last_name := NULLIF(substr(NEW.full_name, length(NEW.first_name) + 2), '');
    END IF;
    RETURN NEW;
  END IF;

  IF (NEW.first_name, NEW.last_name) IS DISTINCT FROM (OLD.first_name, OLD.last_name) THEN
    -- The new app (or the backfill) wrote the new columns.
    IF OLD.first_name IS NULL AND OLD.last_name IS NULL THEN
      -- A row not split yet: the half the statement did not set comes from full_name,
      -- so updating only last_name does not lose the first name.
      split_first := split_part(OLD.full_name, ' ', 1);
      split_last := NULLIF(substr(OLD.full_name, length(split_first) + 2), '');
      NEW.first_name := coalesce(NEW.first_name, split_first);
      NEW.last_name := coalesce(NEW.last_name, split_last);
    END IF;
    IF NEW.full_name IS NOT DISTINCT FROM OLD.full_name THEN
      -- Rewrite full_name only when the new columns say something it does not: the backfill,
      -- which writes exactly the split, leaves the old text (spacing and all) untouched.
      split_first := split_part(NEW.full_name, ' ', 1);
      split_last := NULLIF(substr(NEW.full_name, length(split_first) + 2), '');
      IF (NEW.first_name, NEW.last_name) IS DISTINCT FROM (split_first, split_last) THEN
        NEW.full_name := NULLIF(concat_ws(' ', NEW.first_name, NEW.last_name), '');
      END IF;
    END IF;
  ELSIF NEW.full_name IS DISTINCT FROM OLD.full_name THEN
    -- The old app's update.
    NEW.first_name := split_part(NEW.full_name, ' ', 1);
    NEW.last_name := NULLIF(substr(NEW.full_name, length(NEW.first_name) + 2), '');
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER customers_name_sync
  BEFORE INSERT OR UPDATE OF full_name, first_name, last_name ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_name_sync();

-- tandem:backfill
UPDATE customers
   SET first_name = split_part(full_name, ' ', 1),
       last_name = NULLIF(substr(full_name, length(split_part(full_name, ' ', 1)) + 2), '')
 WHERE first_name IS NULL AND last_name IS NULL;

-- Built once over the filled column rather than kept up to date through every backfill batch.
-- CONCURRENTLY: writes go on during the build; it runs outside a transaction, and if it fails
-- the runner drops the INVALID index it leaves behind before the rerun.
CREATE INDEX CONCURRENTLY customers_last_name_idx ON customers (last_name);

-- tandem:contract
-- Every customer keeps a name: full_name was NOT NULL, so first_name becomes NOT NULL (the new
-- app must give it). Safe form: a CHECK added NOT VALID, validated without blocking writes (tandem
-- runs VALIDATE in a transaction of its own), then SET NOT NULL uses the check instead of a scan.
ALTER TABLE customers ADD CONSTRAINT customers_first_name_not_null CHECK (first_name IS NOT NULL) NOT VALID;
ALTER TABLE customers VALIDATE CONSTRAINT customers_first_name_not_null;
ALTER TABLE customers ALTER COLUMN first_name SET NOT NULL;
ALTER TABLE customers DROP CONSTRAINT customers_first_name_not_null;
DROP TRIGGER customers_name_sync ON customers;
DROP FUNCTION customers_name_sync();
ALTER TABLE customers DROP COLUMN full_name;

-- tandem:rollback
DROP TRIGGER IF EXISTS customers_name_sync ON customers;
DROP FUNCTION IF EXISTS customers_name_sync();
-- Dropping last_name drops customers_last_name_idx with it, if the backfill built it.
ALTER TABLE customers DROP COLUMN IF EXISTS first_name, DROP COLUMN IF EXISTS last_name;
