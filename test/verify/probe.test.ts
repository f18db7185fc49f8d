import { describe, expect, it } from 'vitest';
import { verify } from '../../src/commands/verify.js';
import { makeProject } from '../helpers/cli.js';

/** What the data probe must not get wrong, found on real chains (kutt, blurts-server). */
describe('verify data probe', () => {
  it('fills knex enu() columns with allowed values, ignores NULLs filled in, and retries data migrations on empty tables', async () => {
    const dir = makeProject({
      'migrations/20240101000000_create_users.js': `exports.up = (knex) => knex.schema.createTable('users', (t) => {
  t.increments('id');
  t.enu('role', ['USER', 'ADMIN']).notNullable();
  t.jsonb('settings');
});
exports.down = (knex) => knex.schema.dropTable('users');
`,
      'migrations/20240102000000_add_nickname.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.string('nickname'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('nickname'); });
`,
      // Fills NULLs and makes the column required; down only relaxes it: nothing that existed is lost.
      'migrations/20240103000000_require_nickname.js': `exports.up = async (knex) => {
  await knex('users').whereNull('nickname').update({ nickname: 'anonymous' });
  await knex.schema.alterTable('users', (t) => { t.string('nickname').notNullable().alter(); });
};
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.string('nickname').nullable().alter(); });
`,
      // A data migration that expects real application data, like blurts-server's.
      'migrations/20240104000000_migrate_settings.js': `exports.up = async (knex) => {
  const rows = await knex('users').select('id', 'settings');
  for (const row of rows) {
    const theme = row.settings.themes.map((t) => t.name)[0];
    await knex('users').where({ id: row.id }).update({ settings: { theme } });
  }
};
exports.down = async () => {};
`,
    });
    const report = await verify({ cwd: dir });
    expect(report.probe.unfilled).toEqual([]);
    expect(report.probe.filled).toContain('public.users');
    const byName = Object.fromEntries(report.verdicts.map((v) => [v.name.slice(15, -3), v]));
    expect(byName.require_nickname?.status).toBe('reversible');
    expect(byName.migrate_settings?.status).toBe('reversible');
    expect(byName.migrate_settings?.notes.join(' ')).toMatch(/up fails when users hold rows \(Cannot read properties of undefined.*verified with them empty/);
    expect(report.ok).toBe(true);
  });
});
