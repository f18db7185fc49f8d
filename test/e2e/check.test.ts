import AjvDraft04 from 'ajv-draft-04';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
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

  it('text: the finding with its lock, why and knex fix; exit 1 on errors, 0 with --max-severity none', async () => {
    const r = await runCli(['check', '--cwd', dir]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/migrations\/20240102000000_add_index_on_users_email\.js/);
    expect(r.stdout).toMatch(/error\s+index-not-concurrent\s+Index users_email_index on users is built without CONCURRENTLY/);
    expect(r.stdout).toMatch(/SHARE lock on users — blocks writes, DDL \(reads continue\)/);
    expect(r.stdout).toMatch(/fix: Build the index with CREATE INDEX CONCURRENTLY/);
    expect(r.stdout).toMatch(/CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_index ON users \(email\)/);
    expect(r.stdout).toMatch(/exports\.config = \{ transaction: false \}/);
    const lenient = await runCli(['check', '--cwd', dir, '--max-severity', 'none']);
    expect(lenient.code).toBe(0);
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
    expect(json.findings.map((f) => [f.rule, f.line])).toEqual(expect.arrayContaining([['index-not-concurrent', 1], ['drop-column', 2]]));
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
    for (const args of [['check', '--json'], ['check', '--format', 'sarif'], ['verify', '--json']]) {
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
    const before = await sqlOn(db.url, `select (select count(*)::int from users) as users, (select json_agg(name order by id) from knex_migrations) as applied,
      (select count(*)::int from pg_indexes where tablename = 'users') as indexes`);
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
    const after = await sqlOn(db.url, `select (select count(*)::int from users) as users, (select json_agg(name order by id) from knex_migrations) as applied,
      (select count(*)::int from pg_indexes where tablename = 'users') as indexes`);
    expect(after).toEqual(before);
  });
});
