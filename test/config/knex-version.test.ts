import { describe, expect, it } from 'vitest';
import { bundledKnexVersion, knexVersionFrom, knexVersionWarning } from '../../src/config/knex-version.js';
import { resolveProject } from '../../src/config/resolve.js';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';

const fakeKnex = (version: string) => ({
  'node_modules/knex/package.json': JSON.stringify({ name: 'knex', version, main: 'index.js' }),
  'node_modules/knex/index.js': 'module.exports = {};\n',
});

describe('the project’s own knex version', () => {
  it('warns when the project is on another knex major than the one knexsafe runs (getodk/central-backend is on 0.21)', async () => {
    const dir = makeProject({ 'knexfile.js': `module.exports = { client: 'pg' };\n`, 'migrations/.keep': '', ...fakeKnex('0.21.21') });
    expect(knexVersionWarning(dir)).toMatch(new RegExp(`uses knex 0\\.21\\.21 .*knexsafe runs migrations with knex ${bundledKnexVersion().replace(/\./g, '\\.')}`));
    expect((await resolveProject({ cwd: dir })).warnings).toHaveLength(1);
    const r = await runCli(['check', '--cwd', dir, '--json']);
    expect(parseJson<{ warnings: string[] }>(r.stdout).warnings.join(' ')).toMatch(/uses knex 0\.21\.21/);
  });

  it('says nothing for the same major, or when the project has no knex of its own', async () => {
    const major = bundledKnexVersion().split('.')[0];
    expect(knexVersionWarning(makeProject({ 'knexfile.js': '', ...fakeKnex(`${major}.0.1`) }))).toBeUndefined();
    const bare = makeProject({ 'knexfile.js': '' });
    if (knexVersionFrom(bare) === undefined) expect(knexVersionWarning(bare)).toBeUndefined();
  });
});
