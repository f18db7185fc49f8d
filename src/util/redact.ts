/**
 * Secrets must never reach a terminal, a log or a JSON report: every message that could contain a
 * connection string or a password goes through here.
 */

const URL_WITH_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^:/?#@\s]+)(?::([^@/?#\s]*))?@/gi;
// `password=x` (libpq, URLs' query) in any form; `password: x` only quoted (JSON, JS objects):
// unquoted after a colon it is prose, e.g. a schema diff's `users.password: NOT NULL → nullable`.
const KEY_VALUE_PASSWORD = /\b(password|passwd|pwd)(\s*=\s*)("[^"]*"|'[^']*'|[^\s;,&'"]+)/gi;
const KEY_COLON_PASSWORD = /\b(password|passwd|pwd)("?\s*:\s*)("[^"]*"|'[^']*')/gi;
const QUERY_PASSWORD = /([?&](?:password|sslpassword|sslkey)=)[^&\s]+/gi;

const knownSecrets = new Set<string>();

/** Registers a literal secret (e.g. a password from a knexfile object) so that it is masked wherever it shows up. */
export function registerSecret(secret: unknown): void {
  if (typeof secret === 'string' && secret.length >= 3) knownSecrets.add(secret);
}

// What every pattern above needs somewhere in the text: `://` and `@` (a URL with credentials), or
// the start of a password key (`passw`, `pwd`, `sslkey`). A text with neither (most of a report:
// SQL, messages, fix code) skips the four passes.
const MAY_HOLD_KEY = /passw|pwd|sslkey/i;

export function redactSecrets(text: string): string {
  let out = text;
  if ((text.includes('@') && text.includes('://')) || MAY_HOLD_KEY.test(text)) out = redactPatterns(text);
  for (const secret of knownSecrets) {
    if (out.includes(secret)) out = out.split(secret).join('***');
  }
  return out;
}

function redactPatterns(text: string): string {
  return text
    .replace(URL_WITH_CREDENTIALS, (_m, scheme: string, user: string, password: string | undefined) => (password === undefined ? `${scheme}${user}@` : `${scheme}${user}:***@`))
    .replace(KEY_VALUE_PASSWORD, (_m, key: string, sep: string) => `${key}${sep}***`)
    .replace(KEY_COLON_PASSWORD, (_m, key: string, sep: string) => `${key}${sep}'***'`)
    .replace(QUERY_PASSWORD, (_m, key: string) => `${key}***`);
}

/** A connection (string or knex connection object) described for humans, without its password. */
export function describeConnection(connection: unknown): string {
  if (connection === undefined || connection === null) return '(no connection)';
  if (typeof connection === 'string') return redactSecrets(connection);
  if (typeof connection === 'function') return '(connection function)';
  if (typeof connection === 'object') {
    const c = connection as Record<string, unknown>;
    if (typeof c.connectionString === 'string') return redactSecrets(c.connectionString);
    const host = typeof c.host === 'string' ? c.host : 'localhost';
    const port = c.port === undefined ? '' : `:${String(c.port)}`;
    const user = typeof c.user === 'string' ? `${c.user}@` : '';
    const database = typeof c.database === 'string' ? `/${c.database}` : '';
    return `postgresql://${user}${host}${port}${database}`;
  }
  return '(connection)';
}

/** Deep copy of a value with password-like fields masked, for JSON output. */
export function redactObject<T>(value: T): T {
  if (typeof value === 'string') return redactSecrets(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactObject(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      out[key] = /^(password|passwd|pwd|secret)$/i.test(key) ? '***' : redactObject(v);
    }
    return out as T;
  }
  return value;
}
