import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADVISORY_LOCK_CLASS, LOCK_HOLDERS_SQL } from '../../src/guard/control.js';
import { createTempDatabase, describeServer, type TempDatabase } from '../helpers/pg.js';

/**
 * knexsafe's run lock is a session advisory lock keyed by the history table's name, and advisory
 * locks belong to one database: a run on another database of the same server (same key, its own
 * knex_migrations) must not be named as the holder. Seen in the suite: a `knexsafe up` on another
 * test's database was listed next to the real holder.
 */
describeServer("the run lock's holders", () => {
  // advisoryLockName() of a project with knex's default history table.
  const lockName = 'public.knex_migrations';
  let here: TempDatabase;
  let elsewhere: TempDatabase;
  const clients: pg.Client[] = [];

  async function holdRunLock(url: string, applicationName: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: url, application_name: applicationName });
    await client.connect();
    clients.push(client);
    await client.query(`select pg_advisory_lock(${ADVISORY_LOCK_CLASS}, hashtext($1))`, [lockName]);
    return client;
  }

  beforeAll(async () => {
    [here, elsewhere] = await Promise.all([createTempDatabase('ks_holders'), createTempDatabase('ks_holders')]);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await Promise.all([here?.drop(), elsewhere?.drop()]);
  });

  it('lists only the sessions holding it in this database', async () => {
    await holdRunLock(elsewhere.url, 'knexsafe:up');
    const holder = await holdRunLock(here.url, 'knexsafe:latest');
    const reader = new pg.Client({ connectionString: here.url });
    await reader.connect();
    clients.push(reader);
    const rows = (await reader.query(LOCK_HOLDERS_SQL, [lockName])).rows as { pid: number; application_name: string }[];
    expect(rows.map((r) => [r.pid, r.application_name])).toEqual([[(holder as unknown as { processID: number }).processID, 'knexsafe:latest']]);
  });
});
