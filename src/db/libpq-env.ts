/**
 * Connection settings for a libpq child process (pg_dump), as environment variables: PGHOST,
 * PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE… read from the knex connection (a URL or a
 * node-postgres connection object). A process's command line is readable by every local user
 * (`ps`); its environment only by its owner. So nothing about the connection — the password above
 * all — ever goes on a child's argv: the child connects from this environment alone.
 */

/** libpq connection keywords (as in a URL's query) and the environment variable each reads. */
const KEYWORD_ENV: Record<string, string> = {
  host: 'PGHOST',
  hostaddr: 'PGHOSTADDR',
  port: 'PGPORT',
  dbname: 'PGDATABASE',
  user: 'PGUSER',
  password: 'PGPASSWORD',
  passfile: 'PGPASSFILE',
  service: 'PGSERVICE',
  options: 'PGOPTIONS',
  application_name: 'PGAPPNAME',
  sslmode: 'PGSSLMODE',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslrootcert: 'PGSSLROOTCERT',
  sslcrl: 'PGSSLCRL',
  sslcompression: 'PGSSLCOMPRESSION',
  sslsni: 'PGSSLSNI',
  ssl_min_protocol_version: 'PGSSLMINPROTOCOLVERSION',
  ssl_max_protocol_version: 'PGSSLMAXPROTOCOLVERSION',
  requirepeer: 'PGREQUIREPEER',
  gssencmode: 'PGGSSENCMODE',
  krbsrvname: 'PGKRBSRVNAME',
  channel_binding: 'PGCHANNELBINDING',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  client_encoding: 'PGCLIENTENCODING',
};

/**
 * Settings in the parent's environment that node-postgres ignores but libpq would follow: left
 * in, the child could connect somewhere other than where knex did.
 */
const NOT_READ_BY_NODE_PG = ['PGHOSTADDR', 'PGSERVICE', 'PGSERVICEFILE'];

export type LibpqEnvironment = { ok: true; env: Record<string, string> } | { ok: false; reason: string };

/**
 * The environment for a libpq child connecting where `connection` points: the parent's
 * environment plus the connection's settings (which win over inherited PG* variables).
 */
export async function libpqEnvironment(connection: unknown, base: NodeJS.ProcessEnv = process.env): Promise<LibpqEnvironment> {
  const settings = await connectionSettings(connection);
  if (!settings.ok) return settings;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) if (value !== undefined && !NOT_READ_BY_NODE_PG.includes(key)) env[key] = value;
  return { ok: true, env: { ...env, ...settings.env } };
}

/** Only the PG* variables a connection sets (no inherited ones). */
export async function connectionSettings(connection: unknown): Promise<LibpqEnvironment> {
  if (typeof connection === 'string') return fromUrl(connection);
  if (typeof connection === 'function') return { ok: false, reason: 'the connection is a function, which cannot be handed to pg_dump' };
  if (!connection || typeof connection !== 'object') return { ok: false, reason: 'there is no connection to hand to pg_dump' };
  const c = connection as Record<string, unknown>;
  const env: Record<string, string> = {};
  // node-postgres: a connectionString's settings win over the object's own fields.
  const set = (name: string, value: unknown) => {
    if ((typeof value === 'string' && value !== '') || typeof value === 'number') env[name] = String(value);
  };
  set('PGHOST', c.host);
  set('PGPORT', c.port);
  set('PGUSER', c.user);
  set('PGDATABASE', c.database);
  set('PGAPPNAME', c.application_name);
  set('PGOPTIONS', c.options);
  set('PGCLIENTENCODING', c.client_encoding);
  const password = typeof c.password === 'function' ? await (c.password as () => unknown)() : c.password;
  set('PGPASSWORD', password);
  const ssl = sslMode(c.ssl);
  if (ssl) env.PGSSLMODE = ssl;
  if (typeof c.connectionString === 'string') {
    const parsed = fromUrl(c.connectionString);
    if (!parsed.ok) return parsed;
    Object.assign(env, parsed.env);
  }
  return { ok: true, env };
}

/** node-postgres's `ssl` option as a libpq sslmode. */
function sslMode(ssl: unknown): string | undefined {
  if (ssl === true) return 'require';
  if (ssl === false) return 'disable';
  if (ssl && typeof ssl === 'object') {
    // With the certificate checked (node's default), libpq's nearest mode is verify-full; it
    // needs a root certificate file libpq can read, which an in-memory `ca` is not.
    return 'require';
  }
  return undefined;
}

function fromUrl(text: string): LibpqEnvironment {
  // node-postgres reads a leading "/" as a socket directory (and an optional database after a space).
  if (text.startsWith('/')) {
    const [host, database] = text.split(' ');
    return { ok: true, env: { PGHOST: host!, ...(database ? { PGDATABASE: database } : {}) } };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'the connection string is not a URL' };
  }
  if (!/^(postgres|postgresql|socket):$/.test(url.protocol)) return { ok: false, reason: `the connection string is a ${url.protocol} URL, not postgres://` };
  const env: Record<string, string> = {};
  if (url.protocol === 'socket:') {
    env.PGHOST = decodeURIComponent(url.pathname);
    const db = url.searchParams.get('db');
    if (db) env.PGDATABASE = db;
  } else {
    // `postgresql://%2Fvar%2Frun%2Fpostgresql/db`: a socket directory, percent-encoded in the host part.
    if (url.hostname) env.PGHOST = decodeURIComponent(url.hostname);
    if (url.port) env.PGPORT = url.port;
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (database) env.PGDATABASE = database;
  }
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  for (const [key, value] of url.searchParams) {
    if (key === 'ssl') {
      // node-postgres's own switch: ssl=true|1 means TLS, checked as it checks it.
      env.PGSSLMODE = value === 'true' || value === '1' ? 'require' : 'disable';
      continue;
    }
    if (key === 'sslmode' && value === 'no-verify') {
      // node-postgres's name for TLS without checking the certificate.
      env.PGSSLMODE = 'require';
      continue;
    }
    const name = KEYWORD_ENV[key];
    if (name) env[name] = value;
  }
  return { ok: true, env };
}
