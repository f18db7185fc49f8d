import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli, type CliResult } from '../helpers/cli.js';
import { createTempDatabase, describeServer, SERVER_URL, sqlOn, type TempDatabase } from '../helpers/pg.js';

/**
 * A migration cannot make knexsafe lie (issue 17, point 4): process.exit, a signal to its own
 * process, an exception in a callback or a promise left to reject ends check, verify and latest
 * as a failure naming the migration, exit code 1, with the shadow databases dropped.
 */
const first = `exports.up = (knex) => knex.schema.createTable('a', (t) => { t.bigIncrements(); });\nexports.down = (knex) => knex.schema.dropTable('a');\n`;
const last = `exports.up = (knex) => knex.schema.createTable('c', (t) => { t.bigIncrements(); });\nexports.down = (knex) => knex.schema.dropTable('c');\n`;
const down = `exports.down = (knex) => knex.schema.dropTableIfExists('b');\n`;

const escapes: Record<string, { up: string; message: RegExp }> = {
  exit: {
    up: `exports.up = async (knex) => {\n  await knex.schema.createTable('b', (t) => { t.bigIncrements(); });\n  process.exit(0);\n};\n`,
    message: /called process\.exit\(0\)/,
  },
  kill: {
    up: `exports.up = async (knex) => {\n  await knex.schema.createTable('b', (t) => { t.bigIncrements(); });\n  process.kill(process.pid);\n};\n`,
    message: /sent SIGTERM to its own process/,
  },
  // An exit the migration catches and goes past: the process would have ended at the call.
  'caught exit': {
    up: `exports.up = async (knex) => {\n  try { process.exit(3); } catch {}\n  await knex.schema.createTable('b', (t) => { t.bigIncrements(); });\n};\n`,
    message: /called process\.exit\(3\)/,
  },
  'uncaught exception': {
    up: `exports.up = async (knex) => {\n  await knex.schema.createTable('b', (t) => { t.bigIncrements(); });\n  setTimeout(() => { throw new Error('boom in a timer'); }, 0);\n  await new Promise((resolve) => setTimeout(resolve, 50));\n};\n`,
    message: /exception was thrown outside the migration's awaited code .*boom in a timer/,
  },
  'rejection left behind': {
    up: `exports.up = async (knex) => {\n  await knex.schema.createTable('b', (t) => { t.bigIncrements(); });\n  Promise.reject(new Error('nobody awaits me'));\n  await new Promise((resolve) => setTimeout(resolve, 50));\n};\n`,
    message: /promise the migration did not await was rejected: nobody awaits me/,
  },
  // Its real failure (the SQL error) is what is reported; the stray rejection neither hides it nor crashes.
  'stray rejection after a real failure': {
    up: `exports.up = async (knex) => {\n  setTimeout(() => Promise.reject(new Error('stray after failure')), 20);\n  await knex.raw('select * from no_such_table');\n};\n`,
    message: /no_such_table/,
  },
};

function projectFor(kind: string, extra: Record<string, string> = {}): string {
  return makeProject({
    'migrations/20240101000000_a.js': first,
    'migrations/20240102000000_escape.js': escapes[kind]!.up + down,
    'migrations/20240103000000_c.js': last,
    ...extra,
  });
}

function expectReportedFailure(r: CliResult, kind: string): void {
  const text = r.stdout + r.stderr;
  expect(r.code, text).toBe(1);
  expect(text).toContain('20240102000000_escape.js');
  expect(text).toMatch(escapes[kind]!.message);
  // One paragraph, no crash dump.
  expect(text).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/);
  expect(text).not.toMatch(/stray after failure/);
}

describe('a migration that exits, kills or crashes (embedded shadow)', () => {
  for (const kind of Object.keys(escapes)) {
    it(`check and verify report ${kind} as the migration's failure`, async () => {
      const dir = projectFor(kind);
      const check = await runCli(['check', '--cwd', dir]);
      expectReportedFailure(check, kind);
      // Later migrations are not reported as checked after it: only named as not reached.
      expect(check.stdout).not.toMatch(/^\S*20240103000000_c\.js/m);
      expect(check.stdout).toMatch(/^Not checked: 1 later migration \(20240103000000_c\.js\): knex stops at the migration that failed/m);
      const verify = await runCli(['verify', '--cwd', dir]);
      expectReportedFailure(verify, kind);
    });
  }
});

async function leftoverShadows(pid: number | undefined): Promise<string[]> {
  const rows = await sqlOn<{ datname: string }>(SERVER_URL, `select datname from pg_database where datname like $1`, [`knexsafe_shadow_${pid}_%`]);
  return rows.map((r) => r.datname);
}

describeServer('a migration that exits, kills or crashes (server shadow and target)', () => {
  let temp: TempDatabase;
  beforeAll(async () => {
    temp = await createTempDatabase('ks_fid_exit');
  });
  afterAll(async () => {
    await temp?.drop();
  });

  for (const kind of ['exit', 'kill', 'uncaught exception', 'rejection left behind', 'stray rejection after a real failure']) {
    it(`${kind}: check and verify --shadow-url fail naming it and drop their database; latest fails and applies nothing`, async () => {
      const dir = projectFor(kind, { 'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(temp.url)} };\n` });
      for (const command of ['check', 'verify']) {
        const r = await runCli([command, ...(command === 'check' ? ['--all'] : []), '--cwd', dir, '--shadow-url', SERVER_URL]);
        expectReportedFailure(r, kind);
        expect(await leftoverShadows(r.pid)).toEqual([]);
      }
      // Without the check, the target's run itself meets the escape: a failure, the batch rolled back.
      const latest = await runCli(['latest', '--no-check', '--cwd', dir]);
      expectReportedFailure(latest, kind);
      const applied = await sqlOn<{ name: string }>(temp.url, 'select name from knex_migrations');
      expect(applied).toEqual([]);
      const lock = await sqlOn<{ is_locked: number }>(temp.url, 'select is_locked from knex_migrations_lock');
      expect(lock).toEqual([{ is_locked: 0 }]);
    });
  }
});
