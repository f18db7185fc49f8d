import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/run.js';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * A knexfile whose searchPath names only a schema the deployment creates (automatisch's
 * POSTGRES_SCHEMA): knex keeps knex_migrations there, so every migrated database has it, and knex
 * migrates. The shadow starts without it: every migration failed there with 3F000.
 */
const files = {
  'knexfile.js': `module.exports = { client: 'pg', connection: process.env.DATABASE_URL, searchPath: ['app'] };`,
  'migrations/001_users.js': `exports.up = (knex) => knex.schema.createTable('users', (t) => { t.bigIncrements('id'); t.text('email'); });
exports.down = (knex) => knex.schema.dropTable('users');
`,
  'migrations/002_email_index.js': `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.index('email'); });
exports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropIndex('email'); });
`,
};

for (const [label, describeFn, shadow] of [
  ['embedded', describe, [] as string[]],
  ['server', describeServer, ['--shadow-url', SERVER_URL]],
] as const) {
  describeFn(`a searchPath schema the deployment creates (${label} shadow)`, () => {
    it('check --all and verify run the chain as knex does on a database that has the schema, and say what they assumed', { timeout: 120_000 }, async () => {
      const dir = makeProject(files);
      const check = await runCli(['check', '--all', '--cwd', dir, '--json', '--max-severity', 'none', ...shadow]);
      expect(check.code, check.stderr).toBe(0);
      const report = parseJson<{ failures?: unknown[]; warnings: string[]; migrations: { name: string }[] }>(check.stdout);
      expect(report.failures ?? []).toEqual([]);
      expect(report.warnings.join('\n')).toMatch(/Schema "app" \(first in the knexfile's searchPath\) does not exist before the first migration, so it was created on the shadow/);
      const verified = await verify({ cwd: dir, ...(shadow.length ? { shadowUrl: SERVER_URL } : {}) });
      expect(verified.verdicts.map((v) => v.status)).toEqual(['reversible', 'reversible']);
      expect(verified.warnings.join('\n')).toMatch(/Schema "app"/);
    });
  });
}

describeServer('a searchPath schema: what plain knex does', () => {
  it('knex migrates a database that has the schema, and fails one without it (3F000)', { timeout: 60_000 }, async () => {
    const { default: knexFactory } = await import('knex');
    const dir = makeProject(files);
    for (const [withSchema, expected] of [
      [true, 'ok'],
      [false, '3F000'],
    ] as const) {
      const db = await createTempDatabase();
      const knex = knexFactory({ client: 'pg', connection: db.url, searchPath: ['app'], migrations: { directory: `${dir}/migrations` } });
      try {
        if (withSchema) await knex.raw('create schema app');
        const outcome = await knex.migrate.latest().then(
          () => 'ok',
          (e: { code?: string }) => e.code ?? String(e),
        );
        expect(outcome).toBe(expected);
      } finally {
        await knex.destroy();
        await db.drop();
      }
    }
  });
});
