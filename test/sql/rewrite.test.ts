import { beforeAll, describe, expect, it } from 'vitest';
import { ensureParser, parseSqlSync, parseTypeText, predictsRewrite, statementFacts, typeChange, type RewriteContext, type RewritePrediction } from '../../src/sql/index.js';

beforeAll(async () => {
  await ensureParser();
});

function predict(sql: string, context: Partial<RewriteContext> = {}): RewritePrediction | undefined {
  const [statement] = parseSqlSync(sql);
  return predictsRewrite(statementFacts(statement!.ast, statement!.sql), { pgVersion: 15, ...context });
}

const typesOf =
  (types: Record<string, string>) =>
  (_table: unknown, column: string): string | undefined =>
    types[column];

describe('parseTypeText', () => {
  it('reads format_type output and SQL spellings alike', () => {
    expect(parseTypeText('character varying(255)')).toMatchObject({ name: 'varchar', modifiers: [255], text: 'varchar(255)' });
    expect(parseTypeText('varchar(255)')).toMatchObject({ name: 'varchar', modifiers: [255] });
    expect(parseTypeText('numeric(10,2)')).toMatchObject({ name: 'numeric', modifiers: [10, 2] });
    expect(parseTypeText('timestamp with time zone')).toMatchObject({ name: 'timestamptz', modifiers: [] });
    expect(parseTypeText('timestamp(3) without time zone')).toMatchObject({ name: 'timestamp', modifiers: [3] });
    expect(parseTypeText('integer')).toMatchObject({ name: 'int4' });
    expect(parseTypeText('integer[]')).toMatchObject({ name: 'int4', array: true, text: 'int4[]' });
    expect(parseTypeText('public.order_status')).toMatchObject({ schema: 'public', name: 'order_status' });
    expect(parseTypeText('not a type (')).toBeUndefined();
  });
});

describe('typeChange', () => {
  const change = (from: string, to: string, pgVersion = 15, timeZone?: string) => typeChange(parseTypeText(from)!, parseTypeText(to)!, { pgVersion, ...(timeZone ? { timeZone } : {}) });

  it('does not rewrite binary-coercible and widening changes', () => {
    for (const [from, to] of [
      ['character varying(100)', 'character varying(200)'],
      ['character varying(100)', 'character varying'],
      ['character varying(100)', 'text'],
      ['text', 'character varying'],
      ['numeric(10,2)', 'numeric(12,2)'],
      ['numeric(10,2)', 'numeric'],
      ['timestamp(3) without time zone', 'timestamp(6) without time zone'],
      ['timestamp(3) without time zone', 'timestamp without time zone'],
      ['bit varying(5)', 'bit varying(10)'],
      ['cidr', 'inet'],
      ['integer', 'integer'],
    ]) {
      expect(change(from!, to!), `${from} → ${to}`).toMatchObject({ rewrite: false, certain: true });
    }
  });

  it('rewrites conversions, narrowing and new limits', () => {
    for (const [from, to] of [
      ['integer', 'bigint'],
      ['bigint', 'integer'],
      ['character varying(200)', 'character varying(100)'],
      ['text', 'character varying(50)'],
      ['numeric(10,2)', 'numeric(12,3)'],
      ['numeric(10,2)', 'numeric(8,2)'],
      ['numeric', 'numeric(10,2)'],
      ['character(5)', 'character(10)'],
      ['timestamp without time zone', 'timestamp(3) without time zone'],
      ['json', 'jsonb'],
      ['text', 'uuid'],
      ['integer[]', 'bigint[]'],
    ]) {
      expect(change(from!, to!), `${from} → ${to}`).toMatchObject({ rewrite: true, certain: true });
    }
  });

  it('knows the timestamp ↔ timestamptz exception depends on the session time zone (PostgreSQL ≥ 12)', () => {
    expect(change('timestamp without time zone', 'timestamp with time zone', 15, 'UTC')).toMatchObject({ rewrite: false, certain: true });
    expect(change('timestamp with time zone', 'timestamp without time zone', 15, 'Etc/UTC')).toMatchObject({ rewrite: false });
    expect(change('timestamp without time zone', 'timestamp with time zone', 15, 'Europe/Paris')).toMatchObject({ rewrite: true, certain: true });
    expect(change('timestamp without time zone', 'timestamp with time zone', 15)).toMatchObject({ rewrite: true, certain: false });
    expect(change('timestamp without time zone', 'timestamp with time zone', 11, 'UTC')).toMatchObject({ rewrite: true, certain: true });
  });

  it('is unsure about types it cannot see (domains, extension types)', () => {
    expect(change('text', 'public.email')).toMatchObject({ rewrite: true, certain: false });
    expect(change('text', 'citext')).toMatchObject({ rewrite: false, certain: false });
  });
});

describe('predictsRewrite: ADD COLUMN', () => {
  it('does not rewrite for constant or stable defaults on PostgreSQL ≥ 11', () => {
    expect(predict(`alter table "users" add column "age" integer not null default '0'`)).toMatchObject({ rewrite: false, scan: false, certain: true });
    expect(predict(`alter table users add column at timestamptz not null default now()`)).toMatchObject({ rewrite: false, scan: false });
    expect(predict(`alter table users add column at timestamptz default CURRENT_TIMESTAMP`)).toMatchObject({ rewrite: false });
    expect(predict(`alter table users add column note text`)).toMatchObject({ rewrite: false, scan: false });
  });

  it('rewrites for volatile defaults, serial, identity and stored generated columns', () => {
    for (const sql of [
      `alter table users add column uid uuid default gen_random_uuid()`,
      `alter table users add column r float8 default random()`,
      `alter table users add column at timestamptz default clock_timestamp()`,
      `alter table users add column u uuid default uuid_generate_v4()`,
      `alter table users add column n int default nextval('s')`,
      `alter table users add column id2 bigserial`,
      `alter table users add column id3 int generated always as identity`,
      `alter table users add column g int generated always as (age * 2) stored`,
    ]) {
      expect(predict(sql), sql).toMatchObject({ rewrite: true, scan: true, certain: true });
    }
    expect(predict(`alter table users add column uid uuid default gen_random_uuid()`)!.reason).toMatch(/gen_random_uuid\(\).*volatile/);
  });

  it('rewrites for any non-null default before PostgreSQL 11', () => {
    expect(predict(`alter table users add column a int default 0`, { pgVersion: 10 })).toMatchObject({ rewrite: true });
    expect(predict(`alter table users add column a int default null`, { pgVersion: 10 })).toMatchObject({ rewrite: false });
  });

  it('marks unknown functions as uncertain', () => {
    expect(predict(`alter table users add column c text default app.make_code()`)).toMatchObject({ rewrite: true, certain: false });
  });

  it('scans for NOT NULL without default, CHECK, UNIQUE, and defaulted REFERENCES', () => {
    expect(predict(`alter table t add column x int not null`)).toMatchObject({ rewrite: false, scan: true });
    expect(predict(`alter table t add column x int check (x > 0)`)).toMatchObject({ rewrite: false, scan: true });
    expect(predict(`alter table t add column x int unique`)).toMatchObject({ rewrite: false, scan: true });
    expect(predict(`alter table t add column x int default 1 references u (id)`)).toMatchObject({ rewrite: false, scan: true });
    expect(predict(`alter table t add column x int references u (id)`)).toMatchObject({ rewrite: false, scan: false });
  });
});

describe('predictsRewrite: ALTER COLUMN TYPE', () => {
  const columnTypes = typesOf({ email: 'character varying(255)', age: 'integer', score: 'numeric(10,2)', name: 'text' });

  it("judges knex's .alter() type change by the current type", () => {
    const knexAlter = `alter table "users" alter column "email" type varchar(100) using ("email"::varchar(100))`;
    expect(predict(knexAlter, { columnTypes })).toMatchObject({ rewrite: true, certain: true });
    expect(predict(`alter table "users" alter column "email" type varchar(500) using ("email"::varchar(500))`, { columnTypes })).toMatchObject({ rewrite: false, scan: false });
    expect(predict(`alter table "users" alter column "email" type text using ("email"::text)`, { columnTypes })).toMatchObject({ rewrite: false });
    expect(predict(`alter table users alter column age type bigint`, { columnTypes })).toMatchObject({ rewrite: true });
    expect(predict(`alter table users alter column score type numeric(12,2)`, { columnTypes })).toMatchObject({ rewrite: false });
    expect(predict(`alter table users alter column name type varchar`, { columnTypes })).toMatchObject({ rewrite: false });
  });

  it('assumes a rewrite when the current type is unknown', () => {
    expect(predict(`alter table users alter column email type text`)).toMatchObject({ rewrite: true, certain: false });
  });

  it('rewrites when USING computes something else', () => {
    expect(predict(`alter table users alter column age type int using age + 1`, { columnTypes })).toMatchObject({ rewrite: true, certain: true });
    expect(predict(`alter table users alter column age type integer using age`, { columnTypes })).toMatchObject({ rewrite: false });
  });

  it('combines sub-commands: any rewrite wins', () => {
    const prediction = predict(`alter table users alter column email type text, alter column age type bigint`, { columnTypes });
    expect(prediction).toMatchObject({ rewrite: true });
    expect(prediction!.reason).toMatch(/int4 → int8/);
  });
});

describe('predictsRewrite: constraints and NOT NULL', () => {
  it('scans for SET NOT NULL unless a validated CHECK (col IS NOT NULL) exists', () => {
    expect(predict(`alter table users alter column name set not null`)).toMatchObject({ rewrite: false, scan: true });
    expect(predict(`alter table users alter column name set not null`, { hasValidNotNullCheck: () => true })).toMatchObject({ scan: false });
    expect(predict(`alter table users alter column name set not null`, { pgVersion: 11, hasValidNotNullCheck: () => true })).toMatchObject({ scan: true });
  });

  it('scans for CHECK and FOREIGN KEY unless NOT VALID, and for VALIDATE', () => {
    expect(predict(`alter table orders add constraint c check (total >= 0)`)).toMatchObject({ scan: true, rewrite: false });
    expect(predict(`alter table orders add constraint c check (total >= 0) not valid`)).toMatchObject({ scan: false });
    expect(predict(`alter table "orders" add constraint "orders_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete CASCADE`)).toMatchObject({ scan: true });
    expect(predict(`alter table orders add constraint f foreign key (user_id) references users (id) not valid`)).toMatchObject({ scan: false });
    expect(predict(`alter table orders validate constraint f`)).toMatchObject({ scan: true, rewrite: false });
  });

  it('builds an index for PRIMARY KEY / UNIQUE unless USING INDEX', () => {
    expect(predict(`alter table "users" add constraint "users_email_unique" unique ("email")`)).toMatchObject({ scan: true, rewrite: false });
    expect(predict(`alter table users add primary key (id)`)).toMatchObject({ scan: true });
    expect(predict(`alter table users add constraint users_email_unique unique using index users_email_idx`)).toMatchObject({ scan: false, certain: true });
    expect(predict(`alter table users add constraint users_pkey primary key using index users_id_idx`)).toMatchObject({ scan: false, certain: false });
  });
});

describe('predictsRewrite: other statements', () => {
  it('knows the statements that copy a table', () => {
    expect(predict(`alter table users set unlogged`)).toMatchObject({ rewrite: true });
    expect(predict(`alter table users set tablespace fast`)).toMatchObject({ rewrite: true });
    expect(predict(`vacuum full users`)).toMatchObject({ rewrite: true });
    expect(predict(`cluster users using users_pkey`)).toMatchObject({ rewrite: true });
    expect(predict(`refresh materialized view mv`)).toMatchObject({ rewrite: true });
    expect(predict(`refresh materialized view concurrently mv`)).toMatchObject({ rewrite: false, scan: true });
  });

  it('knows the catalog-only changes', () => {
    for (const sql of [
      `alter table users drop column age`,
      `alter table users alter column email set default 'x'`,
      `alter table users alter column email drop not null`,
      `alter table users alter column email set statistics 100`,
      `alter table users disable trigger all`,
    ]) {
      expect(predict(sql), sql).toMatchObject({ rewrite: false, scan: false });
    }
  });

  it('reads the table to build an index', () => {
    expect(predict(`create index "users_email_index" on "users" ("email")`)).toMatchObject({ rewrite: false, scan: true });
    expect(predict(`create index concurrently users_email_index on users (email)`)).toMatchObject({ rewrite: false, scan: true });
  });

  it('has nothing to predict for statements that do not touch existing data in bulk', () => {
    for (const sql of [`create table t (id int)`, `set lock_timeout = '5s'`, `update users set a = 1`, `begin`, `create type s as enum ('a')`]) {
      expect(predict(sql), sql).toBeUndefined();
    }
  });
});
