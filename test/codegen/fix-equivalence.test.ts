import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { expect, it, vi } from 'vitest';
import { check } from '../../src/check/run.js';
import { NEXT_MIGRATION } from '../../src/codegen/index.js';
import { createTempDatabase, describeServer, SERVER_URL } from '../helpers/pg.js';

/**
 * A fix keeps everything the migration it replaces did, except the hazard: for every whole-file
 * fix `check` offers on a chain, the chain with the fix substituted for its migration runs to the
 * end with plain knex and ends in the same schema (pg_dump --schema-only) as the original chain.
 * The chains reproduce what fixes got wrong on real projects: several index builds in one
 * migration (each fix dropped the others), a later migration using what the fixed one created,
 * statements between ADD … NOT VALID and VALIDATE, a replaced foreign key, ES module migrations,
 * one ALTER dropping several columns (each fix dropped only its own), a renamed column's indexes
 * and constraints (the expand / contract fix left them as comments; here the column is the last
 * one, so the new column takes its place in the table), its foreign key to a table renamed just before.
 */

vi.setConfig({ testTimeout: 600_000 });

const CHAINS: Record<string, { esm?: boolean; minFixes?: number; files: Record<string, string> }> = {
  'several hazards in one migration': {
    files: {
      '20240101000001_base.js': `exports.up = async (knex) => {
  await knex.schema.createTable('order', (t) => { t.increments('id'); t.string('code'); t.integer('user'); t.text('note'); });
  await knex.schema.createTable('accounts', (t) => { t.increments('id'); });
  await knex.raw('INSERT INTO accounts DEFAULT VALUES');
  await knex.raw('INSERT INTO accounts DEFAULT VALUES');
  await knex('order').insert([{ code: 'a', user: 1 }, { code: 'b', user: 2 }]);
};
exports.down = async (knex) => { await knex.schema.dropTable('order'); await knex.schema.dropTable('accounts'); };
`,
      '20240101000002_indexes.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('order', (t) => {
    t.index(['code']);
    t.index(['user']);
    t.unique(['code', 'user']);
    t.string('status');
  });
  await knex.raw('ALTER TABLE "order" ADD CONSTRAINT order_user_positive CHECK ("user" > 0) NOT VALID');
  await knex.raw('UPDATE "order" SET status = ? WHERE id = 1', ['new']);
  await knex.raw('ALTER TABLE "order" VALIDATE CONSTRAINT order_user_positive');
};
exports.down = async (knex) => {
  await knex.raw('ALTER TABLE "order" DROP CONSTRAINT order_user_positive');
  await knex.schema.alterTable('order', (t) => { t.dropUnique(['code', 'user']); t.dropIndex(['user']); t.dropIndex(['code']); t.dropColumn('status'); });
};
`,
      '20240101000003_foreign.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('order', (t) => { t.foreign('user').references('id').inTable('accounts'); });
};
exports.down = async (knex) => { await knex.schema.alterTable('order', (t) => { t.dropForeign('user'); }); };
`,
      '20240101000004_replace_foreign.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('order', (t) => { t.dropForeign('user'); });
  await knex.schema.alterTable('order', (t) => { t.foreign('user').references('id').inTable('accounts').onDelete('CASCADE'); });
};
exports.down = async () => {};
`,
      '20240101000005_uses_them.js': `exports.up = async (knex) => {
  await knex.raw('ALTER INDEX order_code_index RENAME TO order_code_idx');
  await knex.schema.alterTable('order', (t) => { t.dropColumn('status'); });
};
exports.down = async () => {};
`,
    },
  },
  'expand / contract: columns dropped together, a renamed column with indexes and constraints': {
    files: {
      '20240101000001_base.js': `exports.up = async (knex) => {
  await knex.schema.createTable('countries', (t) => { t.string('code', 2).primary(); });
  await knex('countries').insert([{ code: 'fr' }, { code: 'de' }]);
  await knex.schema.createTable('sites', (t) => {
    t.increments('id');
    t.text('name');
    t.integer('legacy_a');
    t.boolean('legacy_b').defaultTo(false);
    t.string('cc', 2).notNullable().unique().references('code').inTable('countries');
  });
  await knex.raw('CREATE INDEX sites_cc_lower ON sites (lower(cc)) WHERE cc <> \\'zz\\'');
  await knex.raw('ALTER TABLE sites ADD CONSTRAINT sites_cc_length CHECK (length(cc) = 2)');
  await knex('sites').insert([{ name: 'a', cc: 'fr', legacy_a: 1 }, { name: 'b', cc: 'de' }]);
};
exports.down = async (knex) => { await knex.schema.dropTable('sites'); await knex.schema.dropTable('countries'); };
`,
      '20240101000002_drop_legacy.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('sites', (t) => { t.dropColumns('legacy_a', 'legacy_b'); });
  await knex.schema.createTable('notes', (t) => { t.increments('id'); t.text('body'); });
};
exports.down = async () => {};
`,
      '20240101000003_rename.js': `exports.up = async (knex) => {
  await knex.schema.renameTable('countries', 'nations');
  await knex.schema.alterTable('sites', (t) => { t.renameColumn('cc', 'country'); });
};
exports.down = async () => {};
`,
      '20240101000004_uses_names.js': `exports.up = async (knex) => {
  await knex.raw('ALTER TABLE sites RENAME CONSTRAINT sites_cc_length TO sites_country_length');
  await knex.raw('ALTER INDEX sites_cc_lower RENAME TO sites_country_lower');
  await knex.raw('ALTER TABLE sites RENAME CONSTRAINT sites_cc_unique TO sites_country_unique');
  await knex.raw('ALTER TABLE sites RENAME CONSTRAINT sites_cc_foreign TO sites_country_foreign');
};
exports.down = async () => {};
`,
      // Not editable (no async function to await in): the lock_timeout fix is a template, not a whole migration.
      '20240101000005_promise_all.js': `exports.up = (knex) =>
  Promise.all([knex.schema.createTable('tags', (t) => { t.increments('id'); }), knex.schema.alterTable('notes', (t) => { t.text('title'); })]);
exports.down = async () => {};
`,
    },
  },
  // plankanban/planka's shape: the fix re-adds the column, so the UPDATE between must run after it.
  'a column added NOT NULL with a default, filled from another table, then .alter()ed': {
    minFixes: 3,
    files: {
      '20240101000001_base.js': `exports.up = async (knex) => {
  await knex.schema.createTable('card', (t) => { t.increments('id'); t.string('name'); });
  await knex.schema.createTable('comment', (t) => { t.increments('id'); t.integer('card_id'); });
  await knex('card').insert([{ name: 'a' }, { name: 'b' }]);
  await knex('comment').insert([{ card_id: 1 }, { card_id: 1 }, { card_id: 2 }]);
};
exports.down = async (knex) => { await knex.schema.dropTable('comment'); await knex.schema.dropTable('card'); };
`,
      '20240101000002_counter.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('card', (table) => { table.integer('comments_total').notNullable().defaultTo(0); });
  await knex.raw('UPDATE card SET comments_total = c.n FROM (SELECT card_id, COUNT(*) AS n FROM comment GROUP BY card_id) AS c WHERE card.id = c.card_id');
  return knex.schema.alterTable('card', (table) => { table.integer('comments_total').notNullable().alter(); });
};
exports.down = (knex) => knex.schema.table('card', (table) => { table.dropColumn('comments_total'); });
`,
      '20240101000003_index.js': `exports.up = (knex) => knex.schema.alterTable('card', (t) => { t.index(['comments_total']); });
exports.down = (knex) => knex.schema.alterTable('card', (t) => { t.dropIndex(['comments_total']); });
`,
    },
  },
  // planka's shape again: one alterTable adds several columns, the fix re-creates one of them (a
  // NOT NULL .alter(), a unique constraint) and must keep adding the others. The re-created column
  // is the last of its statement here, so the table's column order stays the original's.
  'several columns in one alterTable, one of them fixed': {
    minFixes: 2,
    files: {
      '20240101000001_base.js': `exports.up = async (knex) => {
  await knex.schema.createTable('config', (t) => { t.increments('id'); });
  await knex.schema.createTable('user_account', (t) => { t.increments('id'); t.string('name'); });
  await knex('config').insert({});
  await knex('user_account').insert([{ name: 'a' }, { name: 'b' }]);
};
exports.down = async (knex) => { await knex.schema.dropTable('user_account'); await knex.schema.dropTable('config'); };
`,
      '20240101000002_smtp.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('config', (table) => {
    table.text('smtp_host');
    table.integer('smtp_port');
    table.boolean('smtp_secure').notNullable().defaultTo(false);
  });
  return knex.schema.alterTable('config', (table) => { table.boolean('smtp_secure').notNullable().alter(); });
};
exports.down = (knex) => knex.schema.alterTable('config', (table) => { table.dropColumn('smtp_host'); table.dropColumn('smtp_port'); table.dropColumn('smtp_secure'); });
`,
      '20240101000003_api_key.js': `exports.up = (knex) =>
  knex.schema.alterTable('user_account', (table) => {
    table.text('api_key_prefix');
    table.text('api_key_hash');
    table.unique('api_key_hash');
  });
exports.down = (knex) => knex.schema.alterTable('user_account', (table) => { table.dropColumn('api_key_prefix'); table.dropColumn('api_key_hash'); });
`,
    },
  },
  'ES module migrations in a schema': {
    esm: true,
    files: {
      '20240101000001_base.js': `export async function up(knex) {
  await knex.raw('CREATE SCHEMA app');
  await knex.schema.withSchema('app').createTable('UserAccounts', (t) => { t.increments('id'); t.string('Email'); t.integer('age'); });
}
export async function down(knex) { await knex.raw('DROP SCHEMA app CASCADE'); }
`,
      '20240101000002_changes.js': `export async function up(knex) {
  await knex.schema.withSchema('app').alterTable('UserAccounts', (t) => { t.index(['Email']); });
  await knex.schema.withSchema('app').alterTable('UserAccounts', (t) => { t.integer('age').notNullable().alter(); });
  await knex.schema.withSchema('app').alterTable('UserAccounts', (t) => { t.text('bio'); });
}
export async function down() {}
`,
    },
  },
};

function normalisedDump(url: string): string {
  const dump = execFileSync('pg_dump', ['--schema-only', '--no-owner', '--no-privileges', url], { encoding: 'utf8' });
  return dump
    .split('\n')
    .filter((l) => l && !l.startsWith('--') && !l.startsWith('SET ') && !l.startsWith('SELECT pg_catalog.set_config') && !/^\\(un)?restrict /.test(l))
    .join('\n');
}

/** Runs the chain in `dir` with plain knex on a new database of the server; its schema, or the error. */
async function runChain(dir: string): Promise<{ dump?: string; error?: string }> {
  const temp = await createTempDatabase('codegen_eq');
  const knex = knexFactory({ client: 'pg', connection: temp.url, migrations: { directory: path.join(dir, 'migrations') } });
  try {
    await knex.migrate.latest();
    return { dump: normalisedDump(temp.url) };
  } catch (error) {
    return { error: (error as Error).message };
  } finally {
    await knex.destroy();
    await temp.drop();
  }
}

function writeChain(files: Record<string, string>, esm: boolean): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-fix-eq-'));
  fs.mkdirSync(path.join(dir, 'migrations'));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: esm ? 'module' : 'commonjs' }));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'migrations', name), text);
  return dir;
}

describeServer('fixes are equivalent to the migrations they replace', () => {
  for (const [title, chain] of Object.entries(CHAINS)) {
    it(`${title}: each whole-file fix, substituted, ends in the original chain's schema`, async () => {
      const esm = chain.esm === true;
      const original = writeChain(chain.files, esm);
      const expected = await runChain(original);
      expect(expected.error, 'the original chain runs').toBeUndefined();
      const report = await check({ cwd: original, all: true, shadowUrl: SERVER_URL });
      // Style fixes change the column type on purpose: that is the finding, not a hazard to keep.
      // Every fix that says it stands for the whole migration; each of its parts a migration file.
      const fixes = report.findings.filter((f) => f.category !== 'style' && f.fix?.wholeMigration);
      for (const f of fixes) {
        const parts = f.fix!.code.split(NEXT_MIGRATION);
        expect(
          parts.every((part) => /^\s*(exports\.up|module\.exports)\s*=|^export (async )?function up\b/m.test(part)),
          `${f.migration} ${f.rule}: a whole-migration fix of files`,
        ).toBe(true);
      }
      expect(fixes.length, 'the chain gets whole-file fixes').toBeGreaterThanOrEqual(chain.minFixes ?? 4);
      const problems: string[] = [];
      for (const finding of fixes) {
        const files = { ...chain.files };
        delete files[finding.migration];
        const stem = finding.migration.replace(/\.js$/, '');
        finding.fix!.code.split(NEXT_MIGRATION).forEach((part, i) => {
          files[i === 0 ? finding.migration : `${stem}_fix${i + 1}.js`] = `${part.trim()}\n`;
        });
        const got = await runChain(writeChain(files, esm));
        if (got.error) problems.push(`${finding.migration} ${finding.rule}: the chain fails: ${got.error}`);
        else if (got.dump !== expected.dump) {
          const before = new Set(expected.dump!.split('\n'));
          const after = new Set(got.dump!.split('\n'));
          const diff = [...[...before].filter((l) => !after.has(l)).map((l) => `- ${l}`), ...[...after].filter((l) => !before.has(l)).map((l) => `+ ${l}`)];
          problems.push(`${finding.migration} ${finding.rule}: schema differs:\n${diff.slice(0, 8).join('\n')}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});
