import { describe, expect, it } from 'vitest';
import { check } from '../../src/check/run.js';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * A migration that catches a failed statement inside its transaction: its own code returns
 * normally, but the transaction is aborted and knex's COMMIT will fail. Reading the schema after
 * it fails on the shadow too; check must report that migration as failed, never stop there and
 * call the rest all clear.
 */
const files = {
  'knexfile.js': `module.exports = { client: 'pg', connection: process.env.UNUSED_DATABASE_URL };\n`,
  'migrations/20240101000000_create_users.js': `exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email'); });
exports.down = (knex) => knex.schema.dropTable('users');
`,
  'migrations/20240102000000_swallow_error.js': `exports.up = async (knex) => {
  try {
    await knex.raw('select 1 / 0');
  } catch {
    // ignored on purpose: the transaction is aborted all the same
  }
};
exports.down = async () => {};
`,
  'migrations/20240103000000_add_column.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.string('name'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('name'); });
`,
};

function swallowedErrorSuite(label: string, describeFn: typeof describe, shadowUrl: string | undefined) {
  describeFn(`a migration that swallows an error in its transaction (${label} shadow)`, () => {
    it('fails the check at that migration', async () => {
      const dir = makeProject(files);
      const report = await check({ cwd: dir, all: true, ...(shadowUrl ? { shadowUrl } : {}) });
      expect(report.migrations.map((m) => [m.name, Boolean(m.failed)])).toEqual([
        ['20240101000000_create_users.js', false],
        ['20240102000000_swallow_error.js', true],
      ]);
      expect(report.migrations[1]?.failed?.sqlState).toBe('25P02');
    });

    it('exits 1 from the CLI and names the migration', async () => {
      const dir = makeProject(files);
      const result = await runCli(['check', '--all', '--json', ...(shadowUrl ? ['--shadow-url', shadowUrl] : [])], { cwd: dir });
      expect(result.code).toBe(1);
      const json = parseJson<{ migrations: { name: string; failed?: { message: string } }[] }>(result.stdout);
      expect(json.migrations.find((m) => m.failed)?.name).toBe('20240102000000_swallow_error.js');
    });
  });
}

swallowedErrorSuite('embedded', describe, undefined);
swallowedErrorSuite('server', describeServer, SERVER_URL);
