import { describe, expect, it } from 'vitest';
import { check } from '../../src/check/run.js';
import { verify } from '../../src/verify/run.js';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * A migration that catches a failed statement inside its transaction: its own code returns
 * normally, but the transaction is aborted — PostgreSQL answers knex's COMMIT with a silent
 * ROLLBACK, and knex then fails to record the migration (25P02). check and verify must report that
 * migration as failed, never call it all clear or reversible. Caught inside a nested
 * knex.transaction() the error rolls back only that savepoint, and all is well.
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

const nestedFiles = {
  'knexfile.js': files['knexfile.js'],
  'migrations/20240101000000_create_users.js': files['migrations/20240101000000_create_users.js'],
  'migrations/20240102000000_nested_error.js': `exports.up = async (knex) => {
  try {
    await knex.transaction(async (trx) => {
      await trx.raw('select 1 / 0');
    });
  } catch {
    // rolled back to its savepoint: the migration's transaction goes on
  }
  await knex.schema.alterTable('users', (t) => { t.string('name'); });
};
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

    it('fails verify at that migration (up-failed), naming the error it caught', async () => {
      const dir = makeProject(files);
      const report = await verify({ cwd: dir, ...(shadowUrl ? { shadowUrl } : {}) });
      const verdict = report.verdicts.find((m) => m.name === '20240102000000_swallow_error.js');
      expect(verdict?.status).not.toBe('reversible');
      const finding = verdict?.findings.find((f) => f.rule === 'up-failed');
      expect(finding?.message).toContain('22012');
    });

    it('accepts an error caught inside a nested knex.transaction()', async () => {
      const dir = makeProject(nestedFiles);
      const checked = await check({ cwd: dir, all: true, ...(shadowUrl ? { shadowUrl } : {}) });
      expect(checked.migrations.map((m) => [m.name, Boolean(m.failed)])).toEqual([
        ['20240101000000_create_users.js', false],
        ['20240102000000_nested_error.js', false],
      ]);
      // Still inside the migration's transaction after the nested one ended (knex clears its id from
      // the connection then): not wrapped in a BEGIN…COMMIT of its own, which would commit early.
      const alter = checked.units?.[1]?.statements.find((st) => st.sql.startsWith('alter table'));
      expect(alter?.inTransaction).toBe(true);
      const verified = await verify({ cwd: dir, ...(shadowUrl ? { shadowUrl } : {}) });
      expect(verified.verdicts.map((m) => m.status)).toEqual(['reversible', 'reversible']);
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
