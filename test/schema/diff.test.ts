import type { Knex } from 'knex';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase, type Database } from '../../src/db/connect.js';
import { diffSchemas, formatDiff, snapshotSchema, summarizeDiff } from '../../src/schema/index.js';
import type { SchemaDiff } from '../../src/schema/types.js';
import { resetDatabase } from './helpers.js';

let db: Database;
beforeAll(async () => {
  db = await openEmbeddedDatabase();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await resetDatabase(db.knex);
});

/** Schema before `change`, schema after, compared as "expected before, actual after". */
async function diffAcross(setup: (knex: Knex) => Promise<unknown>, change: (knex: Knex) => Promise<unknown>): Promise<SchemaDiff> {
  await setup(db.knex);
  const before = await snapshotSchema(db.knex);
  await change(db.knex);
  const after = await snapshotSchema(db.knex);
  return diffSchemas(before, after);
}

const messages = (diff: SchemaDiff) => diff.changes.map((c) => c.message);

async function usersTable(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('email').notNullable().unique();
    t.string('status').notNullable().defaultTo('new');
    t.decimal('price', 10, 2);
    t.string('phone').index();
  });
}

describe('diffSchemas on snapshots of real databases', () => {
  it('finds nothing between equal schemas', async () => {
    const diff = await diffAcross(usersTable, async () => undefined);
    expect(diff).toEqual({ equal: true, changes: [], notes: [] });
  });

  it('reports a missing index', async () => {
    const diff = await diffAcross(usersTable, (knex) => knex.schema.alterTable('users', (t) => t.dropIndex('phone')));
    expect(diff.changes).toEqual([
      {
        kind: 'index',
        object: 'public.users_phone_index',
        change: 'missing',
        expected: expect.objectContaining({ definition: 'CREATE INDEX users_phone_index ON public.users USING btree (phone)' }),
        message: 'index users_phone_index: missing',
      },
    ]);
    expect(diff.equal).toBe(false);
  });

  it('reports a missing column once, with its index', async () => {
    const diff = await diffAcross(usersTable, (knex) => knex.schema.alterTable('users', (t) => t.dropColumn('phone')));
    expect(messages(diff)).toEqual(['column users.phone: missing', 'index users_phone_index: missing']);
    expect(diff.changes[0]).toMatchObject({ kind: 'column', object: 'public.users.phone', change: 'missing' });
  });

  it('reports a column left behind', async () => {
    const diff = await diffAcross(usersTable, (knex) => knex.schema.alterTable('users', (t) => t.string('nickname')));
    expect(diff.changes).toEqual([
      {
        kind: 'column',
        object: 'public.users.nickname',
        change: 'extra',
        actual: { name: 'nickname', type: 'character varying(255)', nullable: true, default: null, identity: null, generated: null, collation: null },
        message: 'column users.nickname: left behind',
      },
    ]);
  });

  it('reports a wrong type', async () => {
    const diff = await diffAcross(usersTable, (knex) => knex.schema.alterTable('users', (t) => t.integer('price').alter()));
    expect(diff.changes).toEqual([
      {
        kind: 'column',
        object: 'public.users.price',
        change: 'changed',
        attribute: 'type',
        expected: 'numeric(10,2)',
        actual: 'integer',
        message: 'users.price: type numeric(10,2) → integer',
      },
    ]);
  });

  it('reports the default and NOT NULL that knex .alter() drops', async () => {
    const diff = await diffAcross(usersTable, (knex) => knex.schema.alterTable('users', (t) => t.string('status', 50).alter()));
    expect(messages(diff)).toEqual(['users.status: type character varying(255) → character varying(50)', 'users.status: NOT NULL → nullable', "users.status: default 'new' → none"]);
    expect(diff.changes[2]).toMatchObject({ attribute: 'default', expected: "'new'::character varying", actual: null });
    expect(diff.changes[1]).toMatchObject({ attribute: 'nullable', expected: false, actual: true });
  });

  it('reports a native enum type left behind by dropTable (down did not undo up)', async () => {
    const before = await snapshotSchema(db.knex);
    await db.knex.schema.createTable('shipments', (t) => {
      t.increments('id');
      t.enu('state', ['packed', 'sent'], { useNative: true, enumName: 'shipment_state' });
    });
    await db.knex.schema.dropTable('shipments');
    const diff = diffSchemas(before, await snapshotSchema(db.knex));
    expect(diff.changes).toEqual([
      {
        kind: 'enum',
        object: 'public.shipment_state',
        change: 'extra',
        actual: { schema: 'public', name: 'shipment_state', values: ['packed', 'sent'] },
        message: 'type shipment_state: left behind',
      },
    ]);
  });

  it('reports a missing table once, not its columns, constraints, indexes, sequences, triggers or comments', async () => {
    const diff = await diffAcross(
      async (knex) => {
        await usersTable(knex);
        await knex.raw(`
          create table orders (id serial primary key, user_id integer references users(id), total numeric check (total > 0));
          create index orders_total on orders (total);
          create function stamp() returns trigger language plpgsql as $$ begin return new; end $$;
          create trigger orders_stamp before insert on orders for each row execute function stamp();
          comment on table orders is 'orders';
          comment on column orders.total is 'sum';
        `);
      },
      (knex) => knex.schema.dropTable('orders'),
    );
    expect(messages(diff)).toEqual(['table orders: missing']);
    expect(diff.changes[0]).toMatchObject({ kind: 'table', object: 'public.orders', change: 'missing' });
  });

  it('treats a dropped and recreated table as equal', async () => {
    const diff = await diffAcross(usersTable, async (knex) => {
      await knex.schema.dropTable('users');
      await usersTable(knex);
    });
    expect(diff).toEqual({ equal: true, changes: [], notes: [] });
  });

  it('treats a different column order as equal, with a note', async () => {
    const diff = await diffAcross(usersTable, async (knex) => {
      await knex.schema.alterTable('users', (t) => t.dropColumn('price'));
      await knex.schema.alterTable('users', (t) => t.decimal('price', 10, 2));
    });
    expect(diff).toEqual({
      equal: true,
      changes: [],
      notes: ['users: column order differs, (id, email, status, price, phone) → (id, email, status, phone, price) (not a difference: order does not change behaviour)'],
    });
  });

  it('reports missing foreign keys by their knex names', async () => {
    const diff = await diffAcross(
      async (knex) => {
        await usersTable(knex);
        await knex.schema.createTable('orders', (t) => {
          t.increments('id');
          t.integer('user_id').references('id').inTable('users');
        });
      },
      (knex) => knex.schema.alterTable('orders', (t) => t.dropForeign(['user_id'])),
    );
    expect(diff.changes).toEqual([
      {
        kind: 'constraint',
        object: 'public.orders.orders_user_id_foreign',
        change: 'missing',
        expected: expect.objectContaining({ kind: 'foreign', definition: 'FOREIGN KEY (user_id) REFERENCES public.users(id)' }),
        message: 'constraint orders_user_id_foreign: missing',
      },
    ]);
  });

  it('reports a constraint recreated under PostgreSQL’s default name as a rename', async () => {
    const diff = await diffAcross(usersTable, (knex) => knex.raw('alter table users drop constraint users_email_unique; alter table users add unique (email)'));
    expect(diff.changes).toEqual([
      {
        kind: 'constraint',
        object: 'public.users.users_email_unique',
        change: 'changed',
        attribute: 'name',
        expected: 'users_email_unique',
        actual: 'users_email_key',
        message: 'constraint users_email_unique: renamed to users_email_key',
      },
    ]);
  });

  it('reports a changed check, a constraint left NOT VALID and a changed index', async () => {
    const diff = await diffAcross(
      async (knex) => {
        await usersTable(knex);
        await knex.raw('alter table users add constraint users_price_check check (price > 0)');
        await knex.raw("alter table users add constraint users_email_check check (email <> '')");
      },
      (knex) =>
        knex.raw(`
          alter table users drop constraint users_price_check;
          alter table users add constraint users_price_check check (price >= 0);
          alter table users drop constraint users_email_check;
          alter table users add constraint users_email_check check (email <> '') not valid;
          drop index users_phone_index;
          create index users_phone_index on users (lower(phone));
        `),
    );
    expect(messages(diff)).toEqual([
      'constraint users_email_check: validated → NOT VALID',
      'constraint users_price_check: CHECK ((price > (0)::numeric)) → CHECK ((price >= (0)::numeric))',
      'index users_phone_index: CREATE INDEX users_phone_index ON users USING btree (phone) → CREATE INDEX users_phone_index ON users USING btree (lower((phone)::text))',
    ]);
  });

  it('names objects outside public with their schema', async () => {
    const diff = await diffAcross(
      (knex) => knex.raw("create schema billing; create table billing.invoices (id integer, total numeric); create type billing.kind as enum ('a')"),
      (knex) => knex.raw("alter table billing.invoices drop column total; alter type billing.kind add value 'b'; create schema audit"),
    );
    expect(diff.changes.map((c) => [c.object, c.message])).toEqual([
      ['audit', 'schema audit: left behind'],
      ['billing.kind', "type billing.kind: values ('a') → ('a', 'b')"],
      ['billing.invoices.total', 'column billing.invoices.total: missing'],
    ]);
  });

  it('reports views, functions, triggers, policies, sequences, domains and comments', async () => {
    const diff = await diffAcross(
      (knex) =>
        knex.raw(`
          create table items (id integer primary key, name text, price numeric);
          create view cheap_items as select id, name from items where price < 10;
          create function item_count() returns bigint language sql as 'select count(*) from items';
          create function noop() returns trigger language plpgsql as $$ begin return new; end $$;
          create trigger items_noop before insert on items for each row execute function noop();
          alter table items enable row level security;
          create policy items_read on items for select using (true);
          create sequence counter increment by 1;
          create domain positive as numeric check (value > 0);
          comment on table items is 'things';
          comment on column items.name is 'label';
        `),
      (knex) =>
        knex.raw(`
          create or replace view cheap_items as select id, name from items where price < 5;
          create or replace function item_count() returns bigint language sql as 'select count(*) + 0 from items';
          alter table items disable trigger items_noop;
          alter table items disable row level security;
          drop policy items_read on items;
          alter sequence counter increment by 10;
          alter domain positive set not null;
          comment on table items is 'goods';
          comment on column items.name is null;
          comment on column items.price is 'in cents';
        `),
    );
    expect(messages(diff)).toEqual([
      'domain positive: nullable → NOT NULL',
      'sequence counter: increment 1 → 10',
      'table items: row level security enabled → disabled',
      'view cheap_items: definition differs',
      'function item_count(): definition differs',
      'trigger items_noop on items: enabled → disabled',
      'policy items_read on items: missing',
      "comment on column items.name: 'label' → none",
      "comment on column items.price: none → 'in cents'",
      "comment on table items: 'things' → 'goods'",
    ]);
    expect(diff.changes.map((c) => c.change)).toEqual(['changed', 'changed', 'changed', 'changed', 'changed', 'changed', 'missing', 'missing', 'extra', 'changed']);
  });
});

describe('formatDiff and summarizeDiff', () => {
  it('prints one line per change, then the notes', async () => {
    const diff = await diffAcross(usersTable, async (knex) => {
      await knex.schema.alterTable('users', (t) => t.dropColumn('price'));
      await knex.schema.alterTable('users', (t) => t.decimal('price', 10, 2));
      await knex.schema.alterTable('users', (t) => t.dropIndex('phone'));
      await knex.schema.alterTable('users', (t) => t.string('nickname'));
    });
    expect(formatDiff(diff, { indent: '  ' })).toBe(
      [
        '  column users.nickname: left behind',
        '  index users_phone_index: missing',
        '  note: users: column order differs, (id, email, status, price, phone) → (id, email, status, phone, price) (not a difference: order does not change behaviour)',
      ].join('\n'),
    );
    expect(summarizeDiff(diff)).toBe('2 schema differences (1 missing, 1 left behind)');
  });

  it('says so when there is nothing to report', async () => {
    const diff = await diffAcross(usersTable, async () => undefined);
    expect(formatDiff(diff)).toBe('no schema differences');
    expect(summarizeDiff(diff)).toBe('no schema differences');
  });
});
