import { beforeAll, describe, expect, it } from 'vitest';
import { verify, type VerifyCommandResult } from '../../src/verify/run.js';
import { makeProject } from '../helpers/cli.js';
import { describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * Settings a migration can change without adding or dropping anything: each up below adds a marker
 * column and changes one setting; each down drops the marker and forgets the setting. verify must
 * report every one as down-not-inverse, with the setting in the diff.
 */
const forgets: Record<string, { up: string; diff: string }> = {
  cluster_on: { up: 'cluster s_settings using s_settings_pkey', diff: 'table s_settings: cluster on none → s_settings_pkey' },
  replica_index: {
    up: 'alter table s_settings replica identity using index s_settings_code_key',
    diff: 'table s_settings: replica identity default → index s_settings_code_key',
  },
  // Each forgotten setting stays on the shadow for the migrations after it, as on a database running the chain.
  replica_full: { up: 'alter table s_settings replica identity full', diff: 'table s_settings: replica identity index s_settings_code_key → full' },
  rls_enabled: { up: 'alter table s_settings enable row level security', diff: 'table s_settings: row level security disabled → enabled' },
  rls_forced: { up: 'alter table s_settings force row level security', diff: 'table s_settings: forced row level security disabled → enabled' },
  policy: { up: 'create policy own_rows on s_settings using (code is not null)', diff: 'policy own_rows on s_settings: left behind' },
  storage: { up: 'alter table s_settings alter column body set storage external', diff: 's_settings.body: storage default → external' },
  statistics: { up: 'alter table s_settings alter column code set statistics 500', diff: 's_settings.code: statistics default → 500' },
  n_distinct: { up: 'alter table s_settings alter column code set (n_distinct = 100)', diff: 's_settings.code: options none → (n_distinct=100)' },
  compression: { up: 'alter table s_settings alter column body set compression pglz', diff: 's_settings.body: compression default → pglz' },
  fillfactor: { up: 'alter table s_settings set (fillfactor = 70)', diff: 'table s_settings: storage parameters none → (fillfactor=70)' },
  comment: { up: "comment on column s_settings.code is 'the code'", diff: "comment on column s_settings.code: none → 'the code'" },
  owned_by: { up: 'alter sequence s_settings_id_seq owned by none', diff: 'sequence s_settings_id_seq: owned by s_settings.id → none' },
};

const names = Object.keys(forgets);

function project(): Record<string, string> {
  const files: Record<string, string> = {
    'migrations/20240101000000_base.js': `
exports.up = (knex) => knex.schema.createTable('s_settings', (t) => { t.increments('id'); t.text('code').notNullable(); t.text('body'); t.unique(['code'], { indexName: 's_settings_code_key' }); });
exports.down = (knex) => knex.schema.dropTable('s_settings');
`,
    // Dropping a column and adding it back moves it to the end: a note, not a difference.
    'migrations/20240102000000_column_order.js': `
exports.up = (knex) => knex.schema.createTable('s_order', (t) => { t.integer('a'); t.integer('b'); t.integer('c'); });
exports.down = (knex) => knex.schema.dropTable('s_order');
`,
    'migrations/20240103000000_readd_column.js': `
exports.up = (knex) => knex.schema.alterTable('s_order', (t) => { t.dropColumn('b'); });
exports.down = (knex) => knex.schema.alterTable('s_order', (t) => { t.integer('b'); });
`,
  };
  names.forEach((name, i) => {
    const stamp = `202402${String(i + 1).padStart(2, '0')}000000`;
    files[`migrations/${stamp}_forgets_${name}.js`] = `
// down drops the marker column and forgets: ${forgets[name]!.up}
exports.up = async (knex) => {
  await knex.schema.alterTable('s_settings', (t) => { t.integer('marker_${i}'); });
  await knex.raw(${JSON.stringify(forgets[name]!.up)});
};
exports.down = (knex) => knex.schema.alterTable('s_settings', (t) => { t.dropColumn('marker_${i}'); });
`;
  });
  return files;
}

function suite(label: string, describeFn: typeof describe, shadowUrl: string | undefined) {
  describeFn(`verify sees settings a down forgets (${label} shadow)`, () => {
    let report: VerifyCommandResult;
    beforeAll(async () => {
      report = await verify({ cwd: makeProject(project(), 'ks-forgotten-'), ...(shadowUrl ? { shadowUrl } : {}) });
    }, 120_000);

    it.each(names)('a down that forgets %s', (name) => {
      const v = report.verdicts.find((x) => x.name.endsWith(`_forgets_${name}.js`));
      expect(v?.status).toBe('not-reversible');
      expect(v?.findings.map((f) => f.rule)).toContain('down-not-inverse');
      expect(v?.diff.map((c) => c.message)).toEqual([forgets[name]!.diff]);
    });

    it('column order after a drop and re-add is a note, not a difference', () => {
      const v = report.verdicts.find((x) => x.name.endsWith('_readd_column.js'));
      expect(v?.diff).toEqual([]);
      expect(v?.findings.map((f) => f.rule)).not.toContain('down-not-inverse');
      expect(v?.notes).toContain('s_order: column order differs, (a, b, c) → (a, c, b) (not a difference: order does not change behaviour)');
    });

    it('the base migrations are reversible', () => {
      expect(report.verdicts.slice(0, 2).map((v) => v.status)).toEqual(['reversible', 'reversible']);
    });
  });
}

suite('embedded', describe, undefined);
suite('server', describeServer, SERVER_URL);
