import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { makeProject, parseJson, runCli, type CliResult } from '../helpers/cli.js';
import { createTempDatabase, describeServer, SERVER_URL, sqlOn, type TempDatabase } from '../helpers/pg.js';

/**
 * `knexsafe latest` never waits forever on a migration: one that awaits a promise that never
 * settles, one that runs past --timeout, one whose session the server killed. Each is ended,
 * reported (exit 1, what is applied, the lock's state) and leaves both locks free.
 */

interface Outcome {
  result: CliResult;
  error: { code: string; message: string; hint?: string };
}

async function latest(dir: string, ...flags: string[]): Promise<Outcome> {
  const result = await runCli(['latest', '--no-check', '--json', '--cwd', dir, ...flags]);
  expect(result.code, result.stdout + result.stderr).toBe(1);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return { result, error: parseJson<{ error: Outcome['error'] }>(result.stdout).error };
}

async function expectLocksFree(url: string): Promise<void> {
  const rows = await sqlOn<{ locked: number; advisory: number }>(
    url,
    `select (select coalesce(sum(is_locked), 0)::int from knex_migrations_lock) as locked,
            (select count(*)::int from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())) as advisory`,
  );
  expect(rows[0]).toEqual({ locked: 0, advisory: 0 });
}

async function tableExists(url: string, table: string): Promise<boolean> {
  return (await sqlOn<{ e: boolean }>(url, 'select to_regclass($1) is not null as e', [table]))[0]?.e === true;
}

describeServer('latest ends a migration that would never end', () => {
  let db: TempDatabase;
  beforeAll(async () => {
    db = await createTempDatabase('ks_timeouts');
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await sqlOn(db.url, 'drop table if exists knex_migrations, knex_migrations_lock, first, hung, slow');
  });

  const knexfile = () => `module.exports = { client: 'pg', connection: ${JSON.stringify(db.url)} };\n`;

  it('a migration awaiting a promise that never settles, in a transaction: ended after --idle-timeout, rolled back, locks free (ran forever before)', async () => {
    const dir = makeProject({
      'knexfile.js': knexfile(),
      'migrations/20240101000001_first.js': "exports.up = (knex) => knex.raw('create table first (id int)');\nexports.down = (knex) => knex.raw('drop table first');\n",
      'migrations/20240101000002_hung.js': "exports.up = async (knex) => { await knex.raw('create table hung (id int)'); await new Promise(() => {}); };\nexports.down = async () => {};\n",
    });
    const { error } = await latest(dir, '--idle-timeout', '2s');
    // The server's idle_in_transaction_session_timeout and knexsafe's own watch fire together: either says so.
    expect(['MIGRATION_IDLE', 'SESSION_LOST']).toContain(error.code);
    expect(error.message).toMatch(/20240101000002_hung\.js( sent no statement for 2 s|'s transaction \(SQLSTATE 25P03)/);
    expect(error.message).toMatch(/None of the pending migrations is applied\. Not applied: 20240101000001_first\.js, 20240101000002_hung\.js\. Its transaction was rolled back/);
    expect(error.message).toMatch(/knex's lock is released\.$/);
    expect(await tableExists(db.url, 'first')).toBe(false);
    expect(await tableExists(db.url, 'hung')).toBe(false);
    await expectLocksFree(db.url);
  });

  it('the same without a transaction: ended by knexsafe (the server never would), what it did stays and is said', async () => {
    const dir = makeProject({
      'knexfile.js': knexfile(),
      'migrations/20240101000001_first.js': "exports.up = (knex) => knex.raw('create table first (id int)');\nexports.down = (knex) => knex.raw('drop table first');\n",
      'migrations/20240101000002_hung.js':
        "exports.config = { transaction: false };\nexports.up = async (knex) => { await knex.raw('create table hung (id int)'); await new Promise(() => {}); };\nexports.down = async () => {};\n",
    });
    const { error } = await latest(dir, '--idle-timeout', '1s');
    expect(error.code).toBe('MIGRATION_IDLE');
    expect(error.message).toMatch(/^Migration 20240101000002_hung\.js sent no statement for 1 s \(--idle-timeout\)/);
    expect(error.message).toMatch(
      /Applied \(in knex_migrations\): 20240101000001_first\.js\. Not applied: 20240101000002_hung\.js\. 20240101000002_hung\.js ran without a transaction: the 1 statement it finished before it was ended stays applied/,
    );
    expect(await tableExists(db.url, 'hung')).toBe(true);
    await expectLocksFree(db.url);
  });

  it('--timeout cancels a statement that runs too long and reports it', async () => {
    const dir = makeProject({
      'knexfile.js': knexfile(),
      'migrations/20240101000001_slow.js': "exports.up = async (knex) => { await knex.raw('create table slow (id int)'); await knex.raw('select pg_sleep(600)'); };\nexports.down = async () => {};\n",
    });
    const { error } = await latest(dir, '--timeout', '1s');
    expect(error.code).toBe('MIGRATION_TIMEOUT');
    expect(error.message).toMatch(/^Migration 20240101000001_slow\.js ran longer than --timeout 1 s, so knexsafe ended it \(cancelled its running statement, pid \d+\)\./);
    expect(error.message).toMatch(/Its transaction was rolled back/);
    expect(await tableExists(db.url, 'slow')).toBe(false);
    const left = await sqlOn(db.url, "select pid from pg_stat_activity where datname = current_database() and query like '%pg_sleep(600)%' and pid <> pg_backend_pid()");
    expect(left).toEqual([]);
    await expectLocksFree(db.url);
  });

  it('a session the server killed (pg_terminate_backend) while its migration waits: ended and reported', async () => {
    const marker = path.join(makeProject({}), 'started');
    const dir = makeProject({
      'knexfile.js': knexfile(),
      'migrations/20240101000001_hung.js': `exports.up = async (knex) => { await knex.raw('create table hung (id int)'); require('fs').writeFileSync(${JSON.stringify(marker)}, ''); await new Promise(() => {}); };\nexports.down = async () => {};\n`,
    });
    const running = latest(dir);
    const until = Date.now() + 60_000;
    while (!fs.existsSync(marker) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const killed = await sqlOn(db.url, "select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'knexsafe:20240101000001_hung.js' and datname = current_database()");
    expect(killed.length).toBeGreaterThan(0);
    const { error } = await running;
    expect(error.code).toBe('SESSION_LOST');
    expect(error.message).toMatch(/^The server ended the session of migration 20240101000001_hung\.js's transaction \(SQLSTATE 57P01: terminating connection due to administrator command\)/);
    expect(error.message).toMatch(/Not applied: 20240101000001_hung\.js\. Its transaction was rolled back/);
    expect(await tableExists(db.url, 'hung')).toBe(false);
    await expectLocksFree(db.url);
  });
});

describeServer('check ends a migration that would never end on the shadow', () => {
  it('--timeout: a promise that never settles (embedded shadow) and a statement that never ends (server shadow) fail that migration, exit 1', async () => {
    const hung = makeProject({
      'migrations/20240101000001_hung.js': "exports.up = async (knex) => { await knex.raw('create table h (id int)'); await new Promise(() => {}); };\nexports.down = async () => {};\n",
    });
    const embedded = await runCli(['check', '--cwd', hung, '--timeout', '2s']);
    expect(embedded.code, embedded.stderr).toBe(1);
    expect(embedded.stdout + embedded.stderr).toMatch(/20240101000001_hung\.js ran longer than --timeout 2 s on the shadow database/);
    // pg_sleep(599): a statement no other test file runs, so the server-wide look below sees only this one.
    const sleeping = makeProject({ 'migrations/20240101000001_sleep.js': "exports.up = (knex) => knex.raw('select pg_sleep(599)');\nexports.down = async () => {};\n" });
    const server = await runCli(['check', '--cwd', sleeping, '--timeout', '2s', '--shadow-url', SERVER_URL]);
    expect(server.code, server.stderr).toBe(1);
    expect(server.stdout + server.stderr).toMatch(/1 failed on the shadow/);
    expect(await sqlOn(SERVER_URL, "select 1 from pg_stat_activity where query like '%pg_sleep(599)%' and pid <> pg_backend_pid()")).toEqual([]);
  }, 120_000);
});
