import type { Knex } from 'knex';
import type { ColumnInfo, SchemaSnapshot, TableInfo } from '../schema/types.js';
import { errorMessage } from '../errors.js';
import { parseSqlSync } from '../sql/parse.js';
import { asKnexsafe } from '../db/internal-queries.js';

/**
 * Verify's data probe: a few generated rows in every table, so that a `down` that loses data
 * (drops and re-creates a table, re-adds a column empty, rewrites values) shows up, not only one
 * that leaves the schema different.
 */

export const PROBE_ROWS = 3;
/** Rows per table read back for comparison: enough for probe rows plus small seed data. */
const READ_LIMIT = 500;

export interface ProbeFill {
  filled: string[];
  unfilled: { table: string; reason: string }[];
  /** The rows inserted, per table (as returned), so that they can be removed again. */
  inserted: Map<string, Record<string, unknown>[]>;
}

export type TableRows = Map<string, Record<string, unknown>[]>;

/** Probe rows as read, with the session settings their JSON text depends on (a migration may SET them). */
export interface ProbeRead {
  rows: TableRows;
  settings: string;
}

export interface DataLoss {
  table: string;
  /** Column names that lost values; empty when whole rows (or the table) are gone. */
  columns: string[];
  missingRows: number;
  message: string;
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const qualified = (t: TableInfo) => `${quote(t.schema)}.${quote(t.name)}`;

function tableKey(t: TableInfo): string {
  return `${t.schema}.${t.name}`;
}

/** Parents before children, so foreign keys can point at rows that exist. */
function fillOrder(tables: TableInfo[]): TableInfo[] {
  const byKey = new Map(tables.map((t) => [tableKey(t), t]));
  const done = new Set<string>();
  const visiting = new Set<string>();
  const out: TableInfo[] = [];
  const visit = (t: TableInfo) => {
    const key = tableKey(t);
    if (done.has(key) || visiting.has(key)) return;
    visiting.add(key);
    for (const c of Object.values(t.constraints)) {
      const parent = c.kind === 'foreign' && c.references ? byKey.get(c.references.table) : undefined;
      if (parent && parent !== t) visit(parent);
    }
    visiting.delete(key);
    done.add(key);
    out.push(t);
  };
  for (const t of [...tables].sort((a, b) => tableKey(a).localeCompare(tableKey(b)))) visit(t);
  return out;
}

/** Fills every table in `tables` that has no rows yet; reports those it could not fill and why. */
/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function fillProbeRows(...args: Parameters<typeof fillProbeRowsOwn>): ReturnType<typeof fillProbeRowsOwn> {
  return asKnexsafe(() => fillProbeRowsOwn(...args));
}

async function fillProbeRowsOwn(knex: Knex, schema: SchemaSnapshot, tables: string[]): Promise<ProbeFill> {
  const result: ProbeFill = { filled: [], unfilled: [], inserted: new Map() };
  const wanted = tables.map((k) => schema.tables[k]).filter((t): t is TableInfo => t !== undefined && t.kind !== 'foreign');
  for (const table of fillOrder(wanted)) {
    if (table.kind === 'partitioned' || table.partitionOf) {
      // Rows go through the parent's routing; probing partitions directly would break their bounds.
      if (table.partitionOf) continue;
    }
    const existing = (await knex.raw(`select exists (select from ${qualified(table)}) as e`)) as { rows: { e: boolean }[] };
    if (existing.rows[0]?.e) {
      result.filled.push(tableKey(table));
      continue;
    }
    const parents = await parentRows(knex, schema, table);
    let inserted = 0;
    let lastError: string | undefined;
    for (let i = 0; i < PROBE_ROWS; i++) {
      const row = generateRow(schema, table, i, parents);
      if (typeof row === 'string') {
        lastError = row;
        break;
      }
      try {
        const rows = (await knex(`${table.schema}.${table.name}`).insert(row).returning('*')) as Record<string, unknown>[];
        result.inserted.set(tableKey(table), [...(result.inserted.get(tableKey(table)) ?? []), ...rows]);
        inserted++;
      } catch (error) {
        lastError = errorMessage(error).replace(/^insert into .* - /, '');
      }
    }
    if (inserted > 0) result.filled.push(tableKey(table));
    else result.unfilled.push({ table: tableKey(table), reason: lastError ?? 'no row could be generated' });
  }
  return result;
}

type ParentRows = Map<string, Record<string, unknown>[]>;

async function parentRows(knex: Knex, schema: SchemaSnapshot, table: TableInfo): Promise<ParentRows> {
  const out: ParentRows = new Map();
  for (const c of Object.values(table.constraints)) {
    if (c.kind !== 'foreign' || !c.references) continue;
    const parent = schema.tables[c.references.table];
    if (!parent || out.has(c.name)) continue;
    const cols = c.references.columns.map(quote).join(', ');
    const rows = (await knex.raw(`select ${cols} from ${qualified(parent)} limit ${PROBE_ROWS}`)) as { rows: Record<string, unknown>[] };
    out.set(c.name, rows.rows);
  }
  return out;
}

/** One row of values that fit the column types and constraints, or the reason there is none. */
function generateRow(schema: SchemaSnapshot, table: TableInfo, i: number, parents: ParentRows): Record<string, unknown> | string {
  const row: Record<string, unknown> = {};
  const fkColumns = new Map<string, { constraint: string; index: number }>();
  for (const c of Object.values(table.constraints)) {
    if (c.kind === 'foreign' && c.references)
      c.columns.forEach((col, index) => {
        fkColumns.set(col, { constraint: c.name, index });
      });
  }
  for (const column of Object.values(table.columns)) {
    if (column.generated || column.identity === 'always') continue;
    if (column.identity === 'by default' || (column.default && /nextval\(/.test(column.default))) continue;
    const fk = fkColumns.get(column.name);
    if (fk) {
      const constraint = table.constraints[fk.constraint];
      const rows = parents.get(fk.constraint) ?? [];
      const source = rows.length ? rows[i % rows.length] : undefined;
      const refColumn = constraint?.references?.columns[fk.index];
      if (source && refColumn !== undefined) row[column.name] = source[refColumn];
      else if (column.nullable) row[column.name] = null;
      else return `column ${column.name} references a table without rows`;
      continue;
    }
    const allowed = allowedByChecks(table, column.name);
    const value = allowed ? allowed[i % allowed.length] : valueFor(schema, column, i);
    if (value === undefined) {
      if (column.nullable || column.default !== null) continue;
      return `no value generator for column ${column.name} of type ${column.type}`;
    }
    row[column.name] = value;
  }
  return row;
}

/**
 * Values a CHECK constraint allows for a column, for the common `col IN (…)` / `col = ANY (ARRAY[…])`
 * shape (knex's non-native `enu()` writes exactly that). Read with the real parser.
 */
function allowedByChecks(table: TableInfo, column: string): string[] | undefined {
  for (const c of Object.values(table.constraints)) {
    if (c.kind !== 'check') continue;
    const expression = /^CHECK\s*\(([\s\S]*)\)(\s+NOT VALID)?$/.exec(c.definition)?.[1];
    if (!expression) continue;
    let ast: unknown;
    try {
      ast = parseSqlSync(`select 1 where ${expression}`)[0]?.ast;
    } catch {
      continue;
    }
    const values = listValues(ast, column);
    if (values?.length) return values;
  }
  return undefined;
}

function listValues(node: unknown, column: string): string[] | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const expr = (node as { A_Expr?: { kind?: string; lexpr?: unknown; rexpr?: unknown } }).A_Expr;
  if (expr && (expr.kind === 'AEXPR_OP_ANY' || expr.kind === 'AEXPR_IN') && columnName(expr.lexpr) === column) {
    const items = expr.rexpr as { A_ArrayExpr?: { elements?: unknown[] }; List?: { items?: unknown[] } } | undefined;
    const elements = items?.A_ArrayExpr?.elements ?? items?.List?.items ?? (Array.isArray(expr.rexpr) ? (expr.rexpr as unknown[]) : undefined);
    const values = elements?.map(constantText).filter((v): v is string => v !== undefined);
    if (values?.length) return values;
  }
  for (const value of Object.values(node as Record<string, unknown>)) {
    const found = Array.isArray(value) ? value.map((v) => listValues(v, column)).find((v) => v) : listValues(value, column);
    if (found) return found;
  }
  return undefined;
}

function columnName(node: unknown): string | undefined {
  const ref = (node as { ColumnRef?: { fields?: { String?: { sval?: string } }[] } } | undefined)?.ColumnRef;
  if (ref) return ref.fields?.[ref.fields.length - 1]?.String?.sval;
  const cast = (node as { TypeCast?: { arg?: unknown } } | undefined)?.TypeCast;
  return cast ? columnName(cast.arg) : undefined;
}

function constantText(node: unknown): string | undefined {
  const cast = (node as { TypeCast?: { arg?: unknown } } | undefined)?.TypeCast;
  if (cast) return constantText(cast.arg);
  const c = (node as { A_Const?: { sval?: { sval?: string }; ival?: { ival?: number } } } | undefined)?.A_Const;
  if (c?.sval?.sval !== undefined) return c.sval.sval;
  if (c?.ival) return String(c.ival.ival ?? 0);
  return undefined;
}

function valueFor(schema: SchemaSnapshot, column: ColumnInfo, i: number): unknown {
  let type = column.type.toLowerCase();
  const domain = Object.values(schema.domains).find((d) => `${d.schema}.${d.name}` === column.type || d.name === column.type.replace(/^public\./, ''));
  if (domain) type = domain.type.toLowerCase();
  const enumType = Object.values(schema.enums).find((e) => `${e.schema}.${e.name}` === column.type || e.name === column.type.replace(/^public\./, '').replace(/"/g, ''));
  if (enumType) return enumType.values[i % enumType.values.length];
  if (type.endsWith('[]')) return `{}`;
  const length = Number(/\((\d+)/.exec(type)?.[1] ?? 0);
  const text = (base: string) => (length > 0 ? base.slice(0, length) : base);
  // 1, 2, 3: the ids serial parents get, so columns that will reference them later line up.
  if (/^(smallint|integer|bigint|int[248]?)\b/.test(type)) return i + 1;
  if (/^(numeric|decimal)/.test(type)) return i + 1;
  if (/^(real|double precision|float)/.test(type)) return i + 0.5;
  if (/^(character varying|varchar|text|citext|character|char|bpchar|name)\b/.test(type)) return text(`${i}${column.name}`.replace(/[^a-z0-9_]/gi, '') || String(i));
  if (type === 'boolean') return i % 2 === 0;
  if (type === 'uuid') return `00000000-0000-4000-8000-${String(100000000000 + i).padStart(12, '0')}`;
  if (/^timestamp/.test(type)) return `2024-01-0${i + 1} 10:00:00+00`;
  if (type === 'date') return `2024-01-0${i + 1}`;
  if (/^time/.test(type)) return `10:0${i}:00`;
  if (type === 'interval') return `${i + 1} hours`;
  if (type === 'json' || type === 'jsonb') return JSON.stringify({ probe: i });
  if (type === 'bytea') return Buffer.from([i]);
  if (type === 'inet' || type === 'cidr') return `10.0.0.${i + 1}`;
  if (type === 'macaddr') return `08:00:2b:01:02:0${i}`;
  if (type === 'money') return i + 1;
  if (type === 'tsvector') return `probe${i}`;
  return undefined;
}

function primaryKey(table: TableInfo): string[] | undefined {
  return Object.values(table.constraints).find((c) => c.kind === 'primary')?.columns;
}

/** Reads the rows of `tables` (JSON-normalised) for a later comparison. */
/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function readProbeRows(...args: Parameters<typeof readProbeRowsOwn>): ReturnType<typeof readProbeRowsOwn> {
  return asKnexsafe(() => readProbeRowsOwn(...args));
}

async function readProbeRowsOwn(knex: Knex, schema: SchemaSnapshot, tables: string[]): Promise<ProbeRead> {
  const out: TableRows = new Map();
  let settings = '';
  const present = tables.map((k) => schema.tables[k]).filter((t): t is TableInfo => t !== undefined);
  // A few round trips for all tables (this runs twice per migration), each a row per table: no
  // function gets more than a few arguments however many tables there are (PostgreSQL takes 100).
  // The first also reads the settings (with no table, alone).
  for (let start = 0; start === 0 || start < present.length; start += TABLES_PER_READ) {
    const chunk = present.slice(start, start + TABLES_PER_READ);
    const parts = chunk.map((t, n) => {
      const pk = primaryKey(t);
      const order = pk?.length ? pk.map(quote).join(', ') : '1';
      return `select ${n} as n, (select coalesce(json_agg(${BOUNDED_ROW}), '[]'::json) from (select * from ${qualified(t)} order by ${order} limit ${READ_LIMIT}) r) as data`;
    });
    if (start === 0) parts.push(`select -1 as n, ${READ_SETTINGS} as data`);
    const result = (await knex.raw(parts.join('\nunion all\n'))) as { rows: { n: number; data: Record<string, unknown>[] | string }[] };
    for (const row of result.rows) {
      const data = typeof row.data === 'string' ? (JSON.parse(row.data) as Record<string, unknown>[]) : row.data;
      if (Number(row.n) === -1) settings = JSON.stringify(data);
      const table = chunk[Number(row.n)];
      if (table) out.set(tableKey(table), data);
    }
  }
  return { rows: out, settings };
}

/** What a row's JSON text depends on besides its values (and whose rows row security shows). */
const READ_SETTINGS = `json_build_array(current_user, ${['TimeZone', 'IntervalStyle', 'extra_float_digits', 'bytea_output', 'lc_monetary', 'row_security'].map((name) => `current_setting('${name}')`).join(', ')})`;

/**
 * The rows of `tables` as readProbeRows reads them, where `known` holds rows read earlier and
 * `touched` names the tables whose rows may have changed since (a row changes only under a lock on
 * its table, and the locks name them): only those, and tables not known, are read again. Without
 * `touched`, all are read.
 */
export async function refreshProbeRows(knex: Knex, schema: SchemaSnapshot, tables: string[], known?: ProbeRead, touched?: ReadonlySet<string>): Promise<ProbeRead> {
  if (!known || !touched) return readProbeRows(knex, schema, tables);
  const present = tables.filter((t) => schema.tables[t] !== undefined);
  const stale = new Set(present.filter((t) => touched.has(t) || !known.rows.has(t)));
  const read = await readProbeRows(knex, schema, [...stale]);
  // Rows known print otherwise now (a migration SET TimeZone, say): all are read again.
  if (read.settings !== known.settings) return readProbeRows(knex, schema, tables);
  // In the order a whole read gives (losses are reported in it).
  const rows: TableRows = new Map(
    present.flatMap((t) => {
      const table = stale.has(t) ? read.rows.get(t) : known.rows.get(t);
      return table ? [[t, table] as const] : [];
    }),
  );
  return { rows, settings: read.settings };
}

/** Tables read per query. */
const TABLES_PER_READ = 50;

/**
 * A row as JSON, each value longer than this many characters (as JSON text) replaced by its digest:
 * what is kept per row stays small however wide the row or large its values, and a changed value
 * still compares unequal.
 */
const VALUE_CHARS = 64;
const BOUNDED_ROW = `(select json_object_agg(c.key, case when length(c.value::text) > ${VALUE_CHARS} then to_json('md5:' || md5(c.value::text)) else c.value end) from json_each(row_to_json(r)) c)`;

/**
 * Rows of `before` that are gone or changed in `after`, for columns that exist in both schemas.
 * A table present before and missing after is the schema diff's business, but its rows count too.
 */
export function compareProbeRows(before: TableRows, after: TableRows, schemaBefore: SchemaSnapshot, schemaAfter: SchemaSnapshot, options: { stampedSince?: Date; notes?: string[] } = {}): DataLoss[] {
  const losses: DataLoss[] = [];
  for (const [key, rowsBefore] of before) {
    if (rowsBefore.length === 0) continue;
    const tableBefore = schemaBefore.tables[key];
    const tableAfter = schemaAfter.tables[key];
    const display = key.replace(/^public\./, '');
    const rowsAfter = after.get(key);
    if (!tableAfter || !rowsAfter) {
      losses.push({ table: key, columns: [], missingRows: rowsBefore.length, message: `${display}: table gone with its ${rowsBefore.length} row(s)` });
      continue;
    }
    const columns = Object.keys(tableBefore?.columns ?? {}).filter((c) => tableAfter.columns[c]);
    const pk = tableBefore ? primaryKey(tableBefore) : undefined;
    const keyOf = (row: Record<string, unknown>, cols: string[]) => JSON.stringify(cols.map((c) => row[c] ?? null));
    const identity = pk?.length && pk.every((c) => columns.includes(c)) ? pk : columns;
    const afterByKey = new Map(rowsAfter.map((r) => [keyOf(r, identity), r]));
    const stamped = stampedColumns(schemaAfter, key, options.stampedSince);
    const restamped = new Set<string>();
    let missingRows = 0;
    const changed = new Set<string>();
    for (const row of rowsBefore) {
      const match = afterByKey.get(keyOf(row, identity));
      if (!match) {
        missingRows++;
        continue;
      }
      for (const c of columns) {
        const was = row[c] ?? null;
        // A value filled into an empty (NULL) cell is not data lost: only existing values count.
        if (was === null) continue;
        if (JSON.stringify(was) === JSON.stringify(match[c] ?? null)) continue;
        if (stamped.has(c) && stamped.get(c)!(match[c])) restamped.add(c);
        else changed.add(c);
      }
    }
    for (const c of restamped) options.notes?.push(`${display}.${c}: re-stamped by an update trigger while up/down ran (not counted as data loss)`);
    if (missingRows === 0 && changed.size === 0) continue;
    const parts: string[] = [];
    if (missingRows > 0) parts.push(`${missingRows} of ${rowsBefore.length} row(s) gone`);
    if (changed.size > 0) parts.push(`values changed in ${[...changed].sort().join(', ')}`);
    losses.push({ table: key, columns: [...changed].sort(), missingRows, message: `${display}: ${parts.join('; ')}` });
  }
  return losses;
}

/**
 * Timestamp columns of a table with a BEFORE UPDATE trigger (the `updated_at := now()` pattern), each
 * with a test for "this value was stamped during the run". A data migration's UPDATE fires the
 * trigger; the new stamp is bookkeeping the down cannot and should not undo.
 */
function stampedColumns(schema: SchemaSnapshot, key: string, since: Date | undefined): Map<string, (value: unknown) => boolean> {
  const out = new Map<string, (value: unknown) => boolean>();
  const table = schema.tables[key];
  if (!since || !table) return out;
  const hasUpdateTrigger = Object.values(schema.triggers).some((t) => t.enabled && (t.table === key || t.table === key.replace(/^public\./, '')) && /\bBEFORE\b[\s\S]*\bUPDATE\b/i.test(t.definition));
  if (!hasUpdateTrigger) return out;
  const from = since.getTime() - 60_000;
  for (const [name, column] of Object.entries(table.columns)) {
    if (!/^(timestamp|date)/i.test(column.type)) continue;
    out.set(name, (value) => typeof value === 'string' && Date.parse(value) >= from);
  }
  return out;
}

/** Deletes the probe rows inserted earlier (children first), e.g. before re-running a data migration on empty tables. */
/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function removeProbeRows(...args: Parameters<typeof removeProbeRowsOwn>): ReturnType<typeof removeProbeRowsOwn> {
  return asKnexsafe(() => removeProbeRowsOwn(...args));
}

async function removeProbeRowsOwn(knex: Knex, schema: SchemaSnapshot, inserted: Map<string, Record<string, unknown>[]>): Promise<string[]> {
  const tables = fillOrder([...inserted.keys()].map((k) => schema.tables[k]).filter((t): t is TableInfo => t !== undefined)).reverse();
  const removed: string[] = [];
  for (const table of tables) {
    const rows = inserted.get(tableKey(table)) ?? [];
    const pk = primaryKey(table);
    if (!pk?.length || rows.length === 0) continue;
    try {
      const keys = rows.map((r) => pk.map((c) => r[c] as Knex.Value));
      await knex(`${table.schema}.${table.name}`).whereIn(pk, keys).delete();
      removed.push(tableKey(table));
    } catch {
      // A row another probe row depends on in a way we did not see: leave it, the retry may still pass.
    }
  }
  return removed;
}
