import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { copyExample, parseJson, REPO_ROOT, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';

/** Runs knex's own CLI (knex 3.x) on the same project and database. */
function knexCli(dir: string, url: string, ...args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/knex/bin/cli.js'), ...args, '--knexfile', path.join(dir, 'knexfile.js')], {
    cwd: dir,
    env: { ...process.env, DATABASE_URL: url, NODE_ENV: 'development', KNEX_PATH: path.join(REPO_ROOT, 'node_modules/knex'), NO_COLOR: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describeServer('interoperability with npx knex (knex 3.x) on the server', () => {
  let db: TempDatabase;
  let dir: string;
  const ks = (...args: string[]) => runCli([...args, '--cwd', dir, '--connection', db.url]);
  const ksStatus = async () => parseJson<{ applied: number; pending: number; migrations: { name: string; batch: number | null }[] }>((await ks('status', '--json')).stdout);

  beforeAll(async () => {
    db = await createTempDatabase();
    dir = copyExample('shop');
    // knex's CLI cannot load .ts migrations without ts-node; keep this project plain JavaScript.
    fs.rmSync(path.join(dir, 'migrations/20240107090000_add_status_to_orders.ts'));
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('after knexsafe latest, knex migrate:list shows nothing pending', async () => {
    expect((await ks('latest')).code).toBe(0);
    const list = knexCli(dir, db.url, 'migrate:list');
    expect(list.code, list.out).toBe(0);
    expect(list.out).toMatch(/Found 8 Completed Migration file\/files/);
    expect(list.out).toMatch(/No Pending Migration files Found/);
    expect(knexCli(dir, db.url, 'migrate:status').out).toMatch(/Already up to date|0/);
  });

  it('after knex migrate:rollback, knexsafe status agrees; knexsafe latest re-applies it (batch numbering continues from what is left: 1)', async () => {
    const rb = knexCli(dir, db.url, 'migrate:rollback');
    expect(rb.code, rb.out).toBe(0);
    expect((await ksStatus()).pending).toBe(8);
    expect((await ks('latest')).code).toBe(0);
    const rows = await sqlOn<{ batch: number }>(db.url, 'select distinct batch from knex_migrations');
    expect(rows.map((r) => r.batch)).toEqual([1]);
  });

  it('after knexsafe rollback --all and knex migrate:latest, both agree on one batch', async () => {
    expect((await ks('rollback', '--all')).code).toBe(0);
    const pending = knexCli(dir, db.url, 'migrate:list');
    expect(pending.out).toMatch(/No Completed Migration files Found/);
    expect(pending.out).toMatch(/Found 8 Pending Migration file\/files/);
    const latest = knexCli(dir, db.url, 'migrate:latest');
    expect(latest.code, latest.out).toBe(0);
    const s = await ksStatus();
    expect(s).toMatchObject({ applied: 8, pending: 0 });
    expect(new Set(s.migrations.map((m) => m.batch))).toEqual(new Set([1]));
    // And knex can roll back what it sees, the lock is free for both.
    expect(knexCli(dir, db.url, 'migrate:rollback', '--all').code).toBe(0);
    expect((await ksStatus()).applied).toBe(0);
  });
});
