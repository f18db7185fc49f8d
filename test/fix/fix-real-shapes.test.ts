import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { verify } from '../../src/verify/run.js';
import { fix } from '../../src/fix/run.js';
import { makeProject } from '../helpers/cli.js';

/**
 * Shapes from plankanban/planka that `fix` and `verify` got wrong: a migration that loops over rows
 * it reads (the shadow's tables are empty, so the loop sent nothing a fix could replay), statements
 * after a renameTable whose down must restore the old table's state, a finding whose fix becomes a
 * whole-file one only after another fix rewrote the file, and a backfill split from the migration
 * that adds its column.
 */

vi.setConfig({ testTimeout: 300_000 });

const KNEXFILE = "module.exports = { client: 'pg', migrations: { directory: './migrations' } };\n";

function files(dir: string): Record<string, string> {
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .sort()
      .map((n) => [n, fs.readFileSync(path.join(dir, n), 'utf8')]),
  );
}

describe('fix on migrations that read rows', () => {
  it('leaves a migration whose code depends on the rows it reads to a person; a catalog look-up (hasTable) is not such a read', async () => {
    const project = makeProject({
      'knexfile.js': KNEXFILE,
      'migrations/20240101000000_create.js': `exports.up = async (knex) => {
  await knex.schema.createTable('users', (t) => { t.increments('id'); t.string('email'); t.string('name'); });
  await knex.schema.createTable('uploads', (t) => { t.increments('id'); t.string('owner_email'); });
};
exports.down = async (knex) => { await knex.schema.dropTable('uploads'); await knex.schema.dropTable('users'); };
`,
      // On the shadow users is empty: batchInsert of [] sends nothing, so a replay would drop the copy.
      'migrations/20240102000000_copy_and_index.js': `exports.up = async (knex) => {
  await knex.schema.alterTable('users', (t) => { t.index(['email']); });
  const users = await knex('users').whereNotNull('email');
  await knex.batchInsert('uploads', users.map((u) => ({ owner_email: u.email })));
};
exports.down = async (knex) => {
  await knex('uploads').del();
  await knex.schema.alterTable('users', (t) => { t.dropIndex(['email']); });
};
`,
      'migrations/20240103000000_guarded_index.js': `exports.up = async (knex) => {
  if (await knex.schema.hasTable('users')) {
    await knex.schema.alterTable('users', (t) => { t.index(['name']); });
  }
  await knex.raw('CREATE TABLE audit (id serial primary key)');
};
exports.down = async (knex) => {
  await knex.raw('DROP TABLE audit');
  await knex.schema.alterTable('users', (t) => { t.dropIndex(['name']); });
};
`,
    });
    const dir = path.join(project, 'migrations');
    const before = files(dir);
    const result = await fix({ cwd: project, rules: ['index-not-concurrent'] });
    const reasons = Object.fromEntries(result.skipped.map((s) => [s.migration, s.reason]));
    expect(reasons['20240102000000_copy_and_index.js']).toMatch(
      /after `select \* from "users" where "email" is not null…`: what it does with the rows it reads \(a loop, a batchInsert\) would be lost/,
    );
    expect(files(dir)['20240102000000_copy_and_index.js']).toBe(before['20240102000000_copy_and_index.js']);
    expect(result.changes.map((c) => c.name)).toContain('20240103000000_guarded_index.js');
    expect(reasons['20240103000000_guarded_index.js']).toBeUndefined();
  });
});

describe('fix after a renameTable in the same migration', () => {
  it('the split statements after the rename get a down that restores the old table’s default and NOT NULL, and verify proves every file reversible', async () => {
    const project = makeProject({
      'knexfile.js': KNEXFILE,
      'migrations/20240101000000_create.js': `exports.up = async (knex) => {
  await knex.raw("CREATE SEQUENCE ids");
  await knex.raw("CREATE TABLE file_reference (id bigint NOT NULL DEFAULT nextval('ids'), total integer NOT NULL DEFAULT 0)");
};
exports.down = async (knex) => { await knex.raw('DROP TABLE file_reference'); await knex.raw('DROP SEQUENCE ids'); };
`,
      'migrations/20240102000000_rename.js': `exports.up = async (knex) => {
  await knex.schema.renameTable('file_reference', 'uploaded_file');
  await knex.raw('ALTER TABLE uploaded_file ALTER COLUMN id DROP DEFAULT');
  await knex.raw('ALTER TABLE uploaded_file ALTER COLUMN id DROP NOT NULL');
};
exports.down = async (knex) => {
  await knex.raw("ALTER TABLE uploaded_file ALTER COLUMN id SET NOT NULL, ALTER COLUMN id SET DEFAULT nextval('ids')");
  await knex.schema.renameTable('uploaded_file', 'file_reference');
};
`,
    });
    const result = await fix({ cwd: project, rules: ['rename-table'] });
    expect(result.changes.length).toBeGreaterThan(1);
    const written = Object.entries(files(path.join(project, 'migrations'))).find(([, text]) => text.includes('DROP NOT NULL') && text.includes('exports.down'));
    expect(written?.[1]).toMatch(/SET NOT NULL/);
    expect(written?.[1]).toMatch(/SET DEFAULT nextval\('(public\.)?ids'::regclass\)/);
    const proof = await verify({ cwd: project });
    expect(proof.verdicts.filter((v) => v.status !== 'reversible').map((v) => `${v.name}: ${v.findings.map((f) => f.message).join('; ')}`)).toEqual([]);
  });
});

describe('fix judges a finding again once another fix rewrote its file', () => {
  it('a second fix finds nothing to do, and the licence header stays (planka: a column and its index in one alterTable)', async () => {
    const project = makeProject({
      'knexfile.js': KNEXFILE,
      'migrations/20240101000000_create.js': `exports.up = (knex) => knex.schema.createTable('task', (t) => { t.bigIncrements('id'); t.string('name'); });
exports.down = (knex) => knex.schema.dropTable('task');
`,
      'migrations/20240102000000_link.js': `/*!
 * Copyright (c) 2024 Example GmbH
 * Licensed under the Example License
 */

exports.up = (knex) => knex.schema.alterTable('task', (t) => {
  t.bigInteger('linked_card_id');
  t.index('linked_card_id');
});
exports.down = (knex) => knex.schema.alterTable('task', (t) => {
  t.dropIndex('linked_card_id');
  t.dropColumn('linked_card_id');
});
`,
    });
    const first = await fix({ cwd: project });
    expect(first.changes.map((c) => c.name)).toContain('20240102000000_link.js');
    // Rewritten and split, each file keeps the licence block the original opens with.
    const written = files(path.join(project, 'migrations'));
    for (const c of first.changes) expect(written[c.name], c.name).toMatch(/^\/\*!\n \* Copyright \(c\) 2024 Example GmbH\n \* Licensed under the Example License\n \*\/\n\n\S/);
    expect(first.changes.length).toBeGreaterThan(1);
    const second = await fix({ cwd: project, dryRun: true });
    expect(second.changes).toEqual([]);
  });
});

describe('verify of a backfill split from the migration that adds its column', () => {
  it('values written into a column the migration just before adds are undone by rolling back the two; an existing column is still data loss', async () => {
    const project = makeProject({
      'knexfile.js': KNEXFILE,
      'migrations/20240101000000_create.js': `exports.up = async (knex) => {
  await knex.schema.createTable('card', (t) => { t.increments('id'); t.string('title'); });
  await knex.schema.createTable('comment', (t) => { t.increments('id'); t.integer('card_id'); });
};
exports.down = async (knex) => { await knex.schema.dropTable('comment'); await knex.schema.dropTable('card'); };
`,
      'migrations/20240102000000_add_comments_total.js': `exports.up = (knex) => knex.raw('ALTER TABLE card ADD COLUMN comments_total integer NOT NULL DEFAULT 0');
exports.down = (knex) => knex.raw('ALTER TABLE card DROP COLUMN comments_total');
`,
      'migrations/20240102000001_add_comments_total_rest.js': `exports.up = (knex) => knex.raw('UPDATE card SET comments_total = (SELECT count(*) FROM comment WHERE comment.card_id = card.id)');
exports.down = async () => {};
`,
      'migrations/20240103000000_upper_titles.js': `exports.up = (knex) => knex.raw('UPDATE card SET title = upper(title)');
exports.down = async () => {};
`,
    });
    const proof = await verify({ cwd: project });
    const of = (name: string) => proof.verdicts.find((v) => v.name.startsWith(name))!;
    expect(of('20240102000001').status).toBe('reversible');
    expect(of('20240102000001').notes.join('\n')).toMatch(/card: values changed in comments_total: a column 20240102000000_add_comments_total\.js adds, whose down drops it/);
    expect(of('20240103000000').status).toBe('not-reversible');
    expect(of('20240103000000').findings.map((f) => f.rule)).toEqual(['down-destroys-data']);
  });
});

describe('fix on a migration that runs its DDL through a helper module', () => {
  // kutt's shape: `await models.createUserTable(knex)`. The lock_timeout goes on the knex up takes,
  // not on the helper's name (it wrote `await addNickname.raw(…)`, which fails: fix took it back).
  it('sets the lock_timeout on the knex instance up receives', async () => {
    const project = makeProject({
      'knexfile.js': KNEXFILE,
      'lib/tables.js': `exports.addNickname = (knex) => knex.schema.alterTable('users', (t) => { t.string('nickname'); });
`,
      'migrations/20240101000000_create.js': `exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); });
exports.down = (knex) => knex.schema.dropTable('users');
`,
      'migrations/20240102000000_nickname.js': `const { addNickname } = require('../lib/tables');

exports.up = async function (knex) {
  await addNickname(knex);
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (t) => { t.dropColumn('nickname'); });
};
`,
    });
    const result = await fix({ cwd: project, rules: ['missing-lock-timeout'] });
    expect(result.skipped.filter((s) => s.migration === '20240102000000_nickname.js')).toEqual([]);
    expect(files(path.join(project, 'migrations'))['20240102000000_nickname.js']).toBe(`const { addNickname } = require('../lib/tables');

exports.up = async function (knex) {
  // knexsafe: give up after 5s instead of queueing every query on users behind this migration.
  await knex.raw(\`SET LOCAL lock_timeout = '5s'\`);
  await addNickname(knex);
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (t) => { t.dropColumn('nickname'); });
};
`);
    expect(result.after?.findings.filter((f) => f.rule === 'missing-lock-timeout' && f.migration === '20240102000000_nickname.js')).toEqual([]);
  });
});
