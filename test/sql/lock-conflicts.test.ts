import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { conflicts, LOCK_MODES, lockBlocks, lockModeSql, waitsFor } from '../../src/sql/locks.js';
import { createTempDatabase, describeServer, type TempDatabase } from '../helpers/pg.js';

/**
 * The conflict table in src/sql/locks.ts, which every finding's "blocks …" text comes from, checked
 * against the server: each pair of modes taken on one table by two sessions.
 */
describeServer('lock conflict table against PostgreSQL', () => {
  let temp: TempDatabase;
  let holder: pg.Client;
  let requester: pg.Client;

  beforeAll(async () => {
    temp = await createTempDatabase('prec_net_conflicts');
    holder = new pg.Client({ connectionString: temp.url });
    requester = new pg.Client({ connectionString: temp.url });
    await holder.connect();
    await requester.connect();
    await holder.query('create table t (id int primary key); create materialized view mv as select 1 as id; create unique index on mv (id)');
  });

  afterAll(async () => {
    await holder?.end();
    await requester?.end();
    await temp?.drop();
  });

  /** Whether `requested` waits while another session holds `held` on the relation. */
  async function waits(_on: 't' | 'mv', held: string, requested: string): Promise<boolean> {
    await holder.query('begin');
    await holder.query(held);
    await requester.query('begin');
    try {
      await requester.query(requested);
      return false;
    } catch (error) {
      // 55P03: lock_not_available (NOWAIT / lock_timeout)
      if ((error as { code?: string }).code === '55P03') return true;
      throw error;
    } finally {
      await requester.query('rollback');
      await holder.query('rollback');
    }
  }

  it('each pair of modes conflicts on the server exactly when the table says so', async () => {
    const mismatches: string[] = [];
    for (const held of LOCK_MODES) {
      for (const requested of LOCK_MODES) {
        const server = await waits('t', `lock table t in ${lockModeSql(held)} mode`, `lock table t in ${lockModeSql(requested)} mode nowait`);
        if (server !== conflicts(held, requested)) mismatches.push(`${held} held, ${requested} requested: server ${server ? 'waits' : 'goes on'}`);
      }
    }
    expect(mismatches).toEqual([]);
  });

  it('reads go on beside REFRESH MATERIALIZED VIEW CONCURRENTLY and wait behind a plain REFRESH', async () => {
    const nowait = "set local lock_timeout = '50ms'; select * from mv";
    expect(await waits('mv', 'refresh materialized view concurrently mv', nowait)).toBe(false);
    expect(await waits('mv', 'refresh materialized view mv', nowait)).toBe(true);
    expect(lockBlocks('ExclusiveLock', 'materialized-view')).toMatchObject({ reads: false, writes: false });
    expect(lockBlocks('AccessExclusiveLock', 'materialized-view')).toMatchObject({ reads: true });
  });

  it('a materialized view takes no writes and no row locks (why EXCLUSIVE on it blocks no traffic)', async () => {
    const refused = async (sql: string) => {
      await requester.query('begin');
      try {
        await requester.query(sql);
        return false;
      } catch {
        return true;
      } finally {
        await requester.query('rollback');
      }
    };
    expect(await refused('insert into mv values (2)')).toBe(true);
    expect(await refused('select * from mv for update')).toBe(true);
  });

  it('a reader does not hold up SHARE or SHARE ROW EXCLUSIVE; a writer does', async () => {
    const shareNowait = 'lock table t in share mode nowait';
    expect(await waits('t', 'select * from t', shareNowait)).toBe(false);
    expect(await waits('t', 'select * from t', 'lock table t in share row exclusive mode nowait')).toBe(false);
    expect(await waits('t', 'insert into t values (1)', shareNowait)).toBe(true);
    expect(waitsFor('ShareLock')).toMatch(/plain reads do not hold it up/);
    expect(waitsFor('AccessExclusiveLock')).toMatch(/even one that only read it/);
    expect(lockBlocks('ShareUpdateExclusiveLock')).toMatchObject({ reads: false, writes: false, ddl: true });
  });
});
