import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEmbeddedDatabase, openServer, type Database } from '../../src/db/connect.js';
import { createTempDatabase, describeServer, type TempDatabase } from '../helpers/pg.js';
import { ensureParser, inferLocks, parseSqlSync, statementFacts } from '../../src/sql/index.js';
import { CASES, compare, FIXTURE, observeQueuedLock, OUTSIDE_TRANSACTION_CASES, type Comparison, type GroundTruthCase } from './ground-truth.js';

/**
 * Keeps the static lock table and rewrite predictor honest: every case runs for real (in a
 * rolled-back transaction) and what PostgreSQL did must be what knexsafe predicted.
 */

function assertAgreement(result: Comparison, testCase: GroundTruthCase): void {
  const extra = testCase.deviation?.extraLocks ?? {};
  const differences = Object.fromEntries(Object.entries(result.lockDifferences).filter(([relation, [predicted, observed]]) => !(predicted === null && extra[relation] === observed)));
  for (const [relation, mode] of Object.entries(extra)) expect(result.observedLocks[relation], `documented extra lock on ${relation}`).toBe(mode);
  expect(differences, `locks of ${result.sql}\npredicted ${JSON.stringify(result.predictedLocks)}\nobserved ${JSON.stringify(result.observedLocks)}`).toEqual({});

  const expectedFilenodeChange = testCase.deviation?.relfilenodeChanges ?? result.prediction?.rewrite ?? false;
  expect(result.rewriteObserved, `relfilenode change of ${result.target ?? 'any table'}: ${result.prediction?.reason ?? 'no prediction'}`).toBe(expectedFilenodeChange);
  if (result.prediction && result.target) {
    expect(result.scanObserved, `full scan of ${result.target}: ${result.prediction.reason}`).toBe(result.prediction.scan);
  }
}

async function serverVersion(db: Database): Promise<number> {
  const rows = (await db.knex.raw('show server_version_num')).rows as { server_version_num: string }[];
  return Math.floor(Number(rows[0]!.server_version_num) / 10000);
}

describe('static locks and rewrites agree with embedded PostgreSQL (PGlite)', () => {
  let db: Database;
  let version = 0;
  beforeAll(async () => {
    db = await openEmbeddedDatabase();
    await db.knex.raw(FIXTURE);
    version = await serverVersion(db);
  });
  afterAll(async () => {
    await db?.close();
  });

  for (const testCase of CASES) {
    it(testCase.sql, async (ctx) => {
      if (testCase.minVersion && version < testCase.minVersion) ctx.skip();
      assertAgreement(await compare(db.knex, testCase.sql, version, testCase.before), testCase);
    });
  }
});

describeServer('static locks and rewrites agree with the PostgreSQL server', () => {
  let temp: TempDatabase;
  let db: Database;
  let version = 0;
  beforeAll(async () => {
    temp = await createTempDatabase('ks_locks');
    db = await openServer(temp.url);
    await db.knex.raw(FIXTURE);
    version = await serverVersion(db);
  });
  afterAll(async () => {
    await db?.close();
    await temp?.drop();
  });

  for (const testCase of CASES) {
    it(testCase.sql, async (ctx) => {
      if (testCase.minVersion && version < testCase.minVersion) ctx.skip();
      assertAgreement(await compare(db.knex, testCase.sql, version, testCase.before), testCase);
    });
  }

  describe('statements that cannot run in a transaction block, seen queued behind SHARE UPDATE EXCLUSIVE', () => {
    for (const testCase of OUTSIDE_TRANSACTION_CASES) {
      it(testCase.sql, async (ctx) => {
        if (testCase.minVersion && version < testCase.minVersion) ctx.skip();
        await ensureParser();
        const [statement] = parseSqlSync(testCase.sql);
        const predicted = inferLocks(statementFacts(statement!.ast, statement!.sql), {
          pgVersion: version,
          tableOfIndex: (index) => (index.name.startsWith('users_') ? { name: 'users' } : undefined),
        });
        const queued = await observeQueuedLock(temp.url, testCase);
        expect(queued, 'the statement queued behind the blocking session').toBeDefined();
        expect(queued!.relation).toBe(testCase.blocker);
        expect(predicted.find((lock) => lock.relation.name === queued!.relation)?.mode).toBe(queued!.mode);
      });
    }
  });
});
