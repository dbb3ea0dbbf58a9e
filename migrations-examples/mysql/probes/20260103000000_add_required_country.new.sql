-- The new app (after 20260103000000_add_required_country): writes country_code with the locale.
-- Runs at S1 (expanded), S2 (backfilled) and S3 (contracted). Format: ../../README.md.

DELETE FROM users WHERE id = 100001;

-- expect: rows 1
INSERT INTO users (id, email, locale, country_code) VALUES (100001, 'new-app@example.com', 'de_DE', 'DE');

-- expect: rows 1
UPDATE users SET locale = 'de_AT', country_code = 'AT' WHERE id = 100001;

-- expect: rows 1
SELECT id, country_code FROM users WHERE id = 100001 AND country_code = 'AT';

-- The old app's row (old.sql): its country follows the locale the old app set ('fr_CA').
-- expect: rows 0
SELECT id, country_code FROM users WHERE id = 100000 AND NOT (country_code <=> 'CA');
