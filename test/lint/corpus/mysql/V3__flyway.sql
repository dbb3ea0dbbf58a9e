ALTER TABLE purchases ADD CONSTRAINT purchases_total_check CHECK (total >= 0);
ALTER TABLE purchases DROP PRIMARY KEY;
