import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe } from 'vitest';
import { openServer, type Database } from '../../src/db/connect.js';

/**
 * Tests that need the real PostgreSQL server. Without one they skip — unless
 * KNEXSAFE_REQUIRE_PG=1 (CI), where a missing server must fail the run instead.
 */
export const SERVER_URL = process.env.KNEXSAFE_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REQUIRE_PG = process.env.KNEXSAFE_REQUIRE_PG === '1';

let available: boolean | undefined;

export async function serverAvailable(): Promise<boolean> {
  if (available !== undefined) return available;
  const client = new pg.Client({ connectionString: SERVER_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    available = true;
  } catch {
    available = false;
  } finally {
    await client.end().catch(() => undefined);
  }
  return available;
}

const hasServer = await serverAvailable();
if (REQUIRE_PG && !hasServer) {
  throw new Error(`KNEXSAFE_REQUIRE_PG=1 but no PostgreSQL server answers at ${SERVER_URL}`);
}

/** `describe` for suites that need the server: skipped without one, failing under KNEXSAFE_REQUIRE_PG=1. */
export const describeServer: typeof describe = hasServer ? describe : (describe.skip as typeof describe);

export function urlFor(database: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface TempDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A fresh database on the server for one test file; dropped (forcefully) afterwards. With
 * `template`, a copy of that database (nobody may be connected to it).
 */
export async function createTempDatabase(prefix = 'ks_test', template?: string): Promise<TempDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await admin((c) => c.query(`create database "${name}"${template ? ` template "${template}"` : ''}`));
  return {
    name,
    url: urlFor(name),
    drop: () => admin((c) => c.query(`drop database if exists "${name}" with (force)`)).then(() => undefined),
  };
}

/** For the suite this is called in: a function making fresh databases, all dropped after it. */
export function tempDatabases(prefix: string): () => Promise<TempDatabase> {
  const made: TempDatabase[] = [];
  afterAll(async () => {
    for (const db of made) await db.drop();
  });
  return async () => {
    const db = await createTempDatabase(prefix);
    made.push(db);
    return db;
  };
}

/**
 * A fresh database opened as a server shadow opens its own (knex's BEGIN sent with the next
 * statement), for the suite this is called in: ready in its beforeAll, closed and dropped after it.
 */
export function openedAsShadow(prefix: string): { temp: TempDatabase; db: Database } {
  const fixture = {} as { temp: TempDatabase; db: Database };
  beforeAll(async () => {
    fixture.temp = await createTempDatabase(prefix);
    fixture.db = await openServer(fixture.temp.url, { deferBegin: true });
  });
  afterAll(async () => {
    await fixture.db?.close();
    await fixture.temp?.drop();
  });
  return fixture;
}

/** Runs SQL on a database of the server, outside knexsafe (test setup and assertions). */
export async function sqlOn<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

/**
 * A throwaway PostgreSQL cluster that demands a password (scram-sha-256), for testing what users
 * see with a wrong password. The shared server trusts everyone, so it cannot show that.
 */
export function startPasswordCluster(password: string): Promise<{ url: (pw: string) => string; stop(): Promise<void> }> {
  return startThrowawayCluster({ password });
}

/**
 * A throwaway PostgreSQL cluster of the installed server binaries: with `password`, one that demands
 * it (scram-sha-256), else trust; with `firstOid`, its oid counter moved there (pg_resetwal -o), as
 * on a long-lived cluster, before it starts.
 */
export async function startThrowawayCluster(options: { password?: string; firstOid?: number }): Promise<{ url: (pw?: string) => string; stop(): Promise<void> }> {
  const { execFileSync } = await import('node:child_process');
  const fs = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const versions = fs.existsSync('/usr/lib/postgresql') ? fs.readdirSync('/usr/lib/postgresql').sort() : [];
  const bin = versions.length ? `/usr/lib/postgresql/${versions[versions.length - 1]}/bin` : undefined;
  if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-cluster-'));
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => (asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' }));
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const auth = ['--auth=trust'];
  if (options.password !== undefined) {
    const pwfile = path.join(dir, 'pw');
    fs.writeFileSync(pwfile, options.password);
    if (asRoot) execFileSync('chown', ['postgres', pwfile]);
    auth.splice(0, 1, '--auth=scram-sha-256', `--pwfile=${pwfile}`);
  }
  run(`${bin}/initdb`, ['-D', `${dir}/data`, '-U', 'postgres', ...auth]);
  if (options.firstOid !== undefined) run(`${bin}/pg_resetwal`, ['-o', String(options.firstOid), `${dir}/data`]);
  const port = 20000 + Math.floor(Math.random() * 20000);
  run(`${bin}/pg_ctl`, ['-D', `${dir}/data`, '-l', `${dir}/log`, '-w', '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`, 'start']);
  return {
    url: (pw?: string) => `postgresql://postgres${pw === undefined ? '' : `:${encodeURIComponent(pw)}`}@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        run(`${bin}/pg_ctl`, ['-D', `${dir}/data`, '-m', 'immediate', 'stop']);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
