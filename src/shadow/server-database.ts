import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { explainConnectionError } from '../db/connection-error.js';
import { loadPg } from '../db/pg-driver.js';
import { KnexsafeError } from '../errors.js';
import { describeConnection } from '../util/redact.js';
import { onInterrupt } from './interrupt.js';

/**
 * The database a server shadow lives in: uniquely named, created on the shadow server and
 * dropped afterwards. Only `pg` is needed to create it, so commands start it as soon as they know
 * the server and let the heavier modules (knex, the parser, the rules) load while PostgreSQL
 * copies its template (~0.2 s).
 */
export interface ShadowDatabase {
  name: string;
  /** The server URL with this database in it. */
  url: string;
  /** Drops the database (closing any session left on it); safe to call more than once. */
  drop(): Promise<void>;
}

export function parseShadowUrl(serverUrl: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(serverUrl);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new KnexsafeError('BAD_SHADOW_URL', `--shadow-url must be a postgres:// URL, not "${describeConnection(serverUrl)}".`);
  }
  return parsed;
}

/**
 * node-pg's connection settings for a shadow server: the URL, and nothing from the PG* variables
 * the user's shell sets for the target (PGOPTIONS, PGAPPNAME: node-pg falls back on them for any
 * setting left empty, so these are set, to values that change nothing). A shadow session gets the
 * target's settings from the knexfile only (src/shadow/session-settings.ts). Settings in the
 * shadow URL itself still win.
 */
export function shadowConnectionConfig(url: string): { connectionString: string; options: string; application_name: string } {
  return { connectionString: url, options: ' ', application_name: 'knexsafe-shadow' };
}

function withDatabase(serverUrl: URL, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** Where a shadow server's URL comes from: what to fix when it cannot be reached. */
export const SHADOW_SETTINGS = "--shadow-url (or shadowUrl in knexsafe's config)";

/** Creates a fresh shadow database on the server at `serverUrl` (its maintenance database). */
export async function createShadowDatabase(serverUrl: string): Promise<ShadowDatabase> {
  const parsed = parseShadowUrl(serverUrl);
  const name = `knexsafe_shadow_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new (loadPg().Client)({ ...shadowConnectionConfig(serverUrl), connectionTimeoutMillis: 10_000 });
  // A refused connection also surfaces as an 'error' event once connect() has rejected.
  admin.on('error', () => undefined);
  try {
    await admin.connect();
    await removeOrphanShadows(admin);
    await admin.query(`create database "${name}"`);
    // Whose it is, for the next run to tell a leftover of a killed process from a live one.
    await admin.query(`comment on database "${name}" is '${ownerComment()}'`).catch(() => undefined);
  } catch (error) {
    await admin.end().catch(() => undefined);
    if ((error as { code?: string }).code === '42501') {
      throw new KnexsafeError('SHADOW_CREATE_FAILED', `The shadow server ${describeConnection(serverUrl)} does not let this user create databases.`, {
        hint: 'Give the user CREATEDB (ALTER ROLE … CREATEDB) or point --shadow-url at a server where it has it.',
        cause: error,
      });
    }
    throw explainConnectionError(error, `the shadow server ${describeConnection(serverUrl)}`, SHADOW_SETTINGS);
  }
  let dropping: Promise<void> | undefined;
  const drop = (): Promise<void> => {
    dropping ??= (async () => {
      disarm();
      try {
        await admin.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await admin.end().catch(() => undefined);
      }
    })();
    return dropping;
  };
  const disarm = onInterrupt(drop, `dropping the shadow database ${name}`);
  return { name, url: withDatabase(parsed, name), drop };
}

/** `knexsafe shadow: pid 123 on host h`: the host is plain text (quotes left out), the pid a number. */
function ownerComment(): string {
  return `knexsafe shadow: pid ${process.pid} on host ${os.hostname().replace(/'/g, '')}`;
}

/**
 * Drops the shadow databases of knexsafe processes on this host that are gone (SIGKILL, a crash,
 * the machine's OOM killer): nothing else would. Only those whose comment names this host and a
 * pid that no longer runs; a database of another host, or of a live process, is never touched.
 */
async function removeOrphanShadows(admin: { query(sql: string, params?: unknown[]): Promise<{ rows: { datname: string; owner: string | null }[] }> }): Promise<string[]> {
  const rows = (await admin.query("select datname, pg_catalog.shobj_description(oid, 'pg_database') as owner from pg_catalog.pg_database where datname like 'knexsafe\\_shadow\\_%'")).rows;
  const dropped: string[] = [];
  for (const row of rows) {
    const owner = /^knexsafe shadow: pid (\d+) on host (.*)$/.exec(row.owner ?? '');
    if (!owner || owner[2] !== os.hostname().replace(/'/g, '') || Number(owner[1]) === process.pid || processAlive(Number(owner[1]))) continue;
    try {
      await admin.query(`drop database if exists "${row.datname.replace(/"/g, '""')}" with (force)`);
      dropped.push(row.datname);
    } catch {
      // Another run got there first, or this user may not drop it: the next run tries again.
    }
  }
  return dropped;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * A shadow database that may be created ahead of its use: `start` begins creating it, `take` hands
 * it over (starting it if need be) to the shadow, which then drops it; `release` drops it when it
 * was started but never taken, e.g. because the command failed before it got that far.
 */
export class ShadowDatabaseReservation {
  private taken = false;
  private database: Promise<ShadowDatabase> | undefined;

  constructor(readonly serverUrl: string) {}

  start(): Promise<ShadowDatabase> {
    if (!this.database) {
      this.database = createShadowDatabase(this.serverUrl);
      // Seen by whoever takes it; an untaken failure needs no report of its own.
      this.database.catch(() => undefined);
    }
    return this.database;
  }

  take(): Promise<ShadowDatabase> {
    this.taken = true;
    return this.start();
  }

  async release(): Promise<void> {
    if (this.taken || !this.database) return;
    this.taken = true;
    await this.database.then(
      (db) => db.drop().catch(() => undefined),
      () => undefined,
    );
  }
}
