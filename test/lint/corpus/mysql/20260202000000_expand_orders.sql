-- tandem:expand
ALTER TABLE orders ADD COLUMN shipped_at DATETIME NULL, ALGORITHM=INSTANT;
ALTER TABLE orders MODIFY status ENUM('new','paid','shipped') NOT NULL DEFAULT 'new', ALGORITHM=INSTANT;
ALTER TABLE orders ADD INDEX orders_shipped_at_idx (shipped_at), ALGORITHM=INPLACE, LOCK=NONE;
ALTER TABLE orders ADD COLUMN coupon VARCHAR(20) NULL;
SET foreign_key_checks = 0;
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id), ALGORITHM=INPLACE, LOCK=NONE;
SET foreign_key_checks = 1;

-- tandem:backfill
UPDATE orders SET shipped_at = NOW() WHERE status = 'shipped' AND shipped_at IS NULL;

-- tandem:contract
ALTER TABLE orders DROP COLUMN coupon, ALGORITHM=INSTANT;
