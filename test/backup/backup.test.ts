import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupTargets, listBackups, readManifest, restoreBackup } from '../../src/backup/backup.js';
import { openEmbeddedDatabase, openServer, type Database } from '../../src/db/connect.js';
import { guardedLatest } from '../../src/guard/run.js';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';

const knexfile = (url: string) => `module.exports = { client: 'pg', connection: ${JSON.stringify(url)} };\n`;

/**
 * A project whose first migration (already applied, with data) creates the tables, and whose
 * pending migration is `pending`: the check replays the applied one on its shadow, as in real life.
 */
async function projectWithData(url: string, pending: Record<string, string>): Promise<string> {
  await sqlOn(url, 'drop table if exists events, users, knex_migrations, knex_migrations_lock, knexsafe_backfills cascade');
  const dir = makeProject({
    'knexfile.js': knexfile(url),
    'migrations/20230101000000_create_users_and_events_tables.js': `exports.up = (knex) => knex.raw(${JSON.stringify(DDL)});\nexports.down = (knex) => knex.raw('drop table events, users');\n`,
  });
  await guardedLatest({ cwd: dir, check: false });
  await sqlOn(url, DATA);
  for (const [file, text] of Object.entries(pending)) fs.writeFileSync(path.join(dir, 'migrations', file), text);
  return dir;
}

const DDL = `
  create table users (id serial primary key, email text not null default 'none', name text, score numeric(6,2), created_at timestamptz default now());
  create table events (id bigint generated always as identity primary key, user_id int references users(id), payload jsonb);
  create index events_user_id_idx on events (user_id);
`;

const DATA = `
  insert into users (email, name, score, created_at)
    select 'u' || g || '@example.com', case when g % 7 = 0 then null else 'Name, "quoted" ' || g || E'\\nline2' end, g / 3.0, timestamptz '2024-01-01' + g * interval '1 hour'
    from generate_series(1, 500) g;
  insert into events (user_id, payload) select (g % 500) + 1, jsonb_build_object('n', g) from generate_series(1, 300) g;
`;

describeServer('backups before destructive migrations (server)', () => {
  let db: TempDatabase;
  beforeAll(async () => {
    db = await createTempDatabase('ks_backup');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('latest backs up a dropped column (primary key + column) first; knexsafe backup restore brings the data back identical', async () => {
    const dir = await projectWithData(db.url, {
      '20240101000000_drop_email_from_users.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('email'); });\nexports.down = (knex) => knex.schema.alterTable('users', (t) => { t.text('email'); });\n`,
    });
    const before = await sqlOn(db.url, 'select id, email from users order by id');
    const r = await runCli(['latest', '--cwd', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = parseJson<{ migrations: unknown[]; backup: { dir: string; entries: { table: string; kind: string; columns: string[]; rows: number }[]; restore: { command: string } } }>(r.stdout);
    expect(out.migrations).toHaveLength(1);
    expect(out.backup.entries).toEqual([expect.objectContaining({ table: 'public.users', kind: 'columns', columns: ['email'], rows: 500 })]);
    expect(out.backup.dir.startsWith(path.join(dir, '.knexsafe', 'backups'))).toBe(true);
    expect(fs.readdirSync(out.backup.dir).sort()).toEqual(['manifest.json', 'public.users.email.csv', 'restore.sql']);
    expect(fs.readFileSync(path.join(out.backup.dir, 'public.users.email.csv'), 'utf8').split('\n')[0]).toBe('id,email');
    expect(await sqlOn(db.url, "select 1 from information_schema.columns where table_name = 'users' and column_name = 'email'")).toEqual([]);

    const restore = await runCli(['backup', 'restore', out.backup.dir, '--cwd', dir]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/Restored public\.users \(email\): 500 rows/);
    expect(await sqlOn(db.url, 'select id, email from users order by id')).toEqual(before);
    const column = await sqlOn(db.url, "select is_nullable, column_default from information_schema.columns where table_name = 'users' and column_name = 'email'");
    expect(column).toEqual([{ is_nullable: 'NO', column_default: "'none'::text" }]);
  });

  it('a dropped table comes back from restore.sql with psql: rows, identity, index and foreign key', async () => {
    const dir = await projectWithData(db.url, {
      '20240101000000_drop_events_table.js': `exports.up = (knex) => knex.schema.dropTable('events');\nexports.down = (knex) => knex.schema.createTable('events', (t) => { t.bigIncrements(); });\n`,
    });
    const before = await sqlOn(db.url, 'select * from events order by id');
    const result = await guardedLatest({ cwd: dir });
    expect(result.backup?.manifest.entries.map((e) => [e.name, e.kind, e.rows])).toEqual([['events', 'table', 300]]);
    expect(await sqlOn(db.url, "select to_regclass('events') is null as gone")).toEqual([{ gone: true }]);
    const script = path.join(result.backup!.dir, 'restore.sql');
    execFileSync('psql', [db.url, '-q', '-v', 'ON_ERROR_STOP=1', '-f', script], { stdio: 'pipe' });
    expect(await sqlOn(db.url, 'select * from events order by id')).toEqual(before);
    expect(await sqlOn(db.url, "select indexname from pg_indexes where tablename = 'events' order by 1")).toEqual([{ indexname: 'events_pkey' }, { indexname: 'events_user_id_idx' }]);
    expect(await sqlOn(db.url, "select conname from pg_constraint where conrelid = 'events'::regclass and contype = 'f'")).toHaveLength(1);
    // The identity sequence continues after the restored rows.
    expect(await sqlOn(db.url, 'insert into events (user_id) values (1) returning id')).toEqual([{ id: '301' }]);
  });

  it('a type change backs up the column with its old type; --no-backup skips it; the plan lists it', async () => {
    const dir = await projectWithData(db.url, {
      '20240101000000_change_score_to_integer_in_users.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.integer('score').alter(); });\nexports.down = (knex) => knex.schema.alterTable('users', (t) => { t.decimal('score', 6, 2).alter(); });\n`,
    });
    const plan = await guardedLatest({ cwd: dir, dryRun: true, unsafe: true });
    expect(plan.plan.backupTargets.map((t) => [t.table.name, t.columns])).toEqual([['users', ['score']]]);
    expect(plan.plan.pending[0]!.statements!.join('\n')).toMatch(/alter column "score" type integer/);
    const skipped = await guardedLatest({ cwd: dir, backup: false, unsafe: true });
    expect(skipped.backup).toBeUndefined();
    expect(skipped.migrations).toHaveLength(1);
  });

  it('knexsafe backup: copies what the pending migrations would destroy, without running them; backup list shows it', async () => {
    const dir = await projectWithData(db.url, {
      '20240101000000_drop_name_from_users.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('name'); });\nexports.down = (knex) => knex.schema.alterTable('users', (t) => { t.text('name'); });\n`,
    });
    const r = await runCli(['backup', '--cwd', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = parseJson<{ dir: string; entries: { table: string; rows: number }[] }>(r.stdout);
    expect(json.entries).toEqual([expect.objectContaining({ table: 'public.users', rows: 500 })]);
    expect(await sqlOn(db.url, "select 1 from information_schema.columns where table_name = 'users' and column_name = 'name'")).toHaveLength(1);
    expect(await sqlOn(db.url, 'select count(*)::int as n from knex_migrations')).toEqual([{ n: 1 }]);
    const list = await runCli(['backup', 'list', '--cwd', dir]);
    expect(list.stdout).toContain(path.basename(json.dir));
  });

  it('restore into a table that still exists adds the missing rows only (truncate case)', async () => {
    await projectWithData(db.url, {});
    const before = await sqlOn(db.url, 'select * from users order by id');
    const target = await openServer(db.url);
    try {
      const root = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'ks-bk-'));
      const backup = await backupTargets(target, [{ table: { name: 'users' }, reasons: ['truncate'], migrations: ['x'] }], { root, purpose: 'test' });
      await sqlOn(db.url, 'delete from events; delete from users where id > 250');
      const restored = await restoreBackup(target, backup.dir);
      // 250 rows were missing: those are what the restore inserted, not the 500 the backup holds.
      expect(restored.restored).toEqual([{ table: 'public.users', kind: 'table', columns: [], rows: 250, inBackup: 500, into: 'public.users' }]);
      expect(await sqlOn(db.url, 'select * from users order by id')).toEqual(before);
      const again = await restoreBackup(target, backup.dir);
      expect(again.restored).toEqual([{ table: 'public.users', kind: 'table', columns: [], rows: 0, inBackup: 500, into: 'public.users' }]);
      expect(listBackups(root).map((b) => b.dir)).toEqual([backup.dir]);
      // Copies of production rows: owner-only files, ignored by git.
      expect(fs.statSync(path.join(backup.dir, 'public.users.csv')).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(path.join(root, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    } finally {
      await target.close();
    }
  });
});

describeServer('COPY through the driver under back-pressure', () => {
  let db: TempDatabase;
  beforeAll(async () => {
    db = await createTempDatabase('ks_backup_big');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('a 200k-row table (about 25 MB of CSV) round-trips: same rows, same checksum, and the connection keeps working', async () => {
    await sqlOn(db.url, `create table big (id bigint primary key, body text); insert into big select g, repeat(md5(g::text), 3) from generate_series(1, 200000) g`);
    const checksum = "select count(*)::int as n, md5(string_agg(body, ',' order by id)) as sum from big";
    const before = await sqlOn(db.url, checksum);
    const target = await openServer(db.url, { knexOptions: { pool: { min: 0, max: 1 } } });
    try {
      const root = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'ks-bk-'));
      const backup = await backupTargets(target, [{ table: { name: 'big' }, reasons: ['drop table'], migrations: ['x'] }], { root, purpose: 'test', pgDump: false });
      expect(fs.statSync(path.join(backup.dir, 'public.big.csv')).size).toBeGreaterThan(20_000_000);
      // The one pooled connection that ran the COPY still answers.
      expect(((await target.knex.raw('select 1 as one')) as { rows: unknown[] }).rows).toEqual([{ one: 1 }]);
      await sqlOn(db.url, 'drop table big');
      await restoreBackup(target, backup.dir);
      expect(await sqlOn(db.url, checksum)).toEqual(before);
    } finally {
      await target.close();
    }
  });
});

describe('backups on an embedded database (PGlite COPY device)', () => {
  let db: Database;
  beforeAll(async () => {
    db = await openEmbeddedDatabase();
  });
  afterAll(async () => {
    await db?.close();
  });

  it('drop a column, restore it: data identical', async () => {
    await db.knex.raw(`create table t (id int primary key, label text, amount numeric)`);
    await db.knex.raw(`insert into t select g, 'label ' || g, g * 1.5 from generate_series(1, 50) g`);
    const before = (await db.knex.raw('select * from t order by id')) as { rows: unknown[] };
    const root = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'ks-bk-'));
    const backup = await backupTargets(db, [{ table: { name: 't' }, columns: ['label'], reasons: ['drop column label'], migrations: ['m'] }], { root, purpose: 'test' });
    expect(readManifest(backup.dir).entries[0]).toMatchObject({ kind: 'columns', key: ['id'], targetColumns: ['label'], rows: 50 });
    await db.knex.raw('alter table t drop column label');
    await restoreBackup(db, backup.dir);
    const after = (await db.knex.raw('select id, label, amount from t order by id')) as { rows: unknown[] };
    expect(after.rows).toEqual(before.rows);
  });
});
