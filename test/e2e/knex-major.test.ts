import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runUnderProjectKnex } from '../../src/check/project-knex.js';
import { bundledKnexVersion } from '../../src/config/knex-version.js';
import { resolveProject } from '../../src/config/resolve.js';
import { listMigrationFiles } from '../../src/migrations/source.js';
import { makeProject, parseJson, REPO_ROOT, runCli } from '../helpers/cli.js';
import { describeServer, SERVER_URL, sqlOn } from '../helpers/pg.js';

/**
 * A project pinned to knex 0.21 (getodk/central-backend) destructures `.returning('id')` as
 * `([id]) => …`: under knex < 1.0 that is the value, under knex ≥ 1.0 the object `{ id }`. knexsafe
 * runs migrations with its own knex, so the migration fails there though `npx knex` runs it: the
 * failure has to say so.
 */
const files = {
  'knexfile.js': `module.exports = { client: 'pg' };\n`,
  'migrations/20240101000000_actees.js': `exports.up = (knex) => knex.schema.createTable('actees', (t) => { t.string('id', 36).primary(); t.string('species', 36); })
  .then(() => knex.schema.createTable('actors', (t) => { t.increments('id'); t.string('acteeId', 36).references('actees.id'); }));
exports.down = (knex) => knex.schema.dropTable('actors').then(() => knex.schema.dropTable('actees'));
`,
  'migrations/20240102000000_system_actor.js': `exports.up = (knex) => knex.insert({ id: '0d6b7d3e-2b1c-4c55-9c3f-5e1f8f2d9a10', species: 'system' }).into('actees').returning('id')
  .then(([id]) => knex.insert({ acteeId: id }).into('actors'));
exports.down = (knex) => knex('actors').del().then(() => knex('actees').del());
`,
};

/** The fixture project with its own knex 0.21 (knexsafe's tree has it only under an alias). */
function projectOnKnex021(): string {
  const dir = makeProject(files);
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules/knex-021-for-tests'), path.join(dir, 'node_modules/knex'), 'dir');
  return dir;
}

const note = new RegExp(`knexsafe ran this migration with knex ${bundledKnexVersion().replace(/\./g, '\\.')}; this project uses knex 0\\.21\\.21, .*may not happen under npx knex`);

interface CheckJson {
  migrations: { name: string; failed?: { message: string; sqlState?: string; knexVersionNote?: string; underProjectKnex?: { version: string; runs: boolean; message?: string } } }[];
}

describeServer('a failure under knexsafe’s knex, in a project on another knex major', () => {
  it('check says so with the failure (embedded shadow)', { timeout: 60_000 }, async () => {
    const dir = projectOnKnex021();
    const args = ['check', '--all', '--cwd', dir, '--max-severity', 'none'];
    const json = await runCli([...args, '--json']);
    expect(json.code, json.stderr).toBe(1);
    const failed = parseJson<CheckJson>(json.stdout).migrations.find((m) => m.failed);
    expect(failed?.name).toBe('20240102000000_system_actor.js');
    expect(failed?.failed?.sqlState).toBe('22001');
    expect(failed?.failed?.knexVersionNote).toMatch(note);
    const text = await runCli(args);
    expect(text.stdout).toMatch(note);
  });

  it('check on a server shadow runs the chain with the project’s knex: fails only under knexsafe’s knex, as a warning', { timeout: 60_000 }, async () => {
    const dir = projectOnKnex021();
    const args = ['check', '--all', '--cwd', dir, '--shadow-url', SERVER_URL];
    const json = await runCli([...args, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = parseJson<CheckJson & { ok: boolean }>(json.stdout);
    expect(report.ok).toBe(true);
    const failed = report.migrations.find((m) => m.failed);
    expect(failed?.name).toBe('20240102000000_system_actor.js');
    expect(failed?.failed?.underProjectKnex).toEqual({ version: '0.21.21', runs: true });
    expect(failed?.failed?.knexVersionNote).toMatch(new RegExp(`^fails only under knex ${bundledKnexVersion().split('.')[0]}: under this project's knex 0\\.21\\.21 it runs`));
    // As a warning: --max-severity warning fails the run, the default (error) does not.
    expect((await runCli([...args, '--max-severity', 'warning'])).code).toBe(1);
  });

  it('check on a server shadow says when the project’s knex fails there too', { timeout: 60_000 }, async () => {
    const dir = projectOnKnex021();
    fs.writeFileSync(path.join(dir, 'migrations/20240103000000_broken.js'), `exports.up = (knex) => knex.raw('select 1/0');\nexports.down = () => Promise.resolve();\n`);
    fs.writeFileSync(path.join(dir, 'migrations/20240102000000_system_actor.js'), `exports.up = () => Promise.resolve();\nexports.down = () => Promise.resolve();\n`);
    const r = await runCli(['check', '--all', '--cwd', dir, '--shadow-url', SERVER_URL, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const failed = parseJson<CheckJson>(r.stdout).migrations.find((m) => m.failed);
    expect(failed?.name).toBe('20240103000000_broken.js');
    expect(failed?.failed?.underProjectKnex).toMatchObject({ version: '0.21.21', runs: false });
    expect(failed?.failed?.knexVersionNote).toMatch(/^fails under the project's knex 0\.21\.21 too: .*division by zero/);
  });

  it('runs the chain with the project’s knex on a temporary database it drops after', { timeout: 60_000 }, async () => {
    const dir = projectOnKnex021();
    const project = await resolveProject({ cwd: dir });
    const run = await runUnderProjectKnex(project, listMigrationFiles(project.migrations), SERVER_URL);
    expect(run).toEqual({ version: '0.21.21', runs: true });
    const left = await sqlOn(SERVER_URL, `select datname from pg_database where datname like $1`, [`knexsafe_shadow_${process.pid}_%`]);
    expect(left).toEqual([]);
  });

  for (const shadow of ['embedded', 'server'] as const) {
    it(`verify says so with up-failed (${shadow} shadow)`, { timeout: 60_000 }, async () => {
      const dir = projectOnKnex021();
      const args = ['verify', '--cwd', dir, '--json', ...(shadow === 'server' ? ['--shadow-url', SERVER_URL] : [])];
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(1);
      const migrations = parseJson<{ migrations: { name: string; findings: { rule: string; knexVersionNote?: string; underProjectKnex?: { version: string; runs: boolean } }[] }[] }>(
        r.stdout,
      ).migrations;
      expect(migrations[0]?.findings).toEqual([]);
      const upFailed = migrations[1]?.findings.find((f) => f.rule === 'up-failed');
      if (shadow === 'embedded') expect(upFailed?.knexVersionNote).toMatch(note);
      else {
        // On a server shadow the project's knex ran the chain up to it: it passes there.
        expect(upFailed?.underProjectKnex).toEqual({ version: '0.21.21', runs: true });
        expect(upFailed?.knexVersionNote).toMatch(/^fails only under knex \d+: under this project's knex 0\.21\.21 it runs/);
      }
    });
  }

  it('says nothing of knex versions when the project has no knex of its own', { timeout: 60_000 }, async () => {
    const dir = makeProject(files);
    const r = await runCli(['check', '--all', '--cwd', dir, '--max-severity', 'none', '--json']);
    expect(r.code).toBe(1);
    const failed = parseJson<CheckJson>(r.stdout).migrations.find((m) => m.failed);
    // Without its own knex the project resolves none (or knexsafe's, from a temp dir inside the repo).
    expect(failed?.failed?.knexVersionNote).toBeUndefined();
  });
});
