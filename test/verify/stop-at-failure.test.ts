import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/run.js';
import { makeProject } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * knex migrate:latest stops at a failing migration. verify went on, and every later migration that
 * needed the failed one was reported as failing too (135 on one public chain after one failure).
 */
for (const [label, describeFn, shadowUrl] of [
  ['embedded', describe, undefined],
  ['server', describeServer, SERVER_URL],
] as const) {
  describeFn(`verify stops where knex stops (${label} shadow)`, () => {
    it('reports the failing up once, and the later migrations as not reached', { timeout: 60_000 }, async () => {
      const dir = makeProject({
        'migrations/20240101000000_create_users.js': `exports.up = async (knex) => { await knex.schema.createTable('users', (t) => { t.increments('id'); }); await knex.raw('select 1/0'); };
exports.down = (knex) => knex.schema.dropTable('users');
`,
        'migrations/20240102000000_add_name.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.text('name'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('name'); });
`,
        'migrations/20240103000000_add_email.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.text('email'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('email'); });
`,
      });
      const report = await verify({ cwd: dir, ...(shadowUrl ? { shadowUrl } : {}) });
      expect(report.verdicts.map((v) => [v.name, v.status])).toEqual([['20240101000000_create_users.js', 'failed']]);
      expect(report.verdicts[0]?.findings[0]?.error?.sqlState).toBe('22012');
      expect(report.notReached).toEqual(['20240102000000_add_name.js', '20240103000000_add_email.js']);
      expect(report.ok).toBe(false);
    });
  });
}
