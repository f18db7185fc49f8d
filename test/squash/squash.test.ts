import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProject } from '../../src/config/resolve.js';
import { openEmbeddedDatabase } from '../../src/db/connect.js';
import { migrateLatest } from '../../src/migrations/history.js';
import { listMigrationFiles } from '../../src/migrations/source.js';
import { diffSchemas, formatDiff, snapshotSchema, type SchemaSnapshot } from '../../src/schema/index.js';
import { squash, type SquashResult } from '../../src/squash/index.js';
import { copyExample, makeProject } from '../helpers/cli.js';

const SLOW = 600_000;
const NOW = new Date('2025-03-01T12:00:00Z');

/** The schema `latest` builds from a project's migrations folder, on a fresh embedded database. */
async function schemaAfterLatest(dir: string): Promise<SchemaSnapshot> {
  const project = await resolveProject({ cwd: dir });
  const db = await openEmbeddedDatabase();
  try {
    await migrateLatest({ db, project });
    return await snapshotSchema(db.knex);
  } finally {
    await db.close();
  }
}

function names(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'migrations')).sort();
}

describe('squash on examples/shop (embedded shadow)', () => {
  let dir: string;
  let before: string[];
  let original: SchemaSnapshot;
  let result: SquashResult;

  beforeAll(async () => {
    dir = copyExample('shop');
    before = names(dir);
    original = await schemaAfterLatest(dir);
  }, SLOW);

  it(
    '--dry-run proves the baseline and writes nothing',
    async () => {
      const dry = await squash({ cwd: dir, to: '20240109090000_backfill_users_display_name', dryRun: true, now: NOW });
      expect(dry.ok).toBe(true);
      expect(dry.written).toBe(false);
      expect(dry.proof).toMatchObject({ schemaEqual: true, dataEqual: true, keptEqual: null, verify: { status: 'reversible' } });
      expect(dry.squashed).toHaveLength(9);
      expect(names(dir)).toEqual(before);
      expect(fs.existsSync(dry.archive)).toBe(false);
    },
    SLOW,
  );

  it(
    'squashes up to a migration in the middle: baseline written in the project style, files archived, later ones untouched',
    async () => {
      result = await squash({ cwd: dir, to: '20240106090000_change_price_to_decimal_in_products.js', now: NOW });
      expect(result.ok, JSON.stringify(result.proof, null, 2)).toBe(true);
      expect(result.written).toBe(true);
      // The kept migrations include a TS file and a transaction:false CONCURRENTLY index.
      expect(result.kept).toEqual(['20240107090000_add_status_to_orders.ts', '20240108090000_add_index_on_orders_user_id.js', '20240109090000_backfill_users_display_name.js']);
      expect(result.proof.keptEqual).toBe(true);
      expect(names(dir)).toEqual(['20240106090000_baseline.js', ...result.kept, '_squashed'].sort());
      const archived = fs.readdirSync(result.archive).sort();
      expect(archived).toEqual([...before.slice(0, 6), 'squash.json'].sort());
      expect(path.relative(dir, result.archive)).toBe(path.join('migrations', '_squashed', '20250301120000'));
      const manifest = JSON.parse(fs.readFileSync(result.manifest, 'utf8')) as { baseline: string; replaces: string[] };
      expect(manifest.baseline).toBe('20240106090000_baseline.js');
      expect(manifest.replaces).toEqual(before.slice(0, 6));
      const content = fs.readFileSync(path.join(dir, 'migrations', '20240106090000_baseline.js'), 'utf8');
      expect(content).toContain('exports.up = async function (knex) {');
      expect(content).toContain('CREATE TABLE public.users (');
      expect(content).toMatch(/exports\.down[\s\S]*DROP TABLE public\.order_items,\n {4}public\.orders,\n {4}public\.products,\n {4}public\.users;/);
    },
    SLOW,
  );

  it('knex lists the baseline and the kept files only (the archive folder is not a migration)', async () => {
    const project = await resolveProject({ cwd: dir });
    expect(listMigrationFiles(project.migrations).map((f) => f.name)).toEqual(['20240106090000_baseline.js', ...result.kept]);
  });

  it(
    'a fresh database built from the squashed folder has the schema the original chain built',
    async () => {
      const squashed = await schemaAfterLatest(dir);
      const diff = diffSchemas(original, squashed);
      expect(diff.equal, formatDiff(diff)).toBe(true);
    },
    SLOW,
  );

  it(
    'squashes again, over the first baseline, with a TypeScript baseline',
    async () => {
      const again = await squash({ cwd: dir, to: '20240108090000_add_index_on_orders_user_id', extension: 'ts', now: new Date('2025-03-02T12:00:00Z') });
      expect(again.ok, JSON.stringify(again.proof, null, 2)).toBe(true);
      expect(again.squashed).toEqual(['20240106090000_baseline.js', '20240107090000_add_status_to_orders.ts', '20240108090000_add_index_on_orders_user_id.js']);
      expect(names(dir)).toEqual(['20240108090000_baseline.ts', '20240109090000_backfill_users_display_name.js', '_squashed']);
      expect(fs.readFileSync(again.baseline.file, 'utf8')).toContain("import type { Knex } from 'knex';");
      const diff = diffSchemas(original, await schemaAfterLatest(dir));
      expect(diff.equal, formatDiff(diff)).toBe(true);
    },
    SLOW,
  );
});

describe('squash with rows inserted by migrations', () => {
  const files = {
    'migrations/20240101000000_create_roles.js': `
exports.up = async (knex) => {
  await knex.schema.createTable('roles', (t) => { t.increments('id'); t.string('name').notNullable().unique(); t.jsonb('grants').notNullable().defaultTo('[]'); });
  await knex('roles').insert([{ name: 'admin', grants: JSON.stringify(['*']) }, { name: "o'reader?", grants: '[]' }]);
};
exports.down = (knex) => knex.schema.dropTable('roles');
`,
    'migrations/20240102000000_create_users.js': `
exports.up = async (knex) => {
  await knex.schema.createTable('users', (t) => { t.increments('id'); t.integer('role_id').notNullable().references('id').inTable('roles'); t.text('email'); });
  await knex('roles').where({ name: 'admin' }).update({ grants: JSON.stringify(['all']) });
  await knex('roles').insert({ name: 'temp' });
  await knex('roles').where({ name: 'temp' }).delete();
};
exports.down = (knex) => knex.schema.dropTable('users');
`,
    'migrations/20240103000000_add_bio.js': `
exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.text('bio'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('bio'); });
`,
  };

  it(
    'recreates the rows and the sequence values, and proves them equal',
    async () => {
      const dir = makeProject(files);
      const r = await squash({ cwd: dir, to: '20240102000000_create_users', dryRun: true });
      expect(r.ok, JSON.stringify(r.proof, null, 2)).toBe(true);
      expect(r.data).toMatchObject({ included: true, rows: 2, tables: [{ table: 'public.roles', rows: 2 }] });
      expect(r.baseline.content).toContain(`INSERT INTO public.roles (id, name, grants) VALUES\n    ('1', 'admin', '["all"]'),\n    ('2', 'o''reader\\\\?', '[]');`);
      // The deleted third row moved the sequence on: a new role gets id 4, as after the chain.
      expect(r.baseline.content).toContain(`SELECT pg_catalog.setval('public.roles_id_seq', 3, true);`);
      expect(r.proof.keptEqual).toBe(true);
    },
    SLOW,
  );

  it(
    '--no-data leaves the rows out and says which tables had some',
    async () => {
      const dir = makeProject(files);
      const r = await squash({ cwd: dir, to: '20240102000000_create_users', dryRun: true, data: false });
      expect(r.ok).toBe(true);
      expect(r.baseline.content).not.toContain('INSERT INTO');
      expect(r.warnings.join('\n')).toMatch(/rows that the baseline does not recreate \(--no-data\): public\.roles \(2\)/);
    },
    SLOW,
  );

  it(
    'refuses more rows than --max-rows',
    async () => {
      const dir = makeProject(files);
      await expect(squash({ cwd: dir, to: '20240102000000_create_users', dryRun: true, maxRows: 1 })).rejects.toMatchObject({ code: 'SQUASH_TOO_MUCH_DATA' });
    },
    SLOW,
  );
});

describe('squash refuses', () => {
  it(
    'a chain that does not run, and writes nothing',
    async () => {
      const dir = makeProject({
        'migrations/20240101000000_a.js': `exports.up = (knex) => knex.schema.createTable('a', (t) => { t.increments(); });\nexports.down = (knex) => knex.schema.dropTable('a');\n`,
        'migrations/20240102000000_b.js': `exports.up = (knex) => knex.raw('alter table missing add column x int');\nexports.down = () => {};\n`,
      });
      const before = names(dir);
      await expect(squash({ cwd: dir, to: '20240102000000_b' })).rejects.toMatchObject({ code: 'SQUASH_CHAIN_FAILED', message: expect.stringMatching(/20240102000000_b\.js failed.*missing/) });
      expect(names(dir)).toEqual(before);
    },
    SLOW,
  );

  it(
    'a baseline that cannot rebuild what the chain left (an invalid unique index over duplicates), and writes nothing',
    async () => {
      const dir = makeProject({
        'migrations/20240101000000_a.js': `exports.up = async (knex) => { await knex.schema.createTable('a', (t) => { t.integer('v'); }); await knex('a').insert([{ v: 1 }, { v: 1 }]); };\nexports.down = (knex) => knex.schema.dropTable('a');\n`,
        'migrations/20240102000000_b.js': `exports.config = { transaction: false };\nexports.up = async (knex) => { try { await knex.raw('create unique index concurrently a_v on a (v)'); } catch {} };\nexports.down = (knex) => knex.raw('drop index if exists a_v');\n`,
      });
      const before = names(dir);
      const r = await squash({ cwd: dir, to: '20240102000000_b' });
      expect(r.ok).toBe(false);
      expect(r.written).toBe(false);
      expect(r.proof.baselineError).toMatch(/a_v/);
      expect(r.warnings.join('\n')).toMatch(/Invalid indexes.*public\.a_v/);
      expect(names(dir)).toEqual(before);
    },
    SLOW,
  );

  it('an unknown --to, a baseline extension knex would not load, an archive inside a loaded name', async () => {
    const dir = makeProject({
      'migrations/20240101000000_a.js': `exports.up = () => {};\nexports.down = () => {};\n`,
      'knexfile.js': `module.exports = { client: 'pg', migrations: { loadExtensions: ['.js'] } };\n`,
    });
    await expect(squash({ cwd: dir, to: 'nope' })).rejects.toMatchObject({ code: 'UNKNOWN_MIGRATION' });
    await expect(squash({ cwd: dir, to: '20240101000000_a', extension: 'ts' })).rejects.toMatchObject({ code: 'BAD_EXTENSION' });
    await expect(squash({ cwd: dir, to: '20240101000000_a', archiveDir: path.join(dir, 'migrations', 'old.js') })).rejects.toMatchObject({ code: 'SQUASH_BAD_ARCHIVE' });
  });
});

afterAll(() => undefined);
