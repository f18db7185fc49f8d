import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from '../../src/check/run.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/** Locks as they accumulate in knex's migration transaction (facts read on PostgreSQL 15 with pg_locks). */
function project(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-accumulated-'));
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  for (const [name, body] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, 'migrations', name), `exports.up = async function (knex) {\n${body}\n};\nexports.down = async function () {};\n`);
  }
  return dir;
}

const files = {
  '20240101000001_setup.js': [
    `await knex.schema.createTable('acc_users', (t) => { t.increments('id'); t.string('email'); });`,
    `await knex.schema.createTable('acc_pets', (t) => { t.increments('id'); t.integer('owner_id').references('acc_users.id'); });`,
    `await knex.schema.createTable('acc_orders', (t) => { t.increments('id'); t.integer('total'); });`,
    `await knex('acc_orders').insert([{ total: 1 }, { total: 2 }]);`,
    `await knex.raw(\`CREATE FUNCTION acc_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$\`);`,
  ].join('\n'),
  '20240101000002_alter_then_index.js': [
    `await knex.schema.alterTable('acc_users', (t) => { t.string('nickname'); });`,
    `await knex.schema.alterTable('acc_users', (t) => { t.index('email'); });`,
  ].join('\n'),
  '20240101000003_alter_fk.js': `await knex.schema.alterTable('acc_pets', (t) => { t.integer('owner_id').alter(); });`,
  '20240101000004_trigger_then_loop.js': [
    `await knex.raw('CREATE TRIGGER acc_orders_touch BEFORE UPDATE ON acc_orders FOR EACH ROW EXECUTE FUNCTION acc_touch()');`,
    `for (const row of await knex('acc_orders').select('id', 'total')) {`,
    `  await knex('acc_orders').where('id', row.id).update({ total: row.total * 100 });`,
    `}`,
  ].join('\n'),
  '20240101000005_foreign_key.js': `await knex.raw('ALTER TABLE acc_pets ADD CONSTRAINT acc_pets_owner_again FOREIGN KEY (owner_id) REFERENCES acc_users (id)');`,
};

const suite = (label: string, describeFn: typeof describe, shadowUrl: string | undefined) =>
  describeFn(`locks as they accumulate (${label} shadow)`, () => {
    it('states the lock already held, every table locked in order, and what the mode waits for', async () => {
      const report = await check({ cwd: project(files), all: true, ...(shadowUrl ? { shadowUrl } : {}) });
      const of = (migration: string, rule: string) => report.findings.filter((f) => f.migration.startsWith(migration) && f.rule === rule);

      // CREATE INDEX after ALTER TABLE in the same transaction: ACCESS EXCLUSIVE is still held, reads wait.
      const [index] = of('20240101000002', 'index-not-concurrent');
      expect(index?.lock).toMatchObject({ mode: 'ShareLock', held: { mode: 'AccessExclusiveLock', since: { line: 2 } } });
      expect(index?.lock?.held?.blocks.reads).toBe(true);
      // lock.blocks is what other sessions meet while the statement runs: the held ACCESS EXCLUSIVE, not SHARE alone.
      expect(index?.lock?.blocks.reads).toBe(true);
      expect(index?.lock?.blocks.description).not.toMatch(/reads .*continue/);
      expect(index?.why).toMatch(/every SELECT, INSERT, UPDATE and DELETE waits/);
      expect(index?.why).not.toMatch(/reads continue/);
      expect(index?.why).toMatch(/Earlier in the same transaction, `alter table "acc_users" add column "nickname".*` \(line 2\) took ACCESS EXCLUSIVE on acc_users/);
      expect(index?.lock?.waitsFor).toMatch(/plain reads do not hold it up/);

      // .alter() of a foreign-key column: ACCESS EXCLUSIVE on the referenced table, named with its mode.
      const [timeout] = of('20240101000003', 'missing-lock-timeout');
      expect(timeout?.message).toBe('acc_pets is locked in ACCESS EXCLUSIVE mode without a lock_timeout (the same call also locks acc_users in ACCESS EXCLUSIVE mode)');
      // A foreign key: both tables, the altered one first.
      const [fk] = of('20240101000005', 'foreign-key-not-valid');
      expect(fk?.locks?.map((l) => `${l.relation} ${l.mode}`)).toEqual(['public.acc_pets ShareRowExclusiveLock', 'public.acc_users ShareRowExclusiveLock']);

      // Row by row while the trigger's SHARE ROW EXCLUSIVE is held: every write waits for the whole loop.
      const [loop] = of('20240101000004', 'row-by-row-backfill');
      expect(loop?.why).toMatch(/SHARE ROW EXCLUSIVE on acc_orders \(writes wait\) — held for the whole loop/);
      expect(loop?.lock).toMatchObject({ mode: 'ShareRowExclusiveLock', relation: 'public.acc_orders' });
    }, 120_000);

    it('states a stronger lock a later DROP TABLE takes on a table it references (ACCESS EXCLUSIVE until commit)', async () => {
      // PostgreSQL 15, pg_locks: CREATE TABLE with a foreign key takes SHARE ROW EXCLUSIVE on the referenced table;
      // a later DROP TABLE of a table whose foreign key references it takes ACCESS EXCLUSIVE on it, held until commit.
      const report = await check({
        cwd: project({
          '20240101000001_setup.js': [
            `await knex.schema.createTable('acd_roles', (t) => { t.increments('id'); });`,
            `await knex.schema.createTable('acd_old_mappings', (t) => { t.increments('id'); t.integer('role_id').references('acd_roles.id'); });`,
          ].join('\n'),
          '20240101000002_replace.js': [
            `await knex.schema.createTable('acd_mappings', (t) => { t.increments('id'); t.integer('role_id').references('acd_roles.id'); });`,
            `await knex.schema.dropTable('acd_old_mappings');`,
          ].join('\n'),
        }),
        all: true,
        ...(shadowUrl ? { shadowUrl } : {}),
      });
      const [timeout] = report.findings.filter((f) => f.migration.startsWith('20240101000002') && f.rule === 'missing-lock-timeout');
      expect(timeout?.message).toBe(
        'acd_roles is locked in SHARE ROW EXCLUSIVE mode without a lock_timeout (later statements lock acd_old_mappings in ACCESS EXCLUSIVE mode, acd_roles in ACCESS EXCLUSIVE mode)',
      );
      expect(timeout?.lock).toMatchObject({ mode: 'ShareRowExclusiveLock', relation: 'public.acd_roles', later: { mode: 'AccessExclusiveLock', since: { line: 3 } } });
      expect(timeout?.lock?.later?.blocks.reads).toBe(true);
      expect(timeout?.why).toMatch(
        /Later in the same transaction, `drop table "acd_old_mappings"` \(line 3\) takes ACCESS EXCLUSIVE on acd_roles too: from then until the migration commits it blocks reads/,
      );
    }, 120_000);
  });

suite('embedded', describe, undefined);
suite('server', describeServer, SERVER_URL);
