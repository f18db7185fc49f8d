import fs from 'node:fs';
import type { Database } from '../db/connect.js';
import { copyFromFile, copyToFile, type PgClientLike } from './copy.js';

/**
 * One session on the target for backing up and restoring: plain queries plus COPY to and from
 * files. On a server it is a pooled node-postgres connection (COPY over the wire protocol); on an
 * embedded database, PGlite's `/dev/blob` COPY device.
 */
export interface CopyChannel {
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Runs a statement and returns how many rows it inserted, updated or deleted. */
  execute(sql: string): Promise<number>;
  /** `COPY <source> TO ... WITH (<options>)` into `file`; `source` is `(select ...)` or a table. */
  copyOut(source: string, options: string, file: string): Promise<number>;
  /** `COPY <target> FROM ... WITH (<options>)` from `file`. */
  copyIn(target: string, options: string, file: string): Promise<number>;
  release(): Promise<void>;
}

interface PgRawClient extends PgClientLike {
  query(sql: string | object, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> | unknown;
}

interface PgliteLike {
  query(sql: string, params?: unknown[], options?: { blob?: Blob }): Promise<{ rows: Record<string, unknown>[]; blob?: Blob; affectedRows?: number }>;
}

export async function openCopyChannel(db: Database): Promise<CopyChannel> {
  if (db.kind === 'embedded' && db.embedded) {
    const pglite = db.embedded.pglite as unknown as PgliteLike;
    return {
      query: async (sql, params = []) => (await pglite.query(sql, params)).rows,
      execute: async (sql) => (await pglite.query(sql)).affectedRows ?? 0,
      async copyOut(source, options, file) {
        const result = await pglite.query(`COPY ${source} TO '/dev/blob' WITH (${options})`);
        const bytes = result.blob ? Buffer.from(await result.blob.arrayBuffer()) : Buffer.alloc(0);
        fs.writeFileSync(file, bytes, { mode: 0o600 });
        return result.affectedRows ?? 0;
      },
      async copyIn(target, options, file) {
        const result = await pglite.query(`COPY ${target} FROM '/dev/blob' WITH (${options})`, [], { blob: new Blob([fs.readFileSync(file)]) });
        return result.affectedRows ?? 0;
      },
      release: async () => undefined,
    };
  }
  const client = db.knex.client as { acquireConnection(): Promise<PgRawClient>; releaseConnection(c: unknown): Promise<void> };
  const conn = await client.acquireConnection();
  return {
    query: async (sql, params = []) => (await (conn.query(sql, params) as Promise<{ rows: Record<string, unknown>[] }>)).rows ?? [],
    execute: async (sql) => (await (conn.query(sql) as Promise<{ rowCount: number | null }>)).rowCount ?? 0,
    copyOut: (source, options, file) => copyToFile(conn, `COPY ${source} TO STDOUT WITH (${options})`, file),
    copyIn: (target, options, file) => copyFromFile(conn, `COPY ${target} FROM STDIN WITH (${options})`, file),
    release: () => client.releaseConnection(conn),
  };
}
