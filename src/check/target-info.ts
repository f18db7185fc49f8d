import type { ProjectConfig } from '../config/resolve.js';
import { readAppliedMigrations } from '../migrations/applied.js';
import type { TableStats } from '../rules/types.js';
import { asKnexsafe } from '../db/internal-queries.js';

export interface TargetInfo {
  description: string;
  applied: string[];
  pgVersion: number;
  stats: Map<string, TableStats>;
}

/**
 * What analysis needs from the user's database, read-only: the applied migrations, the server
 * version and table sizes (row estimates from pg_class, bytes from pg_total_relation_size).
 */
/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function readTargetInfo(...args: Parameters<typeof readTargetInfoOwn>): ReturnType<typeof readTargetInfoOwn> {
  return asKnexsafe(() => readTargetInfoOwn(...args));
}

async function readTargetInfoOwn(project: ProjectConfig): Promise<TargetInfo> {
  // knex and pg load only when there is a target to read.
  const { openTarget } = await import('../db/connect.js');
  const db = await openTarget(project);
  try {
    const applied = ((await readAppliedMigrations(db.knex, project.migrations)) ?? []).map((a) => a.name);
    const version = (await db.knex.raw(`select current_setting('server_version_num')::int as v`)) as { rows: { v: number }[] };
    const rows = (await db.knex.raw(`
      select n.nspname as schema, c.relname as name, greatest(c.reltuples, 0)::float8 as rows,
             pg_total_relation_size(c.oid)::float8 as bytes
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema')
        and n.nspname not like 'pg\\_toast%'`)) as { rows: { schema: string; name: string; rows: number; bytes: number }[] };
    const stats = new Map<string, TableStats>();
    for (const r of rows.rows) stats.set(`${r.schema}.${r.name}`, { rows: Math.round(r.rows), bytes: Math.round(r.bytes) });
    return { description: db.description, applied, pgVersion: Math.floor((version.rows[0]?.v ?? 130000) / 10000), stats };
  } finally {
    await db.close();
  }
}
