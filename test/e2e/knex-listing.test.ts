import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, parseJson, REPO_ROOT, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, SERVER_URL, sqlOn, type TempDatabase } from '../helpers/pg.js';

/**
 * Files as knex lists and validates them (issue 17, point 3): knex's default loadExtensions skips
 * .mjs, knex reads no subfolder, and knex refuses a migration without both up and down.
 */
const KNEX_CLI = createRequire(import.meta.url).resolve('knex/bin/cli.js');

const create = (table: string) => `exports.up = (knex) => knex.schema.createTable('${table}', (t) => { t.bigIncrements(); });\n`;
const drop = (table: string) => `exports.down = (knex) => knex.schema.dropTable('${table}');\n`;

const files = {
  'migrations/20240101000000_a.js': create('a') + drop('a'),
  'migrations/20240102000000_no_down.js': create('b'),
  'migrations/20240103000000_esm.mjs': `export const up = (knex) => knex.schema.createTable('c', (t) => { t.bigIncrements(); });\nexport const down = (knex) => knex.schema.dropTable('c');\n`,
  'migrations/archive/20230101000000_old.js': create('old') + drop('old'),
  'migrations/lib/helpers.js': 'module.exports = {};\n',
};

interface CheckJson {
  ok: boolean;
  migrations: { name: string; failed?: { message: string } }[];
  findings: { rule: string; migration: string }[];
  warnings: string[];
}

const REFUSED = 'Invalid migration: 20240102000000_no_down.js must have both an up and down function';

function expectSkipWarnings(warnings: string[]): void {
  expect(warnings.find((w) => w.includes('20240103000000_esm.mjs'))).toMatch(/knex will never run it — \.mjs is not in the migrations' loadExtensions/);
  expect(warnings.find((w) => w.includes('archive'))).toMatch(/knex will never run the 1 module in this subfolder \(20230101000000_old\.js\)/);
  // A helper the migrations import is not named like a migration: no warning.
  expect(warnings.some((w) => w.includes('helpers.js'))).toBe(false);
}

function expectRefused(report: CheckJson): void {
  expect(report.ok).toBe(false);
  const failed = report.migrations.find((m) => m.name === '20240102000000_no_down.js');
  expect(failed?.failed?.message).toContain(REFUSED);
  // Skipped files are neither checked nor mentioned as migrations.
  expect(report.migrations.map((m) => m.name)).not.toContain('20240103000000_esm.mjs');
  expect(report.migrations.map((m) => m.name)).not.toContain('20230101000000_old.js');
}

describe('files as knex lists and validates them (embedded shadow)', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeProject(files);
  });

  it('check: a migration without down fails as knex refuses it; skipped .mjs and subfolder files get a warning', async () => {
    const r = await runCli(['check', '--cwd', dir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const report = parseJson<CheckJson>(r.stdout);
    expectRefused(report);
    expectSkipWarnings(report.warnings);
  });

  it('verify: the same migration is a failure, not a down-missing warning', async () => {
    const r = await runCli(['verify', '--cwd', dir, '--json']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(REFUSED);
  });

  it('an empty down is valid for knex: down-missing stays a warning there', async () => {
    const ok = makeProject({ 'migrations/20240101000000_a.js': create('a') + 'exports.down = async () => {};\n' });
    const r = await runCli(['check', '--cwd', ok, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = parseJson<CheckJson>(r.stdout);
    expect(report.migrations.every((m) => !m.failed)).toBe(true);
    expect(report.findings.map((f) => f.rule)).toContain('down-missing');
  });

  it('an .mjs listed in the knexfile loadExtensions is checked, with no warning', async () => {
    const listed = makeProject({
      'knexfile.js': `module.exports = { client: 'pg', migrations: { loadExtensions: ['.js', '.mjs'] } };\n`,
      'migrations/20240103000000_esm.mjs': files['migrations/20240103000000_esm.mjs'],
    });
    const r = await runCli(['check', '--cwd', listed, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = parseJson<CheckJson>(r.stdout);
    expect(report.migrations.map((m) => m.name)).toEqual(['20240103000000_esm.mjs']);
    expect(report.warnings.filter((w) => w.includes('never run'))).toEqual([]);
  });
});

describeServer('files as knex lists and validates them (server shadow, and latest against plain knex)', () => {
  let temp: TempDatabase;
  let dir: string;
  beforeAll(async () => {
    temp = await createTempDatabase('ks_fid_listing');
    dir = makeProject({ ...files, 'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(temp.url)} };\n` });
  });
  afterAll(async () => {
    await temp?.drop();
  });

  it('check --shadow-url agrees with the embedded shadow', async () => {
    const r = await runCli(['check', '--all', '--cwd', dir, '--json', '--shadow-url', SERVER_URL]);
    expect(r.code, r.stderr).toBe(1);
    const report = parseJson<CheckJson>(r.stdout);
    expectRefused(report);
    expectSkipWarnings(report.warnings);
  });

  it('plain knex refuses the batch (exit 1); knexsafe latest fails the same way, with or without its check, and applies nothing', async () => {
    const knex = spawnSync(process.execPath, [KNEX_CLI, 'migrate:latest'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_PATH: `${REPO_ROOT}/node_modules` } });
    expect(knex.status).toBe(1);
    expect(knex.stdout + knex.stderr).toContain(REFUSED);

    for (const args of [[], ['--no-check']]) {
      const r = await runCli(['latest', '--cwd', dir, ...args]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(REFUSED);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    const applied = await sqlOn(temp.url, 'select name from knex_migrations');
    expect(applied).toEqual([]);
  });
});
