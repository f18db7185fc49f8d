import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { backfill, onBackfillProgress, type BackfillProgress } from '../../src/backfill/backfill.js';
import { openServer, type Database } from '../../src/db/connect.js';
import { KnexsafeError } from '../../src/errors.js';
import { makeProject, REPO_ROOT, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describeServer('backfill: batches by primary key, one transaction each, resumable', () => {
  let db: TempDatabase;
  let target: Database;
  beforeAll(async () => {
    db = await createTempDatabase('ks_backfill');
    target = await openServer(db.url);
  });
  afterAll(async () => {
    await target?.close();
    await db?.drop();
  });
  beforeEach(async () => {
    await sqlOn(db.url, `drop table if exists items, knexsafe_backfills, knex_migrations, knex_migrations_lock; create table items (id int primary key, n int not null default 0, label text)`);
  });

  it('a backfill killed half-way (SIGKILL) resumes where it stopped and finishes with every row done exactly once', async () => {
    await sqlOn(db.url, 'insert into items (id) select g from generate_series(1, 20000) g');
    const dist = pathToFileURL(path.join(REPO_ROOT, 'dist/backfill/backfill.js')).href;
    const knexUrl = pathToFileURL(path.join(REPO_ROOT, 'node_modules/knex/knex.js')).href;
    const script = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ks-bf-')), 'run.mjs');
    // `n = n + 1` is not idempotent: a row done twice (or skipped) shows as 2 (or 0).
    fs.writeFileSync(
      script,
      `import knexFactory from ${JSON.stringify(knexUrl)};\nimport { backfill } from ${JSON.stringify(dist)};\n` +
        `const knex = knexFactory({ client: 'pg', connection: ${JSON.stringify(db.url)} });\n` +
        `await backfill(knex, { table: 'items', set: { n: knex.raw('n + 1') }, batchSize: 500, pauseMs: 40 });\nawait knex.destroy();\n`,
    );
    const child = spawn(process.execPath, [script], { stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor('a few batches', async () => {
      const rows = await sqlOn<{ rows_done: string }>(db.url, "select rows_done from knexsafe_backfills where table_name = 'items'").catch(() => []);
      return Number(rows[0]?.rows_done ?? 0) >= 3000;
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(stderr).toBe('');
    const [state] = await sqlOn<{ rows_done: string; last_key: string }>(db.url, 'select rows_done, last_key from knexsafe_backfills');
    const counts = await sqlOn<{ n: number; c: number }>(db.url, 'select n, count(*)::int as c from items group by n order by n');
    // The saved position and the data agree: the batch and its bookkeeping commit together.
    const done = counts.find((r) => r.n === 1)?.c ?? 0;
    expect(done).toBe(Number(state!.rows_done));
    expect(done).toBeGreaterThanOrEqual(3000);
    expect(done).toBeLessThan(20000);
    expect(Number(state!.last_key)).toBe(done);

    const seen: BackfillProgress[] = [];
    const result = await backfill(target.knex, { table: 'items', set: { n: target.knex.raw('n + 1') }, batchSize: 2000, onProgress: (p) => seen.push(p) });
    expect(result).toMatchObject({ finished: true, resumed: true, done: 20000 });
    expect(seen[0]!.done).toBe(done + 2000);
    expect(await sqlOn(db.url, 'select n, count(*)::int as c from items group by n')).toEqual([{ n: 1, c: 20000 }]);
    // Finished: the bookkeeping row is gone, so running the migration again (after a rollback) redoes it.
    expect(await sqlOn(db.url, 'select * from knexsafe_backfills')).toEqual([]);
  });

  it('updates only rows matching `where`, in key order, reports progress, pauses between batches', async () => {
    await sqlOn(db.url, "insert into items (id, label) select g, case when g % 2 = 0 then 'even' end from generate_series(1, 1000) g");
    const global: BackfillProgress[] = [];
    const stop = onBackfillProgress((p) => global.push(p));
    const local: BackfillProgress[] = [];
    const started = performance.now();
    const result = await backfill(target.knex, {
      table: 'items',
      set: { label: 'odd', n: 7 },
      where: (q) => q.whereNull('label'),
      batchSize: 100,
      pauseMs: 20,
      onProgress: (p) => local.push(p),
    });
    stop();
    expect(result).toMatchObject({ done: 500, batches: 5, finished: true, resumed: false });
    expect(performance.now() - started).toBeGreaterThan(4 * 20);
    expect(local.map((p) => p.done)).toEqual([100, 200, 300, 400, 500, 500]);
    expect(global).toEqual(local);
    expect(local[0]!.estimatedTotal).toBeGreaterThan(0);
    expect(await sqlOn(db.url, 'select label, n, count(*)::int as c from items group by 1, 2 order by 1')).toEqual([
      { label: 'even', n: 0, c: 500 },
      { label: 'odd', n: 7, c: 500 },
    ]);
  });

  it('refuses to run inside a transaction, and explains why', async () => {
    const error = await target.knex.transaction((trx) => backfill(trx, { table: 'items', set: { n: 1 } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KnexsafeError);
    expect((error as KnexsafeError).code).toBe('BACKFILL_IN_TRANSACTION');
    expect((error as KnexsafeError).hint).toMatch(/transaction: false/);
  });

  it('a backfill_* migration (transaction: false) run by latest: batches, with a progress line from the CLI', async () => {
    await sqlOn(db.url, 'drop table items');
    const index = pathToFileURL(path.join(REPO_ROOT, 'dist/index.js')).href;
    const dir = makeProject({
      'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(db.url)} };\n`,
      'migrations/20240101000000_create_items_table.js': `exports.up = (knex) => knex.schema.createTable('items', (t) => { t.increments('id'); t.integer('n').notNullable().defaultTo(0); t.text('label'); });\nexports.down = (knex) => knex.schema.dropTable('items');\n`,
    });
    expect((await runCli(['latest', '--cwd', dir, '--no-check'])).code).toBe(0);
    await sqlOn(db.url, 'insert into items (n) select 0 from generate_series(1, 3000)');
    fs.writeFileSync(
      path.join(dir, 'migrations/20240102000000_backfill_items_label.js'),
      `exports.up = async (knex) => {\n  const { backfill } = await import(${JSON.stringify(index)});\n  await backfill(knex, { table: 'items', set: { label: 'x' }, where: { label: null }, batchSize: 1000 });\n};\nexports.down = async () => {};\nexports.config = { transaction: false };\n`,
    );
    const r = await runCli(['latest', '--cwd', dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[#+\] 100%\s+3,000 \/ ~3,000 rows\s+items/);
    expect(await sqlOn(db.url, 'select count(*)::int as c from items where label is null')).toEqual([{ c: 0 }]);
  });
});
