import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureSession } from '../../src/capture/session.js';
import { resolveProject } from '../../src/config/resolve.js';
import { IncrementalSnapshots } from '../../src/schema/incremental.js';
import { snapshotSchema } from '../../src/schema/snapshot.js';
import type { SchemaSnapshot } from '../../src/schema/types.js';
import { makeProject } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * Each migration is one kind of catalog change. `read` is how the snapshot after it must be taken:
 * 'incremental' when the recorder's footprint vouches for every change, 'full' when it cannot.
 */
const steps: { name: string; read: 'incremental' | 'full'; up: string }[] = [
  {
    name: 'create_tables',
    read: 'incremental',
    up: `await knex.schema.createTable('orgs', (t) => { t.increments('id'); t.string('name').notNullable(); });
  await knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email').notNullable().unique(); t.string('name'); t.integer('org_id').references('orgs.id'); });
  await knex.raw("comment on table users is 'people'");`,
  },
  {
    name: 'create_projects',
    read: 'incremental',
    up: `await knex.schema.createTable('projects', (t) => { t.bigIncrements('id'); t.integer('owner_id').notNullable().references('users.id').onDelete('cascade'); t.string('title'); t.index(['title']); });`,
  },
  {
    name: 'alter_users',
    read: 'incremental',
    up: `await knex.schema.alterTable('users', (t) => { t.string('status').notNullable().defaultTo('active'); t.string('name', 100).alter(); });
  await knex.raw("comment on column users.status is 'lifecycle'");`,
  },
  {
    name: 'create_view',
    read: 'incremental',
    up: `await knex.raw('create view user_projects as select u.id, u.name, p.title from users u join projects p on p.owner_id = u.id');`,
  },
  {
    name: 'replace_view',
    read: 'incremental',
    up: `await knex.raw('create or replace view user_projects as select u.id, u.name, p.title, u.status from users u join projects p on p.owner_id = u.id');`,
  },
  {
    name: 'data_only',
    read: 'incremental',
    up: `await knex('orgs').insert({ name: 'acme' });
  await knex('users').insert({ email: 'a@x', name: 'A', org_id: 1 });`,
  },
  {
    // The view prints the new column name, yet only users' rows were written: pg_depend names the view.
    name: 'rename_column',
    read: 'incremental',
    up: `await knex.schema.alterTable('users', (t) => { t.renameColumn('name', 'full_name'); });`,
  },
  {
    // users' foreign key prints the referenced table's new name.
    name: 'rename_table',
    read: 'full',
    up: `await knex.schema.renameTable('orgs', 'organizations');`,
  },
  {
    name: 'drop_foreign_key',
    read: 'incremental',
    up: `await knex.schema.alterTable('projects', (t) => { t.dropForeign(['owner_id']); });`,
  },
  {
    name: 'comments_on_constraint_and_index',
    read: 'incremental',
    up: `await knex.raw("comment on constraint users_email_unique on users is 'one per person'");
  await knex.raw("comment on index projects_title_index is 'search'");`,
  },
  {
    name: 'column_changes',
    read: 'incremental',
    up: `await knex.raw('alter table users alter column status drop default');
  await knex.raw('alter table projects alter column title set not null');
  await knex.raw('alter table users alter column email type varchar(300)');`,
  },
  {
    name: 'multi_statement_raw',
    read: 'incremental',
    up: `await knex.raw('alter table users add column score integer; create index users_score_idx on users (score)');`,
  },
  {
    name: 'native_enum',
    read: 'incremental',
    up: `await knex.schema.alterTable('projects', (t) => { t.enu('state', ['open', 'closed'], { useNative: true, enumName: 'project_state' }); });`,
  },
  {
    name: 'function_and_trigger',
    read: 'incremental',
    up: `await knex.raw("create function touch() returns trigger language plpgsql as $$ begin return new; end $$");
  await knex.raw('create trigger users_touch before update on users for each row execute function touch()');`,
  },
  {
    name: 'disable_trigger_rls_policy',
    read: 'incremental',
    up: `await knex.raw('alter table users disable trigger users_touch');
  await knex.raw('alter table projects enable row level security');
  await knex.raw('create policy projects_own on projects using (owner_id > 0)');`,
  },
  {
    name: 'matview_replaces_view',
    read: 'incremental',
    up: `await knex.raw('drop view user_projects');
  await knex.raw('create materialized view project_titles as select id, title from projects');
  await knex.raw('create index project_titles_title on project_titles (title)');`,
  },
  {
    // The materialized view goes with the table (CASCADE).
    name: 'drop_table_cascade',
    read: 'incremental',
    up: `await knex.raw('drop table projects cascade');`,
  },
  {
    name: 'sequences_and_identity',
    read: 'incremental',
    up: `await knex.raw('create sequence invoice_no start with 100');
  await knex.raw('alter sequence invoice_no increment by 5');
  await knex.raw('create table invoices (id integer generated always as identity primary key, no integer not null default nextval($$invoice_no$$))');`,
  },
  {
    name: 'partitions',
    read: 'incremental',
    up: `await knex.raw('create table events (id integer not null, at date not null) partition by range (at)');
  await knex.raw("create table events_2024 (id integer not null, at date not null)");
  await knex.raw("alter table events attach partition events_2024 for values from ('2024-01-01') to ('2025-01-01')");`,
  },
  {
    name: 'drop_index_and_column',
    read: 'incremental',
    up: `await knex.raw('drop index users_score_idx');
  await knex.schema.alterTable('users', (t) => { t.dropColumn('score'); });`,
  },
  {
    name: 'composite_type',
    read: 'incremental',
    up: `await knex.raw('create type money_pair as (amount numeric(12,2), currency char(3))');`,
  },
  {
    // Parses as ALTER TABLE, on the type's relation.
    name: 'alter_composite_type',
    read: 'incremental',
    up: `await knex.raw('alter type money_pair add attribute note text');`,
  },
  {
    // Relation-scoped in form, but the relation is the composite type's.
    name: 'comment_on_composite_attribute',
    read: 'incremental',
    up: `await knex.raw("comment on column money_pair.note is 'free text'");`,
  },
  {
    name: 'do_block',
    read: 'incremental',
    up: `await knex.raw("do $$ begin execute 'alter table users add column nickname text'; end $$");`,
  },
];

const files: Record<string, string> = { 'knexfile.js': `module.exports = { client: 'pg', connection: process.env.UNUSED_DATABASE_URL };\n` };
steps.forEach((step, i) => {
  const stamp = `202401${String(i + 1).padStart(2, '0')}000000`;
  files[`migrations/${stamp}_${step.name}.js`] = `exports.up = async (knex) => {\n  ${step.up}\n};\nexports.down = async () => {};\n`;
});
// Running a concurrent index build outside a transaction: not watched, so the next read is full.
files['migrations/20240199000000_concurrent_index.js'] = `exports.config = { transaction: false };
exports.up = (knex) => knex.raw('create index concurrently users_status_idx on users (status)');
exports.down = async () => {};
`;

function incrementalSuite(label: string, describeFn: typeof describe, shadowUrl: string | undefined) {
  describeFn(`incremental schema snapshots on the ${label} shadow`, () => {
    let session: CaptureSession;
    const results: { name: string; read: 'incremental' | 'full'; incremental: SchemaSnapshot; full: SchemaSnapshot }[] = [];

    beforeAll(async () => {
      const dir = makeProject(files);
      const project = await resolveProject({ cwd: dir });
      session = await CaptureSession.open({ project, ...(shadowUrl ? { shadowUrl } : {}) });
      const options = { excludeTables: [project.migrations.tableName, `${project.migrations.tableName}_lock`] };
      const snapshots = new IncrementalSnapshots(options);
      session.onBoundary = async (knex, moment, migration) => {
        if (moment === 'before') {
          if (results.length === 0) await snapshots.take(knex);
          return;
        }
        const fullBefore = snapshots.counts.full;
        const incremental = await snapshots.take(knex);
        const full = await snapshotSchema(knex, options);
        results.push({ name: migration.name, read: snapshots.counts.full > fullBefore ? 'full' : 'incremental', incremental, full });
      };
      for (const file of session.files) {
        const outcome = await session.up(file.name);
        if (outcome.error) throw new Error(`${file.name}: ${outcome.error.message}`);
      }
    });

    afterAll(async () => {
      await session?.close();
    });

    it('equals a full snapshot after every migration', () => {
      expect(results).toHaveLength(steps.length + 1);
      for (const r of results) expect({ name: r.name, snapshot: r.incremental }).toEqual({ name: r.name, snapshot: r.full });
    });

    it('reads incrementally what the footprint vouches for, and whole what it cannot', () => {
      const expected = [...steps.map((s) => s.read), 'incremental'];
      expect(results.map((r) => `${r.name.slice(15)}: ${r.read}`)).toEqual(results.map((r, i) => `${r.name.slice(15)}: ${expected[i]}`));
    });

    it('sees the changes themselves (the comparison is not vacuous)', () => {
      const byName = (suffix: string) => results.find((r) => r.name.includes(`_${suffix}`))!.incremental;
      expect(byName('replace_view').views['public.user_projects']?.definition).toContain('status');
      expect(byName('rename_column').views['public.user_projects']?.definition).toContain('full_name');
      expect(byName('drop_table_cascade').views['public.project_titles']).toBeUndefined();
      expect(byName('drop_table_cascade').tables['public.projects']).toBeUndefined();
      expect(byName('disable_trigger_rls_policy').triggers['public.users.users_touch']?.enabled).toBe(false);
      expect(byName('partitions').tables['public.events_2024']?.partitionOf?.parent).toBe('public.events');
      expect(byName('alter_composite_type').composites['public.money_pair']?.attributes.map((a) => a.name)).toEqual(['amount', 'currency', 'note']);
      expect(byName('comment_on_composite_attribute').comments['column public.money_pair.note']).toBe('free text');
    });
  });
}

incrementalSuite('embedded', describe, undefined);
incrementalSuite('server', describeServer, SERVER_URL);
