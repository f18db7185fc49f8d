import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { resolveProject } from '../../src/config/resolve.js';
import { KnexsafeError } from '../../src/errors.js';
import { makeProject } from '../helpers/cli.js';

const envKeyed = `module.exports = {
  development: { client: 'pg', connection: 'postgresql://dev:devpass@localhost/dev', migrations: { directory: './db/migrations' } },
  production: { client: 'postgresql', connection: process.env.PROD_URL },
};`;

async function expectError(promise: Promise<unknown>, code: string, message: RegExp): Promise<KnexsafeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KnexsafeError);
    const e = error as KnexsafeError;
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    return e;
  }
  throw new Error('expected an error');
}

describe('resolveProject', () => {
  // vitest sets NODE_ENV=test; these tests are about knex's default environment.
  beforeEach(() => {
    delete process.env.NODE_ENV;
  });

  it('finds the knexfile upward and resolves paths from its folder', async () => {
    const dir = makeProject({ 'knexfile.js': envKeyed, 'db/migrations/.keep': '', 'src/deep/x.txt': '' });
    const project = await resolveProject({ cwd: path.join(dir, 'src/deep') });
    expect(project.knexfile).toBe(path.join(dir, 'knexfile.js'));
    expect(project.env).toBe('development');
    expect(project.environments).toEqual(['development', 'production']);
    expect(project.migrations.directories).toEqual([path.join(dir, 'db/migrations')]);
    expect(project.target).toMatchObject({ kind: 'server', source: 'knexfile' });
  });

  it('honours --env, NODE_ENV and lists known environments when unknown', async () => {
    const dir = makeProject({ 'knexfile.js': envKeyed });
    const prod = await resolveProject({ cwd: dir, env: 'production' });
    expect(prod.env).toBe('production');
    const e = await expectError(resolveProject({ cwd: dir, env: 'staging' }), 'UNKNOWN_ENV', /no environment "staging".*Known environments: development, production/);
    expect(e.exitCode).toBe(2);
  });

  it('accepts flat configs, (async) functions, ESM, TypeScript and .js in type:module packages', async () => {
    const cases: Record<string, Record<string, string>> = {
      flat: { 'knexfile.js': `module.exports = { client: 'pg', connection: 'postgres://x@h/db' };` },
      fn: { 'knexfile.js': `module.exports = async () => ({ development: { client: 'pg', connection: 'postgres://x@h/db' } });` },
      mjs: { 'knexfile.mjs': `export default { development: { client: 'pg', connection: 'postgres://x@h/db' } };` },
      ts: {
        'knexfile.ts': `import type { Knex } from 'knex';\nconst config: Record<string, Knex.Config> = { development: { client: 'pg', connection: 'postgres://x@h/db' } };\nexport default config;`,
      },
      module: { 'package.json': '{"type":"module"}', 'knexfile.js': `export const development = { client: 'pg', connection: 'postgres://x@h/db' };` },
    };
    for (const [name, files] of Object.entries(cases)) {
      const project = await resolveProject({ cwd: makeProject(files) });
      expect(project.target, name).toMatchObject({ kind: 'server', connection: 'postgres://x@h/db' });
    }
  });

  it("--migrations-dir is relative to the knexfile's folder, as knex's --migrations-directory is (knex changes to that folder first)", async () => {
    // Checked with knex 3's CLI: from the project root, `--knexfile sub/knexfile.js
    // --migrations-directory m` lists sub/m, and `… m2` fails with "scandir '<root>/sub/m2'".
    const root = makeProject({ 'sub/knexfile.js': "module.exports = { client: 'pg' };\n", 'sub/m/001_a.js': '', 'm/002_b.js': '' });
    const project = await resolveProject({ cwd: root, knexfile: 'sub/knexfile.js', migrationsDir: 'm' });
    expect(project.migrations.directories).toEqual([path.join(fs.realpathSync(root), 'sub', 'm')]);
  });

  it('falls back to DATABASE_URL without a knexfile, and --connection overrides everything', async () => {
    const dir = makeProject({ 'migrations/.keep': '' });
    process.env.DATABASE_URL = 'postgresql://u:pw@h/db';
    try {
      const project = await resolveProject({ cwd: dir });
      expect(project.knexfile).toBeUndefined();
      expect(project.target).toMatchObject({ kind: 'server', source: 'DATABASE_URL' });
      const overridden = await resolveProject({ cwd: dir, connection: 'postgresql://other@h/x', migrationsDir: path.join(dir, 'elsewhere') });
      expect(overridden.target).toMatchObject({ kind: 'server', source: '--connection', connection: 'postgresql://other@h/x' });
      expect(overridden.migrations.directories).toEqual([path.join(dir, 'elsewhere')]);
    } finally {
      delete process.env.DATABASE_URL;
    }
    const none = await resolveProject({ cwd: dir });
    expect(none.target).toEqual({ kind: 'none' });
  });

  it('understands --db embedded[:dir]', async () => {
    const dir = makeProject({});
    expect((await resolveProject({ cwd: dir, db: 'embedded' })).target).toEqual({ kind: 'embedded', source: '--db' });
    expect((await resolveProject({ cwd: dir, db: 'embedded:data/pg' })).target).toEqual({ kind: 'embedded', dataDir: path.join(dir, 'data/pg'), source: '--db' });
    await expectError(resolveProject({ cwd: dir, db: 'mysql://x' }), 'BAD_DB_OPTION', /--db takes/);
  });

  it('rejects non-PostgreSQL clients and invalid configs with their own messages', async () => {
    await expectError(
      resolveProject({ cwd: makeProject({ 'knexfile.js': `module.exports = { client: 'sqlite3', connection: { filename: 'x' } };` }) }),
      'CLIENT_NOT_POSTGRES',
      /PostgreSQL only.*"sqlite3"/,
    );
    await expectError(resolveProject({ cwd: makeProject({ 'knexfile.js': `module.exports = { client: 'pg', migrations: { directory: 42 } };` }) }), 'INVALID_KNEXFILE', /migrations\.directory/);
  });

  it('reports a syntax error in the knexfile with file:line', async () => {
    const dir = makeProject({ 'knexfile.js': `module.exports = {\n  development: {\n    client: 'pg',,\n  },\n};\n` });
    const e = await expectError(resolveProject({ cwd: dir }), 'SYNTAX_ERROR', /Syntax error in knexfile .*knexfile\.js:3/);
    expect(e.details).toMatchObject({ line: 3 });
  });

  it('reports where it looked when --knexfile does not exist', async () => {
    const dir = makeProject({});
    await expectError(resolveProject({ cwd: dir, knexfile: 'nope/knexfile.js' }), 'KNEXFILE_NOT_FOUND', /nope\/knexfile\.js/);
  });

  it('detects the project extension from existing migrations, then the knexfile', async () => {
    const ts = makeProject({ 'knexfile.js': envKeyed, 'db/migrations/20240101000000_a.ts': '' });
    expect((await resolveProject({ cwd: ts })).defaultExtension).toBe('ts');
    const mjs = makeProject({ 'knexfile.mjs': `export default { client: 'pg', migrations: { loadExtensions: ['.mjs'] } };` });
    expect((await resolveProject({ cwd: mjs })).defaultExtension).toBe('mjs');
    // knex's default loadExtensions skips .mjs: a new .mjs migration would never run (knex's make writes .js).
    const mjsDefault = makeProject({ 'knexfile.mjs': `export default { client: 'pg' };`, 'migrations/20240101000000_a.mjs': '' });
    expect((await resolveProject({ cwd: mjsDefault })).defaultExtension).toBe('js');
    expect(fs.existsSync(mjs)).toBe(true);
  });

  it('reads knexsafe settings from knexsafe.config.json or the knexfile', async () => {
    const fromFile = makeProject({ 'knexsafe.config.json': JSON.stringify({ rules: { 'drop-column': 'off' }, thresholds: { largeTableRows: 1000 } }) });
    expect((await resolveProject({ cwd: fromFile })).knexsafe).toEqual({ rules: { 'drop-column': 'off' }, thresholds: { largeTableRows: 1000 } });
    const fromKnexfile = makeProject({ 'knexfile.js': `module.exports = { client: 'pg', knexsafe: { shadowUrl: 'postgres://s@h/x' } };` });
    expect((await resolveProject({ cwd: fromKnexfile })).knexsafe).toEqual({ shadowUrl: 'postgres://s@h/x' });
    await expectError(resolveProject({ cwd: makeProject({ 'knexsafe.config.json': '{"rules":{"x":"loud"}}' }) }), 'INVALID_CONFIG', /rules\.x/);
  });
});
