import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { KnexsafeError, errorMessage, sqlState } from '../errors.js';

/** What to update, in batches. */
export interface BackfillOptions {
  /** The table, optionally schema-qualified (`billing.invoices`). */
  table: string;
  /** Column → new value: a constant or `knex.raw(...)` expression (as in knex's `update`). */
  set: Record<string, unknown>;
  /**
   * Which rows still need it: a knex where object, a callback on the query builder, or `knex.raw`.
   * Leave it selective (e.g. `display_name IS NULL`) so that re-running skips finished rows.
   */
  where?: Record<string, unknown> | ((builder: Knex.QueryBuilder) => void) | Knex.Raw;
  /** Rows per batch (one transaction each). Default 1000. */
  batchSize?: number;
  /** Pause between batches, for replicas and autovacuum to keep up. Default 0. */
  pauseMs?: number;
  /** Identity of this backfill for resuming; default a hash of table + set + where. */
  name?: string;
  /** lock_timeout per batch (ms). Default 5000. A batch that times out is retried. */
  lockTimeoutMs?: number;
  /** How often a batch that hit a lock timeout or deadlock is retried. Default 5. */
  retries?: number;
  /** Called after every batch. */
  onProgress?: (progress: BackfillProgress) => void;
  /** Stop after this many batches (for tests and for splitting work across deploys). */
  maxBatches?: number;
}

export interface BackfillProgress {
  name: string;
  table: string;
  /** Rows updated so far, including earlier runs of the same backfill. */
  done: number;
  /** The planner's estimate of the rows that needed it when this run started, plus those done before. */
  estimatedTotal: number;
  batches: number;
  /** The last primary key value handled (as text). */
  lastKey: string | null;
  finished: boolean;
  resumed: boolean;
  elapsedMs: number;
}

export interface BackfillResult extends BackfillProgress {}

/** The table that remembers where each backfill got to. */
export const BACKFILL_STATE_TABLE = 'knexsafe_backfills';

const PROGRESS_EVENT = Symbol.for('knexsafe.backfill.progress');

type ProgressListener = (progress: BackfillProgress) => void;

/**
 * Progress of every backfill in this process, whichever copy of knexsafe the migration imported:
 * the CLI listens here to draw a progress bar while `latest` runs a `backfill_*` migration.
 * @example
 * const stop = onBackfillProgress((p) => console.log(`${p.table}: ${p.done} / ~${p.estimatedTotal}`));
 * await guardedLatest({ cwd: '/srv/app' });
 * stop();
 */
export function onBackfillProgress(listener: ProgressListener): () => void {
  const g = globalThis as { [PROGRESS_EVENT]?: Set<ProgressListener> };
  const set = (g[PROGRESS_EVENT] ??= new Set());
  set.add(listener);
  return () => set.delete(listener);
}

function emitProgress(progress: BackfillProgress): void {
  const set = (globalThis as { [PROGRESS_EVENT]?: Set<ProgressListener> })[PROGRESS_EVENT];
  for (const listener of set ?? []) {
    try {
      listener(progress);
    } catch {
      // A broken progress display must not stop the backfill.
    }
  }
}

/**
 * Updates `table` in batches of `batchSize` rows walked in primary-key order, each batch in its
 * own short transaction with a lock_timeout, pausing `pauseMs` between batches. The position is
 * saved in `knexsafe_backfills` in the same transaction as each batch, so after a crash (or a
 * deploy that stops it) running it again resumes after the last committed batch. Use it from a
 * migration with `config = { transaction: false }`: inside one transaction nothing would be
 * committed until the end, which is the long lock it exists to avoid.
 * @example
 * // migrations/20240103000000_backfill_users_email.js
 * import { backfill } from 'knexsafe';
 * export const config = { transaction: false };
 * export async function up(knex) {
 *   await backfill(knex, { table: 'users', set: { email_verified: false }, where: { email_verified: null }, batchSize: 5000 });
 * }
 */
export async function backfill(knex: Knex, options: BackfillOptions): Promise<BackfillResult> {
  const started = performance.now();
  if ((knex as { isTransaction?: boolean }).isTransaction) {
    throw new KnexsafeError(
      'BACKFILL_IN_TRANSACTION',
      `backfill(${options.table}) was given a transaction: its batches could not commit one by one, and every row would stay locked until the migration ends.`,
      {
        hint: 'Add `exports.config = { transaction: false };` (or `export const config = { transaction: false };`) to the migration that calls backfill.',
      },
    );
  }
  const batchSize = options.batchSize ?? 1000;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new KnexsafeError('BAD_OPTION', `backfill batchSize must be a positive integer, not ${String(options.batchSize)}.`);
  if (!options.set || Object.keys(options.set).length === 0) throw new KnexsafeError('BAD_OPTION', 'backfill needs `set`: the columns to update and their values.');
  const name = options.name ?? defaultName(knex, options);
  const key = await primaryKeyOf(knex, options.table);
  await ensureStateTable(knex);

  // A row here means an earlier run stopped half-way: carry on after its last committed batch.
  // Finished backfills delete their row, so running the migration again (after a rollback) redoes it.
  const state = (await knex(BACKFILL_STATE_TABLE).where({ name }).first()) as StateRow | undefined;
  const resumed = state !== undefined && state.last_key !== null;
  if (!state) {
    await knex(BACKFILL_STATE_TABLE).insert({ name, table_name: options.table, last_key: null, rows_done: 0, batches: 0 }).onConflict('name').ignore();
  }
  let lastKey: string | null = state?.last_key ?? null;
  let done = Number(state?.rows_done ?? 0);
  let batches = Number(state?.batches ?? 0);
  const estimate = done + (await estimateRows(knex, options, key, lastKey));
  let ranBatches = 0;

  for (;;) {
    if (options.maxBatches !== undefined && ranBatches >= options.maxBatches) break;
    const updated = await runBatch(knex, options, key, lastKey, batchSize, name);
    ranBatches++;
    if (updated.count > 0) {
      lastKey = updated.lastKey;
      done += updated.count;
      batches++;
    }
    const finished = updated.scanned < batchSize;
    const progress: BackfillProgress = {
      name,
      table: options.table,
      done,
      estimatedTotal: Math.max(estimate, done),
      batches,
      lastKey,
      finished,
      resumed,
      elapsedMs: performance.now() - started,
    };
    options.onProgress?.(progress);
    emitProgress(progress);
    if (finished) {
      await knex(BACKFILL_STATE_TABLE).where({ name }).del();
      return progress;
    }
    if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
  }
  return { name, table: options.table, done, estimatedTotal: Math.max(estimate, done), batches, lastKey, finished: false, resumed, elapsedMs: performance.now() - started };
}

interface StateRow {
  name: string;
  last_key: string | null;
  rows_done: string | number;
  batches: string | number;
}

function defaultName(knex: Knex, options: BackfillOptions): string {
  const where = options.where === undefined ? '' : typeof options.where === 'function' ? options.where.toString() : isRaw(options.where) ? options.where.toString() : JSON.stringify(options.where);
  const set = Object.entries(options.set)
    .map(([k, v]) => `${k}=${isRaw(v) ? (v as Knex.Raw).toString() : JSON.stringify(v)}`)
    .join(',');
  void knex;
  const hash = createHash('sha256').update(`${options.table}\n${set}\n${where}`).digest('hex').slice(0, 12);
  return `${options.table}:${hash}`;
}

function isRaw(value: unknown): value is Knex.Raw {
  return Boolean(value && typeof value === 'object' && (value as { isRawInstance?: boolean }).isRawInstance);
}

async function ensureStateTable(knex: Knex): Promise<void> {
  await knex
    .raw(
      `create table if not exists ?? (
    name text primary key,
    table_name text not null,
    last_key text,
    rows_done bigint not null default 0,
    batches integer not null default 0,
    started_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  )`,
      [BACKFILL_STATE_TABLE],
    )
    .catch(async (error: unknown) => {
      // Two backfills creating it at once: the loser sees a unique violation on pg_type; it exists now.
      if (sqlState(error) !== '23505' && sqlState(error) !== '42P07') throw error;
    });
}

interface KeyInfo {
  column: string;
  /** SQL type, to compare the saved text position with the key (`id > '41'::bigint`). */
  type: string;
}

async function primaryKeyOf(knex: Knex, table: string): Promise<KeyInfo> {
  const result = (await knex.raw(
    `select a.attname as column, pg_catalog.format_type(a.atttypid, a.atttypmod) as type, array_length(i.indkey::int2[], 1) as n
       from pg_catalog.pg_index i join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
      where i.indrelid = pg_catalog.to_regclass(?) and i.indisprimary`,
    [table],
  )) as { rows: { column: string; type: string; n: number }[] };
  const row = result.rows[0];
  if (!row) {
    const exists = ((await knex.raw('select pg_catalog.to_regclass(?) is not null as e', [table])) as { rows: { e: boolean }[] }).rows[0]?.e;
    throw new KnexsafeError(
      exists ? 'BACKFILL_NO_PRIMARY_KEY' : 'BACKFILL_NO_TABLE',
      exists ? `backfill walks ${table} by its primary key, and it has none.` : `backfill: the table ${table} does not exist.`,
      { hint: exists ? 'Add a primary key (or batch by hand with a unique, indexed column).' : 'Check the table name (and schema).' },
    );
  }
  if (row.n !== 1) {
    throw new KnexsafeError('BACKFILL_COMPOSITE_KEY', `backfill walks ${table} by a single-column primary key; its key has ${row.n} columns.`, {
      hint: 'Batch by hand over the key columns, or add a single-column unique key.',
    });
  }
  return { column: row.column, type: row.type };
}

function applyWhere(builder: Knex.QueryBuilder, where: BackfillOptions['where']): void {
  if (where === undefined) return;
  if (typeof where === 'function') builder.where(where as (b: Knex.QueryBuilder) => void);
  else if (isRaw(where)) builder.whereRaw(where as Knex.Raw);
  else builder.where(where as Record<string, unknown>);
}

async function estimateRows(knex: Knex, options: BackfillOptions, key: KeyInfo, lastKey: string | null): Promise<number> {
  const query = knex(options.table).select(key.column);
  applyWhere(query, options.where);
  if (lastKey !== null) query.whereRaw(`?? > ?::${key.type}`, [key.column, lastKey]);
  try {
    const { sql, bindings } = query.toSQL();
    const result = (await knex.raw(`explain (format json) ${sql}`, bindings as Knex.RawBinding[])) as { rows: { 'QUERY PLAN': { Plan: { 'Plan Rows': number } }[] }[] };
    return Math.round(result.rows[0]?.['QUERY PLAN'][0]?.Plan['Plan Rows'] ?? 0);
  } catch {
    return 0;
  }
}

async function runBatch(
  knex: Knex,
  options: BackfillOptions,
  key: KeyInfo,
  lastKey: string | null,
  batchSize: number,
  name: string,
): Promise<{ count: number; scanned: number; lastKey: string | null }> {
  const retries = options.retries ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await knex.transaction(async (trx) => {
        await trx.raw(`select pg_catalog.set_config('lock_timeout', ?, true)`, [`${options.lockTimeoutMs ?? 5000}ms`]);
        // The next batch of keys still to do, in key order, from where the last committed batch stopped.
        const keys = trx(options.table).select(key.column).orderBy(key.column).limit(batchSize).forUpdate();
        applyWhere(keys, options.where);
        if (lastKey !== null) keys.whereRaw(`?? > ?::${key.type}`, [key.column, lastKey]);
        const picked = (await keys) as Record<string, unknown>[];
        if (picked.length === 0) return { count: 0, scanned: 0, lastKey };
        const ids = picked.map((r) => r[key.column]);
        const count = Number(
          await trx(options.table)
            .whereIn(key.column, ids as Knex.Value[])
            .update(options.set),
        );
        const last = String(ids[ids.length - 1]);
        await trx(BACKFILL_STATE_TABLE)
          .where({ name })
          .update({ last_key: last, rows_done: trx.raw('rows_done + ?', [count]), batches: trx.raw('batches + 1'), updated_at: trx.fn.now() });
        return { count, scanned: picked.length, lastKey: last };
      });
    } catch (error) {
      const state = sqlState(error);
      if ((state === '55P03' || state === '40P01') && attempt < retries) {
        await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5000)));
        continue;
      }
      if (error instanceof KnexsafeError) throw error;
      throw new KnexsafeError('BACKFILL_FAILED', `backfill of ${options.table} failed after ${name} reached key ${lastKey ?? '(start)'}: ${errorMessage(error)}`, {
        exitCode: 1,
        cause: error,
        hint: 'Fix the cause and run it again: it resumes after the last committed batch.',
      });
    }
  }
}
