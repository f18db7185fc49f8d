import { openEmbeddedDatabase, openServer, type Database } from '../db/connect.js';
import type { QueryObserver } from '../db/dialects.js';
import { EMBEDDED_SHADOW_DESCRIPTION, type ExtensionRequest } from '../db/embedded.js';
import { describeConnection } from '../util/redact.js';
import type { Knex } from 'knex';
import { createShadowDatabase, SHADOW_SETTINGS, shadowConnectionConfig, type ShadowDatabaseReservation } from './server-database.js';
import type { AfterCreate, ShadowSessionSpec } from './session-settings.js';

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
  /** A database already being created on `serverUrl` for this shadow (see ShadowDatabaseReservation). */
  reservation?: ShadowDatabaseReservation;
  /** What the shadow takes over from the user's knexfile (src/shadow/session-settings.ts). */
  session?: ShadowSessionSpec;
  /** statement_timeout on a server shadow's sessions (PGlite ignores it: see src/shadow/watchdog.ts). */
  statementTimeoutMs?: number;
  /** Embedded only: start from a stored state instead of the empty template (src/cache/). */
  seed?: (dataDir: string) => boolean;
}

/** A shadow is thrown away: commits need not wait for the WAL; a statement that never ends is cancelled. */
function sessionSettings(statementTimeoutMs: number | undefined) {
  const sql = `SET synchronous_commit TO off${statementTimeoutMs ? `; SET statement_timeout TO ${Math.round(statementTimeoutMs)}` : ''}`;
  return (connection: { query(sql: string, done: (error: Error | null) => void): void }, done: (error: Error | null, connection: unknown) => void): void => {
    connection.query(sql, (error) => done(error, connection));
  };
}

/** knexsafe's limit for a statement, unless the knexfile's connection sets its own (as the target runs). */
function ownStatementTimeout(options: ShadowOptions): number | undefined {
  return options.session?.settings.some((s) => s.name === 'statement_timeout') ? undefined : options.statementTimeoutMs;
}

/** The knexfile's afterCreate first (as on the target), then ours. */
function afterUserHook(user: AfterCreate | undefined, statementTimeoutMs: number | undefined): AfterCreate {
  const ours = sessionSettings(statementTimeoutMs);
  if (!user) return ours as AfterCreate;
  return (connection, done) => {
    try {
      user(connection, (error) => (error ? done(error, connection) : ours(connection as Parameters<typeof ours>[0], done)));
    } catch (error) {
      done(error as Error, connection);
    }
  };
}

export async function createShadow(options: ShadowOptions = {}): Promise<Shadow> {
  const started = performance.now();
  const shadow = options.serverUrl ? await createServerShadow(options.serverUrl, options, started) : await createEmbeddedShadow(options, started);
  // A server shadow's database arms its own drop on Ctrl-C (src/shadow/server-database.ts), an
  // embedded one's folder its own removal (src/db/embedded.ts), both from the moment they exist:
  // closing knex first would wait for a migration that may never give its connection back.
  return shadow;
}

async function createEmbeddedShadow(options: ShadowOptions, started: number): Promise<Shadow> {
  const db = await openEmbeddedDatabase({
    ...(options.extensions !== undefined ? { extensions: options.extensions } : {}),
    ...(options.seed ? { seed: options.seed } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
    ...(options.searchPath !== undefined ? { searchPath: options.searchPath } : {}),
    ...(options.session ? { knexOptions: options.session.knexOptions, sessionSettings: options.session.settings } : {}),
    ...(options.session?.afterCreate ? { afterCreate: options.session.afterCreate } : {}),
    ...(options.session?.userClient ? { userClient: options.session.userClient } : {}),
  });
  const shadow: Shadow = {
    ...db,
    description: EMBEDDED_SHADOW_DESCRIPTION,
    readyMs: performance.now() - started,
    close: () => db.close(),
  };
  return shadow;
}

async function createServerShadow(serverUrl: string, options: ShadowOptions, started: number): Promise<Shadow> {
  const database = await (options.reservation?.serverUrl === serverUrl ? options.reservation.take() : createShadowDatabase(serverUrl));
  let db: Database;
  try {
    db = await openServer(shadowConnectionConfig(database.url) as Knex.Config['connection'], {
      ...(options.observer ? { observer: options.observer } : {}),
      ...(options.searchPath !== undefined ? { searchPath: options.searchPath } : {}),
      // One connection: a migration's statements and our catalog reads must see the same session.
      // A shadow is thrown away: its commits need not wait for the WAL to reach disk (check commits
      // once per migration, where knex's batch commits once).
      knexOptions: { ...(options.session?.knexOptions ?? {}), pool: { min: 0, max: 2, afterCreate: afterUserHook(options.session?.afterCreate, ownStatementTimeout(options)) } },
      ...(options.session?.settings.length ? { sessionSettings: options.session.settings } : {}),
      ...(options.session?.userClient ? { userClient: options.session.userClient } : {}),
      deferBegin: true,
      settings: SHADOW_SETTINGS,
    });
  } catch (error) {
    await database.drop().catch(() => undefined);
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    ...db,
    description: `shadow database ${database.name} on ${describeConnection(serverUrl).replace(/\/[^/]*$/, '')}`,
    databaseName: database.name,
    readyMs: performance.now() - started,
    close() {
      closing ??= (async () => {
        try {
          await db.close();
        } finally {
          await database.drop();
        }
      })();
      return closing;
    },
  };
}
