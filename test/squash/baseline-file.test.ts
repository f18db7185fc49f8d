import knexFactory from 'knex';
import { describe, expect, it } from 'vitest';
import { KnexsafeError } from '../../src/errors.js';
import { baselineFileName, renderBaseline, templateLiteral } from '../../src/squash/baseline-file.js';

/** What PostgreSQL receives when a migration runs `knex.raw(<literal>)`. */
function sentToServer(literal: string): string {
  const text = new Function(`return ${literal};`)() as string;
  const knex = knexFactory({ client: 'pg' });
  return knex.client.positionBindings(knex.raw(text).toSQL().sql) as string;
}

describe('the SQL inside the baseline file', () => {
  it('reaches the server unchanged: question marks, backslashes, backticks and ${ survive knex.raw and the template literal', () => {
    const sql = [
      `SELECT '{"a":1}'::jsonb ? 'a';`,
      "INSERT INTO t (v) VALUES (E'back\\\\slash'), ('tick ` and ${not.js}'), ('what?');",
      "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS $$ begin return '`${x}`'; end $$;",
    ].join('\n');
    expect(sentToServer(templateLiteral(sql)).trim()).toBe(sql);
  });

  it('refuses SQL with a backslash right before a question mark, which knex cannot pass through', () => {
    expect(() => templateLiteral("SELECT E'\\\\?'")).toThrow(KnexsafeError);
  });
});

describe('the baseline file', () => {
  const header = {
    command: 'knexsafe squash --to b',
    replaced: ['1_a.js', '2_b.js'],
    archive: 'migrations/_squashed/x',
    ddlSource: 'the catalogs',
    dataTables: [{ table: 'public.roles', rows: 3 }],
    dataIncluded: true,
  };

  it('is written in the module style asked for, with up and down', () => {
    const cjs = renderBaseline('cjs', header, 'CREATE TABLE t ();', 'DROP TABLE t;');
    expect(cjs).toMatch(/^\/\*\*\n \* Baseline: the schema built by 2 migrations, 1_a\.js … 2_b\.js,/);
    expect(cjs).toContain('exports.up = async function (knex) {\n  await knex.raw(`\nCREATE TABLE t ();\n`);\n};');
    expect(cjs).toContain('exports.down = async function (knex) {\n  await knex.raw(`\nDROP TABLE t;\n`);\n};');
    expect(cjs).toContain('public.roles (3)');
    expect(renderBaseline('esm', header, 'SELECT 1;', 'SELECT 2;')).toContain('export async function down(knex) {');
    const ts = renderBaseline('ts', header, 'SELECT 1;', 'SELECT 2;');
    expect(ts).toContain("import type { Knex } from 'knex';");
    expect(ts).toContain('export async function up(knex: Knex): Promise<void> {');
  });

  it('has empty functions when there is nothing to create', () => {
    expect(renderBaseline('cjs', header, '', '')).toContain('exports.up = async function (knex) {\n};');
  });
});

describe('the baseline file name', () => {
  it('takes the timestamp of the last squashed migration, so kept and later files still sort after it', () => {
    expect(baselineFileName('20240109090000_backfill.js', ['20240110090000_next.js'], 'js')).toBe('20240109090000_baseline.js');
    expect(baselineFileName('20240109090000_backfill.ts', [], 'ts')).toBe('20240109090000_baseline.ts');
    // Names without an underscore-separated timestamp (ODK Central's style) keep their leading digits.
    expect(baselineFileName('20250611-01-owner-only-index.js', ['20250611-02-x.js'], 'js')).toBe('20250611-01_baseline.js');
    expect(baselineFileName('1_a.js', [], 'js', 'custom_start')).toBe('custom_start.js');
  });

  it('refuses a name that would sort after a kept migration', () => {
    expect(() => baselineFileName('20240109090000_b.js', ['20240109090000_a_later_file.js'], 'js')).toThrow(/sort after 20240109090000_a_later_file\.js/);
  });
});
