import type { Knex } from 'knex';
import type { MigrationSettings, ProjectConfig } from '../config/resolve.js';
import { ensureParser, parseSqlSync, statementKind } from '../sql/parse.js';
import { relationName, walk } from '../sql/ast.js';
import type { RangeVar } from 'libpg-query';
import { asKnexsafe } from '../db/internal-queries.js';

/** First key of knexsafe's advisory lock: the bytes of "knxs". The second is hashtext('<schema>.<table>'). */
export const ADVISORY_LOCK_CLASS = 0x6b6e7873;

/** The text whose hashtext() is the second key, for knex's history table of `project`. */
export function advisoryLockName(project: Pick<ProjectConfig, 'migrations'>): string {
  return `${project.migrations.schemaName ?? 'public'}.${project.migrations.tableName}`;
}

/** Another session of the target database, as pg_stat_activity shows it. */
export interface SessionInfo {
  pid: number;
  user: string | null;
  application: string | null;
  client: string | null;
  /** active, idle in transaction, … */
  state: string | null;
  /** Seconds since the current statement (active) or the last one started. */
  querySeconds: number | null;
  /** Seconds since its transaction started, when it is in one. */
  transactionSeconds: number | null;
  waitEvent: string | null;
  /** The current or last statement, cut to 300 characters; `<insufficient privilege>` when we may not see it. */
  query: string | null;
  /** Locks it holds (or waits for) on knex's tables, e.g. `RowExclusiveLock on knex_migrations_lock`, and knexsafe's run lock. */
  knexLocks: string[];
  /** The migration file a knexsafe run is executing in this session (application_name `knexsafe:<file>`). */
  migration?: string;
}

export interface MigrationActivity {
  /** Sessions holding or awaiting a lock on knex's tables: a migration batch is inside its transaction. */
  holders: SessionInfo[];
  /** Non-idle sessions whose current statement reads or writes knex's tables. */
  touching: SessionInfo[];
  /** Sessions running a schema change right now (DDL, outside knex's tables). */
  changingSchema: SessionInfo[];
  /** Every other non-idle client session of this database (the rest), for evidence. */
  busy: SessionInfo[];
  /** True when pg_stat_activity hid other users' statements from us (no pg_read_all_stats). */
  queriesHidden: boolean;
}

interface ActivityRow {
  pid: number;
  usename: string | null;
  application_name: string | null;
  client_addr: string | null;
  state: string | null;
  query_seconds: number | null;
  xact_seconds: number | null;
  wait_event: string | null;
  query: string | null;
  knex_locks: string[] | null;
  run_lock: boolean;
}

const ACTIVITY_SQL = `
  select a.pid, a.usename, a.application_name, a.client_addr::text as client_addr, a.state,
         extract(epoch from now() - a.query_start)::float8 as query_seconds,
         extract(epoch from now() - a.xact_start)::float8 as xact_seconds,
         a.wait_event_type || ':' || a.wait_event as wait_event,
         a.query,
         (select array_agg(l.mode || case when l.granted then '' else ' (waiting)' end || ' on ' || c.relname order by c.relname, l.mode)
            from pg_catalog.pg_locks l join pg_catalog.pg_class c on c.oid = l.relation
           where l.pid = a.pid and l.database = (select oid from pg_catalog.pg_database where datname = current_database())
             and c.relname in (?, ?) and c.relnamespace in (select n.oid from pg_catalog.pg_namespace n where n.nspname = any (current_schemas(false)) or n.nspname = ?)) as knex_locks,
         exists (select 1 from pg_catalog.pg_locks l
                  where l.pid = a.pid and l.locktype = 'advisory' and l.granted and l.classid = ${ADVISORY_LOCK_CLASS}::oid
                    and l.objid = pg_catalog.hashtext(?)::oid and l.objsubid = 2) as run_lock
    from pg_catalog.pg_stat_activity a
   where a.datname = current_database() and a.pid <> pg_catalog.pg_backend_pid()
     and (a.backend_type = 'client backend' or a.backend_type is null)
   order by a.pid`;

/** application_name of a session running a migration under `knexsafe latest` (src/guard): `knexsafe:<file>`. */
const MIGRATION_APPLICATION = /^knexsafe[^:]*:(.+\.(?:[cm]?[jt]s|coffee))$/;

/** Statement kinds that only read or write rows: anything else run by another session is a schema change. */
const ROW_STATEMENTS = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'VariableSetStmt',
  'VariableShowStmt',
  'TransactionStmt',
  'ExplainStmt',
  'CopyStmt',
  'PrepareStmt',
  'ExecuteStmt',
  'DeallocateStmt',
  'ListenStmt',
  'NotifyStmt',
  'UnlistenStmt',
  'LockStmt',
  'DeclareCursorStmt',
  'FetchStmt',
  'ClosePortalStmt',
  'DiscardStmt',
  'CallStmt',
  'DoStmt',
  'CheckPointStmt',
  'VacuumStmt',
]);

/**
 * Who is migrating right now, read-only: pg_locks on knex's two tables (a batch running in one
 * transaction holds them until it ends) and pg_stat_activity (a batch without a transaction holds
 * nothing between statements; its statements are seen running).
 */
/** knexsafe's own read (see asKnexsafe): the knexfile's identifier and response hooks stay out of it. */
export function readMigrationActivity(...args: Parameters<typeof readMigrationActivityOwn>): ReturnType<typeof readMigrationActivityOwn> {
  return asKnexsafe(() => readMigrationActivityOwn(...args));
}

async function readMigrationActivityOwn(knex: Knex, settings: Pick<MigrationSettings, 'tableName' | 'schemaName'>): Promise<MigrationActivity> {
  const tables = [settings.tableName, `${settings.tableName}_lock`];
  // With a schemaName knex's tables live there; else wherever the search path finds them.
  const runLock = advisoryLockName({ migrations: settings as MigrationSettings });
  const rows = ((await knex.raw(ACTIVITY_SQL, [tables[0]!, tables[1]!, settings.schemaName ?? '', runLock])) as { rows: ActivityRow[] }).rows;
  await ensureParser().catch(() => undefined);
  const activity: MigrationActivity = { holders: [], touching: [], changingSchema: [], busy: [], queriesHidden: false };
  for (const row of rows) {
    const info: SessionInfo = {
      pid: Number(row.pid),
      user: row.usename,
      application: row.application_name || null,
      client: row.client_addr,
      state: row.state,
      querySeconds: row.query_seconds === null ? null : Math.round(Number(row.query_seconds)),
      transactionSeconds: row.xact_seconds === null ? null : Math.round(Number(row.xact_seconds)),
      waitEvent: row.wait_event,
      query: row.query === null ? null : row.query.length > 300 ? `${row.query.slice(0, 300)}…` : row.query,
      knexLocks: [...(row.knex_locks ?? []), ...(row.run_lock ? ["knexsafe's run lock (advisory)"] : [])],
    };
    const migration = MIGRATION_APPLICATION.exec(row.application_name ?? '')?.[1];
    if (migration) info.migration = migration;
    if (row.query === '<insufficient privilege>') activity.queriesHidden = true;
    if (info.knexLocks.length > 0) {
      activity.holders.push(info);
      continue;
    }
    if (row.state === 'idle' || row.state === null) continue;
    const statement = readStatement(row.query ?? '', tables);
    if (statement.touchesKnexTables) activity.touching.push(info);
    else if (row.state === 'active' && statement.changesSchema) activity.changingSchema.push(info);
    else activity.busy.push(info);
  }
  return activity;
}

function readStatement(sql: string, knexTables: string[]): { touchesKnexTables: boolean; changesSchema: boolean } {
  let parsed;
  try {
    parsed = parseSqlSync(sql);
  } catch {
    // Truncated (track_activity_query_size) or hidden text: nothing can be said about it.
    return { touchesKnexTables: false, changesSchema: false };
  }
  let touches = false;
  let changes = false;
  for (const statement of parsed) {
    if (!ROW_STATEMENTS.has(statementKind(statement.ast))) changes = true;
    walk(statement.ast, (kind, body) => {
      if (kind === 'RangeVar' && knexTables.includes(relationName(body as RangeVar).name)) touches = true;
      // UPDATE / INSERT / DELETE name their table in a plain field, not a RangeVar node.
      const target = body.relation as RangeVar | undefined;
      if (target && typeof target === 'object' && knexTables.includes(relationName(target).name)) touches = true;
    });
  }
  return { touchesKnexTables: touches, changesSchema: changes };
}

/** One line per session, for evidence. */
export function describeSession(s: SessionInfo): string {
  const who = [s.user ? `user ${s.user}` : undefined, s.application ? `application "${s.application}"` : undefined, s.client ? `from ${s.client}` : undefined].filter(Boolean).join(', ');
  const doing =
    s.state === 'active'
      ? `running \`${oneLine(s.query)}\`${s.querySeconds !== null ? ` for ${s.querySeconds} s` : ''}${s.waitEvent ? ` (waiting on ${s.waitEvent})` : ''}`
      : `${s.state ?? 'unknown state'}${s.transactionSeconds !== null ? ` for ${s.transactionSeconds} s in its transaction` : ''}, last statement \`${oneLine(s.query)}\``;
  const locks = s.knexLocks.length ? `; holds ${s.knexLocks.join(', ')}` : '';
  const migration = s.migration ? `; it is running migration ${s.migration}` : '';
  return `pid ${s.pid}${who ? ` (${who})` : ''} ${doing}${locks}${migration}`;
}

function oneLine(text: string | null): string {
  const t = (text ?? '').replace(/\s+/g, ' ').trim();
  return t.length > 120 ? `${t.slice(0, 120)}…` : t;
}

/** Sessions that show a migration is really running (not just other traffic). */
export function runningMigrationSessions(activity: MigrationActivity): SessionInfo[] {
  return [...activity.holders, ...activity.touching, ...activity.changingSchema];
}
