-- Prisma sends the file as one multi-statement query: one implicit transaction.
ALTER TABLE "orders" ADD COLUMN "coupon" TEXT;
CREATE INDEX CONCURRENTLY "orders_coupon_idx" ON "orders"("coupon");
