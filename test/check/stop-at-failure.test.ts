import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { check } from '../../src/check/run.js';
import { formatJson, formatText } from '../../src/report/format.js';
import { makeProject } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * knex migrate:latest stops at a failing migration, and so does check. On a public chain (getodk/central-backend,
 * 214 migrations) check failed in the 4th and said "all 214 migrations, each against the schema the earlier ones
 * left" without a word about the 210 it never ran: check says which migrations it did not reach, as verify does.
 */
for (const [label, describeFn, shadowUrl] of [
  ['embedded', describe, undefined],
  ['server', describeServer, SERVER_URL],
] as const) {
  describeFn(`check says what it did not reach after a failure (${label} shadow)`, () => {
    it('lists the later migrations as not reached, in JSON and text', { timeout: 60_000 }, async () => {
      const dir = makeProject({
        'migrations/20240101000000_create_users.js': `exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); });
exports.down = (knex) => knex.schema.dropTable('users');
`,
        'migrations/20240102000000_add_team.js': `exports.up = (knex) => knex.raw('alter table users add column team_id int references teams(id)');
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('team_id'); });
`,
        'migrations/20240103000000_add_name.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.text('name'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('name'); });
`,
        'migrations/20240104000000_add_email.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.text('email'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('email'); });
`,
      });
      const report = await check({ cwd: dir, all: true, ...(shadowUrl ? { shadowUrl } : {}) });
      // What PostgreSQL says to the ALTER on a server: relation "teams" does not exist (42P01).
      expect(report.migrations.map((m) => [m.name, m.failed?.sqlState ?? null])).toEqual([
        ['20240101000000_create_users.js', null],
        ['20240102000000_add_team.js', '42P01'],
      ]);
      expect(report.notReached).toEqual(['20240103000000_add_name.js', '20240104000000_add_email.js']);
      const json = formatJson(report) as { ok: boolean; notReached: string[] };
      expect(json.ok).toBe(false);
      expect(json.notReached).toEqual(['20240103000000_add_name.js', '20240104000000_add_email.js']);
      expect(formatText(report, pc.createColors(false))).toMatch(
        /Not checked: 2 later migrations \(20240103000000_add_name\.js, 20240104000000_add_email\.js\): knex stops at the migration that failed/,
      );
    });

    it('reports no migration as not reached when none fails', { timeout: 60_000 }, async () => {
      const dir = makeProject({
        'migrations/20240101000000_create_users.js': `exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); });
exports.down = (knex) => knex.schema.dropTable('users');
`,
      });
      const report = await check({ cwd: dir, all: true, ...(shadowUrl ? { shadowUrl } : {}) });
      expect(report.notReached).toBeUndefined();
      expect((formatJson(report) as { notReached: string[] }).notReached).toEqual([]);
      expect(formatText(report, pc.createColors(false))).not.toMatch(/Not checked/);
    });
  });
}
