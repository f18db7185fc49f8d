import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/run.js';
import { makeProject } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

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

  // automatisch's shape after knexsafe fix: a backfill in batches, without a transaction, casting
  // text to jsonb. The probe's text is not JSON; no schema changed, so it is retried on empty tables.
  it('retries a data migration without a transaction that failed having changed only rows', async () => {
    const dir = makeProject({
      'migrations/20240101000000_create_steps.js': `exports.up = (knex) => knex.schema.createTable('steps', (t) => {
  t.increments('id');
  t.text('data_in');
  t.jsonb('data_in_jsonb');
});
exports.down = (knex) => knex.schema.dropTable('steps');
`,
      'migrations/20240102000000_backfill_jsonb.js': `exports.config = { transaction: false };
exports.up = async (knex) => {
  let last = 0;
  for (;;) {
    const { rows } = await knex.raw('SELECT id FROM steps WHERE id > ? ORDER BY id LIMIT 100', [last]);
    if (rows.length === 0) break;
    await knex.raw('UPDATE steps SET data_in_jsonb = data_in::jsonb WHERE id BETWEEN ? AND ?', [rows[0].id, rows[rows.length - 1].id]);
    last = rows[rows.length - 1].id;
  }
};
exports.down = async () => {};
`,
    });
    const report = await verify({ cwd: dir });
    const backfill = report.verdicts.find((v) => v.name === '20240102000000_backfill_jsonb.js');
    expect(backfill?.status).toBe('reversible');
    expect(backfill?.notes.join(' ')).toMatch(/up fails when steps hold rows \(SQLSTATE 22P02: invalid input syntax for type json.*verified with them empty/);
  });

  it('does not count an updated_at re-stamped by a trigger as lost data, but still counts a value the up overwrote', async () => {
    const dir = makeProject({
      'migrations/20240101000000_create_tasks.js': `exports.up = async (knex) => {
  await knex.schema.createTable('tasks', (t) => {
    t.increments('id');
    t.string('title');
    t.integer('priority');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(\`CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER tasks_set_updated_at BEFORE UPDATE ON tasks FOR EACH ROW EXECUTE FUNCTION set_updated_at()\`);
};
exports.down = async (knex) => {
  await knex.schema.dropTable('tasks');
  await knex.raw('DROP FUNCTION set_updated_at()');
};
`,
      // Fills NULLs only; the trigger bumps updated_at of every row it touches.
      'migrations/20240102000000_require_title.js': `exports.up = async (knex) => {
  await knex('tasks').update({ title: knex.raw("coalesce(title, 'untitled')") });
  await knex.schema.alterTable('tasks', (t) => { t.string('title').notNullable().alter(); });
};
exports.down = (knex) => knex.schema.alterTable('tasks', (t) => { t.string('title').nullable().alter(); });
`,
      // Overwrites existing priorities: a real loss, trigger or not.
      'migrations/20240103000000_reset_priority.js': `exports.up = (knex) => knex('tasks').update({ priority: 0 });
exports.down = async () => {};
`,
    });
    const report = await verify({ cwd: dir });
    const byName = Object.fromEntries(report.verdicts.map((v) => [v.name.slice(15, -3), v]));
    expect(byName.require_title?.status).toBe('reversible');
    expect(byName.require_title?.notes.join(' ')).toMatch(/tasks\.updated_at: re-stamped by an update trigger/);
    expect(byName.reset_priority?.status).toBe('not-reversible');
    expect(byName.reset_priority?.dataLoss?.[0]?.columns).toEqual(['priority']);
  });

  it('says so when a guarded up ran nothing (a table it expects is not there on a fresh chain)', async () => {
    const dir = makeProject({
      'migrations/20240101000000_guarded.js': `exports.up = async (knex) => {
  if (!(await knex.schema.hasTable('legacy_users'))) return;
  await knex.schema.alterTable('legacy_users', (t) => { t.string('email'); });
};
exports.down = async () => {};
`,
      'migrations/20240102000000_real.js': `exports.up = (knex) => knex.schema.createTable('posts', (t) => { t.bigIncrements('id'); });
exports.down = (knex) => knex.schema.dropTable('posts');
`,
    });
    const report = await verify({ cwd: dir });
    const [guarded, real] = report.verdicts;
    expect(guarded?.status).toBe('reversible');
    expect(guarded?.notes.join(' ')).toMatch(/up ran no statement that changes anything/);
    expect(real?.notes.join(' ')).not.toMatch(/up ran no statement/);
  });
});

for (const [label, describeFn, shadowUrl] of [
  ['embedded', describe, undefined],
  ['server', describeServer, SERVER_URL],
] as const) {
  describeFn(`verify, a down that fails only when tables hold rows (${label} shadow)`, () => {
    it('reports the down as failing in production, and goes on with the tables empty', { timeout: 60_000 }, async () => {
      const dir = makeProject({
        'migrations/20240101000000_create_users.js': `exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); t.text('nickname').notNullable(); });
exports.down = (knex) => knex.schema.dropTable('users');
`,
        // down puts the column back NOT NULL with no default: fine on an empty table, 23502 on any row.
        'migrations/20240102000000_drop_nickname.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('nickname'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.text('nickname').notNullable(); });
`,
        'migrations/20240103000000_add_email.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.text('email'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('email'); });
`,
      });
      const report = await verify({ cwd: dir, ...(shadowUrl ? { shadowUrl } : {}) });
      const byName = Object.fromEntries(report.verdicts.map((v) => [v.name.slice(15, -3), v]));
      const dropped = byName.drop_nickname;
      expect(dropped?.status).toBe('not-reversible');
      expect(dropped?.findings.map((f) => f.rule)).toEqual(['down-failed']);
      expect(dropped?.findings[0]?.message).toMatch(/down failed with SQLSTATE 23502: .*down fails whenever users hold rows \(it runs on empty tables\), so a rollback in production would fail/);
      // The chain goes on from where production stands: the next migration is verified, not skipped.
      expect(byName.add_email?.status).toBe('reversible');
      expect(report.ok).toBe(false);
    });
  });
}
