import { beforeAll, expect, it } from 'vitest';
import type { Knex } from 'knex';
import { openServer } from '../../src/db/connect.js';
import type { CommitRider } from '../../src/db/dialects.js';
import { describeServer, openedAsShadow, sqlOn } from '../helpers/pg.js';

interface RidingClient {
  acquireConnection(): Promise<object>;
  rideWithCommit(connection: object, rider: CommitRider): boolean;
  settleRiders(): void;
}

/** A rider that reads inside a savepoint, as check's schema read after a migration does. */
function savepointRider(sql: string, results: number): { rider: CommitRider; done: Promise<unknown[]> } {
  let rider!: CommitRider;
  const done = new Promise<unknown[]>((resolve, reject) => {
    rider = { sql: `savepoint r; ${sql}; rollback to savepoint r; release savepoint r`, results: results + 3, undo: 'rollback to savepoint r; release savepoint r', receive: resolve, fail: reject };
  });
  done.catch(() => undefined);
  return { rider, done };
}

async function ride(trx: Knex.Transaction, rider: CommitRider): Promise<void> {
  const client = trx.client as unknown as RidingClient;
  expect(client.rideWithCommit(await client.acquireConnection(), rider)).toBe(true);
}

/**
 * Queries sent in the round trip of knex's COMMIT (check's schema read after each migration): the
 * transaction must end exactly as with the COMMIT sent alone, and the rider learn its fate.
 */
describeServer('queries that ride with knex’s COMMIT (shadow connections)', () => {
  const shadow = openedAsShadow('ks_rider');
  beforeAll(async () => {
    await shadow.db.knex.raw('create table t (id int primary key, parent int references t deferrable initially deferred)');
  });
  const ids = async () => (await sqlOn<{ id: number }>(shadow.temp.url, 'select id from t order by id')).map((r) => r.id);

  it('reads inside the transaction, in the COMMIT’s round trip, and commits', async () => {
    const { rider, done } = savepointRider('select count(*)::int as n from t', 1);
    await shadow.db.knex.transaction(async (trx) => {
      await trx.raw('insert into t values (1)');
      await ride(trx, rider);
    });
    const results = (await done) as { rows: unknown[] }[];
    expect(results).toHaveLength(4);
    // The uncommitted row is seen: the read ran before COMMIT, in the transaction.
    expect(results[1]!.rows).toEqual([{ n: 1 }]);
    expect(await ids()).toEqual([1]);
  });

  it('a rider that fails is undone and the transaction still commits', async () => {
    const { rider, done } = savepointRider('select * from no_such_table', 1);
    await shadow.db.knex.transaction(async (trx) => {
      await trx.raw('insert into t values (2)');
      await ride(trx, rider);
    });
    await expect(done).rejects.toMatchObject({ code: '42P01' });
    expect(await ids()).toEqual([1, 2]);
  });

  it('a COMMIT that fails (a deferred foreign key) fails knex’s commit and the rider', async () => {
    const { rider, done } = savepointRider('select 1', 1);
    const failure = await shadow.db.knex
      .transaction(async (trx) => {
        await trx.raw('insert into t values (3, 99)');
        await ride(trx, rider);
      })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: '23503' });
    await expect(done).rejects.toMatchObject({ code: '23503' });
    expect(await ids()).toEqual([1, 2]);
  });

  it('goes alone first when another statement comes before the COMMIT', async () => {
    const { rider, done } = savepointRider('select count(*)::int as n from t', 1);
    await shadow.db.knex.transaction(async (trx) => {
      await ride(trx, rider);
      await trx.raw('insert into t values (4)');
    });
    // Read before the insert, as it would have been sent right away.
    expect(((await done) as { rows: unknown[] }[])[1]!.rows).toEqual([{ n: 2 }]);
    expect(await ids()).toEqual([1, 2, 4]);
  });

  it('a rider left behind by a transaction that ended without COMMIT is failed by settleRiders', async () => {
    const { rider, done } = savepointRider('select 1', 1);
    await shadow.db.knex
      .transaction(async (trx) => {
        await ride(trx, rider);
        throw new Error('rolled back');
      })
      .catch(() => undefined);
    // ROLLBACK came first: the rider went alone before it.
    await expect(done).resolves.toHaveLength(4);
    // Registered through a transaction's client (another object, same knex): the knex settles it,
    // another knex instance does not.
    const orphan = savepointRider('select 1', 1);
    await shadow.db.knex.transaction(async (trx) => {
      expect((trx.client as unknown as RidingClient).rideWithCommit({}, orphan.rider)).toBe(true);
    });
    const other = await openServer(shadow.temp.url, { deferBegin: true });
    try {
      (other.knex.client as unknown as RidingClient).settleRiders();
      const state = await Promise.race([orphan.done.then(() => 'settled', () => 'settled'), new Promise((resolve) => setTimeout(() => resolve('pending'), 50))]);
      expect(state).toBe('pending');
    } finally {
      await other.close();
    }
    (shadow.db.knex.client as unknown as RidingClient).settleRiders();
    await expect(orphan.done).rejects.toThrow(/before the schema read/);
  });
});
