-- tandem:expand
ALTER TABLE orders ADD COLUMN paid boolean DEFAULT false;
ALTER TABLE orders ADD COLUM refunded boolean;
-- tandem-lint-disable-next-statement truncate
SELECT 1;
