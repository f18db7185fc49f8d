/** DDL covering every object kind the snapshot reads; valid on PostgreSQL 15 and 18 alike. */
export const RICH_SCHEMA_SQL = `
create schema billing;
comment on schema billing is 'money matters';
create type public.order_status as enum ('new', 'paid', 'shipped');
create type billing.money_pair as (amount numeric(12,2), currency char(3));
create domain public.email as text not null default 'x@example.com' check (value like '%@%');
create sequence billing.invoice_no as integer increment by 5 start with 100;
create table public.users (
  id bigint generated always as identity primary key,
  email public.email unique,
  name varchar(100) not null default 'anon',
  nickname text collate "C",
  price numeric(10,2) check (price > 0),
  full_name text generated always as (name || ' ' || coalesce(nickname, '')) stored,
  created_at timestamptz not null default now(),
  born date default '2000-01-31'
);
create table public.orders (
  id serial primary key,
  user_id bigint not null references public.users(id) on delete cascade deferrable initially deferred,
  status public.order_status not null default 'new',
  total numeric,
  during tstzrange,
  constraint orders_total_positive check (total >= 0) not valid,
  constraint orders_no_overlap exclude using gist (during with &&)
);
create index orders_status_idx on public.orders (status) where status <> 'shipped';
create index users_lower_email on public.users (lower(email::text));
create table public.events (id integer not null, at date not null, payload jsonb) partition by range (at);
create table public.events_2024 partition of public.events for values from ('2024-01-01') to ('2025-01-01');
create index events_at_idx on public.events (at);
alter table public.events add primary key (id, at);
create view public.active_users as select id, email from public.users where name <> 'anon';
create materialized view billing.totals as select user_id, sum(total) as total from public.orders group by user_id;
create function public.touch() returns trigger language plpgsql as $$ begin new.created_at := now(); return new; end $$;
create function public.add(a integer, b integer) returns integer language sql immutable as 'select a + b';
create procedure billing.noop() language plpgsql as $$ begin null; end $$;
create aggregate public.my_sum(integer) (sfunc = int4pl, stype = integer, initcond = '0');
create trigger users_touch before update on public.users for each row execute function public.touch();
alter table public.users enable row level security;
create policy users_self on public.users for select to public using (id = 1);
comment on table public.users is 'people';
comment on column public.users.email is 'login';
comment on constraint orders_total_positive on public.orders is 'no refunds';
comment on index public.orders_status_idx is 'open orders';
comment on type public.order_status is 'lifecycle';
comment on function public.add(integer, integer) is 'adds';
create table knex_migrations (id serial primary key, name varchar(255));
create table knex_migrations_lock (index serial primary key, is_locked integer);
`;

/**
 * A schema of `count` tables shaped like a real app's: serial key, foreign key to the previous
 * table, unique and check constraints, a native enum, defaults, an index and comments.
 */
export function manyTablesSql(count: number): string {
  const statements = ["create type public.row_state as enum ('draft', 'live', 'archived')"];
  for (let i = 1; i <= count; i++) {
    const name = `table_${String(i).padStart(3, '0')}`;
    const parent = i > 1 ? `table_${String(i - 1).padStart(3, '0')}` : null;
    statements.push(`create table public.${name} (
      id serial primary key,
      ${parent ? `parent_id integer references public.${parent}(id) on delete set null,` : ''}
      name varchar(100) not null default 'unnamed',
      email text unique,
      state public.row_state not null default 'draft',
      amount numeric(10,2) check (amount >= 0),
      payload jsonb,
      created_at timestamptz not null default now(),
      updated_at timestamptz
    )`);
    statements.push(`create index ${name}_name_index on public.${name} (name)`);
    statements.push(`comment on table public.${name} is 'table number ${i}'`);
    statements.push(`comment on column public.${name}.amount is 'in cents'`);
  }
  statements.push('create view public.live_rows as select id, name from public.table_001 where state = \'live\'');
  return statements.join(';\n');
}
