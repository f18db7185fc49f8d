import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { KnexsafeError } from '../errors.js';
import { openEmbeddedDatabase, openServer, explainConnectionError, type Database } from '../db/connect.js';
import type { QueryObserver } from '../db/dialects.js';
import type { ExtensionRequest } from '../db/embedded.js';
import { describeConnection } from '../util/redact.js';

/**
 * A disposable PostgreSQL for analysis. Embedded PGlite by default (a copy of a cached,
 * initialised data directory); with a server URL, a uniquely named database created on that
 * server and dropped afterwards — also on failure and on Ctrl-C. Never the user's target database.
 */
export interface Shadow extends Database {
  /** The temporary database's name on a server shadow. */
  databaseName?: string;
  /** Time it took to get a ready shadow, for reports and benchmarks. */
  readyMs: number;
}

export interface ShadowOptions {
  /** A PostgreSQL server URL; a new database is created on it for this shadow. */
  serverUrl?: string;
  extensions?: ExtensionRequest;
  observer?: QueryObserver;
  searchPath?: string | string[];
}

const openShadows = new Set<Shadow>();

function relaxCommits(connection: { query(sql: string, done: (error: Error | null) => void): void }, done: (error: Error | null, connection: unknown) => void): void {
  connection.query('SET synchronous_commit TO off', (error) => done(error, connection));
}
let signalHandlersInstalled = false;

function installSignalHandlers(): void {
  if (signalHandlersInstalled) return;
  signalHandlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals) => {
    const pending = [...openShadows].map((s) => s.close().catch(() => undefined));
    void Promise.all(pending).finally(() => {
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

export async function createShadow(options: ShadowOptions = {}): Promise<Shadow> {
  installSignalHandlers();
  const started = performance.now();
  const shadow = options.serverUrl ? await createServerShadow(options.serverUrl, options, started) : await createEmbeddedShadow(options, started);
  openShadows.add(shadow);
  return shadow;
}

async function createEmbeddedShadow(options: ShadowOptions, started: number): Promise<Shadow> {
  const db = await openEmbeddedDatabase({
    ...(options.extensions !== undefined ? { extensions: options.extensions } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.searchPath !== undefined ? { searchPath: options.searchPath } : {}),
  });
  const shadow: Shadow = {
    ...db,
    description: 'embedded shadow PostgreSQL',
    readyMs: performance.now() - started,
    async close() {
      openShadows.delete(shadow);
      await db.close();
    },
  };
  return shadow;
}

/** Opens a knex on the server's maintenance database to create and drop shadow databases. */
function adminKnex(serverUrl: string): Knex {
  return knexFactory({ client: 'pg', connection: { connectionString: serverUrl, connectionTimeoutMillis: 10_000 }, pool: { min: 0, max: 1 } } as Knex.Config);
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

async function createServerShadow(serverUrl: string, options: ShadowOptions, started: number): Promise<Shadow> {
  let parsed: URL;
  try {
    parsed = new URL(serverUrl);
  } catch {
    throw new KnexsafeError('BAD_SHADOW_URL', `--shadow-url must be a postgres:// URL, not "${describeConnection(serverUrl)}".`);
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new KnexsafeError('BAD_SHADOW_URL', `--shadow-url must be a postgres:// URL, not "${describeConnection(serverUrl)}".`);
  }
  const name = `knexsafe_shadow_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = adminKnex(serverUrl);
  try {
    await admin.raw(`create database "${name}"`);
  } catch (error) {
    await admin.destroy().catch(() => undefined);
    if ((error as { code?: string }).code === '42501') {
      throw new KnexsafeError('SHADOW_CREATE_FAILED', `The shadow server ${describeConnection(serverUrl)} does not let this user create databases.`, {
        hint: 'Give the user CREATEDB (ALTER ROLE … CREATEDB) or point --shadow-url at a server where it has it.',
        cause: error,
      });
    }
    throw explainConnectionError(error, `the shadow server ${describeConnection(serverUrl)}`);
  }
  let db: Database;
  try {
    db = await openServer(withDatabase(serverUrl, name), {
      ...(options.observer ? { observer: options.observer } : {}),
      ...(options.searchPath !== undefined ? { searchPath: options.searchPath } : {}),
      // One connection: a migration's statements and our catalog reads must see the same session.
      // A shadow is thrown away: its commits need not wait for the WAL to reach disk (check commits
      // once per migration, where knex's batch commits once).
      knexOptions: { pool: { min: 0, max: 2, afterCreate: relaxCommits } },
    });
  } catch (error) {
    await admin.raw(`drop database if exists "${name}"`).catch(() => undefined);
    await admin.destroy().catch(() => undefined);
    throw error;
  }
  let closed = false;
  const shadow: Shadow = {
    ...db,
    description: `shadow database ${name} on ${describeConnection(serverUrl).replace(/\/[^/]*$/, '')}`,
    databaseName: name,
    readyMs: performance.now() - started,
    async close() {
      if (closed) return;
      closed = true;
      openShadows.delete(shadow);
      try {
        await db.close();
        await admin.raw(`drop database if exists "${name}" with (force)`);
      } finally {
        await admin.destroy().catch(() => undefined);
      }
    },
  };
  return shadow;
}
