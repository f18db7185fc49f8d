import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { guardedLatest } from '../../src/guard/run.js';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';

const INDEX_MIGRATION = '20240102000000_add_index_on_orders_user_id.js';
const indexMigration = (comment = '') =>
  `exports.up = async (knex) => {\n${comment}  await knex.schema.alterTable('orders', (t) => { t.index('user_id'); });\n};\nexports.down = (knex) => knex.schema.alterTable('orders', (t) => { t.dropIndex('user_id'); });\n`;

describeServer('latest runs the check first: errors stop it unless suppressed or --unsafe', () => {
  let db: TempDatabase;
  let dir: string;
  const applied = async () => (await sqlOn<{ name: string }>(db.url, 'select name from knex_migrations order by id')).map((r) => r.name);

  beforeAll(async () => {
    db = await createTempDatabase('ks_gate');
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await sqlOn(db.url, 'drop table if exists orders, knex_migrations, knex_migrations_lock');
    // Tables above 100 rows count as large here, so a blocking index build on orders is an error.
    dir = makeProject({
      'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(db.url)}, knexsafe: { thresholds: { largeTableRows: 100 } } };\n`,
      'migrations/20240101000000_create_orders_table.js': `exports.up = (knex) => knex.schema.createTable('orders', (t) => { t.increments(); t.integer('user_id'); });\nexports.down = (knex) => knex.schema.dropTable('orders');\n`,
    });
    await guardedLatest({ cwd: dir, check: false });
    await sqlOn(db.url, 'insert into orders (user_id) select g from generate_series(1, 5000) g; analyze orders');
  });

  it('an error finding stops latest before anything runs (exit 1); --dry-run shows the plan and exits 1 too; --unsafe runs it', async () => {
    fs.writeFileSync(path.join(dir, 'migrations', INDEX_MIGRATION), indexMigration());
    const blocked = await runCli(['latest', '--cwd', dir]);
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toMatch(
      /latest stopped before changing anything: the check found 1 error in the pending migrations — 20240102000000_add_index_on_orders_user_id\.js:2 index-not-concurrent/,
    );
    expect(blocked.stderr).toMatch(/--unsafe/);
    expect(await applied()).toEqual(['20240101000000_create_orders_table.js']);

    const dry = await runCli(['latest', '--cwd', dir, '--dry-run', '--json']);
    expect(dry.code).toBe(1);
    const plan = parseJson<{
      dryRun: boolean;
      plan: { layout: string; pending: { name: string; transaction: string; statements: string[]; findings: { rule: string; severity: string }[] }[]; blocking: unknown[] };
    }>(dry.stdout);
    expect(plan.dryRun).toBe(true);
    expect(plan.plan.pending).toEqual([
      expect.objectContaining({
        name: INDEX_MIGRATION,
        transaction: 'batch',
        statements: ['create index "orders_user_id_index" on "orders" ("user_id")'],
        findings: [expect.objectContaining({ rule: 'index-not-concurrent', severity: 'error' })],
      }),
    ]);
    expect(plan.plan.blocking).toHaveLength(1);
    expect(await applied()).toHaveLength(1);

    const unsafe = await runCli(['latest', '--cwd', dir, '--unsafe']);
    expect(unsafe.code, unsafe.stderr).toBe(0);
    expect(unsafe.stderr).toMatch(/--unsafe: running despite 1 blocking finding/);
    expect(await applied()).toHaveLength(2);
  }, 180_000);

  it('a finding suppressed with a reason does not stop it; --no-check skips the check altogether', async () => {
    fs.writeFileSync(path.join(dir, 'migrations', INDEX_MIGRATION), indexMigration('  // knexsafe-ignore index-not-concurrent: orders is tiny in this product, a 50 ms lock is fine\n'));
    const r = await runCli(['latest', '--cwd', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson<{ check: { errors: number; suppressed: number } }>(r.stdout).check).toMatchObject({ errors: 0, suppressed: 1 });
    expect(await applied()).toHaveLength(2);

    await runCli(['rollback', '--cwd', dir]);
    fs.writeFileSync(path.join(dir, 'migrations', INDEX_MIGRATION), indexMigration());
    const unchecked = await runCli(['latest', '--cwd', dir, '--no-check', '--json']);
    expect(unchecked.code, unchecked.stderr).toBe(0);
    expect(parseJson(unchecked.stdout)).toMatchObject({ check: null, checkSkipped: '--no-check' });
    expect(await applied()).toHaveLength(2);
  }, 180_000);
});
