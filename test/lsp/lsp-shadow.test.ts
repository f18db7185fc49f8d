import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { makeProject, runCli } from '../helpers/cli.js';
import { describeServer, SERVER_URL, sqlOn, tempDatabases, type TempDatabase } from '../helpers/pg.js';
import { startLsp, USERS } from './client.js';

/**
 * `knexsafe lsp --stdio` with its shadow on the PostgreSQL server, as `check --shadow-url` runs it:
 * from the flag and from the knexfile's knexsafe.shadowUrl; the target the knexfile names is never
 * touched, and the shadow databases are gone when the server is.
 */

vi.setConfig({ testTimeout: 200_000, hookTimeout: 60_000 });

const INDEX = `exports.up = async function (knex) {
  await knex.raw("SET LOCAL lock_timeout = '5s'");
  await knex.schema.alterTable('users', (t) => {
    t.index('email');
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('users', (t) => {
    t.dropIndex('email');
  });
};
`;
const NAME = '20240102000000_index_email.js';

describeServer('knexsafe lsp on a server shadow', () => {
  const newDatabase = tempDatabases('ks_lsp_target');
  let target: TempDatabase;
  let project: string;

  const knexfile = (extra: string) => `module.exports = { client: 'pg', connection: ${JSON.stringify(target.url)}, migrations: { directory: './migrations' }${extra} };\n`;

  beforeAll(async () => {
    target = await newDatabase();
    project = makeProject({ 'knexfile.js': knexfile(''), 'migrations/20240101000000_create_users.js': USERS, [`migrations/${NAME}`]: INDEX });
  });

  afterAll(() => {
    if (project) fs.rmSync(project, { recursive: true, force: true });
  });

  const targetTables = () =>
    sqlOn<{ n: string }>(
      target.url,
      "select count(*)::text as n from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')",
    );
  const shadowsOf = (pid: number) => sqlOn<{ datname: string }>(SERVER_URL, 'select datname from pg_database where datname like $1', [`knexsafe_shadow_${pid}_%`]);

  const analyseOnce = async (args: string[]) => {
    const lsp = await startLsp({ cwd: project, args });
    const uri = pathToFileURL(path.join(project, 'migrations', NAME)).href;
    await lsp.open(uri, INDEX, 1);
    const diagnostics = await lsp.diagnosticsFor(uri, 1);
    const log = lsp.logs.find((l) => l.includes(`${NAME} version 1 analysed`))!;
    const pid = lsp.child.pid!;
    expect(await lsp.stop()).toBe(0);
    return { diagnostics, log, pid };
  };

  it('runs the chain on a database of its own on the --shadow-url server, and never touches the target', async () => {
    const before = await targetTables();
    const { diagnostics, log, pid } = await analyseOnce(['--shadow-url', SERVER_URL, 'lsp', '--stdio']);
    // The earlier migration ran there (no stored states on a server: the chain before the file runs each time).
    expect(log).toMatch(new RegExp(`0 earlier migrations from the cache, 1 run; shadow \\(shadow database knexsafe_shadow_${pid}_[0-9a-f]+ on [^)]*127\\.0\\.0\\.1`));
    const index = diagnostics.find((d) => d.code === 'index-not-concurrent');
    expect(index, JSON.stringify(diagnostics)).toBeDefined();
    expect(index!.severity).toBe(1);
    expect(diagnostics.some((d) => d.code === 'migration-failed' || d.code === 'shadow-unavailable')).toBe(false);
    // The target the knexfile names: as it was (no users table, no knex_migrations).
    expect(await targetTables()).toEqual(before);
    // The shadow databases went with the server.
    expect(await shadowsOf(pid)).toEqual([]);
  });

  it('takes the server from the knexfile’s knexsafe.shadowUrl too', async () => {
    fs.writeFileSync(path.join(project, 'knexfile.js'), knexfile(`, knexsafe: { shadowUrl: ${JSON.stringify(SERVER_URL)} }`));
    const before = await targetTables();
    const { diagnostics, log, pid } = await analyseOnce(['lsp', '--stdio']);
    expect(log).toMatch(new RegExp(`shadow \\(shadow database knexsafe_shadow_${pid}_`));
    expect(
      diagnostics.some((d) => d.code === 'index-not-concurrent'),
      JSON.stringify(diagnostics),
    ).toBe(true);
    expect(await targetTables()).toEqual(before);
    expect(await shadowsOf(pid)).toEqual([]);
  });

  it('refuses a --shadow-url that is not a postgres:// URL when it starts, not on every file', async () => {
    const r = await runCli(['--shadow-url', 'mysql://db/x', 'lsp', '--stdio'], { cwd: project });
    // As check says it: exit 2, one paragraph.
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--shadow-url must be a postgres:\/\/ URL/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
