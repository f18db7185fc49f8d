import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase, type Database } from '../../src/db/connect.js';
import { snapshotSchema } from '../../src/schema/index.js';
import { readCatalog } from '../../src/schema/snapshot.js';
import type { SchemaSnapshot, TableInfo } from '../../src/schema/types.js';
import { RICH_SCHEMA_SQL } from './fixtures.js';
import { buildKnexAppSchema, column, columns, resetDatabase } from './helpers.js';

let db: Database;
beforeAll(async () => {
  db = await openEmbeddedDatabase({ extensions: ['citext'] });
});
afterAll(async () => {
  await db.close();
});

const EMPTY_DATABASE: SchemaSnapshot = {
  schemas: ['public'],
  extensions: { plpgsql: { name: 'plpgsql', schema: 'pg_catalog', version: '1.0' } },
  tables: {},
  indexes: {},
  sequences: {},
  enums: {},
  composites: {},
  domains: {},
  views: {},
  functions: {},
  triggers: {},
  policies: {},
  comments: { 'schema public': 'standard public schema' },
};

describe('snapshotSchema on embedded PostgreSQL 18', () => {
  describe('every object kind', () => {
    let snapshot: SchemaSnapshot;
    beforeAll(async () => {
      await resetDatabase(db.knex);
      await db.knex.raw(RICH_SCHEMA_SQL);
      snapshot = await snapshotSchema(db.knex);
    });

    it('lists user schemas and extensions', () => {
      expect(snapshot.schemas).toEqual(['billing', 'public']);
      expect(snapshot.extensions).toEqual(EMPTY_DATABASE.extensions);
    });

    it('captures tables with columns in physical order, defaults, identity, generated columns, collations', () => {
      expect(Object.keys(snapshot.tables)).toEqual(['public.events', 'public.events_2024', 'public.orders', 'public.users']);
      const users = snapshot.tables['public.users'];
      expect(users).toEqual({
        schema: 'public',
        name: 'users',
        kind: 'table',
        rowSecurity: true,
        forceRowSecurity: false,
        columns: columns(
          column('id', 'bigint', { nullable: false, identity: 'always' }),
          column('email', 'public.email'),
          column('name', 'character varying(100)', { nullable: false, default: "'anon'::character varying" }),
          column('nickname', 'text', { collation: 'C' }),
          column('price', 'numeric(10,2)'),
          column('full_name', 'text', { generated: "(((name)::text || ' '::text) || COALESCE(nickname, ''::text)) STORED" }),
          column('created_at', 'timestamp with time zone', { nullable: false, default: 'now()' }),
          column('born', 'date', { default: "'2000-01-31'::date" }),
        ),
        columnOrder: ['id', 'email', 'name', 'nickname', 'price', 'full_name', 'created_at', 'born'],
        constraints: {
          users_email_key: { name: 'users_email_key', kind: 'unique', definition: 'UNIQUE (email)', columns: ['email'], validated: true, deferrable: false },
          users_pkey: { name: 'users_pkey', kind: 'primary', definition: 'PRIMARY KEY (id)', columns: ['id'], validated: true, deferrable: false },
          users_price_check: {
            name: 'users_price_check',
            kind: 'check',
            definition: 'CHECK ((price > (0)::numeric))',
            columns: ['price'],
            validated: true,
            deferrable: false,
          },
        },
      } satisfies TableInfo);
      expect(Object.keys(users?.columns ?? {})).toEqual(['born', 'created_at', 'email', 'full_name', 'id', 'name', 'nickname', 'price']);
    });

    it('captures foreign keys with actions, exclusion constraints and serial defaults', () => {
      const orders = snapshot.tables['public.orders'];
      expect(orders?.columns['id']).toEqual(column('id', 'integer', { nullable: false, default: "nextval('public.orders_id_seq'::regclass)" }));
      expect(orders?.columns['status']).toEqual(column('status', 'public.order_status', { nullable: false, default: "'new'::public.order_status" }));
      expect(orders?.constraints).toEqual({
        orders_no_overlap: {
          name: 'orders_no_overlap',
          kind: 'exclusion',
          definition: 'EXCLUDE USING gist (during WITH &&)',
          columns: ['during'],
          validated: true,
          deferrable: false,
        },
        orders_pkey: { name: 'orders_pkey', kind: 'primary', definition: 'PRIMARY KEY (id)', columns: ['id'], validated: true, deferrable: false },
        orders_total_positive: {
          name: 'orders_total_positive',
          kind: 'check',
          definition: 'CHECK ((total >= (0)::numeric))',
          columns: ['total'],
          validated: true,
          deferrable: false,
        },
        orders_user_id_fkey: {
          name: 'orders_user_id_fkey',
          kind: 'foreign',
          definition: 'FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED',
          columns: ['user_id'],
          validated: true,
          deferrable: true,
          references: { table: 'public.users', columns: ['id'], onUpdate: 'no action', onDelete: 'cascade' },
        },
      });
    });

    it('captures partitioned tables and partitions, without the constraints and indexes they inherit', () => {
      expect(snapshot.tables['public.events']).toMatchObject({ kind: 'partitioned', partitionKey: 'RANGE (at)', columnOrder: ['id', 'at', 'payload'] });
      expect(Object.keys(snapshot.tables['public.events']?.constraints ?? {})).toEqual(['events_pkey']);
      const partition = snapshot.tables['public.events_2024'];
      expect(partition?.kind).toBe('table');
      expect(partition?.partitionOf).toEqual({ parent: 'public.events', bound: "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')" });
      expect(partition?.partitionKey).toBeUndefined();
      expect(partition?.constraints).toEqual({});
    });

    it('lists indexes that do not back a constraint, with predicate and expression columns', () => {
      expect(snapshot.indexes).toEqual({
        'public.events_at_idx': {
          schema: 'public',
          name: 'events_at_idx',
          table: 'public.events',
          definition: 'CREATE INDEX events_at_idx ON ONLY public.events USING btree (at)',
          unique: false,
          predicate: null,
          valid: true,
          columns: ['at'],
        },
        'public.orders_status_idx': {
          schema: 'public',
          name: 'orders_status_idx',
          table: 'public.orders',
          definition: "CREATE INDEX orders_status_idx ON public.orders USING btree (status) WHERE (status <> 'shipped'::public.order_status)",
          unique: false,
          predicate: "(status <> 'shipped'::public.order_status)",
          valid: true,
          columns: ['status'],
        },
        'public.users_lower_email': {
          schema: 'public',
          name: 'users_lower_email',
          table: 'public.users',
          definition: 'CREATE INDEX users_lower_email ON public.users USING btree (lower((email)::text))',
          unique: false,
          predicate: null,
          valid: true,
          columns: ['lower((email)::text)'],
        },
      });
    });

    it('captures sequences with their owners', () => {
      expect(snapshot.sequences).toEqual({
        'billing.invoice_no': { schema: 'billing', name: 'invoice_no', type: 'integer', ownedBy: null, increment: '5', start: '100' },
        'public.orders_id_seq': { schema: 'public', name: 'orders_id_seq', type: 'integer', ownedBy: 'public.orders.id', increment: '1', start: '1' },
        'public.users_id_seq': { schema: 'public', name: 'users_id_seq', type: 'bigint', ownedBy: 'public.users.id', increment: '1', start: '1' },
      });
    });

    it('captures enum and composite types and domains', () => {
      expect(snapshot.enums).toEqual({ 'public.order_status': { schema: 'public', name: 'order_status', values: ['new', 'paid', 'shipped'] } });
      expect(snapshot.composites).toEqual({
        'billing.money_pair': {
          schema: 'billing',
          name: 'money_pair',
          attributes: [
            { name: 'amount', type: 'numeric(12,2)' },
            { name: 'currency', type: 'character(3)' },
          ],
        },
      });
      expect(snapshot.domains).toEqual({
        'public.email': {
          schema: 'public',
          name: 'email',
          type: 'text',
          nullable: false,
          default: "'x@example.com'::text",
          checks: ["CHECK ((VALUE ~~ '%@%'::text))"],
        },
      });
    });

    it('captures views and materialized views', () => {
      expect(snapshot.views).toEqual({
        'billing.totals': {
          schema: 'billing',
          name: 'totals',
          materialized: true,
          definition: 'SELECT user_id,\n    sum(total) AS total\n   FROM public.orders\n  GROUP BY user_id;',
        },
        'public.active_users': {
          schema: 'public',
          name: 'active_users',
          materialized: false,
          definition: "SELECT id,\n    email\n   FROM public.users\n  WHERE ((name)::text <> 'anon'::text);",
        },
      });
    });

    it('captures functions, procedures and aggregates keyed by input types', () => {
      expect(snapshot.functions).toEqual({
        'billing.noop()': {
          schema: 'billing',
          name: 'noop',
          signature: 'noop()',
          kind: 'procedure',
          returns: null,
          language: 'plpgsql',
          definition: 'CREATE OR REPLACE PROCEDURE billing.noop()\n LANGUAGE plpgsql\nAS $procedure$ begin null; end $procedure$',
        },
        'public.add(integer, integer)': {
          schema: 'public',
          name: 'add',
          signature: 'add(integer, integer)',
          kind: 'function',
          returns: 'integer',
          language: 'sql',
          definition: 'CREATE OR REPLACE FUNCTION public.add(a integer, b integer)\n RETURNS integer\n LANGUAGE sql\n IMMUTABLE\nAS $function$select a + b$function$',
        },
        'public.my_sum(integer)': {
          schema: 'public',
          name: 'my_sum',
          signature: 'my_sum(integer)',
          kind: 'aggregate',
          returns: 'integer',
          language: 'internal',
          definition: "sfunc = int4pl, stype = integer, initcond = '0'",
        },
        'public.touch()': {
          schema: 'public',
          name: 'touch',
          signature: 'touch()',
          kind: 'function',
          returns: 'trigger',
          language: 'plpgsql',
          definition: 'CREATE OR REPLACE FUNCTION public.touch()\n RETURNS trigger\n LANGUAGE plpgsql\nAS $function$ begin new.created_at := now(); return new; end $function$',
        },
      });
    });

    it('captures triggers (not the internal ones behind foreign keys) and row-level security policies', () => {
      expect(snapshot.triggers).toEqual({
        'public.users.users_touch': {
          table: 'public.users',
          name: 'users_touch',
          definition: 'CREATE TRIGGER users_touch BEFORE UPDATE ON public.users FOR EACH ROW EXECUTE FUNCTION public.touch()',
          enabled: true,
        },
      });
      expect(snapshot.policies).toEqual({
        'public.users.users_self': {
          table: 'public.users',
          name: 'users_self',
          command: 'SELECT',
          permissive: true,
          roles: ['public'],
          using: '(id = 1)',
          withCheck: null,
        },
      });
    });

    it('captures comments on every kind of object', () => {
      expect(snapshot.comments).toEqual({
        'column public.users.email': 'login',
        'constraint public.orders.orders_total_positive': 'no refunds',
        'function public.add(integer, integer)': 'adds',
        'index public.orders_status_idx': 'open orders',
        'schema billing': 'money matters',
        'schema public': 'standard public schema',
        'table public.users': 'people',
        'type public.order_status': 'lifecycle',
      });
    });

    it('leaves out knex_migrations and knex_migrations_lock with their sequences', () => {
      expect(Object.keys(snapshot.tables).some((t) => t.includes('knex_'))).toBe(false);
      expect(Object.keys(snapshot.sequences).some((s) => s.includes('knex_'))).toBe(false);
    });

    it('is deterministic: the same JSON twice', async () => {
      expect(JSON.stringify(await snapshotSchema(db.knex))).toBe(JSON.stringify(snapshot));
    });
  });
});

describe('snapshotSchema, one schema per test', () => {
  beforeEach(async () => {
    await resetDatabase(db.knex);
  });

  it('describes an empty database', async () => {
    expect(await snapshotSchema(db.knex)).toEqual(EMPTY_DATABASE);
  });

  it('in a transaction, sends a query of the caller in its round trip; one that fails leaves the transaction usable', async () => {
    await db.knex.transaction(async (trx) => {
      await trx.raw('create table t (id integer)');
      const received: unknown[][] = [];
      const receive = (rows: unknown[]) => received.push(rows);
      // The first read on a session may prepare the catalog query first (the caller's query then does not go).
      await readCatalog(trx);
      const raw = await readCatalog(trx, {}, undefined, { sql: 'select count(*)::int as n from pg_catalog.pg_class where relname = $$t$$', receive });
      expect(raw.tables.map((t) => t.qname)).toEqual(['public.t']);
      expect(received).toEqual([[{ n: 1 }]]);
      // Fails inside the snapshot's savepoint: undone with it, the snapshot read again without it.
      const again = await readCatalog(trx, {}, undefined, { sql: 'execute knexsafe_no_such_statement', receive });
      expect(again.tables.map((t) => t.qname)).toEqual(['public.t']);
      expect(received).toHaveLength(1);
      expect((await trx.raw('select 2 as two')).rows).toEqual([{ two: 2 }]);
    });
  });

  it('describes a knex-built schema: knex constraint names, native enum, timestamps, .alter() losses', async () => {
    await buildKnexAppSchema(db.knex);
    const snapshot = await snapshotSchema(db.knex);
    expect(snapshot.tables['public.users']).toEqual({
      schema: 'public',
      name: 'users',
      kind: 'table',
      rowSecurity: false,
      forceRowSecurity: false,
      columns: columns(
        column('id', 'integer', { nullable: false, default: "nextval('public.users_id_seq'::regclass)" }),
        column('email', 'character varying(255)', { nullable: false }),
        // .alter() to text dropped NOT NULL and the default.
        column('name', 'text'),
        column('status', 'public.user_status', { nullable: false, default: "'new'::public.user_status" }),
        column('price', 'numeric(10,2)'),
        column('created_at', 'timestamp with time zone', { nullable: false, default: 'CURRENT_TIMESTAMP' }),
        column('updated_at', 'timestamp with time zone', { nullable: false, default: 'CURRENT_TIMESTAMP' }),
      ),
      columnOrder: ['id', 'email', 'name', 'status', 'price', 'created_at', 'updated_at'],
      constraints: {
        users_email_unique: { name: 'users_email_unique', kind: 'unique', definition: 'UNIQUE (email)', columns: ['email'], validated: true, deferrable: false },
        users_pkey: { name: 'users_pkey', kind: 'primary', definition: 'PRIMARY KEY (id)', columns: ['id'], validated: true, deferrable: false },
      },
    } satisfies TableInfo);
    expect(snapshot.tables['public.orders']?.constraints).toEqual({
      orders_pkey: { name: 'orders_pkey', kind: 'primary', definition: 'PRIMARY KEY (id)', columns: ['id'], validated: true, deferrable: false },
      orders_user_id_foreign: {
        name: 'orders_user_id_foreign',
        kind: 'foreign',
        definition: 'FOREIGN KEY (user_id) REFERENCES public.users(id) ON DELETE CASCADE',
        columns: ['user_id'],
        validated: true,
        deferrable: false,
        references: { table: 'public.users', columns: ['id'], onUpdate: 'no action', onDelete: 'cascade' },
      },
      orders_user_id_note_unique: {
        name: 'orders_user_id_note_unique',
        kind: 'unique',
        definition: 'UNIQUE (user_id, note)',
        columns: ['user_id', 'note'],
        validated: true,
        deferrable: false,
      },
    });
    expect(Object.keys(snapshot.indexes)).toEqual(['public.orders_note_index']);
    expect(snapshot.enums).toEqual({ 'public.user_status': { schema: 'public', name: 'user_status', values: ['new', 'active', 'banned'] } });
    expect(Object.keys(snapshot.sequences)).toEqual(['public.orders_id_seq', 'public.users_id_seq']);
  });

  it('reads nullability from attnotnull, not from the NOT NULL constraint rows PostgreSQL 18 keeps', async () => {
    await db.knex.raw('create table t (id integer primary key, a text not null, b text)');
    const notNullRows = (await db.knex.raw("select conname from pg_constraint where conrelid = 'public.t'::regclass and contype = 'n' order by 1")).rows;
    expect(notNullRows.map((r: { conname: string }) => r.conname)).toEqual(['t_a_not_null', 't_id_not_null']);
    const table = (await snapshotSchema(db.knex)).tables['public.t'];
    expect(Object.keys(table?.constraints ?? {})).toEqual(['t_pkey']);
    expect(table?.columns['a']?.nullable).toBe(false);
    expect(table?.columns['b']?.nullable).toBe(true);
  });

  it('marks virtual generated columns (PostgreSQL 18) apart from stored ones', async () => {
    await db.knex.raw('create table g (a integer, v integer generated always as (a * 2) virtual, s integer generated always as (a * 3) stored)');
    const table = (await snapshotSchema(db.knex)).tables['public.g'];
    expect(table?.columns['v']).toEqual(column('v', 'integer', { generated: '(a * 2) VIRTUAL' }));
    expect(table?.columns['s']).toEqual(column('s', 'integer', { generated: '(a * 3) STORED' }));
  });

  it('lists extensions but not the types and functions they own', async () => {
    await db.knex.raw('create extension citext');
    await db.knex.raw('create table tags (name citext primary key)');
    const snapshot = await snapshotSchema(db.knex);
    expect(Object.keys(snapshot.extensions)).toEqual(['citext', 'plpgsql']);
    expect(snapshot.extensions['citext']?.schema).toBe('public');
    expect(snapshot.functions).toEqual({});
    expect(snapshot.domains).toEqual({});
    expect(snapshot.tables['public.tags']?.columns['name']?.type).toBe('public.citext');
  });

  it('records NOT VALID constraints, deferrable unique keys, invalid state and policies with checks', async () => {
    await db.knex.raw(`
      create table accounts (id integer primary key, owner text, balance numeric, code text);
      alter table accounts add constraint accounts_balance_check check (balance >= 0) not valid;
      alter table accounts add constraint accounts_code_unique unique (code) deferrable initially immediate;
      alter table accounts enable row level security;
      alter table accounts force row level security;
      create policy owner_writes on accounts as restrictive for update to postgres using (owner = current_user) with check (balance >= 0);
    `);
    const table = (await snapshotSchema(db.knex)).tables['public.accounts'];
    expect(table?.constraints['accounts_balance_check']).toEqual({
      name: 'accounts_balance_check',
      kind: 'check',
      definition: 'CHECK ((balance >= (0)::numeric)) NOT VALID',
      columns: ['balance'],
      validated: false,
      deferrable: false,
    });
    expect(table?.constraints['accounts_code_unique']).toMatchObject({ definition: 'UNIQUE (code) DEFERRABLE', deferrable: true });
    expect(table).toMatchObject({ rowSecurity: true, forceRowSecurity: true });
    const snapshot = await snapshotSchema(db.knex);
    expect(snapshot.policies['public.accounts.owner_writes']).toEqual({
      table: 'public.accounts',
      name: 'owner_writes',
      command: 'UPDATE',
      permissive: false,
      roles: ['postgres'],
      using: '(owner = CURRENT_USER)',
      withCheck: '(balance >= (0)::numeric)',
    });
  });

  it('leaves out tables named in excludeTables, bare or schema-qualified, with what belongs to them', async () => {
    await db.knex.raw(`
      create schema audit;
      create table audit.log (id serial primary key, note text);
      create index log_note on audit.log (note);
      comment on table audit.log is 'x';
      create table public.log (id serial primary key);
      create table public.cache (id serial primary key);
    `);
    const qualified = await snapshotSchema(db.knex, { excludeTables: ['audit.log'] });
    expect(Object.keys(qualified.tables)).toEqual(['public.cache', 'public.log']);
    expect(Object.keys(qualified.sequences)).toEqual(['public.cache_id_seq', 'public.log_id_seq']);
    expect(qualified.indexes).toEqual({});
    expect(Object.keys(qualified.comments)).toEqual(['schema public']);
    const bare = await snapshotSchema(db.knex, { excludeTables: ['log', "it's a ?"] });
    expect(Object.keys(bare.tables)).toEqual(['public.cache']);
    expect(Object.keys(bare.sequences)).toEqual(['public.cache_id_seq']);
  });

  it('reads only the schemas asked for', async () => {
    await db.knex.raw('create schema audit; create table audit.log (id integer); create table public.t (id integer)');
    const snapshot = await snapshotSchema(db.knex, { schemas: ['audit'] });
    expect(snapshot.schemas).toEqual(['audit']);
    expect(Object.keys(snapshot.tables)).toEqual(['audit.log']);
    expect(snapshot.comments).toEqual({});
  });

  it('does not depend on the session search_path and leaves it as it was', async () => {
    await db.knex.raw("create schema app; create type app.mood as enum ('ok'); create table app.t (m app.mood default 'ok', id serial)");
    const plain = await snapshotSchema(db.knex);
    await db.knex.transaction(async (trx) => {
      await trx.raw("select set_config('search_path', 'app, public', true)");
      const inside = await snapshotSchema(trx);
      expect(inside).toEqual(plain);
      expect((await trx.raw('show search_path')).rows[0].search_path).toBe('app, public');
    });
    expect(plain.tables['app.t']?.columns['m']).toEqual(column('m', 'app.mood', { default: "'ok'::app.mood" }));
    expect(plain.tables['app.t']?.columns['id']?.default).toBe("nextval('app.t_id_seq'::regclass)");
  });

  it('sees uncommitted changes when given a transaction, and does not end it', async () => {
    await db.knex.transaction(async (trx) => {
      await trx.schema.createTable('pending', (t) => t.increments('id'));
      const snapshot = await snapshotSchema(trx);
      expect(Object.keys(snapshot.tables)).toEqual(['public.pending']);
      await trx('pending').insert({});
    });
    expect(Number((await db.knex('pending').count('* as n'))[0]?.['n'])).toBe(1);
  });

  it('does not depend on creation order', async () => {
    await db.knex.raw(`
      create table b (id integer primary key, x text);
      create table a (id integer primary key, b_id integer references b(id));
      create index a_b on a (b_id);
      create type z as enum ('1');
      create type y as enum ('2');
    `);
    const first = JSON.stringify(await snapshotSchema(db.knex));
    await resetDatabase(db.knex);
    await db.knex.raw(`
      create type y as enum ('2');
      create type z as enum ('1');
      create table b (id integer primary key, x text);
      create table a (id integer primary key, b_id integer);
      alter table a add foreign key (b_id) references b(id);
      create index a_b on a (b_id);
    `);
    expect(JSON.stringify(await snapshotSchema(db.knex))).toBe(first);
  });
});
