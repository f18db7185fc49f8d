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

describeServer('fleet of 200 schemas in one database (schema per tenant)', () => {
  let temp: TempDatabase;
  let dir: string;
  const cli = (...args: string[]) => runCli(['--no-color', ...args], { cwd: dir });
  const appliedIn = async (schema: string) => (await sqlOn<{ name: string }>(temp.url, `select name from "${schema}".knex_migrations order by id`)).map((r) => r.name);

  beforeAll(async () => {
    temp = await createTempDatabase('ks_fleet_schemas');
    await sqlOn(temp.url, tenants.map((t) => `create schema ${t};`).join('\n'));
    dir = makeProject({
      'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(temp.url)}, migrations: { directory: './migrations' } };\n`,
    }, 'ks-fleet-schemas-');
    fs.mkdirSync(path.join(dir, 'migrations'));
    addMigrations(dir, ['20240101000000_create_items.js', '20240102000000_add_price.js']);
  });

  afterAll(async () => {
    await temp?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('migrates every tenant schema, each in its own schema', async () => {
    const first = await cli('latest', '--targets-query', QUERY, '--concurrency', '8', '--json');
    expect(first.code, first.stderr).toBe(0);
    const firstReport = parseJson<FleetJson>(first.stdout);
    expect(firstReport.targets).toHaveLength(COUNT);
    expect(firstReport.checks).toHaveLength(1);
    // Each tenant's tables and knex's history live in its own schema.
    const tables = await sqlOn<{ n: string }>(temp.url, `select count(*)::int as n from pg_tables where tablename in ('items', 'knex_migrations') and schemaname like 'tenant\\_%'`);
    expect(Number(tables[0]!.n)).toBe(COUNT * 2);
    expect(await sqlOn(temp.url, `select 1 from pg_tables where schemaname = 'public' and tablename in ('items', 'knex_migrations')`)).toEqual([]);
  });

  it('stops at the first failure and leaves the tenants not started untouched', async () => {
    addMigrations(dir, [LAST]);
    const blocker = await holdTableLock(temp.url, `${tenants[0]}.items`);
    let failing: Awaited<ReturnType<typeof cli>>;
    try {
      failing = await cli('latest', '--targets-query', QUERY, '--concurrency', '2', '--retries', '0', '--lock-timeout', '1s', '--json');
    } finally {
      await blocker.release();
    }
    expect(failing.code).toBe(1);
    const report = parseJson<FleetJson>(failing.stdout);
    expect(report.checks).toHaveLength(1);
    expect(report.targets.filter((t) => t.result === 'failed').map((t) => t.target)).toEqual([tenants[0]]);
    const notStarted = report.targets.filter((t) => t.result === 'not started');
    expect(notStarted.length).toBeGreaterThan(0);
    const untouched = await sqlOn<{ schema: string }>(
      temp.url,
      `select table_schema as schema from information_schema.columns where table_name = 'items' and column_name = 'note' and table_schema = any($1)`,
      [notStarted.map((t) => t.target)],
    );
    expect(untouched).toEqual([]);
    for (const t of notStarted.slice(0, 5)) expect(await appliedIn(t.target)).toEqual(['20240101000000_create_items.js', '20240102000000_add_price.js']);
  });

  it('a re-run finishes the fleet, and status shows one version', async () => {
    const rerun = await cli('latest', '--targets-query', QUERY, '--concurrency', '8');
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    expect(await appliedIn(tenants[0]!)).toEqual(['20240101000000_create_items.js', '20240102000000_add_price.js', LAST]);
    const notes = await sqlOn<{ n: string }>(temp.url, `select count(*)::int as n from information_schema.columns where table_name = 'items' and column_name = 'note' and table_schema like 'tenant\\_%'`);
    expect(Number(notes[0]!.n)).toBe(COUNT);
  });

  it('status shows every tenant at the same version', async () => {
    const status = await cli('status', '--targets-query', QUERY, '--concurrency', '8', '--json');
    expect(status.code).toBe(0);
    expect(parseJson<FleetJson>(status.stdout).versions).toEqual([{ version: LAST, targets: COUNT }]);
  });
});
