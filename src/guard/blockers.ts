/** A session that blocked a migration's lock request, read from pg_locks × pg_stat_activity. */
export interface BlockingSession {
  pid: number;
  application: string | null;
  user: string | null;
  clientAddress: string | null;
  state: string | null;
  transactionStart: string | null;
  queryStart: string | null;
  query: string | null;
  /** The relation the migration waited for, and the lock modes the blocker holds on it. */
  relation: string | null;
  wantedMode: string | null;
  heldModes: string | null;
}

/**
 * Who blocks backend `$1`: pg_blocking_pids (hard blockers and sessions queued ahead of it), with
 * what the waiter wants (its ungranted pg_locks row) and what each blocker holds on the same object.
 */
export const BLOCKERS_SQL = `
with waiting as (
  select locktype, relation, mode from pg_catalog.pg_locks where pid = $1 and not granted limit 1
)
select a.pid, a.application_name, a.usename::text as usename, a.client_addr::text as client_addr, a.state,
       a.xact_start, a.query_start, left(a.query, 500) as query,
       (select w.relation::regclass::text from waiting w) as relation,
       (select w.mode from waiting w) as wanted_mode,
       (select string_agg(distinct l.mode, ', ') from pg_catalog.pg_locks l, waiting w
         where l.pid = a.pid and l.granted and l.locktype = w.locktype
           and l.relation is not distinct from w.relation) as held_modes
from pg_catalog.pg_stat_activity a
where a.pid = any (pg_catalog.pg_blocking_pids($1))
order by a.xact_start nulls last`;

export function toBlockingSession(row: Record<string, unknown>): BlockingSession {
  const text = (v: unknown) => (v === null || v === undefined || v === '' ? null : String(v));
  const time = (v: unknown) => (v instanceof Date ? v.toISOString() : text(v));
  return {
    pid: Number(row.pid),
    application: text(row.application_name),
    user: text(row.usename),
    clientAddress: text(row.client_addr),
    state: text(row.state),
    transactionStart: time(row.xact_start),
    queryStart: time(row.query_start),
    query: text(row.query),
    relation: text(row.relation),
    wantedMode: text(row.wanted_mode),
    heldModes: text(row.held_modes),
  };
}

/** `pid 4242 (application "psql", idle in transaction since 12:00:01Z, query started 12:00:01Z: update orders …) holds RowExclusiveLock on orders` */
export function describeBlocker(b: BlockingSession): string {
  const parts = [`application ${b.application ? `"${b.application}"` : '(none)'}`];
  if (b.user) parts.push(`user ${b.user}`);
  if (b.state) parts.push(b.transactionStart ? `${b.state}, transaction open since ${clock(b.transactionStart)}` : b.state);
  if (b.queryStart) parts.push(`query started ${clock(b.queryStart)}`);
  const query = b.query ? `: ${oneLine(b.query)}` : '';
  const holds = b.heldModes && b.relation ? ` holds ${b.heldModes} on ${b.relation}` : '';
  return `pid ${b.pid} (${parts.join(', ')}${query})${holds}`;
}

function clock(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}…` : flat;
}
