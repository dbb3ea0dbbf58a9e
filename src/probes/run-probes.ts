import type { Knex } from 'knex';
import type { DialectAdapter } from '../db/dialect-adapter.js';
import { literalSql } from '../db/raw-sql.js';
import { redactSecrets } from '../db/url.js';
import type { Probe } from './probe-file.js';

export interface ProbeOutcome {
  probe: Probe;
  ok: boolean;
  /** Why it failed: the database error, or the row count that differed from the expectation. */
  detail: string | null;
}

/**
 * Run probes in order on a connection or transaction. Each statement runs inside a savepoint so an
 * expected error does not abort the surrounding transaction (PostgreSQL would refuse everything
 * after it otherwise).
 */
export async function runProbes(db: Knex | Knex.Transaction, adapter: DialectAdapter, probes: Probe[]): Promise<ProbeOutcome[]> {
  const outcomes: ProbeOutcome[] = [];
  for (const [index, probe] of probes.entries()) {
    const savepoint = `tandem_probe_${index}`;
    await db.raw(`SAVEPOINT ${savepoint}`);
    try {
      const result = await db.raw(literalSql(probe.sql, adapter.dialect));
      await db.raw(`RELEASE SAVEPOINT ${savepoint}`);
      const count = rowCount(adapter, result);
      if (probe.expect.kind === 'error') outcomes.push({ probe, ok: false, detail: 'succeeded, but an error was expected' });
      else if (probe.expect.kind === 'rows' && count !== probe.expect.rows) outcomes.push({ probe, ok: false, detail: `gave ${count} row(s), expected ${probe.expect.rows}` });
      else outcomes.push({ probe, ok: true, detail: null });
    } catch (error) {
      await db.raw(`ROLLBACK TO SAVEPOINT ${savepoint}`);
      const message = redactSecrets((error as Error).message ?? String(error)).split('\n')[0]!;
      outcomes.push(probe.expect.kind === 'error' ? { probe, ok: true, detail: `failed as expected: ${message}` } : { probe, ok: false, detail: message });
    }
  }
  return outcomes;
}

/** Rows returned by a query, else rows changed by a write. */
function rowCount(adapter: DialectAdapter, result: unknown): number {
  const rows = adapter.rows(result);
  const isQuery = adapter.dialect === 'postgres' ? Array.isArray((result as { fields?: unknown[] })?.fields) && ((result as { fields: unknown[] }).fields.length > 0) : Array.isArray(Array.isArray(result) ? result[0] : null);
  return isQuery ? rows.length : adapter.affectedRows(result);
}
