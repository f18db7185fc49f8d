import { beforeAll, describe, expect, it } from 'vitest';
import {
  conflicts,
  ensureParser,
  inferLocks,
  LOCK_MODES,
  lockBlocks,
  lockModeSql,
  parseLockMode,
  parseSqlSync,
  statementFacts,
  strongest,
  type InferredLock,
  type LockContext,
  type LockMode,
} from '../../src/sql/index.js';

beforeAll(async () => {
  await ensureParser();
});

function locksOf(sql: string, context?: number | LockContext): InferredLock[] {
  const [statement] = parseSqlSync(sql);
  return inferLocks(statementFacts(statement!.ast, statement!.sql), context);
}

/** relation → mode, for compact expectations. */
function modes(sql: string, context?: number | LockContext): Record<string, LockMode> {
  return Object.fromEntries(locksOf(sql, context).map((l) => [l.relation.schema ? `${l.relation.schema}.${l.relation.name}` : l.relation.name, l.mode]));
}

describe('lock modes', () => {
  it('lists the modes weakest to strongest in pg_locks spelling', () => {
    expect(LOCK_MODES).toEqual(['AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock']);
    expect(strongest(['RowExclusiveLock', 'AccessShareLock', 'ShareLock'])).toBe('ShareLock');
    expect(strongest([])).toBeUndefined();
  });

  it('prints and reads the SQL spelling', () => {
    expect(LOCK_MODES.map(lockModeSql)).toEqual(['ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE']);
    for (const mode of LOCK_MODES) {
      expect(parseLockMode(lockModeSql(mode))).toBe(mode);
      expect(parseLockMode(mode)).toBe(mode);
    }
    expect(parseLockMode('share row exclusive mode')).toBe('ShareRowExclusiveLock');
    expect(parseLockMode('nonsense')).toBeUndefined();
  });

  it('follows the conflict table of the PostgreSQL documentation', () => {
    // Rows and columns in LOCK_MODES order; X = conflict (Table 13.2 "Conflicting Lock Modes").
    const table = ['.......X', '......XX', '....XXXX', '...XXXXX', '..XX.XXX', '..XXXXXX', '.XXXXXXX', 'XXXXXXXX'];
    LOCK_MODES.forEach((a, i) => {
      LOCK_MODES.forEach((b, j) => {
        expect(conflicts(a, b), `${a} vs ${b}`).toBe(table[i]![j] === 'X');
        expect(conflicts(a, b)).toBe(conflicts(b, a));
      });
    });
  });

  it('says what each mode blocks', () => {
    expect(lockBlocks('AccessExclusiveLock')).toMatchObject({ reads: true, writes: true, ddl: true });
    expect(lockBlocks('ExclusiveLock')).toMatchObject({ reads: false, writes: true, ddl: true });
    expect(lockBlocks('ShareRowExclusiveLock')).toMatchObject({ reads: false, writes: true, ddl: true });
    expect(lockBlocks('ShareLock')).toMatchObject({ reads: false, writes: true, ddl: true });
    expect(lockBlocks('ShareUpdateExclusiveLock')).toMatchObject({ reads: false, writes: false, ddl: true });
    expect(lockBlocks('RowExclusiveLock')).toMatchObject({ reads: false, writes: false, ddl: false });
    expect(lockBlocks('AccessShareLock')).toMatchObject({ reads: false, writes: false, ddl: false });
    for (const mode of LOCK_MODES) expect(lockBlocks(mode).description.length).toBeGreaterThan(10);
  });
});

describe('inferLocks', () => {
  it('gives the documented lock of each ALTER TABLE sub-command', () => {
    expect(modes(`alter table "users" add column "age" integer not null default '0'`)).toEqual({ users: 'AccessExclusiveLock' });
    expect(modes(`alter table users validate constraint c`)).toEqual({ users: 'ShareUpdateExclusiveLock' });
    expect(modes(`alter table users alter column email set statistics 100`)).toEqual({ users: 'ShareUpdateExclusiveLock' });
    expect(modes(`alter table users set (fillfactor = 70)`)).toEqual({ users: 'ShareUpdateExclusiveLock' });
    expect(modes(`alter table users set (security_barrier = true)`)).toEqual({ users: 'AccessExclusiveLock' });
    expect(modes(`alter table users disable trigger all`)).toEqual({ users: 'ShareRowExclusiveLock' });
    expect(modes(`alter table users cluster on users_pkey`)).toEqual({ users: 'ShareUpdateExclusiveLock' });
  });

  it('locks both tables of a new foreign key', () => {
    const locks = locksOf(`alter table "orders" add constraint "orders_user_id_foreign" foreign key ("user_id") references "users" ("id") on delete CASCADE`);
    expect(locks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ relation: { name: 'orders' }, mode: 'ShareRowExclusiveLock', role: 'table' }),
        expect.objectContaining({ relation: { name: 'users' }, mode: 'ShareRowExclusiveLock', role: 'referenced-table' }),
      ]),
    );
    expect(modes(`create table items (id int, order_id int references orders (id))`)).toEqual({ orders: 'ShareRowExclusiveLock' });
    // a self-reference is the table itself, not a second relation
    expect(locksOf(`alter table t add constraint f foreign key (p) references t (id)`)).toEqual([expect.objectContaining({ relation: { name: 't' }, role: 'table' })]);
  });

  it('takes the strongest sub-command of a multi-command ALTER TABLE', () => {
    const [lock] = locksOf(`alter table users alter column a set statistics 10, disable trigger all, add column b int`);
    expect(lock).toMatchObject({ mode: 'AccessExclusiveLock' });
    expect(lock!.reason).toMatch(/ADD COLUMN b .*strongest of 3/);
    expect(modes(`alter table users alter column a set statistics 10, validate constraint c`)).toEqual({ users: 'ShareUpdateExclusiveLock' });
  });

  it('distinguishes concurrent index builds and drops', () => {
    expect(modes(`create index "users_email_index" on "users" ("email")`)).toEqual({ users: 'ShareLock' });
    expect(modes(`create index concurrently users_email_index on users (email)`)).toEqual({ users: 'ShareUpdateExclusiveLock' });
    expect(modes(`drop index users_email_index`)).toEqual({ users_email_index: 'AccessExclusiveLock' });
    const context: LockContext = { tableOfIndex: (index) => (index.name === 'users_email_index' ? { name: 'users' } : undefined) };
    expect(modes(`drop index users_email_index`, context)).toEqual({ users_email_index: 'AccessExclusiveLock', users: 'AccessExclusiveLock' });
    expect(modes(`drop index concurrently users_email_index`, context)).toEqual({ users_email_index: 'ShareUpdateExclusiveLock', users: 'ShareUpdateExclusiveLock' });
  });

  it('follows version changes: partitions, index renames, REINDEX CONCURRENTLY', () => {
    const attach = `alter table events attach partition events_2025 for values from ('2025-01-01') to ('2026-01-01')`;
    expect(modes(attach, 15)).toEqual({ events: 'ShareUpdateExclusiveLock', events_2025: 'AccessExclusiveLock' });
    expect(modes(attach, 11)).toEqual({ events: 'AccessExclusiveLock', events_2025: 'AccessExclusiveLock' });
    expect(modes(`alter table events detach partition events_2024 concurrently`, 14)).toEqual({ events: 'ShareUpdateExclusiveLock', events_2024: 'ShareUpdateExclusiveLock' });
    expect(modes(`alter table events detach partition events_2024`, 14)).toEqual({ events: 'AccessExclusiveLock', events_2024: 'AccessExclusiveLock' });
    expect(modes(`alter index i rename to j`, 12)).toEqual({ i: 'ShareUpdateExclusiveLock' });
    expect(modes(`alter index i rename to j`, 11)).toEqual({ i: 'AccessExclusiveLock' });
    expect(modes(`reindex table concurrently t`, 12)).toEqual({ t: 'ShareUpdateExclusiveLock' });
    expect(modes(`reindex table t`)).toEqual({ t: 'ShareLock' });
  });

  it('covers DML, reads and explicit locks', () => {
    expect(modes(`update users set a = 1 where id in (select id from users where a is null limit 1000)`)).toEqual({ users: 'RowExclusiveLock' });
    expect(modes(`update orders set total = 0 from users where users.id = orders.user_id`)).toEqual({ orders: 'RowExclusiveLock', users: 'AccessShareLock' });
    expect(modes(`delete from orders where id between 1 and 10`)).toEqual({ orders: 'RowExclusiveLock' });
    expect(modes(`insert into orders (user_id) values (1)`)).toEqual({ orders: 'RowExclusiveLock' });
    expect(modes(`select * from users join orders on true`)).toEqual({ users: 'AccessShareLock', orders: 'AccessShareLock' });
    expect(modes(`select * from users for update`)).toEqual({ users: 'RowShareLock' });
    expect(modes(`lock table a, s.b in exclusive mode`)).toEqual({ a: 'ExclusiveLock', 's.b': 'ExclusiveLock' });
  });

  it('covers maintenance and other DDL', () => {
    expect(modes(`vacuum users`)).toEqual({ users: 'ShareUpdateExclusiveLock' });
    expect(modes(`vacuum full users`)).toEqual({ users: 'AccessExclusiveLock' });
    expect(modes(`analyze users`)).toEqual({ users: 'ShareUpdateExclusiveLock' });
    expect(modes(`truncate a, b`)).toEqual({ a: 'AccessExclusiveLock', b: 'AccessExclusiveLock' });
    expect(modes(`refresh materialized view mv`)).toEqual({ mv: 'AccessExclusiveLock' });
    expect(modes(`refresh materialized view concurrently mv`)).toEqual({ mv: 'ExclusiveLock' });
    expect(modes(`cluster users using users_pkey`)).toEqual({ users: 'AccessExclusiveLock' });
    expect(modes(`create trigger tr after insert on orders for each row execute function f()`)).toEqual({ orders: 'ShareRowExclusiveLock' });
    expect(modes(`drop trigger tr on orders`)).toEqual({ orders: 'AccessExclusiveLock' });
    expect(modes(`comment on column users.email is 'x'`)).toEqual({ users: 'ShareUpdateExclusiveLock' });
    expect(modes(`alter table users rename column a to b`)).toEqual({ users: 'AccessExclusiveLock' });
    expect(modes(`drop table if exists a, b`)).toEqual({ a: 'AccessExclusiveLock', b: 'AccessExclusiveLock' });
    expect(modes(`drop table order_items`, { foreignKeyTargets: () => [{ name: 'orders' }] })).toEqual({ order_items: 'AccessExclusiveLock', orders: 'AccessExclusiveLock' });
    expect(modes(`create table c partition of p for values in (1)`)).toEqual({ p: 'AccessExclusiveLock' });
    expect(modes(`create view v as select * from t`)).toEqual({ t: 'AccessShareLock' });
  });

  it('takes no table locks for statements that touch no existing relation', () => {
    for (const sql of [
      `create table t (id int)`,
      `create type s as enum ('a')`,
      `alter type s add value 'b'`,
      `create extension if not exists citext`,
      `set local lock_timeout = '5s'`,
      `begin`,
      `drop type s`,
      `create schema x`,
      `select set_config('lock_timeout', '5s', true)`,
    ]) {
      expect(locksOf(sql), sql).toEqual([]);
    }
  });

  it('explains each lock', () => {
    const [lock] = locksOf(`create index "users_email_index" on "users" ("email")`);
    expect(lock).toMatchObject({ relation: { name: 'users' }, mode: 'ShareLock', role: 'table' });
    expect(lock!.reason).toMatch(/CREATE INDEX takes SHARE/);
  });
});
