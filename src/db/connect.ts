import knexFactory, { type Knex } from 'knex';
import { KnexsafeError } from '../errors.js';
import { explainConnectionError } from './connection-error.js';
import { describeConnection, redactSecrets } from '../util/redact.js';
import type { ProjectConfig } from '../config/resolve.js';
import { KnexsafePgClient, knexsafePgliteClient, withUserClient, type QueryObserver } from './dialects.js';
import { mentionedExtensions, openEmbedded, type ExtensionRequest, type EmbeddedDatabase } from './embedded.js';
import { listMigrationFiles } from '../config/migration-files.js';
import type { AfterCreate, SessionSetting } from '../shadow/session-settings.js';
import fs from 'node:fs';
import { displayPath } from '../util/paths.js';

export { explainConnectionError };

export type DatabaseKind = 'server' | 'embedded';

/** An open knex instance plus what is needed to describe and close it. */
export interface Database {
  knex: Knex;
  kind: DatabaseKind;
  /** For messages: never contains a password. */
  description: string;
  /** Present for embedded databases. */
  embedded?: EmbeddedDatabase;
  close(): Promise<void>;
}

export interface OpenOptions {
  observer?: QueryObserver;
  searchPath?: string | string[];
  /** Extra knex options (pool, ...), as in the knexfile. */
  knexOptions?: Record<string, unknown>;
  /** A disposable database: knex's BEGIN may travel with the statement after it (src/db/dialects.ts). */
  deferBegin?: boolean;
  /** Settings set first on each session (a shadow's copy of the target's connection settings). */
  sessionSettings?: readonly SessionSetting[];
  /** Where the connection came from, for the hint of a failed connection ("DATABASE_URL"). */
  settings?: string;
  /** The knexfile's own client class: what it changes in SQL is taken over (see withUserClient). */
  userClient?: unknown;
}

/**
 * knex logs connection failures and deprecations straight to the console, stack and all; the
 * errors reach the user through our own messages instead.
 */
const quietLog = {
  warn: (message: unknown) => debugLog('warn', message),
  error: (message: unknown) => debugLog('error', message),
  deprecate: (method: unknown, alternative: unknown) => debugLog('deprecate', `${String(method)} → ${String(alternative)}`),
  debug: (message: unknown) => debugLog('debug', message),
};

function debugLog(level: string, message: unknown): void {
  if (process.env.KNEXSAFE_DEBUG === '1') process.stderr.write(`[knex ${level}] ${redactSecrets(String(message))}\n`);
}

export async function openServer(connection: Knex.Config['connection'], options: OpenOptions = {}): Promise<Database> {
  const description = describeConnection(connection);
  const { pool, ...rest } = (options.knexOptions ?? {}) as { pool?: Record<string, unknown> };
  const knex = knexFactory({
    ...rest,
    client: withUserClient(KnexsafePgClient, options.userClient) as unknown as typeof Knex.Client,
    connection: withConnectTimeout(connection),
    pool: { min: 0, max: 4, ...(pool ?? {}) },
    acquireConnectionTimeout: 15_000,
    log: quietLog,
    ...(options.searchPath !== undefined ? { searchPath: options.searchPath } : {}),
    ...(options.observer ? { knexsafeObserver: options.observer } : {}),
    ...(options.deferBegin ? { knexsafeDeferBegin: true } : {}),
    ...(options.sessionSettings?.length ? { knexsafeSessionSettings: options.sessionSettings } : {}),
  } as Knex.Config);
  presentAsPg(knex);
  try {
    await knex.raw('select 1');
  } catch (error) {
    await knex.destroy().catch(() => undefined);
    throw explainConnectionError(error, description, options.settings);
  }
  return { knex, kind: 'server', description, close: () => knex.destroy() };
}

/**
 * Our clients are classes, so knex.client.config.client would be a function; migrations test
 * `knex.client.config.client === 'pg'` (joplin does) to pick PostgreSQL-only SQL. They must see
 * what they see under `npx knex` with client 'pg'.
 */
function presentAsPg(knex: Knex): void {
  const config = knex.client.config as { client?: unknown };
  if (typeof config.client !== 'string') config.client = 'pg';
}

function withConnectTimeout(connection: Knex.Config['connection']): Knex.Config['connection'] {
  // node-postgres waits forever for an unreachable host by default.
  if (typeof connection === 'string') return { connectionString: connection, connectionTimeoutMillis: 10_000 } as Knex.Config['connection'];
  if (connection && typeof connection === 'object' && typeof connection !== 'function') {
    return { connectionTimeoutMillis: 10_000, ...(connection as object) } as Knex.Config['connection'];
  }
  return connection;
}

export interface EmbeddedKnexOptions extends OpenOptions {
  dataDir?: string;
  extensions?: ExtensionRequest;
  /** See EmbeddedOpenOptions.seed (src/db/embedded.ts). */
  seed?: (dataDir: string) => boolean;
  /** Run once on the one PGlite session, as knex's pool runs `pool.afterCreate` on a new connection. */
  afterCreate?: AfterCreate;
}

export async function openEmbeddedDatabase(options: EmbeddedKnexOptions = {}): Promise<Database> {
  const embedded = await openEmbedded({
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
    ...(options.extensions !== undefined ? { extensions: options.extensions } : {}),
    ...(options.seed ? { seed: options.seed } : {}),
  });
  // knex-pglite refuses pool options: it has one session.
  const { pool: _pool, ...rest } = (options.knexOptions ?? {}) as { pool?: unknown };
  void _pool;
  const knex = knexFactory({
    ...rest,
    client: withUserClient(knexsafePgliteClient(), options.userClient) as unknown as typeof Knex.Client,
    dialect: 'postgres',
    log: quietLog,
    connection: { pglite: embedded.pglite } as unknown as Knex.Config['connection'],
    ...(options.searchPath !== undefined ? { searchPath: options.searchPath } : {}),
    ...(options.observer ? { knexsafeObserver: options.observer } : {}),
    ...(options.sessionSettings?.length ? { knexsafeSessionSettings: options.sessionSettings } : {}),
    ...(options.afterCreate ? { knexsafeAfterCreate: options.afterCreate } : {}),
  } as Knex.Config);
  presentAsPg(knex);
  const description = options.dataDir ? `embedded PostgreSQL in ${options.dataDir}` : 'embedded PostgreSQL (in memory)';
  return {
    knex,
    kind: 'embedded',
    description,
    embedded,
    async close() {
      await knex.destroy().catch(() => undefined);
      await embedded.close();
    },
  };
}

/**
 * The user's target database: the one history commands change and analysis commands only read.
 * @example
 * const project = await resolveProject({ cwd: '/srv/app' });
 * const db = await openTarget(project);
 * try {
 *   console.log((await migrationStatus({ db, project })).pending);
 * } finally {
 *   await db.close();
 * }
 */
export async function openTarget(project: ProjectConfig, options: OpenOptions & { extensions?: ExtensionRequest } = {}): Promise<Database> {
  const target = project.target;
  const searchPath = options.searchPath ?? project.searchPath;
  const common = { ...options, ...(searchPath !== undefined ? { searchPath } : {}), ...(project.userClient ? { userClient: project.userClient } : {}) };
  if (target.kind === 'embedded') {
    return openEmbeddedDatabase({
      ...common,
      ...(target.dataDir ? { dataDir: target.dataDir } : {}),
      extensions: options.extensions ?? extensionsMentionedBy(project),
    });
  }
  if (target.kind === 'server') {
    const settings = target.source === 'knexfile' ? `the knexfile's connection${project.knexfile ? ` (${displayPath(project.knexfile)}, environment ${project.env})` : ''}` : target.source;
    return openServer(target.connection, { ...common, knexOptions: project.knexOptions, settings });
  }
  throw new KnexsafeError(
    'NO_CONNECTION',
    project.knexfile
      ? `The knexfile ${project.knexfile} has no connection for environment "${project.env}", and DATABASE_URL is not set.`
      : 'No database to work on: there is no knexfile and DATABASE_URL is not set.',
    { hint: 'Add a connection to the knexfile, set DATABASE_URL, pass --connection <url>, or use --db embedded:<dir> for a local embedded database.' },
  );
}

/** Extensions the project's migrations and seeds mention: what an embedded database must be able to load. */
export function extensionsMentionedBy(project: ProjectConfig): string[] {
  const files: string[] = [];
  try {
    files.push(...listMigrationFiles(project.migrations).map((m) => m.file));
  } catch {
    // A missing migrations folder is reported by the command that needs it.
  }
  for (const dir of project.seeds.directories) {
    if (fs.existsSync(dir)) files.push(...fs.readdirSync(dir).map((f) => `${dir}/${f}`));
  }
  const texts = files.filter((f) => fs.existsSync(f) && fs.statSync(f).isFile()).map((f) => fs.readFileSync(f, 'utf8'));
  return mentionedExtensions(texts);
}
