import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';
import { addMigrations, holdTableLock, type FleetJson } from './fleet-helpers.js';

const COUNT = 200;
const tenants = Array.from({ length: COUNT }, (_, i) => `tenant_${String(i).padStart(3, '0')}`);
const LAST = '20240103000000_add_note.js';
const QUERY = `select nspname as schema from pg_namespace where nspname like 'tenant\\_%' order by 1`;

// Each step runs a whole fleet (up to 200 guarded runs): on a 2-core machine shared with other jobs
// that takes several times longer than alone, hence the per-step timeout above the default 60 s.
describeServer('fleet of 200 schemas in one database (schema per tenant)', () => {
  let temp: TempDatabase;
  let dir: string;
  const cli = (...args: string[]) => runCli(['--no-color', ...args], { cwd: dir });
  const appliedIn = async (schema: string) => (await sqlOn<{ name: string }>(temp.url, `select name from "${schema}".knex_migrations order by id`)).map((r) => r.name);

  beforeAll(async () => {
    temp = await createTempDatabase('ks_fleet_schemas');
    await sqlOn(temp.url, tenants.map((t) => `create schema ${t};`).join('\n'));
    dir = makeProject(
      {
        'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(temp.url)}, migrations: { directory: './migrations' } };\n`,
      },
      'ks-fleet-schemas-',
    );
    fs.mkdirSync(path.join(dir, 'migrations'));
    addMigrations(dir, ['20240101000000_create_items.js']);
  });

  afterAll(async () => {
    await temp?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('migrates the tenants it is given, in their own schema', { timeout: 150_000 }, async () => {
    // One tenant first (a table the next step can lock); the other 199 start empty.
    const first = await cli('latest', '--targets-query', QUERY, '--only', tenants[0]!, '--json');
    expect(first.code, first.stderr).toBe(0);
    expect(parseJson<FleetJson>(first.stdout).targets.map((t) => [t.target, t.result])).toEqual([[tenants[0], 'ok']]);
    expect(await appliedIn(tenants[0]!)).toEqual(['20240101000000_create_items.js']);
    expect(await sqlOn(temp.url, `select 1 from pg_tables where schemaname = 'public' and tablename in ('items', 'knex_migrations')`)).toEqual([]);
  });

  it('stops at the first failure and leaves the tenants not started untouched', { timeout: 150_000 }, async () => {
    addMigrations(dir, ['20240102000000_add_price.js', LAST]);
    const blocker = await holdTableLock(temp.url, `${tenants[0]}.items`);
    let failing: Awaited<ReturnType<typeof cli>>;
    try {
      failing = await cli('latest', '--targets-query', QUERY, '--concurrency', '2', '--retries', '0', '--lock-timeout', '1s', '--json');
    } finally {
      await blocker.release();
    }
    expect(failing.code).toBe(1);
    const report = parseJson<FleetJson>(failing.stdout);
    // Two applied states (one tenant at the first migration, 199 with nothing): two checks, not 200.
    expect(report.checks.map((c) => [c.state, c.targets])).toEqual(
      expect.arrayContaining([
        [null, COUNT - 1],
        ['20240101000000_create_items.js', 1],
      ]),
    );
    expect(report.checks).toHaveLength(2);
    expect(report.targets.filter((t) => t.result === 'failed').map((t) => t.target)).toEqual([tenants[0]]);
    expect(await appliedIn(tenants[0]!)).toEqual(['20240101000000_create_items.js']);
    const notStarted = report.targets.filter((t) => t.result === 'not started');
    expect(notStarted.length).toBeGreaterThan(0);
    // Untouched: not even knex's history table was created in their schemas.
    const touched = await sqlOn<{ schema: string }>(temp.url, `select schemaname as schema from pg_tables where schemaname = any($1)`, [notStarted.map((t) => t.target)]);
    expect(touched).toEqual([]);
    for (const t of report.targets.filter((x) => x.result === 'ok')) expect(t.version).toBe(LAST);
  });

  it('a re-run finishes the fleet, and status shows one version', { timeout: 150_000 }, async () => {
    const rerun = await cli('latest', '--targets-query', QUERY, '--concurrency', '8');
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(await appliedIn(tenants[0]!)).toEqual(['20240101000000_create_items.js', '20240102000000_add_price.js', LAST]);
    const notes = await sqlOn<{ n: string }>(
      temp.url,
      `select count(*)::int as n from information_schema.columns where table_name = 'items' and column_name = 'note' and table_schema like 'tenant\\_%'`,
    );
    expect(Number(notes[0]!.n)).toBe(COUNT);
  });

  it('status shows every tenant at the same version', { timeout: 150_000 }, async () => {
    const status = await cli('status', '--targets-query', QUERY, '--concurrency', '8', '--json');
    expect(status.code).toBe(0);
    expect(parseJson<FleetJson>(status.stdout).versions).toEqual([{ version: LAST, targets: COUNT }]);
  });
});
