-- The old app (before 20260103000000_add_required_country): knows users.locale, not country_code.
-- Runs at S0, S1 (expanded) and S2 (backfilled). Format: ../../README.md.

DELETE FROM users WHERE id = 100000;

-- expect: rows 1
INSERT INTO users (id, email, locale) VALUES (100000, 'old-app@example.com', 'fr_FR');

-- expect: rows 1
UPDATE users SET locale = 'fr_CA' WHERE id = 100000;

-- expect: rows 1
SELECT id, locale FROM users WHERE id = 100000 AND locale = 'fr_CA';

-- The new app's row (new.sql): the old app sees the user with the locale the new app set.
-- expect: rows 0
SELECT id, locale FROM users WHERE id = 100001 AND NOT (locale <=> 'de_AT');
