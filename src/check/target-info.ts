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

/** How long `check --all` waits for the target when it only asks for the server version. */
export const VERSION_READ_TIMEOUT_MS = 3_000;

/**
 * The target server's major version, read-only and nothing else: what `check --all` (and check of
 * named migrations), which never asks the target what is pending, needs to give advice for the
 * version the migrations will meet. A short connect timeout: an unreachable target must not hold
 * the check up; the caller falls back to the default version.
 */
export function readTargetVersion(project: ProjectConfig): Promise<number> {
  return asKnexsafe(() => readTargetVersionOwn(project));
}

async function readTargetVersionOwn(project: ProjectConfig): Promise<number> {
  const target = project.target;
  if (target.kind !== 'server') throw new Error('no server target');
  const { openServer } = await import('../db/connect.js');
  const settings = target.source === 'knexfile' ? "the knexfile's connection" : target.source;
  // The knexfile's pool hooks and client class stay out: one catalog read needs none of them.
  const db = await openServer(withTimeout(target.connection, VERSION_READ_TIMEOUT_MS), {
    settings,
    knexOptions: { pool: { min: 0, max: 1 } },
  });
  try {
    const version = (await db.knex.raw(`select current_setting('server_version_num')::int as v`)) as { rows: { v: number }[] };
    const v = version.rows[0]?.v;
    if (!v) throw new Error('the server did not report its version');
    return Math.floor(v / 10000);
  } finally {
    await db.close();
  }
}

function withTimeout(connection: unknown, ms: number): never {
  if (typeof connection === 'string') return { connectionString: connection, connectionTimeoutMillis: ms } as never;
  if (connection && typeof connection === 'object') return { ...(connection as object), connectionTimeoutMillis: ms } as never;
  return connection as never;
}
