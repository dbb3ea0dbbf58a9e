import { randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { DialectAdapter } from '../db/dialect-adapter.js';
import { explainFailure, type Action, type AppVersion } from './explain.js';
import type { ColumnInfo, SchemaModel, TableInfo } from './schema-model.js';

/** A finding of the automatic probes, for one app version's cell at the current state. */
export interface AutoFinding {
  version: AppVersion;
  message: string;
}

export interface AutoProbeResult {
  checks: Record<AppVersion, number>;
  failures: AutoFinding[];
  notes: string[];
}

export interface AutoProbeInput {
  versions: AppVersion[];
  /** The schema each version was built for: S0 for the old app, S3 for the new one. */
  expected: Record<AppVersion, SchemaModel>;
  /** Tables the migrations change (the others need no probing). */
  tables: string[];
  /** "S1 (expanded)" … for messages. */
  stateText: string;
  /** At S2 a NULL in a column the new app expects NOT NULL can no longer be the backfill's job. */
  afterBackfill: boolean;
  /** PostgreSQL with version schemas: the search_path each version's connection uses. */
  searchPaths?: Record<AppVersion, string>;
}

type Row = Record<string, unknown>;
interface Written {
  key: Row;
  row: Row;
}

/**
 * The probes tandem derives from the schemas alone. Each version inserts a row into every table the
 * migrations touch, giving only the columns it must (NOT NULL without default in the schema it was
 * built for), reads back and updates every column it knows; where both run, each reads the other's
 * row and must see it, with what was written. Everything runs in the transaction given, which the
 * caller rolls back; each statement in a savepoint, so one failure does not hide the next.
 */
export async function runAutomaticProbes(trx: Knex.Transaction, adapter: DialectAdapter, input: AutoProbeInput): Promise<AutoProbeResult> {
  const probe = new AutoProber(trx, adapter, input);
  for (const table of input.tables) await probe.table(table);
  return { checks: probe.checks, failures: probe.failures, notes: probe.notes };
}

class AutoProber {
  readonly checks: Record<AppVersion, number> = { old: 0, new: 0 };
  readonly failures: AutoFinding[] = [];
  readonly notes: string[] = [];
  private savepoints = 0;

  constructor(
    private readonly trx: Knex.Transaction,
    private readonly adapter: DialectAdapter,
    private readonly input: AutoProbeInput,
  ) {}

  private q = (name: string) => this.adapter.quoteIdent(name);
  private actingAs: AppVersion | null = null;

  /** Take the search_path of this version's connection (version schemas), for the statements that follow. */
  private async as(version: AppVersion): Promise<void> {
    if (!this.input.searchPaths || this.actingAs === version) return;
    await this.trx.raw(`SELECT set_config('search_path', ?, true)`, [this.input.searchPaths[version]]);
    this.actingAs = version;
  }

  async table(name: string): Promise<void> {
    const written: Partial<Record<AppVersion, Written>> = {};
    for (const version of this.input.versions) {
      const info = this.input.expected[version].get(name);
      if (!info || info.kind !== 'table') continue;
      const result = await this.writeAndRead(version, info);
      if (result) written[version] = result;
    }
    if (this.input.versions.length < 2) return;
    for (const [writer, reader] of [['old', 'new'], ['new', 'old']] as const) {
      const row = written[writer];
      const info = this.input.expected[reader].get(name);
      if (row && info?.kind === 'table') await this.crossRead(writer, reader, info, row);
    }
  }

  /** Run one statement in a savepoint: the result, or the error it raised. */
  private async attempt(sql: string, bindings: unknown[] = []): Promise<{ ok: true; result: unknown } | { ok: false; error: unknown }> {
    const savepoint = `tandem_auto_${++this.savepoints}`;
    await this.trx.raw(`SAVEPOINT ${savepoint}`);
    try {
      const result = await this.trx.raw(sql, bindings as Knex.RawBinding[]);
      await this.trx.raw(`RELEASE SAVEPOINT ${savepoint}`);
      return { ok: true, result };
    } catch (error) {
      await this.trx.raw(`ROLLBACK TO SAVEPOINT ${savepoint}`);
      return { ok: false, error };
    }
  }

  private fail(version: AppVersion, message: string): void {
    this.failures.push({ version, message });
  }

  private explain(version: AppVersion, action: Action, info: TableInfo, error: unknown): string {
    return explainFailure(error, { version, action, table: info.name, state: this.input.stateText, knownNullable: (column) => info.columns.some((c) => c.name === column && c.nullable) });
  }

  private async writeAndRead(version: AppVersion, info: TableInfo): Promise<Written | null> {
    await this.as(version);
    const table = this.q(info.name);
    const mustGive = info.columns.filter((c) => !c.nullable && !c.hasDefault && !c.generated);
    const values: Row = {};
    for (const column of mustGive) {
      const value = await this.valueFor(version, info, column);
      if (value === undefined) {
        this.notes.push(`${info.name}.${column.name}: no value of type ${column.fullType} to insert for the ${version} app; give the table a row with --seed to copy from`);
        return null;
      }
      values[column.name] = value;
    }

    // Insert only what this version must give.
    this.checks[version]++;
    const names = Object.keys(values);
    const autoKey = info.primaryKey.filter((k) => !(k in values));
    const returning = this.adapter.dialect === 'postgres' && autoKey.length > 0 ? ` RETURNING ${autoKey.map(this.q).join(', ')}` : '';
    const insert = names.length > 0
      ? `INSERT INTO ${table} (${names.map(this.q).join(', ')}) VALUES (${names.map(() => '?').join(', ')})${returning}`
      : this.adapter.dialect === 'postgres' ? `INSERT INTO ${table} DEFAULT VALUES${returning}` : `INSERT INTO ${table} () VALUES ()`;
    const inserted = await this.attempt(insert, names.map((n) => values[n]));
    if (!inserted.ok) {
      this.fail(version, this.explain(version, 'insert', info, inserted.error));
      return null;
    }
    const key = this.keyOf(info, values, inserted.result);
    const known = info.columns.map((c) => c.name);
    if (!key) {
      // Without a key the row cannot be found again: check that every known column can be read.
      this.checks[version]++;
      const read = await this.attempt(`SELECT ${known.map(this.q).join(', ')} FROM ${table} WHERE 1 = 0`);
      if (!read.ok) this.fail(version, this.explain(version, 'read', info, read.error));
      return null;
    }

    // Read back every column it knows.
    this.checks[version]++;
    const where = this.whereKey(key);
    const read = await this.attempt(`SELECT ${known.map(this.q).join(', ')} FROM ${table} WHERE ${where.sql}`, where.bindings);
    if (!read.ok) {
      this.fail(version, this.explain(version, 'read', info, read.error));
      return null;
    }
    const rows = this.adapter.rows<Row>(read.result);
    if (rows.length !== 1) {
      this.fail(version, `the ${version} app inserts a row into ${info.name} but reads back ${rows.length} rows with its key at ${this.input.stateText}`);
      return null;
    }

    // Update every column it knows (to the value it holds: triggers of UPDATE OF … fire).
    const writable = info.columns.filter((c) => !c.generated && !info.primaryKey.includes(c.name));
    if (writable.length > 0) {
      this.checks[version]++;
      const update = await this.attempt(`UPDATE ${table} SET ${writable.map((c) => `${this.q(c.name)} = ${this.q(c.name)}`).join(', ')} WHERE ${where.sql}`, where.bindings);
      if (!update.ok) this.fail(version, this.explain(version, 'update', info, update.error));
    }
    return { key, row: rows[0]! };
  }

  /** The other version reads the row: it must see it, with the same values in the columns both know. */
  private async crossRead(writer: AppVersion, reader: AppVersion, info: TableInfo, written: Written): Promise<void> {
    if (!Object.keys(written.key).every((k) => info.columns.some((c) => c.name === k))) return;
    await this.as(reader);
    this.checks[reader]++;
    const where = this.whereKey(written.key);
    const read = await this.attempt(`SELECT ${info.columns.map((c) => this.q(c.name)).join(', ')} FROM ${this.q(info.name)} WHERE ${where.sql}`, where.bindings);
    if (!read.ok) {
      this.fail(reader, `${this.explain(reader, 'read', info, read.error)} (reading the ${writer} app's row)`);
      return;
    }
    const row = this.adapter.rows<Row>(read.result)[0];
    if (!row) {
      this.fail(reader, `the ${reader} app does not see the row the ${writer} app inserted into ${info.name} at ${this.input.stateText}`);
      return;
    }
    for (const column of info.columns) {
      const value = row[column.name];
      if (column.name in written.row && normalize(written.row[column.name]) !== normalize(value)) {
        this.fail(reader, `the ${reader} app reads ${info.name}.${column.name} = ${show(value)} from the ${writer} app's row, which the ${writer} app reads as ${show(written.row[column.name])} at ${this.input.stateText}`);
        return;
      }
      if (value !== null || column.nullable) continue;
      if (reader === 'old') {
        this.fail(reader, `the old app reads the new app's row in ${info.name} at ${this.input.stateText}: ${column.name} is NULL, but NOT NULL in the schema the old app was built for (S0); nothing fills it for the new app's writes`);
        return;
      }
      if (this.input.afterBackfill) {
        this.fail(reader, `the new app reads the old app's row in ${info.name} at ${this.input.stateText}: ${column.name} is NULL, but NOT NULL at S3; the backfill is over, so nothing fills it for the old app's writes (a trigger or shim must)`);
        return;
      }
    }
  }

  private keyOf(info: TableInfo, values: Row, result: unknown): Row | null {
    if (info.primaryKey.length === 0) return null;
    const key: Row = {};
    const returned = this.adapter.dialect === 'postgres' ? this.adapter.rows<Row>(result)[0] : undefined;
    for (const column of info.primaryKey) {
      if (column in values) key[column] = values[column];
      else if (returned && column in returned) key[column] = returned[column];
      else if (this.adapter.dialect === 'mysql' && info.primaryKey.length === 1) key[column] = String((Array.isArray(result) ? result[0] : result as { insertId?: unknown })?.insertId);
      else return null;
    }
    return key;
  }

  private whereKey(key: Row): { sql: string; bindings: unknown[] } {
    const columns = Object.keys(key);
    return { sql: columns.map((c) => `${this.q(c)} = ?`).join(' AND '), bindings: columns.map((c) => key[c]) };
  }

  /**
   * A value the app could plausibly send: fresh for unique columns (MAX + 1, a random token), else
   * copied from a row already there (valid for foreign keys, checks and enums), else made from the type.
   */
  private async valueFor(version: AppVersion, info: TableInfo, column: ColumnInfo): Promise<unknown> {
    const table = this.q(info.name);
    const name = this.q(column.name);
    if (column.unique) {
      if (isInteger(column.type)) {
        const max = await this.attempt(`SELECT COALESCE(MAX(${name}), 0) + 1 AS v FROM ${table}`);
        return max.ok ? String(this.adapter.rows<Row>(max.result)[0]?.v ?? 1) : String(900_000_000 + Math.floor(Math.random() * 1000));
      }
      if (isText(column.type)) return token(version, column.maxLength);
      if (column.type === 'uuid') return randomUUID();
    }
    const cast = this.adapter.dialect === 'postgres' ? '::text' : '';
    const sample = await this.attempt(`SELECT ${name}${cast} AS v FROM ${table} WHERE ${name} IS NOT NULL LIMIT 1`);
    const value = sample.ok ? this.adapter.rows<Row>(sample.result)[0]?.v : undefined;
    if (value !== undefined && value !== null) return typeof value === 'object' && !Buffer.isBuffer(value) ? JSON.stringify(value) : value;
    return valueOfType(column, version);
  }
}

const isInteger = (type: string) => /int|serial/i.test(type) && !/interval|point/i.test(type);
const isText = (type: string) => /char|text|string/i.test(type);

function token(version: AppVersion, maxLength: number | null): string {
  const text = `${version}-${randomBytes(6).toString('hex')}`;
  return maxLength && maxLength < text.length ? randomBytes(maxLength).toString('hex').slice(0, maxLength) : text;
}

/** A value of the column's type, for a table that has no row to copy one from. */
export function valueOfType(column: ColumnInfo, version: AppVersion): unknown {
  const type = column.type.toLowerCase();
  if (column.enumValues.length > 0) return column.enumValues[0];
  if (type === 'array' || type.startsWith('_')) return '{}';
  if (isInteger(type) || /numeric|decimal|real|double|float|money/.test(type)) return '1';
  if (type === 'bit' || type === 'bit varying') return '1';
  if (/bool/.test(type)) return true;
  if (type === 'uuid') return randomUUID();
  if (isText(type)) return token(version, column.maxLength);
  if (/json/.test(type)) return '{}';
  if (type === 'date') return '2026-01-01';
  if (/timestamp|datetime/.test(type)) return '2026-01-01 00:00:00';
  if (/^time/.test(type)) return '12:00:00';
  if (type === 'year') return '2026';
  if (type === 'interval') return '1 day';
  if (/bytea|blob|binary/.test(type)) return Buffer.from('tandem');
  if (/inet|cidr/.test(type)) return '127.0.0.1';
  return undefined;
}

function normalize(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

const show = (value: unknown) => (value === null || value === undefined ? 'NULL' : JSON.stringify(normalize(value)));
