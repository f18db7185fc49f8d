import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureSession, MigrationModules } from '../../src/capture/session.js';
import type { CapturedStatement, MigrationTrace } from '../../src/capture/types.js';
import { check } from '../../src/check/run.js';
import { resolveProject } from '../../src/config/resolve.js';
import { ShadowDatabaseReservation } from '../../src/shadow/server-database.js';
import { makeProject } from '../helpers/cli.js';
import { describeServer, SERVER_URL, sqlOn } from '../helpers/pg.js';

const files: Record<string, string> = {
  'migrations/20240101000000_create_accounts.js': `exports.up = async (knex) => {
  await knex.schema.createTable('accounts', (t) => {
    t.increments('id');
    t.string('email').notNullable();
    t.integer('balance').notNullable().defaultTo(0);
  });
  await knex('accounts').insert([{ email: 'a@x' }, { email: 'b@x' }, { email: 'c@x' }]);
};
exports.down = (knex) => knex.schema.dropTable('accounts');
`,
  'migrations/20240102000000_alter_accounts.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('accounts', (t) => {
    t.string('phone');
  });
  await knex.schema.alterTable('accounts', (t) => {
    t.index(['email']);
  });
  await knex.schema.alterTable('accounts', (t) => {
    t.bigInteger('balance').notNullable().defaultTo(0).alter();
  });
  await knex('accounts').update({ phone: '1' }).where('id', '<', 3);
  await knex.raw("update accounts set phone = '2' where id = 3; select 1");
  await knex.transaction(async (trx) => {
    await trx.raw("comment on table accounts is 'money'");
    await trx('accounts').where({ email: 'a@x' }).update({ balance: 5 });
  });
};
exports.down = async (knex) => {};
`,
  'migrations/20240103000000_concurrent_index.js': `exports.up = async (knex) => {
  await knex.raw('create index concurrently accounts_phone_idx on accounts (phone)');
  await knex.raw('alter table accounts add column note text');
};
exports.down = async (knex) => {
  await knex.raw('drop index concurrently accounts_phone_idx');
  await knex.raw('alter table accounts drop column note');
};
exports.config = { transaction: false };
`,
  'migrations/20240104000000_typed.ts': `import type { Knex } from 'knex';

interface Unused { a: number }

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.boolean('active').defaultTo(true);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => t.dropColumn('active'));
}
`,
  // Statements sent with the effects query in the same round trip: knex must still get their own
  // results; a trailing -- comment must not swallow what follows; DEALLOCATE drops our prepared queries.
  'migrations/20240104500000_raw_results.js': `exports.up = async (knex) => {
  const counted = await knex.raw('select count(*)::int as n from accounts');
  if (counted.rows[0].n !== 3) throw new Error('select result lost: ' + JSON.stringify(counted.rows));
  const updated = await knex.raw("update accounts set phone = '9' where id = 1");
  if (updated.rowCount !== 1) throw new Error('rowCount lost: ' + updated.rowCount);
  await knex.raw('alter table accounts add column tag text -- a note');
  await knex.raw('deallocate all');
  await knex.raw('alter table accounts alter column tag set default \\'x\\'');
};
exports.down = async () => {};
`,
  'migrations/20240105000000_broken.js': `exports.up = async (knex) => {
  await knex.raw('alter table accounts add column email text');
};
exports.down = async () => {};
`,
};

function statement(trace: MigrationTrace | undefined, pattern: RegExp): CapturedStatement {
  const found = trace?.statements.find((s) => pattern.test(s.sql));
  if (!found) throw new Error(`no statement matching ${pattern} in ${trace?.name}: ${trace?.statements.map((s) => s.sql).join(' | ')}`);
  return found;
}

function modes(s: CapturedStatement, relation: string): string[] {
  return s.locks.filter((l) => l.relation.name === relation).map((l) => l.mode);
}

function captureSuite(label: string, describeFn: typeof describe, shadowUrl: () => string | undefined) {
  describeFn(`capture on the ${label} shadow`, () => {
    let session: CaptureSession;
    let dir: string;
    let traces: MigrationTrace[];
    let error: Awaited<ReturnType<CaptureSession['latest']>>['error'];

    beforeAll(async () => {
      dir = makeProject(files);
      const project = await resolveProject({ cwd: dir });
      const url = shadowUrl();
      session = await CaptureSession.open({ project, ...(url ? { shadowUrl: url } : {}) });
      // The first migration is "the target": applied before the run, its table is an existing one.
      await session.replay(session.files.slice(0, 1));
      await session.markRunStart();
      const outcome = await session.latest();
      traces = outcome.traces;
      error = outcome.error;
      if (process.env.KS_DEBUG)
        for (const t of traces)
          console.log(
            t.name,
            t.transactional,
            t.error,
            t.statements.map((s) => `${s.sql.slice(0, 60)} [${s.locks.map((l) => l.relation.name + ':' + l.mode).join(',')}] ${s.error?.message ?? ''}`),
          );
    });
    afterAll(async () => {
      await session?.close();
    });

    const trace = (name: string) => traces.find((t) => t.name.includes(name));

    it('records each knex statement with the file:line of the knex call', () => {
      const add = statement(trace('alter_accounts'), /add column "phone"/);
      expect(add.site).toEqual({ file: path.join(dir, 'migrations/20240102000000_alter_accounts.js'), line: 2, column: expect.any(Number) });
      expect(statement(trace('alter_accounts'), /create index/).site?.line).toBe(5);
      const typed = statement(trace('typed'), /add column "active"/);
      expect(typed.site).toMatchObject({ file: path.join(dir, 'migrations/20240104000000_typed.ts'), line: 6 });
    });

    it('records lock modes on tables that existed before the run', () => {
      const t = trace('alter_accounts');
      expect(modes(statement(t, /add column "phone"/), 'accounts')).toEqual(['AccessExclusiveLock']);
      expect(statement(t, /add column "phone"/).locks[0]?.relation.origin).toBe('existing');
      // pg_locks lists each mode a transaction takes, even under a stronger one it already holds.
      expect(modes(statement(t, /create index/), 'accounts')).toEqual(['ShareLock']);
      // A repeated mode is not new.
      expect(modes(statement(t, /alter column "balance" set not null/), 'accounts')).toEqual([]);
    });

    it('sees a table rewrite (relfilenode change) and rows affected', () => {
      const t = trace('alter_accounts');
      const type = statement(t, /alter column "balance" type bigint/);
      expect(type.rewrites.map((r) => r.name)).toContain('accounts');
      expect(statement(t, /add column "phone"/).rewrites).toEqual([]);
      expect(statement(t, /update "accounts" set "phone"/).rowCount).toBe(2);
    });

    it('captures multi-statement raw SQL and statements inside knex.transaction()', () => {
      const t = trace('alter_accounts');
      const multi = statement(t, /update accounts set phone = '2'/);
      expect(multi.sql).toContain('select 1');
      expect(statement(t, /comment on table/).transactionId).toMatch(/^trx\d+$/);
      expect(statement(t, /set "balance" = \$1/).bindings).toEqual([5, 'a@x']);
      expect(t?.statements.some((s) => s.control && /savepoint/i.test(s.sql))).toBe(true);
    });

    it('transaction:false migrations: wraps what may be wrapped to see its locks, never CONCURRENTLY', () => {
      const t = trace('concurrent_index');
      expect(t?.transactional).toBe(false);
      const concurrent = statement(t, /create index concurrently/);
      expect(concurrent.inTransaction).toBe(false);
      expect(concurrent.locksObserved).toBe(false);
      const alter = statement(t, /add column note/);
      expect(alter.locksObserved).toBe(true);
      expect(modes(alter, 'accounts')).toEqual(['AccessExclusiveLock']);
    });

    it('statements sent with the effects query keep their own results, and DEALLOCATE does not break the capture', () => {
      const t = trace('raw_results');
      expect(t?.error).toBeUndefined();
      expect(statement(t, /update accounts set phone = '9'/).rowCount).toBe(1);
      expect(modes(statement(t, /add column tag/), 'accounts')).toEqual(['AccessExclusiveLock']);
      expect(statement(t, /set default/).locksObserved).toBe(true);
      expect(statement(t, /set default/).error).toBeUndefined();
    });

    it('records a failing statement with its SQLSTATE and stops the batch', () => {
      expect(error).toMatchObject({ sqlState: '42701', migration: '20240105000000_broken.js' });
      const failed = statement(trace('broken'), /add column email/);
      expect(failed.error).toMatchObject({ sqlState: '42701', message: expect.stringMatching(/already exists/) });
    });

    it('follows knex batch semantics: with a transaction:false file in the batch, each migration has its own transaction', () => {
      const ids = traces.filter((t) => t.transactional).map((t) => t.batchTransactionId);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });
}

captureSuite('embedded', describe, () => undefined);
captureSuite('server', describeServer, () => SERVER_URL);

// check reads the relation list a migration starts with again only after one that made a relation;
// otherwise it keeps the last one. Either way every lock must be named.
function relationListSuite(label: string, describeFn: typeof describe, shadowUrl: () => string | undefined) {
  describeFn(`relations known to the lock reads, ${label} shadow`, () => {
    it('names locks on a relation made by an earlier migration, after migrations that made none', async () => {
      const dir = makeProject({
        'migrations/20240101000000_a.js': `exports.up = (knex) => knex.raw('create table a (id int)');\nexports.down = () => {};`,
        'migrations/20240102000000_b.js': `exports.up = (knex) => knex.raw('alter table a add column x int');\nexports.down = () => {};`,
        'migrations/20240103000000_c.js': `exports.up = (knex) => knex.raw('create index a_x on a (x)');\nexports.down = () => {};`,
        'migrations/20240104000000_d.js': `exports.up = (knex) => knex.raw('alter table a add column y int');\nexports.down = () => {};`,
        'migrations/20240105000000_e.js': `exports.up = (knex) => knex.raw('drop index a_x');\nexports.down = () => {};`,
      });
      const url = shadowUrl();
      const report = await check({ cwd: dir, all: true, ...(url ? { shadowUrl: url } : {}) });
      const locks = (name: string) => report.units?.find((u) => u.name.includes(name))?.statements.flatMap((st) => st.locks.map((l) => `${l.relation}:${l.mode}`));
      expect(locks('_b')).toContain('public.a:AccessExclusiveLock');
      expect(locks('_c')).toContain('public.a:ShareLock');
      expect(locks('_d')).toContain('public.a:AccessExclusiveLock');
      // a_x was made by c and first locked in e, after d (which made nothing) kept the list.
      expect(locks('_e')).toEqual(expect.arrayContaining(['public.a_x:AccessExclusiveLock', 'public.a:AccessExclusiveLock']));
    });

    it('after a migration that made relations, reads only those and keeps naming the older ones', async () => {
      const dir = makeProject({
        'migrations/20240101000000_a.js': `exports.up = (knex) => knex.raw('create table a (id int)');\nexports.down = () => {};`,
        'migrations/20240102000000_b.js': `exports.up = async (knex) => { await knex.raw('create table b (id serial primary key)'); await knex.raw('create index a_id on a (id)'); };\nexports.down = () => {};`,
        'migrations/20240103000000_c.js': `exports.up = async (knex) => { await knex.raw('alter table a add column z int'); await knex.raw('drop table b'); };\nexports.down = () => {};`,
        'migrations/20240104000000_d.js': `exports.up = (knex) => knex.raw('create table b (id int)');\nexports.down = () => {};`,
        'migrations/20240105000000_e.js': `exports.up = async (knex) => { await knex.raw('alter table b add column w int'); await knex.raw('drop index a_id'); };\nexports.down = () => {};`,
      });
      const url = shadowUrl();
      const report = await check({ cwd: dir, all: true, ...(url ? { shadowUrl: url } : {}) });
      const locks = (name: string) => report.units?.find((u) => u.name.includes(name))?.statements.flatMap((st) => st.locks.map((l) => `${l.relation}:${l.mode}`));
      // a was known before b made b, its sequence and index, and a_id: it is still named after them.
      expect(locks('_c')).toEqual(expect.arrayContaining(['public.a:AccessExclusiveLock', 'public.b:AccessExclusiveLock', 'public.b_id_seq:AccessExclusiveLock']));
      // The b that d made has a new oid under the old name; a_id was made by b.
      expect(locks('_e')).toEqual(expect.arrayContaining(['public.b:AccessExclusiveLock', 'public.a_id:AccessExclusiveLock', 'public.a:AccessExclusiveLock']));
      expect(report.migrations.every((m) => !m.failed)).toBe(true);
    });
  });
}

describeServer('schema read with the COMMIT', () => {
  it('a migration that drops the prepared statements (DEALLOCATE ALL) still gets its schema read, whole, after the COMMIT', async () => {
    const dir = makeProject({
      'migrations/20240101000000_a.js': `exports.up = (knex) => knex.raw('create table a (id int)');\nexports.down = () => {};`,
      'migrations/20240102000000_b.js': `exports.up = async (knex) => { await knex.raw('alter table a add column x int'); await knex.raw('deallocate all'); };\nexports.down = () => {};`,
      'migrations/20240103000000_c.js': `exports.up = (knex) => knex.raw('alter table a add column y int');\nexports.down = () => {};`,
    });
    const report = await check({ cwd: dir, all: true, shadowUrl: SERVER_URL });
    expect(report.migrations.map((m) => [m.name, m.failed?.message])).toEqual([
      ['20240101000000_a.js', undefined],
      ['20240102000000_b.js', undefined],
      ['20240103000000_c.js', undefined],
    ]);
    const unit = (name: string) => report.units!.find((u) => u.name.includes(name))!;
    expect(Object.keys(unit('_b').schemaAfter!.tables['public.a']!.columns)).toEqual(['id', 'x']);
    expect(Object.keys(unit('_c').schemaBefore!.tables['public.a']!.columns)).toEqual(['id', 'x']);
    expect(Object.keys(unit('_c').schemaAfter!.tables['public.a']!.columns)).toEqual(['id', 'x', 'y']);
  });
});

describe('migration modules', () => {
  it('evaluates a migration file once when it is asked for while it is being loaded', async () => {
    // TypeScript goes through jiti, which keeps no module cache: a second load would run the file again.
    const dir = makeProject({
      'migrations/20240101000000_a.ts': `import fs from 'node:fs';\nimport path from 'node:path';\nfs.appendFileSync(path.join(__dirname, '..', 'evaluated.log'), 'a\\n');\nexport async function up() {}\nexport async function down() {}\n`,
    });
    const project = await resolveProject({ cwd: dir });
    const [file] = (await import('../../src/migrations/source.js')).listMigrationFiles(project.migrations);
    const modules = new MigrationModules();
    const [first, second] = await Promise.all([modules.get(file!), modules.get(file!), modules.preload([file!])]);
    expect(first).toBe(second);
    expect((await import('node:fs')).readFileSync(path.join(dir, 'evaluated.log'), 'utf8')).toBe('a\n');
  });
});

relationListSuite('embedded', describe, () => undefined);
relationListSuite('server', describeServer, () => SERVER_URL);

describe('batch transaction', () => {
  it('all-transactional pending migrations share one transaction, so locks carry over', async () => {
    const dir = makeProject({
      'migrations/20240101000000_a.js': `exports.up = (knex) => knex.schema.createTable('t', (t) => { t.increments(); });\nexports.down = () => {};`,
      'migrations/20240102000000_b.js': `exports.up = (knex) => knex.schema.alterTable('t', (t) => { t.string('x'); });\nexports.down = () => {};`,
      'migrations/20240103000000_c.js': `exports.up = (knex) => knex.schema.alterTable('t', (t) => { t.string('y'); });\nexports.down = () => {};`,
    });
    const project = await resolveProject({ cwd: dir });
    const session = await CaptureSession.open({ project });
    try {
      await session.replay(session.files.slice(0, 1));
      await session.markRunStart();
      const { traces } = await session.latest();
      expect(traces.map((t) => t.batchTransactionId)).toEqual(['tx1', 'tx1']);
      expect(modes(statement(traces[0], /add column "x"/), 't')).toEqual(['AccessExclusiveLock']);
      // Still held from b: c takes nothing new.
      expect(modes(statement(traces[1], /add column "y"/), 't')).toEqual([]);
    } finally {
      await session.close();
    }
  });
});

describeServer('server shadow lifecycle', () => {
  it('creates a uniquely named database and drops it on close, even after a failure', async () => {
    const dir = makeProject({ 'migrations/20240101000000_bad.js': `exports.up = (knex) => knex.raw('select * from missing_table');\nexports.down = () => {};` });
    const project = await resolveProject({ cwd: dir });
    const session = await CaptureSession.open({ project, shadowUrl: SERVER_URL });
    const name = session.shadow.databaseName!;
    expect(name).toMatch(/^knexsafe_shadow_\d+_[0-9a-f]{8}$/);
    expect(await sqlOn(SERVER_URL, 'select 1 from pg_database where datname = $1', [name])).toHaveLength(1);
    const outcome = await session.latest();
    expect(outcome.error?.sqlState).toBe('42P01');
    await session.close();
    expect(await sqlOn(SERVER_URL, 'select 1 from pg_database where datname = $1', [name])).toHaveLength(0);
  });

  it('takes a database created ahead of time and drops it on close; one never taken is dropped on release', async () => {
    const dir = makeProject({ 'migrations/20240101000000_a.js': `exports.up = (knex) => knex.schema.createTable('t', (t) => { t.increments(); });\nexports.down = () => {};` });
    const project = await resolveProject({ cwd: dir });
    const exists = async (name: string) => (await sqlOn(SERVER_URL, 'select 1 from pg_database where datname = $1', [name])).length === 1;

    const ahead = new ShadowDatabaseReservation(SERVER_URL);
    const created = await ahead.start();
    expect(await exists(created.name)).toBe(true);
    const session = await CaptureSession.open({ project, shadowUrl: SERVER_URL, shadowReservation: ahead });
    expect(session.shadow.databaseName).toBe(created.name);
    expect((await session.latest()).error).toBeUndefined();
    await ahead.release(); // taken: not for release to drop
    expect(await exists(created.name)).toBe(true);
    await session.close();
    expect(await exists(created.name)).toBe(false);

    const unused = new ShadowDatabaseReservation(SERVER_URL);
    const leftOver = await unused.start();
    expect(await exists(leftOver.name)).toBe(true);
    await unused.release();
    expect(await exists(leftOver.name)).toBe(false);
    // Never started: nothing to drop, nothing created.
    await new ShadowDatabaseReservation(SERVER_URL).release();
  });

  it('check drops the database it started creating when it fails before using it', async () => {
    const dir = makeProject({ 'migrations/20240101000000_a.js': `exports.up = () => {};\nexports.down = () => {};` });
    const ours = () => sqlOn(SERVER_URL, 'select datname from pg_database where datname like $1 order by 1', [`knexsafe_shadow_${process.pid}_%`]);
    const before = await ours();
    // An unknown migration name fails after the shadow database was started.
    await expect(check({ cwd: dir, shadowUrl: SERVER_URL, names: ['20990101000000_missing'] })).rejects.toThrow(/20990101000000_missing/);
    // A creation still under way would show only once done: wait until the server has none.
    for (let i = 0; i < 100; i++) {
      const creating = await sqlOn(SERVER_URL, "select 1 from pg_stat_activity where query like 'create database \"knexsafe_shadow_' || $1::text || '_%'", [String(process.pid)]);
      if (creating.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await ours()).toEqual(before);
  });

  it('check drops the database it started before reading the project when the project cannot be read', async () => {
    const dir = makeProject({ 'knexfile.js': 'module.exports = {', 'migrations/20240101000000_a.js': `exports.up = () => {};\nexports.down = () => {};` });
    const ours = () => sqlOn(SERVER_URL, 'select datname from pg_database where datname like $1 order by 1', [`knexsafe_shadow_${process.pid}_%`]);
    const before = await ours();
    await expect(check({ cwd: dir, shadowUrl: SERVER_URL, all: true })).rejects.toThrow(/knexfile/i);
    for (let i = 0; i < 100; i++) {
      const creating = await sqlOn(SERVER_URL, "select 1 from pg_stat_activity where query like 'create database \"knexsafe_shadow_' || $1::text || '_%'", [String(process.pid)]);
      if (creating.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await ours()).toEqual(before);
  });
});
