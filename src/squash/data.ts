import type { Knex } from 'knex';
import { KnexsafeError } from '../errors.js';
import { withCanonicalSession } from './catalog.js';
import type { CatalogModel, CatalogTable } from '../schema/catalog-model.js';
import { sqlString } from '../codegen/sql.js';
import { asKnexsafe } from '../db/internal-queries.js';

/**
 * Rows the squashed migrations left in their tables (lookup values, default settings, an admin
 * role…) and the state of every sequence: the baseline recreates them, so a fresh database built
 * from it holds what one built from the chain holds. Values are printed by PostgreSQL itself
 * (`quote_literal(value::text)`) under fixed session settings (ISO dates, UTC, hex bytea), and
 * read back by the column's own input function when the INSERT runs.
 */
export interface TableRows {
  table: string;
  rows: number;
}

export interface BaselineData {
  statements: string[];
  tables: TableRows[];
  totalRows: number;
}

const ROWS_PER_INSERT = 500;

/** Tables that hold data themselves (partitioned parents hold none: their partitions do). */
function storageTables(model: CatalogModel): CatalogTable[] {
  return model.tables.filter((t) => t.kind === 'r');
}

/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function readBaselineData(...args: Parameters<typeof readBaselineDataOwn>): ReturnType<typeof readBaselineDataOwn> {
  return asKnexsafe(() => readBaselineDataOwn(...args));
}

async function readBaselineDataOwn(knex: Knex, model: CatalogModel, options: { maxRows: number; includeRows: boolean }): Promise<BaselineData> {
  return withCanonicalSession(knex, async (trx) => {
    const tables: TableRows[] = [];
    const statements: string[] = [];
    let totalRows = 0;
    for (const t of storageTables(model)) {
      const count = Number(((await trx.raw(`select count(*)::int as n from only ${t.ident}`)) as { rows: { n: number }[] }).rows[0]?.n ?? 0);
      if (count === 0) continue;
      tables.push({ table: t.ident, rows: count });
      totalRows += count;
    }
    // Without the rows, sequence values are left at their start too: nothing refers to them.
    if (!options.includeRows) return { statements: [], tables, totalRows };
    if (totalRows > options.maxRows) {
      throw new KnexsafeError(
        'SQUASH_TOO_MUCH_DATA',
        `The squashed migrations leave ${totalRows} rows in ${tables.length} table(s) (${tables.map((t) => `${t.table}: ${t.rows}`).join(', ')}), more than --max-rows ${options.maxRows}: that is data, not schema, and does not belong in a migration file.`,
        { hint: 'Raise --max-rows if these rows really are reference data, or pass --no-data to build the baseline without them (they are then listed as a warning).' },
      );
    }
    for (const { table } of tables) {
      const t = storageTables(model).find((x) => x.ident === table)!;
      const columns = t.columns.filter((c) => !c.generated);
      if (columns.length === 0) continue;
      const tuple = `'(' || concat_ws(', ', ${columns.map((c) => `coalesce(quote_literal(t.${c.ident}::text), 'NULL')`).join(', ')}) || ')'`;
      // Primary key order reads well and does not depend on where updates left the rows.
      const order = t.primaryKey.length ? t.primaryKey.map((c) => `t.${c}`).join(', ') : 't.ctid';
      const values = ((await trx.raw(`select ${tuple} as v from only ${t.ident} t order by ${order}`)) as { rows: { v: string }[] }).rows.map((r) => r.v);
      const overriding = columns.some((c) => c.identity === 'a') ? ' OVERRIDING SYSTEM VALUE' : '';
      const head = `INSERT INTO ${t.ident} (${columns.map((c) => c.ident).join(', ')})${overriding} VALUES`;
      for (let i = 0; i < values.length; i += ROWS_PER_INSERT) {
        statements.push(`${head}\n    ${values.slice(i, i + ROWS_PER_INSERT).join(',\n    ')}`);
      }
    }
    statements.push(...sequenceStatements(model));
    return { statements, tables, totalRows };
  });
}

/** setval for every sequence that has moved since it was created. */
function sequenceStatements(model: CatalogModel): string[] {
  const out: string[] = [];
  for (const s of model.sequences) {
    if (s.lastValue === null) continue;
    if (!s.isCalled && s.lastValue === s.start) continue;
    out.push(`SELECT pg_catalog.setval(${sqlString(s.ident)}, ${s.lastValue}, ${s.isCalled ? 'true' : 'false'})`);
  }
  return out;
}

/** What the data proof compares: rows of every table (as text, sorted) and every sequence's state. */
export type DataFingerprint = Record<string, string>;

/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function dataFingerprint(...args: Parameters<typeof dataFingerprintOwn>): ReturnType<typeof dataFingerprintOwn> {
  return asKnexsafe(() => dataFingerprintOwn(...args));
}

async function dataFingerprintOwn(knex: Knex, model: CatalogModel): Promise<DataFingerprint> {
  return withCanonicalSession(knex, async (trx) => {
    const out: DataFingerprint = {};
    for (const t of storageTables(model)) {
      const row = (
        (await trx.raw(`select count(*)::int as n, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as h from only ${t.ident} t`)) as {
          rows: { n: number; h: string }[];
        }
      ).rows[0];
      out[`table ${t.ident}`] = `${row?.n ?? 0} rows, md5 ${row?.h ?? ''}`;
    }
    for (const s of model.sequences) {
      const row = ((await trx.raw(`select last_value::text as v, is_called from ${s.ident}`)) as { rows: { v: string; is_called: boolean }[] }).rows[0];
      out[`sequence ${s.ident}`] = `${row?.v ?? ''}${row?.is_called ? ' (called)' : ''}`;
    }
    return out;
  });
}

export function diffFingerprints(expected: DataFingerprint, actual: DataFingerprint): string[] {
  const out: string[] = [];
  for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
    if (expected[k] !== actual[k]) out.push(`${k}: chain ${expected[k] ?? 'absent'}, baseline ${actual[k] ?? 'absent'}`);
  }
  return out.sort();
}
