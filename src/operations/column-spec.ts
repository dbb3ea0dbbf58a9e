import { z } from 'zod';
import type { OperationContext } from './types.js';

// The exact limit depends on the database (PostgreSQL 63 bytes, MySQL 64 characters): compile checks it.
const identifier = z.string().min(1).max(64, 'identifiers are limited to 64 characters (MySQL; PostgreSQL: 63 bytes)');

export const columnSpec = z
  .object({
    name: identifier,
    type: z.string().min(1).describe('SQL type as the database spells it, e.g. bigint, varchar(200)'),
    nullable: z.boolean().default(true),
    default: z.string().optional().describe('SQL expression, e.g. 0, \'US\', now()'),
    primaryKey: z.boolean().optional(),
    unique: z.boolean().optional(),
    references: z.object({ table: identifier, column: identifier, onDelete: z.enum(['CASCADE', 'SET NULL', 'RESTRICT', 'NO ACTION']).optional() }).strict().optional(),
    check: z.string().optional(),
  })
  .strict();

export type ColumnSpec = z.infer<typeof columnSpec>;
export { identifier };

/** `"name" type [NOT NULL] [DEFAULT …] …` for CREATE TABLE and ADD COLUMN. */
export function columnDefinition(column: ColumnSpec, context: OperationContext, options: { forceNullable?: boolean; withDefault?: boolean } = {}): string {
  const parts = [context.quote(column.name), column.type];
  if (column.default !== undefined && options.withDefault !== false) parts.push(`DEFAULT ${column.default}`);
  if (!column.nullable && !options.forceNullable) parts.push('NOT NULL');
  else if (context.dialect === 'mysql') parts.push('NULL');
  if (column.primaryKey) parts.push('PRIMARY KEY');
  if (column.unique) parts.push('UNIQUE');
  if (column.check) parts.push(`CHECK (${column.check})`);
  if (column.references) {
    parts.push(`REFERENCES ${context.quote(column.references.table)} (${context.quote(column.references.column)})`);
    if (column.references.onDelete) parts.push(`ON DELETE ${column.references.onDelete}`);
  }
  return parts.join(' ');
}

/**
 * A default that is a plain literal: PostgreSQL 11+ and MariaDB add a column with it without
 * rewriting the table. Anything else (now(), gen_random_uuid(), …) may be volatile: tandem adds
 * the column without it and fills existing rows in batches instead.
 */
export function isConstantDefault(expression: string): boolean {
  const e = expression.trim();
  return /^(-?\d+(\.\d+)?|'([^']|'')*'(::[\w\s]+)?|true|false|null)$/i.test(e);
}
