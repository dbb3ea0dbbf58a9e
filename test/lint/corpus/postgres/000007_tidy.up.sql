ALTER TABLE orders SET TABLESPACE archive;
CLUSTER orders USING orders_pkey;
