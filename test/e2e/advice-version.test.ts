import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, sqlOn, type TempDatabase } from '../helpers/pg.js';

// Issue 17 point 6: the advice is for the target's PostgreSQL version, also when check does not ask
// the target what is pending (--all, migration names), and the summary says where it came from.

const project = {
  'knexfile.js': `module.exports = { client: 'pg', connection: process.env.DATABASE_URL, migrations: { directory: './migrations' } };\n`,
  'migrations/20240101000000_events.js': `exports.up = (knex) => knex.raw(\`create table events (id bigint not null, at date not null) partition by range (at);
create table events_2023 partition of events for values from ('2023-01-01') to ('2024-01-01')\`);
exports.down = (knex) => knex.raw('drop table events');\n`,
  'migrations/20240102000000_detach.js': `exports.up = (knex) => knex.raw('alter table events detach partition events_2023');
exports.down = (knex) => knex.raw(\`alter table events attach partition events_2023 for values from ('2023-01-01') to ('2024-01-01')\`);\n`,
};

interface CheckJson {
  pgVersion: number;
  pgVersionSource: { from: string; database?: string; reason?: string };
  target: string | null;
  findings: { rule: string; message: string }[];
  warnings: string[];
}

/** The detach finding: on 14+ it says CONCURRENTLY is missing; on 13 it cannot (there is none). */
function detachMessage(json: CheckJson): string {
  const f = json.findings.find((x) => x.rule === 'detach-partition-not-concurrent');
  expect(f, JSON.stringify(json.findings.map((x) => x.rule))).toBeDefined();
  return f!.message;
}

describeServer('check gives advice for the target server’s version', () => {
  let db: TempDatabase;
  let dir: string;
  let serverMajor: number;
  const closedPort = 'postgresql://postgres@127.0.0.1:1/advice_version';
  beforeAll(async () => {
    db = await createTempDatabase('advice_version');
    dir = makeProject(project, 'ks-advice-version-');
    const [row] = await sqlOn<{ v: number }>(db.url, `select current_setting('server_version_num')::int / 10000 as v`);
    serverMajor = row!.v;
    // The test server is 15; what follows needs a target where DETACH … CONCURRENTLY exists.
    expect(serverMajor).toBeGreaterThanOrEqual(14);
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('check --all reads the target’s version (read-only) and says so, in JSON and text', async () => {
    const r = await runCli(['check', '--all', '--cwd', dir, '--json'], { env: { DATABASE_URL: db.url } });
    const json = parseJson<CheckJson>(r.stdout);
    expect(json.pgVersion).toBe(serverMajor);
    expect(json.pgVersionSource).toEqual({ from: 'target', database: expect.stringContaining(db.name) as unknown as string });
    expect(json.target).toBeNull();
    expect(json.warnings).toEqual([]);
    expect(detachMessage(json)).toMatch(/without CONCURRENTLY/);

    const text = await runCli(['check', '--all', '--cwd', dir], { env: { DATABASE_URL: db.url } });
    expect(text.stdout).toContain(`PostgreSQL ${serverMajor} advice (the target's)`);
    expect(text.code).toBe(r.code);
    // Only the version was read: nothing was created on the target.
    expect(await sqlOn(db.url, `select relname from pg_class where relnamespace = 'public'::regnamespace`)).toEqual([]);
  });

  it('check of named migrations and the default pending check read it too', async () => {
    const named = parseJson<CheckJson>((await runCli(['check', '20240101000000_events.js', '20240102000000_detach.js', '--cwd', dir, '--json'], { env: { DATABASE_URL: db.url } })).stdout);
    expect([named.pgVersion, named.pgVersionSource.from]).toEqual([serverMajor, 'target']);
    expect(detachMessage(named)).toMatch(/without CONCURRENTLY/);

    const pending = await runCli(['check', '--cwd', dir], { env: { DATABASE_URL: db.url } });
    expect(pending.stdout).toMatch(/2 pending migrations of .*PostgreSQL \d+ advice \(the target's\)/);
    expect(pending.stdout).toContain(`PostgreSQL ${serverMajor} advice (the target's)`);
  });

  it('an unreachable target falls back to 13 with one line, and the exit code does not change', async () => {
    const baseline = await runCli(['check', '--all', '--cwd', dir, '--pg-version', '13', '--json']);
    const r = await runCli(['check', '--all', '--cwd', dir, '--json'], { env: { DATABASE_URL: closedPort } });
    const json = parseJson<CheckJson>(r.stdout);
    expect(r.code).toBe(baseline.code);
    expect(json.pgVersion).toBe(13);
    expect(json.pgVersionSource).toEqual({ from: 'default', reason: 'target-unreachable' });
    expect(json.warnings).toHaveLength(1);
    expect(json.warnings[0]).toMatch(
      /^Could not read the target's PostgreSQL version \(Cannot connect to postgresql:\/\/postgres@127\.0\.0\.1:1\/advice_version: nothing is listening there.*\); advice is for PostgreSQL 13, pass --pg-version to choose\.$/,
    );
    expect(detachMessage(json)).not.toMatch(/CONCURRENTLY/);

    const text = await runCli(['check', '--all', '--cwd', dir], { env: { DATABASE_URL: closedPort } });
    expect(text.code).toBe(baseline.code);
    expect(text.stdout).toContain('PostgreSQL 13 advice (default: target unreachable; pass --pg-version)');
    expect(`${text.stdout}${text.stderr}`.split('\n').filter((l) => /Could not read|Cannot connect/.test(l))).toHaveLength(1);
  });

  it('--pg-version wins over the target, without a word about it; no target at all says so quietly', async () => {
    const r = await runCli(['check', '--all', '--cwd', dir, '--pg-version', '13', '--json'], { env: { DATABASE_URL: db.url } });
    const json = parseJson<CheckJson>(r.stdout);
    expect([json.pgVersion, json.pgVersionSource, json.warnings]).toEqual([13, { from: 'option' }, []]);
    expect(detachMessage(json)).not.toMatch(/CONCURRENTLY/);
    // --pg-version also wins over an unreachable target: nothing is tried, nothing is said.
    const unreachable = await runCli(['check', '--all', '--cwd', dir, '--pg-version', '16'], { env: { DATABASE_URL: closedPort } });
    expect(unreachable.stdout).toContain('PostgreSQL 16 advice (--pg-version)');
    expect(`${unreachable.stdout}${unreachable.stderr}`).not.toMatch(/Could not read|Cannot connect/);

    const none = await runCli(['check', '--all', '--cwd', dir]);
    expect(none.stdout).toContain('PostgreSQL 13 advice (default: no target; pass --pg-version)');
    expect(`${none.stdout}${none.stderr}`).not.toMatch(/warning:/);
  });
});
