import { beforeAll, expect, it } from 'vitest';
import { openServer } from '../../src/db/connect.js';
import type { QueryObserver } from '../../src/db/dialects.js';
import { CommitRideError, PreparedSessions, preparedStatement, RoundTrip, jsonText, settleCommitRides, type Answer } from '../../src/db/round-trip.js';
import { createTempDatabase, describeServer, openedAsShadow, sqlOn } from '../helpers/pg.js';

/**
 * knexsafe's own round trips (src/db/round-trip.ts): statements queued together, sent now or
 * with knex's COMMIT, each answer read where it was queued.
 */
describeServer('round trips (shadow connections)', () => {
  const shadow = openedAsShadow('ks_trip');
  beforeAll(async () => {
    await shadow.db.knex.raw('create table t (id int primary key)');
  });
  const ids = async () => (await sqlOn<{ id: number }>(shadow.temp.url, 'select id from t order by id')).map((r) => r.id);

  it('sends the queued statements together and gives each query its own answer', async () => {
    await shadow.db.knex.transaction(async (trx) => {
      const trip = await RoundTrip.on(trx);
      expect(trip.session).toBeDefined();
      trip.command('savepoint s');
      const two = trip.query('select 2 as n', (rows) => rows[0]?.n);
      const names = trip.query("select 'a' as x union all select 'b'", (rows) => rows.map((r) => r.x));
      trip.command('release savepoint s');
      expect(() => two.value).toThrow(/before its round trip came back/);
      await trip.send();
      expect(two.value).toBe(2);
      expect(names.value).toEqual(['a', 'b']);
    });
  });

  it('rides with the COMMIT, inside the transaction, and the COMMIT still goes when it fails', async () => {
    let seen: Promise<void> | undefined;
    let count: { value: unknown } | undefined;
    await shadow.db.knex.transaction(async (trx) => {
      await trx.raw('insert into t values (1)');
      const trip = await RoundTrip.on(trx);
      trip.command('savepoint s');
      count = trip.query('select count(*)::int as n from t', (rows) => rows[0]?.n);
      trip.command('rollback to savepoint s').command('release savepoint s');
      seen = trip.sendWithCommit(['rollback to savepoint s', 'release savepoint s']);
      expect(seen).toBeDefined();
    });
    await seen;
    // The uncommitted row was seen: it ran before COMMIT.
    expect(count?.value).toBe(1);

    let failed: Promise<void> | undefined;
    await shadow.db.knex.transaction(async (trx) => {
      await trx.raw('insert into t values (2)');
      const trip = (await RoundTrip.on(trx)).command('savepoint s').command('select * from no_such_table');
      trip.command('rollback to savepoint s').command('release savepoint s');
      failed = trip.sendWithCommit(['rollback to savepoint s', 'release savepoint s']);
      failed?.catch(() => undefined);
    });
    const error = await failed?.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommitRideError);
    expect((error as CommitRideError).sqlState).toBe('42P01');
    expect(await ids()).toEqual([1, 2]);
  });

  it('one ride waits per session; a ride whose transaction rolls back goes alone before the ROLLBACK', async () => {
    let left: Promise<void> | undefined;
    let one: { value: unknown } | undefined;
    await shadow.db.knex
      .transaction(async (trx) => {
        const trip = await RoundTrip.on(trx);
        one = trip.query('select 1 as n', (rows) => rows[0]?.n);
        left = trip.sendWithCommit([]);
        left?.catch(() => undefined);
        expect(left).toBeDefined();
        // A second one cannot wait too: the caller sends it itself.
        expect((await RoundTrip.on(trx)).command('select 1').sendWithCommit([])).toBeUndefined();
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    await expect(left).resolves.toBeUndefined();
    expect(one?.value).toBe(1);
    settleCommitRides(shadow.db.knex);
  });

  it('outside a transaction there is no session to wait on: sent through knex', async () => {
    const outside = await RoundTrip.on(shadow.db.knex);
    expect(outside.session).toBeUndefined();
    expect(outside.command('select 1').sendWithCommit([])).toBeUndefined();
    const trip = RoundTrip.viaKnex(shadow.db.knex);
    const n = trip.query('select 3 as n', (rows) => rows[0]?.n);
    await trip.send();
    expect(n.value).toBe(3);
  });
});

describeServer('round trips beside a statement the observer watches', () => {
  it('go alone or appended to the statement, unobserved; appended, only after a statement that succeeded', async () => {
    const temp = await createTempDatabase('ks_beside');
    const seen: string[] = [];
    const appended: { sql: string; xact: Answer<unknown> }[] = [];
    let alone: Answer<unknown> | undefined;
    const observer: QueryObserver = {
      async onQuery(ctx, execute) {
        seen.push(ctx.sql);
        if (!ctx.sql.startsWith('insert')) return execute();
        const aloneTrip = RoundTrip.beside(ctx);
        alone = aloneTrip.query('select count(*)::int as n from t', (rows) => rows[0]?.n);
        await aloneTrip.send();
        expect(RoundTrip.canGoAfter(ctx)).toBe(true);
        const after = RoundTrip.beside(ctx);
        appended.push({ sql: ctx.sql, xact: after.query('select count(*)::int as n from t', (rows) => rows[0]?.n) });
        return after.sendAfter(execute);
      },
    };
    const db = await openServer(temp.url, { deferBegin: true, observer });
    try {
      await db.knex.raw('create table t (id int primary key)');
      // The statement's own result still reaches knex.
      const inserted = await db.knex.transaction(async (trx) => (await trx.raw('insert into t values (1), (2)')) as { rowCount: number });
      expect(inserted.rowCount).toBe(2);
      // Sent ahead of the statement, then with it: the rows before and after.
      expect(alone?.value).toBe(0);
      expect(appended[0]?.xact.value).toBe(2);
      // A statement that fails: what went after it did not run.
      const failure = await db.knex.raw('insert into t values (1)').catch((e: unknown) => e);
      expect(failure).toMatchObject({ code: '23505' });
      expect(() => appended[1]?.xact.value).toThrow(/before its round trip came back/);
      // The observer saw knex's statements only, not its own round trips.
      expect(seen.filter((sql) => sql.includes('count(*)'))).toEqual([]);
    } finally {
      await db.close();
      await temp.drop();
    }
  });
});

it('names a prepared statement after its text and writes its arguments as JSON text literals', () => {
  const a = preparedStatement('p', 'select $1::jsonb', ['text']);
  const b = preparedStatement('p', 'select $1::jsonb -- other', ['text']);
  expect(a.name).not.toBe(b.name);
  expect(a.prepare).toBe(`prepare ${a.name}(text) as select $1::jsonb`);
  expect(a.execute(jsonText(["it's"]))).toBe(`execute ${a.name}('["it''s"]')`);
  expect(preparedStatement('q', 'select 1').execute()).toBe(`execute ${preparedStatement('q', 'select 1').name}`);
  const sessions = new PreparedSessions();
  const session = {};
  expect(sessions.has(session)).toBe(false);
  sessions.add(session);
  expect(sessions.has(session)).toBe(true);
  sessions.forget(session);
  expect(sessions.has(session)).toBe(false);
  expect(sessions.has(undefined)).toBe(false);
});
