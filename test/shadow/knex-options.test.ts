import { createRequire } from 'node:module';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CaptureSession } from '../../src/capture/session.js';
import { resolveProject } from '../../src/config/resolve.js';
import { createShadow } from '../../src/shadow/shadow.js';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, SERVER_URL, type TempDatabase } from '../helpers/pg.js';

/**
 * Every knexfile option that changes SQL or behaviour, on both shadows: the statements a migration
 * sends there (and what they leave behind) must be what plain knex sends to the server.
 */

interface Sent {
  sql: string;
  bindings: unknown[];
}

/** `$1` and `?` are the same placeholder; dates differ run to run. */
function normalize(list: Sent[]): string[] {
  return list.map((s) => `${s.sql.replace(/\$\d+/g, '?').trim()} ${JSON.stringify(s.bindings.map((b) => (b instanceof Date ? 'DATE' : b)))}`);
}

const BOOKKEEPING = /knex_migrations|history|information_schema|^\s*(begin|commit|rollback)\b|pg_catalog\.pg_|current_schema\(\)/i;

interface Outcome {
  /** What the migrations sent (knex's own bookkeeping left out). */
  sent: string[];
  /** Migrations knex's Migrator ran, in order. */
  ran: string[];
  /** The answer to the probe query after the run. */
  probe: unknown[];
  error?: string;
}

/** Plain knex, as `npx knex migrate:latest` runs it, on a fresh database of the server. */
async function plainKnex(dir: string, url: string, probe: string): Promise<Outcome> {
  process.env.KNEXSAFE_OPTIONS_TEST_URL = url;
  const require = createRequire(path.join(dir, 'knexfile.js'));
  const config = require('./knexfile.js') as Knex.Config;
  // knex's CLI runs from the knexfile's folder: relative directories are read from there.
  const m = config.migrations ?? {};
  const directory = m.migrationSource ? m.directory : [m.directory ?? './migrations'].flat().map((d) => path.resolve(dir, d));
  const knex = knexFactory({ ...config, migrations: { ...m, ...(directory ? { directory } : {}) } });
  const sent: Sent[] = [];
  let migrating = true;
  knex.on('query', (q: { sql: string; bindings?: unknown[] }) => {
    if (migrating && !BOOKKEEPING.test(q.sql)) sent.push({ sql: q.sql, bindings: q.bindings ?? [] });
  });
  try {
    let ran: string[] = [];
    let error: string | undefined;
    try {
      ran = ((await knex.migrate.latest()) as [number, string[]])[1].map((f) => path.basename(f));
    } catch (e) {
      error = (e as { code?: string }).code ?? String(e);
    }
    migrating = false;
    const rows = ((await knex.raw(probe)) as { rows: unknown[] }).rows;
    return { sent: normalize(sent), ran, probe: rows, ...(error ? { error } : {}) };
  } finally {
    await knex.destroy();
  }
}

/** The same project on a shadow, through knexsafe's capture (knex's Migrator, one batch). */
async function onShadow(dir: string, shadowUrl: string | undefined, probe: string): Promise<Outcome & { message?: string }> {
  process.env.KNEXSAFE_OPTIONS_TEST_URL = 'postgresql://nobody:secret@127.0.0.1:1/not_the_target';
  const project = await resolveProject({ cwd: dir });
  const session = await CaptureSession.open({ project, ...(shadowUrl ? { shadowUrl } : {}) });
  try {
    const outcome = await session.latest();
    const sent = outcome.traces.flatMap((t) => t.statements.filter((s) => !s.control && !BOOKKEEPING.test(s.sql)).map((s) => ({ sql: s.sql, bindings: s.bindings })));
    const rows = ((await session.knex.raw(probe)) as { rows: unknown[] }).rows;
    return {
      sent: normalize(sent),
      ran: outcome.ran.map((f) => path.basename(f)),
      probe: rows,
      ...(outcome.error ? { error: outcome.error.sqlState ?? outcome.error.message, message: outcome.error.message } : {}),
    };
  } finally {
    await session.close();
  }
}

const SHADOWS = [
  ['embedded', undefined],
  ['server', SERVER_URL],
] as const;

let temps: TempDatabase[] = [];
beforeAll(() => {
  temps = [];
});
afterAll(async () => {
  for (const t of temps) await t.drop();
  delete process.env.KNEXSAFE_OPTIONS_TEST_URL;
});

/** `serverSetup`: what the user's database has before any migration (a schema the DBA made). */
async function compare(files: Record<string, string>, probe: string, serverSetup?: string): Promise<Outcome & { messages: string[] }> {
  const dir = makeProject(files, 'ks-knex-options-');
  const temp = await createTempDatabase('fid_options');
  temps.push(temp);
  if (serverSetup) {
    const admin = knexFactory({ client: 'pg', connection: temp.url });
    await admin.raw(serverSetup).finally(() => admin.destroy());
  }
  const plain = await plainKnex(dir, temp.url, probe);
  const messages: string[] = [];
  for (const [name, url] of SHADOWS) {
    const { message, ...shadow } = await onShadow(dir, url, probe);
    if (message) messages.push(message);
    expect({ shadow: name, ...shadow }).toEqual({ shadow: name, ...plain });
  }
  return { ...plain, messages };
}

const CONNECTION = `connection: process.env.KNEXSAFE_OPTIONS_TEST_URL`;

describeServer('knexfile options on the shadows', () => {
  it('wrapIdentifier (camelCase → snake_case) shapes the SQL as under knex', { timeout: 120_000 }, async () => {
    const plain = await compare(
      {
        'knexfile.js': `module.exports = { client: 'pg', ${CONNECTION},
  wrapIdentifier: (v, orig) => orig(v === '*' ? v : v.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())) };`,
        'migrations/001_session.js': `exports.up = (knex) => knex.schema.createTable('session', (t) => { t.bigIncrements('id'); t.text('userName'); });
exports.down = (knex) => knex.schema.dropTable('session');`,
        'migrations/002_config.js': `exports.up = async (knex) => { await knex.raw('create table config (id bigint, created_at timestamptz)'); await knex('config').insert({ id: 1, createdAt: new Date() }); };
exports.down = (knex) => knex.schema.dropTable('config');`,
      },
      `select column_name from information_schema.columns where table_name in ('session', 'config') order by table_name, column_name`,
    );
    expect(plain.error).toBeUndefined();
    expect(plain.sent.join('\n')).toMatch(/"user_name"/);
    expect(plain.sent.join('\n')).toMatch(/insert into "config" \("created_at", "id"\)/);
  });

  it('postProcessResponse shapes what the migration reads', { timeout: 120_000 }, async () => {
    const plain = await compare(
      {
        'knexfile.js': `const camel = (row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), v]));
module.exports = { client: 'pg', ${CONNECTION},
  postProcessResponse: (result) => (Array.isArray(result) ? result.map((r) => (r && typeof r === 'object' ? camel(r) : r)) : result) };`,
        'migrations/001_users.js': `exports.up = async (knex) => {
  await knex.schema.createTable('users', (t) => { t.increments('id'); t.text('first_name'); t.text('copied'); });
  await knex('users').insert({ first_name: 'ada' });
  const [row] = await knex('users').select('first_name');
  // Under knex the key is firstName: the copy is 'ada', never null.
  await knex('users').update({ copied: row.firstName ?? 'no camelCase key' });
};
exports.down = (knex) => knex.schema.dropTable('users');`,
      },
      `select copied from users`,
    );
    expect(plain.probe).toEqual([{ copied: 'ada' }]);
  });

  it('useNullAsDefault: a multi-row insert with missing keys sends NULL, not DEFAULT', { timeout: 120_000 }, async () => {
    const plain = await compare(
      {
        'knexfile.js': `module.exports = { client: 'pg', ${CONNECTION}, useNullAsDefault: true };`,
        'migrations/001_t.js': `exports.up = async (knex) => {
  await knex.schema.createTable('t', (t) => { t.integer('a'); t.integer('b').defaultTo(7); });
  await knex('t').insert([{ a: 1 }, { a: 2, b: 3 }]);
};
exports.down = (knex) => knex.schema.dropTable('t');`,
      },
      `select a, b from t order by a`,
    );
    expect(plain.probe).toEqual([
      { a: 1, b: null },
      { a: 2, b: 3 },
    ]);
  });

  it('searchPath: tables land in the schema knex puts them in', { timeout: 120_000 }, async () => {
    const plain = await compare(
      {
        'knexfile.js': `module.exports = { client: 'pg', ${CONNECTION}, searchPath: ['app', 'public'] };`,
        'migrations/001_schema.js': `exports.up = (knex) => knex.schema.createSchema('app');
exports.down = (knex) => knex.schema.dropSchema('app');`,
        'migrations/002_t.js': `exports.up = (knex) => knex.schema.createTable('things', (t) => { t.increments('id'); });
exports.down = (knex) => knex.schema.dropTable('things');`,
      },
      `select table_schema, table_name from information_schema.tables where table_name = 'things'`,
    );
    expect(plain.probe).toEqual([{ table_schema: 'app', table_name: 'things' }]);
  });

  it("the connection's session settings (options -c, statement_timeout) and pool.afterCreate", { timeout: 120_000 }, async () => {
    const plain = await compare(
      {
        'knexfile.js': `module.exports = { client: 'pg',
  connection: { connectionString: process.env.KNEXSAFE_OPTIONS_TEST_URL, options: '-c app.tenant=acme -c search_path=tenant,public --lock-timeout=4s', statement_timeout: 60000 },
  pool: { afterCreate: (conn, done) => conn.query("set timezone to 'Asia/Tokyo'; set app.hook = 'ran'", (err) => done(err, conn)) } };`,
        'migrations/001_schema.js': `exports.up = (knex) => knex.raw('create schema tenant');
exports.down = (knex) => knex.raw('drop schema tenant');`,
        'migrations/002_settings.js': `exports.up = async (knex) => {
  await knex.schema.createTable('settings', (t) => { t.text('name'); t.text('value'); });
  await knex.raw("insert into settings select name, setting from pg_settings where name in ('lock_timeout', 'statement_timeout', 'TimeZone') union all select 'tenant', current_setting('app.tenant') union all select 'hook', current_setting('app.hook')");
};
exports.down = (knex) => knex.schema.dropTable('settings');`,
      },
      `select table_schema, name, value from tenant.settings, information_schema.tables where table_name = 'settings' order by name collate "C"`,
    );
    expect(plain.probe.map((r) => (r as { name: string; value: string }).value)).toEqual(['Asia/Tokyo', 'ran', '4000', '60000', 'acme']);
  });

  it('migrations.{directory[], tableName, schemaName, sortDirsSeparately, loadExtensions, disableTransactions}: the same migrations run in the same order', { timeout: 120_000 }, async () => {
    const migration = (table: string) => `exports.up = (knex) => knex.schema.createTable('${table}', (t) => { t.increments('id'); });
exports.down = (knex) => knex.schema.dropTable('${table}');`;
    const plain = await compare(
      {
        'knexfile.js': `module.exports = { client: 'pg', ${CONNECTION},
  migrations: { directory: ['./b', './a'], tableName: 'history_of_changes', schemaName: 'public', sortDirsSeparately: true, loadExtensions: ['.js'], disableTransactions: true } };`,
        'a/001_a.js': migration('a1'),
        'a/003_a.js': migration('a3'),
        'b/002_b.js': migration('b2'),
        'b/004_b.ts': migration('b4'),
      },
      `select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
    );
    expect(plain.ran).toEqual(['002_b.js', '001_a.js', '003_a.js']);
  });

  it('migrations.migrationSource and disableMigrationsListValidation', { timeout: 120_000 }, async () => {
    const plain = await compare(
      {
        'knexfile.js': `const path = require('path');
module.exports = { client: 'pg', ${CONNECTION},
  migrations: { disableMigrationsListValidation: true, migrationSource: {
    getMigrations: async () => ['second', 'first'],
    getMigrationName: (m) => m,
    getMigration: (m) => require(path.join(__dirname, 'src', m + '.js')),
  } } };`,
        'src/first.js': `exports.up = (knex) => knex.schema.alterTable('things', (t) => { t.text('label'); });
exports.down = (knex) => knex.schema.alterTable('things', (t) => { t.dropColumn('label'); });`,
        'src/second.js': `exports.up = (knex) => knex.schema.createTable('things', (t) => { t.increments('id'); });
exports.down = (knex) => knex.schema.dropTable('things');`,
      },
      `select column_name from information_schema.columns where table_name = 'things' order by column_name`,
    );
    expect(plain.ran).toEqual(['second', 'first']);
  });

  it('migrations.schemaName: the history lives in a schema the target has before any migration; the shadow has it too', { timeout: 120_000 }, async () => {
    const plain = await compare(
      {
        'knexfile.js': `module.exports = { client: 'pg', ${CONNECTION}, migrations: { schemaName: 'ops', tableName: 'history' } };`,
        'migrations/001_t.js': `exports.up = (knex) => knex.schema.createTable('things', (t) => { t.increments('id'); });
exports.down = (knex) => knex.schema.dropTable('things');`,
      },
      `select table_schema, table_name from information_schema.tables where table_name in ('history', 'things') order by 2`,
      'create schema ops',
    );
    expect(plain.probe).toEqual([
      { table_schema: 'ops', table_name: 'history' },
      { table_schema: 'public', table_name: 'things' },
    ]);
  });

  it('a searchPath naming only a schema nothing creates fails as on the server (3F000), and says why', { timeout: 120_000 }, async () => {
    const plain = await compare(
      {
        'knexfile.js': `module.exports = { client: 'pg', ${CONNECTION}, searchPath: ['app'], migrations: { schemaName: 'public' } };`,
        'migrations/001_t.js': `exports.up = (knex) => knex.schema.createTable('things', (t) => { t.increments('id'); });
exports.down = (knex) => knex.schema.dropTable('things');`,
      },
      `select count(*)::int as n from information_schema.tables where table_name = 'things'`,
    );
    expect(plain.error).toBe('3F000');
    expect(plain.messages).toHaveLength(2);
    for (const message of plain.messages) expect(message).toMatch(/searchPath \("app"\) names no schema that exists/);
  });

  it('a server shadow takes no PG* variable meant for the target (PGOPTIONS, PGAPPNAME)', { timeout: 60_000 }, async () => {
    const saved = { PGOPTIONS: process.env.PGOPTIONS, PGAPPNAME: process.env.PGAPPNAME };
    process.env.PGOPTIONS = '-c search_path=nowhere -c default_transaction_read_only=on';
    process.env.PGAPPNAME = 'the-target-app';
    try {
      const shadow = await createShadow({ serverUrl: SERVER_URL });
      try {
        const rows = (
          (await shadow.knex.raw(`select current_setting('search_path') as s, current_setting('default_transaction_read_only') as r, current_setting('application_name') as a`)) as { rows: unknown[] }
        ).rows;
        expect(rows).toEqual([{ s: '"$user", public', r: 'off', a: 'knexsafe-shadow' }]);
      } finally {
        await shadow.close();
      }
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('a custom client class: what it changes in the SQL (identifier quoting) holds on the shadows', { timeout: 120_000 }, async () => {
    const dialect = JSON.stringify(path.join(process.cwd(), 'node_modules/knex/lib/dialects/postgres/index.js'));
    const plain = await compare(
      {
        'knexfile.js': `const Client_PG = require(${dialect});
class LowerCaseClient extends Client_PG {
  wrapIdentifierImpl(value) { return super.wrapIdentifierImpl(value === '*' ? value : value.toLowerCase()); }
}
module.exports = { client: LowerCaseClient, ${CONNECTION} };`,
        'migrations/001_t.js': `exports.up = async (knex) => {
  await knex.schema.createTable('Things', (t) => { t.increments('Id'); t.text('UserName'); });
  await knex('Things').insert({ UserName: 'ada' });
};
exports.down = (knex) => knex.schema.dropTable('Things');`,
      },
      `select username from things`,
    );
    expect(plain.sent.join('\n')).toMatch(/create table "things" \("id" serial primary key, "username" text\)/);
    expect(plain.probe).toEqual([{ username: 'ada' }]);
  });

  it("knexsafe's own reads skip the knexfile's hooks: status on a target whose postProcessResponse camelCases rows", { timeout: 120_000 }, async () => {
    const dir = makeProject(
      {
        'knexfile.js': `const camel = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, c) => c.toUpperCase()), v]));
module.exports = { client: 'pg', ${CONNECTION},
  postProcessResponse: (result) => (result && typeof result.command === 'string' && Array.isArray(result.rows) ? { ...result, rows: result.rows.map(camel) } : Array.isArray(result) ? result.map((r) => (r && typeof r === 'object' ? camel(r) : r)) : result) };`,
        'migrations/001_t.js': `exports.up = (knex) => knex.schema.createTable('things', (t) => { t.increments('id'); t.text('first_name'); });
exports.down = (knex) => knex.schema.dropTable('things');`,
      },
      'ks-knex-options-',
    );
    const temp = await createTempDatabase('fid_options');
    temps.push(temp);
    const env = { KNEXSAFE_OPTIONS_TEST_URL: temp.url };
    expect((await runCli(['latest', '--cwd', dir], { env })).code).toBe(0);
    const status = await runCli(['status', '--cwd', dir, '--json'], { env });
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(parseJson<{ applied: number }>(status.stdout).applied).toBe(1);
  });
});
