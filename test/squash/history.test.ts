import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveProject } from '../../src/config/resolve.js';
import { openServer } from '../../src/db/connect.js';
import { migrateLatest, migrateUp, migrationStatus } from '../../src/migrations/history.js';
import { diffSchemas, formatDiff, snapshotSchema } from '../../src/schema/index.js';
import { applySquashHistory, restoreSquashHistory, squash } from '../../src/squash/index.js';
import { copyExample, REPO_ROOT } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';

const SLOW = 600_000;
const TO = '20240106090000_change_price_to_decimal_in_products';

/** knex's own CLI (knex 3.x) on the project and database. */
function knexCli(dir: string, url: string, ...args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/knex/bin/cli.js'), ...args, '--knexfile', path.join(dir, 'knexfile.js')], {
    cwd: dir,
    env: { ...process.env, DATABASE_URL: url, NODE_ENV: 'development', KNEX_PATH: path.join(REPO_ROOT, 'node_modules/knex'), NO_COLOR: '1', FORCE_COLOR: '0' },
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

async function withDb<T>(url: string, dir: string, fn: (ctx: Parameters<typeof migrateLatest>[0]) => Promise<T>): Promise<T> {
  const project = await resolveProject({ cwd: dir, connection: url });
  const db = await openServer(url);
  try {
    return await fn({ db, project });
  } finally {
    await db.close();
  }
}

type Row = { id: number; name: string; batch: number };
const rowsOf = (url: string) => sqlOn<Row>(url, 'select id, name, batch from knex_migrations order by id');

describeServer('squash --apply-history on databases that ran the chain', () => {
  const dbs: TempDatabase[] = [];
  let original: string;
  let squashed: string;
  let full: TempDatabase;

  beforeAll(async () => {
    original = copyExample('shop');
    // Apply the original chain in two batches, as a long-lived database would have.
    full = await createTempDatabase('ks_squash_hist');
    dbs.push(full);
    await withDb(full.url, original, async (ctx) => {
      for (let i = 0; i < 4; i++) await migrateUp(ctx);
    });
    await withDb(full.url, original, (ctx) => migrateLatest(ctx));
    squashed = copyExample('shop');
    const r = await squash({ cwd: squashed, to: TO });
    expect(r.ok).toBe(true);
  }, SLOW);
  afterAll(async () => {
    for (const db of dbs) await db.drop();
  });

  it('--dry-run shows the plan and changes nothing', async () => {
    const before = await rowsOf(full.url);
    const r = await applySquashHistory({ cwd: squashed, connection: full.url, dryRun: true });
    expect(r.changed).toBe(false);
    expect(r.removed.map((x) => x.name)).toEqual(before.slice(0, 6).map((x) => x.name));
    expect(r.inserted).toEqual([expect.objectContaining({ name: '20240106090000_baseline.js', id: before[0]!.id, batch: 5 })]);
    expect(await rowsOf(full.url)).toEqual(before);
  });

  it(
    'replaces the squashed rows with the baseline in one go, after a backup; knex migrate:status and list agree',
    async () => {
      const before = await rowsOf(full.url);
      const r = await applySquashHistory({ cwd: squashed, connection: full.url });
      expect(r.changed).toBe(true);
      expect(r.removed).toHaveLength(6);
      const after = await rowsOf(full.url);
      expect(after.map((x) => x.name)).toEqual(['20240106090000_baseline.js', ...before.slice(6).map((x) => x.name)]);
      // Smallest replaced id, last replaced batch: rollback of the last batch would run the baseline's down.
      expect(after[0]).toMatchObject({ id: before[0]!.id, batch: 5 });
      expect(r.warnings.join('\n')).toMatch(/batch 5, which also holds .*drops the whole squashed schema/);
      expect((await sqlOn<{ is_locked: number }>(full.url, 'select is_locked from knex_migrations_lock'))[0]!.is_locked).toBe(0);

      const backup = JSON.parse(fs.readFileSync(r.backup!.json, 'utf8')) as { rows: Row[]; removed: Row[] };
      expect(backup.rows.map((x) => x.name)).toEqual(before.map((x) => x.name));
      expect(backup.removed).toHaveLength(6);
      expect(fs.readFileSync(r.backup!.sql, 'utf8')).toMatch(/BEGIN;[\s\S]*UPDATE "?knex_migrations_lock"? SET is_locked = 1 WHERE is_locked = 0;[\s\S]*COMMIT;/);
      expect(r.restoreCommand).toMatch(/^knexsafe squash --restore-history .*\.knexsafe\/backups\/\d{14}$/);

      const status = knexCli(squashed, full.url, 'migrate:status');
      expect(status.code, status.out).toBe(0);
      const list = knexCli(squashed, full.url, 'migrate:list');
      expect(list.out).toMatch(/Found 4 Completed Migration file\/files/);
      expect(list.out).toMatch(/No Pending Migration files Found/);
      const ks = await withDb(full.url, squashed, (ctx) => migrationStatus(ctx));
      expect(ks).toMatchObject({ applied: 4, pending: 0, missingFiles: 0 });
    },
    SLOW,
  );

  it('a second run has nothing to do', async () => {
    const r = await applySquashHistory({ cwd: squashed, connection: full.url });
    expect(r.changed).toBe(false);
    expect(r.warnings.join('\n')).toMatch(/already records the baseline/);
  });

  it(
    '--restore-history puts the rows back exactly',
    async () => {
      const applied = await applySquashHistory({ cwd: squashed, connection: full.url, dryRun: true });
      expect(applied.changed).toBe(false);
      const backups = fs.readdirSync(path.join(squashed, '.knexsafe', 'backups'));
      const r = await restoreSquashHistory({ cwd: squashed, connection: full.url, backup: path.join(squashed, '.knexsafe', 'backups', backups[0]!) });
      expect(r.restored).toHaveLength(6);
      const rows = await rowsOf(full.url);
      expect(rows.map((x) => x.name)).toEqual(fs.readdirSync(path.join(original, 'migrations')).sort());
      // With the original files, knex is content again; then apply once more for the next tests.
      expect(knexCli(original, full.url, 'migrate:list').out).toMatch(/No Pending Migration files Found/);
      expect((await applySquashHistory({ cwd: squashed, connection: full.url })).changed).toBe(true);
    },
    SLOW,
  );

  it('refuses a database that ran only some of the squashed migrations, and changes nothing', async () => {
    const partial = await createTempDatabase('ks_squash_hist');
    dbs.push(partial);
    await withDb(partial.url, original, async (ctx) => {
      for (let i = 0; i < 3; i++) await migrateUp(ctx);
    });
    const before = await rowsOf(partial.url);
    await expect(applySquashHistory({ cwd: squashed, connection: partial.url })).rejects.toMatchObject({
      code: 'SQUASH_HISTORY_REFUSED',
      message: expect.stringMatching(/ran only 3 of the 6 migrations that 20240106090000_baseline\.js replaces; not yet: 20240104090000_add_phone_to_users\.js/),
    });
    expect(await rowsOf(partial.url)).toEqual(before);
  });

  it('refuses while knex’s lock is held', async () => {
    const locked = await createTempDatabase('ks_squash_hist');
    dbs.push(locked);
    await withDb(locked.url, original, (ctx) => migrateLatest(ctx));
    await sqlOn(locked.url, 'update knex_migrations_lock set is_locked = 1');
    const before = await rowsOf(locked.url);
    await expect(applySquashHistory({ cwd: squashed, connection: locked.url })).rejects.toMatchObject({ code: 'MIGRATION_LOCKED' });
    expect(await rowsOf(locked.url)).toEqual(before);
  });

  it(
    'a fresh database needs nothing: latest runs the baseline and ends in the schema of the long-lived one',
    async () => {
      const fresh = await createTempDatabase('ks_squash_hist');
      dbs.push(fresh);
      const r = await applySquashHistory({ cwd: squashed, connection: fresh.url });
      expect(r.changed).toBe(false);
      expect(r.warnings.join('\n')).toMatch(/fresh database/);
      const latest = knexCli(squashed, fresh.url, 'migrate:latest');
      // knex's CLI cannot load the kept .ts migration without ts-node; knexsafe can.
      if (latest.code !== 0) await withDb(fresh.url, squashed, (ctx) => migrateLatest(ctx));
      const a = await withDb(full.url, squashed, (ctx) => snapshotSchema(ctx.db.knex));
      const b = await withDb(fresh.url, squashed, (ctx) => snapshotSchema(ctx.db.knex));
      const diff = diffSchemas(a, b);
      expect(diff.equal, formatDiff(diff)).toBe(true);
    },
    SLOW,
  );
});
