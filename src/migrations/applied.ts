import type { Knex } from 'knex';
import type { MigrationSettings } from '../config/resolve.js';
import { asKnexsafe } from '../db/internal-queries.js';

export interface AppliedMigration {
  /** knex's row id (a migration applied again gets a new one). */
  id?: number;
  name: string;
  batch: number;
  appliedAt: Date | null;
}

export interface LockState {
  exists: boolean;
  isLocked: boolean;
}

/**
 * Reads knex's history table without creating it: analysis commands must never write to the
 * target, and knex's own `list()` creates the tables as a side effect.
 */
/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function readAppliedMigrations(...args: Parameters<typeof readAppliedMigrationsOwn>): ReturnType<typeof readAppliedMigrationsOwn> {
  return asKnexsafe(() => readAppliedMigrationsOwn(...args));
}

async function readAppliedMigrationsOwn(knex: Knex, settings: Pick<MigrationSettings, 'tableName' | 'schemaName'>): Promise<AppliedMigration[] | undefined> {
  if (!(await tableExists(knex, settings.tableName, settings.schemaName))) return undefined;
  const table = settings.schemaName ? `${settings.schemaName}.${settings.tableName}` : settings.tableName;
  return (await selectHistoryRows(knex, table)).map((r) => ({ id: r.id, name: r.name, batch: r.batch, appliedAt: r.migrationTime }));
}

/** The rows of knex's history table `table` (schema-qualified when it has a schema), oldest first. */
export async function selectHistoryRows(knex: Knex, table: string): Promise<{ id: number; name: string; batch: number; migrationTime: Date | null }[]> {
  const rows = (await knex.select('id', 'name', 'batch', 'migration_time').from(table).orderBy('id')) as {
    id: number;
    name: string;
    batch: number;
    migration_time: Date | string | null;
  }[];
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    batch: Number(r.batch),
    migrationTime: r.migration_time === null ? null : new Date(r.migration_time),
  }));
}

/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function readLockState(...args: Parameters<typeof readLockStateOwn>): ReturnType<typeof readLockStateOwn> {
  return asKnexsafe(() => readLockStateOwn(...args));
}

async function readLockStateOwn(knex: Knex, settings: Pick<MigrationSettings, 'tableName' | 'schemaName'>): Promise<LockState> {
  const lockTable = `${settings.tableName}_lock`;
  if (!(await tableExists(knex, lockTable, settings.schemaName))) return { exists: false, isLocked: false };
  const table = settings.schemaName ? `${settings.schemaName}.${lockTable}` : lockTable;
  const rows = (await knex.select('is_locked').from(table)) as { is_locked: number }[];
  return { exists: true, isLocked: rows.some((r) => Number(r.is_locked) === 1) };
}

/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function tableExists(...args: Parameters<typeof tableExistsOwn>): ReturnType<typeof tableExistsOwn> {
  return asKnexsafe(() => tableExistsOwn(...args));
}

async function tableExistsOwn(knex: Knex, table: string, schema: string | undefined): Promise<boolean> {
  const result = (await knex.raw(
    schema ? 'select 1 from pg_catalog.pg_tables where tablename = ? and schemaname = ?' : 'select 1 from pg_catalog.pg_tables where tablename = ? and schemaname = any (current_schemas(false))',
    schema ? [table, schema] : [table],
  )) as { rows: unknown[] };
  return result.rows.length > 0;
}
