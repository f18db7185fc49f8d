import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import knexFactory from 'knex';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { fix, type FixResult } from '../../src/fix/run.js';
import { isKnexsafeError } from '../../src/errors.js';
import { copyExample, makeProject, REPO_ROOT, runCli } from '../helpers/cli.js';
import { createTempDatabase, describeServer, type TempDatabase } from '../helpers/pg.js';

/**
 * `knexsafe fix` on real shadows (embedded, and the server for a target with applied migrations):
 * every written file loads (node --check, the TypeScript compiler), `check` on the result has no
 * error with a fix left, `verify` proves every rewritten and added migration reversible, and a
 * second run has nothing to do.
 */

vi.setConfig({ testTimeout: 300_000 });

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) out[name] = fs.readFileSync(path.join(dir, name), 'utf8');
  return out;
}

function expectWrittenFilesLoad(dir: string, result: FixResult): void {
  for (const c of result.changes) {
    const file = path.join(dir, c.name);
    if (/\.(c|m)?js$/.test(c.name)) {
      const run = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
      expect(run.status, `node --check ${c.name}: ${run.stderr}`).toBe(0);
    } else {
      const source = ts.createSourceFile(c.name, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
      const parse = (source as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics;
      expect(
        parse.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
        c.name,
      ).toEqual([]);
    }
  }
}

function expectCleanResult(result: FixResult): void {
  expect(result.written).toBe(true);
  expect(result.after?.failed).toEqual([]);
  expect(result.after?.errorsWithFix.map((f) => `${f.migration} ${f.rule}`)).toEqual([]);
  expect(result.verify?.ok).toBe(true);
  expect(result.verify?.verdicts.map((v) => `${v.name} ${v.status}`)).toEqual(result.changes.map((c) => `${c.name} reversible`));
}

describe('knexsafe fix', () => {
  it('CommonJS (the example shop): --dry-run writes nothing; fix rewrites in place, splits recipes into migrations right after the original, and a second run has nothing to do', async () => {
    const project = copyExample('shop');
    const dir = path.join(project, 'migrations');
    const before = snapshot(dir);

    const dry = await fix({ cwd: project, dryRun: true });
    expect(dry.written).toBe(false);
    expect(snapshot(dir)).toEqual(before);
    expect(fs.readdirSync(project).filter((n) => n.includes('knexsafe-fix'))).toEqual([]);
    expect(dry.diff).toContain('--- a/migrations/20240106090000_change_price_to_decimal_in_products.js');
    expect(dry.diff).toMatch(/^\+\+\+ b\/migrations\/20240106090001_backfill_products_price_numeric\.js$/m);

    const result = await fix({ cwd: project });
    expect(result.changes.map((c) => c.name)).toEqual(dry.changes.map((c) => c.name));
    expectCleanResult(result);
    expectWrittenFilesLoad(dir, result);
    // The rename's expand / backfill / contract steps sit between it and the next migration, in order.
    const names = fs.readdirSync(dir).sort();
    const rename = names.indexOf('20240105090000_rename_name_to_full_name_in_users.js');
    expect(names.slice(rename, rename + 4)).toEqual([
      '20240105090000_rename_name_to_full_name_in_users.js',
      '20240105090001_backfill_users_full_name.js',
      '20240105090002_drop_name_from_users.js',
      '20240106090000_change_price_to_decimal_in_products.js',
    ]);
    // Added steps are CommonJS like the project's files.
    for (const c of result.changes.filter((c) => c.kind === 'added')) {
      expect(c.after).toMatch(/^exports\.up = async function \(knex\) \{$/m);
      expect(c.after).not.toMatch(/^export /m);
    }
    // Lines the fix did not change stay as they were: only the lock_timeout is added here.
    const phone = result.changes.find((c) => c.name === '20240104090000_add_phone_to_users.js')!;
    expect(phone.after.split('\n').filter((l) => !phone.before!.split('\n').includes(l))).toEqual([
      '  // knexsafe: give up after 5s instead of queueing every query on users behind this migration.',
      "  await knex.raw(`SET LOCAL lock_timeout = '5s'`);",
    ]);

    const again = await fix({ cwd: project });
    expect(again.changes).toEqual([]);
    expect(again.written).toBe(false);
  });

  it("ES modules in the file's own style: arrow functions, double quotes, four spaces, no semicolons", async () => {
    const project = makeProject({
      'package.json': '{ "type": "module" }\n',
      'knexfile.js': 'export default { client: "pg", connection: process.env.DATABASE_URL, migrations: { directory: "./migrations" } }\n',
      'migrations/20240101000000_create_accounts.js': `export const up = async (knex) => {
    await knex.schema.createTable("accounts", (table) => {
        table.bigIncrements("id")
        table.text("email").notNullable()
        table.text("name")
    })
}

export const down = async (knex) => {
    await knex.schema.dropTable("accounts")
}
`,
      'migrations/20240102000000_index_accounts_email.js': `export const up = async (knex) => {
    await knex.schema.alterTable("accounts", (table) => {
        table.index(["email"])
    })
}

export const down = async (knex) => {
    await knex.schema.alterTable("accounts", (table) => {
        table.dropIndex(["email"])
    })
}
`,
      'migrations/20240103000000_require_name.js': `export const up = async (knex) => {
    await knex.raw("ALTER TABLE accounts ALTER COLUMN name SET NOT NULL")
}

export const down = async (knex) => {
    await knex.raw("ALTER TABLE accounts ALTER COLUMN name DROP NOT NULL")
}
`,
    });
    const dir = path.join(project, 'migrations');
    const onlyIndexes = await fix({ cwd: project, rules: ['index-not-concurrent'], dryRun: true });
    expect(onlyIndexes.changes.map((c) => c.name)).toEqual(['20240102000000_index_accounts_email.js']);
    const result = await fix({ cwd: project });
    expectCleanResult(result);
    expectWrittenFilesLoad(dir, result);
    expect(result.changes.map((c) => `${c.kind} ${c.name}`)).toEqual([
      'edited 20240102000000_index_accounts_email.js',
      'edited 20240103000000_require_name.js',
      'added 20240103000001_validate_accounts_name_not_null.js',
      'added 20240103000002_set_name_not_null_in_accounts.js',
    ]);
    for (const c of result.changes) {
      expect(c.after, c.name).toMatch(/^export const up = async \(knex\) => \{$/m);
      expect(c.after, c.name).toMatch(/^export const down = async \(knex\) => \{$/m);
      expect(c.after, c.name).toMatch(/^ {4}await knex\.(raw|transaction)\(/m);
      // Outside template literals: double quotes, no semicolons at line ends.
      const code = c.after.split('\n').filter((l) => !l.trimStart().startsWith('//') && !l.includes('`'));
      expect(
        code.filter((l) => /'/.test(l)),
        c.name,
      ).toEqual([]);
      expect(
        code.filter((l) => /;\s*$/.test(l)),
        c.name,
      ).toEqual([]);
    }
    expect(fs.readFileSync(path.join(dir, '20240102000000_index_accounts_email.js'), 'utf8')).toContain(
      '    await knex.raw("CREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email_index ON accounts (email)")\n',
    );
    expect((await fix({ cwd: project })).changes).toEqual([]);
  });

  it('TypeScript: the file keeps its own import of Knex, and the result compiles (tsc --noEmit)', async () => {
    const project = makeProject({
      'knexfile.js': "module.exports = { client: 'pg', connection: process.env.DATABASE_URL, migrations: { directory: './migrations', extension: 'ts' } };\n",
      'tsconfig.json': JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: true, types: [] },
        include: ['migrations/*.ts'],
      }),
      'migrations/20240101000000_create_orders.ts': `import { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('orders', (table) => {
    table.bigIncrements('id');
    table.bigInteger('customer_id').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('orders');
}
`,
      'migrations/20240102000000_index_orders_customer.ts': `import { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (table) => {
    table.index(['customer_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('orders', (table) => {
    table.dropIndex(['customer_id']);
  });
}
`,
    });
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(project, 'node_modules'), 'dir');
    const dir = path.join(project, 'migrations');
    const result = await fix({ cwd: project });
    expectCleanResult(result);
    expectWrittenFilesLoad(dir, result);
    const text = fs.readFileSync(path.join(dir, '20240102000000_index_orders_customer.ts'), 'utf8');
    expect(text).toMatch(/^import \{ Knex \} from 'knex';$/m);
    expect(text).not.toContain('import type');
    expect(text).toMatch(/^export async function up\(knex: Knex\): Promise<void> \{$/m);
    expect(text).toMatch(/^export const config = \{ transaction: false \};$/m);
    const tsc = spawnSync(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr, 'tsc --noEmit').toBe('');
    expect(tsc.status).toBe(0);
    expect((await fix({ cwd: project })).changes).toEqual([]);
  });

  it('bad input: no knexfile, an unknown migration, a file it may not write: exit 2, one paragraph, nothing written', async () => {
    const empty = makeProject({ 'README.md': 'nothing here\n' });
    const none = await runCli(['fix'], { cwd: empty });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error No knexfile found/);
    expect(none.stderr).not.toMatch(/\n\s+at /);

    const project = copyExample('shop');
    const unknown = await runCli(['fix', '20240199_nope'], { cwd: project });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('There is no migration 20240199_nope to fix.');
    await expect(fix({ cwd: project, names: ['nope'] })).rejects.toSatisfy((e: unknown) => isKnexsafeError(e) && e.exitCode === 2);

    // Root writes through file modes; an immutable file stops it (where chattr works).
    const dir = path.join(project, 'migrations');
    const locked = path.join(dir, '20240106090000_change_price_to_decimal_in_products.js');
    if (spawnSync('chattr', ['+i', locked]).status !== 0) return;
    try {
      const before = snapshot(dir);
      // Named: refused before the shadow runs.
      const named = await runCli(['fix', '20240104090000_add_phone_to_users', '20240106090000_change_price_to_decimal_in_products'], { cwd: project });
      expect(named.code).toBe(2);
      expect(named.stderr).toContain('20240106090000_change_price_to_decimal_in_products.js is not writable, so fix changed nothing');
      expect(snapshot(dir)).toEqual(before);
      // Found by the fixes: refused when writing, before any file is replaced (the others stay too).
      const found = await runCli(['fix'], { cwd: project });
      expect(found.code).toBe(2);
      expect(found.stderr).toContain('is not writable, so fix changed nothing');
      expect(snapshot(dir)).toEqual(before);
      expect(fs.readdirSync(project).filter((n) => n.includes('knexsafe-fix'))).toEqual([]);
    } finally {
      execFileSync('chattr', ['-i', locked]);
    }
  });

  it('check --fix --dry-run prints the diff and writes nothing', async () => {
    const project = copyExample('shop');
    const before = snapshot(path.join(project, 'migrations'));
    const run = await runCli(['check', '--fix', '--dry-run', '20240104090000_add_phone_to_users'], { cwd: project });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('+++ b/migrations/20240104090000_add_phone_to_users.js');
    expect(run.stdout).toContain("+  await knex.raw(`SET LOCAL lock_timeout = '5s'`);");
    expect(run.stdout).toContain('Dry run: nothing was written.');
    expect(snapshot(path.join(project, 'migrations'))).toEqual(before);
  });
});

describe('knexsafe fix and values a migration computes', () => {
  // plankanban/planka's shape: the migration reads a table to decide what it inserts, and stamps
  // rows with new Date(). The index fix keeps those statements around it, replayed as knex sent
  // them on the shadow: the shadow's answer and clock would become constants, so fix leaves it.
  it('a fix that would replay values read from rows or from the clock is left to a person, with the reason', async () => {
    const project = makeProject({
      'knexfile.js': "module.exports = { client: 'pg', migrations: { directory: './migrations' } };\n",
      'migrations/20240101000000_create.js': `exports.up = async function (knex) {
  await knex.schema.createTable('users', (table) => { table.increments('id'); table.string('email'); table.timestamp('seen_at', { useTz: true }); });
  await knex.schema.createTable('flags', (table) => { table.integer('id').primary(); table.boolean('initialized').notNullable(); });
  await knex('users').insert([{ email: 'a' }, { email: 'b' }]);
};
exports.down = async function (knex) { await knex.schema.dropTable('flags'); await knex.schema.dropTable('users'); };
`,
      'migrations/20240102000000_index_email.js': `exports.up = async function (knex) {
  await knex.schema.alterTable('users', (table) => { table.index(['email']); });
  const initialized = !!(await knex('users').first());
  await knex('flags').insert({ id: 1, initialized });
};
exports.down = async function (knex) {
  await knex('flags').where({ id: 1 }).del();
  await knex.schema.alterTable('users', (table) => { table.dropIndex(['email']); });
};
`,
      'migrations/20240103000000_stamp.js': `exports.up = async function (knex) {
  await knex.schema.alterTable('users', (table) => { table.index(['seen_at']); });
  await knex('users').update({ seen_at: new Date().toISOString() }).whereNull('seen_at');
};
exports.down = async function (knex) {
  await knex.schema.alterTable('users', (table) => { table.dropIndex(['seen_at']); });
};
`,
    });
    const dir = path.join(project, 'migrations');
    const before = snapshot(dir);
    const result = await fix({ cwd: project, rules: ['index-not-concurrent'] });
    expect(result.changes).toEqual([]);
    expect(snapshot(dir)).toEqual(before);
    const reasons = Object.fromEntries(result.skipped.map((s) => [s.migration, s.reason]));
    expect(reasons['20240102000000_index_email.js']).toMatch(
      /after `select \* from "users" limit \$1…`: what it does with the rows it reads \(a loop, a batchInsert\) would be lost: apply it yourself/,
    );
    expect(reasons['20240103000000_stamp.js']).toMatch(/update "users" set "seen_at".*\(the time it ran\)/);
  });
});

describe('knexsafe fix and inserted rows', () => {
  // mozilla/blurts-server's shape: empty a table and seed it. The DELETE becomes a batched loop; the
  // INSERT kept after it gets a down that deletes exactly the rows it inserted, so up runs again.
  it('the statements kept after a fix undo the rows they insert', async () => {
    const project = makeProject({
      'knexfile.js': "module.exports = { client: 'pg', migrations: { directory: './migrations' } };\n",
      'migrations/20240101000000_create.js': `exports.up = async function (knex) {
  await knex.schema.createTable('removal_pilot', (table) => { table.integer('id').primary(); table.string('name'); table.integer('enrolled_users'); table.jsonb('meta'); });
};
exports.down = async function (knex) { await knex.schema.dropTable('removal_pilot'); };
`,
      'migrations/20240102000000_seed_pilot.js': `exports.up = function (knex) {
  return knex('removal_pilot').del().then(() => knex('removal_pilot').insert([
    { id: 1, name: 'round_01', enrolled_users: 0, meta: { note: "it's ?" } },
    { id: 2, name: null, enrolled_users: 5, meta: null },
  ]));
};
exports.down = function (knex) { return knex('removal_pilot').del(); };
`,
    });
    const result = await fix({ cwd: project, rules: ['unbatched-backfill'] });
    const rest = result.changes.find((c) => c.kind === 'added' && /insert into "removal_pilot"/.test(c.after ?? ''));
    // knex sorts an insert's columns; the rows are deleted last first.
    expect(rest?.after).toContain(`await knex.raw('DELETE FROM removal_pilot WHERE (enrolled_users, id, meta, name) IS NOT DISTINCT FROM (?, ?, ?, ?)', [5,2,null,null]);`);
    expect(rest?.after).toContain(
      `await knex.raw('DELETE FROM removal_pilot WHERE (enrolled_users, id, meta, name) IS NOT DISTINCT FROM (?, ?, ?, ?)', [0,1,"{\\"note\\":\\"it's ?\\"}",'round_01']);`,
    );
    // The batched DELETE destroys the rows it deletes, as the original did; the seed is undone.
    expect(result.verify?.verdicts.map((v) => `${v.name} ${v.status}`)).toEqual(['20240102000000_seed_pilot.js not-reversible', '20240102000001_seed_pilot_rest.js reversible']);
    expectWrittenFilesLoad(path.join(project, 'migrations'), result);
  });
});

describe('knexsafe fix and renames', () => {
  // automatisch's shape: renames kept around a fix are undone by renaming back (the down that
  // dropped and re-added the primary key failed: a foreign key depends on it).
  it('the renames kept after a fix are undone by the same renames back', async () => {
    const project = makeProject({
      'knexfile.js': "module.exports = { client: 'pg', migrations: { directory: './migrations' } };\n",
      'migrations/20240101000000_create.js': `exports.up = async function (knex) {
  await knex.schema.createTable('clients', (table) => { table.uuid('id').primary(); table.string('name'); });
  await knex.schema.createTable('connections', (table) => { table.increments('id'); table.uuid('client_id').references('id').inTable('clients'); });
};
exports.down = async function (knex) { await knex.schema.dropTable('connections'); await knex.schema.dropTable('clients'); };
`,
      'migrations/20240102000000_rename.js': `exports.up = async function (knex) {
  await knex.schema.alterTable('clients', (table) => { table.index(['name']); });
  await knex.raw('ALTER INDEX clients_pkey RENAME TO oauth_clients_pkey');
  await knex.raw('ALTER TABLE clients RENAME CONSTRAINT oauth_clients_pkey TO oauth_clients_pk');
  await knex.schema.alterTable('connections', (table) => { table.renameColumn('client_id', 'oauth_client_id'); });
};
exports.down = async function (knex) {
  await knex.schema.alterTable('connections', (table) => { table.renameColumn('oauth_client_id', 'client_id'); });
  await knex.raw('ALTER TABLE clients RENAME CONSTRAINT oauth_clients_pk TO clients_pkey');
  await knex.schema.alterTable('clients', (table) => { table.dropIndex(['name']); });
};
`,
    });
    const result = await fix({ cwd: project, rules: ['index-not-concurrent'] });
    const rest = result.changes.find((c) => c.kind === 'added' && /RENAME TO oauth_clients_pkey/.test(c.after ?? ''));
    expect(rest?.after).toContain(`await knex.raw('ALTER INDEX oauth_clients_pkey RENAME TO clients_pkey');`);
    expect(rest?.after).toContain(`await knex.raw('ALTER TABLE clients RENAME CONSTRAINT oauth_clients_pk TO oauth_clients_pkey');`);
    expect(rest?.after).toContain(`await knex.raw('ALTER TABLE connections RENAME COLUMN oauth_client_id TO client_id');`);
    expect(result.verify?.verdicts.map((v) => `${v.name} ${v.status}`)).toEqual(result.changes.map((c) => `${c.name} reversible`));
  });
});

describe('knexsafe fix and templates', () => {
  // automatisch's shape: a row-by-row loop. Its fix shows the shape of a batched loop with the
  // UPDATE left to write; applied, it would replace a working backfill with one that does nothing.
  it('a fix that is a template to complete is never applied', async () => {
    const project = makeProject({
      'knexfile.js': "module.exports = { client: 'pg', migrations: { directory: './migrations' } };\n",
      'migrations/20240101000000_create.js': `exports.up = async function (knex) {
  await knex.schema.createTable('steps', (table) => { table.increments('id'); table.string('key'); table.string('name'); });
  await knex('steps').insert([{ key: 'a' }, { key: 'b' }, { key: 'c' }]);
};
exports.down = async function (knex) { await knex.schema.dropTable('steps'); };
`,
      'migrations/20240102000000_fill_names.js': `exports.up = async function (knex) {
  const steps = await knex('steps').select('id', 'key');
  for (const step of steps) {
    await knex('steps').where({ id: step.id }).update({ name: step.key.toUpperCase() });
  }
};
exports.down = async function () {};
`,
    });
    const dir = path.join(project, 'migrations');
    const before = snapshot(dir);
    const result = await fix({ cwd: project, rules: ['row-by-row-backfill'] });
    expect(result.changes).toEqual([]);
    expect(snapshot(dir)).toEqual(before);
    expect(result.skipped.map((s) => `${s.migration} ${s.reason}`)).toEqual([
      '20240102000000_fill_names.js its fix is a template with parts to write by hand: apply it yourself (knexsafe check shows it)',
    ]);
  });
});

describeServer('knexsafe fix with a target', () => {
  let temp: TempDatabase;
  beforeAll(async () => {
    temp = await createTempDatabase('ks_fix');
  });
  afterAll(async () => {
    await temp?.drop();
  });

  it('an applied migration is never edited: its style fix becomes a new migration after the last one', async () => {
    const project = makeProject({
      'knexfile.js': "module.exports = { client: 'pg', connection: process.env.FIX_TARGET_URL, migrations: { directory: './migrations' } };\n",
      'migrations/20240101000000_create_notes.js': `exports.up = async function (knex) {
  await knex.schema.createTable('notes', (table) => {
    table.bigIncrements('id');
    table.string('title');
  });
};

exports.down = async function (knex) {
  await knex.schema.dropTable('notes');
};
`,
      'migrations/20240102000000_index_notes_title.js': `exports.up = async function (knex) {
  await knex.schema.alterTable('notes', (table) => {
    table.index(['title']);
  });
};

exports.down = async function (knex) {
  await knex.schema.alterTable('notes', (table) => {
    table.dropIndex(['title']);
  });
};
`,
    });
    const dir = path.join(project, 'migrations');
    const knex = knexFactory({ client: 'pg', connection: temp.url, migrations: { directory: dir } });
    try {
      await knex.migrate.up();
    } finally {
      await knex.destroy();
    }
    const applied = fs.readFileSync(path.join(dir, '20240101000000_create_notes.js'), 'utf8');
    process.env.FIX_TARGET_URL = temp.url;
    try {
      const result = await fix({ cwd: project, severity: 'info' });
      expect(fs.readFileSync(path.join(dir, '20240101000000_create_notes.js'), 'utf8')).toBe(applied);
      expectCleanResult(result);
      expectWrittenFilesLoad(dir, result);
      const added = result.changes.filter((c) => c.kind === 'added');
      expect(added).toHaveLength(1);
      const [name] = added.map((c) => c.name);
      expect(name).toMatch(/^\d{14}_change_title_to_text_in_notes\.js$/);
      expect(name! > '20240102000000_index_notes_title.js').toBe(true);
      expect(added[0]!.after).toContain("await knex.raw('ALTER TABLE notes ALTER COLUMN title TYPE text');");
      expect(added[0]!.after).toContain("await knex.raw('ALTER TABLE notes ALTER COLUMN title TYPE character varying(255)');");
      expect(result.changes.find((c) => c.name === '20240102000000_index_notes_title.js')?.kind).toBe('edited');
      expect(result.skipped.some((s) => s.migration === '20240101000000_create_notes.js' && /applied to the target/.test(s.reason))).toBe(true);
      expect((await fix({ cwd: project, severity: 'info' })).changes).toEqual([]);
    } finally {
      delete process.env.FIX_TARGET_URL;
    }
  });
});
