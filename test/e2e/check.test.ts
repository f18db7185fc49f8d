import os from 'node:os';
import AjvDraft04 from 'ajv-draft-04';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, parseJson, REPO_ROOT, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';

const require = createRequire(import.meta.url);

const project = {
  'migrations/20240101000000_create_users.js': `exports.up = (knex) => knex.schema.createTable('users', (t) => {\n  t.increments('id');\n  t.string('email');\n});\nexports.down = (knex) => knex.schema.dropTable('users');\n`,
  'migrations/20240102000000_add_index_on_users_email.js': `exports.up = async (knex) => {\n  await knex.schema.alterTable('users', (t) => {\n    t.index('email');\n  });\n};\nexports.down = (knex) => knex.schema.alterTable('users', (t) => t.dropIndex('email'));\n`,
};

interface CheckJson {
  ok: boolean;
  summary: { error: number; warning: number; info: number };
  findings: { rule: string; severity: string; file: string; line: number; fix?: { code: string }; lock?: { sql: string } }[];
  migrations: { name: string }[];
}

describe('knexsafe check (CLI)', () => {
  let dir: string;
  beforeAll(() => {
    dir = makeProject(project);
  });

  it('text: one line per finding (file:line:col severity rule message), the lock and why under errors; exit 1 on errors, 0 with --max-severity none', async () => {
    const r = await runCli(['check', '--cwd', dir]);
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    const finding = lines.findIndex((l) => /index-not-concurrent/.test(l));
    expect(lines[finding]).toMatch(
      /^\S*migrations\/20240102000000_add_index_on_users_email\.js:2:\d+\s+error\s+index-not-concurrent\s+Index users_email_index on users is built without CONCURRENTLY$/,
    );
    expect(lines[finding + 1]).toMatch(/^ {4}SHARE lock on users — blocks writes, DDL \(reads continue\) · \S.*\.$/);
    // The fix code and the full explanation wait for --verbose or explain.
    expect(r.stdout).not.toMatch(/CREATE INDEX CONCURRENTLY|exports\.up|why:|docs:/);
    expect(lines.at(-2)).toMatch(/^✗ 1 error/);
    expect(lines.at(-1)).toMatch(/--verbose shows each finding's SQL, locks, why and fix code; knexsafe explain <rule\|file:line> shows one/);
    const lenient = await runCli(['check', '--cwd', dir, '--max-severity', 'none']);
    expect(lenient.code).toBe(0);
  });

  it('text --verbose and explain: the statement, lock, why, knex fix and docs', async () => {
    const verbose = await runCli(['check', '--cwd', dir, '--verbose']);
    expect(verbose.code, verbose.stderr).toBe(1);
    expect(verbose.stdout).toMatch(/error\s+index-not-concurrent\s+Index users_email_index on users is built without CONCURRENTLY/);
    expect(verbose.stdout).toMatch(/SHARE lock on users — blocks writes, DDL \(reads continue\)/);
    expect(verbose.stdout).toMatch(/fix: Build the index with CREATE INDEX CONCURRENTLY/);
    expect(verbose.stdout).toMatch(/CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_index ON users \(email\)/);
    expect(verbose.stdout).toMatch(/exports\.config = \{ transaction: false \}/);
    expect(verbose.stdout).toMatch(/docs: docs\/rules\/index-not-concurrent\.md/);
    // explain file:line shows what --verbose shows, for that line only; from another folder, the file finds its project.
    const file = path.join(dir, 'migrations/20240102000000_add_index_on_users_email.js');
    const explained = await runCli(['explain', `${file}:2`], { cwd: os.tmpdir() });
    expect(explained.code, explained.stderr).toBe(0);
    expect(explained.stdout).toMatch(/fix: Build the index with CREATE INDEX CONCURRENTLY/);
    expect(explained.stdout).toMatch(/CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_index ON users \(email\)/);
    const elsewhere = await runCli(['explain', `${file}:1`], { cwd: os.tmpdir() });
    expect(elsewhere.stdout).toMatch(/^No finding at \S+:1; this migration's findings are at line 2\.$/m);
    const rule = await runCli(['explain', 'index-not-concurrent']);
    expect(rule.code).toBe(0);
    expect(rule.stdout).toMatch(/^index-not-concurrent \(error, lock\): /);
    expect(rule.stdout).toMatch(/SHARE/);
    const unknown = await runCli(['explain', 'index-not-concurent']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/neither a rule id nor a migration file.*Rules with a similar name: index-not-concurrent/);
  });

  it('text on the example: one line per finding (plus a line under each error), grouped by migration', async () => {
    const shop = path.join(REPO_ROOT, 'examples', 'shop');
    const text = await runCli(['check', '--cwd', shop, '--all', '--max-severity', 'none']);
    const json = parseJson<CheckJson & { findings: { severity: string }[] }>((await runCli(['check', '--cwd', shop, '--all', '--json', '--max-severity', 'none'])).stdout);
    const lines = text.stdout.trimEnd().split('\n');
    const findingLines = lines.filter((l) => /^\S+:\d+:\d+\s+(error|warning|info)\s+[a-z-]+\s+\S/.test(l));
    const errors = json.findings.filter((f) => f.severity === 'error').length;
    const groups = new Set(findingLines.map((l) => l.split(':')[0])).size;
    expect(findingLines).toHaveLength(json.findings.length);
    // Findings, the line under each error, a blank line after each migration, the summary and the hint.
    expect(lines).toHaveLength(json.findings.length + errors + groups + 2);
  });

  it('json: machine-readable findings with file:line of the knex call', async () => {
    const r = await runCli(['check', '--cwd', dir, '--json']);
    const json = parseJson<CheckJson>(r.stdout);
    expect(json.ok).toBe(false);
    const f = json.findings.find((x) => x.rule === 'index-not-concurrent');
    expect(f).toMatchObject({ severity: 'error', line: 2, lock: { sql: 'SHARE' } });
    expect(f?.file).toMatch(/20240102000000_add_index_on_users_email\.js$/);
    expect(json.migrations.map((m) => m.name)).toEqual(['20240101000000_create_users.js', '20240102000000_add_index_on_users_email.js']);
  });

  it('sarif: valid SARIF 2.1.0', async () => {
    const r = await runCli(['check', '--cwd', dir, '--format', 'sarif']);
    const sarif = parseJson<{ runs: { results: { ruleId: string; locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[] }>(r.stdout);
    const schema = JSON.parse(fs.readFileSync(require.resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json'), 'utf8')) as object;
    // The published schema has a pattern that is only valid without the u flag.
    const Ajv = ((AjvDraft04 as unknown as { default?: unknown }).default ?? AjvDraft04) as typeof import('ajv').default;
    const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
    const validate = ajv.compile(schema);
    expect(validate(sarif), JSON.stringify(validate.errors?.slice(0, 5))).toBe(true);
    const result = sarif.runs[0]?.results.find((x) => x.ruleId === 'index-not-concurrent');
    expect(result?.locations[0]?.physicalLocation.region.startLine).toBe(2);
  });

  it('github: workflow annotations', async () => {
    const r = await runCli(['check', '--cwd', dir, '--format', 'github']);
    expect(r.stdout).toMatch(/^::error file=[^,]*20240102000000_add_index_on_users_email\.js,line=2,title=knexsafe index-not-concurrent::Index users_email_index/m);
  });

  it('markdown: a pull-request comment with the fix', async () => {
    const r = await runCli(['check', '--cwd', dir, '--format', 'markdown']);
    expect(r.stdout).toMatch(/^### knexsafe check: 1 error\(s\)/);
    expect(r.stdout).toMatch(/\| 🛑 \| `index-not-concurrent` \|/);
    expect(r.stdout).toMatch(/```js\n(?:\/\/.*\n|exports\.config = .*\n|\n)*exports\.up = async function \(knex\)/);
  });

  it('plain SQL files and stdin, statically', async () => {
    const sqlDir = makeProject({ 'a.sql': 'CREATE INDEX users_email_idx ON users (email);\nALTER TABLE users DROP COLUMN phone;\n' });
    const r = await runCli(['check', path.join(sqlDir, 'a.sql'), '--json']);
    const json = parseJson<CheckJson>(r.stdout);
    expect(json.findings.map((f) => [f.rule, f.line])).toEqual(
      expect.arrayContaining([
        ['index-not-concurrent', 1],
        ['drop-column', 2],
      ]),
    );
    const stdin = await runCli(['check', '-', '--json'], { input: 'create index on t (a);' });
    expect(parseJson<CheckJson>(stdin.stdout).findings.map((f) => f.rule)).toContain('index-not-concurrent');
    const bad = await runCli(['check', '-'], { input: 'create index on' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/is not valid SQL/);
  });

  it('a migration that fails on the shadow fails the check', async () => {
    const failing = makeProject({ 'migrations/20240101000000_bad.js': `exports.up = (knex) => knex.raw('alter table nope add column x int');\nexports.down = () => {};\n` });
    const r = await runCli(['check', '--cwd', failing]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/failed\s+the migration fails on the shadow \(SQLSTATE 42P01\)/);
  });

  it('a migration that prints with console.log does not break --json or --format sarif (its output goes to stderr)', async () => {
    const noisy = makeProject({
      'migrations/20240101000000_a.js': `console.log('loading');\nexports.up = async (knex) => { console.log('in up'); await knex.schema.createTable('t', (t) => { t.bigIncrements('id'); }); };\nexports.down = async (knex) => { console.info('in down'); await knex.schema.dropTable('t'); };\n`,
    });
    for (const args of [
      ['check', '--json'],
      ['check', '--format', 'sarif'],
      ['verify', '--json'],
    ]) {
      // --no-cache: a warm run takes the migration's results from the cache without running it (nothing printed).
      const r = await runCli([...args, '--cwd', noisy, '--no-cache']);
      expect(r.code, r.stderr).toBe(0);
      expect(() => JSON.parse(r.stdout), `${args.join(' ')}: ${r.stdout.slice(0, 200)}`).not.toThrow();
      expect(r.stderr).toMatch(/in up/);
    }
  });

  it('a migration that cannot even load (a missing require) fails the check instead of ending it early as all clear', async () => {
    const broken = makeProject({
      'migrations/20240101000000_a.js': `exports.up = (knex) => knex.schema.createTable('t', (t) => { t.bigIncrements('id'); });\nexports.down = (knex) => knex.schema.dropTable('t');\n`,
      'migrations/20240102000000_b.js': `const helper = require('./does-not-exist');\nexports.up = async () => {};\nexports.down = async () => {};\n`,
    });
    const r = await runCli(['check', '--cwd', broken, '--json']);
    expect(r.code).toBe(1);
    const json = parseJson<{ ok: boolean; migrations: { name: string; failed?: { message: string } }[] }>(r.stdout);
    expect(json.ok).toBe(false);
    expect(json.migrations.map((m) => m.name)).toEqual(['20240101000000_a.js', '20240102000000_b.js']);
    expect(json.migrations[1]?.failed?.message).toMatch(/requires '\.\/does-not-exist', and \S*does-not-exist does not exist/);
  });
});

describeServer('knexsafe check against a target database', () => {
  let db: TempDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTempDatabase();
    dir = makeProject(project);
    // The target has the first migration applied, with rows.
    const first = await runCli(['up', '--cwd', dir, '--connection', db.url]);
    expect(first.code, first.stderr).toBe(0);
    await sqlOn(db.url, "insert into users (email) select 'u' || g || '@x' from generate_series(1, 2000) g");
    await sqlOn(db.url, 'analyze users');
    await sqlOn(db.url, 'create role ks_readonly login');
    await sqlOn(db.url, 'grant select on all tables in schema public to ks_readonly');
  });
  afterAll(async () => {
    await db?.drop();
    await sqlOn(db.url.replace(/\/[^/]*$/, '/postgres'), 'drop role if exists ks_readonly').catch(() => undefined);
  });

  it('checks only pending migrations, with the target table size, and never writes to the target', async () => {
    const before = await sqlOn(
      db.url,
      `select (select count(*)::int from users) as users, (select json_agg(name order by id) from knex_migrations) as applied,
      (select count(*)::int from pg_indexes where tablename = 'users') as indexes`,
    );
    const readonlyUrl = db.url.replace('postgres@', 'ks_readonly@');
    const r = await runCli(['check', '--cwd', dir, '--connection', readonlyUrl, '--json']);
    const json = parseJson<CheckJson & { scope: string; target: string }>(r.stdout);
    expect(json.migrations.map((m) => m.name)).toEqual(['20240102000000_add_index_on_users_email.js']);
    expect(json.scope).toMatch(/1 pending migration of postgresql:\/\/ks_readonly@/);
    const f = json.findings.find((x) => x.rule === 'index-not-concurrent') as unknown as { table: { rows: number; bytes: number }; severity: string };
    expect(f.table.rows).toBe(2000);
    expect(f.table.bytes).toBeGreaterThan(0);
    // 2000 rows is under the large-table threshold: a warning, not an error.
    expect(f.severity).toBe('warning');
    const after = await sqlOn(
      db.url,
      `select (select count(*)::int from users) as users, (select json_agg(name order by id) from knex_migrations) as applied,
      (select count(*)::int from pg_indexes where tablename = 'users') as indexes`,
    );
    expect(after).toEqual(before);
  });
});
