import { beforeAll, expect, it } from 'vitest';
import { describeServer, openedAsShadow, sqlOn } from '../helpers/pg.js';

/**
 * A shadow's knex sends its transactions' BEGIN with the statement after it. Whatever comes next
 * (plain SQL, a statement with parameters, COMMIT straight away, a failure), the transaction must
 * behave exactly as with BEGIN sent alone.
 */
describeServer('knex BEGIN sent with the next statement (shadow connections)', () => {
  const shadow = openedAsShadow('ks_begin');
  const sent: string[] = [];
  beforeAll(async () => {
    shadow.db.knex.on('query', (q: { sql: string }) => sent.push(q.sql));
  });

  const inTransaction = async () =>
    (await sqlOn<{ n: number }>(shadow.temp.url, 'select count(*)::int as n from pg_stat_activity where datname = current_database() and xact_start is not null and pid <> pg_backend_pid()'))[0]!.n;

  it('rolls back a plain statement and one with parameters when the transaction fails', async () => {
    await shadow.db.knex.raw('create table t (id int primary key)');
    await expect(
      shadow.db.knex.transaction(async (trx) => {
        await trx.raw('insert into t values (1)');
        await trx('t').insert({ id: 2 });
        await trx.raw('select * from no_such_table');
      }),
    ).rejects.toMatchObject({ code: '42P01' });
    expect(await shadow.db.knex('t').count({ n: '*' })).toEqual([{ n: '0' }]);
    await shadow.db.knex.transaction(async (trx) => {
      // Parameters first: BEGIN goes alone, then the statement.
      await trx('t').insert({ id: 3 });
      await trx.raw('insert into t values (4)');
    });
    expect((await shadow.db.knex('t').orderBy('id')).map((r: { id: number }) => r.id)).toEqual([3, 4]);
  });

  it('keeps the error position relative to the statement, and the statement’s own result', async () => {
    const failure = await shadow.db.knex.transaction((trx) => trx.raw('select 1 from no_such_table')).catch((error: unknown) => error);
    // PostgreSQL points at "no_such_table", character 15 of the statement.
    expect(failure).toMatchObject({ code: '42P01', position: '15' });
    const rows = await shadow.db.knex.transaction(async (trx) => (await trx.raw('select 41 + 1 as answer')).rows);
    expect(rows).toEqual([{ answer: 42 }]);
    const several = await shadow.db.knex.transaction(async (trx) => (await trx.raw('select 1 as a; select 2 as b')) as unknown as { rows: unknown[] }[]);
    expect(several.map((r) => r.rows)).toEqual([[{ a: 1 }], [{ b: 2 }]]);
  });

  it('has sent nothing when the transaction starts, and commits an empty one', async () => {
    let openBeforeFirstStatement: number | undefined;
    await shadow.db.knex.transaction(async (trx) => {
      openBeforeFirstStatement = await inTransaction();
      await trx.raw('select 1');
    });
    expect(openBeforeFirstStatement).toBe(0);
    await shadow.db.knex.transaction(async () => undefined);
    await shadow.db.knex.transaction(async (trx) => {
      await trx.raw('insert into t values (5)');
    });
    expect(await inTransaction()).toBe(0);
    expect(sent.some((s) => s.startsWith('BEGIN;\n'))).toBe(false); // what knex reports is its own SQL
    expect(await shadow.db.knex('t').where({ id: 5 }).first()).toEqual({ id: 5 });
  });
});
