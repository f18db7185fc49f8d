import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { makeProject, parseJson, runCli } from '../helpers/cli.js';
import { describeServer, sqlOn, tempDatabases } from '../helpers/pg.js';

const sha = (text: string) => createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');

const M1 = '20240101000000_create_users.js';
const M2 = '20240102000000_add_email.js';
const m1 = `exports.up = (knex) => knex.schema.createTable('users', (t) => { t.increments('id'); t.string('name'); });\nexports.down = (knex) => knex.schema.dropTable('users');\n`;

function project(url: string, migrations: Record<string, string>): string {
  const files: Record<string, string> = { 'knexfile.js': `module.exports = { client: 'pg', connection: ${JSON.stringify(url)} };\n` };
  for (const [name, text] of Object.entries(migrations)) files[`migrations/${name}`] = text;
  return makeProject(files, 'ks-checksum-');
}

interface StatusJson {
  checksums?: { changed: { name: string }[] };
}

describeServer('checksums: failures and TypeScript', () => {
  const newDatabase = tempDatabases('ks_checksum');

  it('a batch that fails leaves no checksum behind (same transaction as knex’s rows); a failure to record is a warning, not silent', async () => {
    const fresh = await newDatabase();
    const failing = project(fresh.url, { [M1]: m1, [M2]: `exports.up = (knex) => knex.raw('select * from no_such_table');\nexports.down = async () => {};\n` });
    const r = await runCli(['latest', '--no-check'], { cwd: failing });
    expect(r.code).toBe(1);
    expect(await sqlOn(fresh.url, 'select name from knex_migrations')).toEqual([]);
    expect(await sqlOn(fresh.url, 'select name from knex_migrations_knexsafe')).toEqual([]);

    // No batch transaction (the failing one opts out): the migration before it stays applied, and so does its checksum.
    const own = await newDatabase();
    const split = project(own.url, { [M1]: m1, [M2]: `exports.config = { transaction: false };\nexports.up = (knex) => knex.raw('select * from no_such_table');\nexports.down = async () => {};\n` });
    expect((await runCli(['latest', '--no-check'], { cwd: split })).code).toBe(1);
    expect(await sqlOn(own.url, 'select name from knex_migrations')).toEqual([{ name: M1 }]);
    expect(await sqlOn(own.url, 'select name, sha256 from knex_migrations_knexsafe')).toEqual([{ name: M1, sha256: sha(m1) }]);

    // A table of that name that is not knexsafe's: the insert fails, the migrations still apply, and the run says so.
    const broken = await newDatabase();
    await sqlOn(broken.url, 'create table knex_migrations_knexsafe (name text)');
    const ok = project(broken.url, { [M1]: m1 });
    const run = await runCli(['latest', '--no-check'], { cwd: ok });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toContain("knex_migrations_knexsafe exists but is not knexsafe's checksum table");
    expect(run.stderr).toContain(`The checksums of ${M1} could not be recorded in knex_migrations_knexsafe`);
    expect(await sqlOn(broken.url, 'select name from knex_migrations')).toEqual([{ name: M1 }]);
  });

  it('TypeScript migrations: the .ts file knex records by name is what is hashed', async () => {
    const tsDb = await newDatabase();
    const name = '20240101000000_create_things.ts';
    const source = `import type { Knex } from 'knex';\nexport async function up(knex: Knex): Promise<void> { await knex.schema.createTable('things', (t) => { t.increments('id'); }); }\nexport async function down(knex: Knex): Promise<void> { await knex.schema.dropTable('things'); }\n`;
    const ts = makeProject(
      { 'knexfile.ts': `export default { client: 'pg', connection: ${JSON.stringify(tsDb.url)}, migrations: { extension: 'ts', loadExtensions: ['.ts'] } };\n`, [`migrations/${name}`]: source },
      'ks-checksum-ts-',
    );
    const r = await runCli(['latest', '--no-check'], { cwd: ts });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await sqlOn(tsDb.url, 'select name, sha256 from knex_migrations_knexsafe')).toEqual([{ name, sha256: sha(source) }]);
    fs.appendFileSync(path.join(ts, 'migrations', name), '// edited\n');
    const status = parseJson<StatusJson>((await runCli(['status', '--json'], { cwd: ts })).stdout);
    expect(status.checksums?.changed.map((c) => c.name)).toEqual([name]);
    // Not committed when applied: no git version, so no diff, and it says why.
    expect((await runCli(['status'], { cwd: ts })).stdout).toContain('The applied version was not committed in git when it ran');
  });
});
