import pg from 'pg';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { guardedLatest } from '../../src/guard/run.js';
import type { AttemptRecord } from '../../src/guard/run.js';
import { KnexsafeError } from '../../src/errors.js';
import { makeProject, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';

/** A session holding ACCESS SHARE on `accounts` (an open transaction that read it), as a long report query would. */
async function holdReadLock(url: string, table = 'accounts'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'test-blocker' });
  await client.connect();
  await client.query('begin');
  await client.query(`select count(*) from ${table}`);
  return client;
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** How long one INSERT into accounts takes, on an already connected session. */
async function timedWrite(writer: pg.Client): Promise<number> {
  const started = performance.now();
  await writer.query('insert into accounts (n) values (0)');
  return performance.now() - started;
}

const knexfile = (url: string) => `module.exports = { client: 'pg', connection: ${JSON.stringify(url)} };\n`;

describeServer('guarded latest: lock_timeout, retries, blocking sessions', () => {
  let db: TempDatabase;
  let writer: pg.Client;

  beforeAll(async () => {
    db = await createTempDatabase('ks_guard');
    writer = new pg.Client({ connectionString: db.url, application_name: 'test-writer' });
    await writer.connect();
  });
  afterAll(async () => {
    await writer?.end();
    await db?.drop();
  });
  beforeEach(async () => {
    await sqlOn(
      db.url,
      `drop table if exists accounts, knex_migrations, knex_migrations_lock, side, audit, probe cascade;
       create table accounts (id serial primary key, n int);
       insert into accounts (n) select g from generate_series(1, 1000) g;`,
    );
  });

  it('without a lock_timeout, a writer queues behind a waiting ALTER for as long as the blocker runs (the lock-queue effect)', async () => {
    const blocker = await holdReadLock(db.url);
    const alter = new pg.Client({ connectionString: db.url, application_name: 'test-plain-alter' });
    await alter.connect();
    const altering = alter.query('alter table accounts add column plain int');
    await waitFor('the ALTER to queue', async () => (await sqlOn(db.url, "select 1 from pg_stat_activity where application_name = 'test-plain-alter' and wait_event_type = 'Lock'")).length > 0);
    const writing = timedWrite(writer);
    await new Promise((r) => setTimeout(r, 2000));
    await blocker.query('commit');
    await blocker.end();
    const waited = await writing;
    await altering;
    await alter.end();
    // The writer only got through once the blocker ended: 2 s here, as long as a real report query runs.
    expect(waited).toBeGreaterThan(1800);
  });

  it('gives up its lock attempt within lock_timeout, so writers never wait longer than that; retries, and succeeds when the blocker ends', async () => {
    const dir = makeProject({
      'knexfile.js': knexfile(db.url),
      'migrations/20240101000000_add_note_to_accounts.js': `exports.up = (knex) => knex.schema.alterTable('accounts', (t) => { t.text('note'); });\nexports.down = (knex) => knex.schema.alterTable('accounts', (t) => { t.dropColumn('note'); });\n`,
    });
    const blocker = await holdReadLock(db.url);
    const blockerPid = (blocker as unknown as { processID: number }).processID;
    const retries: AttemptRecord[] = [];
    const lockTimeoutMs = 1000;
    const run = guardedLatest({ cwd: dir, check: false, lockTimeout: `${lockTimeoutMs}ms`, retries: 20, retryDelay: '200ms', events: { retrying: (a) => retries.push(a) } });
    run.catch(() => undefined);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      // Each time knexsafe's ALTER is queued for its ACCESS EXCLUSIVE lock, a writer arrives behind it.
      await waitFor(
        'knexsafe to queue for its lock',
        async () => (await sqlOn(db.url, "select 1 from pg_stat_activity where datname = current_database() and application_name like 'knexsafe:%' and wait_event_type = 'Lock'")).length > 0,
      );
      waits.push(await timedWrite(writer));
      const seen = retries.length;
      await waitFor('the retry', async () => retries.length > seen);
    }
    await blocker.query('commit');
    await blocker.end();
    const result = await run;
    console.log(`writer waits behind the queued ALTER with lock_timeout ${lockTimeoutMs} ms: ${waits.map((w) => Math.round(w)).join(', ')} ms; attempts before success: ${result.attempts.length}`);
    for (const w of waits) expect(w).toBeLessThan(lockTimeoutMs + 600);
    expect(result.migrations.map((m) => m.name)).toEqual(['20240101000000_add_note_to_accounts.js']);
    expect(result.attempts.length).toBeGreaterThanOrEqual(3);
    expect(result.attempts[0]).toMatchObject({ sqlState: '55P03', transactional: true, migration: '20240101000000_add_note_to_accounts.js' });
    expect(result.attempts[0]!.blockers).toEqual(
      expect.arrayContaining([expect.objectContaining({ pid: blockerPid, application: 'test-blocker', relation: 'accounts', wantedMode: 'AccessExclusiveLock', heldModes: 'AccessShareLock' })]),
    );
    expect(await sqlOn(db.url, "select 1 from information_schema.columns where table_name = 'accounts' and column_name = 'note'")).toHaveLength(1);
    expect(await sqlOn(db.url, 'select is_locked from knex_migrations_lock')).toEqual([{ is_locked: 0 }]);
  });

  it('when retries run out, the CLI exits 1 and names the blocking session (pid, application, query start, query)', async () => {
    const dir = makeProject({
      'knexfile.js': knexfile(db.url),
      'migrations/20240101000000_add_note_to_accounts.js': `exports.up = (knex) => knex.schema.alterTable('accounts', (t) => { t.text('note'); });\nexports.down = (knex) => knex.schema.alterTable('accounts', (t) => { t.dropColumn('note'); });\n`,
    });
    const blocker = await holdReadLock(db.url);
    const pid = (blocker as unknown as { processID: number }).processID;
    const started = performance.now();
    const r = await runCli(['latest', '--cwd', dir, '--no-check', '--lock-timeout', '300ms', '--retries', '2', '--retry-delay', '100ms']);
    const elapsed = performance.now() - started;
    await blocker.query('rollback');
    await blocker.end();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/could not get a lock within lock_timeout 300 ms on all 3 attempts/);
    expect(r.stderr).toContain(`pid ${pid} (application "test-blocker"`);
    expect(r.stderr).toMatch(/query started \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ: select count\(\*\) from accounts\) holds AccessShareLock on accounts/);
    expect(r.stderr).toMatch(/attempt 1\/3/);
    expect(elapsed).toBeLessThan(15_000);
    expect(await sqlOn(db.url, 'select count(*)::int as n from knex_migrations')).toEqual([{ n: 0 }]);
    expect(await sqlOn(db.url, 'select is_locked from knex_migrations_lock')).toEqual([{ is_locked: 0 }]);
  });

  it('sets lock_timeout, statement_timeout and application_name per migration, on every pooled connection, with or without a transaction', async () => {
    const probe = (label: string) =>
      `knex.raw("insert into probe select '${label}', current_setting('lock_timeout'), current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout'), current_setting('application_name'), pg_backend_pid()")`;
    const dir = makeProject({
      'knexfile.js': knexfile(db.url),
      'migrations/20240101000000_create_probe.js': `exports.up = async (knex) => { await knex.raw('create table probe (label text, lock_timeout text, statement_timeout text, idle text, app text, pid int)'); await ${probe('tx1')}; };\nexports.down = (knex) => knex.raw('drop table probe');\n`,
      'migrations/20240102000000_no_transaction.js': `exports.up = async (knex) => { await Promise.all([1, 2, 3, 4].map(async () => { await knex.raw('select pg_sleep(0.05)'); await ${probe('nt')}; })); };\nexports.down = async () => {};\nexports.config = { transaction: false };\n`,
      'migrations/20240103000000_third.js': `exports.up = async (knex) => { await ${probe('tx3')}; };\nexports.down = async () => {};\n`,
    });
    const result = await guardedLatest({ cwd: dir, check: false, lockTimeout: '1234ms', statementTimeout: '7s', idleTimeout: '30s' });
    expect(result.migrations).toHaveLength(3);
    const rows = await sqlOn<{ label: string; lock_timeout: string; statement_timeout: string; idle: string; app: string; pid: number }>(db.url, 'select * from probe');
    expect(rows).toHaveLength(6);
    for (const r of rows) expect(r).toMatchObject({ lock_timeout: '1234ms', statement_timeout: '7s', idle: '30s' });
    expect(rows.find((r) => r.label === 'tx1')!.app).toBe('knexsafe:20240101000000_create_probe.js');
    expect(rows.find((r) => r.label === 'tx3')!.app).toBe('knexsafe:20240103000000_third.js');
    const nt = rows.filter((r) => r.label === 'nt');
    expect(new Set(nt.map((r) => r.app))).toEqual(new Set(['knexsafe:20240102000000_no_transaction.js']));
    // knex handed out several connections: each got the settings before its first statement.
    expect(new Set(nt.map((r) => r.pid)).size).toBeGreaterThan(1);
  });

  it('retries a migration without a transaction when what it already did is idempotent', async () => {
    const dir = makeProject({
      'knexfile.js': knexfile(db.url),
      'migrations/20240101000000_idempotent.js': `exports.up = async (knex) => { await knex.raw('create table if not exists side (id int)'); await knex.raw('alter table accounts add column if not exists extra int'); };\nexports.down = async () => {};\nexports.config = { transaction: false };\n`,
    });
    const blocker = await holdReadLock(db.url);
    const retries: AttemptRecord[] = [];
    const run = guardedLatest({ cwd: dir, check: false, lockTimeout: '300ms', retries: 20, retryDelay: '100ms', events: { retrying: (a) => retries.push(a) } });
    run.catch(() => undefined);
    await waitFor('a retry', async () => retries.length > 0);
    await blocker.query('commit');
    await blocker.end();
    const result = await run;
    expect(result.attempts[0]).toMatchObject({ transactional: false, sqlState: '55P03' });
    expect(result.migrations).toHaveLength(1);
    expect(await sqlOn(db.url, "select 1 from information_schema.columns where table_name = 'accounts' and column_name = 'extra'")).toHaveLength(1);
  });

  it('does not retry a migration without a transaction that already applied something not safe to repeat', async () => {
    await sqlOn(db.url, 'create table audit (n int)');
    const dir = makeProject({
      'knexfile.js': knexfile(db.url),
      'migrations/20240101000000_not_idempotent.js': `exports.up = async (knex) => { await knex.raw('insert into audit values (1)'); await knex.raw('alter table accounts add column extra2 int'); };\nexports.down = async () => {};\nexports.config = { transaction: false };\n`,
    });
    const blocker = await holdReadLock(db.url);
    const error = await guardedLatest({ cwd: dir, check: false, lockTimeout: '300ms', retries: 5, retryDelay: '100ms' }).catch((e: unknown) => e);
    await blocker.query('commit');
    await blocker.end();
    expect(error).toBeInstanceOf(KnexsafeError);
    expect((error as KnexsafeError).code).toBe('LOCK_TIMEOUT');
    expect((error as KnexsafeError).message).toMatch(
      /did not retry: it runs without a transaction and had already applied 1 statement that cannot safely run twice \(first: insert into audit values \(1\)\)/,
    );
    expect((error as KnexsafeError).details).toMatchObject({ retried: false });
    expect(await sqlOn(db.url, 'select count(*)::int as n from audit')).toEqual([{ n: 1 }]);
    expect(await sqlOn(db.url, 'select is_locked from knex_migrations_lock')).toEqual([{ is_locked: 0 }]);
  });
});
