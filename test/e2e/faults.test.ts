import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scratchRoot } from '../../src/db/embedded.js';
import { CLI, makeProject } from '../helpers/cli.js';
import { createTempDatabase, describeServer, SERVER_URL, sqlOn, startPasswordCluster, type TempDatabase } from '../helpers/pg.js';

/**
 * Bad input and faults, as a new user meets them: broken knexfiles, broken and hostile migrations,
 * bad flags and paths, servers that refuse. Every case must end with the right exit code, a
 * one-paragraph message saying what is wrong, no stack trace, no "knexsafe bug", no password, and
 * nothing left behind: no PGlite folder of the process, no shadow database of the process, nothing
 * in its temp folder, no migration lock held.
 */

const PASSWORD = `Faults-Pw-${randomBytes(6).toString('hex')}`;
const SLOW = 300_000;
/** A case that runs longer than this hangs: the process is killed and the case fails. */
const HANG_MS = 180_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  pid: number;
  /** The child's own temp folder (TMPDIR): must be empty afterwards. */
  tmp: string;
}

/** Spawns the built CLI with its own TMPDIR, and kills it if it hangs. */
function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string>; input?: string }): Promise<Run> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ks-faults-tmp-'));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined, DATABASE_URL: undefined, NODE_ENV: undefined, TMPDIR: tmp, ...options.env })) {
    if (v !== undefined) env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd, env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), HANG_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === 'SIGKILL' ? -9 : -1), stdout, stderr, pid: child.pid!, tmp });
    });
    child.stdin.end(options.input ?? '');
  });
}

interface Context {
  dir: string;
  /** Refused: nothing listens on port 1. */
  refused: string;
  server?: ServerContext;
}

interface ServerContext {
  /** A scratch database on the shared server (its tables are dropped between cases that use it). */
  db: TempDatabase;
  /** A server that checks passwords, and its URL with a given password. */
  passwordUrl(password: string): string;
  /** A role on the shared server that may not create databases. */
  noCreateDb: string;
}

interface Case {
  name: string;
  files?: Record<string, string>;
  args: (ctx: Context) => string[];
  env?: (ctx: Context) => Record<string, string>;
  input?: string;
  code: 1 | 2;
  /** Matched against stderr (text) or the JSON error's message (with --json). */
  message: RegExp;
  hint?: RegExp;
  after?: (ctx: Context, run: Run) => void | Promise<void>;
}

const up = (body: string) => `exports.up = async (knex) => {\n${body}\n};\nexports.down = async () => {};\n`;
const createT = `exports.up = (knex) => knex.schema.createTable('t', (t) => { t.increments(); });\nexports.down = (knex) => knex.schema.dropTable('t');\n`;
const M1 = 'migrations/20240101000000_create_t.js';
const M2 = 'migrations/20240102000000_second.js';
const url = (port: number | string, db = 'app') => `postgresql://app:${PASSWORD}@127.0.0.1:${port}/${db}`;

const FILE_CASES: Case[] = [
  // Broken knexfiles
  {
    name: 'knexfile with a syntax error: file:line',
    files: { 'knexfile.js': `module.exports = {\n  client: 'pg',\n  connection: '${url(5432)}',,\n};\n` },
    args: () => ['status'],
    code: 2,
    message: /Syntax error in knexfile knexfile\.js:3/,
  },
  {
    name: 'knexfile that throws while loading',
    files: { 'knexfile.js': `throw new Error('config service unavailable');\n` },
    args: () => ['status'],
    code: 2,
    message: /Loading the knexfile knexfile\.js:1:\d+ failed: config service unavailable/,
  },
  {
    name: 'knexfile requiring a missing ./config.json: the file is missing, where it was looked for, the right line:column',
    files: { 'knexfile.js': `// settings\nconst cfg = require('./config.json');\nmodule.exports = { client: 'pg', connection: cfg.url };\n` },
    args: () => ['status'],
    code: 2,
    message: /The knexfile knexfile\.js:2:21 requires '\.\/config\.json', and config\.json does not exist/,
    hint: /Create the file, or fix the path/,
    after: (_ctx, run) => expect(run.stderr).not.toMatch(/npm install/),
  },
  {
    name: 'knexfile importing a package that is not installed',
    files: { 'knexfile.js': `const vault = require('@acme/vault-client/env');\nmodule.exports = { client: 'pg', connection: vault.url };\n` },
    args: () => ['status'],
    code: 2,
    message: /The knexfile knexfile\.js:1:23 requires '@acme\/vault-client\/env', which is not installed/,
    hint: /npm install @acme\/vault-client\b/,
  },
  {
    name: 'a missing file required by a module the knexfile loads: names that module',
    files: {
      'knexfile.js': `module.exports = require('./config/db.js');\n`,
      'config/db.js': `const secrets = require('./secrets.json');\nmodule.exports = { client: 'pg', connection: secrets.url };\n`,
    },
    args: () => ['status'],
    code: 2,
    message: /config\/db\.js:1:25 \(loaded by the knexfile knexfile\.js\) requires '\.\/secrets\.json', and config\/secrets\.json does not exist/,
  },
  {
    name: 'knexfile exporting a number',
    files: { 'knexfile.js': `module.exports = 42;\n` },
    args: () => ['status'],
    code: 2,
    message: /does not export a configuration object \(got number\)/,
  },
  {
    name: 'knexfile for MySQL, with a password in it',
    files: { 'knexfile.js': `module.exports = { client: 'mysql2', connection: { host: 'db', user: 'app', password: '${PASSWORD}' } };\n` },
    args: () => ['status'],
    code: 2,
    message: /PostgreSQL only.*"mysql2"/,
  },
  {
    name: 'unknown environment',
    files: { 'knexfile.js': `module.exports = { development: { client: 'pg' }, production: { client: 'pg', connection: '${url(5432)}' } };\n` },
    args: () => ['status', '--env', 'staging'],
    code: 2,
    message: /no environment "staging".*Known environments: development, production/s,
  },
  {
    name: '--knexfile that does not exist',
    args: () => ['status', '--knexfile', 'config/knexfile.js'],
    code: 2,
    message: /config\/knexfile\.js given with --knexfile does not exist/,
  },
  {
    name: 'knexfile.mjs whose top-level await rejects',
    files: { 'knexfile.mjs': `const url = await Promise.reject(new Error('vault sealed'));\nexport default { client: 'pg', connection: url };\n` },
    args: () => ['status'],
    code: 2,
    message: /Loading the knexfile knexfile\.mjs\S* failed: vault sealed/,
  },
  {
    name: 'knexfile calling process.exit(): stopped, and the exit code is not 0',
    files: { 'knexfile.js': `if (!process.env.DB_URL) process.exit(3);\nmodule.exports = { client: 'pg' };\n` },
    args: () => ['status'],
    code: 1,
    message: /called process\.exit\(3\)/,
  },
  // Bad flags and paths
  {
    name: 'unknown command: suggests the closest',
    args: () => ['lates'],
    code: 2,
    message: /unknown command 'lates'.*latest/s,
  },
  {
    name: 'unknown flag',
    args: () => ['check', '--fromat', 'json'],
    code: 2,
    message: /unknown option '--fromat'/,
  },
  {
    name: '--migrations-dir pointing at a file',
    files: { 'notes.txt': 'x' },
    args: () => ['check', '--migrations-dir', 'notes.txt'],
    code: 2,
    message: /The migrations directory \S*notes\.txt is a file, not a folder/,
  },
  {
    name: '--migrations-dir that does not exist',
    args: () => ['check', '--migrations-dir', 'db/migrations'],
    code: 2,
    message: /The migrations directory \S*db\/migrations does not exist/,
  },
  {
    name: '--cwd that does not exist',
    args: (ctx) => ['check', '--cwd', path.join(ctx.dir, 'nope')],
    code: 2,
    message: /The working directory \S*nope does not exist/,
  },
  {
    name: '--db embedded:/dev/null/x (a path under a file)',
    files: { [M1]: createT },
    args: () => ['status', '--db', 'embedded:/dev/null/x'],
    code: 2,
    message: /Cannot create the embedded database folder \/dev\/null\/x: \/dev\/null is a file, not a folder/,
  },
  {
    name: '--db embedded:/proc/x answers at once (Node’s recursive mkdir spun there forever)',
    files: { [M1]: createT },
    args: () => ['status', '--db', 'embedded:/proc/x'],
    code: 2,
    message: /Cannot create the embedded database folder \/proc\/x: \/proc does not allow new folders/,
  },
  {
    name: '--db embedded:<a folder of the user’s files>: no database is created among them',
    files: { [M1]: createT },
    args: () => ['status', '--db', 'embedded:migrations'],
    code: 2,
    message: /holds other files and no embedded database/,
    after: (ctx) => expect(fs.readdirSync(path.join(ctx.dir, 'migrations'))).toEqual(['20240101000000_create_t.js']),
  },
  {
    name: '--db with something else',
    args: () => ['status', '--db', 'sqlite:dev.db'],
    code: 2,
    message: /--db takes "embedded", "embedded:<dir>" or a postgres:\/\/ URL, not "sqlite:dev\.db"/,
  },
  {
    name: '--format that does not exist',
    args: () => ['check', '--format', 'yaml'],
    code: 2,
    message: /argument 'yaml' is invalid/,
  },
  {
    name: 'check of a .sql file that does not exist',
    args: () => ['check', 'missing.sql'],
    code: 2,
    message: /missing\.sql does not exist/,
  },
  {
    name: 'check of a folder named like a .sql file',
    files: { 'dump.sql/readme': 'x' },
    args: () => ['check', 'dump.sql'],
    code: 2,
    message: /dump\.sql is a folder/,
  },
  {
    name: 'check of a .sql file with a syntax error: file:line:column and the line',
    files: { 'db/change.sql': `create table a (id int);\n\nalter table a add column b int;\nselect from where;\n` },
    args: () => ['check', 'db/change.sql'],
    code: 2,
    message: /db\/change\.sql:4:13 is not valid SQL: syntax error at or near "where" — select from where;/,
  },
  {
    name: 'check of SQL on stdin with a syntax error: <stdin>:line:column',
    args: () => ['check', '-'],
    input: `select 1;\ncreate index on t (;\n`,
    code: 2,
    message: /<stdin>:2:20 is not valid SQL: syntax error at or near ";"/,
  },
  {
    name: 'backup restore of a backup whose manifest.json is damaged',
    files: { 'bk/manifest.json': '{"format": "knexsafe-backup/1", "entr', 'bk/public.t.csv': 'id\n1\n' },
    args: (ctx) => ['backup', 'restore', 'bk', '--connection', url(ctx.refused)],
    code: 1,
    message: /bk\/manifest\.json is damaged, so knexsafe cannot tell what the backup holds/,
    hint: /restore\.sql/,
  },
  {
    name: 'backup restore of a folder that is not a backup',
    files: { 'bk/readme': 'x' },
    args: (ctx) => ['backup', 'restore', 'bk', '--connection', url(ctx.refused)],
    code: 2,
    message: /bk is not a knexsafe backup: it has no manifest\.json/,
  },
  {
    name: '--shadow-url that is not a URL (with a password in it)',
    files: { [M1]: createT },
    args: () => ['check', '--shadow-url', `mysql://app:${PASSWORD}@db/x`],
    code: 2,
    message: /--shadow-url must be a postgres:\/\/ URL/,
  },
  {
    name: 'make with a path in the name',
    files: { [M1]: createT },
    args: () => ['make', '../add_email_to_users'],
    code: 2,
    message: /contains a path separator/,
  },
  {
    name: 'make into a migrations folder under a file',
    files: { 'notes.txt': 'x' },
    args: () => ['make', 'add_email_to_users', '--migrations-dir', 'notes.txt/migrations'],
    code: 2,
    message: /notes\.txt is a file, not a folder/,
  },
  // Broken and hostile migrations, on the embedded shadow
  {
    name: 'migration with a syntax error: file:line, nothing applied',
    files: { [M1]: createT, [M2]: `exports.up = async (knex) => {\n  await knex.schema.createTable('x', (t) => { t.increments( });\n};\nexports.down = () => {};\n` },
    args: (ctx) => ['latest', '--db', `embedded:${path.join(ctx.dir, '.db')}`],
    code: 2,
    message: /Syntax error in migration \S*20240102000000_second\.js:2/,
  },
  {
    name: 'migration without an up function',
    files: { [M1]: `exports.down = async () => {};\n` },
    args: () => ['check'],
    code: 1,
    message: /no up function|does not export an up function/,
  },
  {
    name: 'migration that throws',
    files: { [M1]: up(`  throw new Error('refusing to run on Fridays');`) },
    args: () => ['check'],
    code: 1,
    message: /refusing to run on Fridays/,
  },
  {
    name: 'migration that throws a string',
    files: { [M1]: up(`  throw 'plain string failure';`) },
    args: () => ['check'],
    code: 1,
    message: /plain string failure/,
  },
  {
    name: 'migration with invalid SQL in knex.raw',
    files: { [M1]: up(`  await knex.raw('selec 1');`) },
    args: () => ['check'],
    code: 1,
    message: /syntax error at or near "selec"/,
  },
  {
    name: 'migration leaving a rejected promise nobody awaits',
    files: { [M1]: up(`  knex.raw('select 1').then(() => { throw new Error('detached boom'); });\n  await new Promise((r) => setTimeout(r, 300));`) },
    args: () => ['check'],
    code: 1,
    message: /rejected[:,].*detached boom/,
  },
  {
    name: 'migration calling process.exit(0) (check used to exit 0 with no report)',
    files: { [M1]: up(`  await knex.schema.createTable('x', (t) => { t.increments(); });\n  process.exit(0);`) },
    args: () => ['check'],
    code: 1,
    message: /20240101000000_create_t\.js[\s\S]*called process\.exit\(0\)/,
  },
  {
    name: 'migration calling process.exit() from a timer',
    files: { [M1]: up(`  setTimeout(() => process.exit(0), 10);\n  await new Promise((r) => setTimeout(r, 500));`) },
    args: () => ['check'],
    code: 1,
    message: /called process\.exit\(0\)/,
  },
  {
    name: 'migration requiring a helper that does not exist',
    files: { [M1]: `const helper = require('./lib/helper');\n${createT}` },
    args: () => ['check'],
    code: 1,
    message: /20240101000000_create_t\.js:1:\d+ requires '\.\/lib\/helper', and \S*migrations\/lib\/helper does not exist/,
  },
  {
    name: 'latest on an embedded database: the second migration fails, the batch is rolled back and said so',
    files: { [M1]: createT, [M2]: up(`  await knex.raw('alter table t add column c int not null default 0');\n  await knex.raw('select * from no_such_table');`) },
    args: (ctx) => ['latest', '--no-check', '--db', `embedded:${path.join(ctx.dir, '.db')}`],
    code: 1,
    message: /20240102000000_second\.js.*relation "no_such_table" does not exist/s,
  },
  {
    name: 'verify of a migration whose down throws',
    files: { [M1]: `exports.up = (knex) => knex.schema.createTable('t', (t) => { t.increments(); });\nexports.down = async () => { throw new Error('down is not written yet'); };\n` },
    args: () => ['verify'],
    code: 1,
    message: /down is not written yet/,
  },
];

const SERVER_CASES: Case[] = [
  {
    name: '--connection to a port with nothing listening: refused, the hint names --connection',
    files: { [M1]: createT },
    args: (ctx) => ['status', '--connection', url(ctx.refused)],
    code: 1,
    message: /Cannot connect to postgresql:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/app: nothing is listening there/,
    hint: /fix host\/port in --connection/,
  },
  {
    name: 'DATABASE_URL refused: the hint names DATABASE_URL',
    files: { [M1]: createT },
    args: () => ['status'],
    env: (ctx) => ({ DATABASE_URL: url(ctx.refused) }),
    code: 1,
    message: /nothing is listening there/,
    hint: /in DATABASE_URL/,
  },
  {
    name: 'knexfile connection object refused: the hint names the knexfile',
    files: { [M1]: createT, 'knexfile.js': `module.exports = { client: 'pg', connection: { host: '127.0.0.1', port: 1, user: 'app', password: '${PASSWORD}', database: 'app' } };\n` },
    args: () => ['status', '--json'],
    code: 1,
    message: /nothing is listening there/,
    hint: /the knexfile's connection \(knexfile\.js, environment development\)/,
  },
  {
    name: '--shadow-url refused: the hint names --shadow-url, not the knexfile',
    files: { [M1]: createT },
    args: (ctx) => ['check', '--shadow-url', url(ctx.refused, 'postgres')],
    code: 1,
    message: /Cannot connect to the shadow server postgresql:\/\/app:\*\*\*@127\.0\.0\.1:\d+\/postgres: nothing is listening there/,
    hint: /--shadow-url/,
    after: (_ctx, run) => expect(run.stderr).not.toMatch(/knexfile/),
  },
  {
    name: 'a host name that does not resolve',
    files: { [M1]: createT },
    args: () => ['status', '--connection', `postgresql://app:${PASSWORD}@db.knexsafe-faults.invalid:5432/app`],
    code: 1,
    message: /the host name does not resolve/,
  },
  {
    name: 'a database that does not exist',
    files: { [M1]: createT },
    args: () => ['status', '--connection', SERVER_URL.replace(/\/[^/]*$/, `/ks_faults_missing_${randomBytes(3).toString('hex')}`)],
    code: 1,
    message: /the database does not exist/,
  },
  {
    name: 'wrong password (a server that checks it): status',
    files: { [M1]: createT },
    args: (ctx) => ['status', '--connection', ctx.server!.passwordUrl(PASSWORD)],
    code: 1,
    message: /password authentication failed/,
    hint: /user and password in --connection \(they are not printed\)/,
  },
  {
    name: 'wrong password: doctor, as JSON',
    files: { [M1]: createT },
    args: (ctx) => ['doctor', '--json', '--connection', ctx.server!.passwordUrl(PASSWORD)],
    code: 1,
    message: /password authentication failed/,
  },
  {
    name: 'wrong password in --shadow-url: the hint names --shadow-url',
    files: { [M1]: createT },
    args: (ctx) => ['check', '--shadow-url', ctx.server!.passwordUrl(PASSWORD)],
    code: 1,
    message: /Cannot connect to the shadow server .*password authentication failed/,
    hint: /user and password in --shadow-url/,
  },
  {
    name: '--shadow-url for a user who may not create databases',
    files: { [M1]: createT },
    args: (ctx) => ['check', '--shadow-url', SERVER_URL.replace(/\/\/[^@/]*@/, `//${ctx.server!.noCreateDb}:${PASSWORD}@`)],
    code: 2,
    message: /does not let this user create databases/,
  },
  {
    name: 'latest on the server: the second migration fails; nothing applied, lock released',
    files: { [M1]: createT, [M2]: up(`  await knex.schema.createTable('u', (t) => { t.increments(); });\n  throw new Error('second migration fails');`) },
    args: (ctx) => ['latest', '--no-check', '--connection', ctx.server!.db.url],
    code: 1,
    message: /second migration fails/,
    after: async (ctx) => {
      const tables = await sqlOn<{ name: string }>(
        ctx.server!.db.url,
        `select table_name as name from information_schema.tables where table_schema = 'public' and table_name in ('t', 'u') order by 1`,
      );
      expect(tables).toEqual([]);
      expect(await sqlOn(ctx.server!.db.url, 'select is_locked from knex_migrations_lock')).toEqual([{ is_locked: 0 }]);
      expect(await sqlOn(ctx.server!.db.url, 'select count(*)::int as n from knex_migrations')).toEqual([{ n: 0 }]);
    },
  },
  {
    name: 'check on a server shadow: a migration that throws; the shadow database is dropped',
    files: { [M1]: up(`  await knex.schema.createTable('x', (t) => { t.increments(); });\n  throw new Error('throws on the server shadow');`) },
    args: () => ['check', '--shadow-url', SERVER_URL],
    code: 1,
    message: /throws on the server shadow/,
  },
  {
    name: 'check on a server shadow: process.exit() in a migration; the shadow database is dropped',
    files: { [M1]: up(`  await knex.schema.createTable('x', (t) => { t.increments(); });\n  process.exit(7);`) },
    args: () => ['check', '--shadow-url', SERVER_URL],
    code: 1,
    message: /called process\.exit\(7\)/,
  },
  {
    name: 'verify on a server shadow: a rejected promise nobody awaits; the shadow database is dropped',
    files: { [M1]: up(`  knex.raw('select 1').then(() => { throw new Error('late failure'); });\n  await knex.raw('select pg_sleep(0.3)');`) },
    args: () => ['verify', '--shadow-url', SERVER_URL],
    code: 1,
    message: /rejected[:,].*late failure/,
  },
];

function jsonError(run: Run): { message: string; hint?: string } | undefined {
  try {
    return (JSON.parse(run.stdout) as { error?: { message: string; hint?: string } }).error;
  } catch {
    return undefined;
  }
}

async function runCase(c: Case, ctx: Omit<Context, 'dir'>): Promise<void> {
  const dir = makeProject(c.files ?? {}, 'ks-faults-');
  const full: Context = { ...ctx, dir };
  const run = await spawnCli(c.args(full), { cwd: dir, ...(c.env ? { env: c.env(full) } : {}), ...(c.input !== undefined ? { input: c.input } : {}) });
  const all = `${run.stdout}\n${run.stderr}`;
  const shown = `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
  expect(run.code, shown).toBe(c.code);
  const json = c.args(full).includes('--json') ? jsonError(run) : undefined;
  if (c.args(full).includes('--json')) expect(json, shown).toBeDefined();
  // A failure report (check's findings) is on stdout; an error on stderr.
  expect(json ? json.message : all, shown).toMatch(c.message);
  if (c.hint) expect(json ? (json.hint ?? '') : run.stderr, shown).toMatch(c.hint);
  // No stack trace, no blame on knexsafe, no password.
  expect(all, shown).not.toMatch(/\n\s+at .+:\d+:\d+\)?/);
  expect(all, shown).not.toMatch(/knexsafe bug/);
  expect(all, shown).not.toContain(PASSWORD);
  // Nothing left behind: the process's temp folder is empty, its PGlite folders and shadow databases are gone.
  expect(fs.readdirSync(run.tmp), `${run.tmp} after: ${shown}`).toEqual([]);
  fs.rmSync(run.tmp, { recursive: true, force: true });
  const root = scratchRoot();
  const leftovers = fs.existsSync(root) ? fs.readdirSync(root).filter((n) => n.startsWith(`pglite-${run.pid}-`)) : [];
  expect(leftovers, shown).toEqual([]);
  if (ctx.server) {
    const shadows = await sqlOn(SERVER_URL, `select datname from pg_database where datname like $1`, [`knexsafe\\_shadow\\_${run.pid}\\_%`]);
    expect(shadows, shown).toEqual([]);
  }
  await c.after?.(full, run);
  fs.rmSync(dir, { recursive: true, force: true });
}

describe.concurrent('faults: bad input never ends in a stack trace, a secret or a leftover', () => {
  it('covers at least 40 cases in all', () => {
    expect(FILE_CASES.length + SERVER_CASES.length).toBeGreaterThanOrEqual(40);
  });
  for (const c of FILE_CASES) it(c.name, () => runCase(c, { refused: '1' }), SLOW);
});

describeServer('faults: servers that refuse, fail or are not there', () => {
  let cluster: Awaited<ReturnType<typeof startPasswordCluster>> | undefined;
  let server: ServerContext;
  const noCreateDb = `ks_faults_nocdb_${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    // The shared server trusts 127.0.0.1, so a refused password needs a server of its own.
    cluster = await startPasswordCluster(`right-${randomBytes(6).toString('hex')}`);
    await sqlOn(SERVER_URL, `create role "${noCreateDb}" login nocreatedb`);
    server = { db: await createTempDatabase('ks_faults_sec'), passwordUrl: (pw) => cluster!.url(pw), noCreateDb };
  }, SLOW);
  afterAll(async () => {
    await server?.db.drop();
    await sqlOn(SERVER_URL, `drop role if exists "${noCreateDb}"`);
    await cluster?.stop();
  });

  describe.concurrent('cases', () => {
    for (const c of SERVER_CASES) it(c.name, () => runCase(c, { refused: '1', server }), SLOW);
  });
});
