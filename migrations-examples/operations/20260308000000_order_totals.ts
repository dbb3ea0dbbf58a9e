import { defineMigration } from 'tandem';

// Phase functions: plain code with the runner's knex (a transaction on PostgreSQL), for what
// no operation covers. Each phase function runs once; its source is checksummed like SQL.
export default defineMigration({
  async expand(db) {
    await db.schema.createTable('order_totals', (table) => {
      table.integer('customer_id').primary();
      table.bigInteger('orders').notNullable().defaultTo(0);
    });
  },
  async backfill(db) {
    const rows = await db('orders').select('customer_id').count({ n: '*' }).groupBy('customer_id');
    for (const row of rows) await db('order_totals').insert({ customer_id: row.customer_id, orders: Number(row.n) });
  },
  async rollback(db) {
    await db.schema.dropTableIfExists('order_totals');
  },
});
