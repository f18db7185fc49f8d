import type { Knex } from 'knex';
import type { ProjectConfig } from '../config/resolve.js';
import { openServer, type Database } from '../db/connect.js';

import { ADVISORY_LOCK_CLASS, advisoryLockName } from '../migrations/sessions.js';

// Defined beside the session reading that recognises the lock (below guard); exported here as before.
export { ADVISORY_LOCK_CLASS, advisoryLockName };

/** The session that holds knexsafe's run lock, as pg_locks × pg_stat_activity show it. */
export interface LockHolder {
  pid: number;
  application: string | null;
  clientAddress: string | null;
  backendStart: string | null;
  state: string | null;
  query: string | null;
}

/**
 * SQL listing the holders of knexsafe's run lock for a history table (`$1` = advisoryLockName) in
 * this database: advisory locks are per database, and other databases of the server hold the same
 * key for their own `knex_migrations`.
 */
export const LOCK_HOLDERS_SQL = `
select a.pid, a.application_name, a.client_addr::text as client_addr, a.backend_start, a.state, left(a.query, 300) as query
  from pg_catalog.pg_locks l join pg_catalog.pg_stat_activity a on a.pid = l.pid
 where l.locktype = 'advisory' and l.granted and l.classid = ${ADVISORY_LOCK_CLASS}::oid
   and l.objid = pg_catalog.hashtext($1)::oid and l.objsubid = 2
   and l.database = (select oid from pg_catalog.pg_database where datname = current_database())`;

interface RawPgClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  processID?: number;
}

/**
 * A session of its own on the target server, held for the whole guarded run: it holds knexsafe's
 * advisory run lock (so a second `knexsafe latest` fails at once with the holder named, and the
 * lock goes away with the session if the process dies), and it watches pg_stat_activity for the
 * sessions blocking a migration.
 */
export class ControlSession {
  private locked = false;

  private constructor(
    private readonly db: Database,
    private readonly conn: RawPgClient,
    readonly lockName: string,
  ) {}

  static async open(project: ProjectConfig, applicationName: string): Promise<ControlSession | undefined> {
    if (project.target.kind !== 'server') return undefined;
    const pool = (project.knexOptions.pool as Record<string, unknown> | undefined) ?? {};
    const db = await openServer(project.target.connection, { knexOptions: { ...project.knexOptions, pool: { ...pool, min: 0, max: 1 } } });
    try {
      const client = db.knex.client as { acquireConnection(): Promise<RawPgClient> };
      const conn = await client.acquireConnection();
      await conn.query(`select pg_catalog.set_config('application_name', $1, false)`, [applicationName.slice(0, 63)]);
      return new ControlSession(db, conn, advisoryLockName(project));
    } catch (error) {
      await db.close();
      throw error;
    }
  }

  async query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    return (await this.conn.query(sql, params)).rows;
  }

  /** pg_try_advisory_lock: true when this run may go ahead. */
  async tryLock(): Promise<boolean> {
    const rows = await this.query(`select pg_catalog.pg_try_advisory_lock(${ADVISORY_LOCK_CLASS}, pg_catalog.hashtext($1)) as ok`, [this.lockName]);
    this.locked = rows[0]?.ok === true;
    return this.locked;
  }

  async holders(): Promise<LockHolder[]> {
    const rows = await this.query(LOCK_HOLDERS_SQL, [this.lockName]);
    const text = (v: unknown) => (v === null || v === undefined || v === '' ? null : v instanceof Date ? v.toISOString() : String(v));
    return rows.map((r) => ({
      pid: Number(r.pid),
      application: text(r.application_name),
      clientAddress: text(r.client_addr),
      backendStart: text(r.backend_start),
      state: text(r.state),
      query: text(r.query),
    }));
  }

  async close(): Promise<void> {
    try {
      if (this.locked) await this.query(`select pg_catalog.pg_advisory_unlock(${ADVISORY_LOCK_CLASS}, pg_catalog.hashtext($1))`, [this.lockName]).catch(() => undefined);
      await (this.db.knex.client as { releaseConnection(c: unknown): Promise<void> }).releaseConnection(this.conn);
    } finally {
      await this.db.close();
    }
  }

  get knex(): Knex {
    return this.db.knex;
  }
}
