import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';

interface MadeJson {
  path: string;
  paths: string[];
  files: { path: string; content: string; role: string }[];
  extension: string;
  written: boolean;
  intent: { kind: string; [key: string]: unknown };
  warnings: string[];
  schema?: string;
}

let dir: string;
const migrations = () => fs.readdirSync(path.join(dir, 'migrations')).sort();

beforeAll(() => {
  dir = makeProject({
    'knexfile.js': `module.exports = { client: 'pg', migrations: { directory: './migrations' } };\n`,
    'migrations/20240101000000_create_users.js': `exports.up = async function (knex) {
  await knex.schema.createTable('users', (t) => {
    t.increments('id');
    t.string('email', 255);
    t.string('name', 100);
  });
};
exports.down = async function (knex) {
  await knex.schema.dropTable('users');
};
`,
  });
});

describe('knexsafe make (CLI)', () => {
  it('--print --json shows the migration and what was understood, and writes nothing', async () => {
    const r = await runCli(['make', 'add_index_on_users_email', '--print', '--json', '--cwd', dir]);
    expect(r.code).toBe(0);
    const made = parseJson<MadeJson>(r.stdout);
    expect(made.written).toBe(false);
    expect(made.intent).toMatchObject({ kind: 'add-index', table: 'users', columns: ['email'], index: 'users_email_index', shape: 'add_index_on_<table>_<columns>' });
    expect(made.paths).toEqual([made.path]);
    expect(path.basename(made.path)).toMatch(/^\d{14}_add_index_on_users_email\.js$/);
    expect(made.files[0]!.content).toContain('CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_index ON users (email)');
    expect(made.schema).toMatch(/replayed on an embedded shadow/);
    expect(migrations()).toEqual(['20240101000000_create_users.js']);
  }, 120_000);

  it('--json reports every file of a multi-migration pattern, with consecutive timestamps', async () => {
    const r = await runCli(['make', 'set_email_not_null_in_users', '--json', '--cwd', dir]);
    expect(r.code).toBe(0);
    const made = parseJson<MadeJson>(r.stdout);
    expect(made.written).toBe(true);
    expect(made.paths.map((p) => path.basename(p).slice(15))).toEqual(['set_email_not_null_in_users.js', 'set_email_not_null_in_users_validate.js']);
    const [a, b] = made.paths.map((p) => Number(path.basename(p).slice(0, 14)));
    expect(b! - a!).toBe(1);
    for (const p of made.paths) expect(fs.existsSync(p)).toBe(true);
    expect(made.files.map((f) => f.role)).toEqual(['add CHECK (… IS NOT NULL) NOT VALID', 'validate, SET NOT NULL, drop the CHECK']);
  }, 120_000);

  it('prints what it understood and every file it created', async () => {
    const r = await runCli(['make', 'add_foreign_key_on_users_id_to_users', '--print', '--cwd', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\/\/ ---- \S*migrations\/\d{14}_add_foreign_key_on_users_id_to_users\.js \(add the foreign key NOT VALID\) ----/);
    expect(r.stdout).toMatch(/_validate\.js \(validate the foreign key\) ----/);
  }, 120_000);

  it('an unknown shape gets knex’s plain stub and the list of shapes it knows', async () => {
    const r = await runCli(['make', 'frobnicate_the_widgets', '--json', '--cwd', dir]);
    expect(r.code).toBe(0);
    const made = parseJson<MadeJson>(r.stdout);
    expect(made.intent.kind).toBe('stub');
    expect(made.intent.shapes).toEqual(expect.arrayContaining(['create_<table>_table', 'backfill_<table>_<column>  (--set "<SQL expression>")']));
    expect(made.warnings.join(' ')).toMatch(/does not know the shape[\s\S]*create_<table>_table/);
    expect(made.files[0]!.content).toContain('// TODO: describe the change');
    const text = await runCli(['make', 'frobnicate_more', '--cwd', dir]);
    expect(text.stderr).toMatch(/warning knexsafe does not know the shape of "frobnicate_more"/);
  }, 120_000);

  it('warns on vague and non-snake_case names, with a suggestion', async () => {
    const vague = await runCli(['make', 'update_users', '--print', '--cwd', dir]);
    expect(vague.code).toBe(0);
    expect(vague.stderr).toMatch(/"update_users" is vague[\s\S]*add_<column>_to_users/);
    const camel = await runCli(['make', 'AddPhoneToUsers', '--print', '--json', '--cwd', dir]);
    const made = parseJson<MadeJson>(camel.stdout);
    expect(made.warnings[0]).toMatch(/"AddPhoneToUsers" is not snake_case: migration names read best as add_phone_to_users/);
    expect(made.intent).toMatchObject({ kind: 'add-columns', table: 'users', columns: [{ name: 'phone', type: 'text' }] });
  }, 120_000);

  it('says clearly when the column to rename does not exist (exit 2, no file)', async () => {
    const before = migrations();
    const r = await runCli(['make', 'rename_nme_to_full_name_in_users', '--cwd', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/users has no column nme to rename/);
    expect(r.stderr).toMatch(/Columns of users: email, id, name/);
    expect(migrations()).toEqual(before);
  }, 120_000);

  it('-x picks the module style; --stub and --simple', async () => {
    const mjs = parseJson<MadeJson>((await runCli(['make', 'create_widgets_table', '-x', 'mjs', '--print', '--json', '--cwd', dir])).stdout);
    expect(mjs.extension).toBe('mjs');
    // knex's default loadExtensions has no .mjs: knex would never run it.
    expect(mjs.warnings.find((w) => w.startsWith('knex will never run a .mjs migration in this project'))).toBeDefined();
    expect(mjs.files[0]!.content).toMatch(/export async function up\(knex\) \{\n  await knex\.schema\.createTable\('widgets'/);
    const stub = parseJson<MadeJson>((await runCli(['make', 'create_widgets_table', '--stub', '--print', '--json', '--cwd', dir])).stdout);
    expect(stub.intent.kind).toBe('stub');
    const simple = parseJson<MadeJson>((await runCli(['make', 'add_index_on_users_name', '--simple', '--print', '--json', '--cwd', dir])).stdout);
    expect(simple.files[0]!.content).toContain("table.index('name', 'users_name_index');");
    expect(simple.files[0]!.content).not.toContain('transaction: false');
  }, 120_000);

  it('--help documents the grammar and the safe patterns', async () => {
    const r = await runCli(['make', '--help']);
    expect(r.code).toBe(0);
    for (const shape of [
      'create_<table>_table',
      'add_<column>[_and_<column>…]_to_<table>',
      'drop_<column>[_and_<column>…]_from_<table>',
      'add_index_on_<table>_<columns>',
      'add_unique_on_<table>_<columns>',
      'rename_<old>_to_<new>_in_<table>',
      'change_<column>_to_<type>_in_<table>',
      'set_<column>_not_null_in_<table>',
      'backfill_<table>_<column>',
      'add_foreign_key_on_<table>_<column>',
      'create_<type>_enum',
    ]) {
      expect(r.stdout).toContain(shape);
    }
    expect(r.stdout).toMatch(/--simple/);
    expect(r.stdout).toMatch(/decimal_<p>\[_<s>\]/);
  });
});
