import { describe, expect, it } from 'vitest';
import { CaptureSession } from '../../src/capture/session.js';
import { resolveProject } from '../../src/config/resolve.js';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * A query started inside a schema builder's callback and never awaited by knex (automatisch's
 * add_role_to_users does this): under knex it runs right after the ALTER, before the COMMIT. On
 * the shadow it must run in the same order and never crash knexsafe, also when it finishes after
 * its migration's transaction (its locks are then not read: that read would come too late).
 */
const files = {
  'knexfile.js': `module.exports = { client: 'pg', connection: process.env.UNUSED_DATABASE_URL };\n`,
  'migrations/20240101000000_create_users.js': `exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email'); });
exports.down = (knex) => knex.schema.dropTable('users');
`,
  'migrations/20240102000000_add_role.js': `exports.up = async (knex) => {
  return knex.schema.table('users', async (table) => {
    table.string('role');
    await knex('users').update({ role: 'admin' });
  });
};
exports.down = (knex) => knex.schema.table('users', (table) => { table.dropColumn('role'); });
`,
  'migrations/20240103000000_add_name.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.string('name'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('name'); });
`,
};

interface CheckJson {
  migrations: { name: string; failed?: unknown }[];
}

async function checkAll(shadow: string[]): Promise<void> {
  const dir = makeProject(files);
  const r = await runCli(['check', '--all', '--cwd', dir, ...shadow, '--json', '--max-severity', 'none']);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.code).toBe(0);
  const report = parseJson<CheckJson>(r.stdout);
  expect(report.migrations.map((m) => [m.name, m.failed])).toEqual([
    ['20240101000000_create_users.js', undefined],
    ['20240102000000_add_role.js', undefined],
    ['20240103000000_add_name.js', undefined],
  ]);
}

describe('a query the migration does not await, on the embedded shadow', () => {
  it('check --all runs it after the ALTER, without crashing', () => checkAll([]));
});

describeServer('a query the migration does not await, on the server shadow', () => {
  it('check --all runs it after the ALTER, without crashing', () => checkAll(['--shadow-url', SERVER_URL]));

  it('whenever it finishes, nothing of it is left to fail once the shadow closes', async () => {
    const project = await resolveProject({ cwd: makeProject(files) });
    const session = await CaptureSession.open({ project, shadowUrl: SERVER_URL });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      await session.markRunStart();
      await session.up('20240101000000_create_users.js');
      const outcome = await session.up('20240102000000_add_role.js');
      expect(outcome.error).toBeUndefined();
      const update = outcome.traces[0]?.statements.find((s) => s.sql.startsWith('update'));
      expect(update?.error).toBeUndefined();
      await session.close();
      // Whatever was still pending has failed or finished by now.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await session.close();
    }
  });
});
