import { beforeAll, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { openServer } from '../../src/db/connect.js';
import { CommitRideError, RoundTrip, settleCommitRides, type Answer } from '../../src/db/round-trip.js';
import { describeServer, openedAsShadow, sqlOn } from '../helpers/pg.js';

/** A round trip that reads inside a savepoint, as check's schema read after a migration does, waiting for the COMMIT. */
async function rideWithCommit(trx: Knex.Transaction, sql: string): Promise<{ rows: Answer<unknown[]>; done: Promise<void> }> {
  const trip = (await RoundTrip.on(trx)).command('savepoint r');
  const rows = trip.query(sql, (rows) => rows);
  trip.command('rollback to savepoint r').command('release savepoint r');
  const done = trip.sendWithCommit(['rollback to savepoint r', 'release savepoint r']);
  expect(done).toBeDefined();
  done!.catch(() => undefined);
  return { rows, done: done! };
}

/**
 * Round trips sent in the round trip of knex's COMMIT (check's schema read after each migration):
 * the transaction must end exactly as with the COMMIT sent alone, and the round trip learn its fate.
 */
describeServer('round trips that ride with knex’s COMMIT (shadow connections)', () => {
  const shadow = openedAsShadow('ks_rider');
  beforeAll(async () => {
    await shadow.db.knex.raw('create table t (id int primary key, parent int references t deferrable initially deferred)');
  });
  const ids = async () => (await sqlOn<{ id: number }>(shadow.temp.url, 'select id from t order by id')).map((r) => r.id);

  it('reads inside the transaction, in the COMMIT’s round trip, and commits', async () => {
    let ride!: Awaited<ReturnType<typeof rideWithCommit>>;
    await shadow.db.knex.transaction(async (trx) => {
      await trx.raw('insert into t values (1)');
      ride = await rideWithCommit(trx, 'select count(*)::int as n from t');
    });
    await ride.done;
    // The uncommitted row is seen: the read ran before COMMIT, in the transaction.
    expect(ride.rows.value).toEqual([{ n: 1 }]);
    expect(await ids()).toEqual([1]);
  });

  it('a ride that fails is undone and the transaction still commits', async () => {
    let ride!: Awaited<ReturnType<typeof rideWithCommit>>;
    await shadow.db.knex.transaction(async (trx) => {
      await trx.raw('insert into t values (2)');
      ride = await rideWithCommit(trx, 'select * from no_such_table');
    });
    await expect(ride.done).rejects.toSatisfy((e) => e instanceof CommitRideError && e.sqlState === '42P01');
    expect(await ids()).toEqual([1, 2]);
  });

  it('a COMMIT that fails (a deferred foreign key) fails knex’s commit and the ride', async () => {
    let ride!: Awaited<ReturnType<typeof rideWithCommit>>;
    const failure = await shadow.db.knex
      .transaction(async (trx) => {
        await trx.raw('insert into t values (3, 99)');
        ride = await rideWithCommit(trx, 'select 1');
      })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: '23503' });
    await expect(ride.done).rejects.toSatisfy((e) => e instanceof CommitRideError && e.sqlState === '23503');
    expect(await ids()).toEqual([1, 2]);
  });

  it('goes alone first when another statement comes before the COMMIT', async () => {
    let ride!: Awaited<ReturnType<typeof rideWithCommit>>;
    await shadow.db.knex.transaction(async (trx) => {
      ride = await rideWithCommit(trx, 'select count(*)::int as n from t');
      await trx.raw('insert into t values (4)');
    });
    await ride.done;
    // Read before the insert, as it would have been sent right away.
    expect(ride.rows.value).toEqual([{ n: 2 }]);
    expect(await ids()).toEqual([1, 2, 4]);
  });

  it('a ride left behind by a transaction that ended without COMMIT is failed by settleCommitRides, on its own knex only', async () => {
    let ride!: Awaited<ReturnType<typeof rideWithCommit>>;
    await shadow.db.knex
      .transaction(async (trx) => {
        ride = await rideWithCommit(trx, 'select 1 as n');
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    // ROLLBACK came first: the ride went alone before it.
    await ride.done;
    expect(ride.rows.value).toEqual([{ n: 1 }]);
    // One that waits on the session of a transaction over already: no statement of that transaction will take it.
    let trip!: RoundTrip;
    await shadow.db.knex.transaction(async (trx) => {
      trip = (await RoundTrip.on(trx)).command('select 1');
    });
    const orphan = trip.sendWithCommit([]);
    expect(orphan).toBeDefined();
    orphan!.catch(() => undefined);
    // Another knex instance does not settle it.
    const other = await openServer(shadow.temp.url, { deferBegin: true });
    try {
      settleCommitRides(other.knex);
      const state = await Promise.race([
        orphan!.then(
          () => 'settled',
          () => 'settled',
        ),
        new Promise((resolve) => setTimeout(() => resolve('pending'), 50)),
      ]);
      expect(state).toBe('pending');
    } finally {
      await other.close();
    }
    settleCommitRides(shadow.db.knex);
    await expect(orphan).rejects.toThrow(/before the schema read/);
  });
});
