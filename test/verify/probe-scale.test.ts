import { describe, expect, it } from 'vitest';
import { verify } from '../../src/verify/run.js';
import { makeProject } from '../helpers/cli.js';
import { serverAvailable, SERVER_URL } from '../helpers/pg.js';

/**
 * The data probe on a project of real size: 120 tables before a migration (PostgreSQL takes at most
 * 100 arguments per function call: one json_build_object over every table crashed at 51), a
 * 300-column table and a row of a few megabytes. Loss is still seen in the wide table and in the
 * large value, whose content the probe keeps only as a digest.
 */
const project = () =>
  makeProject({
    'migrations/001_many_tables.js': `exports.up = async (knex) => {
  const tables = Array.from({ length: 120 }, (_, i) => 'create table t' + String(i).padStart(3, '0') + ' (id serial primary key, name text)');
  const columns = Array.from({ length: 300 }, (_, i) => 'c' + i + ' text');
  await knex.raw(tables.join(';\\n') + ';\\ncreate table wide (id serial primary key, ' + columns.join(', ') + ')');
  await knex.raw('create table big (id serial primary key, body text)');
  await knex('big').insert({ body: 'x'.repeat(4 * 1024 * 1024) });
};
exports.down = async (knex) => {
  await knex.raw(Array.from({ length: 120 }, (_, i) => 'drop table t' + String(i).padStart(3, '0')).join(';\\n') + ';\\ndrop table wide; drop table big');
};
`,
    'migrations/002_add_flag.js': `exports.up = (knex) => knex.schema.alterTable('t000', (t) => { t.boolean('flag'); });
exports.down = (knex) => knex.schema.alterTable('t000', (t) => { t.dropColumn('flag'); });
`,
    // Loses data twice: the last column of the wide table is cleared, the large value replaced.
    'migrations/003_lossy.js': `exports.up = async (knex) => {
  await knex('wide').update({ c299: null });
  await knex('big').update({ body: 'short' });
};
exports.down = async () => {};
`,
  });

const shadows: [string, string | undefined][] = [['embedded', undefined]];
if (await serverAvailable()) shadows.push(['server', SERVER_URL]);

describe.each(shadows)('data probe at scale (%s shadow)', (_name, shadowUrl) => {
  it('probes 122 tables, 300 columns and a 4 MB value, and still sees what the lossy migration destroys', { timeout: 240_000 }, async () => {
    const report = await verify({ cwd: project(), ...(shadowUrl ? { shadowUrl } : {}) });
    const byName = Object.fromEntries(report.verdicts.map((v) => [v.name, v]));
    expect(byName['001_many_tables.js']?.status).toBe('reversible');
    expect(byName['002_add_flag.js']?.status).toBe('reversible');
    expect(report.probe.unfilled).toEqual([]);
    expect(report.probe.filled).toHaveLength(122);
    const lossy = byName['003_lossy.js'];
    expect(lossy?.status).toBe('not-reversible');
    expect(lossy?.dataLoss.map((l) => [l.table, l.columns])).toEqual([
      ['public.big', ['body']],
      ['public.wide', ['c299']],
    ]);
  });
});
