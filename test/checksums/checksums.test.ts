import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { makeProject, parseJson, REPO_ROOT, runCli } from '../helpers/cli.js';
import { describeServer, sqlOn, tempDatabases, type TempDatabase } from '../helpers/pg.js';

const KNEX_CLI = path.join(REPO_ROOT, 'node_modules/knex/bin/cli.js');
const sha = (text: string) => createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');

const M1 = '20240101000000_create_users.js';
const M2 = '20240102000000_add_email.js';
const M3 = '20240103000000_create_orders.js';
const M4 = '20240104000000_create_notes.js';
const m1 = `exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); t.string('name'); });\nexports.down = (knex) => knex.schema.dropTable('users');\n`;
const m2 = `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.string('email'); });\nexports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('email'); });\n`;
const m3 = `exports.up = (knex) => knex.schema.createTable('orders', (t) => { t.increments('id'); });\nexports.down = (knex) => knex.schema.dropTable('orders');\n`;
const m4 = `exports.up = (knex) => knex.schema.createTable('notes', (t) => { t.increments('id'); });\nexports.down = (knex) => knex.schema.dropTable('notes');\n`;

function project(url: string, migrations: Record<string, string>): string {
  const files: Record<string, string> = { 'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(url)} };\n` };
  for (const [name, text] of Object.entries(migrations)) files[`migrations/${name}`] = text;
  return makeProject(files, 'ks-checksum-');
}

function gitCommitAll(dir: string): string {
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, '-c', 'user.email=test@example.com', '-c', 'user.name=test', ...args], { encoding: 'utf8' });
  if (!fs.existsSync(path.join(dir, '.git'))) git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'migrations');
  return git('rev-parse', 'HEAD').trim();
}

/** Plain knex's own CLI, as `npx knex` runs it. */
function knexCli(dir: string, ...args: string[]): { code: number; out: string } {
  const r = spawnSync(process.execPath, [KNEX_CLI, ...args, '--knexfile', path.join(dir, 'knexfile.js')], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', KNEX_PATH: path.join(REPO_ROOT, 'node_modules/knex') },
  });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

interface StatusJson {
  migrations: { name: string; state: string; checksum?: string | null }[];
  checksums?: {
    exists: boolean;
    changed: { name: string; diff?: string; appliedFrom: { commit: string } | null }[];
    unknown: { name: string; reason: string }[];
    renamed: { from: string; to: string }[];
  };
}

interface DoctorJson {
  findings: { id: string; severity: string; migration?: string; evidence: string[]; commands: string[] }[];
  checks: { name: string; status: string }[];
}

describeServer('checksums of applied migrations', () => {
  const newDatabase = tempDatabases('ks_checksum');

  let db: TempDatabase;
  let dir: string;
  let commit: string;
  beforeAll(async () => {
    db = await newDatabase();
    dir = project(db.url, { [M1]: m1, [M2]: m2 });
    commit = gitCommitAll(dir);
  });

  it('latest records a sha256 of each file in knex_migrations_knexsafe, with the git commit it was applied from; knex tables untouched', async () => {
    const r = await runCli(['latest', '--no-check'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const rows = await sqlOn<{ name: string; sha256: string; git_commit: string | null; knex_id: number; recorded_by: string }>(
      db.url,
      'select name, sha256, git_commit, knex_id, recorded_by from knex_migrations_knexsafe order by name',
    );
    const ids = await sqlOn<{ id: number; name: string }>(db.url, 'select id, name from knex_migrations order by id');
    expect(rows.map((row) => [row.name, row.sha256, row.git_commit, row.recorded_by])).toEqual([
      [M1, sha(m1), commit, 'latest'],
      [M2, sha(m2), commit, 'latest'],
    ]);
    expect(rows.map((row) => row.knex_id)).toEqual(ids.map((i) => i.id));
    // knex's own table keeps exactly its own columns.
    const columns = await sqlOn<{ column_name: string }>(db.url, "select column_name from information_schema.columns where table_name = 'knex_migrations' order by ordinal_position");
    expect(columns.map((c) => c.column_name)).toEqual(['id', 'name', 'batch', 'migration_time']);
    const status = await runCli(['status', '--json'], { cwd: dir });
    expect(status.code).toBe(0);
    const json = parseJson<StatusJson>(status.stdout);
    expect(json.migrations.map((m) => m.checksum)).toEqual(['ok', 'ok']);
    expect(json.checksums).toMatchObject({ exists: true, changed: [], unknown: [], renamed: [] });
  });

  it('a checkout with CRLF line endings is not an edit', async () => {
    const file = path.join(dir, 'migrations', M2);
    fs.writeFileSync(file, m2.replace(/\n/g, '\r\n'));
    try {
      const status = await runCli(['status', '--json'], { cwd: dir });
      expect(status.code, status.stdout + status.stderr).toBe(0);
      expect(parseJson<StatusJson>(status.stdout).checksums?.changed).toEqual([]);
    } finally {
      fs.writeFileSync(file, m2);
    }
  });

  it('an edit after applying: status and doctor report it with the diff from git; latest refuses (exit 1) unless --allow-changed', async () => {
    fs.writeFileSync(path.join(dir, 'migrations', M1), m1.replace("t.string('name');", "t.string('name'); t.string('nickname');"));
    fs.writeFileSync(path.join(dir, 'migrations', M3), m3);

    const text = await runCli(['status'], { cwd: dir });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`Edited after it was applied: ${M1}`);
    expect(text.stdout).toContain(`from commit ${commit.slice(0, 12)}`);
    expect(text.stdout).toMatch(/^\s+-exports\.up = .*t\.string\('name'\); \}\);$/m);
    expect(text.stdout).toMatch(/^\s+\+exports\.up = .*t\.string\('nickname'\); \}\);$/m);
    const json = parseJson<StatusJson>((await runCli(['status', '--json'], { cwd: dir })).stdout);
    expect(json.checksums?.changed.map((c) => c.name)).toEqual([M1]);
    expect(json.checksums?.changed[0]?.appliedFrom?.commit).toBe(commit);
    expect(json.checksums?.changed[0]?.diff).toContain("+exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); t.string('name'); t.string('nickname'); });");
    expect(json.migrations.find((m) => m.name === M1)?.checksum).toBe('changed');

    const doctor = await runCli(['doctor', '--no-shadow', '--json'], { cwd: dir });
    expect(doctor.code).toBe(1);
    const report = parseJson<DoctorJson>(doctor.stdout);
    const edited = report.findings.find((f) => f.id === 'migration-edited');
    expect(edited).toMatchObject({ severity: 'error', migration: M1 });
    expect(edited?.evidence.join('\n')).toContain("+exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); t.string('name'); t.string('nickname'); });");
    expect(edited?.commands).toContain(`knexsafe history rehash ${M1}`);
    expect(report.checks.find((c) => c.name === 'checksums')?.status).toBe('problem');

    const refused = await runCli(['latest', '--no-check'], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`latest stopped before changing anything: an applied migration was edited after it was applied — ${M1}`);
    expect(refused.stderr).toContain('knexsafe history rehash');
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect((await sqlOn(db.url, 'select 1 from knex_migrations where name = $1', [M3])).length).toBe(0);
    const up = await runCli(['up', '--no-check'], { cwd: dir });
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('up stopped before changing anything');

    const allowed = await runCli(['latest', '--no-check', '--allow-changed'], { cwd: dir });
    expect(allowed.code, allowed.stdout + allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain(`--allow-changed: ${M1} changed since it was applied`);
    expect((await sqlOn(db.url, 'select 1 from knex_migrations where name = $1', [M3])).length).toBe(1);
    // The edit is still reported: --allow-changed runs once, it does not accept.
    expect((await runCli(['status'], { cwd: dir })).code).toBe(1);
  });

  it('history rehash accepts the reviewed edit: status exits 0 and latest runs again', async () => {
    const r = await runCli(['history', 'rehash'], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`✓ ${M1} (was changed;`);
    expect(r.stdout).toMatch(/Recorded 1 checksum in knex_migrations_knexsafe .*; 2 already matched\./);
    const status = await runCli(['status', '--json'], { cwd: dir });
    expect(status.code, status.stdout).toBe(0);
    expect(parseJson<StatusJson>(status.stdout).checksums?.changed).toEqual([]);
    const latest = await runCli(['latest', '--no-check'], { cwd: dir });
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toContain('Already up to date');
  });

  it('a migration applied by plain knex is "unknown" (rehash suggested); rehash records it', async () => {
    fs.writeFileSync(path.join(dir, 'migrations', M4), m4);
    const plain = knexCli(dir, 'migrate:latest');
    expect(plain.code, plain.out).toBe(0);
    expect(plain.out).toContain('Batch 3 run: 1 migrations');

    const text = await runCli(['status'], { cwd: dir });
    expect(text.code, text.stdout + text.stderr).toBe(0);
    expect(text.stdout).toContain(`Checksum unknown for 1 applied migration (applied by plain knex): ${M4}.`);
    expect(text.stdout).toContain('knexsafe history rehash');
    const json = parseJson<StatusJson>((await runCli(['status', '--json'], { cwd: dir })).stdout);
    expect(json.checksums?.unknown).toEqual([{ name: M4, reason: 'no-checksum' }]);
    expect(json.migrations.find((m) => m.name === M4)?.checksum).toBe('unknown');
    const doctor = parseJson<DoctorJson>((await runCli(['doctor', '--no-shadow', '--json'], { cwd: dir })).stdout);
    expect(doctor.findings.find((f) => f.id === 'checksum-unknown')).toMatchObject({ severity: 'info', commands: ['knexsafe history rehash'] });

    const rehash = await runCli(['history', 'rehash', '--json'], { cwd: dir });
    expect(rehash.code, rehash.stderr).toBe(0);
    expect(parseJson<{ recorded: { name: string; was: string }[] }>(rehash.stdout).recorded).toEqual([expect.objectContaining({ name: M4, was: 'unknown' })]);
    expect(parseJson<StatusJson>((await runCli(['status', '--json'], { cwd: dir })).stdout).checksums?.unknown).toEqual([]);
  });

  it('rolled back and applied again by plain knex: the old checksum no longer counts (unknown, not ok)', async () => {
    expect(knexCli(dir, 'migrate:down').code).toBe(0);
    expect(knexCli(dir, 'migrate:up').code).toBe(0);
    const json = parseJson<StatusJson>((await runCli(['status', '--json'], { cwd: dir })).stdout);
    expect(json.checksums?.unknown).toEqual([{ name: M4, reason: 'applied-again' }]);
    expect((await runCli(['history', 'rehash'], { cwd: dir })).code).toBe(0);
  });

  it('`npx knex migrate:status` and `migrate:list` print the same as on a database plain knex migrated', async () => {
    const other = await newDatabase();
    const twin = project(other.url, Object.fromEntries(fs.readdirSync(path.join(dir, 'migrations')).map((f) => [f, fs.readFileSync(path.join(dir, 'migrations', f), 'utf8')])));
    expect(knexCli(twin, 'migrate:latest').code).toBe(0);
    for (const command of ['migrate:status', 'migrate:list']) {
      const ours = knexCli(dir, command);
      const theirs = knexCli(twin, command);
      expect(ours.code, ours.out).toBe(0);
      expect(ours.out).toBe(theirs.out);
    }
    expect(knexCli(dir, 'migrate:status').out).toContain('No Pending Migration files Found.');
  });

  it('a renamed file (same content, new name) is named as a rename, with the history rename fix', async () => {
    const renamed = '20240105000000_create_notes_renamed.js';
    fs.renameSync(path.join(dir, 'migrations', M4), path.join(dir, 'migrations', renamed));
    try {
      const json = parseJson<StatusJson>((await runCli(['status', '--json'], { cwd: dir })).stdout);
      expect(json.checksums?.renamed).toEqual([{ from: M4, to: renamed }]);
      const text = await runCli(['status'], { cwd: dir });
      expect(text.stdout).toContain(`Renamed: ${M4} was applied and its file is gone; ${renamed} has the same content.`);
      const doctor = parseJson<DoctorJson>((await runCli(['doctor', '--no-shadow', '--json'], { cwd: dir })).stdout);
      expect(doctor.findings.find((f) => f.id === 'migration-renamed')?.commands).toEqual([`knexsafe history rename ${M4} ${renamed}`]);
      // The rename moves the checksum along with knex's row.
      expect((await runCli(['history', 'rename', M4, renamed], { cwd: dir })).code).toBe(0);
      const after = parseJson<StatusJson>((await runCli(['status', '--json'], { cwd: dir })).stdout);
      expect(after.migrations.find((m) => m.name === renamed)?.checksum).toBe('ok');
    } finally {
      fs.rmSync(path.join(dir, '.knexsafe'), { recursive: true, force: true });
    }
  });
});
