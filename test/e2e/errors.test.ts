import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, makeProject, runCli, type CliResult } from '../helpers/cli.js';
import { describeServer, SERVER_URL, sqlOn, startPasswordCluster } from '../helpers/pg.js';

/** Every user error: one clear paragraph on stderr, the right exit code, no stack, no secret. */
function expectCleanError(result: CliResult, exitCode: number, message: RegExp, secrets: string[] = []): void {
  expect(result.code, result.stderr + result.stdout).toBe(exitCode);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?/);
  for (const secret of secrets) {
    expect(result.stderr).not.toContain(secret);
    expect(result.stdout).not.toContain(secret);
  }
}

const migration = `exports.up = (knex) => knex.schema.createTable('t', (t) => { t.increments(); });\nexports.down = (knex) => knex.schema.dropTable('t');\n`;

describe('CLI errors', () => {
  it('output piped into a reader that stops early (| head): no EPIPE stack, exit 0', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" --help | head -n 1`], { encoding: 'utf8' });
    expect(r.stdout).toMatch(/^Usage: knexsafe/);
    expect(r.stderr).toBe('');
    const status = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${CLI}" --help | head -c 10 >/dev/null`], { encoding: 'utf8' });
    expect(status.stderr).toBe('');
    expect(status.status).toBe(0);
  });

  it('knexfile not found: says where it looked (history commands need a database)', async () => {
    const dir = makeProject({ 'migrations/20240101000000_a.js': migration });
    const result = await runCli(['status', '--cwd', dir]);
    expectCleanError(result, 2, /No database to work on: there is no knexfile and DATABASE_URL is not set/);
    const explicit = await runCli(['status', '--cwd', dir, '--knexfile', 'config/knexfile.js']);
    expectCleanError(explicit, 2, /config\/knexfile\.js given with --knexfile does not exist/);
  });

  it('syntax error in the knexfile and in a migration: file:line', async () => {
    const bad = makeProject({ 'knexfile.js': `module.exports = {\n  client: 'pg',\n  connection: 'postgres://u:hunter2pw@127.0.0.1/x',,\n};\n` });
    expectCleanError(await runCli(['status', '--cwd', bad]), 2, /Syntax error in knexfile \S*knexfile\.js:3/);

    const dir = makeProject({
      'migrations/20240101000000_ok.js': migration,
      'migrations/20240102000000_broken.js': `exports.up = async (knex) => {\n  await knex.schema.createTable('x', (t) => { t.increments( });\n};\nexports.down = () => {};\n`,
    });
    const result = await runCli(['latest', '--cwd', dir, '--db', `embedded:${path.join(dir, '.db')}`]);
    expectCleanError(result, 2, /Syntax error in migration .*20240102000000_broken\.js:2/);
  });

  it('unknown environment lists the known ones', async () => {
    const dir = makeProject({ 'knexfile.js': `module.exports = { development: { client: 'pg' }, production: { client: 'pg' } };` });
    expectCleanError(await runCli(['status', '--cwd', dir, '--env', 'staging']), 2, /no environment "staging".*Known environments: development, production/s);
  });

  it('no connection in the chosen environment', async () => {
    const dir = makeProject({ 'knexfile.js': `module.exports = { development: { client: 'pg' } };`, 'migrations/.keep': '' });
    expectCleanError(await runCli(['latest', '--cwd', dir]), 2, /has no connection for environment "development"/);
  });

  it('migrations directory missing', async () => {
    const dir = makeProject({ 'knexfile.js': `module.exports = { client: 'pg', migrations: { directory: './db/migrations' } };` });
    expectCleanError(await runCli(['latest', '--cwd', dir, '--db', 'embedded']), 2, /migrations directory .*db\/migrations does not exist/);
  });

  it('client not PostgreSQL', async () => {
    const dir = makeProject({ 'knexfile.js': `module.exports = { client: 'mysql2', connection: { host: 'h', password: 's3cretpass' } };` });
    expectCleanError(await runCli(['status', '--cwd', dir]), 2, /PostgreSQL only.*"mysql2"/, ['s3cretpass']);
  });

  it('unreachable database: connection refused, password redacted', async () => {
    const dir = makeProject({ 'migrations/.keep': '' });
    const result = await runCli(['status', '--cwd', dir, '--connection', 'postgresql://app:topsecretpw@127.0.0.1:1/app']);
    expectCleanError(result, 1, /Cannot connect to postgresql:\/\/app:\*\*\*@127\.0\.0\.1:1\/app: nothing is listening there/, ['topsecretpw']);
    const json = await runCli(['status', '--cwd', dir, '--json'], { env: { DATABASE_URL: 'postgresql://app:topsecretpw@127.0.0.1:1/app' } });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: 'CONNECTION_FAILED' } });
    expect(json.stdout + json.stderr).not.toContain('topsecretpw');
  });

  it('unknown command or flag: suggests the closest, exit 2', async () => {
    const cmd = await runCli(['lates']);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toMatch(/unknown command 'lates'.*Did you mean latest\?/s);
    const flag = await runCli(['rollback', '--al']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/unknown option '--al'.*Did you mean --all\?/s);
  });

  it('--debug shows the stack', async () => {
    const dir = makeProject({ 'knexfile.js': `module.exports = { client: 'pg',, };` });
    const result = await runCli(['status', '--cwd', dir, '--debug']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\n\s+at /);
  });
});

describeServer('wrong password (a real server that demands one)', () => {
  let cluster: Awaited<ReturnType<typeof startPasswordCluster>>;
  beforeAll(async () => {
    cluster = await startPasswordCluster('right-horse-battery');
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('says authentication failed, never prints the password', async () => {
    const dir = makeProject({ 'migrations/20240101000000_a.js': migration });
    const wrong = await runCli(['status', '--cwd', dir, '--connection', cluster.url('wrong-staple-pw')]);
    expectCleanError(wrong, 1, /password authentication failed/, ['wrong-staple-pw']);
    const right = await runCli(['status', '--cwd', dir, '--connection', cluster.url('right-horse-battery')]);
    expect(right.code).toBe(1); // one pending migration
    expect(right.stdout).toMatch(/0 applied, 1 pending — postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1/);
    expect(right.stdout + right.stderr).not.toContain('right-horse-battery');
    expect(fs.existsSync(dir)).toBe(true);
  });
});

// A migration that rethrows in a detached promise: Node would end the process on the spot, with a
// bare stack and the shadow database left behind.
const detachedRejection = (nameFile: string) => `exports.up = async (knex) => {
  const { rows } = await knex.raw('select current_database() as name');
  require('fs').writeFileSync(${JSON.stringify(nameFile)}, rows[0].name);
  knex.raw('select 1').then(() => { throw new Error('boom in a detached then'); });
  await knex.raw('select pg_sleep(0.3)');
};
exports.down = () => {};
`;

// The failure of the migration it came from (src/util/exit-trap.ts), in the report.
const DETACHED = /promise the migration did not await was rejected: boom in a detached then/;

describe('a promise a migration leaves to reject', () => {
  it("ends check as that migration's failure, exit 1, also as JSON", async () => {
    const dir = makeProject({ 'knexfile.js': `module.exports = { client: 'pg' };`, 'migrations/20240101000000_a.js': detachedRejection('/dev/null') });
    const text = await runCli(['check', '--all', '--cwd', dir]);
    expect(text.code, text.stderr).toBe(1);
    expect(text.stdout).toMatch(DETACHED);
    expect(text.stdout + text.stderr).not.toMatch(/\n\s+at .+:\d+:\d+\)?/);
    const json = await runCli(['check', '--all', '--cwd', dir, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, migrations: [{ name: '20240101000000_a.js', failed: { message: expect.stringMatching(DETACHED) } }] });
  });
});

describeServer('a promise a migration leaves to reject, on a server shadow', () => {
  it('drops the shadow database before the process ends (check and verify)', async () => {
    for (const command of ['check', 'verify']) {
      const nameFile = path.join(makeProject({}), 'shadow-name');
      const dir = makeProject({ 'knexfile.js': `module.exports = { client: 'pg' };`, 'migrations/20240101000000_a.js': detachedRejection(nameFile) });
      const result = await runCli([command, ...(command === 'check' ? ['--all'] : []), '--cwd', dir, '--shadow-url', SERVER_URL]);
      expect(result.code, result.stderr).toBe(1);
      expect(result.stdout).toMatch(DETACHED);
      const shadow = fs.readFileSync(nameFile, 'utf8');
      expect(shadow).toMatch(/^knexsafe_shadow_/);
      expect(await sqlOn(SERVER_URL, 'select 1 from pg_database where datname = $1', [shadow])).toHaveLength(0);
    }
  });
});

describeServer('SIGTERM during a migration that never ends, on a server shadow', () => {
  it('drops the shadow database and exits 143, even with the migration still holding its connection', async () => {
    const nameFile = path.join(makeProject({}), 'shadow-name');
    const dir = makeProject({
      'knexfile.js': `module.exports = { client: 'pg' };`,
      'migrations/20240101000000_a.js': `exports.up = async (knex) => {
  const { rows } = await knex.raw('select current_database() as name');
  require('fs').writeFileSync(${JSON.stringify(nameFile)}, rows[0].name);
  await new Promise(() => {});
};
exports.down = () => {};
`,
    });
    const child = spawn(process.execPath, [CLI, 'check', '--all', '--cwd', dir, '--shadow-url', SERVER_URL], { env: { ...process.env, NO_COLOR: '1' } });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const until = Date.now() + 30_000;
    while (!fs.existsSync(nameFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const shadow = fs.readFileSync(nameFile, 'utf8');
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(await sqlOn(SERVER_URL, 'select 1 from pg_database where datname = $1', [shadow])).toHaveLength(0);
  });
});
