import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CLI, makeProject, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, SERVER_URL, sqlOn, type TempDatabase } from '../helpers/pg.js';

/**
 * Ctrl-C (SIGINT) says what it is undoing, undoes it and ends the process; what a killed run left
 * (a PGlite folder, a shadow database) is removed by the next run.
 */

interface Running {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; stdout: string; stoppedInMs?: number }>;
  interrupt(): void;
}

function start(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, NO_COLOR: '1', DATABASE_URL: undefined, ...env } });
  let stdout = '';
  let stderr = '';
  let interruptedAt: number | undefined;
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Awaited<Running['done']>>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, ...(interruptedAt ? { stoppedInMs: Math.round(performance.now() - interruptedAt) } : {}) })),
  );
  return {
    child,
    done,
    interrupt() {
      interruptedAt = performance.now();
      child.kill('SIGINT');
    },
  };
}

async function until(what: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A migration that runs for a long time in short statements (PGlite runs a statement without yielding). */
const SLOW = {
  'migrations/20240101000001_slow.js':
    "exports.up = async (knex) => { await knex.raw('create table slow (id int)'); for (let i = 0; i < 1200; i++) await knex.raw('select pg_sleep(0.05)'); };\nexports.down = (knex) => knex.raw('drop table slow');\n",
};

it('check on the embedded shadow: Ctrl-C says it removes the shadow, removes its folder and exits 130', async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-scratch-'));
  const dir = makeProject(SLOW);
  const run = start(['check', '--cwd', dir], { KNEXSAFE_SCRATCH_DIR: scratch });
  const ours = () => fs.readdirSync(scratch).filter((f) => f.startsWith(`pglite-${run.child.pid}-`));
  await until(() => ours().length > 0);
  // Inside the migration: the shadow is busy running it.
  await new Promise((r) => setTimeout(r, 1500));
  run.interrupt();
  const result = await run.done;
  console.log(`check (embedded) stopped ${result.stoppedInMs} ms after SIGINT`);
  expect(result.code).toBe(130);
  expect(result.stderr).toMatch(/^stopping: removing the embedded shadow database…$/m);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  expect(ours()).toEqual([]);
});

it('a PGlite folder left by a killed process is removed by the next run', async () => {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-scratch-'));
  // A pid that does not run: the highest pid Linux hands out is below 2^22.
  const orphan = path.join(scratch, 'pglite-4194999-AbCdEf');
  fs.mkdirSync(orphan);
  fs.writeFileSync(path.join(orphan, 'PG_VERSION'), '18\n');
  const dir = makeProject({ 'migrations/20240101000001_t.js': "exports.up = (knex) => knex.raw('create table t (id int)');\nexports.down = (knex) => knex.raw('drop table t');\n" });
  const result = await runCli(['check', '--cwd', dir], { env: { KNEXSAFE_SCRATCH_DIR: scratch } });
  expect(result.code, result.stderr).toBe(0);
  expect(fs.existsSync(orphan)).toBe(false);
});

describeServer('interrupts and leftovers on a server', () => {
  let db: TempDatabase;
  beforeAll(async () => {
    db = await createTempDatabase('ks_interrupt');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('check --shadow-url: Ctrl-C says it drops the shadow database, drops it and exits 130', async () => {
    const dir = makeProject(SLOW);
    const run = start(['check', '--cwd', dir, '--shadow-url', SERVER_URL]);
    let shadow: string | undefined;
    await until(async () => {
      const rows = await sqlOn<{ datname: string }>(SERVER_URL, "select datname from pg_stat_activity where datname like $1 and query like '%pg_sleep%'", [`knexsafe\\_shadow\\_${run.child.pid}\\_%`]);
      shadow = rows[0]?.datname;
      return shadow !== undefined;
    });
    run.interrupt();
    const result = await run.done;
    console.log(`check (server shadow) stopped ${result.stoppedInMs} ms after SIGINT`);
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(`stopping: dropping the shadow database ${shadow}…`);
    // DROP DATABASE waits for a checkpoint: on a busy server it may finish after the process has
    // gone (it was sent; the server completes it), and the next run would drop a leftover anyway.
    await until(async () => (await sqlOn(SERVER_URL, 'select 1 from pg_database where datname = $1', [shadow])).length === 0, 30_000);
  });

  it('a shadow database whose process is gone (its comment names this host and a dead pid) is dropped by the next run; a live one is not', async () => {
    const dead = `knexsafe_shadow_4194999_${Date.now().toString(16)}`;
    const alive = `knexsafe_shadow_${process.pid}_${Date.now().toString(16)}`;
    await sqlOn(SERVER_URL, `create database "${dead}"`);
    await sqlOn(SERVER_URL, `create database "${alive}"`);
    try {
      await sqlOn(SERVER_URL, `comment on database "${dead}" is 'knexsafe shadow: pid 4194999 on host ${os.hostname().replace(/'/g, '')}'`);
      await sqlOn(SERVER_URL, `comment on database "${alive}" is 'knexsafe shadow: pid ${process.pid} on host ${os.hostname().replace(/'/g, '')}'`);
      const dir = makeProject({ 'migrations/20240101000001_t.js': "exports.up = (knex) => knex.raw('create table t (id int)');\nexports.down = (knex) => knex.raw('drop table t');\n" });
      const result = await runCli(['check', '--cwd', dir, '--shadow-url', SERVER_URL]);
      expect(result.code, result.stderr).toBe(0);
      const left = (await sqlOn<{ datname: string }>(SERVER_URL, 'select datname from pg_database where datname = any($1)', [[dead, alive]])).map((r) => r.datname);
      expect(left).toEqual([alive]);
    } finally {
      await sqlOn(SERVER_URL, `drop database if exists "${dead}"`);
      await sqlOn(SERVER_URL, `drop database if exists "${alive}"`);
    }
  });

  it('latest: Ctrl-C during a migration without a transaction ends it, frees knex_migrations_lock, says so and exits 130', async () => {
    const dir = makeProject({
      'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(db.url)} };\n`,
      'migrations/20240101000001_slow.js':
        "exports.config = { transaction: false };\nexports.up = async (knex) => { await knex.raw('create table slow (id int)'); await knex.raw('select pg_sleep(600)'); };\nexports.down = (knex) => knex.raw('drop table slow');\n",
    });
    const run = start(['latest', '--no-check', '--cwd', dir]);
    // This database's sessions only: pg_stat_activity is the whole server's, and timeouts.test.ts,
    // running beside this file, sleeps in a migration of the same name (then SIGINT came too early).
    await until(
      async () =>
        (await sqlOn(db.url, "select 1 from pg_stat_activity where datname = current_database() and application_name = 'knexsafe:20240101000001_slow.js' and query like '%pg_sleep(600)%'")).length > 0,
    );
    run.interrupt();
    const result = await run.done;
    console.log(`latest stopped ${result.stoppedInMs} ms after SIGINT`);
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/^stopping: ending migration 20240101000001_slow\.js and releasing knex's lock…$/m);
    expect(result.stderr).toMatch(/Interrupted \(Ctrl-C or SIGTERM\) while migration 20240101000001_slow\.js ran, so knexsafe ended it \(cancelled its running statement, pid \d+\)\./);
    expect(result.stderr).toMatch(/knex's lock is released\./);
    const state = await sqlOn<{ locked: number; sleeping: number; advisory: number }>(
      db.url,
      `select (select coalesce(sum(is_locked), 0)::int from knex_migrations_lock) as locked,
              (select count(*)::int from pg_stat_activity where datname = current_database() and query like '%pg_sleep(600)%' and pid <> pg_backend_pid()) as sleeping,
              (select count(*)::int from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())) as advisory`,
    );
    expect(state[0]).toEqual({ locked: 0, sleeping: 0, advisory: 0 });
  });
});
