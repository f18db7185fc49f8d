import { execSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, copyExample, makeProject, parseJson, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, SERVER_URL, sqlOn, urlFor, type TempDatabase } from '../helpers/pg.js';

/**
 * `knexsafe doctor` on the server: each broken state is made for real (a killed migration run, a
 * deleted or compiled file, half a migration without a transaction, a hand change, a file older
 * than the last applied one), doctor names it with its evidence and fix, the test follows the fix
 * as printed, and doctor then reports a healthy database.
 */

interface Finding {
  id: string;
  severity: 'error' | 'warning' | 'info';
  title: string;
  evidence: string[];
  fix: string;
  commands: string[];
  migration?: string;
  file?: string;
  line?: number;
  data?: Record<string, unknown>;
}

interface Report {
  ok: boolean;
  findings: Finding[];
  checks: { name: string; status: string; note?: string }[];
  applied: number;
  pending: number;
}

const SLOW = 240_000;

async function doctor(dir: string, url: string, extra: string[] = []): Promise<{ code: number; report: Report; stderr: string }> {
  const r = await runCli(['doctor', '--json', '--connection', url, '--shadow-url', SERVER_URL, ...extra], { cwd: dir });
  if (!r.stdout.trim()) throw new Error(`doctor printed nothing (exit ${r.code}):\n${r.stderr}`);
  return { code: r.code, report: parseJson<Report>(r.stdout), stderr: r.stderr };
}

function find(report: Report, id: string): Finding {
  const f = report.findings.find((x) => x.id === id);
  if (!f) throw new Error(`no ${id} finding in ${JSON.stringify(report.findings, null, 2)}`);
  return f;
}

function ids(report: Report): string[] {
  return report.findings.map((f) => f.id).sort();
}

/** Runs a fix's commands as a user would: SQL on the database, knexsafe through the CLI, the rest in a shell. */
async function follow(commands: string[], dir: string, url: string): Promise<void> {
  for (const command of commands) {
    if (command.trimEnd().endsWith(';')) {
      await sqlOn(url, command);
    } else if (command.startsWith('knexsafe ')) {
      if (command === 'knexsafe doctor') continue;
      const args = command.split(' ').slice(1);
      // latest's check gate judges the migration's own locking (tested elsewhere); here only the repair matters.
      if (args[0] === 'latest') args.push('--no-check');
      const r = await runCli([...args, '--connection', url, '--shadow-url', SERVER_URL], { cwd: dir });
      expect(r.code, `${command}\n${r.stdout}${r.stderr}`).toBe(0);
    } else {
      execSync(command, { cwd: dir, stdio: 'pipe' });
    }
  }
}

async function expectHealthy(dir: string, url: string): Promise<Report> {
  const { code, report } = await doctor(dir, url);
  expect(
    report.findings.filter((f) => f.severity !== 'info'),
    JSON.stringify(report.findings, null, 2),
  ).toEqual([]);
  expect(report.ok).toBe(true);
  expect(code).toBe(0);
  return report;
}

async function latest(dir: string, url: string, env: Record<string, string> = {}): Promise<void> {
  const r = await runCli(['latest', '--no-check', '--connection', url], { cwd: dir, env });
  expect(r.code, r.stdout + r.stderr).toBe(0);
}

/** Starts `knexsafe latest` and returns once the migration's `pg_sleep` is running on the server. */
async function startSleepingRun(dir: string, url: string, database: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'latest', '--no-check', '--connection', url], {
    cwd: dir,
    env: { ...process.env, KS_SLEEP: '30', NO_COLOR: '1', DATABASE_URL: undefined, NODE_ENV: undefined },
    stdio: 'ignore',
  });
  for (let i = 0; i < 300; i++) {
    const rows = await sqlOn(SERVER_URL, "select 1 from pg_stat_activity where datname = $1 and query like 'select pg_sleep%' and state = 'active'", [database]);
    if (rows.length) return child;
    if (child.exitCode !== null) throw new Error(`knexsafe latest ended (exit ${child.exitCode}) before its migration slept`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('the migration never started sleeping');
}

/** Write activity on the target as the statistics count it, plus knex's rows: what a read-only doctor must leave alone. */
async function writeFootprint(url: string): Promise<unknown> {
  await new Promise((r) => setTimeout(r, 1500)); // a finished session's counters reach the shared statistics when its backend exits
  const stats = await sqlOn(url, 'select relname, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd from pg_stat_user_tables order by relname');
  const history = await sqlOn(url, 'select id, name, batch, migration_time from knex_migrations order by id');
  const lock = await sqlOn(url, 'select * from knex_migrations_lock order by index');
  return { stats, history, lock };
}

const SHOP_LAST = '20240109090000_backfill_users_display_name.js';

describeServer('knexsafe doctor on the server', () => {
  const databases: TempDatabase[] = [];
  const roles: string[] = [];
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(databases.map((d) => d.drop()));
    for (const role of roles) await sqlOn(SERVER_URL, `drop role if exists ${role}`);
  });
  const newDatabase = async (template?: string) => {
    const db = await createTempDatabase('ks_doctor', template);
    databases.push(db);
    return db;
  };
  // The example shop applied by `knexsafe latest` once; each test starting from it gets a copy of
  // that database (CREATE DATABASE … TEMPLATE) instead of running the whole chain again.
  let shopApplied: Promise<TempDatabase> | undefined;
  const newShopDatabase = async () => {
    shopApplied ??= newDatabase().then(async (db) => {
      await latest(copyExample('shop'), db.url);
      return db;
    });
    return newDatabase((await shopApplied).name);
  };

  describe('a healthy database', () => {
    let db: TempDatabase;
    let dir: string;
    beforeAll(async () => {
      db = await newShopDatabase();
      dir = copyExample('shop');
    }, SLOW);

    it(
      'reports every check ok and exits 0, on a server shadow and on the embedded one',
      async () => {
        const report = await expectHealthy(dir, db.url);
        expect(report.findings).toEqual([]);
        expect(report.checks.map((c) => [c.name, c.status])).toEqual([
          ['lock', 'ok'],
          ['files', 'ok'],
          ['checksums', 'ok'],
          ['order', 'ok'],
          ['timestamps', 'ok'],
          ['partial', 'skipped'],
          ['drift', 'ok'],
        ]);
        // The embedded shadow is PostgreSQL 18 (PGlite): the same schema must compare equal to the server's 15.
        const embedded = await runCli(['doctor', '--json', '--connection', db.url], { cwd: dir });
        expect(embedded.code, embedded.stdout + embedded.stderr).toBe(0);
        expect(parseJson<Report>(embedded.stdout).findings).toEqual([]);
        // And as people read it.
        const text = await runCli(['doctor', '--connection', db.url, '--shadow-url', SERVER_URL], { cwd: dir });
        expect(text.stdout).toMatch(/✓ Healthy: no problem found \(9 applied, 0 pending/);
      },
      SLOW,
    );
  });

  describe('a migration run killed mid-batch, half through a migration without a transaction', () => {
    let db: TempDatabase;
    let dir: string;
    let report: Report;
    beforeAll(async () => {
      db = await newDatabase();
      dir = makeProject({
        'migrations/20240101000000_create_users_table.js': `exports.up = (knex) => knex.schema.createTable('users', (table) => {
  table.increments('id');
  table.string('email', 255);
});
exports.down = (knex) => knex.schema.dropTable('users');
`,
      });
      await latest(dir, db.url);
      fs.writeFileSync(
        path.join(dir, 'migrations/20240102000000_add_nickname_to_users.js'),
        `exports.up = async (knex) => {
  await knex.schema.alterTable('users', (table) => {
    table.text('nickname');
  });
  await knex.raw(\`select pg_sleep(\${Number(process.env.KS_SLEEP ?? 0)})\`);
  await knex.schema.alterTable('users', (table) => {
    table.index('nickname');
  });
};
exports.down = (knex) => knex.schema.alterTable('users', (table) => {
  table.dropColumn('nickname');
});
exports.config = { transaction: false };
`,
      );
      const child = await startSleepingRun(dir, db.url, db.name);
      children.push(child);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const result = await doctor(dir, db.url);
      expect(result.code).toBe(1);
      report = result.report;
    }, SLOW);

    it('names the stale lock, the statement still running without its client, and the fix', () => {
      const lock = find(report, 'stale-lock');
      expect(lock.severity).toBe('error');
      expect(lock.evidence).toContain('knex_migrations_lock.is_locked = 1: `knexsafe latest` and `npx knex migrate:latest` stop with "Migration table is already locked"');
      expect(lock.evidence.join('\n')).toMatch(/no session holds a lock on knex_migrations or knex_migrations_lock/);
      expect(lock.evidence.join('\n')).toMatch(/last recorded migration: 20240101000000_create_users_table\.js: batch 1/);
      expect(lock.evidence.join('\n')).toMatch(
        /still busy on this database: pid \d+ .*running `select pg_sleep\(30\)`.*it is running migration 20240102000000_add_nickname_to_users\.js.*runs on without its client/,
      );
      expect(lock.commands).toEqual([expect.stringMatching(/^SELECT pg_terminate_backend\(\d+\);$/), 'knexsafe unlock', 'knexsafe doctor']);
    });

    it('names the half-applied migration: what is there, what is not, where a re-run fails, and the SQL that undoes it', () => {
      const partial = find(report, 'partially-applied');
      expect(partial.migration).toBe('20240102000000_add_nickname_to_users.js');
      expect(partial.evidence).toEqual(
        expect.arrayContaining([
          '20240102000000_add_nickname_to_users.js: pending (no row in knex_migrations)',
          'already in the target: column users.nickname',
          'not there yet: index users_nickname_index',
          expect.stringMatching(/runs without a transaction/),
          expect.stringMatching(
            /on a copy of the target's schema \(pg_dump --schema-only\), `latest` fails in 20240102000000_add_nickname_to_users\.js at .*20240102000000_add_nickname_to_users\.js:2 .*column "nickname" of relation "users" already exists \[42701\]/,
          ),
        ]),
      );
      expect(partial.line).toBe(2);
      expect(partial.commands).toEqual(['ALTER TABLE users DROP COLUMN nickname;', 'knexsafe latest']);
      // The column is explained by the partial run: it is not reported again as drift.
      expect(ids(report)).toEqual(['partially-applied', 'stale-lock']);
    });

    it(
      'is read-only on the target: a role with only CONNECT and SELECT sees the same, and nothing was written',
      async () => {
        const role = `ks_ro_${randomBytes(4).toString('hex')}`;
        roles.push(role);
        await sqlOn(SERVER_URL, `create role ${role} login`);
        await sqlOn(SERVER_URL, `grant pg_read_all_stats to ${role}`);
        await sqlOn(db.url, `grant connect on database "${db.name}" to ${role}`);
        await sqlOn(db.url, `grant usage on schema public to ${role}`);
        await sqlOn(db.url, `grant select on all tables in schema public to ${role}`);
        const readOnlyUrl = urlFor(db.name).replace('postgres@', `${role}@`);
        expect(await sqlOn(readOnlyUrl, "select has_table_privilege('knex_migrations_lock', 'update') as u")).toEqual([{ u: false }]);

        // The killed run's statement may still be sleeping; its backend reports its writes (knex's lock
        // update) when it exits, so it must be gone before the footprint is taken.
        await sqlOn(SERVER_URL, 'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [db.name]);
        const before = await writeFootprint(db.url);
        const asReader = await doctor(dir, readOnlyUrl);
        expect(asReader.code, asReader.stderr).toBe(1);
        expect(ids(asReader.report)).toEqual(ids(report));
        expect(find(asReader.report, 'partially-applied').commands).toEqual(find(report, 'partially-applied').commands);
        const asOwner = await doctor(dir, db.url);
        expect(ids(asOwner.report)).toEqual(ids(report));
        expect(await writeFootprint(db.url)).toEqual(before);
      },
      SLOW,
    );

    it(
      'after following the fixes, doctor reports a healthy database',
      async () => {
        await follow(find(report, 'stale-lock').commands, dir, db.url);
        await follow(find(report, 'partially-applied').commands, dir, db.url);
        const healthy = await expectHealthy(dir, db.url);
        expect(healthy.applied).toBe(2);
        expect(await sqlOn(db.url, "select indexname from pg_indexes where tablename = 'users' order by 1")).toEqual([{ indexname: 'users_nickname_index' }, { indexname: 'users_pkey' }]);
      },
      SLOW,
    );
  });

  describe('a migration that is really running', () => {
    it(
      'unlock refuses (naming the session), doctor says who holds the lock; after it ends all is well',
      async () => {
        const db = await newDatabase();
        const dir = makeProject({
          'migrations/20240101000000_create_users_table.js': `exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); });\nexports.down = (knex) => knex.schema.dropTable('users');\n`,
        });
        await latest(dir, db.url);
        fs.writeFileSync(
          path.join(dir, 'migrations/20240102000000_backfill_users.js'),
          `exports.up = async (knex) => {\n  await knex.raw(\`select pg_sleep(\${Number(process.env.KS_SLEEP ?? 0)})\`);\n};\nexports.down = async () => {};\n`,
        );
        const child = await startSleepingRun(dir, db.url, db.name);
        children.push(child);
        try {
          const unlock = await runCli(['unlock', '--json', '--connection', db.url], { cwd: dir });
          expect(unlock.code).toBe(1);
          const error = parseJson<{ error: { code: string; message: string; hint: string } }>(unlock.stdout).error;
          expect(error.code).toBe('MIGRATION_RUNNING');
          expect(error.message).toMatch(/A migration is running on .*pid \d+ .*holds .*(knexsafe's run lock|RowExclusiveLock on knex_migrations_lock)/);
          expect(error.hint).toMatch(/knexsafe unlock --force/);

          const { code, report } = await doctor(dir, db.url, ['--no-shadow']);
          const running = find(report, 'migration-running');
          expect(running.severity).toBe('info');
          expect(running.title).toMatch(/A migration is running now \(pid \d+/);
          expect(running.evidence.join('\n')).toMatch(/RowExclusiveLock on knex_migrations_lock/);
          expect(running.evidence.join('\n')).toMatch(/is_locked reads 0: the running batch set it to 1 inside its own, not yet committed, transaction/);
          expect(code).toBe(0);
        } finally {
          child.kill('SIGKILL');
          await new Promise((r) => child.once('exit', r));
          await sqlOn(SERVER_URL, "select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and query like 'select pg_sleep%'", [db.name]);
        }
        // The killed batch was one transaction: it rolled back, lock included.
        const after = await doctor(dir, db.url);
        expect(ids(after.report)).toEqual(['pending']);
        expect(after.code).toBe(0);
      },
      SLOW,
    );
  });

  describe('an applied migration file deleted', () => {
    let db: TempDatabase;
    let dir: string;
    const phone = '20240104090000_add_phone_to_users.js';
    beforeAll(async () => {
      db = await newShopDatabase();
      dir = copyExample('shop');
      const git = (cmd: string) => execSync(`git -c user.email=t@example.com -c user.name=t ${cmd}`, { cwd: dir, stdio: 'pipe' });
      git('init -q');
      git('add -A');
      git('commit -q -m "shop"');
      git(`rm -q migrations/${phone}`);
      git('commit -q -m "remove the phone migration"');
    }, SLOW);

    it(
      'names the row, the commit that deleted the file and the command that restores it; restored, all is well',
      async () => {
        const { code, report } = await doctor(dir, db.url);
        expect(code).toBe(1);
        const missing = find(report, 'missing-file');
        expect(missing.title).toBe(`${phone} is recorded as applied, but its file is missing`);
        expect(missing.evidence[0]).toMatch(new RegExp(`^knex_migrations row: ${phone.replace(/\./g, '\\.')}: batch 1, applied \\d{4}-`));
        expect(missing.evidence).toContain('deleted in commit ' + String(missing.data?.deletedIn) + ' ("remove the phone migration")');
        expect(missing.commands).toEqual([`git checkout ${String(missing.data?.deletedIn)}^ -- migrations/${phone}`, `knexsafe history forget ${phone}`]);
        expect(report.checks.find((c) => c.name === 'drift')).toMatchObject({ status: 'skipped', note: expect.stringMatching(/has no file/) });
        await follow(missing.commands.slice(0, 1), dir, db.url);
        await expectHealthy(dir, db.url);
      },
      SLOW,
    );

    it(
      'or, removed on purpose: history forget backs the row up and removes it; doctor then shows the column as drift, and its fix heals it',
      async () => {
        fs.rmSync(path.join(dir, 'migrations', phone));
        const refused = await runCli(['history', 'forget', '20240105090000_rename_name_to_full_name_in_users', '--connection', db.url], { cwd: dir });
        expect(refused.code).toBe(2);
        expect(refused.stderr).toMatch(/still has its file/);
        const forget = await runCli(['history', 'forget', phone, '--json', '--connection', db.url], { cwd: dir });
        expect(forget.code, forget.stderr).toBe(0);
        const backup = path.join(dir, parseJson<{ backup: string }>(forget.stdout).backup);
        expect(fs.readFileSync(backup, 'utf8')).toMatch(new RegExp(`INSERT INTO "?knex_migrations"? \\(id, name, batch, migration_time\\) VALUES \\(\\d+, '${phone.replace(/\./g, '\\.')}', 1, '`));
        expect(await sqlOn(db.url, 'select 1 from knex_migrations where name = $1', [phone])).toEqual([]);
        expect(await sqlOn(db.url, 'select is_locked from knex_migrations_lock')).toEqual([{ is_locked: 0 }]);

        const { report } = await doctor(dir, db.url);
        const drift = find(report, 'drift');
        expect(drift.evidence).toContain('column users.phone: only in the target (no applied migration creates it)');
        expect(drift.commands).toEqual(['ALTER TABLE users DROP COLUMN phone;']);
        await follow(drift.commands, dir, db.url);
        await expectHealthy(dir, db.url);
      },
      SLOW,
    );
  });

  describe('TypeScript migrations compiled to JavaScript', () => {
    let db: TempDatabase;
    let dir: string;
    const status = '20240107090000_add_status_to_orders';
    beforeAll(async () => {
      db = await newShopDatabase();
      dir = copyExample('shop');
      const source = fs.readFileSync(path.join(dir, 'migrations', `${status}.ts`), 'utf8');
      const compiled = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
      fs.writeFileSync(path.join(dir, 'migrations', `${status}.js`), compiled);
    }, SLOW);

    it(
      'compiled next to the source: one migration in two forms; removing the compiled copy heals it',
      async () => {
        const { code, report } = await doctor(dir, db.url);
        expect(code).toBe(1);
        expect(ids(report)).toEqual(['duplicate-identity']);
        const dup = find(report, 'duplicate-identity');
        expect(dup.title).toBe(`${status}.js and ${status}.ts are one migration in two forms`);
        expect(dup.evidence).toEqual(expect.arrayContaining([`migrations/${status}.js: pending`, `migrations/${status}.ts: applied`]));
        expect(dup.commands).toEqual([`rm migrations/${status}.js`]);
        fs.copyFileSync(path.join(dir, 'migrations', `${status}.js`), path.join(dir, `${status}.js.compiled`));
        await follow(dup.commands, dir, db.url);
        await expectHealthy(dir, db.url);
      },
      SLOW,
    );

    it(
      'only the compiled file left: the applied .ts looks missing; history rename (backed up) heals it',
      async () => {
        fs.rmSync(path.join(dir, 'migrations', `${status}.ts`));
        fs.renameSync(path.join(dir, `${status}.js.compiled`), path.join(dir, 'migrations', `${status}.js`));
        const { code, report } = await doctor(dir, db.url);
        expect(code).toBe(1);
        expect(ids(report)).toEqual(['extension-changed']);
        const changed = find(report, 'extension-changed');
        expect(changed.title).toBe(`${status}.ts was applied, but the migrations folder now has ${status}.js`);
        expect(changed.evidence.join('\n')).toMatch(/knex identifies a migration by its file name with the extension/);
        expect(changed.commands).toEqual([`knexsafe history rename ${status}.ts ${status}.js`]);
        // The drift check replays the .js in place of the .ts: the schema still matches.
        expect(report.checks.find((c) => c.name === 'drift')?.status).toBe('ok');
        await follow(changed.commands, dir, db.url);
        expect(await sqlOn(db.url, 'select name from knex_migrations where name like $1', [`${status}%`])).toEqual([{ name: `${status}.js` }]);
        expect(fs.readdirSync(path.join(dir, '.knexsafe/backups')).some((f) => f.includes('history-rename'))).toBe(true);
        await expectHealthy(dir, db.url);
      },
      SLOW,
    );
  });

  describe("the target's schema changed by hand", () => {
    it(
      'drift lists each difference and the SQL that reverts it; reverted, all is well',
      async () => {
        const db = await newShopDatabase();
        const dir = copyExample('shop');
        await sqlOn(db.url, 'alter table users add column hand_note text');
        await sqlOn(db.url, 'alter table products alter column title drop not null');
        await sqlOn(db.url, 'create index users_created_at_idx on users (created_at)');
        const { code, report } = await doctor(dir, db.url);
        expect(code).toBe(1);
        expect(ids(report)).toEqual(['drift']);
        const drift = find(report, 'drift');
        expect(drift.title).toMatch(/The target's schema differs from what its 9 applied migration\(s\) produce \(3 differences\)/);
        expect(drift.evidence).toEqual(
          expect.arrayContaining([
            'column users.hand_note: only in the target (no applied migration creates it)',
            'column products.title: NOT NULL → nullable (migrations → target)',
            'index users_created_at_idx: only in the target (no applied migration creates it)',
          ]),
        );
        expect(drift.commands).toEqual(['DROP INDEX users_created_at_idx;', 'ALTER TABLE products ALTER COLUMN title SET NOT NULL;', 'ALTER TABLE users DROP COLUMN hand_note;']);
        await follow(drift.commands, dir, db.url);
        await expectHealthy(dir, db.url);
      },
      SLOW,
    );
  });

  describe('new files: older than the last applied one, or sharing a timestamp', () => {
    let db: TempDatabase;
    let dir: string;
    beforeAll(async () => {
      db = await newShopDatabase();
      dir = copyExample('shop');
    }, SLOW);

    it(
      'out of order: says what knex will do and renames it with a fresh timestamp',
      async () => {
        const late = '20240103120000_add_nickname_to_users.js';
        fs.writeFileSync(
          path.join(dir, 'migrations', late),
          `exports.up = (knex) => knex.schema.alterTable('users', (t) => { t.string('nickname', 50); });\nexports.down = (knex) => knex.schema.alterTable('users', (t) => { t.dropColumn('nickname'); });\n`,
        );
        const { code, report } = await doctor(dir, db.url);
        expect(code).toBe(1);
        expect(ids(report)).toEqual(['out-of-order', 'pending']);
        const order = find(report, 'out-of-order');
        expect(order.severity).toBe('warning');
        expect(order.title).toBe(`${late} is pending but older than ${SHOP_LAST}, which is already applied`);
        expect(order.evidence.join('\n')).toMatch(
          new RegExp(`what knex will do: it has no order check, so the next \`latest\` runs ${late.replace(/\./g, '\\.')} after ${SHOP_LAST.replace(/\./g, '\\.')}`),
        );
        expect(order.commands[0]).toMatch(/^mv migrations\/20240103120000_add_nickname_to_users\.js migrations\/\d{14}_add_nickname_to_users\.js$/);
        expect(find(report, 'pending').evidence).toContain("they run cleanly on a copy of the target's schema (pg_dump --schema-only)");
        await follow(order.commands.slice(0, 1), dir, db.url);
        const after = await expectHealthy(dir, db.url);
        expect(ids(after)).toEqual(['pending']);
      },
      SLOW,
    );

    it(
      'two pending files with one timestamp: renamed apart, all is well',
      async () => {
        for (const name of ['20250301000000_create_tags_table.js', '20250301000000_add_tag_id_to_products.js']) {
          const body = name.includes('create')
            ? `exports.up = (knex) => knex.schema.createTable('tags', (t) => { t.increments('id'); });\nexports.down = (knex) => knex.schema.dropTable('tags');\n`
            : `exports.up = (knex) => knex.schema.alterTable('products', (t) => { t.integer('tag_id'); });\nexports.down = (knex) => knex.schema.alterTable('products', (t) => { t.dropColumn('tag_id'); });\n`;
          fs.writeFileSync(path.join(dir, 'migrations', name), body);
        }
        const { code, report } = await doctor(dir, db.url);
        expect(code).toBe(1);
        const dup = find(report, 'duplicate-timestamp');
        expect(dup.title).toBe('2 migrations share the timestamp 20250301000000');
        expect(dup.evidence).toContain(
          'knex runs them in name order (20250301000000_add_tag_id_to_products.js → 20250301000000_create_tags_table.js), which may not be the order they were written in',
        );
        expect(dup.commands).toHaveLength(2);
        await follow(dup.commands, dir, db.url);
        await expectHealthy(dir, db.url);
        await latest(dir, db.url);
        expect(ids(await expectHealthy(dir, db.url))).toEqual([]);
      },
      SLOW,
    );
  });
});
