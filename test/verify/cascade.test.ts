import { describe, expect, it } from 'vitest';
import { verify, type VerifyCommandResult } from '../../src/verify/run.js';
import { makeProject } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * A migration whose down forgets a column it added cannot run up again (42701). The shadow is then
 * left with down applied and up rolled back — a state no database running the chain forward is in —
 * and must not make the later, unrelated migrations look broken.
 */
const PROJECT = {
  'knexfile.js': `module.exports = { client: 'pg', migrations: { directory: __dirname + '/migrations' } };\n`,
  'migrations/20240101000000_base.js': `
exports.up = (knex) => knex.schema.createTable('files', (t) => { t.bigIncrements('id'); t.text('name'); });
exports.down = (knex) => knex.schema.dropTable('files');
`,
  'migrations/20240102000000_partial_down.js': `
// down forgets files.content_type, so up cannot run again after down
exports.up = async (knex) => {
  await knex.schema.createTable('contents', (t) => { t.bigIncrements('id'); });
  await knex.schema.alterTable('files', (t) => { t.integer('content_type'); });
};
exports.down = (knex) => knex.schema.dropTable('contents');
`,
  'migrations/20240103000000_uses_contents.js': `
exports.up = (knex) => knex.schema.alterTable('contents', (t) => { t.text('body'); });
exports.down = (knex) => knex.schema.alterTable('contents', (t) => { t.dropColumn('body'); });
`,
  'migrations/20240104000000_uses_content_type.js': `
exports.up = (knex) => knex.schema.alterTable('files', (t) => { t.index(['content_type']); });
exports.down = (knex) => knex.schema.alterTable('files', (t) => { t.dropIndex(['content_type']); });
`,
  'migrations/20240105000000_really_broken.js': `
exports.up = (knex) => knex.schema.alterTable('contents', (t) => { t.integer('size'); });
exports.down = () => {};
`,
};

function summary(report: VerifyCommandResult) {
  return report.verdicts.map((v) => [v.name, v.status, v.findings.map((f) => f.rule)]);
}

function rebuiltNotes(report: VerifyCommandResult) {
  return report.verdicts.filter((v) => v.notes.some((n) => n.includes('rebuilt shadow'))).map((v) => v.name);
}

function cascadeSuite(label: string, describeFn: typeof describe, shadowUrl: string | undefined) {
  describeFn(`verify after a migration that cannot run up again (${label} shadow)`, () => {
    it('judges the later migrations on the state the chain leaves, not the broken shadow', async () => {
      const cwd = makeProject(PROJECT, 'ks-cascade-');
      const report = await verify({ cwd, ...(shadowUrl ? { shadowUrl } : {}) });
      expect(summary(report)).toEqual([
        ['20240101000000_base.js', 'reversible', []],
        ['20240102000000_partial_down.js', 'not-reversible', ['down-not-inverse', 'up-not-rerunnable']],
        ['20240103000000_uses_contents.js', 'reversible', []],
        ['20240104000000_uses_content_type.js', 'reversible', []],
        ['20240105000000_really_broken.js', 'not-reversible', ['down-missing', 'up-not-rerunnable']],
      ]);
      const broken = report.verdicts[1]!;
      expect(broken.diff.map((c) => c.message)).toEqual(['column files.content_type: left behind']);
      expect(broken.findings[1]?.error?.sqlState).toBe('42701');
      // Only the broken migration that has later ones after it says the shadow was rebuilt.
      expect(rebuiltNotes(report)).toEqual(['20240102000000_partial_down.js']);
      // The rebuilt shadow got probe rows again.
      expect(report.probe.filled).toEqual(expect.arrayContaining(['public.files', 'public.contents']));
      expect(report.ok).toBe(false);
    });

    it('rebuilds after a replayed start (--from)', async () => {
      const cwd = makeProject(PROJECT, 'ks-cascade-');
      const report = await verify({ cwd, from: '20240102000000_partial_down', to: '20240104000000_uses_content_type', ...(shadowUrl ? { shadowUrl } : {}) });
      expect(summary(report)).toEqual([
        ['20240102000000_partial_down.js', 'not-reversible', ['down-not-inverse', 'up-not-rerunnable']],
        ['20240103000000_uses_contents.js', 'reversible', []],
        ['20240104000000_uses_content_type.js', 'reversible', []],
      ]);
      expect(rebuiltNotes(report)).toEqual(['20240102000000_partial_down.js']);
    });

    it('does not rebuild after an empty down: the failed re-up rolled back to where the chain stands', async () => {
      const cwd = makeProject(
        {
          'migrations/20240101000000_create_pages.js': `exports.up = (knex) => knex.schema.createTable('pages', (t) => { t.bigIncrements('id'); });\nexports.down = () => {};\n`,
          'migrations/20240102000000_add_title.js': `exports.up = (knex) => knex.schema.alterTable('pages', (t) => { t.text('title'); });\nexports.down = (knex) => knex.schema.alterTable('pages', (t) => { t.dropColumn('title'); });\n`,
        },
        'ks-cascade-',
      );
      const report = await verify({ cwd, ...(shadowUrl ? { shadowUrl } : {}) });
      expect(summary(report)).toEqual([
        ['20240101000000_create_pages.js', 'not-reversible', ['down-missing', 'up-not-rerunnable']],
        ['20240102000000_add_title.js', 'reversible', []],
      ]);
      expect(rebuiltNotes(report)).toEqual([]);
    });
  });
}

cascadeSuite('embedded', describe, undefined);
cascadeSuite('server', describeServer, SERVER_URL);
