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
 * 'incremental' when the rows written or deleted since the last read tell what changed, 'full'
 * when they cannot (a schema or a relation renamed).
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
  // What follows changes tables and views from inside DO blocks, functions and procedures: only
  // the catalog rows written or deleted since the last read tell what to re-read.
  {
    name: 'view_on_users',
    read: 'incremental',
    up: `await knex.raw('create view user_mails as select id, email from users');
  await knex.raw('alter table invoices add column state project_state default $$open$$');`,
  },
  {
    // The view prints the new column name; only users' rows were written.
    name: 'do_renames_column',
    read: 'incremental',
    up: `await knex.raw("do $$ begin execute 'alter table users rename column email to mail'; end $$");`,
  },
  {
    name: 'function_runs_ddl',
    read: 'incremental',
    up: `await knex.raw("create function reshape() returns void language plpgsql as $$ begin execute 'alter table invoices add column note text'; execute 'drop table events_2024'; end $$");
  await knex.raw('select reshape()');`,
  },
  {
    name: 'procedure_call',
    read: 'incremental',
    up: `await knex.raw("create procedure tighten() language plpgsql as $$ begin create index invoices_no_idx on invoices (no); alter table invoices add constraint invoices_no_positive check (no > 0); alter sequence invoice_no owned by invoices.no; end $$");
  await knex.raw('call tighten()');`,
  },
  {
    // Only deletions: a constraint, a comment, a sequence's OWNED BY (a pg_depend row).
    name: 'do_deletes_only',
    read: 'incremental',
    up: `await knex.raw("do $$ begin alter table invoices drop constraint invoices_no_positive; comment on table users is null; alter sequence invoice_no owned by none; end $$");`,
  },
  {
    // The column prints the type's new name, its default the new label: only the type's rows were written.
    name: 'do_renames_type_and_value',
    read: 'incremental',
    up: `await knex.raw("do $$ begin alter type project_state rename to work_state; alter type work_state rename value 'open' to 'opened'; end $$");`,
  },
  {
    // The trigger prints the function's new name.
    name: 'do_renames_trigger_function',
    read: 'incremental',
    up: `await knex.raw("do $$ begin alter function touch() rename to touch_row; end $$");`,
  },
  {
    // The first ALTER is rolled back with the block's subtransaction; the second stays.
    name: 'do_with_rolled_back_subtransaction',
    read: 'incremental',
    up: `await knex.raw("do $$ begin begin alter table users add column dropped_again int; raise exception 'undo'; exception when others then null; end; alter table users add column kept int; end $$");`,
  },
  {
    name: 'do_creates_schema',
    read: 'full',
    up: `await knex.raw("do $$ begin create schema extra; create table extra.items (id int primary key); end $$");`,
  },
];

const files: Record<string, string> = { 'knexfile.js': `module.exports = { client: 'pg', connection: process.env.UNUSED_DATABASE_URL };\n` };
steps.forEach((step, i) => {
  const stamp = `202401${String(i + 1).padStart(2, '0')}000000`;
  files[`migrations/${stamp}_${step.name}.js`] = `exports.up = async (knex) => {\n  ${step.up}\n};\nexports.down = async () => {};\n`;
});
// A concurrent index build, outside a transaction.
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
        const incremental = await snapshots.take(knex, session.recorder.lastFootprint());
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

    it('reads incrementally what it can tell changed, and whole only what it cannot', () => {
      // The read after do_creates_schema went inside its transaction (these reads do not go with the
      // COMMIT) and so counts that transaction's rows unseen, the new schema's too: whole again.
      const expected = [...steps.map((s) => s.read), 'full'];
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
      expect(byName('do_renames_column').views['public.user_mails']?.definition).toContain('mail AS email');
      expect(byName('function_runs_ddl').tables['public.invoices']?.columns['note']).toBeDefined();
      expect(byName('function_runs_ddl').tables['public.events_2024']).toBeUndefined();
      expect(byName('procedure_call').indexes['public.invoices_no_idx']).toBeDefined();
      expect(byName('procedure_call').sequences['public.invoice_no']?.ownedBy).toBe('public.invoices.no');
      expect(byName('do_deletes_only').tables['public.invoices']?.constraints['invoices_no_positive']).toBeUndefined();
      expect(byName('do_deletes_only').comments['table public.users']).toBeUndefined();
      expect(byName('do_deletes_only').sequences['public.invoice_no']?.ownedBy).toBeNull();
      expect(byName('do_renames_type_and_value').tables['public.invoices']?.columns['state']).toMatchObject({ type: 'public.work_state', default: "'opened'::public.work_state" });
      expect(byName('do_renames_trigger_function').triggers['public.users.users_touch']?.definition).toContain('touch_row()');
      expect(Object.keys(byName('do_with_rolled_back_subtransaction').tables['public.users']?.columns ?? {})).toContain('kept');
      expect(Object.keys(byName('do_with_rolled_back_subtransaction').tables['public.users']?.columns ?? {})).not.toContain('dropped_again');
      expect(byName('do_creates_schema').tables['extra.items']).toBeDefined();
    });
  });
}

incrementalSuite('embedded', describe, undefined);
incrementalSuite('server', describeServer, SERVER_URL);
