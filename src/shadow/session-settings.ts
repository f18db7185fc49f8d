import type { ProjectConfig } from '../config/resolve.js';
import { KnexsafeError, errorMessage } from '../errors.js';

/**
 * What a shadow takes over from the user's knexfile so that migrations run there as they run on
 * the target: the knex options that shape SQL and results (wrapIdentifier, postProcessResponse,
 * useNullAsDefault, …), the session settings the target's connection sets at startup
 * (`options: '-c search_path=app'`, `statement_timeout`, …), and `pool.afterCreate`.
 *
 * Never how to connect: a shadow keeps its own host, user, password and database, and takes no
 * PG* environment variable meant for the target.
 */
export interface ShadowSessionSpec {
  /** knex options passed to the shadow's knex as they are. */
  knexOptions: Record<string, unknown>;
  /** Settings each shadow session gets before anything else, in order (later ones win). */
  settings: SessionSetting[];
  /** The knexfile's `pool.afterCreate`, run on each new shadow session as knex's pool runs it. */
  afterCreate?: AfterCreate;
}

export interface SessionSetting {
  name: string;
  value: string;
  /** Where it comes from, for messages: `connection.options`, `connection.statement_timeout`, … */
  from: string;
}

export type AfterCreate = (connection: unknown, done: (error: Error | null | undefined, connection?: unknown) => void) => void;

/** Options about connecting, pooling and logging: the shadow has its own. `searchPath` is passed on its own. */
const NOT_CARRIED = new Set(['client', 'connection', 'pool', 'migrations', 'seeds', 'knexsafe', 'log', 'debug', 'acquireConnectionTimeout', 'dialect', 'searchPath']);

export function shadowSessionOf(project: Pick<ProjectConfig, 'knexOptions' | 'target'>): ShadowSessionSpec {
  const knexOptions: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(project.knexOptions)) {
    if (!NOT_CARRIED.has(key) && value !== undefined) knexOptions[key] = value;
  }
  const pool = project.knexOptions.pool as { afterCreate?: unknown } | undefined;
  const afterCreate = typeof pool?.afterCreate === 'function' ? (pool.afterCreate as AfterCreate) : undefined;
  const settings = project.target.kind === 'server' ? connectionSettings(project.target.connection) : [];
  return { knexOptions, settings, ...(afterCreate ? { afterCreate } : {}) };
}

/** node-pg's startup parameters that are session settings, under their PostgreSQL names. */
const STARTUP_SETTINGS = ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'application_name', 'client_encoding'] as const;

/**
 * The session settings node-pg sends when it connects with `connection` (a URL or a node-pg
 * config): the `options` switches first, then the named parameters, as PostgreSQL applies them.
 * Only what the configuration says: no PG* environment variable. A connection given as a function
 * (knex calls it per connection) is not called here: it may fetch credentials.
 */
export function connectionSettings(connection: unknown): SessionSetting[] {
  let config: Record<string, unknown> | undefined;
  if (typeof connection === 'string') config = urlParameters(connection);
  else if (connection && typeof connection === 'object') {
    const object = connection as Record<string, unknown>;
    // node-pg reads the parameters in a connectionString over the object's own.
    config = { ...object, ...(typeof object.connectionString === 'string' ? urlParameters(object.connectionString) : {}) };
  }
  if (!config) return [];
  const settings: SessionSetting[] = [];
  if (typeof config.options === 'string') settings.push(...parseStartupOptions(config.options).map((s) => ({ ...s, from: 'connection.options' })));
  for (const name of STARTUP_SETTINGS) {
    const value = config[name];
    if (value === undefined || value === null || value === false || value === '') continue;
    // node-pg sends timeouts as whole milliseconds.
    const text = name.endsWith('_timeout') ? String(parseInt(String(value), 10)) : String(value);
    settings.push({ name, value: text, from: `connection.${name}` });
  }
  return settings;
}

function urlParameters(url: string): Record<string, unknown> {
  try {
    const parsed = new URL(url);
    const out: Record<string, unknown> = {};
    for (const name of ['options', ...STARTUP_SETTINGS]) {
      const value = parsed.searchParams.get(name);
      if (value !== null) out[name] = value;
    }
    return out;
  } catch {
    return {};
  }
}

/**
 * The `-c name=value` / `--name=value` switches of a libpq `options` string: words split at
 * white space unless escaped with a backslash, dashes in names read as underscores (PostgreSQL's
 * own reading). Other switches are not session settings and are left out.
 */
export function parseStartupOptions(options: string): { name: string; value: string }[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < options.length; i++) {
    const c = options[i]!;
    if (c === '\\' && i + 1 < options.length) {
      word += options[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  const out: { name: string; value: string }[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let assignment: string | undefined;
    if (w === '-c') assignment = words[++i];
    else if (w.startsWith('-c')) assignment = w.slice(2);
    else if (w.startsWith('--')) assignment = w.slice(2);
    const eq = assignment?.indexOf('=') ?? -1;
    if (assignment === undefined || eq <= 0) continue;
    out.push({ name: assignment.slice(0, eq).replace(/-/g, '_'), value: assignment.slice(eq + 1) });
  }
  return out;
}

type Query = (sql: string, params: unknown[]) => Promise<unknown>;

/**
 * Sets `settings` on a new session. A setting only a server start or a new connection may change
 * (55P02) is left as it is; any other rejection is the knexfile's: the target would refuse to
 * connect with it just the same.
 */
export async function applySessionSettings(query: Query, settings: readonly SessionSetting[]): Promise<void> {
  for (const s of settings) {
    try {
      await query('select pg_catalog.set_config($1, $2, false)', [s.name, s.value]);
    } catch (error) {
      if ((error as { code?: string }).code === '55P02') continue;
      throw new KnexsafeError('BAD_SESSION_SETTING', `The knexfile's ${s.from} sets ${s.name} = '${s.value}', which PostgreSQL rejects: ${errorMessage(error)}.`, {
        hint: 'The target would refuse this connection setting too: fix it in the knexfile.',
        cause: error,
      });
    }
  }
}

/** Runs a knex-style `pool.afterCreate` hook and waits for it to call back. */
export function runAfterCreate(afterCreate: AfterCreate, connection: unknown): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    try {
      afterCreate(connection, (error) => (error ? reject(afterCreateFailed(error)) : resolve()));
    } catch (error) {
      reject(afterCreateFailed(error));
    }
  });
}

function afterCreateFailed(error: unknown): KnexsafeError {
  return new KnexsafeError('AFTER_CREATE_FAILED', `The knexfile's pool.afterCreate failed on the shadow: ${errorMessage(error)}`, {
    hint: 'knexsafe runs pool.afterCreate on every shadow session, as knex runs it on every connection to the target.',
    cause: error,
  });
}

/**
 * An in-process PGlite seen as the node-pg client `pool.afterCreate` hooks are written for:
 * `query(text, [values], [callback])`, callback or promise. Without values the text goes as one
 * simple query (several statements allowed), as node-pg sends it.
 */
export function nodePgLikeConnection(pglite: { query(sql: string, params?: unknown[]): Promise<unknown>; exec(sql: string): Promise<unknown[]> }): unknown {
  const normalize = (r: unknown) => {
    const result = r as { rows?: unknown[]; affectedRows?: number; fields?: unknown[] } | undefined;
    return { rows: result?.rows ?? [], rowCount: result?.affectedRows ?? result?.rows?.length ?? 0, fields: result?.fields ?? [] };
  };
  return {
    query(text: string | { text: string; values?: unknown[] }, values?: unknown[] | ((e: Error | null, r?: unknown) => void), callback?: (e: Error | null, r?: unknown) => void) {
      if (typeof values === 'function') {
        callback = values;
        values = undefined;
      }
      const sql = typeof text === 'string' ? text : text.text;
      const params = (values as unknown[] | undefined) ?? (typeof text === 'object' ? text.values : undefined);
      const running = (params?.length ? pglite.query(sql, params) : pglite.exec(sql).then((results) => results[results.length - 1])).then(normalize);
      if (!callback) return running;
      const cb = callback;
      running.then(
        (r) => cb(null, r),
        (e: Error) => cb(e),
      );
      return undefined;
    },
  };
}
