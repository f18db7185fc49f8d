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
 * Shapes whose printed form changed between PostgreSQL versions, or could have: view queries of
 * every form (PostgreSQL 16 stopped qualifying columns of single-table queries), defaults with
 * constants of many types, index options, partition bounds, trigger conditions, policies,
 * SQL-standard function bodies, inheritance.
 */
export const EXPRESSIONS_SQL = `
create table public.users (id integer primary key, name text, "Weird Col" text, "select" int);
create table public.orders (id integer primary key, user_id integer references public.users(id), total numeric);
create view public.v_alias as select u.id, u.name from public.users u where u.id > 1 order by u.name;
create view public.v_join as select u.id, o.total from public.users u join public.orders o on o.user_id = u.id;
create view public.v_sublink as select id, name from public.users where exists (select 1 from public.orders o where o.user_id = users.id);
create view public.v_cte as with big as (select user_id, total from public.orders where total > 10) select user_id, count(*) as n from big group by user_id;
create view public.v_union as select id from public.users union select user_id from public.orders;
create view public.v_quoted as select "Weird Col", "select", id from public.users;
create view public.v_wholerow as select to_json(u.*) as j, id from public.users u;
create view public.v_subfrom as select s.id from (select id from public.users where id > 1) s where s.id < 10;
create view public.v_func as select g as n from generate_series(1, 3) g;
create view public.v_window as select id, row_number() over (order by name) as rn from public.users;
create view public.v_scalar as select id, (select max(total) from public.orders o where o.user_id = users.id) as m from public.users;
create view public.v_unicode as select id, name || 'é→' as n from public.users where name <> 'ü';
create function public.atomic_add(a integer, b integer) returns integer language sql immutable begin atomic select a + b; end;
create function public.strict_fn(a text) returns text language plpgsql strict security definer set search_path = public as $$ begin return upper(a); end $$;
create function public.setof_fn() returns setof public.users language sql stable as 'select * from public.users';
create function public.tbl_fn(x int) returns table(a int, b text) language sql as 'select 1, ''x''';

create table public.stamps (
  id bigint generated by default as identity (start with 10 increment by 5) primary key,
  kind text not null check (kind in ('a', 'b')),
  tags text[] default '{x,y}',
  meta jsonb default '{"a": 1}'::jsonb,
  ratio double precision default 0.1,
  ttl interval default '1 day 02:00:00',
  at timestamptz default '2024-01-01 12:00:00+02',
  amount numeric(12,4) default 1.5,
  code char(2) default 'XX',
  flag boolean default true,
  ip inet,
  doubled bigint generated always as (id * 2) stored
);
create unique index stamps_kind_code on public.stamps (kind, code) include (flag) nulls not distinct;
create index stamps_meta on public.stamps using gin (meta jsonb_path_ops);
create index stamps_desc on public.stamps (at desc nulls last, lower(kind) text_pattern_ops);
create table public.regions (code text not null, n int) partition by list (code);
create table public.regions_eu partition of public.regions for values in ('de', 'fr');
create table public.regions_rest partition of public.regions default;
create table public.shards (id int) partition by hash (id);
create table public.shards_0 partition of public.shards for values with (modulus 2, remainder 0);
create table public.shards_1 partition of public.shards for values with (modulus 2, remainder 1);
create function public.stamp_guard() returns trigger language plpgsql as $$ begin return new; end $$;
create trigger stamps_guard before update of kind on public.stamps for each row when (old.kind is distinct from new.kind) execute function public.stamp_guard();
create trigger stamps_stmt after insert on public.stamps referencing new table as inserted for each statement execute function public.stamp_guard();
alter table public.stamps enable row level security;
create policy stamps_kind on public.stamps for all using (kind = any (array['a', 'b'])) with check (exists (select 1 from public.users u where u.id = stamps.id));
create domain public.small_positive as integer check (value > 0) check (value < 100);
create domain public.tiny as public.small_positive default 1;
create function public.with_defaults(a integer, b text default 'x', variadic rest integer[] default '{}') returns text language sql stable parallel safe as $$ select b || a $$;
create function public.out_params(in a integer, out doubled integer, out tripled integer) language sql immutable as 'select a * 2, a * 3';
create table public.parent_t (id int);
create table public.child_t (extra text) inherits (public.parent_t);
create unlogged table public.scratch (id int);
comment on view public.v_join is 'joined';
comment on trigger stamps_guard on public.stamps is 'guards';
comment on policy stamps_kind on public.stamps is 'by kind';
comment on domain public.tiny is 'tiny';
comment on sequence public.stamps_id_seq is 'ids';
comment on column public.v_join.total is 'sum';
`;

/** Extensions bundled with PGlite and installed on the server, at the same version on both. */
export const EXTENSIONS_SQL = `
create extension if not exists "uuid-ossp";
create extension if not exists pg_trgm;
create table public.docs (id uuid primary key default uuid_generate_v4(), body text);
create index docs_body_trgm on public.docs using gin (body gin_trgm_ops);
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
  statements.push("create view public.live_rows as select id, name from public.table_001 where state = 'live'");
  return statements.join(';\n');
}
