import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import type { StatusJson } from './history-suite.js';

describe('make and init', () => {
  it('init writes a knexfile in the seed shape and the folders; refuses to overwrite', async () => {
    const dir = makeProject({});
    const r = await runCli(['init', '--cwd', dir]);
    expect(r.code).toBe(0);
    const knexfile = fs.readFileSync(path.join(dir, 'knexfile.js'), 'utf8');
    expect(knexfile).toMatch(/development:[\s\S]*production:[\s\S]*process\.env\.DATABASE_URL/);
    expect(fs.existsSync(path.join(dir, 'migrations'))).toBe(true);
    const again = await runCli(['init', '--cwd', dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('make writes a timestamped file in the project style and never collides', async () => {
    const dir = makeProject({ 'knexfile.js': `module.exports = { client: 'pg' };`, 'migrations/20240101000000_a.ts': 'export async function up() {}\nexport async function down() {}\n' });
    const first = parseJson<{ path: string; extension: string }>((await runCli(['make', 'add_email_to_users', '--cwd', dir, '--json'])).stdout);
    const second = parseJson<{ path: string }>((await runCli(['migrate:make', 'add_email_to_users', '--cwd', dir, '--json'])).stdout);
    expect(first.extension).toBe('ts');
    expect(path.basename(first.path)).toMatch(/^\d{14}_add_email_to_users\.ts$/);
    expect(second.path).not.toBe(first.path);
    expect(fs.readFileSync(first.path, 'utf8')).toMatch(/import type \{ Knex \} from 'knex';[\s\S]*export async function up\(knex: Knex\)/);
    const js = parseJson<{ path: string }>((await runCli(['make', 'x', '-x', 'js', '--cwd', dir, '--json'])).stdout);
    expect(fs.readFileSync(js.path, 'utf8')).toMatch(/exports\.up = async function/);
    const bad = await runCli(['make', 'x', '-x', 'py', '--cwd', dir]);
    expect(bad.code).toBe(2);
  });
});

describe('TypeScript and ESM migration projects (which knex alone cannot load without ts-node / for .mjs)', () => {
  const cases: Record<string, Record<string, string>> = {
    'TypeScript knexfile + .ts migrations': {
      'knexfile.ts': `const config = { client: 'pg', migrations: { directory: './migrations' } };\nexport default config;\n`,
      'migrations/20240101000000_create_a.ts': `import type { Knex } from 'knex';\nexport async function up(knex: Knex): Promise<void> { await knex.schema.createTable('a', (t) => { t.increments(); }); }\nexport async function down(knex: Knex): Promise<void> { await knex.schema.dropTable('a'); }\n`,
    },
    '.mjs migrations': {
      // knex's default loadExtensions skips .mjs: the knexfile must list it, for knex and knexsafe alike.
      'knexfile.mjs': `export default { client: 'pg', migrations: { loadExtensions: ['.mjs'] } };\n`,
      'migrations/20240101000000_create_a.mjs': `export async function up(knex) { await knex.schema.createTable('a', (t) => { t.increments(); }); }\nexport async function down(knex) { await knex.schema.dropTable('a'); }\n`,
    },
    '.js in a "type": "module" package': {
      'package.json': '{ "type": "module" }',
      'knexfile.js': `export default { client: 'pg' };\n`,
      'migrations/20240101000000_create_a.js': `export const up = (knex) => knex.schema.createTable('a', (t) => { t.increments(); });\nexport const down = (knex) => knex.schema.dropTable('a');\n`,
    },
  };
  for (const [name, files] of Object.entries(cases)) {
    it(name, async () => {
      const dir = makeProject(files);
      const db = ['--db', `embedded:${path.join(dir, '.db')}`];
      const up = await runCli(['latest', '--cwd', dir, ...db]);
      expect(up.code, up.stderr).toBe(0);
      const s = parseJson<StatusJson>((await runCli(['status', '--cwd', dir, ...db, '--json'])).stdout);
      expect(s).toMatchObject({ applied: 1, pending: 0 });
      const down = await runCli(['rollback', '--cwd', dir, ...db]);
      expect(down.code, down.stderr).toBe(0);
    });
  }
});
