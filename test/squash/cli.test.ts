import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';

const SLOW = 600_000;

const project = () =>
  makeProject({
    'migrations/20240101000000_create_tags.js': `exports.up = async (knex) => {\n  await knex.schema.createTable('tags', (t) => { t.increments('id'); t.string('label').notNullable().unique(); });\n  await knex('tags').insert([{ label: 'new' }, { label: 'sale' }]);\n};\nexports.down = (knex) => knex.schema.dropTable('tags');\n`,
    'migrations/20240102000000_add_color_to_tags.js': `exports.up = (knex) => knex.schema.alterTable('tags', (t) => { t.string('color', 7).defaultTo('#000000'); });\nexports.down = (knex) => knex.schema.alterTable('tags', (t) => { t.dropColumn('color'); });\n`,
    'migrations/20240103000000_create_posts.js': `exports.up = (knex) => knex.schema.createTable('posts', (t) => { t.increments('id'); t.integer('tag_id').references('id').inTable('tags'); });\nexports.down = (knex) => knex.schema.dropTable('posts');\n`,
  });

describe('knexsafe squash (CLI)', () => {
  it('needs exactly one of --to, --apply-history, --restore-history (exit 2)', async () => {
    const r = await runCli(['squash', '--cwd', project()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exactly one of --to <name>, --apply-history or --restore-history/);
  });

  it(
    '--dry-run --json reports the proof and writes nothing',
    async () => {
      const dir = project();
      const r = await runCli(['squash', '--to', '20240102000000_add_color_to_tags', '--dry-run', '--json', '--cwd', dir]);
      expect(r.code, r.stderr).toBe(0);
      const out = parseJson<{
        ok: boolean;
        written: boolean;
        proof: { schemaEqual: boolean; dataEqual: boolean; keptEqual: boolean; verify: { status: string } };
        baseline: { name: string; content?: string };
        data: { rows: number };
      }>(r.stdout);
      expect(out).toMatchObject({ ok: true, written: false, baseline: { name: '20240102000000_baseline.js' }, data: { rows: 2 } });
      expect(out.proof).toMatchObject({ schemaEqual: true, dataEqual: true, keptEqual: true, verify: { status: 'reversible' } });
      expect(out.baseline.content).toBeUndefined();
      expect(fs.readdirSync(path.join(dir, 'migrations'))).toHaveLength(3);
    },
    SLOW,
  );

  it(
    'squashes, prints the proof and the next step',
    async () => {
      const dir = project();
      const r = await runCli(['squash', '--to', '20240102000000_add_color_to_tags.js', '--cwd', dir]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/✓ schema of the baseline == schema of the chain/);
      expect(r.stdout).toMatch(/✓ rows and sequence values equal/);
      expect(r.stdout).toMatch(/✓ kept migrations after the baseline end in the same schema/);
      expect(r.stdout).toMatch(/✓ up → down → up on the baseline/);
      expect(r.stdout).toMatch(/knexsafe squash --apply-history/);
      expect(fs.readdirSync(path.join(dir, 'migrations')).sort()).toEqual(['20240102000000_baseline.js', '20240103000000_create_posts.js', '_squashed']);
      // And the project still checks and verifies as a whole.
      const verify = await runCli(['verify', '--cwd', dir]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    },
    SLOW,
  );

  it(
    '--apply-history without a database explains it needs one',
    async () => {
      const dir = project();
      await runCli(['squash', '--to', '20240101000000_create_tags', '--cwd', dir]);
      const r = await runCli(['squash', '--apply-history', '--cwd', dir]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/No database to work on/);
    },
    SLOW,
  );
});
