import type { Knex } from 'knex';
import { literalSql, stringLiteral } from '../db/raw-sql.js';
import { serverMajorVersion, type Session } from '../db/session.js';
import { UsageError } from '../errors/tandem-error.js';
import type { ViewAdjustment } from '../operations/types.js';
import { withLockRetry, type RetryNotice } from '../runner/lock-retry.js';
import { parseViewComment, planViews, viewComment, type CatalogTable, type ViewSpec } from './plan-views.js';

type Db = Knex | Knex.Transaction;

/**
 * Version schemas (PostgreSQL): a schema per migration holding one view per table of the base
 * schema, with the columns the migration's app version expects. An app that reads and writes
 * through them (search_path) never sees a table's row type change under a prepared statement.
 * See README "Version schemas" and docs/architecture.md.
 */

/** The schema the app's tables live in: the session's current schema (normally public). */
export async function baseSchemaOf(session: Session): Promise<string> {
  const name = session.adapter.rows<{ name: string | null }>(await session.db.raw('SELECT current_schema() AS name'))[0]?.name;
  if (!name) throw new UsageError('the session has no current schema (search_path names no existing schema), so tandem cannot tell where the tables are', undefined, 'set the database user\'s search_path to the schema of the app\'s tables');
  return name;
}

/** The names among `names` that exist as schemas. */
export async function existingSchemas(session: Session, names: readonly string[], db: Db = session.db): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = session.adapter.rows<{ name: string }>(await db.raw(`SELECT nspname AS name FROM pg_namespace WHERE nspname IN (${names.map(() => '?').join(', ')}) ORDER BY nspname`, [...names]));
  return rows.map((row) => row.name);
}

/**
 * Create a version schema, or build it again: in one transaction, drop it with everything in it,
 * create it and one view per table from the live catalog, so a rerun after a failure or a crash
 * ends with the same views. Returns the number of views.
 */
export async function createVersionSchema(session: Session, schema: string, baseSchema: string, adjustments: ViewAdjustment[], onRetry: (notice: RetryNotice) => void): Promise<number> {
  const { adapter } = session;
  const q = (name: string) => adapter.quoteIdent(name);
  return withLockRetry(
    adapter,
    session.config.retries,
    () =>
      session.db.transaction(async (trx) => {
        await shortLockWait(trx, session);
        const tables = await catalogTables(trx, session, baseSchema);
        const views = planViews(tables, adjustments);
        const tableGrants = await grantsOf(trx, session, `c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = ?) AND c.relkind IN ('r', 'p')`, [baseSchema]);
        await run(trx, `DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`);
        await run(trx, `CREATE SCHEMA ${q(schema)}`);
        for (const grantee of await schemaUsage(trx, session, baseSchema)) await run(trx, `GRANT USAGE ON SCHEMA ${q(schema)} TO ${grantee === null ? 'PUBLIC' : q(grantee)}`);
        for (const view of views) await createView(trx, session, schema, baseSchema, view, tableGrants.get(view.relid) ?? []);
        return views.length;
      }),
    onRetry,
  );
}

/** Drop these version schemas (those that exist), with their views, in one transaction. */
export async function dropVersionSchemas(session: Session, names: readonly string[], onRetry: (notice: RetryNotice) => void): Promise<string[]> {
  const existing = await existingSchemas(session, names);
  if (existing.length === 0) return [];
  await withLockRetry(
    session.adapter,
    session.config.retries,
    () =>
      session.db.transaction(async (trx) => {
        await shortLockWait(trx, session);
        for (const name of existing) await run(trx, `DROP SCHEMA IF EXISTS ${session.adapter.quoteIdent(name)} CASCADE`);
      }),
    onRetry,
  );
  return existing;
}

/**
 * For a contract whose statements may drop any column (SQL): inside the step's transaction, drop
 * the views of these version schemas and return what builds them again after the statements: the
 * same names and columns in the same order, minus columns (or tables) that no longer exist. Each
 * view's comment records the table columns (by number, which a rename keeps) it shows.
 */
export async function detachViews(trx: Knex.Transaction, session: Session, schemas: readonly string[], baseSchema: string): Promise<() => Promise<void>> {
  const { adapter } = session;
  const q = (name: string) => adapter.quoteIdent(name);
  const nothing = async () => undefined;
  if (schemas.length === 0) return nothing;
  const found = adapter.rows<{ schema: string; view: string; oid: string; comment: string | null }>(
    await trx.raw(
      `SELECT n.nspname AS schema, c.relname AS view, c.oid::text AS oid, obj_description(c.oid, 'pg_class') AS comment
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname IN (${schemas.map(() => '?').join(', ')}) AND c.relkind = 'v' ORDER BY n.nspname, c.relname`,
      [...schemas],
    ),
  );
  if (found.length === 0) return nothing;
  await shortLockWait(trx, session);
  const detached: Array<{ schema: string; view: string; relid: string; table: string; columns: Array<{ name: string; attnum: number; attname: string | null }>; grants: Grant[] }> = [];
  const viewGrants = await grantsOf(trx, session, `c.oid IN (${found.map(() => '?::oid').join(', ')})`, found.map((v) => v.oid));
  for (const view of found) {
    const record = parseViewComment(view.comment);
    if (!record) continue; // not one of tandem's: left alone
    const table = adapter.rows<{ relid: string; table: string }>(
      await trx.raw(
        `SELECT DISTINCT d.refobjid::text AS relid, t.relname AS "table"
           FROM pg_rewrite r JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
           JOIN pg_class t ON t.oid = d.refobjid AND t.relkind IN ('r', 'p')
          WHERE r.ev_class = ?::oid`,
        [view.oid],
      ),
    )[0];
    if (!table) continue;
    const names = await columnNames(trx, session, table.relid);
    detached.push({
      schema: view.schema,
      view: view.view,
      relid: table.relid,
      table: table.table,
      columns: record.columns.map(([name, attnum]) => ({ name, attnum, attname: names.get(attnum) ?? null })),
      grants: viewGrants.get(view.oid) ?? [],
    });
    await run(trx, `DROP VIEW ${q(view.schema)}.${q(view.view)}`);
  }
  // The contract's own statements set their lock waits; a phase function inherits the transaction's.
  for (const setup of adapter.transactionSetup(session.config)) await trx.raw(setup);
  return async () => {
    for (const view of detached) {
      // The same table by number; a table the statements replaced, by name (and its columns by name).
      let relid = view.relid;
      let byNumber = true;
      let located = await tableLocation(trx, session, relid);
      if (!located) {
        const replaced = adapter.rows<{ relid: string | null }>(await trx.raw(`SELECT to_regclass(?)::oid::text AS relid`, [`${q(baseSchema)}.${q(view.table)}`]))[0]?.relid;
        if (!replaced) continue;
        relid = replaced;
        byNumber = false;
        located = await tableLocation(trx, session, relid);
        if (!located) continue;
      }
      const current = await columnNames(trx, session, relid);
      const byName = new Map([...current].map(([attnum, name]) => [name, attnum]));
      const columns: ViewSpec['columns'] = [];
      for (const column of view.columns) {
        const attnum = byNumber ? (current.has(column.attnum) ? column.attnum : undefined) : column.attname !== null ? byName.get(column.attname) : undefined;
        if (attnum !== undefined) columns.push({ name: column.name, source: current.get(attnum)!, attnum });
      }
      await createView(trx, session, view.schema, located.schema, { name: view.view, table: located.table, relid, columns }, view.grants);
    }
  };
}

async function createView(trx: Knex.Transaction, session: Session, schema: string, baseSchema: string, view: ViewSpec, grants: Grant[]): Promise<void> {
  const q = (name: string) => session.adapter.quoteIdent(name);
  const target = `${q(schema)}.${q(view.name)}`;
  const list = view.columns.map((c) => (c.source === c.name ? q(c.name) : `${q(c.source)} AS ${q(c.name)}`)).join(', ');
  // security_invoker (PostgreSQL 15+): the app's own privileges and row-level security apply, not tandem's.
  const options = serverMajorVersion(session) >= 15 ? ' WITH (security_invoker = true)' : '';
  await run(trx, `CREATE VIEW ${target}${options} AS SELECT ${list} FROM ${q(baseSchema)}.${q(view.table)}`);
  await run(trx, `COMMENT ON VIEW ${target} IS ${stringLiteral(viewComment(view))}`);
  const byGrantee = new Map<string | null, string[]>();
  for (const grant of grants) byGrantee.set(grant.grantee, [...(byGrantee.get(grant.grantee) ?? []), grant.privilege]);
  for (const [grantee, privileges] of byGrantee) await run(trx, `GRANT ${privileges.join(', ')} ON ${target} TO ${grantee === null ? 'PUBLIC' : q(grantee)}`);
}

async function catalogTables(db: Db, session: Session, baseSchema: string): Promise<CatalogTable[]> {
  const rows = session.adapter.rows<{ relid: string; table: string; column: string; attnum: number }>(
    await db.raw(
      `SELECT c.oid::text AS relid, c.relname AS "table", a.attname AS "column", a.attnum
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE n.nspname = ? AND c.relkind IN ('r', 'p')
        ORDER BY c.relname, a.attnum`,
      [baseSchema],
    ),
  );
  const tables = new Map<string, CatalogTable>();
  for (const row of rows) {
    const table = tables.get(row.relid) ?? { relid: row.relid, name: row.table, columns: [] };
    table.columns.push({ name: row.column, attnum: Number(row.attnum) });
    tables.set(row.relid, table);
  }
  return [...tables.values()];
}

async function columnNames(db: Db, session: Session, relid: string): Promise<Map<number, string>> {
  const rows = session.adapter.rows<{ attnum: number; name: string }>(await db.raw(`SELECT attnum, attname AS name FROM pg_attribute WHERE attrelid = ?::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, [relid]));
  return new Map(rows.map((row) => [Number(row.attnum), row.name]));
}

async function tableLocation(db: Db, session: Session, relid: string): Promise<{ schema: string; table: string } | null> {
  const row = session.adapter.rows<{ schema: string; table: string }>(
    await db.raw(`SELECT n.nspname AS schema, c.relname AS "table" FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ?::oid AND c.relkind IN ('r', 'p')`, [relid]),
  )[0];
  return row ?? null;
}

interface Grant {
  grantee: string | null;
  privilege: string;
}

/** Privileges on relations (the app's role on a table gets the same on its view), by relation oid; null grantee = PUBLIC. */
async function grantsOf(db: Db, session: Session, where: string, bindings: readonly string[]): Promise<Map<string, Grant[]>> {
  const rows = session.adapter.rows<{ relid: string; grantee: string | null; privilege: string }>(
    await db.raw(
      `SELECT c.oid::text AS relid, CASE WHEN g.grantee = 0 THEN NULL ELSE pg_get_userbyid(g.grantee) END AS grantee, g.privilege_type AS privilege
         FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) g
        WHERE ${where} AND g.grantee <> c.relowner AND g.privilege_type IN ('SELECT', 'INSERT', 'UPDATE', 'DELETE')
        ORDER BY 1, 2, 3`,
      [...bindings],
    ),
  );
  const grants = new Map<string, Grant[]>();
  for (const row of rows) grants.set(row.relid, [...(grants.get(row.relid) ?? []), { grantee: row.grantee, privilege: row.privilege }]);
  return grants;
}

/** Roles that may use the base schema may use the version schema too. */
async function schemaUsage(db: Db, session: Session, baseSchema: string): Promise<Array<string | null>> {
  const rows = session.adapter.rows<{ grantee: string | null }>(
    await db.raw(
      `SELECT DISTINCT CASE WHEN g.grantee = 0 THEN NULL ELSE pg_get_userbyid(g.grantee) END AS grantee
         FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) g
        WHERE n.nspname = ? AND g.privilege_type = 'USAGE' AND g.grantee <> n.nspowner`,
      [baseSchema],
    ),
  );
  return rows.map((row) => row.grantee);
}

/** Dropping a view waits for the app's queries on it, and queues new ones behind it: wait briefly, and retry. */
async function shortLockWait(trx: Knex.Transaction, session: Session): Promise<void> {
  for (const setup of session.adapter.statementSetup?.('drop schema', session.config) ?? session.adapter.transactionSetup(session.config)) await trx.raw(setup);
}

async function run(db: Db, sql: string): Promise<void> {
  await db.raw(literalSql(sql));
}

