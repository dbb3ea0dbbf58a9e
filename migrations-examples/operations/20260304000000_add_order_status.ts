import { defineMigration } from 'tandem';

// A required column the old app does not know: it is added nullable, a shim fills it on the old
// app's inserts from `up`, the backfill fills existing rows, and contract makes it NOT NULL.
export default defineMigration({
  operations: [
    {
      addColumn: {
        table: 'orders',
        column: { name: 'size_class', type: 'varchar(10)', nullable: false },
        up: "CASE WHEN quantity > 10 THEN 'bulk' ELSE 'single' END",
      },
    },
  ],
});
