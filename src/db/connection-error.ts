import { KnexsafeError, sqlState } from '../errors.js';

/**
 * A failed connection explained in one sentence with what to do; the password is never in it.
 * `settings` says where the connection came from, which is what the user must fix.
 */
export function explainConnectionError(error: unknown, description: string, settings = 'the knexfile or DATABASE_URL'): KnexsafeError {
  const code = sqlState(error) ?? (error as { code?: string } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const base = `Cannot connect to ${description}`;
  const make = (text: string, hint: string) => new KnexsafeError('CONNECTION_FAILED', `${base}: ${text}`, { exitCode: 1, hint, cause: error, details: { code } });
  switch (code) {
    case 'ECONNREFUSED':
      return make('nothing is listening there (connection refused).', `Start the PostgreSQL server or fix host/port in ${settings}.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make('the host name does not resolve.', `Check the host in ${settings}.`);
    case 'ETIMEDOUT':
      return make('the connection timed out.', 'Check that the host is reachable from here (firewall, VPN) and the port is right.');
    case '28P01':
      return make('password authentication failed.', `Check the user and password in ${settings} (they are not printed).`);
    case '28000':
      return make('the server refused this user or host (pg_hba.conf).', 'Ask the database administrator to allow this user from this host, or check the user name.');
    case '3D000':
      return make('the database does not exist.', `Create it (createdb <name>) or fix the database name in ${settings}.`);
    case '57P03':
      return make('the server is starting up or shutting down.', 'Try again in a moment.');
    default:
      if (/timeout|timed out/i.test(message)) {
        return make('the connection timed out.', 'Check that the server is reachable and accepting connections.');
      }
      return make(message.replace(/^select 1 - /, ''), `Check ${settings} and that the server is running.`);
  }
}
