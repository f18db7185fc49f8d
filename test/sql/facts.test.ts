import knexFactory from 'knex';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureParser, parseSqlSync, statementFacts, type AlterTableCommand, type AlterTableFacts, type StatementFacts } from '../../src/sql/index.js';

beforeAll(async () => {
  await ensureParser();
});

function factsOf(sql: string): StatementFacts {
  const [statement] = parseSqlSync(sql);
  if (!statement) throw new Error(`no statement: ${sql}`);
  return statementFacts(statement.ast, statement.sql);
}

function factsOfKind<K extends StatementFacts['kind']>(sql: string, kind: K): Extract<StatementFacts, { kind: K }> {
  const facts = factsOf(sql);
  expect(facts.kind, sql).toBe(kind);
  return facts as Extract<StatementFacts, { kind: K }>;
}

function command<A extends AlterTableCommand['action']>(sql: string, action: A, index = 0): Extract<AlterTableCommand, { action: A }> {
  const facts = factsOfKind(sql, 'alter-table');
  const cmd = facts.commands[index];
  expect(cmd?.action, sql).toBe(action);
  return cmd as Extract<AlterTableCommand, { action: A }>;
}

const knex = knexFactory({ client: 'pg' });

describe('create table', () => {
  it('reads the table knex generates, column by column', () => {
    const sql = knex.schema
      .createTable('users', (t) => {
        t.increments('id');
        t.string('email').notNullable().unique();
        t.integer('age').defaultTo(0);
        t.timestamps(true, true);
        t.uuid('uid').defaultTo(knex.raw('gen_random_uuid()'));
        t.decimal('price', 10, 2);
        t.integer('org_id').references('id').inTable('orgs').onDelete('SET NULL');
      })
      .toSQL()
      .map((q) => q.sql);
    expect(sql[0]).toMatch(/^create table "users"/);
    const facts = factsOfKind(sql[0]!, 'create-table');
    expect(facts.table).toEqual({ name: 'users' });
    expect(facts.ifNotExists).toBe(false);
    const byName = Object.fromEntries(facts.columns.map((c) => [c.name, c]));
    expect(byName.id).toMatchObject({ serial: true, primaryKey: true, notNull: true, type: { name: 'serial' } });
    expect(byName.email).toMatchObject({ notNull: true, type: { name: 'varchar', modifiers: [255], text: 'varchar(255)' } });
    expect(byName.age?.default).toMatchObject({ constant: '0', text: "'0'", volatility: 'immutable', volatile: false });
    expect(byName.created_at).toMatchObject({ notNull: true, type: { name: 'timestamptz' }, default: { text: 'CURRENT_TIMESTAMP', volatility: 'stable', volatile: false } });
    expect(byName.uid?.default).toMatchObject({ text: 'gen_random_uuid()', volatility: 'volatile', volatile: true, functions: ['gen_random_uuid'] });
    expect(byName.price?.type).toMatchObject({ name: 'numeric', modifiers: [10, 2] });
    // knex puts the unique constraint and foreign key in statements of their own
    expect(sql).toContain('alter table "users" add constraint "users_email_unique" unique ("email")');
    expect(sql.some((s) => s.includes('"users_org_id_foreign" foreign key ("org_id") references "orgs" ("id") on delete SET NULL'))).toBe(true);
  });

  it('reads identity, generated, references and table constraints', () => {
    const facts = factsOfKind(
      `create table if not exists app.orders (
         id bigint generated always as identity primary key,
         user_id int not null references users (id) on delete cascade,
         total numeric(10,2) default 0 check (total >= 0),
         doubled numeric generated always as (total * 2) stored,
         status text collate "C",
         constraint orders_user_fk foreign key (user_id) references app.users on update set null deferrable initially deferred,
         constraint orders_total_nn check (total is not null) not valid,
         unique nulls not distinct (status) include (total),
         exclude using gist (id with =)
       )`,
      'create-table',
    );
    expect(facts.table).toEqual({ schema: 'app', name: 'orders' });
    expect(facts.ifNotExists).toBe(true);
    const [id, userId, total, doubled, status] = facts.columns;
    expect(id).toMatchObject({ identity: 'always', primaryKey: true, notNull: true, type: { name: 'int8' } });
    expect(userId).toMatchObject({ notNull: true, references: { table: { name: 'users' }, columns: ['id'], onDelete: 'cascade', onUpdate: 'no action' } });
    expect(total?.constraints[0]).toMatchObject({ kind: 'check', columns: [], expression: { text: 'total >= 0' } });
    expect(doubled?.generated).toMatchObject({ kind: 'stored', expression: { text: 'total * 2' } });
    expect(status?.collation).toBe('C');
    const named = facts.constraints.filter((c) => c.name);
    expect(named.map((c) => [c.name, c.kind, c.notValid])).toEqual([
      ['orders_user_fk', 'foreign', false],
      ['orders_total_nn', 'check', true],
    ]);
    expect(named[0]).toMatchObject({ columns: ['user_id'], deferrable: true, initiallyDeferred: true, references: { table: { schema: 'app', name: 'users' }, columns: [], onUpdate: 'set null' } });
    expect(named[1]?.checksNotNullOf).toBe('total');
    const unique = facts.constraints.find((c) => c.kind === 'unique');
    expect(unique).toMatchObject({ columns: ['status'], include: ['total'], nullsNotDistinct: true });
    expect(facts.constraints.find((c) => c.kind === 'exclusion')).toMatchObject({ columns: ['id'], indexMethod: 'gist' });
  });

  it('reads partitions, inheritance, LIKE and persistence', () => {
    expect(factsOfKind(`create table m (id int, at date) partition by range (at)`, 'create-table').partitionBy).toBe('range');
    const part = factsOfKind(`create table m_2024 partition of m for values from ('2024-01-01') to ('2025-01-01')`, 'create-table');
    expect(part.partitionOf).toEqual({ name: 'm' });
    expect(part.inherits).toEqual([]);
    const child = factsOfKind(`create unlogged table c (like p including all) inherits (p)`, 'create-table');
    expect(child).toMatchObject({ inherits: [{ name: 'p' }], like: [{ name: 'p' }], unlogged: true, temporary: false });
    expect(factsOfKind(`create temporary table tmp (a int)`, 'create-table').temporary).toBe(true);
  });

  it('reads CREATE TABLE AS and SELECT INTO', () => {
    expect(factsOfKind(`create table backup as select * from users join orders on true with no data`, 'create-table-as')).toMatchObject({
      table: { name: 'backup' },
      withData: false,
      readsFrom: [{ name: 'users' }, { name: 'orders' }],
    });
    expect(factsOfKind(`select * into old_users from users`, 'create-table-as').table).toEqual({ name: 'old_users' });
  });
});

describe('alter table', () => {
  it("reads knex's add column with a quoted default", () => {
    const cmd = command(`alter table "users" add column "age" integer not null default '0'`, 'add-column');
    expect(cmd.column).toMatchObject({ name: 'age', notNull: true, type: { name: 'int4', text: 'int4' }, default: { constant: '0', volatile: false, isNull: false } });
    expect(cmd.ifNotExists).toBe(false);
  });

  it('classifies default volatility', () => {
    const volatility = (expr: string) => command(`alter table t add column c text default ${expr}`, 'add-column').column.default?.volatility;
    for (const expr of ['gen_random_uuid()', 'random()', 'clock_timestamp()', 'uuid_generate_v4()', `nextval('s'::regclass)`, 'timeofday()', '(random() * 10)::int']) {
      expect(volatility(expr), expr).toBe('volatile');
    }
    for (const expr of ['now()', 'CURRENT_TIMESTAMP', 'current_date', 'statement_timestamp()', `current_setting('x')`, 'localtimestamp(3)']) {
      expect(volatility(expr), expr).toBe('stable');
    }
    for (const expr of [`'x'`, '42', 'null', `'{}'::jsonb`, `lower('A')`, 'true', `ARRAY['a']`]) {
      expect(volatility(expr), expr).toBe('immutable');
    }
    expect(volatility('my_schema.next_code()')).toBe('unknown');
    expect(command(`alter table t add column c text default null`, 'add-column').column.default).toMatchObject({ isNull: true, constant: null, text: 'NULL' });
  });

  it('lets a catalog lookup decide the volatility of unknown functions', () => {
    const [statement] = parseSqlSync(`alter table t add column c int default app.next_code()`);
    const facts = statementFacts(statement!.ast, statement!.sql, { functionVolatility: (name) => (name.name === 'next_code' ? 'volatile' : undefined) }) as AlterTableFacts;
    expect(facts.commands[0]).toMatchObject({ action: 'add-column', column: { default: { volatility: 'volatile', functions: ['app.next_code'] } } });
  });

  it('prints default expressions back as SQL (pgsql-deparser), keeping literals and grouping', () => {
    const cmd = command(`alter table t add column c jsonb not null default coalesce(null, '{}'::jsonb), add column d int`, 'add-column');
    expect(cmd.column.default?.text).toBe(`COALESCE(NULL, '{}'::jsonb)`);
    const cased = command(`  alter table t add column c int default case when random() > 0.5 then 1 else 0 end not null`, 'add-column');
    expect(cased.column.default).toMatchObject({ text: 'CASE WHEN random() > 0.5 THEN 1 ELSE 0 END', volatile: true });
    const zoned = command(`alter table t add column at timestamp not null default (now() at time zone 'utc')`, 'add-column');
    expect(zoned.column.default).toMatchObject({ text: `now() AT TIME ZONE 'utc'`, volatility: 'stable' });
    // Regressions of the earlier hand-written printer: 100.0 became 100, (a + b) * c lost its parentheses.
    expect(command(`alter table t add column p numeric default (1 + 2) * 100.0`, 'add-column').column.default?.text).toBe('(1 + 2) * 100.0');
  });

  it("reads knex's .alter() statements", () => {
    const sql = knex.schema
      .alterTable('users', (t) => {
        t.string('email', 100).notNullable().defaultTo('x').alter();
      })
      .toSQL()
      .map((q) => q.sql);
    const actions = sql.flatMap((s) => factsOfKind(s, 'alter-table').commands.map((c) => c.action));
    expect(actions).toEqual(['drop-default', 'drop-not-null', 'alter-column-type', 'set-default', 'set-not-null']);
    const type = command(`alter table "users" alter column "email" type varchar(100) using ("email"::varchar(100))`, 'alter-column-type');
    expect(type.column).toBe('email');
    expect(type.type).toMatchObject({ name: 'varchar', modifiers: [100] });
    expect(type.using?.text).toBe('CAST(email AS varchar(100))');
    expect(command(`alter table t alter column a type text collate "C"`, 'alter-column-type').collation).toBe('C');
    expect(command(`alter table "users" alter column "email" set default 'x'`, 'set-default').default.constant).toBe('x');
    expect(command(`alter table "users" alter column "email" drop default`, 'drop-default').column).toBe('email');
  });

  it('reads constraints added by knex and by hand', () => {
    const fk = command(`alter table "orders" add constraint "orders_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete CASCADE`, 'add-constraint');
    expect(fk.constraint).toMatchObject({
      kind: 'foreign',
      name: 'orders_user_id_foreign',
      columns: ['user_id'],
      notValid: false,
      references: { table: { name: 'users' }, columns: ['id'], onDelete: 'cascade', onUpdate: 'no action', match: 'simple' },
    });
    const unique = command(`alter table "users" add constraint "users_email_unique" unique ("email")`, 'add-constraint');
    expect(unique.constraint).toMatchObject({ kind: 'unique', name: 'users_email_unique', columns: ['email'] });
    expect(unique.constraint.usingIndex).toBeUndefined();
    expect(command(`alter table t add constraint t_pkey primary key using index t_id_idx`, 'add-constraint').constraint).toMatchObject({ kind: 'primary', usingIndex: 't_id_idx' });
    expect(command(`alter table t add constraint c check (a > 0) not valid`, 'add-constraint').constraint).toMatchObject({ kind: 'check', notValid: true });
    expect(command(`alter table t add constraint f foreign key (a) references u (id) not valid`, 'add-constraint').constraint.notValid).toBe(true);
    expect(command(`alter table t add constraint nn check (a is not null)`, 'add-constraint').constraint.checksNotNullOf).toBe('a');
    expect(command(`alter table t add constraint x exclude using gist (r with &&)`, 'add-constraint').constraint).toMatchObject({ kind: 'exclusion', indexMethod: 'gist', columns: ['r'] });
    expect(command(`alter table t add constraint n not null a not valid`, 'add-constraint').constraint).toMatchObject({ kind: 'not-null', columns: ['a'], notValid: true });
    expect(command(`alter table t validate constraint f`, 'validate-constraint').name).toBe('f');
    expect(command(`alter table t drop constraint if exists c cascade`, 'drop-constraint')).toMatchObject({ name: 'c', ifExists: true, cascade: true });
    expect(command(`alter table t alter constraint f deferrable`, 'alter-constraint').name).toBe('f');
  });

  it('reads the other sub-commands', () => {
    expect(command(`alter table t drop column if exists c`, 'drop-column')).toMatchObject({ column: 'c', ifExists: true, cascade: false });
    expect(command(`alter table t alter column c set not null`, 'set-not-null').column).toBe('c');
    expect(command(`alter table t alter column c drop not null`, 'drop-not-null').column).toBe('c');
    expect(command(`alter table t set logged`, 'set-logged').action).toBe('set-logged');
    expect(command(`alter table t set unlogged`, 'set-unlogged').action).toBe('set-unlogged');
    expect(command(`alter table t disable trigger all`, 'disable-trigger')).toMatchObject({ scope: 'all' });
    expect(command(`alter table t enable always trigger tr`, 'enable-trigger')).toMatchObject({ trigger: 'tr', scope: 'named', mode: 'always' });
    expect(command(`alter table t attach partition p for values from (1) to (2)`, 'attach-partition')).toMatchObject({ partition: { name: 'p' }, isDefault: false });
    expect(command(`alter table t attach partition p default`, 'attach-partition').isDefault).toBe(true);
    expect(command(`alter table t detach partition s.p concurrently`, 'detach-partition')).toMatchObject({ partition: { schema: 's', name: 'p' }, concurrently: true, finalize: false });
    expect(command(`alter table t detach partition p finalize`, 'detach-partition').finalize).toBe(true);
    expect(command(`alter table t alter column c set statistics 500`, 'set-statistics')).toMatchObject({ column: 'c', target: 500 });
    expect(command(`alter table t alter c set (n_distinct = 5)`, 'set-column-options').options).toEqual(['n_distinct']);
    expect(command(`alter table t set (fillfactor = 70, toast.autovacuum_enabled = false)`, 'set-options').options).toEqual(['fillfactor', 'toast.autovacuum_enabled']);
    expect(command(`alter table t reset (fillfactor)`, 'reset-options').options).toEqual(['fillfactor']);
    expect(command(`alter table t set tablespace fast`, 'set-tablespace').tablespace).toBe('fast');
    expect(command(`alter table t alter column c set storage external`, 'set-storage').storage).toBe('external');
    expect(command(`alter table t alter column c set compression lz4`, 'set-compression').method).toBe('lz4');
    expect(command(`alter table t owner to bob`, 'owner').owner).toBe('bob');
    expect(command(`alter table t cluster on i`, 'cluster-on').index).toBe('i');
    expect(command(`alter table t alter column c add generated by default as identity`, 'add-identity')).toMatchObject({ column: 'c', identity: 'by default' });
    expect(command(`alter table t alter column c drop identity if exists`, 'drop-identity')).toMatchObject({ column: 'c', ifExists: true });
    expect(command(`alter table t alter column g set expression as (a * 3)`, 'set-expression').expression?.text).toBe('a * 3');
    expect(command(`alter table t alter column g drop expression`, 'drop-expression').column).toBe('g');
    expect(command(`alter table t inherit p`, 'inherit').parent).toEqual({ name: 'p' });
    expect(command(`alter table t replica identity using index i`, 'replica-identity')).toMatchObject({ identity: 'index', index: 'i' });
    expect(command(`alter table t enable row level security`, 'enable-row-security').action).toBe('enable-row-security');
    expect(command(`alter table t add column if not exists c int references u (id)`, 'add-column')).toMatchObject({
      ifNotExists: true,
      column: { references: { table: { name: 'u' }, columns: ['id'] } },
    });
  });

  it('keeps every sub-command of a multi-command statement, and ONLY / IF EXISTS', () => {
    const facts = factsOfKind(`alter table if exists only s.t add column a int, alter column b set not null, drop column c`, 'alter-table');
    expect(facts).toMatchObject({ table: { schema: 's', name: 't' }, ifExists: true, only: true, objectType: 'table' });
    expect(facts.commands.map((c) => c.action)).toEqual(['add-column', 'set-not-null', 'drop-column']);
    expect(factsOfKind(`alter index i set (fillfactor = 80)`, 'alter-table').objectType).toBe('index');
  });
});

describe('indexes', () => {
  it('reads knex index SQL', () => {
    const facts = factsOfKind(`create index "users_email_index" on "users" ("email")`, 'create-index');
    expect(facts).toMatchObject({
      name: 'users_email_index',
      table: { name: 'users' },
      unique: false,
      concurrently: false,
      ifNotExists: false,
      method: 'btree',
      columns: [{ column: 'email', descending: false }],
    });
    expect(facts.where).toBeUndefined();
    const partial = knex.schema
      .alterTable('users', (t) => {
        t.index(['email'], 'users_email_idx', { storageEngineIndexType: 'hash', predicate: knex.whereNotNull('email') });
      })
      .toSQL()[0]!.sql;
    expect(factsOfKind(partial, 'create-index')).toMatchObject({ method: 'hash', where: { text: 'email IS NOT NULL' } });
  });

  it('reads concurrent, unique, expression and partial indexes', () => {
    const facts = factsOfKind(`create unique index concurrently if not exists i on s.t using btree (a desc, lower(b) text_pattern_ops) include (c) where a > 0`, 'create-index');
    expect(facts).toMatchObject({ name: 'i', table: { schema: 's', name: 't' }, unique: true, concurrently: true, ifNotExists: true, include: ['c'], where: { text: 'a > 0' } });
    expect(facts.columns[0]).toMatchObject({ column: 'a', descending: true });
    expect(facts.columns[1]).toMatchObject({ expression: { text: 'lower(b)' }, opclass: 'text_pattern_ops' });
    expect(factsOfKind(`create index on only t (a)`, 'create-index')).toMatchObject({ only: true });
    expect(factsOfKind(`create index on t (a)`, 'create-index').name).toBeUndefined();
  });

  it('reads drop index', () => {
    expect(factsOfKind(`drop index "users_name_index"`, 'drop')).toMatchObject({ objectType: 'index', names: [{ name: 'users_name_index' }], concurrently: false, ifExists: false });
    expect(factsOfKind(`drop index concurrently if exists a.i1, i2 cascade`, 'drop')).toMatchObject({
      objectType: 'index',
      names: [{ schema: 'a', name: 'i1' }, { name: 'i2' }],
      concurrently: true,
      ifExists: true,
      cascade: true,
    });
  });
});

describe('drop, rename, types and other DDL', () => {
  it('reads drops', () => {
    expect(factsOfKind(`drop table if exists "users"`, 'drop')).toMatchObject({ objectType: 'table', names: [{ name: 'users' }], ifExists: true, cascade: false });
    expect(factsOfKind(`drop type "order_status"`, 'drop')).toMatchObject({ objectType: 'type', names: [{ name: 'order_status' }] });
    expect(factsOfKind(`drop view s.v cascade`, 'drop')).toMatchObject({ objectType: 'view', names: [{ schema: 's', name: 'v' }], cascade: true });
    expect(factsOfKind(`drop materialized view mv`, 'drop').objectType).toBe('materialized-view');
    expect(factsOfKind(`drop schema if exists s cascade`, 'drop')).toMatchObject({ objectType: 'schema', names: [{ name: 's' }], cascade: true, ifExists: true });
    expect(factsOfKind(`drop trigger tr on s.t`, 'drop')).toMatchObject({ objectType: 'trigger', names: [{ name: 'tr' }], table: { schema: 's', name: 't' } });
    expect(factsOfKind(`drop function f(int)`, 'drop')).toMatchObject({ objectType: 'function', names: [{ name: 'f' }] });
    expect(factsOfKind(`drop extension "uuid-ossp"`, 'drop')).toMatchObject({ objectType: 'extension', names: [{ name: 'uuid-ossp' }] });
  });

  it('reads renames, including the forms knex emits', () => {
    expect(factsOfKind(`alter table "users" rename "name" to "full_name"`, 'rename')).toMatchObject({ objectType: 'column', table: { name: 'users' }, from: 'name', to: 'full_name' });
    expect(factsOfKind(`alter table "a" rename to "b"`, 'rename')).toMatchObject({ objectType: 'table', target: { name: 'a' }, from: 'a', to: 'b' });
    expect(factsOfKind(`alter index i rename to j`, 'rename')).toMatchObject({ objectType: 'index', target: { name: 'i' }, from: 'i', to: 'j' });
    expect(factsOfKind(`alter table t rename constraint a to b`, 'rename')).toMatchObject({ objectType: 'tabconstraint', table: { name: 't' }, from: 'a', to: 'b' });
    expect(factsOfKind(`alter type s.ty rename to ty2`, 'rename')).toMatchObject({ objectType: 'type', target: { schema: 's', name: 'ty' }, from: 'ty', to: 'ty2' });
    expect(factsOfKind(`alter schema a rename to b`, 'rename')).toMatchObject({ objectType: 'schema', from: 'a', to: 'b' });
    expect(factsOfKind(`alter table if exists v rename column a to b`, 'rename').ifExists).toBe(true);
  });

  it('reads enum types', () => {
    expect(factsOfKind(`create type "order_status" as enum ('a','b')`, 'create-type')).toEqual({ kind: 'create-type', name: { name: 'order_status' }, variant: 'enum', values: ['a', 'b'] });
    expect(factsOfKind(`alter type order_status add value if not exists 'c' before 'a'`, 'alter-type')).toMatchObject({ action: 'add-value', value: 'c', before: 'a', ifNotExists: true });
    expect(factsOfKind(`alter type order_status add value 'c' after 'b'`, 'alter-type')).toMatchObject({ action: 'add-value', value: 'c', after: 'b' });
    expect(factsOfKind(`alter type order_status rename value 'a' to 'z'`, 'alter-type')).toMatchObject({ action: 'rename-value', oldValue: 'a', value: 'z' });
    expect(factsOfKind(`create type pair as (a int, b text)`, 'create-type').attributes?.map((a) => a.name)).toEqual(['a', 'b']);
    expect(factsOfKind(`create domain email as text check (value like '%@%')`, 'create-type')).toMatchObject({ variant: 'domain', baseType: { name: 'text' }, constraints: [{ kind: 'check' }] });
  });

  it('reads extensions, views, functions, triggers, schemas, sequences', () => {
    expect(factsOfKind(`create extension if not exists "uuid-ossp" schema public`, 'create-extension')).toMatchObject({ name: 'uuid-ossp', ifNotExists: true, schema: 'public' });
    expect(factsOfKind(`create or replace view v as select * from t join u on t.a = u.b`, 'create-view')).toMatchObject({
      view: { name: 'v' },
      replace: true,
      materialized: false,
      readsFrom: [{ name: 't' }, { name: 'u' }],
    });
    expect(factsOfKind(`create materialized view mv as select id from users with no data`, 'create-view')).toMatchObject({ materialized: true, withData: false, readsFrom: [{ name: 'users' }] });
    expect(factsOfKind(`create or replace function f() returns trigger language plpgsql stable security definer as $$ begin return new; end $$`, 'create-function')).toMatchObject({
      name: { name: 'f' },
      replace: true,
      language: 'plpgsql',
      returns: { name: 'trigger' },
      volatility: 'stable',
      securityDefiner: true,
    });
    expect(factsOfKind(`create trigger tr before insert or update on t for each row execute function f()`, 'create-trigger')).toMatchObject({
      name: 'tr',
      table: { name: 't' },
      timing: 'before',
      events: ['insert', 'update'],
      forEachRow: true,
      function: { name: 'f' },
    });
    expect(factsOfKind(`create trigger tr after delete on t execute procedure f()`, 'create-trigger')).toMatchObject({ timing: 'after', events: ['delete'], forEachRow: false });
    expect(factsOfKind(`create schema if not exists billing`, 'create-schema')).toEqual({ kind: 'create-schema', name: 'billing', ifNotExists: true });
    expect(factsOfKind(`create sequence s.seq`, 'create-sequence').name).toEqual({ schema: 's', name: 'seq' });
    expect(factsOfKind(`do $$ begin perform 1; end $$`, 'do')).toMatchObject({ language: 'plpgsql', body: ' begin perform 1; end ' });
  });

  it('reads comments', () => {
    expect(factsOfKind(`comment on column "users"."bio" is 'about'`, 'comment')).toEqual({ kind: 'comment', objectType: 'column', target: { name: 'users' }, member: 'bio', text: 'about' });
    expect(factsOfKind(`comment on table s.users is null`, 'comment')).toEqual({ kind: 'comment', objectType: 'table', target: { schema: 's', name: 'users' }, text: null });
    expect(factsOfKind(`comment on constraint c on t is 'x'`, 'comment')).toMatchObject({ objectType: 'constraint', target: { name: 't' }, member: 'c' });
  });
});

describe('data statements', () => {
  it('recognises batched backfills', () => {
    const limited = knex('users').whereIn('id', knex('users').select('id').whereNull('age').limit(1000)).update({ age: 1 }).toSQL().toNative().sql;
    expect(factsOfKind(limited, 'update')).toMatchObject({ table: { name: 'users' }, columns: ['age'], hasWhere: true, batch: { kind: 'limit' } });
    expect(factsOfKind(`update users set a = 1 where id in (select id from users where a is null limit 1000)`, 'update').batch).toEqual({ kind: 'limit', limit: 1000 });
    const between = knex('users').whereBetween('id', [1, 1000]).update({ age: 1 }).toSQL().toNative().sql;
    expect(factsOfKind(between, 'update').batch).toEqual({ kind: 'range', column: 'id' });
    expect(factsOfKind(`update t set a = 1 where id >= 1 and id < 100 and a is null`, 'update').batch).toEqual({ kind: 'range', column: 'id' });
    expect(factsOfKind(`update t set a = 1 where id = any(array[1,2,3])`, 'update').batch).toEqual({ kind: 'key-list', column: 'id', size: 3 });
    expect(factsOfKind(`delete from t where id in (1, 2)`, 'delete').batch).toEqual({ kind: 'key-list', column: 'id', size: 2 });
    expect(factsOfKind(`with b as (select id from t where a is null limit 500) update t set a = 1 from b where t.id = b.id`, 'update')).toMatchObject({
      batch: { kind: 'limit', limit: 500 },
      readsFrom: [{ name: 't' }],
    });
    expect(factsOfKind(`update t set a = 1 where a is null`, 'update').batch).toBeUndefined();
    expect(factsOfKind(`update t set a = 1 where id < 100`, 'update').batch).toBeUndefined();
  });

  it('reads unbounded updates and deletes', () => {
    expect(factsOfKind(`update "users" set "display_name" = "name"`, 'update')).toMatchObject({ hasWhere: false, columns: ['display_name'] });
    expect(factsOfKind(`delete from "users"`, 'delete')).toMatchObject({ table: { name: 'users' }, hasWhere: false });
    expect(factsOfKind(`delete from t using u where t.id = u.id returning t.id`, 'delete')).toMatchObject({ readsFrom: [{ name: 'u' }], returning: true });
  });

  it('reads inserts and merges', () => {
    const sql = knex('users')
      .insert([{ email: 'a' }, { email: 'b' }])
      .toSQL()
      .toNative().sql;
    expect(factsOfKind(sql, 'insert')).toMatchObject({ table: { name: 'users' }, columns: ['email'], rows: 2, fromQuery: false });
    expect(factsOfKind(`insert into t (a) select a from u on conflict do nothing`, 'insert')).toMatchObject({ fromQuery: true, onConflict: 'nothing', readsFrom: [{ name: 'u' }] });
    expect(factsOfKind(`merge into t using u on t.id = u.id when matched then delete`, 'merge')).toMatchObject({ table: { name: 't' }, readsFrom: [{ name: 'u' }] });
  });

  it('reads selects, their row locks and set_config calls', () => {
    expect(factsOfKind(`select * from t for update`, 'select')).toMatchObject({ readsFrom: [{ name: 't' }], locking: 'for update' });
    expect(factsOfKind(`select set_config('lock_timeout', '5s', true)`, 'select').setConfig).toEqual([{ name: 'lock_timeout', value: '5s', local: true, milliseconds: 5000 }]);
  });
});

describe('session and maintenance statements', () => {
  it('reads SET, SET LOCAL and RESET with timeouts in milliseconds', () => {
    expect(factsOf(`set lock_timeout = '5s'`)).toEqual({ kind: 'set', action: 'set', name: 'lock_timeout', value: '5s', local: false, milliseconds: 5000 });
    expect(factsOf(`SET LOCAL statement_timeout TO 1000`)).toEqual({ kind: 'set', action: 'set', name: 'statement_timeout', value: '1000', local: true, milliseconds: 1000 });
    expect(factsOf(`set lock_timeout = '1min'`)).toMatchObject({ milliseconds: 60_000 });
    expect(factsOf(`set lock_timeout = 0`)).toMatchObject({ milliseconds: 0 });
    expect(factsOf(`set search_path to a, b`)).toMatchObject({ name: 'search_path', value: 'a, b' });
    expect(factsOf(`set time zone 'UTC'`)).toMatchObject({ name: 'timezone', value: 'UTC' });
    expect(factsOf(`reset lock_timeout`)).toEqual({ kind: 'set', action: 'reset', name: 'lock_timeout', local: false });
    expect(factsOf(`reset all`)).toMatchObject({ action: 'reset-all' });
    expect(factsOf(`set lock_timeout to default`)).toMatchObject({ action: 'set-default', name: 'lock_timeout' });
    expect(factsOf(`set transaction isolation level serializable`)).toMatchObject({ action: 'set-multi', name: 'transaction' });
  });

  it('reads transaction control', () => {
    expect(factsOf('begin')).toEqual({ kind: 'transaction', action: 'begin' });
    expect(factsOf('start transaction isolation level serializable read only')).toMatchObject({ action: 'begin', isolation: 'serializable', readOnly: true });
    expect(factsOf('commit')).toMatchObject({ action: 'commit' });
    expect(factsOf('end')).toMatchObject({ action: 'commit' });
    expect(factsOf('rollback')).toMatchObject({ action: 'rollback' });
    expect(factsOf('savepoint s1')).toMatchObject({ action: 'savepoint', savepoint: 's1' });
    expect(factsOf('release s1')).toMatchObject({ action: 'release', savepoint: 's1' });
    expect(factsOf('rollback to savepoint s1')).toMatchObject({ action: 'rollback-to', savepoint: 's1' });
  });

  it('reads vacuum, analyze, lock, truncate, refresh, cluster and reindex', () => {
    expect(factsOf('vacuum (full, analyze) t, s.u')).toEqual({ kind: 'vacuum', tables: [{ name: 't' }, { schema: 's', name: 'u' }], full: true, analyze: true, freeze: false, verbose: false });
    expect(factsOf('vacuum')).toMatchObject({ kind: 'vacuum', tables: [], full: false });
    expect(factsOf('analyze t')).toMatchObject({ kind: 'analyze', tables: [{ name: 't' }], analyze: true });
    expect(factsOf('lock table a, b in share row exclusive mode nowait')).toEqual({ kind: 'lock-table', tables: [{ name: 'a' }, { name: 'b' }], mode: 'ShareRowExclusiveLock', nowait: true });
    expect(factsOf('lock t')).toMatchObject({ mode: 'AccessExclusiveLock' });
    expect(factsOf('lock t in access share mode')).toMatchObject({ mode: 'AccessShareLock' });
    expect(factsOf('truncate t, u restart identity cascade')).toEqual({ kind: 'truncate', tables: [{ name: 't' }, { name: 'u' }], cascade: true, restartIdentity: true });
    expect(factsOf('refresh materialized view concurrently mv')).toEqual({ kind: 'refresh-materialized-view', view: { name: 'mv' }, concurrently: true, withData: true });
    expect(factsOf('cluster t using i')).toEqual({ kind: 'cluster', table: { name: 't' }, index: 'i' });
    expect(factsOf('reindex index concurrently i')).toEqual({ kind: 'reindex', target: 'index', name: { name: 'i' }, concurrently: true });
    expect(factsOf('reindex table t')).toMatchObject({ target: 'table', concurrently: false });
  });

  it('falls back to the node kind', () => {
    expect(factsOf('grant select on t to bob')).toEqual({ kind: 'other', nodeKind: 'GrantStmt' });
    expect(factsOf('explain select 1')).toEqual({ kind: 'other', nodeKind: 'ExplainStmt' });
  });
});

describe('multi-statement input', () => {
  it('reads each statement of a knex.raw text with its own expression quotes', () => {
    const statements = parseSqlSync(`set local lock_timeout = '2s';\n  alter table t add column a int default case when true then 1 end;\nalter table t add column b int default coalesce(null, 2)`);
    const facts = statements.map((s) => statementFacts(s.ast, s.sql));
    expect(facts[0]).toMatchObject({ kind: 'set', milliseconds: 2000 });
    expect((facts[1] as AlterTableFacts).commands[0]).toMatchObject({ column: { default: { text: 'CASE WHEN true THEN 1 END' } } });
    expect((facts[2] as AlterTableFacts).commands[0]).toMatchObject({ column: { default: { text: 'COALESCE(NULL, 2)' } } });
  });
});
